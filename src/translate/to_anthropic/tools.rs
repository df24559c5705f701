//! OpenAI `tools` / `tool_choice` / `parallel_tool_calls` (and the legacy `functions` / `function_call`)
//! → Anthropic `tools` / `tool_choice`. Only `function` tools have an Anthropic equivalent; other kinds are
//! dropped and reported.

use serde_json::{json, Map, Value};

use crate::translate::notes::Notes;
use crate::translate::read::{as_object, opt_object, opt_str, req_str, Path, Res, Side};

const SIDE: Side = Side::Request;

/// One OpenAI function definition (`{name, description, parameters}`) → one Anthropic tool.
fn function_to_tool(f: &Map<String, Value>, at: &Path, notes: &mut Notes) -> Res<Value> {
    let name = req_str(f, "name", at, SIDE)?;
    let mut tool = Map::new();
    tool.insert("name".into(), json!(name));
    if let Some(d) = opt_str(f, "description", at, SIDE)? {
        tool.insert("description".into(), json!(d));
    }
    let schema = match opt_object(f, "parameters", at, SIDE)? {
        Some(p) => {
            let mut p = p.clone();
            p.entry("type").or_insert_with(|| json!("object"));
            Value::Object(p)
        }
        None => json!({ "type": "object", "properties": {} }),
    };
    tool.insert("input_schema".into(), schema);
    if f.get("strict").is_some_and(|s| !s.is_null()) {
        notes.drop("tool_strict");
    }
    Ok(Value::Object(tool))
}

/// `tools` (`[{type: "function", function: {...}}]`).
pub(super) fn translate_tools(tools: &[Value], at: &Path, notes: &mut Notes) -> Res<Vec<Value>> {
    let mut out = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        let at = at.index(i);
        let t = as_object(t, &at, SIDE)?;
        if opt_str(t, "type", &at, SIDE)?.unwrap_or("function") != "function" {
            notes.drop("non_function_tools");
            continue;
        }
        let f_at = at.key("function");
        let f = opt_object(t, "function", &at, SIDE)?
            .ok_or_else(|| f_at.err(SIDE, "an object (required)"))?;
        out.push(function_to_tool(f, &f_at, notes)?);
    }
    Ok(out)
}

/// Legacy `functions` (`[{name, description, parameters}]`).
pub(super) fn translate_functions(
    functions: &[Value],
    at: &Path,
    notes: &mut Notes,
) -> Res<Vec<Value>> {
    let mut out = Vec::with_capacity(functions.len());
    for (i, f) in functions.iter().enumerate() {
        let at = at.index(i);
        out.push(function_to_tool(as_object(f, &at, SIDE)?, &at, notes)?);
    }
    Ok(out)
}

/// `tool_choice` (or legacy `function_call`) plus `parallel_tool_calls` → Anthropic `tool_choice`.
pub(super) fn translate_tool_choice(
    choice: Option<&Value>,
    parallel: Option<bool>,
    at: &Path,
    notes: &mut Notes,
) -> Res<Option<Value>> {
    let mut out = match choice {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "auto" => json!({ "type": "auto" }),
            "required" => json!({ "type": "any" }),
            "none" => json!({ "type": "none" }),
            _ => return Err(at.err(SIDE, "one of auto, required, none, or a function choice")),
        }),
        Some(Value::Object(c)) => {
            let kind = opt_str(c, "type", at, SIDE)?.unwrap_or("function");
            match kind {
                "function" => {
                    let name = match opt_object(c, "function", at, SIDE)? {
                        Some(f) => req_str(f, "name", &at.key("function"), SIDE)?,
                        // legacy `function_call: {name}`
                        None => req_str(c, "name", at, SIDE)?,
                    };
                    Some(json!({ "type": "tool", "name": name }))
                }
                _ => {
                    notes.degrade("tool_choice");
                    Some(json!({ "type": "auto" }))
                }
            }
        }
        Some(_) => return Err(at.err(SIDE, "a string or an object")),
    };
    if parallel == Some(false) {
        let c = out.get_or_insert_with(|| json!({ "type": "auto" }));
        if c["type"] != "none" {
            c["disable_parallel_tool_use"] = json!(true);
        }
    }
    Ok(out)
}
