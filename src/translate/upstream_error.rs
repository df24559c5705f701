//! A provider's error response, in either format or none, re-expressed in the caller's format. The status
//! and error type come from the upstream status (or, for a 2xx carrying an error body as OpenRouter sends,
//! from a numeric `error.code`); the provider's own message is kept, prefixed with the format it came in,
//! because Claude Code shows `error.message` to the user verbatim.
//!
//! | upstream status | Anthropic type (status)        | OpenAI type          |
//! |-----------------|--------------------------------|----------------------|
//! | 400, 422        | invalid_request_error          | invalid_request_error|
//! | 401             | authentication_error           | authentication_error |
//! | 402             | billing_error                  | insufficient_quota   |
//! | 403             | permission_error               | permission_error     |
//! | 404             | not_found_error                | not_found_error      |
//! | 413             | request_too_large              | invalid_request_error|
//! | 429             | rate_limit_error               | rate_limit_error     |
//! | 503, 529        | overloaded_error (529)         | server_error (503)   |
//! | other 5xx       | api_error                      | server_error         |
//! | other 4xx       | invalid_request_error          | invalid_request_error|
//! | < 400           | api_error (502)                | server_error (502)   |

use serde_json::{json, Value};

/// Longest stretch of a non-JSON error body that is quoted back.
const MAX_QUOTED: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Anthropic,
    OpenAi,
    Unknown,
}

struct Parsed {
    format: Format,
    message: String,
    /// The upstream's own error type, reused when the caller speaks the same format.
    upstream_type: Option<String>,
    code_status: Option<u16>,
}

fn parse(status: u16, body: &[u8]) -> Parsed {
    let unknown = |message: String| Parsed {
        format: Format::Unknown,
        message,
        upstream_type: None,
        code_status: None,
    };
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return unknown(format!(
                "upstream returned HTTP {status} with an empty body"
            ));
        }
        let quoted: String = text.chars().take(MAX_QUOTED).collect();
        return unknown(format!("upstream returned HTTP {status}: {quoted}"));
    };
    let err = v.get("error");
    let message = |e: &Value| e.get("message").and_then(Value::as_str).map(str::to_owned);
    let type_of = |e: &Value| e.get("type").and_then(Value::as_str).map(str::to_owned);
    if v.get("type").and_then(Value::as_str) == Some("error") {
        if let Some(e) = err {
            let msg = message(e).unwrap_or_else(|| "unknown error".into());
            return Parsed {
                format: Format::Anthropic,
                message: msg,
                upstream_type: type_of(e),
                code_status: None,
            };
        }
    }
    match err {
        Some(e @ Value::Object(_)) => {
            let msg = message(e).unwrap_or_else(|| crate::translate::read::to_string(e));
            let code_status = e
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| (400..600).contains(c));
            let upstream_type =
                type_of(e).or_else(|| e.get("code").and_then(Value::as_str).map(str::to_owned));
            Parsed {
                format: Format::OpenAi,
                message: msg,
                upstream_type,
                code_status,
            }
        }
        Some(Value::String(s)) => unknown(s.clone()),
        _ => {
            let msg = ["detail", "message", "msg"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| {
                    crate::translate::read::to_string(&v)
                        .chars()
                        .take(MAX_QUOTED)
                        .collect()
                });
            unknown(msg)
        }
    }
}

fn effective_status(status: u16, parsed: &Parsed) -> u16 {
    if status >= 400 {
        status
    } else {
        parsed.code_status.unwrap_or(502)
    }
}

fn prefixed(parsed: &Parsed) -> String {
    match parsed.format {
        Format::Anthropic => format!("upstream (Anthropic) error: {}", parsed.message),
        Format::OpenAi => format!("upstream (OpenAI-compatible) error: {}", parsed.message),
        Format::Unknown => format!("upstream error: {}", parsed.message),
    }
}

/// Anthropic error type and status for an upstream status.
fn anthropic_kind(status: u16) -> (&'static str, u16) {
    match status {
        400 | 422 => ("invalid_request_error", status),
        401 => ("authentication_error", 401),
        402 => ("billing_error", 402),
        403 => ("permission_error", 403),
        404 => ("not_found_error", 404),
        413 => ("request_too_large", 413),
        429 => ("rate_limit_error", 429),
        503 | 529 => ("overloaded_error", 529),
        500..=599 => ("api_error", status),
        400..=499 => ("invalid_request_error", status),
        _ => ("api_error", 502),
    }
}

/// OpenAI error type and status for an upstream status.
fn openai_kind(status: u16) -> (&'static str, u16) {
    match status {
        400 | 422 | 413 => ("invalid_request_error", status),
        401 => ("authentication_error", 401),
        402 => ("insufficient_quota", 402),
        403 => ("permission_error", 403),
        404 => ("not_found_error", 404),
        429 => ("rate_limit_error", 429),
        503 | 529 => ("server_error", 503),
        500..=599 => ("server_error", status),
        400..=499 => ("invalid_request_error", status),
        _ => ("server_error", 502),
    }
}

/// Re-expresses an upstream error for an Anthropic caller: `(status, {"type":"error","error":{...}})`.
pub fn upstream_error_to_anthropic(status: u16, body: &[u8]) -> (u16, Vec<u8>) {
    let parsed = parse(status, body);
    let (kind, out_status) = anthropic_kind(effective_status(status, &parsed));
    let kind = match (parsed.format, &parsed.upstream_type) {
        (Format::Anthropic, Some(t)) => t.as_str(),
        _ => kind,
    };
    let out = json!({ "type": "error", "error": { "type": kind, "message": prefixed(&parsed) } });
    (out_status, crate::translate::read::to_bytes(&out))
}

/// Re-expresses an upstream error for an OpenAI caller: `(status, {"error":{message,type,param,code}})`.
pub fn upstream_error_to_openai(status: u16, body: &[u8]) -> (u16, Vec<u8>) {
    let parsed = parse(status, body);
    let (kind, out_status) = openai_kind(effective_status(status, &parsed));
    let code = match (&parsed.format, &parsed.upstream_type) {
        (Format::Anthropic, Some(t)) => json!(t),
        _ => Value::Null,
    };
    let out = json!({ "error": { "message": prefixed(&parsed), "type": kind, "param": null, "code": code } });
    (out_status, crate::translate::read::to_bytes(&out))
}

/// The Anthropic error body for an error the gateway itself raises (`TranslateError`, no route, …).
pub fn anthropic_error_body(kind: &str, message: &str) -> Vec<u8> {
    crate::translate::read::to_bytes(
        &json!({ "type": "error", "error": { "type": kind, "message": message } }),
    )
}

/// The OpenAI error body for an error the gateway itself raises.
pub fn openai_error_body(kind: &str, message: &str) -> Vec<u8> {
    crate::translate::read::to_bytes(
        &json!({ "error": { "message": message, "type": kind, "param": null, "code": null } }),
    )
}
