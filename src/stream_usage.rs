//! Asking an OpenAI-format provider for a stream's usage. OpenAI-compatible servers report a
//! stream's tokens only in a final `choices: []` chunk, and only when the request says
//! `stream_options: {"include_usage": true}`. The gateway always asks (so every stream can be
//! accounted); for a client that did not ask, the extractor cuts that chunk back out.
//!
//! On the pass-through path the body is spliced, not re-serialised: the `stream_options` value is
//! replaced (or the field inserted after the opening brace), along with the `model` value when the
//! upstream name differs, in one copy of the body.

use bytes::Bytes;
use serde_json::Value;

/// A replacement of `body[start..end]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    pub start: usize,
    pub end: usize,
    pub bytes: Vec<u8>,
}

/// The splice that makes a streaming body ask for usage, or `None` when the client already asked
/// (then its stream keeps the usage chunk). `stream_options` is the value's span from `body::peek`.
pub fn include_usage(body: &[u8], stream_options: Option<(usize, usize)>) -> Option<Splice> {
    let Some((start, end)) = stream_options else {
        // After the opening brace; the object has at least `model`, so a comma follows.
        let brace = body.iter().position(|&b| b == b'{')?;
        return Some(Splice {
            start: brace + 1,
            end: brace + 1,
            bytes: br#""stream_options":{"include_usage":true},"#.to_vec(),
        });
    };
    let mut options = match serde_json::from_slice::<Value>(&body[start..end]) {
        Ok(Value::Object(map)) => map,
        // Not an object: the provider would refuse it either way; leave the client's body alone.
        Ok(_) | Err(_) => return None,
    };
    if options.get("include_usage") == Some(&Value::Bool(true)) {
        return None;
    }
    options.insert("include_usage".into(), Value::Bool(true));
    Some(Splice {
        start,
        end,
        bytes: serde_json::to_vec(&Value::Object(options)).ok()?,
    })
}

/// `body` with the splices applied (they must not overlap; any order).
pub fn apply(body: &[u8], splices: &mut [Splice]) -> Bytes {
    splices.sort_by_key(|s| s.start);
    let extra: usize = splices.iter().map(|s| s.bytes.len()).sum();
    let mut out = Vec::with_capacity(body.len() + extra);
    let mut at = 0;
    for s in splices.iter() {
        out.extend_from_slice(&body[at..s.start]);
        out.extend_from_slice(&s.bytes);
        at = s.end;
    }
    out.extend_from_slice(&body[at..]);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spliced(body: &str) -> Option<String> {
        let peek = crate::body::peek(body.as_bytes()).unwrap();
        let mut splices = Vec::new();
        splices.push(include_usage(body.as_bytes(), peek.stream_options_span)?);
        if let Some((start, end)) = peek.model_span {
            splices.push(Splice {
                start,
                end,
                bytes: br#""up-model""#.to_vec(),
            });
        }
        Some(String::from_utf8(apply(body.as_bytes(), &mut splices).to_vec()).unwrap())
    }

    #[test]
    fn asks_for_usage_without_touching_the_rest() {
        assert_eq!(
            spliced(r#"{"model":"m","stream":true,"messages":[]}"#).unwrap(),
            r#"{"stream_options":{"include_usage":true},"model":"up-model","stream":true,"messages":[]}"#
        );
        assert_eq!(
            spliced(r#" { "stream_options": {"x": 1}, "model": "m" }"#).unwrap(),
            r#" { "stream_options": {"include_usage":true,"x":1}, "model": "up-model" }"#
        );
        assert_eq!(
            spliced(r#"{"model":"m","stream_options":{"include_usage":true}}"#),
            None,
            "the client asked: nothing to add or strip"
        );
        assert_eq!(spliced(r#"{"model":"m","stream_options":"weird"}"#), None);
        let out: Value = serde_json::from_str(
            &spliced(r#"{"model":"m","stream":true,"stream_options":{"include_usage":false}}"#)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(out["stream_options"]["include_usage"], true);
    }
}
