//! Anthropic SSE → OpenAI SSE: recorded-style Claude streams to the exact chunk sequence.

use serde_json::{json, Value};

use super::{anthropic_stream, sse_events};
use crate::translate::{
    AnthropicToOpenAiStream, StreamFailure, StreamTranslator, ToOpenAiResponseOptions,
};

fn claude_stream() -> Vec<Value> {
    vec![
        json!({ "type": "message_start", "message": { "id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "content": [],
            "stop_reason": null, "usage": { "input_tokens": 20, "output_tokens": 1, "cache_read_input_tokens": 80, "cache_creation_input_tokens": 0 } } }),
        json!({ "type": "ping" }),
        json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "thinking", "thinking": "", "signature": "" } }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "thinking_delta", "thinking": "hmm" } }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "signature_delta", "signature": "zzz" } }),
        json!({ "type": "content_block_stop", "index": 0 }),
        json!({ "type": "content_block_start", "index": 1, "content_block": { "type": "text", "text": "" } }),
        json!({ "type": "content_block_delta", "index": 1, "delta": { "type": "text_delta", "text": "Hi " } }),
        json!({ "type": "content_block_delta", "index": 1, "delta": { "type": "text_delta", "text": "there" } }),
        json!({ "type": "content_block_stop", "index": 1 }),
        json!({ "type": "content_block_start", "index": 2, "content_block": { "type": "tool_use", "id": "toolu_9", "name": "f", "input": {} } }),
        json!({ "type": "content_block_delta", "index": 2, "delta": { "type": "input_json_delta", "partial_json": "{\"x\":" } }),
        json!({ "type": "content_block_delta", "index": 2, "delta": { "type": "input_json_delta", "partial_json": "1}" } }),
        json!({ "type": "content_block_stop", "index": 2 }),
        json!({ "type": "message_delta", "delta": { "stop_reason": "tool_use", "stop_sequence": null }, "usage": { "output_tokens": 15 } }),
        json!({ "type": "message_stop" }),
    ]
}

fn run(input: &str, include_usage: bool) -> (Vec<Value>, AnthropicToOpenAiStream) {
    let opts = ToOpenAiResponseOptions {
        include_usage,
        ..ToOpenAiResponseOptions::new("claude-alias", 42)
    };
    let mut t = AnthropicToOpenAiStream::new(opts);
    let mut out = t.feed(input.as_bytes());
    out.extend(t.finish());
    (sse_events(&out).into_iter().map(|(_, v)| v).collect(), t)
}

#[test]
fn full_claude_stream_with_usage() {
    let (chunks, t) = run(&anthropic_stream(&claude_stream()), true);
    let deltas: Vec<Value> = chunks
        .iter()
        .take(7)
        .map(|c| c["choices"][0]["delta"].clone())
        .collect();
    assert_eq!(
        deltas,
        [
            json!({ "role": "assistant", "content": "" }),
            json!({ "reasoning_content": "hmm" }),
            json!({ "content": "Hi " }),
            json!({ "content": "there" }),
            json!({ "tool_calls": [{ "index": 0, "id": "toolu_9", "type": "function", "function": { "name": "f", "arguments": "" } }] }),
            json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"x\":" } }] }),
            json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "1}" } }] }),
        ]
    );
    assert_eq!(chunks.len(), 10);
    assert_eq!(chunks[7]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(chunks[8]["choices"], json!([]));
    assert_eq!(
        chunks[8]["usage"],
        json!({ "prompt_tokens": 100, "completion_tokens": 15, "total_tokens": 115, "prompt_tokens_details": { "cached_tokens": 80 } })
    );
    assert_eq!(chunks[9], json!("[DONE]"));
    for c in &chunks[..9] {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["model"], "claude-alias");
        assert_eq!(c["created"], 42);
        assert_eq!(c["id"], chunks[0]["id"]);
    }
    assert!(t.usage().reported);
    assert_eq!(t.usage().output_tokens, 15);
}

#[test]
fn no_usage_chunk_unless_asked() {
    let (chunks, _) = run(&anthropic_stream(&claude_stream()), false);
    assert_eq!(chunks.len(), 9);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
}

#[test]
fn error_event_becomes_error_chunk() {
    let mut events = claude_stream();
    events.truncate(8);
    events.push(json!({ "type": "error", "error": { "type": "overloaded_error", "message": "Overloaded" } }));
    let (chunks, _) = run(&anthropic_stream(&events), true);
    let last = chunks.last().unwrap();
    assert_eq!(last["error"]["type"], "overloaded_error");
    assert!(last["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Overloaded"));
    assert!(!chunks.contains(&json!("[DONE]")));
}

#[test]
fn eof_before_message_stop_is_an_error_chunk() {
    let mut events = claude_stream();
    events.truncate(9);
    let (chunks, t) = run(&anthropic_stream(&events), false);
    assert_eq!(chunks.last().unwrap()["error"]["type"], "server_error");
    assert!(!t.usage().reported);
    assert_eq!(t.usage().input_tokens, 20);
    assert_eq!(t.usage().output_tokens, 3); // "hmm" + "Hi " + "there" = 11 bytes ≈ 3 tokens
}

#[test]
fn gateway_failure_on_openai_stream() {
    let mut t = AnthropicToOpenAiStream::new(ToOpenAiResponseOptions::new("m", 0));
    let out = t.fail(StreamFailure::Api, "gateway gave up");
    assert_eq!(
        sse_events(&out)[0].1["error"],
        json!({ "message": "gateway gave up", "type": "server_error", "param": null, "code": null })
    );
    assert!(t.is_done());
}
