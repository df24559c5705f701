//! The one error type of the translators. Request-side variants name the JSON field path that was wrong
//! (`messages[2].content[0].source.data`) and what would have been valid, because the gateway shows
//! `Display` to the caller verbatim and the caller has to be able to fix their request from it.

/// Why a body could not be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// The caller's request is not valid in its own format (missing `messages`, wrong types).
    #[error("invalid request: `{path}`: expected {expected}")]
    InvalidRequest {
        path: String,
        expected: &'static str,
    },
    /// The caller's request is valid but asks for something the target format cannot express.
    #[error("unsupported request: `{path}`: {reason}")]
    Unsupported { path: String, reason: &'static str },
    /// The upstream's success response does not have the shape its format promises.
    #[error("invalid upstream response: `{path}`: expected {expected}")]
    InvalidResponse {
        path: String,
        expected: &'static str,
    },
    /// The upstream answered 2xx but the body is an error object (OpenRouter does this).
    #[error("upstream reported an error: {message}")]
    UpstreamReported { message: String },
    /// A body that should be JSON is not.
    #[error("{what} is not valid JSON: {detail}")]
    NotJson { what: &'static str, detail: String },
}

impl TranslateError {
    /// The HTTP status the gateway should answer with: the caller's fault is 400, the upstream's is 502.
    pub fn status(&self) -> u16 {
        match self {
            TranslateError::InvalidRequest { .. } | TranslateError::Unsupported { .. } => 400,
            TranslateError::InvalidResponse { .. } | TranslateError::UpstreamReported { .. } => 502,
            TranslateError::NotJson { what, .. } => {
                if what.contains("request") {
                    400
                } else {
                    502
                }
            }
        }
    }

    pub(crate) fn not_json(what: &'static str, err: &serde_json::Error) -> Self {
        TranslateError::NotJson {
            what,
            detail: err.to_string(),
        }
    }
}
