//! Anthropic `tools` / `tool_choice` → OpenAI `tools` / `tool_choice` / `parallel_tool_calls`.
//! Client tools become `function` tools whose `parameters` is the `input_schema` with the JSON-schema keys
//! OpenAI-compatible servers reject removed (`$schema`). Server tools (`web_search_20250305`, `bash_…`,
//! anything without an `input_schema`) cannot run on another provider and are dropped and reported. A tool's
//! `cache_control` goes on its function tool for providers that honour it (OpenRouter's tool caching).

use serde_json::{json, Map, Value};

use crate::translate::notes::Notes;
use crate::translate::read::{as_object, opt_bool, opt_str, req_str, Path, Res, Side};

const SIDE: Side = Side::Request;

/// Schema keys removed at every depth of a tool's `input_schema`.
const STRIPPED_SCHEMA_KEYS: &[&str] = &["$schema"];

/// Translates the tool list; returns the function tools and the names that were kept.
pub(super) fn translate_tools(
    tools: &[Value],
    at: &Path,
    keep_cache: bool,
    notes: &mut Notes,
) -> Res<Vec<Value>> {
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let at = at.index(i);
        let t = as_object(tool, &at, SIDE)?;
        let kind = opt_str(t, "type", &at, SIDE)?;
        let Some(schema) = t.get("input_schema").filter(|s| !s.is_null()) else {
            if kind.is_some_and(|k| k != "custom") {
                notes.drop("server_tools");
                continue;
            }
            return Err(at
                .key("input_schema")
                .err(SIDE, "an object (required for client tools)"));
        };
        let name = req_str(t, "name", &at, SIDE)?;
        let schema_at = at.key("input_schema");
        let mut parameters = as_object(schema, &schema_at, SIDE)?.clone();
        if strip_schema_keys(&mut parameters) {
            notes.drop("schema_keys");
        }
        if !parameters.contains_key("type") {
            parameters.insert("type".into(), json!("object"));
        }
        let mut function = Map::new();
        function.insert("name".into(), json!(name));
        if let Some(d) = opt_str(t, "description", &at, SIDE)? {
            function.insert("description".into(), json!(d));
        }
        function.insert("parameters".into(), Value::Object(parameters));
        for (key, note) in [
            ("defer_loading", "defer_loading"),
            ("strict", "tool_strict"),
            ("input_examples", "input_examples"),
        ] {
            if t.get(key).is_some_and(|v| !v.is_null()) {
                notes.drop(note);
            }
        }
        let mut tool = json!({ "type": "function", "function": Value::Object(function) });
        match t.get("cache_control").filter(|v| !v.is_null()) {
            Some(cache) if keep_cache => tool["cache_control"] = cache.clone(),
            Some(_) => notes.drop("cache_control"),
            None => {}
        }
        out.push(tool);
    }
    Ok(out)
}

/// Removes the stripped keys at every depth of a schema; says whether any was found.
fn strip_schema_keys(schema: &mut Map<String, Value>) -> bool {
    let mut found = false;
    for key in STRIPPED_SCHEMA_KEYS {
        found |= schema.remove(*key).is_some();
    }
    for value in schema.values_mut() {
        found |= strip_value(value);
    }
    found
}

fn strip_value(v: &mut Value) -> bool {
    match v {
        Value::Object(m) => strip_schema_keys(m),
        Value::Array(a) => a.iter_mut().fold(false, |f, x| strip_value(x) | f),
        _ => false,
    }
}

/// The OpenAI fields a `tool_choice` becomes: (`tool_choice`, `parallel_tool_calls`).
pub(super) fn translate_tool_choice(
    choice: &Value,
    at: &Path,
) -> Res<(Option<Value>, Option<bool>)> {
    let c = as_object(choice, at, SIDE)?;
    let kind = req_str(c, "type", at, SIDE)?;
    let mapped = match kind {
        "auto" => json!("auto"),
        "any" => json!("required"),
        "none" => json!("none"),
        "tool" => {
            let name = req_str(c, "name", at, SIDE)?;
            json!({ "type": "function", "function": { "name": name } })
        }
        _ => return Err(at.key("type").err(SIDE, "one of auto, any, tool, none")),
    };
    let parallel = match opt_bool(c, "disable_parallel_tool_use", at, SIDE)? {
        Some(true) => Some(false),
        _ => None,
    };
    Ok((Some(mapped), parallel))
}
