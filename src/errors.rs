//! Errors the gateway itself returns to clients. Each kind maps, with exhaustive matches,
//! to one HTTP status and one error type per API format, so a new kind cannot be added
//! without deciding how each API's clients will see it.

use crate::api::ApiFormat;

/// Why the gateway refused or failed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No team key, or an unknown one.
    Unauthenticated,
    /// The team may not use this model.
    Forbidden,
    /// Bad JSON, missing fields.
    InvalidRequest,
    /// Unknown model or path.
    NotFound,
    /// Wrong method for a known path.
    MethodNotAllowed,
    /// Body over the configured limit.
    TooLarge,
    /// The client took too long to send its body.
    RequestTimeout,
    /// A chunked body too large to stage (see docs/architecture.md).
    LengthRequired,
    /// The route exists but needs a capability this build does not have.
    NotImplemented,
    /// Every target failed to connect or answer.
    BadGateway,
    /// An upstream timed out.
    GatewayTimeout,
    /// Every key of every target is resting after rate limits or failures.
    RateLimited,
    /// A bug or an impossible state.
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::InvalidRequest => 400,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::TooLarge => 413,
            ErrorKind::RequestTimeout => 408,
            ErrorKind::LengthRequired => 411,
            ErrorKind::NotImplemented => 501,
            ErrorKind::BadGateway => 502,
            ErrorKind::GatewayTimeout => 504,
            ErrorKind::RateLimited => 429,
            ErrorKind::Internal => 500,
        }
    }

    /// A stable snake_case name, for usage records and logs.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::LengthRequired => "length_required",
            ErrorKind::NotImplemented => "not_implemented",
            ErrorKind::BadGateway => "bad_gateway",
            ErrorKind::GatewayTimeout => "gateway_timeout",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Internal => "internal",
        }
    }

    /// Anthropic's `error.type`.
    pub fn anthropic_type(self) -> &'static str {
        match self {
            ErrorKind::Unauthenticated => "authentication_error",
            ErrorKind::Forbidden => "permission_error",
            ErrorKind::InvalidRequest | ErrorKind::MethodNotAllowed | ErrorKind::LengthRequired | ErrorKind::RequestTimeout => "invalid_request_error",
            ErrorKind::NotFound => "not_found_error",
            ErrorKind::TooLarge => "request_too_large",
            ErrorKind::RateLimited => "rate_limit_error",
            ErrorKind::NotImplemented | ErrorKind::BadGateway | ErrorKind::GatewayTimeout | ErrorKind::Internal => "api_error",
        }
    }

    /// OpenAI's `error.type` and `error.code`.
    pub fn openai_type_and_code(self) -> (&'static str, &'static str) {
        match self {
            ErrorKind::Unauthenticated => ("invalid_request_error", "invalid_api_key"),
            ErrorKind::Forbidden => ("invalid_request_error", "model_not_allowed"),
            ErrorKind::InvalidRequest => ("invalid_request_error", "invalid_request"),
            ErrorKind::NotFound => ("invalid_request_error", "model_not_found"),
            ErrorKind::MethodNotAllowed => ("invalid_request_error", "method_not_allowed"),
            ErrorKind::TooLarge => ("invalid_request_error", "request_too_large"),
            ErrorKind::LengthRequired => ("invalid_request_error", "length_required"),
            ErrorKind::RequestTimeout => ("invalid_request_error", "request_timeout"),
            ErrorKind::NotImplemented => ("server_error", "not_implemented"),
            ErrorKind::BadGateway => ("server_error", "bad_gateway"),
            ErrorKind::GatewayTimeout => ("server_error", "upstream_timeout"),
            ErrorKind::RateLimited => ("rate_limit_error", "rate_limit_exceeded"),
            ErrorKind::Internal => ("server_error", "internal_error"),
        }
    }
}

/// A client-facing error: what went wrong and a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    pub kind: ErrorKind,
    pub message: String,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl GatewayError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        GatewayError { kind, message: message.into(), retry_after: None }
    }

    /// The JSON body in the caller's format.
    pub fn body(&self, format: ApiFormat, request_id: &str) -> Vec<u8> {
        let value = match format {
            ApiFormat::Anthropic => serde_json::json!({
                "type": "error",
                "error": { "type": self.kind.anthropic_type(), "message": self.message },
                "request_id": request_id,
            }),
            // The Responses API reports errors exactly as Chat Completions does.
            ApiFormat::OpenAi | ApiFormat::Responses => {
                let (kind, code) = self.kind.openai_type_and_code();
                serde_json::json!({
                    "error": { "message": self.message, "type": kind, "param": null, "code": code },
                })
            }
        };
        serde_json::to_vec(&value).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_format() {
        let e = GatewayError::new(ErrorKind::Unauthenticated, "bad key");
        let a: serde_json::Value = serde_json::from_slice(&e.body(ApiFormat::Anthropic, "req_1")).unwrap();
        assert_eq!(a["type"], "error");
        assert_eq!(a["error"]["type"], "authentication_error");
        assert_eq!(a["error"]["message"], "bad key");
        let o: serde_json::Value = serde_json::from_slice(&e.body(ApiFormat::OpenAi, "req_1")).unwrap();
        assert_eq!(o["error"]["code"], "invalid_api_key");
        assert_eq!(o["error"]["message"], "bad key");
        assert_eq!(e.kind.status(), 401);
        let r: serde_json::Value = serde_json::from_slice(&e.body(ApiFormat::Responses, "req_1")).unwrap();
        assert_eq!(r, o, "Responses API errors have the OpenAI shape: {{\"error\":{{message,type,param,code}}}}");
    }
}
