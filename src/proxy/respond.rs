//! Responses the gateway writes itself: errors in the caller's format and local answers (health,
//! the model list built by `models`). All carry `x-request-id` so a user can quote it.

use bytes::Bytes;
use pingora_error::Result;
use pingora_http::ResponseHeader;
use pingora_proxy::Session;

use super::ctx::RequestCtx;
use super::headers::X_REQUEST_ID;
use crate::api::ApiFormat;
use crate::errors::GatewayError;

/// Writes a complete response and ends the request (`Ok(true)` for `request_filter`).
pub async fn send(session: &mut Session, ctx: &RequestCtx, status: u16, content_type: &str, body: Vec<u8>) -> Result<bool> {
    let mut header = ResponseHeader::build(status, Some(4))?;
    header.insert_header(http::header::CONTENT_TYPE, content_type)?;
    header.insert_header(http::header::CONTENT_LENGTH, body.len().to_string())?;
    header.insert_header(X_REQUEST_ID, ctx.request_id.header().clone())?;
    let head_only = session.req_header().method == http::Method::HEAD;
    session.write_response_header(Box::new(header), head_only || body.is_empty()).await?;
    if !head_only && !body.is_empty() {
        session.write_response_body(Some(Bytes::from(body)), true).await?;
    }
    Ok(true)
}

/// Writes `error` in the caller's format (and notes its kind for the usage record). The body was
/// possibly left unread: do not reuse the connection.
pub async fn send_error(session: &mut Session, ctx: &mut RequestCtx, error: &GatewayError) -> Result<bool> {
    ctx.error_kind = Some(error.kind.label());
    session.set_keepalive(None);
    let body = error.body(ctx.format, ctx.request_id.as_str());
    let mut header = ResponseHeader::build(error.kind.status(), Some(5))?;
    header.insert_header(http::header::CONTENT_TYPE, "application/json")?;
    header.insert_header(http::header::CONTENT_LENGTH, body.len().to_string())?;
    header.insert_header(X_REQUEST_ID, ctx.request_id.header().clone())?;
    if let Some(seconds) = error.retry_after {
        header.insert_header(http::header::RETRY_AFTER, seconds.to_string())?;
    }
    if let Some(rule) = &ctx.route_rule {
        header.insert_header(super::headers::X_SWITCHYARD_ROUTE, rule.header_value())?;
    }
    session.write_response_header(Box::new(header), false).await?;
    session.write_response_body(Some(Bytes::from(body)), true).await?;
    Ok(true)
}

/// A gateway error as one SSE event in the caller's streaming format.
pub fn stream_error_event(format: ApiFormat, error: &GatewayError) -> Bytes {
    let mut out = Vec::new();
    match format {
        ApiFormat::Anthropic => {
            out.extend_from_slice(b"event: error\ndata: ");
            out.extend_from_slice(&error.body(format, ""));
        }
        ApiFormat::OpenAi => {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&error.body(format, ""));
        }
        ApiFormat::Responses => {
            // A pass-through stream's own numbering is not tracked, so the event cannot continue it.
            let (_, code) = error.kind.openai_type_and_code();
            return Bytes::from(crate::translate::responses::objects::error_event(code, &error.message));
        }
    }
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}
