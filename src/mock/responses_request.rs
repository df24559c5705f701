//! Reading an OpenAI Responses API request (`POST /v1/responses`) into the mock's format-independent
//! [`Conversation`], with the real API's messages for what it rejects. Items the mock has no use for
//! (reasoning items, `developer` messages, hosted-tool history, `namespace` tools) pass untouched.
//!
//! "Last user text" is the last text part of the last `user` message; a tool result is the first of the
//! `function_call_output` items after it (Codex sends its shell output so), which the plan echoes.

use serde_json::Value;

use crate::mock::request::{array, str_field, Conversation, Invalid, Tool, ToolChoice};

/// The Responses-only facts the renderer needs besides the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ResponsesAsk {
    /// `reasoning.summary` was asked for: the reasoning item carries a `summary_text`.
    pub summary: bool,
    /// `include` lists `reasoning.encrypted_content`.
    pub encrypted_reasoning: bool,
}

fn invalid(message: &str, param: Option<&'static str>, code: Option<&'static str>) -> Invalid {
    Invalid {
        message: message.to_owned(),
        param,
        code,
    }
}

/// Reads a Responses API request.
pub(crate) fn responses(body: &Value) -> Result<(Conversation<'_>, ResponsesAsk), Invalid> {
    let Some(obj) = body.as_object() else {
        return Err(invalid(
            "Invalid type for request body: expected an object.",
            None,
            Some("invalid_type"),
        ));
    };
    let model = match obj.get("model") {
        Some(Value::String(m)) => m.as_str(),
        _ => {
            return Err(invalid(
                "Missing required parameter: 'model'.",
                Some("model"),
                Some("missing_required_parameter"),
            ))
        }
    };
    if let Some(id) = obj.get("previous_response_id").and_then(Value::as_str) {
        // The mock stores nothing, as with `store: false`.
        return Err(invalid(
            &format!("Previous response with id '{id}' not found."),
            Some("previous_response_id"),
            Some("previous_response_not_found"),
        ));
    }
    let (last_user_text, tool_result) = match obj.get("input") {
        Some(Value::String(text)) => (text.as_str(), None),
        Some(Value::Array(items)) => last_turn(items),
        None | Some(Value::Null) => ("", None),
        Some(_) => {
            return Err(invalid(
                "Invalid type for 'input': expected one of a string or array of input items, but got an object instead.",
                Some("input"),
                Some("invalid_type"),
            ))
        }
    };
    let tools = array(obj.get("tools"))
        .iter()
        .filter(|t| str_field(t, "type") == Some("function"))
        .filter_map(|t| {
            Some(Tool {
                name: str_field(t, "name")?,
                schema: t.get("parameters"),
            })
        })
        .collect();
    let tool_choice = match obj.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => ToolChoice::Never,
        Some(Value::String(s)) if s == "required" => ToolChoice::Any,
        Some(c @ Value::Object(_)) if str_field(c, "type") == Some("function") => {
            match str_field(c, "name") {
                Some(name) => ToolChoice::Named(name),
                None => {
                    return Err(invalid(
                        "Missing required parameter: 'tool_choice.name'.",
                        Some("tool_choice.name"),
                        Some("missing_required_parameter"),
                    ))
                }
            }
        }
        _ => ToolChoice::Auto,
    };
    let reasoning = obj.get("reasoning").filter(|r| r.is_object());
    let thinking = reasoning.is_some_and(|r| str_field(r, "effort") != Some("none"));
    let ask = ResponsesAsk {
        summary: thinking
            && reasoning
                .and_then(|r| str_field(r, "summary"))
                .is_some_and(|s| s != "none"),
        encrypted_reasoning: array(obj.get("include"))
            .iter()
            .any(|i| i.as_str() == Some("reasoning.encrypted_content")),
    };
    let conv = Conversation {
        model,
        stream: obj.get("stream").and_then(Value::as_bool).unwrap_or(false),
        max_tokens: obj.get("max_output_tokens").and_then(Value::as_u64),
        last_user_text,
        tool_result,
        tools,
        tool_choice,
        thinking,
        include_usage: false,
    };
    Ok((conv, ask))
}

fn item_kind(item: &Value) -> &str {
    str_field(item, "type").unwrap_or(if item.get("role").is_some() {
        "message"
    } else {
        ""
    })
}

fn is_output(item: &Value) -> bool {
    matches!(
        item_kind(item),
        "function_call_output" | "custom_tool_call_output"
    )
}

fn is_user_message(item: &Value) -> bool {
    item_kind(item) == "message" && str_field(item, "role") == Some("user")
}

/// The last user text, or — when tool outputs follow the last user message — the first of those outputs.
fn last_turn(items: &[Value]) -> (&str, Option<String>) {
    let start = items.iter().rposition(is_user_message).map_or(0, |i| i + 1);
    if let Some(output) = items[start..].iter().find(|i| is_output(i)) {
        return ("", Some(output_text(output.get("output"))));
    }
    let text = match items
        .get(start.wrapping_sub(1))
        .and_then(|m| m.get("content"))
    {
        Some(Value::String(text)) => Some(text.as_str()),
        Some(Value::Array(parts)) => parts
            .iter()
            .rev()
            .filter(|p| matches!(str_field(p, "type"), Some("input_text" | "text")))
            .find_map(|p| str_field(p, "text")),
        _ => None,
    };
    (text.unwrap_or(""), None)
}

/// A tool output: a string, or its text parts run together.
fn output_text(output: Option<&Value>) -> String {
    match output {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter(|p| {
                matches!(
                    str_field(p, "type"),
                    Some("input_text" | "output_text" | "text")
                )
            })
            .filter_map(|p| str_field(p, "text"))
            .collect(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_codex_first_turn() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/codex/01-codex-exec-first-turn.json"
        ))
        .unwrap();
        let capture: Value = serde_json::from_str(&text).unwrap();
        let (conv, ask) = responses(&capture["body"]).unwrap();
        assert_eq!(
            (
                conv.model,
                conv.stream,
                conv.last_user_text,
                conv.tool_result.as_deref()
            ),
            ("gpt-5-codex", true, "say hi", None)
        );
        assert!(conv.tools.iter().any(|t| t.name == "exec_command"));
        assert!(
            conv.tools.iter().all(|t| t.name != "multi_agent_v1"),
            "namespace tools are not functions"
        );
        assert_eq!(
            ask,
            ResponsesAsk {
                summary: true,
                encrypted_reasoning: true
            }
        );
        assert!(conv.thinking);
    }

    #[test]
    fn finds_the_tool_output_after_the_last_user_message() {
        let body = json!({"model": "m", "input": [
            {"role": "user", "content": "run: echo hi"},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "function_call", "call_id": "call_1", "name": "exec_command", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "hi\n"},
        ], "tool_choice": {"type": "function", "name": "exec_command"}});
        let (conv, ask) = responses(&body).unwrap();
        assert_eq!(
            (conv.last_user_text, conv.tool_result.as_deref()),
            ("", Some("hi\n"))
        );
        assert_eq!(conv.tool_choice, ToolChoice::Named("exec_command"));
        assert_eq!(ask, ResponsesAsk::default());
        let plain = json!({"model": "m", "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]}]});
        assert_eq!(responses(&plain).unwrap().0.last_user_text, "b");
    }

    #[test]
    fn rejects_what_the_real_api_rejects() {
        let code = |body: Value| responses(&body).err().map(|e| (e.param, e.code));
        assert_eq!(
            code(json!({"input": "x"})),
            Some((Some("model"), Some("missing_required_parameter")))
        );
        assert_eq!(
            code(json!({"model": "m", "input": {}})),
            Some((Some("input"), Some("invalid_type")))
        );
        assert_eq!(
            code(json!({"model": "m", "previous_response_id": "resp_1"})),
            Some((
                Some("previous_response_id"),
                Some("previous_response_not_found")
            ))
        );
    }
}
