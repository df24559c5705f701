//! What the mock needs to know about a request, read once from its parsed JSON body. Both wire formats are reduced
//! to one [`Conversation`] (model, streaming, token limit, the last thing the user said, any tool result, the tools
//! on offer and the tool choice, whether reasoning was asked for), so reply planning does not care which API asked.
//! Reading is lenient about everything the mock does not use — Claude Code's `role: "system"` messages, `metadata`,
//! `cache_control`, `context_management` and unknown fields pass untouched — and strict only about the fields the
//! real APIs require, which it rejects with the real APIs' messages so translator bugs surface in tests.

use serde_json::Value;

/// A request reduced to what reply planning needs; borrows from the parsed body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Conversation<'a> {
    pub model: &'a str,
    pub stream: bool,
    /// `max_tokens` (Anthropic) or `max_completion_tokens` / `max_tokens` (OpenAI).
    pub max_tokens: Option<u64>,
    /// The last text block of the last user message (empty when it has none).
    pub last_user_text: &'a str,
    /// The text of the tool result the last user turn carries, if it carries one.
    pub tool_result: Option<String>,
    pub tools: Vec<Tool<'a>>,
    pub tool_choice: ToolChoice<'a>,
    /// Anthropic `thinking.type` enabled/adaptive, or OpenAI `reasoning_effort` / `reasoning`.
    pub thinking: bool,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage: bool,
}

/// A tool offered by the request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tool<'a> {
    pub name: &'a str,
    pub schema: Option<&'a Value>,
}

/// The request's tool choice, in both APIs' terms.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToolChoice<'a> {
    /// No choice given, or `auto`.
    Auto,
    /// Anthropic `none` / OpenAI `"none"`: never call a tool.
    Never,
    /// Anthropic `any` / OpenAI `"required"`: some tool must be called.
    Any,
    /// Anthropic `{"type":"tool","name":…}` / OpenAI `{"type":"function","function":{"name":…}}`.
    Named(&'a str),
}

/// A request the real API would reject with 400 `invalid_request_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub message: String,
    /// OpenAI's `param` field.
    pub param: Option<&'static str>,
    /// OpenAI's `code` field.
    pub code: Option<&'static str>,
}

impl Invalid {
    fn new(message: impl Into<String>) -> Self {
        Invalid {
            message: message.into(),
            param: None,
            code: None,
        }
    }
}

/// Reads an Anthropic Messages (or, with `require_max_tokens` false, count_tokens) request.
pub(crate) fn anthropic(body: &Value, require_max_tokens: bool) -> Result<Conversation<'_>, Invalid> {
    let Some(obj) = body.as_object() else {
        return Err(Invalid::new(
            "Input should be a valid dictionary or object to extract fields from",
        ));
    };
    let model = match obj.get("model") {
        Some(Value::String(m)) => m.as_str(),
        Some(_) => return Err(Invalid::new("model: Input should be a valid string")),
        None => return Err(Invalid::new("model: Field required")),
    };
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) => m,
        Some(_) => return Err(Invalid::new("messages: Input should be a valid list")),
        None => return Err(Invalid::new("messages: Field required")),
    };
    let max_tokens = match obj.get("max_tokens") {
        Some(v) => match v.as_u64() {
            Some(0) => return Err(Invalid::new("max_tokens: Input should be greater than or equal to 1")),
            Some(n) => Some(n),
            None => return Err(Invalid::new("max_tokens: Input should be a valid integer")),
        },
        None if require_max_tokens => return Err(Invalid::new("max_tokens: Field required")),
        None => None,
    };

    let (last_user_text, tool_result) = match messages.iter().rev().find(|m| role(m) == Some("user")) {
        Some(message) => anthropic_user_turn(message.get("content")),
        None => ("", None),
    };
    let tools = array(obj.get("tools"))
        .iter()
        .filter_map(|t| {
            Some(Tool {
                name: t.get("name")?.as_str()?,
                schema: t.get("input_schema"),
            })
        })
        .collect();
    let choice = obj.get("tool_choice");
    let tool_choice = match choice.and_then(|c| c.get("type")).and_then(Value::as_str) {
        Some("any") => ToolChoice::Any,
        Some("none") => ToolChoice::Never,
        Some("tool") => match choice.and_then(|c| c.get("name")).and_then(Value::as_str) {
            Some(name) => ToolChoice::Named(name),
            None => return Err(Invalid::new("tool_choice.tool.name: Field required")),
        },
        _ => ToolChoice::Auto,
    };
    let thinking = matches!(
        obj.get("thinking").and_then(|t| t.get("type")).and_then(Value::as_str),
        Some("enabled" | "adaptive")
    );
    Ok(Conversation {
        model,
        stream: obj.get("stream").and_then(Value::as_bool).unwrap_or(false),
        max_tokens,
        last_user_text,
        tool_result,
        tools,
        tool_choice,
        thinking,
        include_usage: false,
    })
}

/// The last text block and the first tool result of an Anthropic user message's `content`.
fn anthropic_user_turn(content: Option<&Value>) -> (&str, Option<String>) {
    match content {
        Some(Value::String(text)) => (text, None),
        Some(Value::Array(blocks)) => {
            let text = blocks
                .iter()
                .rev()
                .find(|b| kind(b) == Some("text"))
                .and_then(|b| str_field(b, "text"));
            let result = blocks
                .iter()
                .find(|b| kind(b) == Some("tool_result"))
                .map(|b| text_of(b.get("content")));
            (text.unwrap_or(""), result)
        }
        _ => ("", None),
    }
}

/// Reads an OpenAI Chat Completions request.
pub(crate) fn openai(body: &Value) -> Result<Conversation<'_>, Invalid> {
    let Some(obj) = body.as_object() else {
        return Err(Invalid {
            message: "Invalid type for request body: expected an object.".to_owned(),
            param: None,
            code: Some("invalid_type"),
        });
    };
    let model = match obj.get("model") {
        Some(Value::String(m)) => m.as_str(),
        _ => return Err(Invalid::new("you must provide a model parameter")),
    };
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) => m,
        Some(_) => {
            return Err(Invalid {
                message: "Invalid type for 'messages': expected an array of objects.".to_owned(),
                param: Some("messages"),
                code: Some("invalid_type"),
            })
        }
        None => {
            return Err(Invalid {
                message: "Missing required parameter: 'messages'.".to_owned(),
                param: Some("messages"),
                code: Some("missing_required_parameter"),
            })
        }
    };

    let (last_user_text, tool_result) = openai_last_turn(messages);
    let tools = array(obj.get("tools"))
        .iter()
        .filter_map(|t| {
            // Chat Completions nests the function; the newer flat shape puts name/parameters beside `type`.
            let f = t.get("function").unwrap_or(t);
            Some(Tool {
                name: str_field(f, "name")?,
                schema: f.get("parameters"),
            })
        })
        .collect();
    let tool_choice = match obj.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => ToolChoice::Never,
        Some(Value::String(s)) if s == "required" => ToolChoice::Any,
        Some(c @ Value::Object(_)) => match c.get("function").and_then(|f| str_field(f, "name")) {
            Some(name) => ToolChoice::Named(name),
            None => ToolChoice::Auto,
        },
        _ => ToolChoice::Auto,
    };
    let thinking = match (obj.get("reasoning_effort"), obj.get("reasoning")) {
        (Some(Value::String(effort)), _) => effort != "none",
        (_, Some(r @ Value::Object(_))) => {
            r.get("enabled").and_then(Value::as_bool) != Some(false) && str_field(r, "effort") != Some("none")
        }
        _ => false,
    };
    let max_tokens = obj
        .get("max_completion_tokens")
        .and_then(Value::as_u64)
        .or_else(|| obj.get("max_tokens").and_then(Value::as_u64));
    Ok(Conversation {
        model,
        stream: obj.get("stream").and_then(Value::as_bool).unwrap_or(false),
        max_tokens,
        last_user_text,
        tool_result,
        tools,
        tool_choice,
        thinking,
        include_usage: obj
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// The last user text, or — when the conversation ends with `role: "tool"` messages — the first of those results.
fn openai_last_turn(messages: &[Value]) -> (&str, Option<String>) {
    let mut earlier = messages
        .iter()
        .rev()
        .skip_while(|m| !matches!(role(m), Some("user" | "tool")));
    match earlier.next() {
        None => ("", None),
        Some(last) if role(last) == Some("tool") => {
            let first = earlier.take_while(|m| role(m) == Some("tool")).last().unwrap_or(last);
            ("", Some(text_of(first.get("content"))))
        }
        Some(user) => {
            let text = match user.get("content") {
                Some(Value::String(text)) => Some(text.as_str()),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .rev()
                    .find(|p| kind(p) == Some("text"))
                    .and_then(|p| str_field(p, "text")),
                _ => None,
            };
            (text.unwrap_or(""), None)
        }
    }
}

/// The text of a content value: a string as is, or the `text` of its text blocks/parts run together.
pub(crate) fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter(|b| kind(b) == Some("text"))
            .filter_map(|b| str_field(b, "text"))
            .collect(),
        _ => String::new(),
    }
}

pub(crate) fn str_field<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    value.get(field).and_then(Value::as_str)
}

pub(crate) fn role(message: &Value) -> Option<&str> {
    str_field(message, "role")
}

pub(crate) fn kind(block: &Value) -> Option<&str> {
    str_field(block, "type")
}

pub(crate) fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn anthropic_reads_the_last_user_turn_past_system_messages() {
        let body = json!({
            "model": "claude-x", "max_tokens": 100, "stream": true,
            "thinking": {"type": "adaptive", "display": "omitted"},
            "metadata": {"user_id": "{\"device_id\":\"d\"}"},
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "<system-reminder>ignore</system-reminder>"},
                    {"type": "text", "text": "say hi", "cache_control": {"type": "ephemeral"}}]},
                {"role": "system", "content": [{"type": "text", "text": "# Environment"}]}
            ],
            "tools": [{"name": "Bash", "input_schema": {"type": "object"}}, {"description": "nameless"}],
            "tool_choice": {"type": "tool", "name": "Bash"}
        });
        let conv = anthropic(&body, true).map_err(|e| e.message);
        let conv = conv.as_ref().map(|c| {
            (
                c.model,
                c.stream,
                c.max_tokens,
                c.last_user_text,
                c.thinking,
                c.tools.len(),
                c.tool_choice.clone(),
                c.tool_result.clone(),
            )
        });
        assert_eq!(
            conv,
            Ok((
                "claude-x",
                true,
                Some(100),
                "say hi",
                true,
                1,
                ToolChoice::Named("Bash"),
                None
            ))
        );
    }

    #[test]
    fn anthropic_finds_tool_results() {
        let body = json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "run: ls"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "a"},
                                                                             {"type": "text", "text": "b"}]},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "second"}]}
        ]});
        let conv = anthropic(&body, true).map(|c| (c.last_user_text, c.tool_result));
        assert_eq!(conv, Ok(("", Some("ab".to_owned()))));
    }

    #[test]
    fn anthropic_rejects_what_the_real_api_rejects() {
        let message = |body: Value, strict| anthropic(&body, strict).err().map(|e| e.message);
        assert_eq!(
            message(json!([]), true).as_deref(),
            Some("Input should be a valid dictionary or object to extract fields from")
        );
        assert_eq!(
            message(json!({"messages": []}), true).as_deref(),
            Some("model: Field required")
        );
        assert_eq!(
            message(json!({"model": 1, "messages": []}), true).as_deref(),
            Some("model: Input should be a valid string")
        );
        assert_eq!(
            message(json!({"model": "m"}), true).as_deref(),
            Some("messages: Field required")
        );
        assert_eq!(
            message(json!({"model": "m", "messages": []}), true).as_deref(),
            Some("max_tokens: Field required")
        );
        assert_eq!(
            message(json!({"model": "m", "messages": [], "max_tokens": "x"}), true).as_deref(),
            Some("max_tokens: Input should be a valid integer")
        );
        assert_eq!(message(json!({"model": "m", "messages": []}), false), None);
    }

    #[test]
    fn openai_reads_tools_choice_reasoning_and_usage() {
        let body = json!({
            "model": "gpt-x", "stream": true, "stream_options": {"include_usage": true},
            "max_completion_tokens": 9, "max_tokens": 99, "reasoning_effort": "low",
            "messages": [{"role": "system", "content": "be brief"},
                         {"role": "user", "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "hi"}]}],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
                      {"type": "function", "name": "flat", "parameters": {}}],
            "tool_choice": "required"
        });
        let conv = openai(&body).map(|c| {
            (
                c.last_user_text,
                c.max_tokens,
                c.thinking,
                c.include_usage,
                c.stream,
                c.tools.iter().map(|t| t.name).collect::<Vec<_>>(),
                c.tool_choice,
            )
        });
        assert_eq!(
            conv,
            Ok((
                "hi",
                Some(9),
                true,
                true,
                true,
                vec!["get_weather", "flat"],
                ToolChoice::Any
            ))
        );
    }

    #[test]
    fn openai_takes_the_first_of_the_trailing_tool_results() {
        let body = json!({"model": "m", "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": null, "tool_calls": []},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "rainy"}]}
        ]});
        assert_eq!(openai(&body).map(|c| c.tool_result), Ok(Some("sunny".to_owned())));
        let named = json!({"model": "m", "messages": [], "tool_choice": {"type": "function", "function": {"name": "f"}},
                           "reasoning": {"enabled": false}});
        assert_eq!(
            openai(&named).map(|c| (c.tool_choice, c.thinking)),
            Ok((ToolChoice::Named("f"), false))
        );
    }

    #[test]
    fn openai_rejects_missing_fields_like_the_real_api() {
        let err = openai(&json!({"messages": []})).err();
        assert_eq!(
            err.map(|e| e.message).as_deref(),
            Some("you must provide a model parameter")
        );
        let err = openai(&json!({"model": "m"})).err();
        assert_eq!(
            err.map(|e| (e.param, e.code)),
            Some((Some("messages"), Some("missing_required_parameter")))
        );
    }
}
