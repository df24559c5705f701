//! `count_tokens` for targets that have no such endpoint: an **estimate** of an Anthropic request's input
//! tokens, counted with OpenAI's `o200k_base` vocabulary (shipped inside the `tiktoken-rs` crate, nothing
//! downloaded at run time) over the system prompt, the text of every message (text, tool inputs as JSON,
//! tool results, earlier thinking) and the tool definitions (name, description, schema JSON). Other models
//! tokenize differently, so expect ±15 %. Fixed costs stand in for what the text does not show:
//! [`IMAGE_TOKENS`] per image or binary document (Anthropic's cost of a ~1.15 megapixel image),
//! [`MESSAGE_OVERHEAD`] per message and [`TOOL_OVERHEAD`] per tool for the chat template's framing.

use std::sync::OnceLock;

use serde_json::Value;
use tiktoken_rs::CoreBPE;

pub const IMAGE_TOKENS: u64 = 1600;
pub const MESSAGE_OVERHEAD: u64 = 4;
pub const TOOL_OVERHEAD: u64 = 8;

fn encoder() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| match tiktoken_rs::o200k_base() {
        Ok(bpe) => Some(bpe),
        Err(e) => {
            log::error!("o200k_base tokenizer failed to load, estimating 4 bytes per token: {e}");
            None
        }
    })
    .as_ref()
}

/// Tokens in a piece of text.
pub fn count_text_tokens(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    match encoder() {
        Some(bpe) => bpe.encode_ordinary(text).len() as u64,
        None => (text.len() as u64).div_ceil(4),
    }
}

/// Estimated input tokens of an Anthropic Messages request (any JSON value is accepted; unexpected shapes
/// count as their JSON text).
pub fn estimate_input_tokens(anthropic_request: &Value) -> u64 {
    let mut total = 0u64;
    if let Some(system) = anthropic_request.get("system") {
        total = total.saturating_add(content_tokens(system));
    }
    if let Some(messages) = anthropic_request.get("messages").and_then(Value::as_array) {
        for m in messages {
            let content = m.get("content").unwrap_or(&Value::Null);
            total = total
                .saturating_add(MESSAGE_OVERHEAD)
                .saturating_add(content_tokens(content));
        }
    }
    if let Some(tools) = anthropic_request.get("tools").and_then(Value::as_array) {
        for t in tools {
            let mut n = TOOL_OVERHEAD;
            for key in ["name", "description"] {
                n = n.saturating_add(
                    t.get(key)
                        .and_then(Value::as_str)
                        .map(count_text_tokens)
                        .unwrap_or(0),
                );
            }
            if let Some(schema) = t.get("input_schema") {
                n = n.saturating_add(count_text_tokens(&crate::translate::read::to_string(
                    schema,
                )));
            }
            total = total.saturating_add(n);
        }
    }
    total
}

/// Tokens of a `content` (string or blocks) or of a `system` value.
fn content_tokens(content: &Value) -> u64 {
    match content {
        Value::Null => 0,
        Value::String(s) => count_text_tokens(s),
        Value::Array(blocks) => blocks
            .iter()
            .fold(0u64, |n, b| n.saturating_add(block_tokens(b))),
        other => count_text_tokens(&crate::translate::read::to_string(other)),
    }
}

fn block_tokens(b: &Value) -> u64 {
    let text = |key: &str| {
        b.get(key)
            .and_then(Value::as_str)
            .map(count_text_tokens)
            .unwrap_or(0)
    };
    match b.get("type").and_then(Value::as_str).unwrap_or("") {
        "text" => text("text"),
        "thinking" => text("thinking"),
        "image" => IMAGE_TOKENS,
        "document" => match b.pointer("/source/type").and_then(Value::as_str) {
            Some("text") => b
                .pointer("/source/data")
                .and_then(Value::as_str)
                .map(count_text_tokens)
                .unwrap_or(0),
            Some("content") => b
                .pointer("/source/content")
                .map(content_tokens)
                .unwrap_or(0),
            _ => IMAGE_TOKENS,
        },
        "tool_use" => {
            let input = b
                .get("input")
                .map(crate::translate::read::to_string)
                .unwrap_or_default();
            text("name").saturating_add(count_text_tokens(&input))
        }
        "tool_result" => b.get("content").map(content_tokens).unwrap_or(0),
        "redacted_thinking" => 0,
        _ => count_text_tokens(&crate::translate::read::to_string(b)),
    }
}
