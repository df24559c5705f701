//! The usage extractor: a state machine fed the **upstream** response body chunk by chunk, which
//! reads the token counts the provider reported, whatever the client's format — so native
//! pass-through and translated traffic are accounted the same way.
//!
//! ```text
//!  Anthropic SSE  message_start.message.usage  ─▶ input, cache read/write (output is a placeholder)
//!                 message_delta.usage          ─▶ cumulative output (and input/cache again): last value wins
//!                 content_block_delta          ─▶ streamed text, counted only if the stream is cut
//!                 message_stop                 ─▶ complete
//!  OpenAI SSE     chunk.usage (the `choices: []` chunk at the end) ─▶ everything
//!                 choices[0].delta text / tool arguments ─▶ counted only if the stream is cut
//!                 data: [DONE]                 ─▶ complete
//!  Responses SSE  response.completed / .incomplete ─▶ everything (`response.usage`), complete
//!                 response.failed              ─▶ everything, but partial
//!                 *.delta (text, reasoning, arguments) ─▶ counted only if the stream is cut
//!  JSON body      top-level `usage`, read once at the end from a bounded copy
//! ```
//!
//! Streams are never held: events are framed with `memchr` (see `sse.rs`), only an event cut by a
//! chunk boundary is copied, and events that cannot carry usage or text (`ping`, block start/stop)
//! are not parsed, and text deltas in the providers' own shape are read without a parse (`delta.rs`): on a
//! pass-through stream only the events that carry usage (`message_start`, `message_delta`, the usage
//! chunk) are parsed. With `strip_usage_chunk` (an OpenAI-format stream whose client did not ask for
//! usage, but the gateway did) the extractor also removes that usage-only chunk from the bytes the
//! client gets; then the unfinished tail of each chunk is held back until its event is whole.

use bytes::{Bytes, BytesMut};
use serde::Deserialize;

use super::sse::{self, Boundary, Framer};
use super::tokens::{AnthropicUsage, OpenAiUsage, TokenUsage};
use crate::api::ApiFormat;
use crate::translate::chat_chunk::ChunkOf;
use crate::translate::loose::{self, Loose};
use crate::translate::responses::usage::{terminal, StreamEventOf, Terminal, UsageFields};
use crate::translate::to_openai::stream::EventOf;

/// Largest non-streaming body copied for reading its usage (a reply of 128k output tokens is ~0.5 MB).
const MAX_JSON_BODY: usize = 16 << 20;
/// Longest unfinished event held back in strip mode; a usage chunk is a few hundred bytes.
const HOLD_LIMIT: usize = 64 << 10;
/// Streamed text held before it is tokenized; the running count is what a cut stream records.
const TEXT_BATCH: usize = 16 << 10;

/// What the client gets for a chunk fed to the extractor.
#[derive(Debug, PartialEq, Eq)]
pub enum Fed {
    /// The chunk as it came.
    Unchanged,
    /// These bytes instead (the usage-only chunk cut out, or an unfinished event held back).
    Replaced(Bytes),
}

/// The usage of one response, as far as it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extracted {
    pub usage: TokenUsage,
    /// The response did not run to its proper end (client gone, upstream cut, unreadable body):
    /// the counts are what the provider reported up to there plus the output counted so far.
    pub partial: bool,
}

#[derive(Debug)]
enum Body {
    Stream(Framer),
    /// A non-streaming body: the first chunk by reference, later ones copied after it.
    Json {
        first: Option<Bytes>,
        rest: Vec<u8>,
        too_large: bool,
    },
}

/// Reads the usage of one upstream response.
#[derive(Debug)]
pub struct UsageExtractor {
    format: ApiFormat,
    body: Body,
    strip_usage_chunk: bool,
    usage: TokenUsage,
    /// The provider sent its final output count (Anthropic `message_delta`, any OpenAI usage).
    output_final: bool,
    /// The provider said the response is complete (`message_stop`, `[DONE]`, a whole JSON body).
    complete: bool,
    /// The body reached its end.
    ended: bool,
    /// Strip mode: the unfinished event's start is held back from the client.
    held: bool,
    text: TextCounter,
}

impl UsageExtractor {
    /// `format` is the upstream's wire format; `stream` whether the body is an event stream.
    pub fn new(format: ApiFormat, stream: bool, strip_usage_chunk: bool) -> Self {
        UsageExtractor {
            format,
            body: if stream {
                Body::Stream(Framer::default())
            } else {
                Body::Json {
                    first: None,
                    rest: Vec::new(),
                    too_large: false,
                }
            },
            strip_usage_chunk: strip_usage_chunk && stream && format == ApiFormat::OpenAi,
            usage: TokenUsage::default(),
            output_final: false,
            complete: false,
            ended: false,
            held: false,
            text: TextCounter::default(),
        }
    }

    /// Feeds one chunk of the upstream body (`None` with `end` at a bodiless end).
    pub fn feed(&mut self, chunk: Option<&Bytes>, end: bool) -> Fed {
        let fed = match chunk {
            Some(chunk) if !chunk.is_empty() => self.feed_bytes(chunk),
            _ => Fed::Unchanged,
        };
        if !end || self.ended {
            return fed;
        }
        self.ended = true;
        let last = match &mut self.body {
            Body::Json { .. } => {
                self.read_json();
                return fed;
            }
            Body::Stream(framer) => framer.take_last(),
        };
        let was_held = std::mem::take(&mut self.held);
        let usage_chunk = !last.is_empty() && self.on_event(&last);
        if !self.strip_usage_chunk || !was_held || usage_chunk {
            return fed;
        }
        // The unterminated last event was held back: it goes out now.
        let mut out = match fed {
            Fed::Unchanged => BytesMut::from(chunk.map_or(&[][..], |c| &c[..])),
            Fed::Replaced(b) => BytesMut::from(&b[..]),
        };
        out.extend_from_slice(&last);
        Fed::Replaced(out.freeze())
    }

    fn feed_bytes(&mut self, chunk: &Bytes) -> Fed {
        let mut framer = match &mut self.body {
            Body::Json {
                first,
                rest,
                too_large,
            } => {
                if *too_large {
                } else if first.is_none() && rest.is_empty() {
                    *first = Some(chunk.clone());
                } else if first.as_ref().map_or(0, Bytes::len) + rest.len() + chunk.len()
                    > MAX_JSON_BODY
                {
                    *too_large = true;
                    *first = None;
                    *rest = Vec::new();
                } else {
                    rest.extend_from_slice(chunk);
                }
                return Fed::Unchanged;
            }
            Body::Stream(framer) => std::mem::take(framer),
        };
        let strip = self.strip_usage_chunk;
        let was_held = self.held;
        let started_before = framer.in_event();
        let mut out: Option<BytesMut> = None;
        let mut kept_from = 0;
        let tail_start = framer.feed(chunk, |b: &Boundary, event: &[u8]| {
            let usage_chunk = self.on_event(event);
            if !strip {
                return;
            }
            if b.continued && was_held {
                // `event` is the held start plus this chunk's part: all of it goes out now, or none.
                let o = out.get_or_insert_with(BytesMut::new);
                if !usage_chunk {
                    o.extend_from_slice(event);
                }
                kept_from = b.end;
            } else if usage_chunk && !b.continued {
                let o = out.get_or_insert_with(BytesMut::new);
                o.extend_from_slice(&chunk[kept_from..b.start]);
                kept_from = b.end;
            }
        });
        let pending = framer.pending().len();
        let in_event = framer.in_event();
        // Strip mode holds an unfinished event back until it is whole, so a usage chunk can still
        // be cut out; one too long to be a usage chunk is let through.
        let new_event_here = tail_start > 0 || !started_before;
        let (hold, release) = match (strip && in_event, new_event_here, was_held) {
            (false, _, _) => (false, false),
            (true, true, _) => (pending <= HOLD_LIMIT, false),
            (true, false, true) if pending <= HOLD_LIMIT => (true, false),
            (true, false, true) => (false, true),
            (true, false, false) => (false, false),
        };
        if release {
            out = Some(BytesMut::from(framer.pending()));
            kept_from = chunk.len();
        }
        if let Body::Stream(slot) = &mut self.body {
            *slot = framer;
        }
        self.held = hold;
        if !strip {
            return Fed::Unchanged;
        }
        let sent_to = if hold { tail_start } else { chunk.len() };
        match out {
            None if sent_to == chunk.len() => Fed::Unchanged,
            None => Fed::Replaced(chunk.slice(..sent_to)),
            Some(mut o) => {
                o.extend_from_slice(&chunk[kept_from.min(sent_to)..sent_to]);
                Fed::Replaced(o.freeze())
            }
        }
    }

    /// Reads one whole event; returns whether it is an OpenAI usage-only chunk.
    fn on_event(&mut self, event: &[u8]) -> bool {
        let fields = sse::fields(event);
        let Some(data) = fields.data else {
            return false;
        };
        match self.format {
            ApiFormat::Anthropic => {
                self.on_anthropic(fields.name, &data);
                false
            }
            ApiFormat::OpenAi => self.on_openai(&data),
            ApiFormat::Responses => {
                self.on_responses(fields.name, &data);
                false
            }
        }
    }

    fn on_anthropic(&mut self, name: Option<&[u8]>, data: &[u8]) {
        match name {
            Some(b"ping" | b"content_block_start" | b"content_block_stop") => return,
            Some(b"message_stop") => {
                self.complete = true;
                return;
            }
            // Text deltas, the bulk of a stream: counted only until the provider's final count, and
            // read without a parse when they have the API's shape.
            Some(b"content_block_delta") if self.output_final => return,
            Some(b"content_block_delta") => {
                if let Some(text) = super::delta::anthropic(data) {
                    self.text.add(&text);
                    return;
                }
            }
            _ => {}
        }
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        // The translator's own reading of an event (to_openai::stream), so both agree on every event.
        let _ = loose::parse::<EventOf, _>(text, |event| {
            let Some(event) = event.obj() else { return };
            match event.kind.str() {
                Some("message_start") => {
                    if let Some(u) = event.message.obj().and_then(|m| m.usage.obj()) {
                        self.usage.merge_anthropic_counts(u.counts());
                    }
                }
                Some("message_delta") => {
                    if let Some(u) = event.usage.obj() {
                        self.usage.merge_anthropic_counts(u.counts());
                        self.output_final |= u.has_output();
                    }
                }
                Some("content_block_delta") if !self.output_final => {
                    if let Some(d) = event.delta.obj() {
                        for text in [&d.text, &d.thinking, &d.partial_json] {
                            self.text.add(text.str().unwrap_or(""));
                        }
                    }
                }
                Some("message_stop") => self.complete = true,
                _ => {}
            }
        });
    }

    fn on_openai(&mut self, data: &[u8]) -> bool {
        if data.trim_ascii() == b"[DONE]" {
            self.complete = true;
            return false;
        }
        // A text-only chunk without usage, the bulk of a stream: its text read without a parse.
        if let Some(text) = super::delta::openai(data) {
            if !self.output_final {
                self.text.add(&text);
            }
            return false;
        }
        let Ok(text) = std::str::from_utf8(data) else {
            return false;
        };
        // The translator's own reading of a chunk (to_anthropic::stream).
        loose::parse::<ChunkOf, _>(text, |chunk| {
            let Some(chunk) = chunk.obj() else {
                return false;
            };
            if let Some(delta) = chunk
                .choices
                .0
                .first()
                .and_then(Loose::obj)
                .and_then(|c| c.delta.obj())
                .filter(|_| !self.output_final)
            {
                for text in [
                    &delta.content,
                    &delta.reasoning_content,
                    &delta.reasoning,
                    &delta.refusal,
                ] {
                    self.text.add(text.str().unwrap_or(""));
                }
                for call in &delta.tool_calls.0 {
                    if let Some(f) = call.obj().and_then(|c| c.function.obj()) {
                        self.text.add(f.arguments.str().unwrap_or(""));
                    }
                }
            }
            match chunk.usage.obj() {
                Some(u) => {
                    self.usage = u.token_usage();
                    self.output_final = true;
                    chunk.choices.0.is_empty()
                }
                None => false,
            }
        })
        .unwrap_or(false)
    }

    fn on_responses(&mut self, name: Option<&[u8]>, data: &[u8]) {
        // Only a terminal event carries usage, and only `*.delta` events text; the rest (created,
        // in_progress, item added/done, part added/done) are not parsed at all.
        if let Some(name) = name {
            let terminal = std::str::from_utf8(name).ok().and_then(terminal);
            if terminal.is_none() && (self.output_final || !name.ends_with(b".delta")) {
                return;
            }
        }
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let _ = loose::parse::<StreamEventOf, _>(text, |event| {
            let Some(event) = event.obj() else { return };
            let Some(kind) = event.kind.str() else { return };
            if let Some(end) = terminal(kind) {
                if let Some(usage) = event.terminal_usage() {
                    self.usage = usage.token_usage(true);
                    self.output_final = true;
                }
                // A failed Response did not run to its end: its record is partial.
                self.complete = end == Terminal::Ended;
            } else if kind.ends_with(".delta") && !self.output_final {
                self.text.add(event.delta.str().unwrap_or(""));
            }
        });
    }

    fn read_json(&mut self) {
        let Body::Json {
            first,
            rest,
            too_large,
        } = &mut self.body
        else {
            return;
        };
        if *too_large {
            return;
        }
        let first = first.take().unwrap_or_default();
        let rest = std::mem::take(rest);
        let joined: Vec<u8>;
        let body: &[u8] = if rest.is_empty() {
            &first
        } else {
            joined = [&first[..], &rest[..]].concat();
            &joined
        };
        let read = match self.format {
            ApiFormat::Anthropic => {
                serde_json::from_slice::<JsonBody<'_, AnthropicUsage<'_>>>(body).map(|b| {
                    b.usage.obj().map(|u| {
                        let mut usage = TokenUsage::default();
                        usage.merge_anthropic_counts(u.counts());
                        usage
                    })
                })
            }
            ApiFormat::OpenAi => serde_json::from_slice::<JsonBody<'_, OpenAiUsage<'_>>>(body)
                .map(|b| b.usage.obj().map(OpenAiUsage::token_usage)),
            ApiFormat::Responses => serde_json::from_slice::<JsonBody<'_, UsageFields<'_>>>(body)
                .map(|b| b.usage.obj().map(|u| u.responses_usage().token_usage(true))),
        };
        if let Ok(usage) = read {
            self.complete = true;
            if let Some(usage) = usage {
                self.usage = usage;
                self.output_final = true;
            }
        }
    }

    /// The usage so far. A response that did not end properly is `partial`; where the provider had not
    /// yet reported the output, the output is the streamed text counted with the tokenizer.
    pub fn result(&self) -> Extracted {
        let partial = !(self.ended && self.complete);
        let mut usage = self.usage;
        if !self.output_final {
            usage.output_tokens = usage.output_tokens.max(self.text.tokens());
            usage.reported = false;
        }
        Extracted { usage, partial }
    }
}

/// Streamed output text, tokenized in batches so that a cut stream can record the output it had.
#[derive(Debug, Default)]
struct TextCounter {
    batch: String,
    counted: u64,
}

impl TextCounter {
    fn add(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.batch.push_str(text);
        if self.batch.len() >= TEXT_BATCH {
            self.counted = self
                .counted
                .saturating_add(crate::translate::tokens::count_text_tokens(&self.batch));
            self.batch.clear();
        }
    }

    fn tokens(&self) -> u64 {
        self.counted
            .saturating_add(crate::translate::tokens::count_text_tokens(&self.batch))
    }
}

/// A response body; only its `usage` is read, the rest is stepped over.
#[derive(Deserialize)]
#[serde(bound(deserialize = "U: Deserialize<'de>"))]
struct JsonBody<'a, U> {
    #[serde(borrow, default)]
    usage: Loose<'a, U>,
}
