//! OpenAI Chat Completions SSE → Anthropic Messages SSE, as an incremental state machine.
//!
//! ```text
//!  upstream chunk ─▶ SseParser ─▶ data JSON ─▶ on_chunk ─┬─ first chunk ─▶ message_start, ping
//!                                                         ├─ reasoning    ─▶ thinking block  (thinking_delta)
//!                                                         ├─ content      ─▶ text block      (text_delta)
//!                                                         ├─ tool_calls[] ─▶ tool_use block per call index (input_json_delta)
//!                                                         ├─ finish_reason ─▶ close the open block, remember why
//!                                                         ├─ usage        ─▶ remember
//!                                                         └─ {"error":…}  ─▶ error event, done
//!  data: [DONE] (or EOF after a finish_reason) ─▶ message_delta(stop_reason, usage), message_stop
//!  EOF before any finish_reason ─▶ error event (never a silent cut)
//! ```
//!
//! A change of kind (thinking → text → tool) or a new tool-call index closes the open block and opens the
//! next with the next `index`. If a provider interleaves argument deltas of two calls, the late delta is
//! sent to the already-closed block's index; the Anthropic SDKs accumulate by index, so the input stays
//! whole. Thinking blocks get `signature: ""` in `content_block_start` and no `signature_delta`: an
//! OpenAI-compatible model has no Anthropic signature, and inventing one would only be rejected later.

use serde_json::{json, Value};

use super::response::{error_message, matched_stop_sequence, reasoning_text};
use super::ToAnthropicOptions;
use crate::translate::ids::{anthropic_message_id, derive, fallback_tool_id};
use crate::translate::sse::{write_named, SseEvent, SseParser};
use crate::translate::stop::anthropic_stop_reason;
use crate::translate::stream::{StreamFailure, StreamTranslator};
use crate::translate::usage::TokenUsage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Streaming,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Thinking(usize),
    Text(usize),
    Tool(usize),
}

#[derive(Debug)]
struct ToolSlot {
    /// The upstream's tool-call `index` (or a synthetic key when it sent none).
    key: u64,
    /// The Anthropic content-block index.
    block: usize,
    id: String,
}

/// Translates one OpenAI-compatible SSE response into the Anthropic event stream Claude Code expects.
#[derive(Debug)]
pub struct OpenAiToAnthropicStream {
    opts: ToAnthropicOptions,
    parser: SseParser,
    phase: Phase,
    message_id: String,
    next_block: usize,
    open: Option<Open>,
    tools: Vec<ToolSlot>,
    finish_reason: Option<String>,
    matched_stop: Option<String>,
    refused: bool,
    usage: Option<TokenUsage>,
    streamed_chars: u64,
}

impl OpenAiToAnthropicStream {
    pub fn new(opts: ToAnthropicOptions) -> Self {
        OpenAiToAnthropicStream {
            opts,
            parser: SseParser::new(),
            phase: Phase::Waiting,
            message_id: String::new(),
            next_block: 0,
            open: None,
            tools: Vec::new(),
            finish_reason: None,
            matched_stop: None,
            refused: false,
            usage: None,
            streamed_chars: 0,
        }
    }

    fn on_event(&mut self, ev: SseEvent, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        let data = ev.data.trim();
        if data.is_empty() {
            return;
        }
        if data == "[DONE]" {
            self.end_message(out);
            return;
        }
        let chunk: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => {
                log::warn!("skipping a non-JSON upstream SSE data line: {e}");
                return;
            }
        };
        if let Some(err) = chunk.get("error").filter(|e| !e.is_null()) {
            let kind = upstream_error_type(err);
            self.emit_error(
                kind,
                &format!("upstream error mid-stream: {}", error_message(err)),
                out,
            );
            return;
        }
        self.start(&chunk, data, out);
        if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(TokenUsage::from_openai(u));
        }
        let Some(choice) = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        else {
            return;
        };
        let empty = serde_json::Map::new();
        let delta = choice
            .get("delta")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        if let Some(r) = reasoning_text(delta) {
            let block = self.ensure_open(Open::Thinking(0), out);
            self.delta(
                block,
                json!({ "type": "thinking_delta", "thinking": r }),
                r.len(),
                out,
            );
        }
        if let Some(t) = delta
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            let block = self.ensure_open(Open::Text(0), out);
            self.delta(
                block,
                json!({ "type": "text_delta", "text": t }),
                t.len(),
                out,
            );
        }
        if let Some(t) = delta
            .get("refusal")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            self.refused = true;
            let block = self.ensure_open(Open::Text(0), out);
            self.delta(
                block,
                json!({ "type": "text_delta", "text": t }),
                t.len(),
                out,
            );
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for call in calls {
                self.on_tool_delta(call, out);
            }
        }
        if let Some(f) = delta.get("function_call").filter(|f| f.is_object()) {
            self.on_tool_delta(&json!({ "index": u64::MAX, "function": f }), out);
        }
        if let Some(c) = choice.as_object() {
            if let Some(s) = matched_stop_sequence(c, &self.opts.stop_sequences) {
                self.matched_stop = Some(s);
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            if reason == "error" {
                self.emit_error(
                    "api_error",
                    "upstream reported finish_reason \"error\"",
                    out,
                );
                return;
            }
            self.close_open(out);
            self.finish_reason = Some(reason.to_owned());
        }
    }

    /// Emits `message_start` and a `ping` before the first content.
    fn start(&mut self, chunk: &Value, data: &str, out: &mut Vec<u8>) {
        if self.phase != Phase::Waiting {
            return;
        }
        self.phase = Phase::Streaming;
        self.message_id = match chunk
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(id) => anthropic_message_id(id),
            None => derive("msg_", data.as_bytes()),
        };
        let input = self.opts.input_tokens_estimate.unwrap_or(0);
        let message = json!({
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.opts.client_model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": { "input_tokens": input, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0 },
        });
        write_named(
            out,
            "message_start",
            &json!({ "type": "message_start", "message": message }),
        );
        write_named(out, "ping", &json!({ "type": "ping" }));
    }

    fn on_tool_delta(&mut self, call: &Value, out: &mut Vec<u8>) {
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let key = match call.get("index").and_then(Value::as_u64) {
            Some(k) => k,
            None => self.key_without_index(id),
        };
        let f = call.get("function").unwrap_or(&Value::Null);
        let block = match self.tools.iter().find(|t| t.key == key) {
            Some(slot) => slot.block,
            None => {
                self.close_open(out);
                let block = self.next_block;
                self.next_block += 1;
                let tid = id
                    .map(str::to_owned)
                    .unwrap_or_else(|| fallback_tool_id("toolu_", &self.message_id, block));
                let name = f.get("name").and_then(Value::as_str).unwrap_or("");
                let start = json!({ "type": "tool_use", "id": tid, "name": name, "input": {} });
                write_named(
                    out,
                    "content_block_start",
                    &json!({ "type": "content_block_start", "index": block, "content_block": start }),
                );
                self.tools.push(ToolSlot {
                    key,
                    block,
                    id: tid,
                });
                self.open = Some(Open::Tool(block));
                block
            }
        };
        let args = match f.get("arguments") {
            Some(Value::String(s)) => s.clone(),
            Some(v @ Value::Object(_)) => crate::translate::read::to_string(v),
            _ => String::new(),
        };
        if !args.is_empty() {
            let n = args.len();
            self.delta(
                block,
                json!({ "type": "input_json_delta", "partial_json": args }),
                n,
                out,
            );
        }
    }

    /// Providers that omit `index`: a new id starts a new call, no id continues the open call.
    fn key_without_index(&self, id: Option<&str>) -> u64 {
        let synthetic = 1_000_000 + self.tools.len() as u64;
        match id {
            Some(id) => self
                .tools
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.key)
                .unwrap_or(synthetic),
            None => match self.open {
                Some(Open::Tool(b)) => self
                    .tools
                    .iter()
                    .find(|t| t.block == b)
                    .map(|t| t.key)
                    .unwrap_or(synthetic),
                _ => synthetic,
            },
        }
    }

    /// Makes a block of `kind` the open one and returns its index.
    fn ensure_open(&mut self, kind: Open, out: &mut Vec<u8>) -> usize {
        match (self.open, kind) {
            (Some(Open::Thinking(i)), Open::Thinking(_)) | (Some(Open::Text(i)), Open::Text(_)) => {
                return i
            }
            _ => {}
        }
        self.close_open(out);
        let index = self.next_block;
        self.next_block += 1;
        let (open, block) = match kind {
            Open::Thinking(_) => (
                Open::Thinking(index),
                json!({ "type": "thinking", "thinking": "", "signature": "" }),
            ),
            _ => (Open::Text(index), json!({ "type": "text", "text": "" })),
        };
        write_named(
            out,
            "content_block_start",
            &json!({ "type": "content_block_start", "index": index, "content_block": block }),
        );
        self.open = Some(open);
        index
    }

    fn delta(&mut self, index: usize, delta: Value, chars: usize, out: &mut Vec<u8>) {
        self.streamed_chars = self.streamed_chars.saturating_add(chars as u64);
        write_named(
            out,
            "content_block_delta",
            &json!({ "type": "content_block_delta", "index": index, "delta": delta }),
        );
    }

    fn close_open(&mut self, out: &mut Vec<u8>) {
        if let Some(open) = self.open.take() {
            let index = match open {
                Open::Thinking(i) | Open::Text(i) | Open::Tool(i) => i,
            };
            write_named(
                out,
                "content_block_stop",
                &json!({ "type": "content_block_stop", "index": index }),
            );
        }
    }

    /// Closes the message: `message_delta` with the stop reason and usage, then `message_stop`.
    fn end_message(&mut self, out: &mut Vec<u8>) {
        if self.phase == Phase::Waiting {
            self.start(&Value::Null, "", out);
        }
        self.close_open(out);
        let stop_reason = if self.refused {
            "refusal"
        } else {
            anthropic_stop_reason(
                self.finish_reason.as_deref(),
                !self.tools.is_empty(),
                self.matched_stop.is_some(),
            )
        };
        let stop_sequence = if stop_reason == "stop_sequence" {
            self.matched_stop.clone()
        } else {
            None
        };
        let u = self.usage();
        let mut usage = json!({ "output_tokens": u.output_tokens });
        if u.reported {
            usage["input_tokens"] = json!(u.input_tokens);
            usage["cache_read_input_tokens"] = json!(u.cache_read_input_tokens);
        }
        let delta = json!({ "type": "message_delta", "delta": { "stop_reason": stop_reason, "stop_sequence": stop_sequence }, "usage": usage });
        write_named(out, "message_delta", &delta);
        write_named(out, "message_stop", &json!({ "type": "message_stop" }));
        self.phase = Phase::Done;
    }

    fn emit_error(&mut self, kind: &str, message: &str, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        write_named(
            out,
            "error",
            &json!({ "type": "error", "error": { "type": kind, "message": message } }),
        );
        self.phase = Phase::Done;
    }
}

/// The Anthropic error type for an OpenAI-style error object seen mid-stream.
fn upstream_error_type(err: &Value) -> &'static str {
    let code = err.get("code").and_then(Value::as_u64).unwrap_or(0);
    let text = crate::translate::read::to_string(err).to_ascii_lowercase();
    if code == 429 || text.contains("rate limit") || text.contains("rate_limit") {
        "rate_limit_error"
    } else if code == 503 || code == 529 || text.contains("overloaded") {
        "overloaded_error"
    } else {
        "api_error"
    }
}

impl StreamTranslator for OpenAiToAnthropicStream {
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
        if self.phase == Phase::Done {
            return;
        }
        if self.finish_reason.is_some() {
            self.end_message(out);
        } else {
            let msg = "the upstream model stream ended before the response was complete; retry the request";
            self.emit_error("api_error", msg, out);
        }
    }

    fn fail_into(&mut self, kind: StreamFailure, message: &str, out: &mut Vec<u8>) {
        self.emit_error(kind.anthropic_type(), message, out);
    }

    fn usage(&self) -> TokenUsage {
        match self.usage {
            Some(u) => u,
            None => TokenUsage {
                input_tokens: self.opts.input_tokens_estimate.unwrap_or(0),
                output_tokens: self.streamed_chars.div_ceil(4),
                reported: false,
                ..TokenUsage::default()
            },
        }
    }

    fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }
}
