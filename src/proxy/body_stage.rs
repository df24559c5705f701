//! Staging the request body so the gateway can route on it, rewrite it and resend it.
//!
//! Pingora picks the upstream before it reads the body, and a body read in `request_filter`
//! is consumed: nothing is left for Pingora to forward. What Pingora *does* forward after
//! such a read is its retry buffer — through `request_body_filter`, on every attempt —
//! but that buffer stops at 64 KiB. So the body is read here with the retry buffer switched
//! on only for the final ≤ 64 KiB (Content-Length tells when that starts). The buffer then
//! holds just the tail, is never truncated, and each attempt's `request_body_filter` swaps
//! it for the whole prepared body from the context — any size, rewritten per target.
//! A body that fits the buffer is taken from it rather than joined here: with the zero-copy
//! buffer switchyard carries (`vendor/pingora-core`, see docs/pingora-notes.md) that is no copy
//! for a body that arrived in one chunk and one join, shared with every replay, for several.
//! A chunked body (no Content-Length) of over 64 KiB cannot use this and gets 411.

use bytes::{Bytes, BytesMut};
use pingora_proxy::Session;

use crate::errors::{ErrorKind, GatewayError};

/// Pingora's retry-buffer capacity (`BODY_BUF_LIMIT` in pingora-core).
const RETRY_BUFFER_LIMIT: usize = 64 * 1024;

pub async fn stage_body(session: &mut Session, limit: usize) -> Result<Bytes, GatewayError> {
    let declared = match session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
    {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
                .ok_or_else(|| {
                    GatewayError::new(ErrorKind::InvalidRequest, "Content-Length is not a number")
                })?,
        ),
    };
    if let Some(len) = declared {
        if len > limit {
            return Err(too_large(limit));
        }
    }
    let expects_continue = session
        .req_header()
        .headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue {
        let head = pingora_http::ResponseHeader::build(100, Some(0))
            .map_err(|_| GatewayError::new(ErrorKind::Internal, "could not build 100 Continue"))?;
        session
            .write_response_header(Box::new(head), false)
            .await
            .map_err(|_| {
                GatewayError::new(
                    ErrorKind::InvalidRequest,
                    "the client went away before sending its body",
                )
            })?;
    }
    // A body that fits the retry buffer is read with the buffer on from its first byte, so the buffer
    // holds all of it: Pingora keeps the chunks as they came and joins them once, for this staging and
    // every replay alike (the zero-copy retry buffer, `vendor/pingora-core`). A larger body is joined
    // here, and the buffer gets only its tail.
    let whole_in_retry_buffer = declared.is_none_or(|declared| declared <= RETRY_BUFFER_LIMIT);
    // For a larger body: the first chunk is kept as it is, and copied into a staging buffer only
    // when a second chunk comes.
    let mut first: Option<Bytes> = None;
    let mut staged: Option<BytesMut> = None;
    let mut len = 0;
    let mut buffering = false;
    // Bytes read since the retry buffer was switched on: what Pingora holds in it unless truncated.
    let mut buffered = 0;
    loop {
        let remaining = declared.map_or(0, |declared| declared.saturating_sub(len));
        if !buffering && (declared.is_none() || remaining <= RETRY_BUFFER_LIMIT) {
            session.as_mut().enable_retry_buffering();
            buffering = true;
        }
        let chunk = session.read_request_body().await.map_err(|e| {
            GatewayError::new(
                ErrorKind::InvalidRequest,
                format!("could not read the request body: {}", e.etype().as_str()),
            )
        })?;
        let Some(chunk) = chunk else { break };
        if len + chunk.len() > limit {
            return Err(too_large(limit));
        }
        len += chunk.len();
        if buffering {
            buffered += chunk.len();
        }
        if whole_in_retry_buffer {
            // Pingora holds it (see above).
            continue;
        }
        if let Some(staged) = staged.as_mut() {
            staged.extend_from_slice(&chunk);
        } else if let Some(head) = first.take() {
            let mut buf = BytesMut::with_capacity(declared.unwrap_or(8 * 1024).min(limit).max(len));
            buf.extend_from_slice(&head);
            buf.extend_from_slice(&chunk);
            staged = Some(buf);
        } else {
            first = Some(chunk);
        }
    }
    // The tail must be in the retry buffer for Pingora to call `request_body_filter` at all. This
    // asks what `get_retry_buffer().is_none()` did without the copy of the buffer that call makes:
    // the buffer is on by now, so it is missing the tail only when truncated (a chunked body over
    // 64 KiB) or when nothing was read after it was switched on.
    if len > 0 && (session.as_ref().retry_buffer_truncated() || buffered == 0) {
        return Err(if declared.is_none() {
            GatewayError::new(
                ErrorKind::LengthRequired,
                format!("request bodies over {} KiB must be sent with a Content-Length header, not chunked", RETRY_BUFFER_LIMIT / 1024),
            )
        } else {
            GatewayError::new(
                ErrorKind::Internal,
                "the request body could not be staged for forwarding",
            )
        });
    }
    if whole_in_retry_buffer {
        return match session.as_ref().get_retry_buffer() {
            Some(body) if body.len() == len => Ok(body),
            None if len == 0 => Ok(Bytes::new()),
            _ => Err(GatewayError::new(
                ErrorKind::Internal,
                "the request body could not be staged for forwarding",
            )),
        };
    }
    Ok(staged.map_or_else(|| first.unwrap_or_default(), BytesMut::freeze))
}

fn too_large(limit: usize) -> GatewayError {
    GatewayError::new(ErrorKind::TooLarge, format!("request body is larger than this gateway's limit of {limit} bytes (limits.max_body_bytes)"))
}
