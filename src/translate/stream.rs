//! The contract both stream translators share, so the gateway can hold either as `Box<dyn StreamTranslator>`
//! in its per-request context: feed upstream bytes as they arrive, call `finish` at upstream EOF and `fail`
//! when the gateway itself gives up mid-stream; every call returns bytes ready to send to the client.

use super::sse::{SseEvent, SseParser};
use crate::usage::TokenUsage;

/// Why the gateway aborts a stream it has already started answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFailure {
    /// Something broke (upstream reset, timeout, internal error): Anthropic `api_error`.
    Api,
    /// Capacity ran out: Anthropic `overloaded_error`, which Claude Code retries.
    Overloaded,
}

impl StreamFailure {
    pub(crate) fn anthropic_type(self) -> &'static str {
        match self {
            StreamFailure::Api => "api_error",
            StreamFailure::Overloaded => "overloaded_error",
        }
    }

    pub(crate) fn openai_type(self) -> &'static str {
        match self {
            StreamFailure::Api => "server_error",
            StreamFailure::Overloaded => "overloaded",
        }
    }
}

/// An incremental SSE-to-SSE translator. Both translators differ only in what they do with one whole
/// upstream event and at upstream EOF; how bytes become events is written once, here.
pub trait StreamTranslator: Send {
    /// The parser holding the upstream's unfinished line between two chunks.
    fn parser_mut(&mut self) -> &mut SseParser;

    /// Translates one whole upstream event, appending the client bytes to `out`.
    fn on_event(&mut self, event: SseEvent<'_>, out: &mut Vec<u8>);

    /// Upstream EOF with every event handled and the client stream still open: end it properly, or with
    /// an error event if the upstream stopped before saying it was done — never a silent cut.
    fn on_eof(&mut self, out: &mut Vec<u8>);

    /// The gateway aborts the stream; emits the client format's error event. Later calls emit nothing.
    fn fail_into(&mut self, kind: StreamFailure, message: &str, out: &mut Vec<u8>);

    /// Tokens seen so far; `TokenUsage::reported` tells whether the upstream reported them or they are
    /// estimated (aborted streams).
    fn usage(&self) -> TokenUsage;

    /// Whether the client stream has ended (normally or with an error).
    fn is_done(&self) -> bool;

    /// Consumes an arbitrary chunk of upstream bytes and appends the client bytes it completes to `out`.
    fn feed_into(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.is_done() {
            return;
        }
        // A translated event is about as long as the upstream one: one allocation instead of a doubling
        // series per chunk.
        out.reserve(chunk.len() + 256);
        // The parser is lent out while the events it yields, which borrow its buffers, are handled by
        // `self`; taking it moves a few `Vec`s and allocates nothing.
        let mut parser = std::mem::take(self.parser_mut());
        parser.feed(chunk, |ev| self.on_event(ev, out));
        *self.parser_mut() = parser;
    }

    /// Upstream reached EOF: flushes a last unterminated event, then [`Self::on_eof`].
    fn finish_into(&mut self, out: &mut Vec<u8>) {
        if self.is_done() {
            return;
        }
        let mut parser = std::mem::take(self.parser_mut());
        parser.finish(|ev| self.on_event(ev, out));
        *self.parser_mut() = parser;
        if !self.is_done() {
            self.on_eof(out);
        }
    }

    fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.feed_into(chunk, &mut out);
        out
    }

    fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.finish_into(&mut out);
        out
    }

    fn fail(&mut self, kind: StreamFailure, message: &str) -> Vec<u8> {
        let mut out = Vec::new();
        self.fail_into(kind, message, &mut out);
        out
    }
}
