//! Chat Completions response → Responses API Response object (non-streaming). The output order Codex
//! expects: a `reasoning` item (from `reasoning_content` or `reasoning`), the assistant `message`
//! (`output_text`, and a `refusal` part when the model refused), then one `function_call` item per tool
//! call (assembled by `translate::tool_calls`, as in a stream), with namespaced functions given back their
//! `namespace`. Call ids are kept verbatim so the next turn's `function_call_output` reaches the upstream with
//! its own ids; missing or repeated ones are generated.

use serde_json::Value;

use super::objects::{
    content_part, function_call_item, item_id, message_item, reasoning_item, response_id,
    response_object, status_for, ResponsesUsage, ToResponsesOptions,
};
use crate::translate::error::TranslateError;
use crate::translate::notes::{Notes, Translated};
use crate::translate::read::{as_object, opt_array, to_bytes, Path, Side};
use crate::translate::to_anthropic::response::{error_message, message_text, reasoning_text};
use crate::translate::tool_calls::whole_calls;
use crate::usage::TokenUsage;

const SIDE: Side = Side::Response;

/// Translates an OpenAI-compatible Chat success body into a Response object.
pub fn chat_response_to_responses(
    body: &[u8],
    opts: &ToResponsesOptions,
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
    let id = response_id(
        m.get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map_or(body, str::as_bytes),
    );
    let choices_at = root.key("choices");
    let choices = opt_array(m, "choices", &root, SIDE)?
        .ok_or_else(|| choices_at.err(SIDE, "an array (required)"))?;
    if choices.len() > 1 {
        notes.drop("extra_choices");
    }
    let mut output = Vec::new();
    let mut finish = None;
    if let Some(choice) = choices.first() {
        let c = as_object(choice, &choices_at.index(0), SIDE)?;
        finish = c.get("finish_reason").and_then(Value::as_str);
        let empty = serde_json::Map::new();
        let msg = c
            .get("message")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        if let Some(r) = reasoning_text(msg) {
            output.push(reasoning_item(
                &item_id("rs_", &id, output.len()),
                r,
                opts.shape.reasoning_as_summary,
            ));
        }
        let mut parts = Vec::new();
        let text = message_text(msg.get("content"));
        if !text.is_empty() {
            parts.push(content_part(false, &text));
        }
        if let Some(r) = msg
            .get("refusal")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            parts.push(content_part(true, r));
        }
        if !parts.is_empty() {
            output.push(message_item(
                &item_id("msg_", &id, output.len()),
                "completed",
                parts,
            ));
        }
        for call in whole_calls(msg, &id, "call_") {
            let arguments = if call.arguments.is_empty() {
                "{}"
            } else {
                &call.arguments
            };
            output.push(function_call_item(
                &item_id("fc_", &id, output.len()),
                "completed",
                &call.id,
                opts.shape.names.split(&call.name),
                arguments,
            ));
        }
    }
    let usage = m
        .get("usage")
        .filter(|u| u.is_object())
        .map(|u| ResponsesUsage::from_tokens(TokenUsage::from_openai(u)));
    let response = response_object(
        opts,
        &id,
        status_for(finish),
        output,
        Some(usage.unwrap_or_default()),
        None,
    );
    Ok(Translated {
        body: to_bytes(&response),
        notes,
    })
}
