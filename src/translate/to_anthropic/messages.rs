//! OpenAI `messages` → Anthropic `system` + `messages`. System and developer messages are lifted into the
//! top-level `system` (Anthropic has no system role in `messages`; lifting one that came mid-conversation
//! is reported). `role: "tool"` messages become `tool_result` blocks of a user turn, consecutive ones
//! merged into one user message with the results first, as Anthropic requires. Images given as data URLs
//! become base64 sources, http(s) URLs become url sources. A part's `cache_control` (the OpenRouter convention
//! for Anthropic prompt caching) stays on the block it becomes, so such clients keep their cache breakpoints.

use serde_json::{json, Value};

use super::parse_arguments;
use crate::translate::ids::fallback_tool_id;
use crate::translate::notes::Notes;
use crate::translate::read::{as_object, opt_str, req_str, Path, Res, Side};

const SIDE: Side = Side::Request;

/// The translated conversation.
pub(super) struct Conversation {
    /// System texts, each with the `cache_control` its part carried.
    pub(super) system: Vec<(String, Option<Value>)>,
    pub(super) messages: Vec<Value>,
}

impl Conversation {
    /// The top-level `system`: one string, or text blocks when a part carried a cache marker.
    pub(super) fn system_value(&self) -> Option<Value> {
        if self.system.is_empty() {
            return None;
        }
        if self.system.iter().all(|(_, c)| c.is_none()) {
            let texts: Vec<&str> = self.system.iter().map(|(t, _)| t.as_str()).collect();
            return Some(json!(texts.join("\n\n")));
        }
        let blocks = self
            .system
            .iter()
            .map(|(t, c)| with_cache(json!({ "type": "text", "text": t }), c.as_ref()));
        Some(Value::Array(blocks.collect()))
    }
}

/// A part's `cache_control`, if it has one.
fn cache_of(part: &serde_json::Map<String, Value>) -> Option<&Value> {
    part.get("cache_control").filter(|c| !c.is_null())
}

fn with_cache(mut block: Value, cache: Option<&Value>) -> Value {
    if let (Some(c), Some(b)) = (cache, block.as_object_mut()) {
        b.insert("cache_control".into(), c.clone());
    }
    block
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
                let (text, cache) = plain_text(content, &content_at)?;
                if !text.is_empty() {
                    system.push((text, cache));
                }
                continue;
            }
            "user" => ("user", user_blocks(content, &content_at, notes)?),
            "assistant" => ("assistant", assistant_blocks(m, &at, i, notes)?),
            "tool" => {
                let id = req_str(m, "tool_call_id", &at, SIDE)?;
                let (text, cache) = plain_text(content, &content_at)?;
                let block = json!({ "type": "tool_result", "tool_use_id": id, "content": text });
                ("user", vec![with_cache(block, cache.as_ref())])
            }
            "function" => {
                notes.degrade("function_messages");
                let name = opt_str(m, "name", &at, SIDE)?.unwrap_or("function");
                let (text, _) = plain_text(content, &content_at)?;
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

/// Content that must be text (system, tool results): a string or text parts, joined; with the last
/// `cache_control` a part carried.
fn plain_text(content: &Value, at: &Path) -> Res<(String, Option<Value>)> {
    match content {
        Value::Null => Ok((String::new(), None)),
        Value::String(s) => Ok((s.clone(), None)),
        Value::Array(parts) => {
            let mut texts = Vec::new();
            let mut cache = None;
            for (i, p) in parts.iter().enumerate() {
                let p = as_object(p, &at.index(i), SIDE)?;
                if let Some(t) = opt_str(p, "text", &at.index(i), SIDE)? {
                    texts.push(t);
                }
                cache = cache_of(p).or(cache);
            }
            Ok((texts.join("\n\n"), cache.cloned()))
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
        let cache = cache_of(p);
        match req_str(p, "type", &at, SIDE)? {
            "text" => {
                out.extend(text_block(req_str(p, "text", &at, SIDE)?).map(|b| with_cache(b, cache)))
            }
            "image_url" => {
                let url_at = at.key("image_url");
                let url = match p.get("image_url") {
                    Some(Value::String(s)) => s.as_str(),
                    Some(Value::Object(o)) => req_str(o, "url", &url_at, SIDE)?,
                    _ => return Err(url_at.err(SIDE, "an object with a url")),
                };
                let block = json!({ "type": "image", "source": url_source(url, &url_at)? });
                out.push(with_cache(block, cache));
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
                let cache = p.as_object().and_then(cache_of);
                out.extend(text_block(t).map(|b| with_cache(b, cache)));
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
