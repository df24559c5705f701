//! The contract both stream translators share, so the gateway can hold either as `Box<dyn StreamTranslator>`
//! in its per-request context: feed upstream bytes as they arrive, call `finish` at upstream EOF and `fail`
//! when the gateway itself gives up mid-stream; every call returns bytes ready to send to the client.

use super::usage::TokenUsage;

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

/// An incremental SSE-to-SSE translator.
pub trait StreamTranslator: Send {
    /// Consumes an arbitrary chunk of upstream bytes and appends the client bytes it completes to `out`.
    fn feed_into(&mut self, chunk: &[u8], out: &mut Vec<u8>);

    /// Upstream reached EOF. Ends the client stream properly, or with an error event if the upstream
    /// stopped before saying it was done — never a silent cut.
    fn finish_into(&mut self, out: &mut Vec<u8>);

    /// The gateway aborts the stream; emits the client format's error event. Later calls emit nothing.
    fn fail_into(&mut self, kind: StreamFailure, message: &str, out: &mut Vec<u8>);

    /// Tokens seen so far; `TokenUsage::reported` tells whether the upstream reported them or they are
    /// estimated (aborted streams).
    fn usage(&self) -> TokenUsage;

    /// Whether the client stream has ended (normally or with an error).
    fn is_done(&self) -> bool;

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
