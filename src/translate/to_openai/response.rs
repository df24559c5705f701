//! Anthropic Messages response → OpenAI Chat Completions response, for an OpenAI-SDK client using a Claude
//! model. Text blocks are concatenated into `content`, thinking goes to `reasoning_content` (the field
//! DeepSeek and vLLM use; OpenAI SDKs ignore it), `tool_use` blocks become `tool_calls` with the input
//! serialized as the `arguments` string. Server-tool blocks and redacted thinking have no OpenAI form and
//! are reported.

use serde_json::{json, Map, Value};

use super::ToOpenAiResponseOptions;
use crate::translate::error::TranslateError;
use crate::translate::ids::{derive, openai_completion_id};
use crate::translate::notes::{Notes, Translated};
use crate::translate::read::{as_object, opt_array, to_bytes, to_string, Path, Side};
use crate::translate::stop::openai_finish_reason;
use crate::usage::TokenUsage;

const SIDE: Side = Side::Response;

/// Translates an Anthropic success body into an OpenAI chat completion.
pub fn anthropic_response_to_openai(
    body: &[u8],
    opts: &ToOpenAiResponseOptions,
) -> Result<Translated, TranslateError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| TranslateError::not_json("upstream response", &e))?;
    let root = Path::ROOT;
    let m = as_object(&v, &root, SIDE)?;
    if m.get("type").and_then(Value::as_str) == Some("error") {
        let message = v
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("unknown error")
            .to_owned();
        return Err(TranslateError::UpstreamReported { message });
    }
    let mut notes = Notes::default();
    let id = match m
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(up) => openai_completion_id(up),
        None => derive("chatcmpl-", body),
    };
    let content_at = root.key("content");
    let blocks = opt_array(m, "content", &root, SIDE)?
        .ok_or_else(|| content_at.err(SIDE, "an array (required)"))?;
    let (mut text, mut reasoning, mut calls) = (String::new(), String::new(), Vec::new());
    for (i, b) in blocks.iter().enumerate() {
        let b = as_object(b, &content_at.index(i), SIDE)?;
        match b.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            "thinking" => {
                reasoning.push_str(b.get("thinking").and_then(Value::as_str).unwrap_or(""))
            }
            "tool_use" => {
                let args = to_string(b.get("input").unwrap_or(&json!({})));
                let call_id = b.get("id").and_then(Value::as_str).unwrap_or("");
                let name = b.get("name").and_then(Value::as_str).unwrap_or("");
                calls.push(json!({ "id": call_id, "type": "function", "function": { "name": name, "arguments": args } }));
            }
            "redacted_thinking" => notes.drop("redacted_thinking"),
            _ => notes.drop("server_tool_blocks"),
        }
    }
    let mut message = Map::new();
    message.insert("role".into(), json!("assistant"));
    let content = if text.is_empty() && !calls.is_empty() {
        Value::Null
    } else {
        json!(text)
    };
    message.insert("content".into(), content);
    if !reasoning.is_empty() {
        message.insert("reasoning_content".into(), json!(reasoning));
    }
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    message.insert("refusal".into(), Value::Null);
    let mut usage = TokenUsage::default();
    if let Some(u) = m.get("usage").filter(|u| u.is_object()) {
        usage.merge_anthropic(u);
    }
    let finish = openai_finish_reason(m.get("stop_reason").and_then(Value::as_str));
    let out = json!({
        "id": id,
        "object": "chat.completion",
        "created": opts.created,
        "model": opts.client_model,
        "choices": [{ "index": 0, "message": Value::Object(message), "finish_reason": finish, "logprobs": null }],
        "usage": usage.to_openai_json(),
    });
    Ok(Translated {
        body: to_bytes(&out),
        notes,
    })
}
