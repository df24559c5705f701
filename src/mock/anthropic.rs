//! The Anthropic Messages wire format: typed serde structs whose field order is the order the real API sends, and
//! the renderers that turn a planned [`Reply`] into a `message` JSON body or the SSE event sequence
//! (`message_start`, `ping`, per-block `content_block_start` / `_delta` / `_stop`, `message_delta`,
//! `message_stop`), plus error bodies, `count_tokens` and the model list.

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::mock::catalog::MODELS;
use crate::mock::ids;
use crate::mock::plan::{split_even, Reply, Stop};
use crate::mock::wire::{json_vec, SseWriter};

#[derive(Serialize)]
struct Message<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<Block<'a>>,
    stop_reason: Option<&'static str>,
    stop_sequence: Option<&'static str>,
    usage: Usage,
}

#[derive(Serialize)]
struct Usage {
    input_tokens: u64,
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
    cache_creation: CacheCreation,
    output_tokens: u64,
}

#[derive(Serialize)]
struct CacheCreation {
    ephemeral_5m_input_tokens: u64,
    ephemeral_1h_input_tokens: u64,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a Value,
    },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event<'a> {
    MessageStart { message: Message<'a> },
    ContentBlockStart { index: usize, content_block: Block<'a> },
    ContentBlockDelta { index: usize, delta: Delta<'a> },
    ContentBlockStop { index: usize },
    MessageDelta { delta: StopDelta, usage: OutputUsage },
    MessageStop,
}

impl Event<'_> {
    fn name(&self) -> &'static str {
        match self {
            Event::MessageStart { .. } => "message_start",
            Event::ContentBlockStart { .. } => "content_block_start",
            Event::ContentBlockDelta { .. } => "content_block_delta",
            Event::ContentBlockStop { .. } => "content_block_stop",
            Event::MessageDelta { .. } => "message_delta",
            Event::MessageStop => "message_stop",
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum Delta<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
}

#[derive(Serialize)]
struct StopDelta {
    stop_reason: &'static str,
    stop_sequence: Option<&'static str>,
}

#[derive(Serialize)]
struct OutputUsage {
    output_tokens: u64,
}

fn stop_reason(stop: Stop) -> &'static str {
    match stop {
        Stop::EndTurn => "end_turn",
        Stop::ToolUse => "tool_use",
        Stop::MaxTokens => "max_tokens",
    }
}

/// The ids and signature of one reply, derived from the request body's hash.
struct Ids {
    message: String,
    /// One per tool call, in order.
    tools: Vec<String>,
    signature: String,
}

impl Ids {
    fn new(reply: &Reply<'_>, seed: u64) -> Self {
        Ids {
            message: ids::anthropic_message_id(seed),
            tools: reply
                .tool
                .iter()
                .chain(&reply.more_tools)
                .enumerate()
                .map(|(n, _)| ids::anthropic_tool_id(ids::nth(seed, n)))
                .collect(),
            signature: if reply.thinking.is_some() {
                ids::thinking_signature(seed)
            } else {
                String::new()
            },
        }
    }
}

fn message<'a>(reply: &'a Reply<'_>, model: &'a str, ids: &'a Ids, content: Vec<Block<'a>>) -> Message<'a> {
    Message {
        id: &ids.message,
        kind: "message",
        role: "assistant",
        model,
        content,
        stop_reason: None,
        stop_sequence: None,
        usage: Usage {
            input_tokens: reply.uncached_input_tokens(),
            cache_creation_input_tokens: reply.cache.write(),
            cache_read_input_tokens: reply.cache.read,
            cache_creation: CacheCreation { ephemeral_5m_input_tokens: reply.cache.write_5m, ephemeral_1h_input_tokens: reply.cache.write_1h },
            output_tokens: reply.output_tokens,
        },
    }
}

/// The non-streaming `message` body.
pub(crate) fn message_json(reply: &Reply<'_>, model: &str, seed: u64) -> Vec<u8> {
    let ids = Ids::new(reply, seed);
    let mut content = Vec::with_capacity(3);
    if let Some(thinking) = &reply.thinking {
        content.push(Block::Thinking {
            thinking,
            signature: &ids.signature,
        });
    }
    content.push(Block::Text { text: &reply.text });
    for (tool, id) in reply.tool.iter().chain(&reply.more_tools).zip(&ids.tools) {
        content.push(Block::ToolUse {
            id,
            name: tool.name,
            input: &tool.input,
        });
    }
    let mut msg = message(reply, model, &ids, content);
    msg.stop_reason = Some(stop_reason(reply.stop));
    json_vec(&msg)
}

/// The SSE events of a streamed reply, text and reasoning each split into `chunks` deltas.
pub(crate) fn message_events(reply: &Reply<'_>, model: &str, seed: u64, chunks: usize) -> Vec<Bytes> {
    let ids = Ids::new(reply, seed);
    let mut w = SseWriter::with_capacity(1024 + 160 * chunks * 3);
    let emit = |w: &mut SseWriter, event: Event<'_>| w.event(Some(event.name()), &event);

    let mut start = message(reply, model, &ids, Vec::new());
    start.usage.output_tokens = 1;
    emit(&mut w, Event::MessageStart { message: start });
    w.raw(Some("ping"), r#"{"type": "ping"}"#);

    let mut index = 0;
    if let Some(thinking) = &reply.thinking {
        emit(
            &mut w,
            Event::ContentBlockStart {
                index,
                content_block: Block::Thinking {
                    thinking: "",
                    signature: "",
                },
            },
        );
        for piece in split_even(thinking, chunks) {
            emit(
                &mut w,
                Event::ContentBlockDelta {
                    index,
                    delta: Delta::Thinking { thinking: piece },
                },
            );
        }
        emit(
            &mut w,
            Event::ContentBlockDelta {
                index,
                delta: Delta::Signature {
                    signature: &ids.signature,
                },
            },
        );
        emit(&mut w, Event::ContentBlockStop { index });
        index += 1;
    }
    emit(
        &mut w,
        Event::ContentBlockStart {
            index,
            content_block: Block::Text { text: "" },
        },
    );
    for piece in split_even(&reply.text, chunks) {
        emit(
            &mut w,
            Event::ContentBlockDelta {
                index,
                delta: Delta::Text { text: piece },
            },
        );
    }
    emit(&mut w, Event::ContentBlockStop { index });
    let empty = Value::Object(Map::new());
    for (tool, id) in reply.tool.iter().chain(&reply.more_tools).zip(&ids.tools) {
        index += 1;
        let block = Block::ToolUse {
            id,
            name: tool.name,
            input: &empty,
        };
        emit(
            &mut w,
            Event::ContentBlockStart {
                index,
                content_block: block,
            },
        );
        // The real API opens every tool input with an empty fragment.
        emit(
            &mut w,
            Event::ContentBlockDelta {
                index,
                delta: Delta::InputJson { partial_json: "" },
            },
        );
        for piece in split_even(&tool.arguments, chunks) {
            emit(
                &mut w,
                Event::ContentBlockDelta {
                    index,
                    delta: Delta::InputJson { partial_json: piece },
                },
            );
        }
        emit(&mut w, Event::ContentBlockStop { index });
    }
    emit(
        &mut w,
        Event::MessageDelta {
            delta: StopDelta {
                stop_reason: stop_reason(reply.stop),
                stop_sequence: None,
            },
            usage: OutputUsage {
                output_tokens: reply.output_tokens,
            },
        },
    );
    emit(&mut w, Event::MessageStop);
    w.finish()
}

/// The `type` of Anthropic's error object for an HTTP status.
pub(crate) fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: ErrorDetail<'a>,
    request_id: &'a str,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: &'a str,
}

/// `{"type":"error","error":{"type":…,"message":…},"request_id":…}`.
pub(crate) fn error_json(status: u16, message: &str, request_id: &str) -> Vec<u8> {
    json_vec(&ErrorBody {
        kind: "error",
        error: ErrorDetail {
            kind: error_type(status),
            message,
        },
        request_id,
    })
}

/// `{"input_tokens":N}`.
pub(crate) fn count_tokens_json(input_tokens: u64) -> Vec<u8> {
    #[derive(Serialize)]
    struct Count {
        input_tokens: u64,
    }
    json_vec(&Count { input_tokens })
}

/// The model list in Anthropic's shape.
pub(crate) fn models_json() -> Vec<u8> {
    #[derive(Serialize)]
    struct Model {
        #[serde(rename = "type")]
        kind: &'static str,
        id: &'static str,
        display_name: &'static str,
        created_at: &'static str,
    }
    #[derive(Serialize)]
    struct List {
        data: Vec<Model>,
        has_more: bool,
        first_id: Option<&'static str>,
        last_id: Option<&'static str>,
    }
    let data = MODELS
        .iter()
        .map(|m| Model {
            kind: "model",
            id: m.id,
            display_name: m.display_name,
            created_at: m.created_at,
        })
        .collect();
    json_vec(&List {
        data,
        has_more: false,
        first_id: MODELS.first().map(|m| m.id),
        last_id: MODELS.last().map(|m| m.id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::plan::ToolCall;
    use serde_json::json;

    fn reply(thinking: bool, tool: bool) -> Reply<'static> {
        Reply {
            thinking: thinking.then(|| "Mock reasoning about: hi".to_owned()),
            text: if tool {
                "I'll use Bash.".to_owned()
            } else {
                "Hello there".to_owned()
            },
            tool: tool.then(|| ToolCall {
                name: "Bash",
                input: json!({"command": "ls", "description": "mock"}),
                arguments: r#"{"command":"ls","description":"mock"}"#.to_owned(),
            }),
            more_tools: Vec::new(),
            cache: Default::default(),
            stop: if tool { Stop::ToolUse } else { Stop::EndTurn },
            input_tokens: 12,
            output_tokens: 7,
            reasoning_tokens: 0,
        }
    }

    #[test]
    fn message_json_has_the_real_field_order() {
        let body = String::from_utf8(message_json(&reply(false, false), "claude-x", 42)).unwrap_or_default();
        let id = ids::anthropic_message_id(42);
        assert_eq!(
            body,
            format!(
                r#"{{"id":"{id}","type":"message","role":"assistant","model":"claude-x","content":[{{"type":"text","text":"Hello there"}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0}},"output_tokens":7}}}}"#
            )
        );
    }

    #[test]
    fn message_json_with_thinking_and_tool() {
        let body: Value = serde_json::from_slice(&message_json(&reply(true, true), "m", 1)).unwrap_or_default();
        let types: Vec<_> = body["content"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|b| b["type"].clone())
            .collect();
        assert_eq!(types, vec![json!("thinking"), json!("text"), json!("tool_use")]);
        assert_eq!(body["content"][0]["signature"], json!(ids::thinking_signature(1)));
        assert_eq!(body["content"][2]["id"], json!(ids::anthropic_tool_id(1)));
        assert_eq!(
            body["content"][2]["input"],
            json!({"command": "ls", "description": "mock"})
        );
        assert_eq!(body["stop_reason"], json!("tool_use"));
    }

    #[test]
    fn stream_has_the_real_event_sequence() {
        let events = message_events(&reply(true, true), "m", 1, 2);
        let text: Vec<String> = events.iter().map(|e| String::from_utf8_lossy(e).into_owned()).collect();
        let names: Vec<&str> = text
            .iter()
            .map(|e| e.lines().next().unwrap_or("").trim_start_matches("event: "))
            .collect();
        assert_eq!(
            names,
            vec![
                "message_start",
                "ping",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
            ]
        );
        assert_eq!(text[1], "event: ping\ndata: {\"type\": \"ping\"}\n\n");
        assert!(
            text[0].contains(r#""content":[],"stop_reason":null,"stop_sequence":null"#),
            "{}",
            text[0]
        );
        assert!(text[0].contains(r#""output_tokens":1}"#));
        assert!(text[2].contains(r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#));
        assert!(text[5].contains(r#""delta":{"type":"signature_delta","signature":""#));
        assert!(text[11].contains(r#""index":2,"content_block":{"type":"tool_use","id":"toolu_01"#));
        assert!(text[11].contains(r#""name":"Bash","input":{}}}"#));
        assert!(text[12].contains(r#"{"type":"input_json_delta","partial_json":""}"#));
        assert_eq!(
            text[16],
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":7}}\n\n"
        );
        assert_eq!(text[17], "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        // The JSON fragments reassemble into the arguments.
        let joined: String = text[12..15]
            .iter()
            .filter_map(|e| e.lines().nth(1))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim_start_matches("data: ")).ok())
            .filter_map(|v| v["delta"]["partial_json"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(joined, r#"{"command":"ls","description":"mock"}"#);
    }

    #[test]
    fn errors_and_lists() {
        let err = String::from_utf8(error_json(529, "Overloaded", "req_1")).unwrap_or_default();
        assert_eq!(
            err,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#
        );
        assert_eq!(error_type(500), "api_error");
        assert_eq!(error_type(401), "authentication_error");
        assert_eq!(count_tokens_json(5), b"{\"input_tokens\":5}".to_vec());
        let list: Value = serde_json::from_slice(&models_json()).unwrap_or_default();
        assert_eq!(list["data"][0]["type"], json!("model"));
        assert_eq!(list["has_more"], json!(false));
        assert_eq!(list["first_id"], list["data"][0]["id"]);
    }
}
