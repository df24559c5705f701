//! OpenAI Chat Completions SSE → Anthropic Messages SSE, as an incremental state machine.
//!
//! ```text
//!  upstream chunk ─▶ SseParser ─▶ data JSON ─▶ on_chunk ─┬─ first chunk ─▶ message_start, ping
//!                                                         ├─ reasoning    ─▶ thinking block  (thinking_delta)
//!                                                         ├─ content      ─▶ text block      (text_delta)
//!                                                         ├─ tool_calls[] ─▶ tool_calls::ToolCalls ─▶ tool_use blocks in index order
//!                                                         ├─ finish_reason ─▶ close the open block, remember why
//!                                                         ├─ usage        ─▶ remember
//!                                                         └─ {"error":…}  ─▶ error event, done
//!  data: [DONE] (or EOF after a finish_reason) ─▶ message_delta(stop_reason, usage), message_stop
//!  EOF before any finish_reason ─▶ error event (never a silent cut)
//! ```
//!
//! A change of kind (thinking → text → tool) closes the open block and opens the next with the next `index`.
//! Tool calls go through [`ToolCalls`], which keeps each `tool_use` block whole however the server orders
//! the pieces of parallel calls: the current call streams live, fragments of later ones wait for their
//! turn (see `translate::tool_calls` for the rule). Thinking blocks get `signature: ""` in `content_block_start`
//! and no `signature_delta`: an OpenAI-compatible model has no Anthropic signature, and inventing one would
//! only be rejected later.

use serde_json::Value;

use super::events::{self, DeltaKind};
use super::response::{error_message, matched_stop};
use super::ToAnthropicOptions;
use crate::translate::chat_chunk::{Choice, ChunkData, ChunkOf, Delta, ToolPiece};
use crate::translate::ids::{anthropic_message_id, derive};
use crate::translate::loose;
use crate::translate::sse::{SseEvent, SseParser};
use crate::translate::stop::anthropic_stop_reason;
use crate::translate::stream::{StreamFailure, StreamTranslator};
use crate::translate::tool_calls::{Fragment, Route, Step, ToolCalls};
use crate::usage::TokenUsage;

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

/// Translates one OpenAI-compatible SSE response into the Anthropic event stream Claude Code expects.
#[derive(Debug)]
pub struct OpenAiToAnthropicStream {
    opts: ToAnthropicOptions,
    parser: SseParser,
    phase: Phase,
    message_id: String,
    next_block: usize,
    open: Option<Open>,
    tools: ToolCalls,
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
            tools: ToolCalls::new("toolu_"),
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
            self.settle_tools(true, out);
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
        for piece in delta.tool_pieces() {
            self.on_tool_piece(&piece, out);
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

    fn on_tool_piece(&mut self, piece: &ToolPiece<'_>, out: &mut Vec<u8>) {
        match self.tools.fragment(Fragment::streamed(piece)) {
            Route::Live(block) | Route::Late(block) => {
                self.delta(block, DeltaKind::InputJson, &piece.arguments, out)
            }
            Route::Held => {}
        }
        self.settle_tools(false, out);
    }

    /// Writes the tool blocks that are due: a block closes when the next call may begin; with `finishing`
    /// (the message ends, or text or thinking follows) every call still waiting is written, in order.
    fn settle_tools(&mut self, finishing: bool, out: &mut Vec<u8>) {
        while let Some(step) = self
            .tools
            .step(finishing, &self.message_id, &mut self.next_block)
        {
            match step {
                Step::Open {
                    block,
                    id,
                    name,
                    arguments,
                } => {
                    self.close_open(out);
                    events::tool_use_start(out, block, &id, &name);
                    self.open = Some(Open::Tool(block));
                    if !arguments.is_empty() {
                        self.delta(block, DeltaKind::InputJson, &arguments, out);
                    }
                }
                Step::Close { block } => {
                    events::block_stop(out, block);
                    self.open = None;
                }
            }
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
        if self.tools.unfinished() {
            self.settle_tools(true, out);
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
        self.settle_tools(true, out);
        self.close_open(out);
        let stop_reason = if self.refused {
            "refusal"
        } else {
            anthropic_stop_reason(
                self.finish_reason.as_deref(),
                self.tools.any(),
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
