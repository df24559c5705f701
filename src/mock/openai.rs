//! The OpenAI Chat Completions wire format: typed serde structs in the real API's field order, and the renderers
//! that turn a planned [`Reply`] into a `chat.completion` body or the `chat.completion.chunk` SSE sequence (role
//! chunk, `reasoning_content` and `content` deltas, tool-call deltas, the `finish_reason` chunk, the optional
//! usage chunk, `[DONE]`), plus error bodies and the model list. Parallel tool calls stream one after the
//! other, as OpenAI sends them, or — [`ToolStream::Interleaved`] — the way vLLM-style servers do: every
//! call's header in one chunk, then argument fragments of the calls in turn.

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
    tool_calls: Option<Vec<ToolCall<'a>>>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_hit_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_cache_miss_tokens: Option<u64>,
}

#[derive(Serialize)]
struct PromptDetails {
    cached_tokens: u64,
    /// OpenRouter's count of input written to the cache; only for requests with `cache_control` markers.
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_write_tokens: Option<u64>,
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
    tool_calls: Option<Vec<ToolCallDelta<'a>>>,
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

/// How a streamed reply with several tool calls orders their pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolStream {
    /// Each call whole before the next (header, then its argument fragments): OpenAI's order.
    #[default]
    Sequential,
    /// Every call's header (`index`, `id`, `name`) in one chunk, then one argument fragment per chunk, the
    /// calls taking turns.
    Interleaved,
}

impl std::str::FromStr for ToolStream {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "sequential" => Ok(ToolStream::Sequential),
            "interleaved" => Ok(ToolStream::Interleaved),
            other => Err(format!(
                "{other:?} is not a tool stream order: expected sequential or interleaved"
            )),
        }
    }
}

fn finish_reason(stop: Stop) -> &'static str {
    match stop {
        Stop::EndTurn => "stop",
        Stop::ToolUse => "tool_calls",
        Stop::MaxTokens => "length",
    }
}

fn usage(reply: &Reply<'_>, model: &str) -> Usage {
    let prompt = reply.input_tokens;
    // DeepSeek's API names its cache counters its own way, besides OpenAI's.
    let deepseek = model.contains("deepseek");
    Usage {
        prompt_tokens: prompt,
        completion_tokens: reply.output_tokens,
        total_tokens: prompt + reply.output_tokens,
        prompt_tokens_details: PromptDetails {
            cached_tokens: reply.cache.read,
            cache_write_tokens: reply.cache.explicit.then_some(reply.cache.write()),
        },
        completion_tokens_details: CompletionDetails {
            reasoning_tokens: reply.reasoning_tokens,
        },
        prompt_cache_hit_tokens: deepseek.then_some(reply.cache.read),
        prompt_cache_miss_tokens: deepseek.then_some(prompt.saturating_sub(reply.cache.read)),
    }
}

/// The non-streaming `chat.completion` body.
pub(crate) fn completion_json(reply: &Reply<'_>, model: &str, seed: u64) -> Vec<u8> {
    let id = ids::openai_completion_id(seed);
    let call_ids = call_ids(reply, seed);
    let tool_calls = reply.tool.as_ref().map(|_| {
        tools(reply)
            .zip(&call_ids)
            .map(|(tool, id)| ToolCall {
                id,
                kind: "function",
                function: Function {
                    name: tool.name,
                    arguments: &tool.arguments,
                },
            })
            .collect()
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
        usage: usage(reply, model),
        system_fingerprint: FINGERPRINT,
    })
}

/// The first delta of a streamed tool call: its index, id and name, no arguments yet.
fn header<'r>(index: usize, id: &'r str, name: &'r str) -> ToolCallDelta<'r> {
    ToolCallDelta {
        index: index as u32,
        id: Some(id),
        kind: Some("function"),
        function: FunctionDelta {
            name: Some(name),
            arguments: "",
        },
    }
}

/// A later delta of a streamed tool call: a piece of its arguments.
fn fragment(index: usize, piece: &str) -> ToolCallDelta<'_> {
    ToolCallDelta {
        index: index as u32,
        id: None,
        kind: None,
        function: FunctionDelta {
            name: None,
            arguments: piece,
        },
    }
}

fn calls(tool_calls: Vec<ToolCallDelta<'_>>) -> Delta<'_> {
    Delta {
        tool_calls: Some(tool_calls),
        ..Delta::default()
    }
}

fn tools<'r, 'a>(reply: &'r Reply<'a>) -> impl Iterator<Item = &'r crate::mock::plan::ToolCall<'a>> {
    reply.tool.iter().chain(&reply.more_tools)
}

/// One `call_…` id per tool call; the first is the one a single call always had.
fn call_ids(reply: &Reply<'_>, seed: u64) -> Vec<String> {
    tools(reply)
        .enumerate()
        .map(|(n, _)| ids::openai_call_id(ids::nth(seed, n)))
        .collect()
}

/// The SSE events of a streamed completion, text and reasoning each split into `chunks` deltas; with
/// `include_usage`, a final `choices: []` chunk carrying usage before `[DONE]`.
pub(crate) fn completion_events(
    reply: &Reply<'_>,
    model: &str,
    seed: u64,
    chunks: usize,
    include_usage: bool,
    tool_stream: ToolStream,
) -> Vec<Bytes> {
    let id = ids::openai_completion_id(seed);
    let call_ids = call_ids(reply, seed);
    let created = ids::created(seed);
    let usage = usage(reply, model);
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
    match tool_stream {
        ToolStream::Sequential => {
            for (index, tool) in tools(reply).enumerate() {
                emit(&mut w, calls(vec![header(index, &call_ids[index], tool.name)]), None);
                for piece in split_even(&tool.arguments, chunks) {
                    emit(&mut w, calls(vec![fragment(index, piece)]), None);
                }
            }
        }
        ToolStream::Interleaved => {
            let headers: Vec<ToolCallDelta<'_>> = tools(reply)
                .enumerate()
                .map(|(index, tool)| header(index, &call_ids[index], tool.name))
                .collect();
            if !headers.is_empty() {
                emit(&mut w, calls(headers), None);
            }
            let mut pieces: Vec<std::vec::IntoIter<&str>> = tools(reply)
                .map(|tool| split_even(&tool.arguments, chunks).into_iter())
                .collect();
            while pieces.iter().any(|p| p.len() > 0) {
                for (index, rest) in pieces.iter_mut().enumerate() {
                    if let Some(piece) = rest.next() {
                        emit(&mut w, calls(vec![fragment(index, piece)]), None);
                    }
                }
            }
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
            more_tools: Vec::new(),
            cache: Default::default(),
            stop: if tool { Stop::ToolUse } else { Stop::EndTurn },
            input_tokens: 10,
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
        let events = completion_events(&reply(true, true), "m", 1, 2, true, ToolStream::Sequential);
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
        let plain = completion_events(&reply(false, false), "m", 1, 8, false, ToolStream::Interleaved);
        assert!(plain.iter().all(|e| !String::from_utf8_lossy(e).contains("usage")));
        assert_eq!(plain.len(), 1 + 6 + 1 + 1);
    }

    #[test]
    fn parallel_calls_stream_one_after_the_other_or_interleaved() {
        let mut two = reply(false, true);
        two.more_tools.push(PlannedCall {
            name: "Read",
            input: json!({"file_path": "/a"}),
            arguments: r#"{"file_path":"/a"}"#.to_owned(),
        });
        let tool_deltas = |order| -> Vec<Value> {
            completion_events(&two, "m", 1, 2, false, order)
                .iter()
                .filter_map(|e| {
                    serde_json::from_str::<Value>(
                        std::str::from_utf8(e)
                            .unwrap_or("")
                            .trim_start_matches("data: ")
                            .trim_end(),
                    )
                    .ok()
                })
                .filter_map(|c| c["choices"][0]["delta"].get("tool_calls").cloned())
                .collect()
        };
        let (first, second) = (ids::openai_call_id(1), ids::openai_call_id(ids::nth(1, 1)));
        assert_ne!(first, second);
        let header = |index: u32, id: &str, name: &str| json!({"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}});
        let piece = |index: u32, text: &str| json!({"index": index, "function": {"arguments": text}});
        assert_eq!(
            tool_deltas(ToolStream::Sequential),
            [
                json!([header(0, &first, "get_weather")]),
                json!([piece(0, "{\"city\"")]),
                json!([piece(0, ":\"mock\"}")]),
                json!([header(1, &second, "Read")]),
                json!([piece(1, "{\"file_pa")]),
                json!([piece(1, "th\":\"/a\"}")])
            ]
        );
        assert_eq!(
            tool_deltas(ToolStream::Interleaved),
            [
                json!([header(0, &first, "get_weather"), header(1, &second, "Read")]),
                json!([piece(0, "{\"city\"")]),
                json!([piece(1, "{\"file_pa")]),
                json!([piece(0, ":\"mock\"}")]),
                json!([piece(1, "th\":\"/a\"}")])
            ]
        );
        let whole: Value = serde_json::from_slice(&completion_json(&two, "m", 1)).unwrap_or_default();
        assert_eq!(whole["choices"][0]["message"]["tool_calls"][1]["id"], json!(second));
        assert_eq!("interleaved".parse::<ToolStream>(), Ok(ToolStream::Interleaved));
        assert!("zigzag".parse::<ToolStream>().is_err());
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
