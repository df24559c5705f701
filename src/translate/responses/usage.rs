//! Reading the token counts a Responses API provider reports — for the usage ledger on the native
//! pass-through path, where nothing is translated and the only usage is the provider's own: `usage` of a
//! JSON Response, or `response.usage` of the stream's terminal event (`response.completed`,
//! `response.incomplete`, `response.failed`).
//!
//! The reads are typed and borrowing (`loose`), like the translators' stream events: a terminal event
//! repeats the whole Response, and only its `usage` is kept — the rest is stepped over, never built into a
//! `Value`. [`StreamEvent`] is what the usage extractor parses each Responses stream event with.

use serde::Deserialize;
use serde_json::Value;

use super::objects::ResponsesUsage;
use crate::translate::loose::{self, Borrowing, Loose};
use crate::usage::tokens::{CompletionDetails, PromptDetails};

/// A Responses `usage` object; fields of the wrong type read as absent. Its details objects have the
/// fields of Chat's, so they are read with the same types.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct UsageFields<'a> {
    #[serde(borrow)]
    input_tokens: Loose<'a>,
    #[serde(borrow)]
    output_tokens: Loose<'a>,
    #[serde(borrow)]
    input_tokens_details: Loose<'a, PromptDetails<'a>>,
    #[serde(borrow)]
    output_tokens_details: Loose<'a, CompletionDetails<'a>>,
}

impl UsageFields<'_> {
    /// The counts (`input_tokens` includes the cached ones and the cache writes).
    pub(crate) fn responses_usage(&self) -> ResponsesUsage {
        let n = |l: &Loose<'_>| l.count().unwrap_or(0);
        let input = self.input_tokens_details.obj();
        let output_tokens = n(&self.output_tokens);
        ResponsesUsage {
            input_tokens: n(&self.input_tokens),
            cached_tokens: input.map_or(0, |d| n(&d.cached_tokens)),
            cache_write_tokens: input.map_or(0, |d| n(&d.cache_write_tokens)),
            output_tokens,
            reasoning_tokens: self
                .output_tokens_details
                .obj()
                .map_or(0, |d| n(&d.reasoning_tokens))
                .min(output_tokens),
        }
    }
}

/// One Responses stream event, as far as accounting needs it: its `type`, the text of a `*.delta` event,
/// and the usage of the Response a terminal event carries.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct StreamEvent<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) kind: Loose<'a>,
    /// Output text, reasoning text, refusal or function-call arguments, in the `*.delta` events.
    #[serde(borrow)]
    pub(crate) delta: Loose<'a>,
    #[serde(borrow)]
    response: Loose<'a, ResponseUsage<'a>>,
}

/// The Response in an event: only its `usage`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ResponseUsage<'a> {
    #[serde(borrow)]
    usage: Loose<'a, UsageFields<'a>>,
}

pub(crate) struct StreamEventOf;

impl Borrowing for StreamEventOf {
    type Of<'a> = Loose<'a, StreamEvent<'a>>;
}

/// How a Responses stream ends, by its terminal event's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terminal {
    /// `response.completed`, or `response.incomplete` (stopped early at a limit, but a proper end).
    Ended,
    /// `response.failed`: the provider gave up; the usage is what it spent.
    Failed,
}

/// Whether an event type ends a Response (and carries its final usage).
pub(crate) fn terminal(kind: &str) -> Option<Terminal> {
    match kind {
        "response.completed" | "response.incomplete" => Some(Terminal::Ended),
        "response.failed" => Some(Terminal::Failed),
        _ => None,
    }
}

impl StreamEvent<'_> {
    /// The usage of a terminal event that carries it.
    pub(crate) fn terminal_usage(&self) -> Option<ResponsesUsage> {
        terminal(self.kind.str()?)?;
        let usage = self.response.obj()?.usage.obj()?;
        Some(usage.responses_usage())
    }
}

/// Reads a Responses `usage` object (`input_tokens` includes the cached ones).
pub fn from_usage(u: &Value) -> Option<ResponsesUsage> {
    if !u.is_object() {
        return None;
    }
    UsageFields::deserialize(u)
        .ok()
        .map(|f| f.responses_usage())
}

/// The usage of one stream event's data, when it is a terminal event that carries it.
pub fn from_stream_event(data: &str) -> Option<ResponsesUsage> {
    loose::parse::<StreamEventOf, _>(data, |e| e.obj().and_then(StreamEvent::terminal_usage))
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_terminal_events() {
        let usage = serde_json::json!({"input_tokens": 100, "input_tokens_details": {"cached_tokens": 40}, "output_tokens": 30, "output_tokens_details": {"reasoning_tokens": 12}, "total_tokens": 130});
        let expected = ResponsesUsage {
            input_tokens: 100,
            cached_tokens: 40,
            cache_write_tokens: 0,
            output_tokens: 30,
            reasoning_tokens: 12,
        };
        assert_eq!(from_usage(&usage), Some(expected));
        let event = serde_json::json!({"type": "response.completed", "sequence_number": 9, "response": {"id": "resp_1", "output": [{"type": "message", "content": [{"type": "output_text", "text": "hi"}]}], "usage": usage}}).to_string();
        assert_eq!(from_stream_event(&event), Some(expected));
        assert_eq!(
            from_stream_event(r#"{"type":"response.output_text.delta","delta":"x"}"#),
            None
        );
        assert_eq!(
            from_stream_event(r#"{"type":"response.in_progress","response":{"usage":null}}"#),
            None
        );
        assert_eq!(from_stream_event("not json"), None);
        assert_eq!(from_usage(&serde_json::json!("usage")), None);
        let t = expected.token_usage(true);
        assert_eq!(
            (
                t.input_tokens,
                t.cache_read_input_tokens,
                t.output_tokens,
                t.reasoning_tokens
            ),
            (60, 40, 30, 12),
            "uncached input in the gateway's split"
        );
    }

    #[test]
    fn cache_writes_leave_the_uncached_input_and_bad_fields_read_as_absent() {
        let failed = r#"{"type":"response.failed","response":{"usage":{"input_tokens":2000,"input_tokens_details":{"cached_tokens":1024,"cache_write_tokens":900},"output_tokens":"many","output_tokens_details":[]}}}"#;
        let u = from_stream_event(failed).unwrap();
        assert_eq!(
            (
                u.input_tokens,
                u.cached_tokens,
                u.cache_write_tokens,
                u.output_tokens
            ),
            (2000, 1024, 900, 0)
        );
        let t = u.token_usage(true);
        assert_eq!(
            (
                t.input_tokens,
                t.cache_read_input_tokens,
                t.cache_creation_input_tokens
            ),
            (76, 1024, 900)
        );
        assert_eq!(t.prompt_tokens(), 2000, "every input token is counted once");
        // Counts that do not add up never underflow.
        let odd = ResponsesUsage {
            input_tokens: 10,
            cached_tokens: 8,
            cache_write_tokens: 8,
            ..Default::default()
        };
        assert_eq!(odd.token_usage(true).prompt_tokens(), 10);
    }
}
