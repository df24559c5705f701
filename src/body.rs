//! Reading the routing fields of a JSON request body without building a tree, and splicing
//! a new `model` into it. On the pass-through path this is the only body work: the rest of
//! the bytes are forwarded exactly as the client sent them.

use serde::Deserialize;
use serde_json::value::RawValue;

/// The fields routing needs, borrowed from the body.
#[derive(Debug)]
pub struct Peek {
    pub model: Option<String>,
    /// Byte range of the `model` value (including its quotes) in the body.
    pub model_span: Option<(usize, usize)>,
    pub stream: bool,
    /// A conversation identity for cache affinity: the client's user/session id and the start of
    /// its system prompt, as raw JSON bytes (empty when the body has neither).
    pub session: Vec<u8>,
}

#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow, default)]
    model: Option<&'a RawValue>,
    #[serde(default)]
    stream: Option<serde_json::Value>,
    #[serde(borrow, default)]
    metadata: Option<&'a RawValue>,
    #[serde(borrow, default)]
    user: Option<&'a RawValue>,
    #[serde(borrow, default)]
    system: Option<&'a RawValue>,
}

/// How much of the system prompt identifies a conversation's cache prefix.
const SESSION_SYSTEM_PREFIX: usize = 512;

/// Why a body could not be peeked, in words a client can act on.
#[derive(Debug, PartialEq, Eq)]
pub struct BodyError(pub String);

pub fn peek(body: &[u8]) -> Result<Peek, BodyError> {
    let text = std::str::from_utf8(body).map_err(|e| BodyError(format!("request body is not valid UTF-8 (at byte {})", e.valid_up_to())))?;
    if !text.trim_start().starts_with('{') {
        return Err(BodyError("request body must be a JSON object".to_string()));
    }
    let fields: Fields<'_> = serde_json::from_str(text).map_err(|e| BodyError(describe_json_error(&e)))?;
    let (model, model_span) = match fields.model {
        None => (None, None),
        Some(raw) => {
            let model: String = serde_json::from_str(raw.get())
                .map_err(|_| BodyError(format!("`model` must be a string, got {}", raw.get().chars().take(40).collect::<String>())))?;
            let start = raw.get().as_ptr() as usize - text.as_ptr() as usize;
            (Some(model), Some((start, start + raw.get().len())))
        }
    };
    let stream = match fields.stream {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => b,
        Some(other) => return Err(BodyError(format!("`stream` must be true or false, got {other}"))),
    };
    let mut session = Vec::new();
    for raw in [fields.metadata, fields.user].into_iter().flatten() {
        session.extend_from_slice(raw.get().as_bytes());
    }
    if !session.is_empty() {
        if let Some(system) = fields.system {
            let bytes = system.get().as_bytes();
            session.extend_from_slice(&bytes[..bytes.len().min(SESSION_SYSTEM_PREFIX)]);
        }
    }
    Ok(Peek { model, model_span, stream, session })
}

fn describe_json_error(e: &serde_json::Error) -> String {
    if e.is_data() {
        format!("request body must be a JSON object: {e}")
    } else {
        format!("request body is not valid JSON: {e} (line {}, column {})", e.line(), e.column())
    }
}

/// The body with its `model` value replaced by `model` (a JSON string).
pub fn with_model(body: &[u8], span: (usize, usize), model: &str) -> Vec<u8> {
    let quoted = serde_json::to_string(model).unwrap_or_else(|_| "\"\"".to_string());
    let mut out = Vec::with_capacity(body.len() + quoted.len());
    out.extend_from_slice(&body[..span.0]);
    out.extend_from_slice(quoted.as_bytes());
    out.extend_from_slice(&body[span.1..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_model_anywhere_and_splices_it() {
        let body = br#"{"messages":[{"role":"user","content":"model"}], "model" : "openrouter/z-ai/glm-4.5-air","stream":true}"#;
        let p = peek(body).unwrap();
        assert_eq!(p.model.as_deref(), Some("openrouter/z-ai/glm-4.5-air"));
        assert!(p.stream);
        let out = with_model(body, p.model_span.unwrap(), "z-ai/glm-4.5-air");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["model"], "z-ai/glm-4.5-air");
        assert_eq!(v["messages"][0]["content"], "model");
        assert_eq!(out.len(), body.len() - "openrouter/".len());
    }

    #[test]
    fn session_identity_needs_a_user_and_includes_the_system_prefix() {
        let a = peek(br#"{"model":"m","metadata":{"user_id":"u1"},"system":"You are X"}"#).unwrap();
        let b = peek(br#"{"model":"m","metadata":{"user_id":"u1"},"system":"You are Y"}"#).unwrap();
        let c = peek(br#"{"system":"You are X","model":"m","metadata":{"user_id":"u1"}}"#).unwrap();
        assert_ne!(a.session, b.session);
        assert_eq!(a.session, c.session, "field order does not matter");
        assert!(peek(br#"{"model":"m","system":"You are X"}"#).unwrap().session.is_empty());
        assert!(!peek(br#"{"model":"m","user":"abc"}"#).unwrap().session.is_empty());
    }

    #[test]
    fn escaped_model_names_round_trip() {
        let body = br#"{"model":"a\"b\u00e9"}"#;
        let p = peek(body).unwrap();
        assert_eq!(p.model.as_deref(), Some("a\"bé"));
        let out = with_model(body, p.model_span.unwrap(), "x\"y");
        assert_eq!(out, br#"{"model":"x\"y"}"#);
    }

    #[test]
    fn clear_errors() {
        assert!(peek(b"{").unwrap_err().0.contains("not valid JSON"));
        assert!(peek(b"[1]").unwrap_err().0.contains("must be a JSON object"));
        assert!(peek(br#"{"model":5}"#).unwrap_err().0.contains("`model` must be a string"));
        assert!(peek(br#"{"model":"m","stream":"yes"}"#).unwrap_err().0.contains("`stream` must be"));
        assert!(peek(b"\xff").unwrap_err().0.contains("UTF-8"));
        assert!(peek(br#"{"model":"a","model":"b"}"#).is_err());
        assert_eq!(peek(br#"{"messages":[]}"#).unwrap().model, None);
    }
}
