//! Chat Completions SSE → Responses API SSE, as an incremental state machine: the full typed event
//! sequence the OpenAI SDKs and Codex CLI parse, every event with its `sequence_number`.
//!
//! ```text
//!  first chunk        ─▶ response.created, response.in_progress
//!  reasoning delta    ─▶ reasoning item: output_item.added, (summary_part.added | content_part.added),
//!                        reasoning_summary_text.delta | reasoning_text.delta
//!  content delta      ─▶ message item: output_item.added, content_part.added, output_text.delta
//!  refusal delta      ─▶ message item: content_part.added (refusal), refusal.delta
//!  tool_calls[i]      ─▶ tool_calls::ToolCalls ─▶ function_call items, whole and in index order:
//!                        output_item.added, function_call_arguments.delta, ….done, output_item.done
//!  a change of kind   ─▶ the open reasoning/message item closes: …done events, output_item.done
//!  finish_reason, usage ─▶ remembered
//!  data: [DONE] (or EOF after a finish_reason) ─▶ open and waiting items close, then response.completed
//!                        — or response.incomplete for
//!                        `length` / `content_filter` — carrying the whole output and the usage
//!  {"error": …} chunk, EOF before a finish, gateway abort ─▶ response.failed (never a silent cut)
//! ```
//!
//! Parallel tool calls go through the same assembler as Chat → Anthropic ([`ToolCalls`]): one function-call
//! item after the other, in the server's `index` order, however it interleaves their pieces — the current
//! call streams live, fragments of later ones wait for their turn, a call opens only once its name is known,
//! and ids the server left out or repeated are generated (`call_…`).

use serde_json::Value;

use super::objects::{
    content_part, failure, function_call_item, item_id, message_item, reasoning_item, response_id,
    response_object, status_for, EventWriter, ResponsesUsage, Status, ToResponsesOptions,
};
use crate::translate::chat_chunk::{ChunkData, ChunkOf, ToolPiece};
use crate::translate::loose::{self, Loose};
use crate::translate::sse::{SseEvent, SseParser};
use crate::translate::stream::{StreamFailure, StreamTranslator};
use crate::translate::to_anthropic::response::error_message;
use crate::translate::tool_calls::{Fragment, Route, Step, ToolCalls};
use crate::usage::TokenUsage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Streaming,
    Done,
}

#[derive(Debug)]
enum Kind {
    Reasoning {
        text: String,
    },
    /// Content parts: (is a refusal, text).
    Message {
        parts: Vec<(bool, String)>,
    },
    Call {
        call_id: String,
        name: String,
        arguments: String,
    },
}

#[derive(Debug)]
struct Item {
    id: String,
    kind: Kind,
    done: bool,
}

/// Translates one Chat Completions SSE response into the Responses API event stream.
#[derive(Debug)]
pub struct ChatToResponsesStream {
    opts: ToResponsesOptions,
    parser: SseParser,
    phase: Phase,
    sequence: u64,
    response_id: String,
    items: Vec<Item>,
    /// The reasoning or message item deltas go to, if one is open.
    open: Option<usize>,
    /// Tool calls, assembled into whole items in index order.
    tools: ToolCalls,
    finish_reason: Option<String>,
    usage: Option<ResponsesUsage>,
    streamed_chars: u64,
}

impl ChatToResponsesStream {
    pub fn new(opts: ToResponsesOptions) -> Self {
        ChatToResponsesStream {
            opts,
            parser: SseParser::new(),
            phase: Phase::Waiting,
            sequence: 0,
            response_id: String::new(),
            items: Vec::new(),
            open: None,
            tools: ToolCalls::new("call_"),
            finish_reason: None,
            usage: None,
            streamed_chars: 0,
        }
    }

    fn event<'o>(&mut self, out: &'o mut Vec<u8>, kind: &str) -> EventWriter<'o> {
        let n = self.sequence;
        self.sequence += 1;
        EventWriter::begin(out, kind, n)
    }

    fn on_chunk(&mut self, data: &ChunkData<'_>, text: &str, out: &mut Vec<u8>) {
        let chunk = data.obj();
        if let Some(err) = chunk.and_then(|c| c.error.as_ref()) {
            let message = error_message(err);
            let code = if err.get("code").and_then(Value::as_u64) == Some(429)
                || err.get("type").and_then(Value::as_str) == Some("rate_limit_error")
            {
                "rate_limit_exceeded"
            } else {
                "server_error"
            };
            self.fail_with(code, &format!("upstream error mid-stream: {message}"), out);
            return;
        }
        self.start(chunk.and_then(|c| c.id.text()), text, out);
        let Some(chunk) = chunk else { return };
        if let Some(u) = chunk.usage.obj() {
            self.usage = Some(ResponsesUsage::from_tokens(u.token_usage()));
        }
        let Some(choice) = chunk.choices.0.first().and_then(Loose::obj) else {
            return;
        };
        if let Some(delta) = choice.delta.obj() {
            if let Some(r) = delta
                .reasoning_content
                .text()
                .or_else(|| delta.reasoning.text())
            {
                self.reasoning(r, out);
            }
            if let Some(t) = delta.content.text() {
                self.message_text(false, t, out);
            }
            if let Some(t) = delta.refusal.text() {
                self.message_text(true, t, out);
            }
            for piece in delta.tool_pieces() {
                self.tool_piece(&piece, out);
            }
        }
        if let Some(reason) = choice.finish_reason.str() {
            self.finish_reason = Some(reason.to_owned());
        }
    }

    /// The first event opens the response. Its id derives from the upstream completion id, or else from the
    /// first event's text.
    fn start(&mut self, upstream_id: Option<&str>, data: &str, out: &mut Vec<u8>) {
        if self.phase != Phase::Waiting {
            return;
        }
        self.phase = Phase::Streaming;
        self.response_id = response_id(upstream_id.unwrap_or(data).as_bytes());
        let response = response_object(
            &self.opts,
            &self.response_id,
            Status::InProgress,
            Vec::new(),
            None,
            None,
        );
        self.event(out, "response.created")
            .value("response", &response)
            .end();
        self.event(out, "response.in_progress")
            .value("response", &response)
            .end();
    }

    fn new_item(&mut self, prefix: &str, kind: Kind) -> usize {
        let n = self.items.len();
        self.items.push(Item {
            id: item_id(prefix, &self.response_id, n),
            kind,
            done: false,
        });
        n
    }

    fn reasoning(&mut self, delta: &str, out: &mut Vec<u8>) {
        self.streamed_chars = self.streamed_chars.saturating_add(delta.len() as u64);
        let n = match self
            .open
            .filter(|&n| matches!(self.items[n].kind, Kind::Reasoning { .. }))
        {
            Some(n) => n,
            None => {
                self.settle_tools(true, out);
                self.close_open(out);
                let n = self.new_item(
                    "rs_",
                    Kind::Reasoning {
                        text: String::new(),
                    },
                );
                let id = self.items[n].id.clone();
                let added = serde_json::json!({ "id": id, "type": "reasoning", "summary": [] });
                self.event(out, "response.output_item.added")
                    .num("output_index", n as u64)
                    .value("item", &added)
                    .end();
                if self.opts.shape.reasoning_as_summary {
                    self.event(out, "response.reasoning_summary_part.added")
                        .str("item_id", &id)
                        .num("output_index", n as u64)
                        .num("summary_index", 0)
                        .raw("part", br#"{"type":"summary_text","text":""}"#)
                        .end();
                } else {
                    self.event(out, "response.content_part.added")
                        .str("item_id", &id)
                        .num("output_index", n as u64)
                        .num("content_index", 0)
                        .raw("part", br#"{"type":"reasoning_text","text":""}"#)
                        .end();
                }
                self.open = Some(n);
                n
            }
        };
        if let Kind::Reasoning { text } = &mut self.items[n].kind {
            text.push_str(delta);
        }
        let id = self.items[n].id.clone();
        let (kind, index_key) = if self.opts.shape.reasoning_as_summary {
            ("response.reasoning_summary_text.delta", "summary_index")
        } else {
            ("response.reasoning_text.delta", "content_index")
        };
        self.event(out, kind)
            .str("item_id", &id)
            .num("output_index", n as u64)
            .num(index_key, 0)
            .str("delta", delta)
            .end();
    }

    fn message_text(&mut self, refusal: bool, delta: &str, out: &mut Vec<u8>) {
        self.streamed_chars = self.streamed_chars.saturating_add(delta.len() as u64);
        let n = match self
            .open
            .filter(|&n| matches!(self.items[n].kind, Kind::Message { .. }))
        {
            Some(n) => n,
            None => {
                self.settle_tools(true, out);
                self.close_open(out);
                let n = self.new_item("msg_", Kind::Message { parts: Vec::new() });
                let added = message_item(&self.items[n].id, "in_progress", Vec::new());
                self.event(out, "response.output_item.added")
                    .num("output_index", n as u64)
                    .value("item", &added)
                    .end();
                self.open = Some(n);
                n
            }
        };
        let id = self.items[n].id.clone();
        let Kind::Message { parts } = &mut self.items[n].kind else {
            return;
        };
        let same_part = parts.last().is_some_and(|(r, _)| *r == refusal);
        let closing = if same_part {
            None
        } else {
            parts.last().cloned().map(|p| (parts.len() - 1, p))
        };
        if !same_part {
            parts.push((refusal, String::new()));
        }
        let index = parts.len() - 1;
        parts[index].1.push_str(delta);
        if let Some((at, (was_refusal, text))) = closing {
            self.part_done(&id, n, at, was_refusal, &text, out);
        }
        if !same_part {
            self.event(out, "response.content_part.added")
                .str("item_id", &id)
                .num("output_index", n as u64)
                .num("content_index", index as u64)
                .value("part", &content_part(refusal, ""))
                .end();
        }
        let ev = self.event(
            out,
            if refusal {
                "response.refusal.delta"
            } else {
                "response.output_text.delta"
            },
        );
        let ev = ev
            .str("item_id", &id)
            .num("output_index", n as u64)
            .num("content_index", index as u64)
            .str("delta", delta);
        if refusal {
            ev
        } else {
            ev.raw("logprobs", b"[]")
        }
        .end();
    }

    fn part_done(
        &mut self,
        id: &str,
        n: usize,
        index: usize,
        refusal: bool,
        text: &str,
        out: &mut Vec<u8>,
    ) {
        let ev = self.event(
            out,
            if refusal {
                "response.refusal.done"
            } else {
                "response.output_text.done"
            },
        );
        let ev = ev
            .str("item_id", id)
            .num("output_index", n as u64)
            .num("content_index", index as u64);
        if refusal {
            ev.str("refusal", text)
        } else {
            ev.str("text", text).raw("logprobs", b"[]")
        }
        .end();
        self.event(out, "response.content_part.done")
            .str("item_id", id)
            .num("output_index", n as u64)
            .num("content_index", index as u64)
            .value("part", &content_part(refusal, text))
            .end();
    }

    /// One piece of a tool call: its arguments go to the call's item if that is open, else wait in
    /// [`ToolCalls`]; then whatever items are due open and close.
    fn tool_piece(&mut self, piece: &ToolPiece<'_>, out: &mut Vec<u8>) {
        self.close_open(out);
        let arguments = &piece.arguments;
        self.streamed_chars = self.streamed_chars.saturating_add(arguments.len() as u64);
        match self.tools.fragment(Fragment::streamed(piece)) {
            Route::Live(n) => {
                self.push_arguments(n, arguments);
                let id = self.items[n].id.clone();
                self.event(out, "response.function_call_arguments.delta")
                    .str("item_id", &id)
                    .num("output_index", n as u64)
                    .str("delta", arguments)
                    .end();
            }
            // The item is done (a server sent more after complete arguments): no event may follow its
            // `output_item.done`, but the final Response carries the arguments as they came.
            Route::Late(n) => self.push_arguments(n, arguments),
            Route::Held => {}
        }
        self.settle_tools(false, out);
    }

    fn push_arguments(&mut self, n: usize, more: &str) {
        if let Some(Item {
            kind: Kind::Call { arguments, .. },
            ..
        }) = self.items.get_mut(n)
        {
            arguments.push_str(more);
        }
    }

    /// Opens and closes the function-call items that are due: an item closes when the next call may begin;
    /// with `finishing` (the response ends, or reasoning or text follows) every call still waiting is
    /// written, in order.
    fn settle_tools(&mut self, finishing: bool, out: &mut Vec<u8>) {
        loop {
            let mut next = self.items.len();
            let Some(step) = self.tools.step(finishing, &self.response_id, &mut next) else {
                return;
            };
            match step {
                Step::Open {
                    id,
                    name,
                    arguments,
                    ..
                } => {
                    let n = self.new_item(
                        "fc_",
                        Kind::Call {
                            call_id: id,
                            name,
                            arguments,
                        },
                    );
                    self.announce_call(n, out);
                }
                Step::Close { block } => self.close(block, out),
            }
        }
    }

    /// `output_item.added` for a call, then the arguments held back for it so far.
    fn announce_call(&mut self, n: usize, out: &mut Vec<u8>) {
        let Kind::Call {
            call_id,
            name,
            arguments,
        } = &self.items[n].kind
        else {
            return;
        };
        let id = self.items[n].id.clone();
        let item = function_call_item(
            &id,
            "in_progress",
            call_id,
            self.opts.shape.names.split(name),
            "",
        );
        let arguments = arguments.clone();
        self.event(out, "response.output_item.added")
            .num("output_index", n as u64)
            .value("item", &item)
            .end();
        if !arguments.is_empty() {
            self.event(out, "response.function_call_arguments.delta")
                .str("item_id", &id)
                .num("output_index", n as u64)
                .str("delta", &arguments)
                .end();
        }
    }

    /// Closes the open reasoning or message item.
    fn close_open(&mut self, out: &mut Vec<u8>) {
        if let Some(n) = self.open.take() {
            self.close(n, out);
        }
    }

    fn close(&mut self, n: usize, out: &mut Vec<u8>) {
        if self.items[n].done {
            return;
        }
        self.items[n].done = true;
        let id = self.items[n].id.clone();
        let as_summary = self.opts.shape.reasoning_as_summary;
        match &self.items[n].kind {
            Kind::Reasoning { text } => {
                let text = text.clone();
                if as_summary {
                    self.event(out, "response.reasoning_summary_text.done")
                        .str("item_id", &id)
                        .num("output_index", n as u64)
                        .num("summary_index", 0)
                        .str("text", &text)
                        .end();
                    let part = serde_json::json!({ "type": "summary_text", "text": text });
                    self.event(out, "response.reasoning_summary_part.done")
                        .str("item_id", &id)
                        .num("output_index", n as u64)
                        .num("summary_index", 0)
                        .value("part", &part)
                        .end();
                } else {
                    self.event(out, "response.reasoning_text.done")
                        .str("item_id", &id)
                        .num("output_index", n as u64)
                        .num("content_index", 0)
                        .str("text", &text)
                        .end();
                    let part = serde_json::json!({ "type": "reasoning_text", "text": text });
                    self.event(out, "response.content_part.done")
                        .str("item_id", &id)
                        .num("output_index", n as u64)
                        .num("content_index", 0)
                        .value("part", &part)
                        .end();
                }
            }
            Kind::Message { parts } => {
                let last = parts
                    .len()
                    .checked_sub(1)
                    .and_then(|i| parts.get(i).cloned().map(|p| (i, p)));
                if let Some((index, (refusal, text))) = last {
                    self.part_done(&id, n, index, refusal, &text, out);
                }
            }
            Kind::Call { arguments, .. } => {
                let arguments = arguments.clone();
                self.event(out, "response.function_call_arguments.done")
                    .str("item_id", &id)
                    .num("output_index", n as u64)
                    .str("arguments", &arguments)
                    .end();
            }
        }
        let item = self.item_json(n, "completed");
        self.event(out, "response.output_item.done")
            .num("output_index", n as u64)
            .value("item", &item)
            .end();
    }

    fn item_json(&self, n: usize, status: &str) -> Value {
        let item = &self.items[n];
        match &item.kind {
            Kind::Reasoning { text } => {
                reasoning_item(&item.id, text, self.opts.shape.reasoning_as_summary)
            }
            Kind::Message { parts } => message_item(
                &item.id,
                status,
                parts.iter().map(|(r, t)| content_part(*r, t)).collect(),
            ),
            Kind::Call {
                call_id,
                name,
                arguments,
                ..
            } => function_call_item(
                &item.id,
                status,
                call_id,
                self.opts.shape.names.split(name),
                arguments,
            ),
        }
    }

    fn output(&self, status: &str) -> Vec<Value> {
        (0..self.items.len())
            .map(|n| {
                self.item_json(
                    n,
                    if self.items[n].done {
                        "completed"
                    } else {
                        status
                    },
                )
            })
            .collect()
    }

    /// Closes every item and ends the response with its final status and usage.
    fn complete(&mut self, data: &str, out: &mut Vec<u8>) {
        self.start(None, data, out);
        self.settle_tools(true, out);
        self.close_open(out);
        for n in 0..self.items.len() {
            self.close(n, out);
        }
        let status = status_for(self.finish_reason.as_deref());
        let usage = self.usage.unwrap_or_else(|| self.estimated_usage());
        let response = response_object(
            &self.opts,
            &self.response_id,
            status,
            self.output("completed"),
            Some(usage),
            None,
        );
        let kind = if matches!(status, Status::Incomplete(_)) {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.event(out, kind).value("response", &response).end();
        self.phase = Phase::Done;
    }

    fn estimated_usage(&self) -> ResponsesUsage {
        ResponsesUsage {
            output_tokens: self.streamed_chars.div_ceil(4),
            ..ResponsesUsage::default()
        }
    }

    /// Ends the stream with `response.failed`, keeping what was produced so far in its output.
    fn fail_with(&mut self, code: &str, message: &str, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        self.start(None, message, out);
        let response = response_object(
            &self.opts,
            &self.response_id,
            Status::Failed,
            self.output("incomplete"),
            self.usage,
            Some(failure(code, message)),
        );
        self.event(out, "response.failed")
            .value("response", &response)
            .end();
        self.phase = Phase::Done;
    }
}

impl StreamTranslator for ChatToResponsesStream {
    fn parser_mut(&mut self) -> &mut SseParser {
        &mut self.parser
    }

    fn on_event(&mut self, ev: SseEvent<'_>, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.complete(data, out);
            return;
        }
        let parsed = loose::parse::<ChunkOf, _>(data, |v| self.on_chunk(v, data, out));
        if parsed.is_err() && !data.is_empty() {
            log::warn!("skipping a non-JSON upstream SSE data line");
        }
    }

    fn on_eof(&mut self, out: &mut Vec<u8>) {
        if self.finish_reason.is_some() {
            self.complete("", out);
        } else {
            self.fail_with(
                "server_error",
                "the upstream stream ended before the model finished; retry the request",
                out,
            );
        }
    }

    fn fail_into(&mut self, kind: StreamFailure, message: &str, out: &mut Vec<u8>) {
        let _ = kind;
        self.fail_with("server_error", message, out);
    }

    fn usage(&self) -> TokenUsage {
        match self.usage {
            Some(u) => u.token_usage(true),
            None => self.estimated_usage().token_usage(false),
        }
    }

    fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }
}
