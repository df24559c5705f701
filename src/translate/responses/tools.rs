//! Responses `tools` / `tool_choice` → Chat Completions function tools, and the flat names that stand in for
//! functions grouped under a `namespace` tool.
//!
//! Only functions reach a target that is not the Responses API. A `namespace` tool (Codex groups its
//! sub-agent functions in one) wraps plain functions, so each is sent as a function of its own under
//! `<namespace>__<name>`; the [`ToolNames`] table built here turns that flat name back into `namespace` and
//! `name` on the model's calls, so the client never sees the flat name. Hosted tools (`web_search`,
//! `file_search`, `code_interpreter`, …) run on OpenAI's servers and have no equivalent: they are dropped
//! with a note, as are freeform `custom` tools.

use serde_json::{json, Map, Value};

use crate::translate::ids::sha256_hex;
use crate::translate::notes::Notes;
use crate::translate::read::{as_object, opt_array, opt_object, opt_str, req_str, Path, Res, Side};

const SIDE: Side = Side::Request;

/// Between a namespace and a function name in the flat name. Function names are `[A-Za-z0-9_-]{1,64}`
/// everywhere, so the separator has to come from that alphabet too; the table makes the mapping exact.
const SEPARATOR: &str = "__";
/// The longest function name OpenAI-compatible servers and Anthropic accept.
const MAX_NAME_LEN: usize = 64;

/// A function offered inside a `namespace` tool, under the flat name the target sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespaced {
    pub flat: String,
    pub namespace: String,
    pub name: String,
}

/// Flat name ↔ (namespace, name) for the functions of a request's `namespace` tools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolNames {
    entries: Vec<Namespaced>,
}

impl ToolNames {
    /// The flat name for `name` in `namespace` (the same one the tool list used).
    pub fn flat(&self, namespace: &str, name: &str) -> String {
        self.entries
            .iter()
            .find(|e| e.namespace == namespace && e.name == name)
            .map_or_else(|| flat_name(namespace, name), |e| e.flat.clone())
    }

    /// `(namespace, name)` for a name the model called: the namespaced original of a flat name, else the
    /// name itself with no namespace.
    pub fn split<'a>(&'a self, called: &'a str) -> (Option<&'a str>, &'a str) {
        match self.entries.iter().find(|e| e.flat == called) {
            Some(e) => (Some(&e.namespace), &e.name),
            None => (None, called),
        }
    }

    fn add(&mut self, namespace: &str, name: &str) -> String {
        let flat = flat_name(namespace, name);
        if !self.entries.iter().any(|e| e.flat == flat) {
            self.entries.push(Namespaced {
                flat: flat.clone(),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            });
        }
        flat
    }
}

/// `namespace__name`, or — past the 64-character limit — its start plus a hash of the whole, so that two
/// long names cannot collide.
fn flat_name(namespace: &str, name: &str) -> String {
    let full = format!("{namespace}{SEPARATOR}{name}");
    if full.len() <= MAX_NAME_LEN {
        return full;
    }
    let head: String = full.chars().take(MAX_NAME_LEN - 13).collect();
    format!("{head}_{}", &sha256_hex(&full)[..12])
}

/// One Responses function definition (`{name, description, parameters, strict}`, flat) → a Chat tool.
fn function_tool(
    f: &Map<String, Value>,
    name: &str,
    description: Option<String>,
    at: &Path,
    notes: &mut Notes,
) -> Res<Value> {
    let mut function = Map::new();
    function.insert("name".into(), json!(name));
    if let Some(d) = description {
        function.insert("description".into(), json!(d));
    }
    let parameters = match opt_object(f, "parameters", at, SIDE)? {
        Some(p) => {
            let mut p = p.clone();
            p.entry("type").or_insert_with(|| json!("object"));
            Value::Object(p)
        }
        None => json!({ "type": "object", "properties": {} }),
    };
    function.insert("parameters".into(), parameters);
    if f.get("strict").and_then(Value::as_bool) == Some(true) {
        notes.drop("tool_strict");
    }
    Ok(json!({ "type": "function", "function": Value::Object(function) }))
}

/// `tools` → Chat function tools, filling `names` with the flattened namespace functions.
pub(super) fn translate_tools(
    tools: &[Value],
    at: &Path,
    notes: &mut Notes,
    names: &mut ToolNames,
) -> Res<Vec<Value>> {
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let at = at.index(i);
        let t = as_object(tool, &at, SIDE)?;
        match opt_str(t, "type", &at, SIDE)?.unwrap_or("function") {
            "function" => {
                let name = req_str(t, "name", &at, SIDE)?;
                let description = opt_str(t, "description", &at, SIDE)?.map(str::to_owned);
                out.push(function_tool(t, name, description, &at, notes)?);
            }
            "namespace" => {
                let namespace = req_str(t, "name", &at, SIDE)?;
                let about = opt_str(t, "description", &at, SIDE)?;
                let inner_at = at.key("tools");
                for (j, inner) in opt_array(t, "tools", &at, SIDE)?
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .enumerate()
                {
                    let inner_at = inner_at.index(j);
                    let f = as_object(inner, &inner_at, SIDE)?;
                    if opt_str(f, "type", &inner_at, SIDE)?.unwrap_or("function") != "function" {
                        notes.drop("custom_tools");
                        continue;
                    }
                    let name = req_str(f, "name", &inner_at, SIDE)?;
                    let description = match (opt_str(f, "description", &inner_at, SIDE)?, about) {
                        (Some(d), Some(a)) => {
                            Some(format!("{d}\n\n(From the `{namespace}` tools: {a})"))
                        }
                        (Some(d), None) => Some(d.to_owned()),
                        (None, Some(a)) => Some(format!("From the `{namespace}` tools: {a}")),
                        (None, None) => None,
                    };
                    let flat = names.add(namespace, name);
                    out.push(function_tool(f, &flat, description, &inner_at, notes)?);
                }
                notes.degrade("namespace_tools_flattened");
            }
            "custom" => notes.drop("custom_tools"),
            _ => notes.drop("hosted_tools"),
        }
    }
    Ok(out)
}

/// `tool_choice` → the Chat form. A choice of a hosted or custom tool (which was dropped) becomes `auto`.
pub(super) fn translate_tool_choice(
    choice: &Value,
    names: &ToolNames,
    at: &Path,
    notes: &mut Notes,
) -> Res<Option<Value>> {
    match choice {
        Value::Null => Ok(None),
        Value::String(s) => match s.as_str() {
            "auto" | "none" | "required" => Ok(Some(json!(s))),
            _ => Err(at.err(SIDE, "one of auto, none, required, or a tool choice object")),
        },
        Value::Object(c) => match opt_str(c, "type", at, SIDE)? {
            Some("function") => {
                let name = req_str(c, "name", at, SIDE)?;
                let name = match opt_str(c, "namespace", at, SIDE)? {
                    Some(ns) => names.flat(ns, name),
                    None => name.to_owned(),
                };
                Ok(Some(
                    json!({ "type": "function", "function": { "name": name } }),
                ))
            }
            Some("allowed_tools") => {
                notes.degrade("tool_choice");
                let mode = opt_str(c, "mode", at, SIDE)?.unwrap_or("auto");
                Ok(Some(json!(if mode == "required" {
                    "required"
                } else {
                    "auto"
                })))
            }
            _ => {
                notes.degrade("tool_choice");
                Ok(Some(json!("auto")))
            }
        },
        _ => Err(at.err(SIDE, "a string or an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_names_stay_within_limits_and_map_back() {
        let mut names = ToolNames::default();
        assert_eq!(
            names.add("multi_agent_v1", "spawn_agent"),
            "multi_agent_v1__spawn_agent"
        );
        let long = names.add(&"n".repeat(40), &"f".repeat(40));
        assert_eq!(long.len(), MAX_NAME_LEN);
        assert_eq!(
            names.split(&long),
            (Some("n".repeat(40).as_str()), "f".repeat(40).as_str())
        );
        assert_eq!(
            names.split("multi_agent_v1__spawn_agent"),
            (Some("multi_agent_v1"), "spawn_agent")
        );
        assert_eq!(
            names.split("exec_command"),
            (None, "exec_command"),
            "plain functions keep their name"
        );
        assert_eq!(
            names.flat("multi_agent_v1", "spawn_agent"),
            "multi_agent_v1__spawn_agent"
        );
    }
}
