//! The OpenAI Chat Completions wire format: typed serde structs in the real API's field order, and the renderers
//! that turn a planned [`Reply`] into a `chat.completion` body or the `chat.completion.chunk` SSE sequence (role
//! chunk, `reasoning_content` and `content` deltas, tool-call deltas, the `finish_reason` chunk, the optional
//! usage chunk, `[DONE]`), plus error bodies and the model list.

use bytes::Bytes;
use serde::Serialize;

use crate::mock::catalog::MODELS;
use crate::mock::ids;
use crate::mock::plan::{split_even, Reply, Stop};
use crate::mock::wire::{json_vec, SseWriter};

const FINGERPRINT: &str = "fp_mock";

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    usage: Usage,
    system_fingerprint: &'static str,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: Message<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCall<'a>; 1]>,
    refusal: Option<()>,
}

#[derive(Serialize)]
struct ToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function<'a>,
}

#[derive(Serialize)]
struct Function<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    prompt_tokens_details: PromptDetails,
    completion_tokens_details: CompletionDetails,
}

#[derive(Serialize)]
struct PromptDetails {
    cached_tokens: u64,
}

#[derive(Serialize)]
struct CompletionDetails {
    reasoning_tokens: u64,
}

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    system_fingerprint: &'static str,
    choices: &'a [ChunkChoice<'a>],
    /// Absent unless usage was requested; then `null` on every chunk but the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<&'a Usage>>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

#[derive(Serialize, Default)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCallDelta<'a>; 1]>,
}

#[derive(Serialize)]
struct ToolCallDelta<'a> {
    index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionDelta<'a>,
}

#[derive(Serialize)]
struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

fn finish_reason(stop: Stop) -> &'static str {
    match stop {
        Stop::EndTurn => "stop",
        Stop::ToolUse => "tool_calls",
        Stop::MaxTokens => "length",
    }
}

fn usage(reply: &Reply<'_>) -> Usage {
    Usage {
        prompt_tokens: reply.input_tokens,
        completion_tokens: reply.output_tokens,
        total_tokens: reply.input_tokens + reply.output_tokens,
        prompt_tokens_details: PromptDetails { cached_tokens: reply.cache.read },
        completion_tokens_details: CompletionDetails {
            reasoning_tokens: reply.reasoning_tokens,
        },
    }
}

/// The non-streaming `chat.completion` body.
pub(crate) fn completion_json(reply: &Reply<'_>, model: &str, seed: u64) -> Vec<u8> {
    let id = ids::openai_completion_id(seed);
    let call_id = ids::openai_call_id(seed);
    let tool_calls = reply.tool.as_ref().map(|tool| {
        [ToolCall {
            id: &call_id,
            kind: "function",
            function: Function {
                name: tool.name,
                arguments: &tool.arguments,
            },
        }]
    });
    json_vec(&Completion {
        id: &id,
        object: "chat.completion",
        created: ids::created(seed),
        model,
        choices: [Choice {
            index: 0,
            message: Message {
                role: "assistant",
                content: &reply.text,
                reasoning_content: reply.thinking.as_deref(),
                tool_calls,
                refusal: None,
            },
            logprobs: None,
            finish_reason: finish_reason(reply.stop),
        }],
        usage: usage(reply),
        system_fingerprint: FINGERPRINT,
    })
}

/// The SSE events of a streamed completion, text and reasoning each split into `chunks` deltas; with
/// `include_usage`, a final `choices: []` chunk carrying usage before `[DONE]`.
pub(crate) fn completion_events(
    reply: &Reply<'_>,
    model: &str,
    seed: u64,
    chunks: usize,
    include_usage: bool,
) -> Vec<Bytes> {
    let id = ids::openai_completion_id(seed);
    let call_id = ids::openai_call_id(seed);
    let created = ids::created(seed);
    let usage = usage(reply);
    let mut w = SseWriter::with_capacity(1024 + 240 * chunks * 3);
    let emit = |w: &mut SseWriter, delta: Delta<'_>, finish: Option<&'static str>| {
        let choices = [ChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason: finish,
        }];
        let chunk = Chunk {
            id: &id,
            object: "chat.completion.chunk",
            created,
            model,
            system_fingerprint: FINGERPRINT,
            choices: &choices,
            usage: include_usage.then_some(None),
        };
        w.event(None, &chunk);
    };

    emit(
        &mut w,
        Delta {
            role: Some("assistant"),
            content: Some(""),
            ..Delta::default()
        },
        None,
    );
    if let Some(thinking) = &reply.thinking {
        for piece in split_even(thinking, chunks) {
            emit(
                &mut w,
                Delta {
                    reasoning_content: Some(piece),
                    ..Delta::default()
                },
                None,
            );
        }
    }
    for piece in split_even(&reply.text, chunks) {
        emit(
            &mut w,
            Delta {
                content: Some(piece),
                ..Delta::default()
            },
            None,
        );
    }
    if let Some(tool) = &reply.tool {
        let first = ToolCallDelta {
            index: 0,
            id: Some(&call_id),
            kind: Some("function"),
            function: FunctionDelta {
                name: Some(tool.name),
                arguments: "",
            },
        };
        emit(
            &mut w,
            Delta {
                tool_calls: Some([first]),
                ..Delta::default()
            },
            None,
        );
        for piece in split_even(&tool.arguments, chunks) {
            let fragment = ToolCallDelta {
                index: 0,
                id: None,
                kind: None,
                function: FunctionDelta {
                    name: None,
                    arguments: piece,
                },
            };
            emit(
                &mut w,
                Delta {
                    tool_calls: Some([fragment]),
                    ..Delta::default()
                },
                None,
            );
        }
    }
    emit(&mut w, Delta::default(), Some(finish_reason(reply.stop)));
    if include_usage {
        w.event(
            None,
            &Chunk {
                id: &id,
                object: "chat.completion.chunk",
                created,
                model,
                system_fingerprint: FINGERPRINT,
                choices: &[],
                usage: Some(Some(&usage)),
            },
        );
    }
    w.raw(None, "[DONE]");
    w.finish()
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

/// The `type` of OpenAI's error object for an HTTP status.
pub(crate) fn error_type(status: u16) -> &'static str {
    match status {
        429 => "requests",
        500..=599 => "server_error",
        _ => "invalid_request_error",
    }
}

/// `{"error":{"message":…,"type":…,"param":…,"code":…}}`.
pub(crate) fn error_json(status: u16, message: &str, param: Option<&str>, code: Option<&str>) -> Vec<u8> {
    json_vec(&ErrorBody {
        error: ErrorDetail {
            message,
            kind: error_type(status),
            param,
            code,
        },
    })
}

/// The model list in OpenAI's shape.
pub(crate) fn models_json() -> Vec<u8> {
    #[derive(Serialize)]
    struct Model {
        id: &'static str,
        object: &'static str,
        created: u64,
        owned_by: &'static str,
    }
    #[derive(Serialize)]
    struct List {
        object: &'static str,
        data: Vec<Model>,
    }
    let data = MODELS
        .iter()
        .map(|m| Model {
            id: m.id,
            object: "model",
            created: m.created,
            owned_by: m.owned_by,
        })
        .collect();
    json_vec(&List { object: "list", data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::plan::ToolCall as PlannedCall;
    use serde_json::{json, Value};

    fn reply(thinking: bool, tool: bool) -> Reply<'static> {
        Reply {
            thinking: thinking.then(|| "Mock reasoning".to_owned()),
            text: "Hi you".to_owned(),
            tool: tool.then(|| PlannedCall {
                name: "get_weather",
                input: json!({"city": "mock"}),
                arguments: r#"{"city":"mock"}"#.to_owned(),
            }),
            stop: if tool { Stop::ToolUse } else { Stop::EndTurn },
            input_tokens: 10,
            cache: Default::default(),
            output_tokens: 3,
            reasoning_tokens: if thinking { 2 } else { 0 },
        }
    }

    #[test]
    fn completion_json_has_the_real_field_order() {
        let body = String::from_utf8(completion_json(&reply(false, false), "gpt-x", 9)).unwrap_or_default();
        let (id, created) = (ids::openai_completion_id(9), ids::created(9));
        assert_eq!(
            body,
            format!(
                r#"{{"id":"{id}","object":"chat.completion","created":{created},"model":"gpt-x","choices":[{{"index":0,"message":{{"role":"assistant","content":"Hi you","refusal":null}},"logprobs":null,"finish_reason":"stop"}}],"usage":{{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13,"prompt_tokens_details":{{"cached_tokens":0}},"completion_tokens_details":{{"reasoning_tokens":0}}}},"system_fingerprint":"fp_mock"}}"#
            )
        );
    }

    #[test]
    fn completion_json_with_tool_and_reasoning() {
        let body: Value = serde_json::from_slice(&completion_json(&reply(true, true), "m", 1)).unwrap_or_default();
        let message = &body["choices"][0]["message"];
        assert_eq!(message["reasoning_content"], json!("Mock reasoning"));
        assert_eq!(message["tool_calls"][0]["id"], json!(ids::openai_call_id(1)));
        assert_eq!(
            message["tool_calls"][0]["function"],
            json!({"name": "get_weather", "arguments": "{\"city\":\"mock\"}"})
        );
        assert_eq!(body["choices"][0]["finish_reason"], json!("tool_calls"));
        assert_eq!(body["usage"]["completion_tokens_details"]["reasoning_tokens"], json!(2));
    }

    #[test]
    fn stream_has_the_real_chunk_sequence() {
        let events = completion_events(&reply(true, true), "m", 1, 2, true);
        let data: Vec<&str> = events
            .iter()
            .map(|e| {
                std::str::from_utf8(e)
                    .unwrap_or("")
                    .trim_start_matches("data: ")
                    .trim_end()
            })
            .collect();
        assert_eq!(data.last(), Some(&"[DONE]"));
        let chunks: Vec<Value> = data.iter().filter_map(|d| serde_json::from_str(d).ok()).collect();
        assert_eq!(chunks.len(), data.len() - 1);
        let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
        assert_eq!(deltas[0], &json!({"role": "assistant", "content": ""}));
        assert_eq!(deltas[1], &json!({"reasoning_content": "Mock re"}));
        assert_eq!(deltas[3], &json!({"content": "Hi "}));
        assert_eq!(
            deltas[5],
            &json!({"tool_calls": [{"index": 0, "id": ids::openai_call_id(1), "type": "function",
                                                       "function": {"name": "get_weather", "arguments": ""}}]})
        );
        assert_eq!(
            deltas[6],
            &json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\""}}]})
        );
        assert_eq!(chunks[8]["choices"][0]["finish_reason"], json!("tool_calls"));
        assert_eq!(chunks[8]["choices"][0]["delta"], json!({}));
        assert_eq!(chunks[9]["choices"], json!([]));
        assert_eq!(chunks[9]["usage"]["total_tokens"], json!(13));
        assert!(chunks[..9]
            .iter()
            .all(|c| c["usage"].is_null() && c.get("usage").is_some()));
        assert!(data[0].starts_with(r#"{"id":"chatcmpl-"#));
        assert!(data[0].contains(r#","object":"chat.completion.chunk","created":"#));
        assert!(data[0].ends_with(r#""choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}"#));
        // Without include_usage there is no usage field and no usage chunk.
        let plain = completion_events(&reply(false, false), "m", 1, 8, false);
        assert!(plain.iter().all(|e| !String::from_utf8_lossy(e).contains("usage")));
        assert_eq!(plain.len(), 1 + 6 + 1 + 1);
    }

    #[test]
    fn errors_and_lists() {
        let err = String::from_utf8(error_json(401, "bad key", None, Some("invalid_api_key"))).unwrap_or_default();
        assert_eq!(
            err,
            r#"{"error":{"message":"bad key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#
        );
        assert_eq!(error_type(503), "server_error");
        let list: Value = serde_json::from_slice(&models_json()).unwrap_or_default();
        assert_eq!(list["object"], json!("list"));
        assert_eq!(list["data"][0]["object"], json!("model"));
    }
}
