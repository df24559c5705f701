//! Tests of the translators: one file per area, shared helpers here. Stream output is parsed back with a
//! separate minimal SSE splitter (not `sse.rs`), so the parser under test does not grade itself.

// Tests may unwrap and panic: that is how they fail. (`allow`, not `expect`: the main crate does not enable
// these restriction lints, so an expectation would be unfulfilled there.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod errors;
mod fixtures;
mod golden;
mod props;
mod request_to_anthropic;
mod request_to_openai;
mod responses;
mod responses_api;
mod responses_golden;
mod responses_props;
mod sse_parser;
mod stream_to_anthropic;
mod stream_to_openai;
mod tokens;

use serde_json::Value;

use crate::translate::{
    anthropic_request_to_openai, openai_request_to_anthropic, Notes, ToAnthropicRequestOptions,
    ToOpenAiOptions,
};

pub(super) fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// Anthropic request → OpenAI with default options (upstream model `up`).
pub(super) fn to_openai(req: Value) -> (Value, Notes) {
    to_openai_with(req, &ToOpenAiOptions::new("up"))
}

pub(super) fn to_openai_with(req: Value, opts: &ToOpenAiOptions) -> (Value, Notes) {
    let t = anthropic_request_to_openai(&req, opts).unwrap();
    (json_of(&t.body), t.notes)
}

/// OpenAI request → Anthropic with default options (upstream model `claude-up`).
pub(super) fn to_anthropic(req: Value) -> (Value, Notes) {
    let t =
        openai_request_to_anthropic(&req, &ToAnthropicRequestOptions::new("claude-up")).unwrap();
    (json_of(&t.body), t.notes)
}

/// Splits SSE output into (event name, data JSON) pairs; `[DONE]` becomes `("", "[DONE]")`.
pub(super) fn sse_events(bytes: &[u8]) -> Vec<(String, Value)> {
    let text = std::str::from_utf8(bytes).unwrap();
    assert!(
        text.is_empty() || text.ends_with("\n\n"),
        "output must end on an event boundary: {text:?}"
    );
    let mut out = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        let mut name = String::new();
        let mut data = None;
        for line in block.lines() {
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_owned();
            } else if let Some(d) = line.strip_prefix("data: ") {
                data = Some(d.to_owned());
            } else {
                panic!("unexpected SSE line {line:?}");
            }
        }
        let data = data.unwrap();
        let v = if data == "[DONE]" {
            Value::String(data)
        } else {
            serde_json::from_str(&data).unwrap()
        };
        if !name.is_empty() {
            assert_eq!(
                v["type"],
                Value::String(name.clone()),
                "event name and data.type disagree"
            );
        }
        out.push((name, v));
    }
    out
}

/// An upstream OpenAI stream from chunk objects: `data: …\n\n` each, plus `data: [DONE]` if asked.
pub(super) fn openai_stream(chunks: &[Value], done: bool) -> String {
    let mut s = String::new();
    for c in chunks {
        s.push_str(&format!("data: {c}\n\n"));
    }
    if done {
        s.push_str("data: [DONE]\n\n");
    }
    s
}

/// An upstream Anthropic stream from event objects (event name = data.type).
pub(super) fn anthropic_stream(events: &[Value]) -> String {
    let mut s = String::new();
    for e in events {
        s.push_str(&format!(
            "event: {}\ndata: {e}\n\n",
            e["type"].as_str().unwrap()
        ));
    }
    s
}
