//! OpenAI `messages` → Anthropic `system` + `messages`. System and developer messages are lifted into the
//! top-level `system` (Anthropic has no system role in `messages`; lifting one that came mid-conversation
//! is reported). `role: "tool"` messages become `tool_result` blocks of a user turn, consecutive ones
//! merged into one user message with the results first, as Anthropic requires. Images given as data URLs
//! become base64 sources, http(s) URLs become url sources.

use serde_json::{json, Value};

use super::parse_arguments;
use crate::translate::ids::fallback_tool_id;
use crate::translate::notes::Notes;
use crate::translate::read::{as_object, opt_str, req_str, Path, Res, Side};

const SIDE: Side = Side::Request;

/// The translated conversation.
pub(super) struct Conversation {
    pub(super) system: Vec<String>,
    pub(super) messages: Vec<Value>,
}

/// Translates the OpenAI `messages` array.
pub(super) fn translate_messages(
    msgs: &[Value],
    at: &Path,
    notes: &mut Notes,
) -> Res<Conversation> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, msg) in msgs.iter().enumerate() {
        let at = at.index(i);
        let m = as_object(msg, &at, SIDE)?;
        let role = req_str(m, "role", &at, SIDE)?;
        let content_at = at.key("content");
        let content = m.get("content").unwrap_or(&Value::Null);
        let (role, blocks) = match role {
            "system" | "developer" => {
                if !turns.is_empty() {
                    notes.degrade("system_messages_moved");
                }
                let text = plain_text(content, &content_at)?;
                if !text.is_empty() {
                    system.push(text);
                }
                continue;
            }
            "user" => ("user", user_blocks(content, &content_at, notes)?),
            "assistant" => ("assistant", assistant_blocks(m, &at, i, notes)?),
            "tool" => {
                let id = req_str(m, "tool_call_id", &at, SIDE)?;
                let text = plain_text(content, &content_at)?;
                (
                    "user",
                    vec![json!({ "type": "tool_result", "tool_use_id": id, "content": text })],
                )
            }
            "function" => {
                notes.degrade("function_messages");
                let name = opt_str(m, "name", &at, SIDE)?.unwrap_or("function");
                let text = plain_text(content, &content_at)?;
                (
                    "user",
                    vec![json!({ "type": "text", "text": format!("[result of {name}]\n{text}") })],
                )
            }
            _ => {
                return Err(at.key("role").err(
                    SIDE,
                    "one of system, developer, user, assistant, tool, function",
                ))
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, prev)) if *last == role => prev.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let messages = turns
        .into_iter()
        .map(|(role, mut blocks)| {
            // Anthropic wants tool_result blocks before any other block of a user turn.
            blocks.sort_by_key(|b| b["type"] != "tool_result");
            json!({ "role": role, "content": blocks })
        })
        .collect();
    Ok(Conversation { system, messages })
}

/// Content that must be text (system, tool results): a string or text parts, joined.
fn plain_text(content: &Value, at: &Path) -> Res<String> {
    match content {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => {
            let mut texts = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                let p = as_object(p, &at.index(i), SIDE)?;
                if let Some(t) = opt_str(p, "text", &at.index(i), SIDE)? {
                    texts.push(t);
                }
            }
            Ok(texts.join("\n\n"))
        }
        _ => Err(at.err(SIDE, "a string or an array of content parts")),
    }
}

fn text_block(t: &str) -> Option<Value> {
    (!t.is_empty()).then(|| json!({ "type": "text", "text": t }))
}

fn user_blocks(content: &Value, at: &Path, notes: &mut Notes) -> Res<Vec<Value>> {
    let parts = match content {
        Value::Null => return Ok(Vec::new()),
        Value::String(s) => return Ok(text_block(s).into_iter().collect()),
        Value::Array(parts) => parts,
        _ => return Err(at.err(SIDE, "a string or an array of content parts")),
    };
    let mut out = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let at = at.index(i);
        let p = as_object(part, &at, SIDE)?;
        match req_str(p, "type", &at, SIDE)? {
            "text" => out.extend(text_block(req_str(p, "text", &at, SIDE)?)),
            "image_url" => {
                let url_at = at.key("image_url");
                let url = match p.get("image_url") {
                    Some(Value::String(s)) => s.as_str(),
                    Some(Value::Object(o)) => req_str(o, "url", &url_at, SIDE)?,
                    _ => return Err(url_at.err(SIDE, "an object with a url")),
                };
                out.push(json!({ "type": "image", "source": url_source(url, &url_at)? }));
            }
            "file" => {
                let f = p.get("file").and_then(Value::as_object);
                match f.and_then(|f| f.get("file_data")).and_then(Value::as_str) {
                    Some(data) => out.push(
                        json!({ "type": "document", "source": url_source(data, &at.key("file"))? }),
                    ),
                    None => notes.drop("file_ids"),
                }
            }
            "input_audio" => notes.drop("audio"),
            _ => notes.drop("unknown_content_parts"),
        }
    }
    Ok(out)
}

/// `data:<media>;base64,<data>` → base64 source; anything else → url source.
fn url_source(url: &str, at: &Path) -> Res<Value> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(json!({ "type": "url", "url": url }));
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| at.err(SIDE, "a data URL of the form data:<media>;base64,<data>"))?;
    let media = meta
        .strip_suffix(";base64")
        .ok_or_else(|| at.err(SIDE, "a base64 data URL (data:<media>;base64,...)"))?;
    Ok(json!({ "type": "base64", "media_type": media, "data": data }))
}

fn assistant_blocks(
    m: &serde_json::Map<String, Value>,
    at: &Path,
    position: usize,
    notes: &mut Notes,
) -> Res<Vec<Value>> {
    let mut out = Vec::new();
    match m.get("content").unwrap_or(&Value::Null) {
        Value::Null => {}
        Value::String(s) => out.extend(text_block(s)),
        Value::Array(parts) => {
            for p in parts {
                let t = p
                    .get("text")
                    .or_else(|| p.get("refusal"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                out.extend(text_block(t));
            }
        }
        _ => {
            return Err(at
                .key("content")
                .err(SIDE, "a string, an array of content parts, or null"))
        }
    }
    if m.get("reasoning_content")
        .or_else(|| m.get("reasoning"))
        .is_some_and(|r| !r.is_null())
    {
        notes.drop("reasoning_content");
    }
    let mut calls: Vec<Value> = match m.get("tool_calls") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(at.key("tool_calls").err(SIDE, "an array")),
    };
    if let Some(f) = m.get("function_call").filter(|f| f.is_object()) {
        calls.push(json!({ "function": f }));
    }
    let calls_at = at.key("tool_calls");
    for (i, call) in calls.iter().enumerate() {
        let call_at = calls_at.index(i);
        let c = as_object(call, &call_at, SIDE)?;
        let f_at = call_at.key("function");
        let f = c
            .get("function")
            .and_then(Value::as_object)
            .ok_or_else(|| f_at.err(SIDE, "an object (required)"))?;
        let name = req_str(f, "name", &f_at, SIDE)?;
        let (input, ok) = parse_arguments(f.get("arguments").unwrap_or(&Value::Null));
        if !ok {
            notes.degrade("tool_arguments_unparsable");
        }
        let id = match opt_str(c, "id", &call_at, SIDE)? {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => fallback_tool_id("toolu_", &format!("message-{position}"), i),
        };
        out.push(json!({ "type": "tool_use", "id": id, "name": name, "input": input }));
    }
    Ok(out)
}
