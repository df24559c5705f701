//! Anthropic Messages SSE → OpenAI Chat Completions SSE, as an incremental state machine.
//!
//! ```text
//!  message_start        ─▶ chunk {delta: {role: assistant, content: ""}}
//!  content_block_start  ─▶ tool_use: chunk {tool_calls: [{index: n, id, function: {name, arguments: ""}}]}
//!  text_delta           ─▶ chunk {content}
//!  thinking_delta       ─▶ chunk {reasoning_content}
//!  input_json_delta     ─▶ chunk {tool_calls: [{index: n, function: {arguments}}]}
//!  message_delta        ─▶ remember stop_reason and usage
//!  message_stop         ─▶ chunk {finish_reason}, [usage chunk if include_usage], data: [DONE]
//!  error                ─▶ data: {"error": {...}} and the stream ends (no [DONE])
//!  EOF before message_stop ─▶ error chunk (never a silent cut)
//! ```
//!
//! Tool calls are numbered 0, 1, … in the order their blocks start, whatever their Anthropic block index.

use serde_json::{json, Value};

use super::ToOpenAiResponseOptions;
use crate::translate::ids::{derive, openai_completion_id};
use crate::translate::sse::{write_data, write_done, SseEvent, SseParser};
use crate::translate::stop::openai_finish_reason;
use crate::translate::stream::{StreamFailure, StreamTranslator};
use crate::translate::usage::TokenUsage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Streaming,
    Done,
}

/// Translates one Anthropic SSE response into OpenAI `chat.completion.chunk` events.
#[derive(Debug)]
pub struct AnthropicToOpenAiStream {
    opts: ToOpenAiResponseOptions,
    parser: SseParser,
    phase: Phase,
    id: String,
    /// (Anthropic block index, OpenAI tool-call index)
    tool_blocks: Vec<(u64, usize)>,
    stop_reason: Option<String>,
    usage: TokenUsage,
    /// `message_delta` carried the final counts (before it, `output_tokens` is a placeholder).
    final_usage: bool,
    streamed_chars: u64,
}

impl AnthropicToOpenAiStream {
    pub fn new(opts: ToOpenAiResponseOptions) -> Self {
        AnthropicToOpenAiStream {
            opts,
            parser: SseParser::new(),
            phase: Phase::Waiting,
            id: String::new(),
            tool_blocks: Vec::new(),
            stop_reason: None,
            usage: TokenUsage::default(),
            final_usage: false,
            streamed_chars: 0,
        }
    }

    fn on_event(&mut self, ev: SseEvent, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        let data = ev.data.trim();
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            if !data.is_empty() {
                log::warn!("skipping a non-JSON upstream SSE data line");
            }
            return;
        };
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or("");
        match kind {
            "message_start" => {
                self.start(&v, data, out);
                if let Some(u) = v.pointer("/message/usage").filter(|u| u.is_object()) {
                    self.usage.merge_anthropic(u);
                }
            }
            "content_block_start" => {
                self.start(&v, data, out);
                let block = v.get("content_block").unwrap_or(&Value::Null);
                let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                match block.get("type").and_then(Value::as_str) {
                    Some("tool_use") => {
                        let n = self.tool_blocks.len();
                        self.tool_blocks.push((index, n));
                        let call = json!({
                            "index": n,
                            "id": block.get("id").and_then(Value::as_str).unwrap_or(""),
                            "type": "function",
                            "function": { "name": block.get("name").and_then(Value::as_str).unwrap_or(""), "arguments": "" },
                        });
                        self.chunk(json!({ "tool_calls": [call] }), None, out);
                    }
                    Some("text") => self.text(block.get("text"), "content", out),
                    Some("thinking") => self.text(block.get("thinking"), "reasoning_content", out),
                    _ => {}
                }
            }
            "content_block_delta" => {
                self.start(&v, data, out);
                let delta = v.get("delta").unwrap_or(&Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => self.text(delta.get("text"), "content", out),
                    Some("thinking_delta") => {
                        self.text(delta.get("thinking"), "reasoning_content", out)
                    }
                    Some("input_json_delta") => {
                        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                        let args = delta
                            .get("partial_json")
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        if let Some(&(_, n)) = self.tool_blocks.iter().find(|(b, _)| *b == index) {
                            if !args.is_empty() {
                                self.streamed_chars =
                                    self.streamed_chars.saturating_add(args.len() as u64);
                                self.chunk(json!({ "tool_calls": [{ "index": n, "function": { "arguments": args } }] }), None, out);
                            }
                        }
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(r) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop_reason = Some(r.to_owned());
                }
                if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
                    self.usage.merge_anthropic(u);
                    self.final_usage = true;
                }
            }
            "message_stop" => self.end(data, out),
            "error" => {
                let kind = v
                    .pointer("/error/type")
                    .and_then(Value::as_str)
                    .unwrap_or("api_error")
                    .to_owned();
                let message = v
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("upstream error")
                    .to_owned();
                self.emit_error(&kind, &format!("upstream error mid-stream: {message}"), out);
            }
            _ => {}
        }
    }

    fn start(&mut self, v: &Value, data: &str, out: &mut Vec<u8>) {
        if self.phase != Phase::Waiting {
            return;
        }
        self.phase = Phase::Streaming;
        self.id = match v
            .pointer("/message/id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(id) => openai_completion_id(id),
            None => derive("chatcmpl-", data.as_bytes()),
        };
        self.chunk(json!({ "role": "assistant", "content": "" }), None, out);
    }

    fn text(&mut self, t: Option<&Value>, field: &str, out: &mut Vec<u8>) {
        if let Some(t) = t.and_then(Value::as_str).filter(|t| !t.is_empty()) {
            self.streamed_chars = self.streamed_chars.saturating_add(t.len() as u64);
            self.chunk(json!({ field: t }), None, out);
        }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>, out: &mut Vec<u8>) {
        let c = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.opts.created,
            "model": self.opts.client_model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish, "logprobs": null }],
        });
        write_data(out, &c);
    }

    fn end(&mut self, data: &str, out: &mut Vec<u8>) {
        self.start(&Value::Null, data, out);
        let finish = openai_finish_reason(self.stop_reason.as_deref());
        self.chunk(json!({}), Some(finish), out);
        if self.opts.include_usage {
            let c = json!({
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.opts.created,
                "model": self.opts.client_model,
                "choices": [],
                "usage": self.usage().to_openai_json(),
            });
            write_data(out, &c);
        }
        write_done(out);
        self.phase = Phase::Done;
    }

    fn emit_error(&mut self, kind: &str, message: &str, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        write_data(
            out,
            &json!({ "error": { "message": message, "type": kind, "param": null, "code": null } }),
        );
        self.phase = Phase::Done;
    }
}

impl StreamTranslator for AnthropicToOpenAiStream {
    fn feed_into(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        let mut events = Vec::new();
        self.parser.feed(chunk, &mut events);
        for ev in events {
            self.on_event(ev, out);
        }
    }

    fn finish_into(&mut self, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        let mut events = Vec::new();
        self.parser.finish(&mut events);
        for ev in events {
            self.on_event(ev, out);
        }
        let msg = "the upstream Claude stream ended before message_stop; retry the request";
        self.emit_error("server_error", msg, out);
    }

    fn fail_into(&mut self, kind: StreamFailure, message: &str, out: &mut Vec<u8>) {
        self.emit_error(kind.openai_type(), message, out);
    }

    fn usage(&self) -> TokenUsage {
        if self.final_usage {
            return self.usage;
        }
        let estimate = self
            .streamed_chars
            .div_ceil(4)
            .max(self.usage.output_tokens);
        TokenUsage {
            output_tokens: estimate,
            reported: false,
            ..self.usage
        }
    }

    fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }
}
