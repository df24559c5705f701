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

use serde::Deserialize;

use super::chunks;
use super::ToOpenAiResponseOptions;
use crate::translate::ids::{derive, openai_completion_id};
use crate::translate::loose::{self, Borrowing, Loose};
use crate::translate::sse::{write_done, SseEvent, SseParser};
use crate::translate::stop::openai_finish_reason;
use crate::translate::stream::{StreamFailure, StreamTranslator};
use crate::usage::tokens::AnthropicUsage;
use crate::usage::TokenUsage;

/// One Anthropic stream event, or anything else the upstream sent as data: what is not an object reads
/// as an event without fields (its kind then comes from the `event:` line).
pub(crate) type EventData<'a> = Loose<'a, Event<'a>>;

pub(crate) struct EventOf;

impl Borrowing for EventOf {
    type Of<'a> = EventData<'a>;
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Event<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Loose<'a>,
    #[serde(borrow)]
    index: Loose<'a>,
    #[serde(borrow)]
    pub(crate) message: Loose<'a, Message<'a>>,
    #[serde(borrow)]
    content_block: Loose<'a, Block<'a>>,
    #[serde(borrow)]
    pub(crate) delta: Loose<'a, Delta<'a>>,
    #[serde(borrow)]
    pub(crate) usage: Loose<'a, AnthropicUsage<'a>>,
    #[serde(borrow)]
    error: Loose<'a, ErrorBody<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Message<'a> {
    #[serde(borrow)]
    id: Loose<'a>,
    #[serde(borrow)]
    pub(crate) usage: Loose<'a, AnthropicUsage<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Block<'a> {
    #[serde(borrow, rename = "type")]
    kind: Loose<'a>,
    #[serde(borrow)]
    id: Loose<'a>,
    #[serde(borrow)]
    name: Loose<'a>,
    #[serde(borrow)]
    text: Loose<'a>,
    #[serde(borrow)]
    thinking: Loose<'a>,
}

/// A `content_block_delta`'s or a `message_delta`'s `delta`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Delta<'a> {
    #[serde(borrow, rename = "type")]
    kind: Loose<'a>,
    #[serde(borrow)]
    pub(crate) text: Loose<'a>,
    #[serde(borrow)]
    pub(crate) thinking: Loose<'a>,
    #[serde(borrow)]
    pub(crate) partial_json: Loose<'a>,
    #[serde(borrow)]
    stop_reason: Loose<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ErrorBody<'a> {
    #[serde(borrow, rename = "type")]
    kind: Loose<'a>,
    #[serde(borrow)]
    message: Loose<'a>,
}

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
    /// The keys every chunk ends with, rendered once the id is known (see `chunks::tail`).
    tail: Vec<u8>,
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
            tail: Vec::new(),
            tool_blocks: Vec::new(),
            stop_reason: None,
            usage: TokenUsage::default(),
            final_usage: false,
            streamed_chars: 0,
        }
    }

    fn on_parsed(&mut self, name: Option<&str>, v: &EventData<'_>, data: &str, out: &mut Vec<u8>) {
        let absent = Event::default();
        let e = v.obj().unwrap_or(&absent);
        match e.kind.str().or(name).unwrap_or("") {
            "message_start" => {
                self.start(e, data, out);
                if let Some(u) = e.message.obj().and_then(|m| m.usage.obj()) {
                    self.usage.merge_anthropic_counts(u.counts());
                }
            }
            "content_block_start" => {
                self.start(e, data, out);
                if let Some(block) = e.content_block.obj() {
                    self.on_block_start(e.index.u64().unwrap_or(0), block, out);
                }
            }
            "content_block_delta" => {
                self.start(e, data, out);
                if let Some(delta) = e.delta.obj() {
                    self.on_block_delta(e.index.u64().unwrap_or(0), delta, out);
                }
            }
            "message_delta" => {
                if let Some(r) = e.delta.obj().and_then(|d| d.stop_reason.str()) {
                    self.stop_reason = Some(r.to_owned());
                }
                if let Some(u) = e.usage.obj() {
                    self.usage.merge_anthropic_counts(u.counts());
                    self.final_usage = true;
                }
            }
            "message_stop" => self.end(data, out),
            "error" => {
                let err = e.error.obj();
                let kind = err.and_then(|x| x.kind.str()).unwrap_or("api_error");
                let message = err
                    .and_then(|x| x.message.str())
                    .unwrap_or("upstream error");
                self.emit_error(kind, &format!("upstream error mid-stream: {message}"), out);
            }
            _ => {}
        }
    }

    fn on_block_start(&mut self, index: u64, block: &Block<'_>, out: &mut Vec<u8>) {
        match block.kind.str() {
            Some("tool_use") => {
                let n = self.tool_blocks.len();
                self.tool_blocks.push((index, n));
                let id = block.id.str().unwrap_or("");
                let name = block.name.str().unwrap_or("");
                chunks::tool_start(out, &self.tail, n, id, name);
            }
            Some("text") => self.text(block.text.text(), "content", out),
            Some("thinking") => self.text(block.thinking.text(), "reasoning_content", out),
            _ => {}
        }
    }

    fn on_block_delta(&mut self, index: u64, delta: &Delta<'_>, out: &mut Vec<u8>) {
        match delta.kind.str() {
            Some("text_delta") => self.text(delta.text.text(), "content", out),
            Some("thinking_delta") => self.text(delta.thinking.text(), "reasoning_content", out),
            Some("input_json_delta") => {
                let Some(args) = delta.partial_json.text() else {
                    return;
                };
                if let Some(&(_, n)) = self.tool_blocks.iter().find(|(b, _)| *b == index) {
                    self.streamed_chars = self.streamed_chars.saturating_add(args.len() as u64);
                    chunks::tool_arguments(out, &self.tail, n, args);
                }
            }
            _ => {}
        }
    }

    /// The first event opens the stream with the role chunk. The completion id derives from the
    /// upstream message id, or else from the first event's text.
    fn start(&mut self, e: &Event<'_>, data: &str, out: &mut Vec<u8>) {
        if self.phase != Phase::Waiting {
            return;
        }
        self.phase = Phase::Streaming;
        let id = match e.message.obj().and_then(|m| m.id.text()) {
            Some(id) => openai_completion_id(id),
            None => derive("chatcmpl-", data.as_bytes()),
        };
        self.tail = chunks::tail(self.opts.created, &id, &self.opts.client_model);
        chunks::role(out, &self.tail);
    }

    fn text(&mut self, t: Option<&str>, field: &str, out: &mut Vec<u8>) {
        if let Some(t) = t {
            self.streamed_chars = self.streamed_chars.saturating_add(t.len() as u64);
            chunks::text(out, &self.tail, field, t);
        }
    }

    fn end(&mut self, data: &str, out: &mut Vec<u8>) {
        self.start(&Event::default(), data, out);
        let finish = openai_finish_reason(self.stop_reason.as_deref());
        chunks::finish(out, &self.tail, finish);
        if self.opts.include_usage {
            chunks::usage(out, &self.tail, self.usage());
        }
        write_done(out);
        self.phase = Phase::Done;
    }

    fn emit_error(&mut self, kind: &str, message: &str, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        chunks::error(out, kind, message);
        self.phase = Phase::Done;
    }
}

impl StreamTranslator for AnthropicToOpenAiStream {
    fn parser_mut(&mut self) -> &mut SseParser {
        &mut self.parser
    }

    fn on_event(&mut self, ev: SseEvent<'_>, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        let data = ev.data.trim();
        let name = ev.event.as_deref();
        let parsed = loose::parse::<EventOf, _>(data, |v| self.on_parsed(name, v, data, out));
        if parsed.is_err() && !data.is_empty() {
            log::warn!("skipping a non-JSON upstream SSE data line");
        }
    }

    fn on_eof(&mut self, out: &mut Vec<u8>) {
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
