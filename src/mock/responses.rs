//! The OpenAI Responses API wire format (`POST /v1/responses`): typed serde structs in the real API's field
//! order, and the renderers that turn a planned [`Reply`] into a Response object or its typed SSE event
//! sequence — `response.created`, `response.in_progress`, per output item `response.output_item.added`, its
//! parts and deltas (`reasoning_summary_*`, `content_part.*`, `output_text.*`, `function_call_arguments.*`),
//! `response.output_item.done`, then `response.completed` (or `response.incomplete` when `max_output_tokens`
//! cut it) with usage — every event numbered by `sequence_number`.
//!
//! The Response object repeats the request's settings (`instructions`, `tools`, `tool_choice`, `reasoning`,
//! `text`, …) with the API's defaults for absent ones, as the real API does. A reasoning item comes first when
//! reasoning was asked for, with a `summary_text` when `reasoning.summary` was set and an opaque
//! `encrypted_content` when `include` asked for it; then the message (`I'll use <tool>.` before a call); then
//! one function call item per tool call, parallel calls included (`fc_…` item id, `call_…` call id each).

use std::sync::OnceLock;

use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Value};

use crate::mock::ids;
use crate::mock::plan::{split_even, Reply, Stop};
use crate::mock::responses_request::ResponsesAsk;
use crate::mock::wire::{json_vec, SseWriter};

#[derive(Serialize)]
struct Response<'a> {
    id: &'a str,
    object: &'static str,
    created_at: u64,
    status: &'static str,
    background: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<u64>,
    error: Option<()>,
    incomplete_details: Option<Incomplete>,
    instructions: &'a Value,
    max_output_tokens: &'a Value,
    max_tool_calls: &'a Value,
    model: &'a str,
    output: &'a [Item<'a>],
    parallel_tool_calls: &'a Value,
    previous_response_id: Option<()>,
    prompt_cache_key: &'a Value,
    reasoning: Reasoning<'a>,
    safety_identifier: &'a Value,
    service_tier: &'static str,
    store: &'a Value,
    temperature: &'a Value,
    text: &'a Value,
    tool_choice: &'a Value,
    tools: &'a Value,
    top_logprobs: &'a Value,
    top_p: &'a Value,
    truncation: &'a Value,
    usage: Option<&'a Usage>,
    user: &'a Value,
    metadata: &'a Value,
}

#[derive(Serialize)]
struct Incomplete {
    reason: &'static str,
}

#[derive(Serialize)]
struct Reasoning<'a> {
    effort: &'a Value,
    summary: &'a Value,
}

#[derive(Serialize)]
struct Usage {
    input_tokens: u64,
    input_tokens_details: InputDetails,
    output_tokens: u64,
    output_tokens_details: OutputDetails,
    total_tokens: u64,
}

#[derive(Serialize)]
struct InputDetails {
    cached_tokens: u64,
    cache_write_tokens: u64,
}

#[derive(Serialize)]
struct OutputDetails {
    reasoning_tokens: u64,
}

#[derive(Serialize, Clone)]
#[serde(untagged)]
enum Item<'a> {
    Reasoning(ReasoningItem<'a>),
    Message(MessageItem<'a>),
    FunctionCall(FunctionCallItem<'a>),
}

#[derive(Serialize, Clone)]
struct ReasoningItem<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    summary: Vec<SummaryText<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encrypted_content: Option<&'a str>,
}

#[derive(Serialize, Clone, Copy)]
struct SummaryText<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[derive(Serialize, Clone)]
struct MessageItem<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    status: &'static str,
    content: Vec<OutputText<'a>>,
    role: &'static str,
}

#[derive(Serialize, Clone, Copy)]
struct OutputText<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    annotations: [(); 0],
    logprobs: [(); 0],
    text: &'a str,
}

#[derive(Serialize, Clone)]
struct FunctionCallItem<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    status: &'static str,
    arguments: &'a str,
    call_id: &'a str,
    name: &'a str,
}

/// One SSE event: `type` and `sequence_number` first, then the event's own fields.
#[derive(Serialize)]
struct Event<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    sequence_number: u64,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct ResponseBody<'a> {
    response: &'a Response<'a>,
}

#[derive(Serialize)]
struct ItemBody<'a> {
    output_index: usize,
    item: &'a Item<'a>,
}

/// The fields of part, delta and done events, in the real API's order; absent ones are left out.
#[derive(Serialize, Default)]
struct Part<'a> {
    item_id: &'a str,
    output_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<PartValue<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logprobs: Option<[(); 0]>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum PartValue<'a> {
    Summary(SummaryText<'a>),
    Text(OutputText<'a>),
}

/// The API's defaults for settings a request left out.
struct Defaults {
    null: Value,
    parallel_tool_calls: Value,
    store: Value,
    one: Value,
    text: Value,
    tool_choice: Value,
    tools: Value,
    top_logprobs: Value,
    truncation: Value,
    metadata: Value,
}

fn defaults() -> &'static Defaults {
    static DEFAULTS: OnceLock<Defaults> = OnceLock::new();
    DEFAULTS.get_or_init(|| Defaults {
        null: Value::Null,
        parallel_tool_calls: json!(true),
        store: json!(true),
        one: json!(1.0),
        text: json!({"format": {"type": "text"}, "verbosity": "medium"}),
        tool_choice: json!("auto"),
        tools: json!([]),
        top_logprobs: json!(0),
        truncation: json!("disabled"),
        metadata: json!({}),
    })
}

/// Everything one reply is rendered from.
struct Render<'a> {
    request: &'a Value,
    model: &'a str,
    id: String,
    created_at: u64,
    usage: Usage,
    items: Vec<Item<'a>>,
    incomplete: bool,
}

struct Ids {
    reasoning: String,
    message: String,
    /// One `(fc_… item id, call_… call id)` per tool call, in order; the first pair is the one a single call
    /// always had.
    functions: Vec<(String, String)>,
    encrypted: String,
}

impl<'a> Render<'a> {
    fn response(
        &self,
        status: &'static str,
        output: &'a [Item<'a>],
        usage: Option<&'a Usage>,
    ) -> Response<'_> {
        let d = defaults();
        let field = |key: &str, default: &'a Value| -> &'a Value {
            self.request
                .get(key)
                .filter(|v| !v.is_null())
                .unwrap_or(default)
        };
        let reasoning = self.request.get("reasoning");
        let reasoning_field = |key: &str| reasoning.and_then(|r| r.get(key)).unwrap_or(&d.null);
        Response {
            id: &self.id,
            object: "response",
            created_at: self.created_at,
            status,
            background: false,
            completed_at: (status == "completed").then_some(self.created_at),
            error: None,
            incomplete_details: (status == "incomplete").then_some(Incomplete {
                reason: "max_output_tokens",
            }),
            instructions: field("instructions", &d.null),
            max_output_tokens: field("max_output_tokens", &d.null),
            max_tool_calls: field("max_tool_calls", &d.null),
            model: self.model,
            output,
            parallel_tool_calls: field("parallel_tool_calls", &d.parallel_tool_calls),
            previous_response_id: None,
            prompt_cache_key: field("prompt_cache_key", &d.null),
            reasoning: Reasoning {
                effort: reasoning_field("effort"),
                summary: reasoning_field("summary"),
            },
            safety_identifier: field("safety_identifier", &d.null),
            service_tier: "default",
            store: field("store", &d.store),
            temperature: field("temperature", &d.one),
            text: field("text", &d.text),
            tool_choice: field("tool_choice", &d.tool_choice),
            tools: field("tools", &d.tools),
            top_logprobs: field("top_logprobs", &d.top_logprobs),
            top_p: field("top_p", &d.one),
            truncation: field("truncation", &d.truncation),
            usage,
            user: field("user", &d.null),
            metadata: field("metadata", &d.metadata),
        }
    }
}

fn ids(reply: &Reply<'_>, seed: u64) -> Ids {
    Ids {
        reasoning: ids::responses_id("rs_", seed, 1),
        message: ids::responses_id("msg_", seed, 2),
        functions: tool_calls(reply)
            .enumerate()
            .map(|(n, _)| {
                let seed = ids::nth(seed, n);
                (ids::responses_id("fc_", seed, 3), ids::openai_call_id(seed))
            })
            .collect(),
        encrypted: ids::encrypted_reasoning(seed),
    }
}

/// The reply's tool calls in order: the first, then those made in parallel with it.
fn tool_calls<'r, 'a>(
    reply: &'r Reply<'a>,
) -> impl Iterator<Item = &'r crate::mock::plan::ToolCall<'a>> {
    reply.tool.iter().chain(&reply.more_tools)
}

fn items<'a>(reply: &'a Reply<'_>, ask: ResponsesAsk, ids: &'a Ids) -> Vec<Item<'a>> {
    let mut items = Vec::new();
    if let Some(thinking) = &reply.thinking {
        let summary = if ask.summary {
            vec![SummaryText {
                kind: "summary_text",
                text: thinking,
            }]
        } else {
            Vec::new()
        };
        items.push(Item::Reasoning(ReasoningItem {
            id: &ids.reasoning,
            kind: "reasoning",
            summary,
            encrypted_content: ask.encrypted_reasoning.then_some(ids.encrypted.as_str()),
        }));
    }
    if !reply.text.is_empty() {
        let status = if reply.stop == Stop::MaxTokens {
            "incomplete"
        } else {
            "completed"
        };
        items.push(Item::Message(MessageItem {
            id: &ids.message,
            kind: "message",
            status,
            content: vec![output_text(&reply.text)],
            role: "assistant",
        }));
    }
    for (tool, (id, call_id)) in tool_calls(reply).zip(&ids.functions) {
        items.push(Item::FunctionCall(FunctionCallItem {
            id,
            kind: "function_call",
            status: "completed",
            arguments: &tool.arguments,
            call_id,
            name: tool.name,
        }));
    }
    items
}

fn output_text(text: &str) -> OutputText<'_> {
    OutputText {
        kind: "output_text",
        annotations: [],
        logprobs: [],
        text,
    }
}

fn usage(reply: &Reply<'_>) -> Usage {
    Usage {
        input_tokens: reply.input_tokens,
        input_tokens_details: InputDetails {
            cached_tokens: reply.cache.read,
            cache_write_tokens: reply.cache.write(),
        },
        output_tokens: reply.output_tokens,
        output_tokens_details: OutputDetails {
            reasoning_tokens: reply.reasoning_tokens,
        },
        total_tokens: reply.input_tokens + reply.output_tokens,
    }
}

fn render<'a>(
    reply: &'a Reply<'_>,
    request: &'a Value,
    model: &'a str,
    seed: u64,
    ask: ResponsesAsk,
    ids: &'a Ids,
) -> Render<'a> {
    Render {
        request,
        model,
        id: ids::responses_id("resp_", seed, 0),
        created_at: ids::created(seed),
        usage: usage(reply),
        items: items(reply, ask, ids),
        incomplete: reply.stop == Stop::MaxTokens,
    }
}

/// The non-streaming Response object.
pub(crate) fn response_json(
    reply: &Reply<'_>,
    request: &Value,
    model: &str,
    seed: u64,
    ask: ResponsesAsk,
) -> Vec<u8> {
    let ids = ids(reply, seed);
    let r = render(reply, request, model, seed, ask, &ids);
    let status = if r.incomplete {
        "incomplete"
    } else {
        "completed"
    };
    json_vec(&r.response(status, &r.items, Some(&r.usage)))
}

/// The SSE events of a streamed Response, texts split into `chunks` deltas.
pub(crate) fn response_events(
    reply: &Reply<'_>,
    request: &Value,
    model: &str,
    seed: u64,
    ask: ResponsesAsk,
    chunks: usize,
) -> Vec<Bytes> {
    let ids = ids(reply, seed);
    let r = render(reply, request, model, seed, ask, &ids);
    let mut w = SseWriter::with_capacity(
        4096 + 2 * request.get("tools").map_or(0, |t| t.to_string().len()) + 300 * chunks * 3,
    );
    let mut sequence = 0u64;
    let mut emit = |w: &mut SseWriter, kind: &str, body: &dyn erased::Body| {
        body.write(w, kind, sequence);
        sequence += 1;
    };
    let start = r.response("in_progress", &[], None);
    emit(
        &mut w,
        "response.created",
        &ResponseBody { response: &start },
    );
    emit(
        &mut w,
        "response.in_progress",
        &ResponseBody { response: &start },
    );
    for (index, item) in r.items.iter().enumerate() {
        match item {
            Item::Reasoning(reasoning) => {
                let added = Item::Reasoning(ReasoningItem {
                    summary: Vec::new(),
                    encrypted_content: None,
                    ..reasoning.clone()
                });
                emit(
                    &mut w,
                    "response.output_item.added",
                    &ItemBody {
                        output_index: index,
                        item: &added,
                    },
                );
                if let Some(summary) = reasoning.summary.first() {
                    let id = reasoning.id;
                    let empty = SummaryText {
                        text: "",
                        ..*summary
                    };
                    emit(
                        &mut w,
                        "response.reasoning_summary_part.added",
                        &Part {
                            output_index: index,
                            item_id: id,
                            summary_index: Some(0),
                            part: Some(PartValue::Summary(empty)),
                            ..Part::default()
                        },
                    );
                    for delta in split_even(summary.text, chunks) {
                        emit(
                            &mut w,
                            "response.reasoning_summary_text.delta",
                            &Part {
                                output_index: index,
                                item_id: id,
                                summary_index: Some(0),
                                delta: Some(delta),
                                ..Part::default()
                            },
                        );
                    }
                    emit(
                        &mut w,
                        "response.reasoning_summary_text.done",
                        &Part {
                            output_index: index,
                            item_id: id,
                            summary_index: Some(0),
                            text: Some(summary.text),
                            ..Part::default()
                        },
                    );
                    emit(
                        &mut w,
                        "response.reasoning_summary_part.done",
                        &Part {
                            output_index: index,
                            item_id: id,
                            summary_index: Some(0),
                            part: Some(PartValue::Summary(*summary)),
                            ..Part::default()
                        },
                    );
                }
            }
            Item::Message(message) => {
                let added = Item::Message(MessageItem {
                    status: "in_progress",
                    content: Vec::new(),
                    ..message.clone()
                });
                emit(
                    &mut w,
                    "response.output_item.added",
                    &ItemBody {
                        output_index: index,
                        item: &added,
                    },
                );
                for (content_index, text) in message.content.iter().enumerate() {
                    let id = message.id;
                    emit(
                        &mut w,
                        "response.content_part.added",
                        &Part {
                            output_index: index,
                            content_index: Some(content_index),
                            item_id: id,
                            part: Some(PartValue::Text(output_text(""))),
                            ..Part::default()
                        },
                    );
                    for delta in split_even(text.text, chunks) {
                        emit(
                            &mut w,
                            "response.output_text.delta",
                            &Part {
                                output_index: index,
                                content_index: Some(content_index),
                                item_id: id,
                                delta: Some(delta),
                                logprobs: Some([]),
                                ..Part::default()
                            },
                        );
                    }
                    emit(
                        &mut w,
                        "response.output_text.done",
                        &Part {
                            output_index: index,
                            content_index: Some(content_index),
                            item_id: id,
                            text: Some(text.text),
                            logprobs: Some([]),
                            ..Part::default()
                        },
                    );
                    emit(
                        &mut w,
                        "response.content_part.done",
                        &Part {
                            output_index: index,
                            content_index: Some(content_index),
                            item_id: id,
                            part: Some(PartValue::Text(*text)),
                            ..Part::default()
                        },
                    );
                }
            }
            Item::FunctionCall(call) => {
                let added = Item::FunctionCall(FunctionCallItem {
                    status: "in_progress",
                    arguments: "",
                    ..call.clone()
                });
                emit(
                    &mut w,
                    "response.output_item.added",
                    &ItemBody {
                        output_index: index,
                        item: &added,
                    },
                );
                for delta in split_even(call.arguments, chunks) {
                    emit(
                        &mut w,
                        "response.function_call_arguments.delta",
                        &Part {
                            output_index: index,
                            item_id: call.id,
                            delta: Some(delta),
                            ..Part::default()
                        },
                    );
                }
                emit(
                    &mut w,
                    "response.function_call_arguments.done",
                    &Part {
                        output_index: index,
                        item_id: call.id,
                        arguments: Some(call.arguments),
                        ..Part::default()
                    },
                );
            }
        }
        emit(
            &mut w,
            "response.output_item.done",
            &ItemBody {
                output_index: index,
                item,
            },
        );
    }
    let (status, last) = if r.incomplete {
        ("incomplete", "response.incomplete")
    } else {
        ("completed", "response.completed")
    };
    let end = r.response(status, &r.items, Some(&r.usage));
    emit(&mut w, last, &ResponseBody { response: &end });
    w.finish()
}

/// Event bodies of different types behind one `dyn`, so a single closure numbers them all.
mod erased {
    use super::{Event, SseWriter};
    use serde::Serialize;

    pub(super) trait Body {
        fn write(&self, w: &mut SseWriter, kind: &str, sequence_number: u64);
    }

    impl<T: Serialize> Body for T {
        fn write(&self, w: &mut SseWriter, kind: &str, sequence_number: u64) {
            w.event(
                Some(kind),
                &Event {
                    kind,
                    sequence_number,
                    body: self,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::plan::ToolCall;

    fn reply(thinking: bool, tool: bool) -> Reply<'static> {
        Reply {
            thinking: thinking.then(|| "Mock reasoning".to_owned()),
            text: "I'll use exec_command.".to_owned(),
            tool: tool.then(|| ToolCall {
                name: "exec_command",
                input: json!({"cmd": "echo hi"}),
                arguments: r#"{"cmd":"echo hi"}"#.to_owned(),
            }),
            more_tools: Vec::new(),
            stop: if tool { Stop::ToolUse } else { Stop::EndTurn },
            input_tokens: 10,
            cache: Default::default(),
            output_tokens: 7,
            reasoning_tokens: if thinking { 2 } else { 0 },
        }
    }

    #[test]
    fn json_has_the_real_field_order_and_echoes_the_request() {
        let request = json!({"model": "gpt-5-codex", "instructions": "be brief", "store": false});
        let body = String::from_utf8(response_json(
            &reply(false, false),
            &request,
            "gpt-5-codex",
            3,
            ResponsesAsk::default(),
        ))
        .unwrap_or_default();
        let id = ids::responses_id("resp_", 3, 0);
        assert!(body.starts_with(&format!(r#"{{"id":"{id}","object":"response","created_at":{},"status":"completed","background":false,"completed_at":"#, ids::created(3))), "{body}");
        assert!(body.contains(r#""instructions":"be brief","max_output_tokens":null,"max_tool_calls":null,"model":"gpt-5-codex","output":[{"id":"msg_"#), "{body}");
        assert!(body.contains(r#""content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"I'll use exec_command."}],"role":"assistant"}]"#), "{body}");
        assert!(body.contains(r#""store":false,"temperature":1.0,"text":{"format":{"type":"text"},"verbosity":"medium"},"tool_choice":"auto","tools":[]"#), "{body}");
        assert!(body.ends_with(r#""usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":0,"cache_write_tokens":0},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":17},"user":null,"metadata":{}}"#), "{body}");
        assert_eq!(id.len(), 5 + 50);
    }

    #[test]
    fn stream_is_the_full_typed_sequence() {
        let request = json!({"model": "m", "reasoning": {"summary": "auto"}, "include": ["reasoning.encrypted_content"]});
        let ask = ResponsesAsk {
            summary: true,
            encrypted_reasoning: true,
        };
        let events = response_events(&reply(true, true), &request, "m", 5, ask, 2);
        let parsed: Vec<(String, Value)> = events
            .iter()
            .map(|e| {
                let text = std::str::from_utf8(e).unwrap_or_default();
                let (head, data) = text.split_once("\ndata: ").unwrap_or_default();
                (
                    head.trim_start_matches("event: ").to_owned(),
                    serde_json::from_str(data.trim_end()).unwrap_or_default(),
                )
            })
            .collect();
        let kinds: Vec<&str> = parsed.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.reasoning_summary_part.added",
                "response.reasoning_summary_text.delta",
                "response.reasoning_summary_text.delta",
                "response.reasoning_summary_text.done",
                "response.reasoning_summary_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        for (n, (kind, data)) in parsed.iter().enumerate() {
            assert_eq!(
                (data["type"].as_str(), data["sequence_number"].as_u64()),
                (Some(kind.as_str()), Some(n as u64))
            );
        }
        assert!(std::str::from_utf8(&events[0])
            .unwrap_or_default()
            .starts_with(
                r#"event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_"#
            ));
        assert_eq!(
            parsed[8].1["item"]["encrypted_content"]
                .as_str()
                .map(|e| e.starts_with("gAAAAA")),
            Some(true)
        );
        assert_eq!(
            parsed[16].1["item"],
            json!({"id": ids::responses_id("fc_", 5, 3), "type": "function_call", "status": "in_progress", "arguments": "", "call_id": ids::openai_call_id(5), "name": "exec_command"})
        );
        assert_eq!(parsed[19].1["arguments"], json!(r#"{"cmd":"echo hi"}"#));
        let done = &parsed[21].1["response"];
        assert_eq!(
            (
                done["status"].as_str(),
                done["output"].as_array().map(Vec::len)
            ),
            (Some("completed"), Some(3))
        );
        assert_eq!(
            done["usage"]["output_tokens_details"]["reasoning_tokens"],
            json!(2)
        );
    }

    #[test]
    fn parallel_calls_are_one_function_call_item_each() {
        let mut two = reply(false, true);
        two.more_tools.push(ToolCall {
            name: "exec_command",
            input: json!({"cmd": "echo two"}),
            arguments: r#"{"cmd":"echo two"}"#.to_owned(),
        });
        two.cache = crate::mock::cache::CacheUse {
            read: 1024,
            ..Default::default()
        };
        let request = json!({"model": "m"});
        let body: Value = serde_json::from_slice(&response_json(
            &two,
            &request,
            "m",
            9,
            ResponsesAsk::default(),
        ))
        .unwrap_or_default();
        let calls: Vec<(&str, &str, &str)> = body["output"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["type"] == "function_call")
            .map(|i| {
                (
                    i["id"].as_str().unwrap_or(""),
                    i["call_id"].as_str().unwrap_or(""),
                    i["arguments"].as_str().unwrap_or(""),
                )
            })
            .collect();
        let first = (ids::responses_id("fc_", 9, 3), ids::openai_call_id(9));
        let second = (
            ids::responses_id("fc_", ids::nth(9, 1), 3),
            ids::openai_call_id(ids::nth(9, 1)),
        );
        assert_eq!(
            calls,
            [
                (first.0.as_str(), first.1.as_str(), r#"{"cmd":"echo hi"}"#),
                (
                    second.0.as_str(),
                    second.1.as_str(),
                    r#"{"cmd":"echo two"}"#
                )
            ],
            "the first call keeps the ids a single call always had"
        );
        assert_eq!(
            body["usage"]["input_tokens_details"]["cached_tokens"],
            json!(1024)
        );
        let events = response_events(&two, &request, "m", 9, ResponsesAsk::default(), 1);
        let done: Vec<Value> = events
            .iter()
            .filter_map(|e| {
                std::str::from_utf8(e)
                    .ok()?
                    .strip_prefix("event: response.output_item.done\ndata: ")
                    .map(str::to_owned)
            })
            .filter_map(|d| serde_json::from_str(d.trim_end()).ok())
            .collect();
        let indexes: Vec<(u64, &str)> = done
            .iter()
            .map(|d| {
                (
                    d["output_index"].as_u64().unwrap_or(99),
                    d["item"]["type"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            indexes,
            [(0, "message"), (1, "function_call"), (2, "function_call")]
        );
    }

    #[test]
    fn max_tokens_ends_incomplete() {
        let mut cut = reply(false, false);
        cut.stop = Stop::MaxTokens;
        let events = response_events(&cut, &json!({}), "m", 1, ResponsesAsk::default(), 1);
        let last = String::from_utf8_lossy(events.last().map_or(&[][..], |e| &e[..])).into_owned();
        assert!(last.starts_with("event: response.incomplete\n"), "{last}");
        assert!(
            last.contains(r#""status":"incomplete""#)
                && last.contains(r#""incomplete_details":{"reason":"max_output_tokens"}"#),
            "{last}"
        );
    }
}
