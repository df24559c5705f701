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

use std::borrow::Cow;

use serde_json::Value;

use super::events::{self, DeltaKind};
use super::response::{error_message, matched_stop};
use super::ToAnthropicOptions;
use crate::translate::ids::{anthropic_message_id, derive, fallback_tool_id};
use crate::translate::chat_chunk::{ChunkData, ChunkOf, Choice, Delta, Function, ToolCall};
use crate::translate::loose::{self, Loose};
use crate::translate::sse::{SseEvent, SseParser};
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

    fn on_chunk(&mut self, data: &ChunkData<'_>, text: &str, out: &mut Vec<u8>) {
        let chunk = data.obj();
        if let Some(err) = chunk.and_then(|c| c.error.as_ref()) {
            let kind = upstream_error_type(err);
            let message = format!("upstream error mid-stream: {}", error_message(err));
            self.emit_error(kind, &message, out);
            return;
        }
        self.start(chunk.and_then(|c| c.id.text()), text, out);
        let Some(chunk) = chunk else { return };
        if let Some(u) = chunk.usage.obj() {
            self.usage = Some(u.token_usage());
        }
        let Some(choice) = chunk.choices.0.first() else {
            return;
        };
        if let Some(choice) = choice.obj() {
            self.on_choice(choice, out);
        }
    }

    fn on_choice(&mut self, choice: &Choice<'_>, out: &mut Vec<u8>) {
        if let Some(delta) = choice.delta.obj() {
            self.on_delta(delta, out);
        }
        let stop = choice.stop_reason.str().or(choice.matched_stop.str());
        if let Some(s) = matched_stop(stop, &self.opts.stop_sequences) {
            self.matched_stop = Some(s);
        }
        if let Some(reason) = choice.finish_reason.str() {
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

    fn on_delta(&mut self, delta: &Delta<'_>, out: &mut Vec<u8>) {
        if let Some(r) = delta.reasoning() {
            let block = self.ensure_open(Open::Thinking(0), out);
            self.delta(block, DeltaKind::Thinking, r, out);
        }
        if let Some(t) = delta.content.text() {
            let block = self.ensure_open(Open::Text(0), out);
            self.delta(block, DeltaKind::Text, t, out);
        }
        if let Some(t) = delta.refusal.text() {
            self.refused = true;
            let block = self.ensure_open(Open::Text(0), out);
            self.delta(block, DeltaKind::Text, t, out);
        }
        let absent = ToolCall::default();
        for call in &delta.tool_calls.0 {
            let call = call.obj().unwrap_or(&absent);
            self.on_tool_delta(call.id.text(), call.index.u64(), call.function.obj(), out);
        }
        if let Some(f) = delta.function_call.obj() {
            self.on_tool_delta(None, Some(u64::MAX), Some(f), out);
        }
    }

    /// Emits `message_start` and a `ping` before the first content. The message id derives from the
    /// upstream's, or else from the first event's text.
    fn start(&mut self, upstream_id: Option<&str>, text: &str, out: &mut Vec<u8>) {
        if self.phase != Phase::Waiting {
            return;
        }
        self.phase = Phase::Streaming;
        self.message_id = match upstream_id {
            Some(id) => anthropic_message_id(id),
            None => derive("msg_", text.as_bytes()),
        };
        let input = self.opts.input_tokens_estimate.unwrap_or(0);
        events::message_start(out, &self.message_id, &self.opts.client_model, input);
        events::ping(out);
    }

    fn on_tool_delta(
        &mut self,
        id: Option<&str>,
        index: Option<u64>,
        f: Option<&Function<'_>>,
        out: &mut Vec<u8>,
    ) {
        let key = match index {
            Some(k) => k,
            None => self.key_without_index(id),
        };
        let block = match self.tools.iter().find(|t| t.key == key) {
            Some(slot) => slot.block,
            None => {
                let name = f.and_then(|f| f.name.str()).unwrap_or("");
                self.open_tool(key, id, name, out)
            }
        };
        let args = match f.map(|f| &f.arguments) {
            Some(Loose::Str(s)) => Cow::Borrowed(s.as_ref()),
            Some(Loose::Obj(v)) => Cow::Owned(crate::translate::read::to_string(v)),
            _ => Cow::Borrowed(""),
        };
        if !args.is_empty() {
            self.delta(block, DeltaKind::InputJson, &args, out);
        }
    }

    /// Closes the open block and starts a `tool_use` block for a new call; returns its index.
    fn open_tool(&mut self, key: u64, id: Option<&str>, name: &str, out: &mut Vec<u8>) -> usize {
        self.close_open(out);
        let block = self.next_block;
        self.next_block += 1;
        let id = id
            .map(str::to_owned)
            .unwrap_or_else(|| fallback_tool_id("toolu_", &self.message_id, block));
        events::tool_use_start(out, block, &id, name);
        self.tools.push(ToolSlot { key, block, id });
        self.open = Some(Open::Tool(block));
        block
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
        let open = match kind {
            Open::Thinking(_) => {
                events::thinking_start(out, index);
                Open::Thinking(index)
            }
            _ => {
                events::text_start(out, index);
                Open::Text(index)
            }
        };
        self.open = Some(open);
        index
    }

    fn delta(&mut self, index: usize, kind: DeltaKind, text: &str, out: &mut Vec<u8>) {
        self.streamed_chars = self.streamed_chars.saturating_add(text.len() as u64);
        events::block_delta(out, index, kind, text);
    }

    fn close_open(&mut self, out: &mut Vec<u8>) {
        if let Some(open) = self.open.take() {
            let index = match open {
                Open::Thinking(i) | Open::Text(i) | Open::Tool(i) => i,
            };
            events::block_stop(out, index);
        }
    }

    /// Closes the message: `message_delta` with the stop reason and usage, then `message_stop`.
    fn end_message(&mut self, out: &mut Vec<u8>) {
        if self.phase == Phase::Waiting {
            self.start(None, "", out);
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
            self.matched_stop.as_deref()
        } else {
            None
        };
        events::message_end(out, stop_reason, stop_sequence, self.usage());
        self.phase = Phase::Done;
    }

    fn emit_error(&mut self, kind: &str, message: &str, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        events::error(out, kind, message);
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
    fn parser_mut(&mut self) -> &mut SseParser {
        &mut self.parser
    }

    fn on_event(&mut self, ev: SseEvent<'_>, out: &mut Vec<u8>) {
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
        let parsed = loose::parse::<ChunkOf, _>(data, |chunk| self.on_chunk(chunk, data, out));
        if let Err(e) = parsed {
            log::warn!("skipping a non-JSON upstream SSE data line: {e}");
        }
    }

    fn on_eof(&mut self, out: &mut Vec<u8>) {
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
