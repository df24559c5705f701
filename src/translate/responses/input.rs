//! Responses `instructions` + `input` items → Chat Completions `messages`.
//!
//! The Responses API keeps a conversation as a flat list of items; Chat Completions as turns. The mapping:
//!
//! - `instructions` and `system`/`developer` messages → `system` messages (consecutive ones merged);
//! - `user` messages → `user` messages, `input_text` as text, `input_image` as `image_url` parts;
//! - `assistant` messages (`output_text`) and the `function_call` items after them → one assistant message
//!   with `tool_calls`, so consecutive calls become one turn with several tool calls;
//! - `function_call_output` → a `tool` message placed right after the assistant message that made the call,
//!   wherever the output stood in the input (Chat requires that order; the Responses API pairs by
//!   `call_id` only). An output whose call is nowhere in the input becomes user text (degraded
//!   `orphan_tool_outputs`); a call without an output gets an error result (degraded
//!   `missing_tool_outputs`), because Chat servers reject an unanswered call.
//! - `reasoning` items cannot be replayed to another model: dropped (`reasoning_items`, and
//!   `encrypted_reasoning` when they carry OpenAI's encrypted content).
//! - `item_reference` needs the provider's stored items: refused.
//! - history of hosted tools (`web_search_call`, `file_search_call`, …) is dropped (`hosted_tool_items`).

use serde_json::{json, Map, Value};

use super::tools::ToolNames;
use crate::translate::notes::Notes;
use crate::translate::read::{as_object, opt_str, req_str, to_string, Path, Res, Side};

const SIDE: Side = Side::Request;

/// Items that record a hosted tool's work on OpenAI's side; another model has nothing to do with them.
const HOSTED_ITEMS: &[&str] = &[
    "web_search_call",
    "file_search_call",
    "computer_call",
    "computer_call_output",
    "image_generation_call",
    "code_interpreter_call",
    "local_shell_call",
    "local_shell_call_output",
    "shell_call",
    "shell_call_output",
    "apply_patch_call",
    "apply_patch_call_output",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "mcp_call",
    "tool_search_call",
    "tool_search_output",
    "compaction",
];

/// One step of the conversation, before it is grouped into Chat messages.
enum Entry {
    System(String),
    User(Value),
    AssistantText(String),
    Call {
        id: String,
        name: String,
        arguments: String,
    },
    Output {
        id: String,
        content: String,
    },
}

/// Translates `instructions` and `input` into Chat messages.
pub(super) fn translate_input(
    instructions: Option<&str>,
    input: &Value,
    names: &ToolNames,
    at: &Path,
    notes: &mut Notes,
) -> Res<Vec<Value>> {
    let mut entries = Vec::new();
    if let Some(text) = instructions.filter(|t| !t.is_empty()) {
        entries.push(Entry::System(text.to_owned()));
    }
    match input {
        Value::String(text) => entries.push(Entry::User(json!(text))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                read_item(item, names, &at.index(i), notes, &mut entries)?;
            }
        }
        _ => return Err(at.err(SIDE, "a string or an array of input items (required)")),
    }
    Ok(group(entries, notes))
}

fn read_item(
    item: &Value,
    names: &ToolNames,
    at: &Path,
    notes: &mut Notes,
    entries: &mut Vec<Entry>,
) -> Res<()> {
    let m = as_object(item, at, SIDE)?;
    let kind = match opt_str(m, "type", at, SIDE)? {
        Some(kind) => kind,
        None if m.contains_key("role") => "message",
        None => {
            return Err(at
                .key("type")
                .err(SIDE, "a string (required for items that are not messages)"))
        }
    };
    match kind {
        "message" => read_message(m, at, notes, entries)?,
        "function_call" => {
            let name = req_str(m, "name", at, SIDE)?;
            let name = match opt_str(m, "namespace", at, SIDE)? {
                Some(ns) => names.flat(ns, name),
                None => name.to_owned(),
            };
            let arguments = match m.get("arguments") {
                Some(Value::String(s)) => s.clone(),
                None | Some(Value::Null) => "{}".to_owned(),
                Some(other) => to_string(other),
            };
            entries.push(Entry::Call {
                id: req_str(m, "call_id", at, SIDE)?.to_owned(),
                name,
                arguments,
            });
        }
        "custom_tool_call" => {
            notes.degrade("custom_tool_calls");
            let input = opt_str(m, "input", at, SIDE)?.unwrap_or_default();
            entries.push(Entry::Call {
                id: req_str(m, "call_id", at, SIDE)?.to_owned(),
                name: req_str(m, "name", at, SIDE)?.to_owned(),
                arguments: to_string(&json!({ "input": input })),
            });
        }
        "function_call_output" | "custom_tool_call_output" => {
            let content = output_text(m.get("output"), &at.key("output"), notes)?;
            entries.push(Entry::Output {
                id: req_str(m, "call_id", at, SIDE)?.to_owned(),
                content,
            });
        }
        "reasoning" => {
            notes.drop("reasoning_items");
            if m.get("encrypted_content").is_some_and(|e| !e.is_null()) {
                notes.drop("encrypted_reasoning");
            }
        }
        "item_reference" => {
            return Err(at.unsupported("`item_reference` needs the stored items of an earlier response, which only the OpenAI Responses API keeps; send the items themselves"));
        }
        other if HOSTED_ITEMS.contains(&other) => notes.drop("hosted_tool_items"),
        _ => notes.drop("unknown_input_items"),
    }
    Ok(())
}

fn read_message(
    m: &Map<String, Value>,
    at: &Path,
    notes: &mut Notes,
    entries: &mut Vec<Entry>,
) -> Res<()> {
    let content_at = at.key("content");
    let content = m.get("content").unwrap_or(&Value::Null);
    match req_str(m, "role", at, SIDE)? {
        "system" | "developer" => {
            entries.push(Entry::System(plain_text(content, &content_at, notes)?))
        }
        "assistant" => entries.push(Entry::AssistantText(plain_text(
            content,
            &content_at,
            notes,
        )?)),
        "user" => entries.push(Entry::User(user_content(content, &content_at, notes)?)),
        _ => {
            return Err(at
                .key("role")
                .err(SIDE, "one of user, assistant, system, developer"))
        }
    }
    Ok(())
}

/// Text of content that must be text in Chat (system, assistant): a string, or its text parts joined by a
/// blank line; anything else in it is dropped with a note.
fn plain_text(content: &Value, at: &Path, notes: &mut Notes) -> Res<String> {
    match content {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        Value::Array(parts) => {
            let mut texts = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                let at = at.index(i);
                let p = as_object(part, &at, SIDE)?;
                match opt_str(p, "type", &at, SIDE)? {
                    Some("input_text" | "output_text" | "text") => {
                        texts.push(req_str(p, "text", &at, SIDE)?.to_owned())
                    }
                    Some("refusal") => texts.push(req_str(p, "refusal", &at, SIDE)?.to_owned()),
                    Some("input_image") => notes.drop("system_images"),
                    _ => notes.drop("unknown_content_parts"),
                }
            }
            Ok(texts.join("\n\n"))
        }
        _ => Err(at.err(SIDE, "a string or an array of content parts")),
    }
}

/// A user message's content: a string, or Chat parts (`text`, `image_url`).
fn user_content(content: &Value, at: &Path, notes: &mut Notes) -> Res<Value> {
    let parts = match content {
        Value::String(s) => return Ok(json!(s)),
        Value::Array(parts) => parts,
        _ => return Err(at.err(SIDE, "a string or an array of content parts")),
    };
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let at = at.index(i);
        let p = as_object(part, &at, SIDE)?;
        match opt_str(p, "type", &at, SIDE)? {
            Some("input_text" | "output_text" | "text") => {
                out.push(json!({ "type": "text", "text": req_str(p, "text", &at, SIDE)? }))
            }
            Some("input_image") => match opt_str(p, "image_url", &at, SIDE)? {
                Some(url) => {
                    let mut image = Map::new();
                    image.insert("url".into(), json!(url));
                    if let Some(detail) = opt_str(p, "detail", &at, SIDE)?.filter(|d| *d != "auto")
                    {
                        image.insert("detail".into(), json!(detail));
                    }
                    out.push(json!({ "type": "image_url", "image_url": Value::Object(image) }));
                }
                None => notes.drop("file_ids"),
            },
            Some("input_file") => notes.drop("input_files"),
            Some("input_audio") => notes.drop("input_audio"),
            _ => notes.drop("unknown_content_parts"),
        }
    }
    // A lone text part reads best as a plain string, the form every Chat server accepts.
    if let [only] = out.as_slice() {
        if only["type"] == "text" {
            return Ok(only["text"].clone());
        }
    }
    Ok(Value::Array(out))
}

/// A `function_call_output`'s `output`: a string, or content parts whose text is joined.
fn output_text(output: Option<&Value>, at: &Path, notes: &mut Notes) -> Res<String> {
    match output {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                let at = at.index(i);
                let p = as_object(part, &at, SIDE)?;
                match opt_str(p, "type", &at, SIDE)? {
                    Some("input_text" | "output_text" | "text") => {
                        texts.push(req_str(p, "text", &at, SIDE)?.to_owned())
                    }
                    Some("input_image") => notes.drop("tool_output_images"),
                    _ => notes.drop("unknown_content_parts"),
                }
            }
            Ok(texts.join("\n\n"))
        }
        Some(other) => Ok(to_string(other)),
    }
}

/// Groups entries into Chat messages: assistant text and the calls after it form one assistant turn, each
/// call's output follows that turn, consecutive system entries merge.
fn group(entries: Vec<Entry>, notes: &mut Notes) -> Vec<Value> {
    let called: std::collections::HashSet<&str> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Call { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut orphans = Vec::new();
    for entry in &entries {
        if let Entry::Output { id, content } = entry {
            if called.contains(id.as_str()) {
                outputs.push((id.clone(), content.clone()));
            } else {
                orphans.push(format!("[result of tool call {id}]\n{content}"));
            }
        }
    }
    drop(called);

    let mut messages: Vec<Value> = Vec::new();
    let mut turn = Turn::default();
    for entry in entries {
        match entry {
            Entry::System(text) => {
                turn.flush(&mut messages, &mut outputs, notes);
                match messages.last_mut() {
                    Some(last) if last["role"] == "system" => {
                        let joined =
                            format!("{}\n\n{text}", last["content"].as_str().unwrap_or_default());
                        last["content"] = json!(joined);
                    }
                    _ => messages.push(json!({ "role": "system", "content": text })),
                }
            }
            Entry::User(content) => {
                turn.flush(&mut messages, &mut outputs, notes);
                messages.push(json!({ "role": "user", "content": content }));
            }
            Entry::AssistantText(text) => {
                if !turn.calls.is_empty() {
                    turn.flush(&mut messages, &mut outputs, notes);
                }
                if !text.is_empty() {
                    turn.text.push(text);
                }
                turn.open = true;
            }
            Entry::Call {
                id,
                name,
                arguments,
            } => {
                turn.calls.push((id, name, arguments));
                turn.open = true;
            }
            Entry::Output { .. } => {}
        }
    }
    turn.flush(&mut messages, &mut outputs, notes);
    if !orphans.is_empty() {
        notes.degrade("orphan_tool_outputs");
        messages.push(json!({ "role": "user", "content": orphans.join("\n\n") }));
    }
    messages
}

/// The assistant turn being gathered.
#[derive(Default)]
struct Turn {
    open: bool,
    text: Vec<String>,
    calls: Vec<(String, String, String)>,
}

impl Turn {
    fn flush(
        &mut self,
        messages: &mut Vec<Value>,
        outputs: &mut Vec<(String, String)>,
        notes: &mut Notes,
    ) {
        if !std::mem::take(&mut self.open) {
            return;
        }
        let text = std::mem::take(&mut self.text).join("\n\n");
        let calls = std::mem::take(&mut self.calls);
        let mut message = Map::new();
        message.insert("role".into(), json!("assistant"));
        message.insert(
            "content".into(),
            if text.is_empty() && !calls.is_empty() {
                Value::Null
            } else {
                json!(text)
            },
        );
        if !calls.is_empty() {
            let tool_calls: Vec<Value> = calls
                .iter()
                .map(|(id, name, arguments)| json!({ "id": id, "type": "function", "function": { "name": name, "arguments": arguments } }))
                .collect();
            message.insert("tool_calls".into(), Value::Array(tool_calls));
        }
        messages.push(Value::Object(message));
        for (id, _, _) in &calls {
            let content = match outputs.iter().position(|(o, _)| o == id) {
                Some(at) => outputs.remove(at).1,
                None => {
                    notes.degrade("missing_tool_outputs");
                    "Error: no result was provided for this tool call.".to_owned()
                }
            };
            messages.push(json!({ "role": "tool", "tool_call_id": id, "content": content }));
        }
    }
}
