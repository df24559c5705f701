//! OpenAI Chat Completions response → Anthropic Messages response. The content order Claude Code expects
//! is thinking (from `reasoning_content` or OpenRouter's `reasoning`), then text, then `tool_use` blocks.
//! Tool-call ids are kept verbatim so the next turn's `tool_result` reaches the upstream with its own ids;
//! tool calls are assembled by `translate::tool_calls`, as in a stream.

use serde_json::{json, Value};

use super::{parse_arguments, ToAnthropicOptions};
use crate::translate::error::TranslateError;
use crate::translate::ids::{anthropic_message_id, derive};
use crate::translate::notes::{Notes, Translated};
use crate::translate::read::{as_object, opt_array, to_bytes, Path, Side};
use crate::translate::stop::anthropic_stop_reason;
use crate::translate::tool_calls::{whole_calls, WholeCall};
use crate::usage::TokenUsage;

const SIDE: Side = Side::Response;

/// Translates an OpenAI-compatible success body into an Anthropic message.
pub fn openai_response_to_anthropic(
    body: &[u8],
    opts: &ToAnthropicOptions,
) -> Result<Translated, TranslateError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| TranslateError::not_json("upstream response", &e))?;
    let root = Path::ROOT;
    let m = as_object(&v, &root, SIDE)?;
    if let Some(err) = m.get("error").filter(|e| !e.is_null()) {
        return Err(TranslateError::UpstreamReported {
            message: error_message(err),
        });
    }
    let mut notes = Notes::default();
    let id = match m
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(up) => anthropic_message_id(up),
        None => derive("msg_", body),
    };
    let choices_at = root.key("choices");
    let choices = opt_array(m, "choices", &root, SIDE)?
        .ok_or_else(|| choices_at.err(SIDE, "an array (required)"))?;
    if choices.len() > 1 {
        notes.drop("extra_choices");
    }
    let mut content = Vec::new();
    let mut finish = None;
    let mut matched_stop = None;
    let mut refused = false;
    if let Some(choice) = choices.first() {
        let at = choices_at.index(0);
        let c = as_object(choice, &at, SIDE)?;
        finish = c.get("finish_reason").and_then(Value::as_str);
        matched_stop = matched_stop_sequence(c, &opts.stop_sequences);
        let empty = serde_json::Map::new();
        let msg = c
            .get("message")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        if let Some(r) = reasoning_text(msg) {
            content.push(json!({ "type": "thinking", "thinking": r, "signature": "" }));
        }
        let text = message_text(msg.get("content"));
        if !text.is_empty() {
            content.push(json!({ "type": "text", "text": text }));
        }
        if let Some(r) = msg
            .get("refusal")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            refused = true;
            content.push(json!({ "type": "text", "text": r }));
        }
        for WholeCall {
            id: tid,
            name,
            arguments,
        } in whole_calls(msg, &id, "toolu_")
        {
            let (input, ok) = parse_arguments(&Value::String(arguments));
            if !ok {
                notes.degrade("tool_arguments_unparsable");
            }
            content.push(json!({ "type": "tool_use", "id": tid, "name": name, "input": input }));
        }
    }
    let had_tools = content.iter().any(|b| b["type"] == "tool_use");
    let stop_reason = if refused {
        "refusal"
    } else {
        anthropic_stop_reason(finish, had_tools, matched_stop.is_some())
    };
    let stop_sequence = if stop_reason == "stop_sequence" {
        matched_stop.map(Value::from)
    } else {
        None
    };
    let usage = m
        .get("usage")
        .filter(|u| u.is_object())
        .map(TokenUsage::from_openai)
        .unwrap_or_default();
    let out = json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": opts.client_model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage.to_anthropic_json(),
    });
    Ok(Translated {
        body: to_bytes(&out),
        notes,
    })
}

/// vLLM reports the matched stop string as `stop_reason`, SGLang as `matched_stop`.
fn matched_stop_sequence(
    choice: &serde_json::Map<String, Value>,
    requested: &[String],
) -> Option<String> {
    let s = ["stop_reason", "matched_stop"]
        .iter()
        .find_map(|k| choice.get(*k).and_then(Value::as_str));
    matched_stop(s, requested)
}

/// The stop string a server named, if the request asked for it (or asked for none in particular).
pub(crate) fn matched_stop(s: Option<&str>, requested: &[String]) -> Option<String> {
    let s = s?;
    if s.is_empty() || (!requested.is_empty() && !requested.iter().any(|r| r == s)) {
        return None;
    }
    Some(s.to_owned())
}

/// `reasoning_content` (DeepSeek, vLLM, Qwen) or `reasoning` (OpenRouter, Ollama), when non-empty.
pub(crate) fn reasoning_text(msg: &serde_json::Map<String, Value>) -> Option<&str> {
    ["reasoning_content", "reasoning"].iter().find_map(|k| {
        msg.get(*k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    })
}

/// `content` as text: a string, or the text of an array of parts.
pub(crate) fn message_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// The human-readable message of an OpenAI-style `error` value.
pub(crate) fn error_message(err: &Value) -> String {
    match err {
        Value::String(s) => s.clone(),
        other => other
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| crate::translate::read::to_string(other)),
    }
}
