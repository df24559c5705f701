//! Translators that produce Anthropic Messages wire format: an OpenAI request for an Anthropic upstream,
//! and an OpenAI-compatible upstream's response and stream for an Anthropic client (Claude Code).

mod events;
mod messages;
pub mod request;
pub mod response;
pub mod stream;
mod tools;

use serde_json::{json, Value};

/// What the Anthropic-side response translators need to know about the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToAnthropicOptions {
    /// The `model` the client asked for, echoed back (not the upstream's model name).
    pub client_model: String,
    /// The request's `stop_sequences`, to report `stop_sequence` when a server names the one it hit.
    pub stop_sequences: Vec<String>,
    /// An input-token estimate for `message_start` (Anthropic sends the real count there; OpenAI only at
    /// the end). `None` sends 0.
    pub input_tokens_estimate: Option<u64>,
}

impl ToAnthropicOptions {
    pub fn new(client_model: impl Into<String>) -> Self {
        ToAnthropicOptions {
            client_model: client_model.into(),
            ..Default::default()
        }
    }
}

/// Parses OpenAI tool-call `arguments` (a JSON string) into an Anthropic `input` object. An empty string is
/// `{}`. Anything that is not a JSON object is kept as `{"_raw": "<arguments>"}` so the client's tool
/// validation fails visibly and the model can retry, instead of running the tool with made-up input; the
/// bool says the arguments were not an object.
pub(crate) fn parse_arguments(raw: &Value) -> (Value, bool) {
    let text = match raw {
        Value::Object(_) => return (raw.clone(), true),
        Value::Null => return (json!({}), true),
        Value::String(s) => s.trim(),
        other => return (json!({ "_raw": other.to_string() }), false),
    };
    if text.is_empty() {
        return (json!({}), true);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => (v, true),
        Ok(Value::Null) => (json!({}), true),
        _ => (json!({ "_raw": text }), false),
    }
}
