//! OpenAI SSE → Anthropic SSE: recorded-style upstream streams to the exact event sequence.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{openai_stream, sse_events};
use crate::translate::{
    OpenAiToAnthropicStream, StreamFailure, StreamTranslator, ToAnthropicOptions,
};

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({ "id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1, "model": "glm",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] })
}

fn usage_chunk(prompt: u64, completion: u64, cached: u64) -> Value {
    json!({ "id": "chatcmpl-abc", "object": "chat.completion.chunk", "choices": [],
        "usage": { "prompt_tokens": prompt, "completion_tokens": completion, "prompt_tokens_details": { "cached_tokens": cached } } })
}

fn translator() -> OpenAiToAnthropicStream {
    OpenAiToAnthropicStream::new(ToAnthropicOptions::new("claude-opus-5-5"))
}

fn run(input: &str) -> (Vec<(String, Value)>, OpenAiToAnthropicStream) {
    let mut t = translator();
    let mut out = t.feed(input.as_bytes());
    out.extend(t.finish());
    (sse_events(&out), t)
}

/// A compact trace: `name` or `name@index:block_type`.
fn trace(events: &[(String, Value)]) -> Vec<String> {
    events
        .iter()
        .map(|(n, v)| match n.as_str() {
            "content_block_start" => format!(
                "{n}@{}:{}",
                v["index"],
                v["content_block"]["type"].as_str().unwrap()
            ),
            "content_block_delta" => format!(
                "{n}@{}:{}",
                v["index"],
                v["delta"]["type"].as_str().unwrap()
            ),
            "content_block_stop" => format!("{n}@{}", v["index"]),
            _ => n.clone(),
        })
        .collect()
}

/// Concatenated delta payloads per block index.
fn deltas(events: &[(String, Value)]) -> BTreeMap<u64, String> {
    let mut m = BTreeMap::new();
    for (n, v) in events {
        if n == "content_block_delta" {
            let d = &v["delta"];
            let s = d["text"]
                .as_str()
                .or(d["thinking"].as_str())
                .or(d["partial_json"].as_str())
                .unwrap();
            m.entry(v["index"].as_u64().unwrap())
                .or_insert_with(String::new)
                .push_str(s);
        }
    }
    m
}

fn message_delta(events: &[(String, Value)]) -> &Value {
    &events.iter().find(|(n, _)| n == "message_delta").unwrap().1
}

#[test]
fn text_only_stream() {
    let input = openai_stream(
        &[
            chunk(json!({ "role": "assistant", "content": "" }), None),
            chunk(json!({ "content": "Hel" }), None),
            chunk(json!({ "content": "lo ✓" }), None),
            chunk(json!({}), Some("stop")),
            usage_chunk(12, 3, 0),
        ],
        true,
    );
    let (ev, t) = run(&input);
    assert_eq!(
        trace(&ev),
        [
            "message_start",
            "ping",
            "content_block_start@0:text",
            "content_block_delta@0:text_delta",
            "content_block_delta@0:text_delta",
            "content_block_stop@0",
            "message_delta",
            "message_stop",
        ]
    );
    let start = &ev[0].1["message"];
    assert!(start["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(start["model"], "claude-opus-5-5");
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["usage"]["output_tokens"], 1);
    assert_eq!(deltas(&ev)[&0], "Hello ✓");
    let md = message_delta(&ev);
    assert_eq!(
        md["delta"],
        json!({ "stop_reason": "end_turn", "stop_sequence": null })
    );
    assert_eq!(
        md["usage"],
        json!({ "output_tokens": 3, "input_tokens": 12, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0 })
    );
    let u = t.usage();
    assert!(u.reported);
    assert_eq!((u.input_tokens, u.output_tokens), (12, 3));
    assert!(t.is_done());
}

#[test]
fn thinking_then_text() {
    let input = openai_stream(
        &[
            chunk(
                json!({ "role": "assistant", "reasoning_content": "Let me" }),
                None,
            ),
            chunk(json!({ "reasoning_content": " think" }), None),
            chunk(json!({ "content": "Answer" }), None),
            chunk(json!({}), Some("stop")),
        ],
        true,
    );
    let (ev, _) = run(&input);
    assert_eq!(
        trace(&ev),
        [
            "message_start",
            "ping",
            "content_block_start@0:thinking",
            "content_block_delta@0:thinking_delta",
            "content_block_delta@0:thinking_delta",
            "content_block_stop@0",
            "content_block_start@1:text",
            "content_block_delta@1:text_delta",
            "content_block_stop@1",
            "message_delta",
            "message_stop",
        ]
    );
    assert_eq!(
        ev[2].1["content_block"],
        json!({ "type": "thinking", "thinking": "", "signature": "" })
    );
    let d = deltas(&ev);
    assert_eq!((d[&0].as_str(), d[&1].as_str()), ("Let me think", "Answer"));
}

#[test]
fn text_and_two_parallel_tool_calls() {
    let tc = |index: u64, id: Option<&str>, name: Option<&str>, args: &str| {
        let mut c = json!({ "index": index, "function": { "arguments": args } });
        if let Some(id) = id {
            c["id"] = json!(id);
            c["type"] = json!("function");
        }
        if let Some(n) = name {
            c["function"]["name"] = json!(n);
        }
        chunk(json!({ "tool_calls": [c] }), None)
    };
    let input = openai_stream(
        &[
            chunk(
                json!({ "role": "assistant", "content": "Running both." }),
                None,
            ),
            tc(0, Some("call_1"), Some("Bash"), ""),
            tc(0, None, None, "{\"command\":"),
            tc(0, None, None, "\"ls\"}"),
            tc(1, Some("call_2"), Some("Read"), "{\"file_path\":\"/a\"}"),
            chunk(json!({}), Some("tool_calls")),
            usage_chunk(100, 40, 60),
        ],
        true,
    );
    let (ev, _) = run(&input);
    assert_eq!(
        trace(&ev),
        [
            "message_start",
            "ping",
            "content_block_start@0:text",
            "content_block_delta@0:text_delta",
            "content_block_stop@0",
            "content_block_start@1:tool_use",
            "content_block_delta@1:input_json_delta",
            "content_block_delta@1:input_json_delta",
            "content_block_stop@1",
            "content_block_start@2:tool_use",
            "content_block_delta@2:input_json_delta",
            "content_block_stop@2",
            "message_delta",
            "message_stop",
        ]
    );
    assert_eq!(
        ev[5].1["content_block"],
        json!({ "type": "tool_use", "id": "call_1", "name": "Bash", "input": {} })
    );
    assert_eq!(ev[9].1["content_block"]["id"], "call_2");
    let d = deltas(&ev);
    assert_eq!(
        serde_json::from_str::<Value>(&d[&1]).unwrap(),
        json!({ "command": "ls" })
    );
    assert_eq!(
        serde_json::from_str::<Value>(&d[&2]).unwrap(),
        json!({ "file_path": "/a" })
    );
    let md = message_delta(&ev);
    assert_eq!(md["delta"]["stop_reason"], "tool_use");
    assert_eq!(
        md["usage"],
        json!({ "output_tokens": 40, "input_tokens": 40, "cache_read_input_tokens": 60, "cache_creation_input_tokens": 0 })
    );
}

#[test]
fn missing_done_and_finish_reason_ends_with_error_event() {
    let input = openai_stream(&[chunk(json!({ "content": "partial answ" }), None)], false);
    let (ev, t) = run(&input);
    assert_eq!(
        trace(&ev),
        [
            "message_start",
            "ping",
            "content_block_start@0:text",
            "content_block_delta@0:text_delta",
            "error"
        ]
    );
    assert_eq!(ev[4].1["error"]["type"], "api_error");
    let u = t.usage();
    assert!(!u.reported);
    assert_eq!(u.output_tokens, 3);
}

#[test]
fn empty_upstream_is_an_error_not_a_silent_cut() {
    let (ev, _) = run("");
    assert_eq!(trace(&ev), ["error"]);
}

#[test]
fn finish_reason_without_done_still_completes() {
    let input = openai_stream(
        &[
            chunk(json!({ "content": "ok" }), None),
            chunk(json!({}), Some("length")),
        ],
        false,
    );
    let (ev, t) = run(&input);
    assert_eq!(trace(&ev).last().map(String::as_str), Some("message_stop"));
    assert_eq!(message_delta(&ev)["delta"]["stop_reason"], "max_tokens");
    assert!(!t.usage().reported);
}

#[test]
fn error_chunk_mid_stream_becomes_error_event() {
    let mut input = openai_stream(&[chunk(json!({ "content": "so far" }), None)], false);
    input.push_str("data: {\"error\":{\"message\":\"Provider returned error\",\"code\":429}}\n\n");
    input.push_str(&openai_stream(
        &[chunk(json!({ "content": "ignored" }), None)],
        true,
    ));
    let (ev, _) = run(&input);
    assert_eq!(
        trace(&ev),
        [
            "message_start",
            "ping",
            "content_block_start@0:text",
            "content_block_delta@0:text_delta",
            "error"
        ]
    );
    assert_eq!(ev[4].1["error"]["type"], "rate_limit_error");
    assert!(ev[4].1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Provider returned error"));
}

#[test]
fn gateway_failure_and_nothing_after() {
    let mut t = translator();
    let mut out =
        t.feed(openai_stream(&[chunk(json!({ "content": "a" }), None)], false).as_bytes());
    out.extend(t.fail(StreamFailure::Overloaded, "upstream timed out; retry"));
    assert!(t
        .feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n")
        .is_empty());
    assert!(t.finish().is_empty());
    assert!(t.fail(StreamFailure::Api, "again").is_empty());
    let ev = sse_events(&out);
    assert_eq!(
        ev.last().unwrap().1,
        json!({ "type": "error", "error": { "type": "overloaded_error", "message": "upstream timed out; retry" } })
    );
}

#[test]
fn comments_crlf_and_openrouter_processing_lines_are_ignored() {
    let body = format!(
        ": OPENROUTER PROCESSING\r\n\r\ndata: {}\r\n\r\n: keep-alive\r\n\r\ndata: {}\r\n\r\ndata: [DONE]\r\n\r\n",
        chunk(json!({ "content": "hi" }), None),
        chunk(json!({}), Some("stop"))
    );
    let (ev, _) = run(&body);
    assert_eq!(trace(&ev).len(), 7);
    assert_eq!(deltas(&ev)[&0], "hi");
}

#[test]
fn tool_calls_without_index_and_ollama_stop() {
    let call = |id: &str, name: &str| json!({ "id": id, "type": "function", "function": { "name": name, "arguments": "{}" } });
    let input = openai_stream(
        &[
            chunk(
                json!({ "tool_calls": [call("a", "A"), call("b", "B")] }),
                None,
            ),
            chunk(json!({}), Some("stop")),
        ],
        true,
    );
    let (ev, _) = run(&input);
    let starts: Vec<&Value> = ev
        .iter()
        .filter(|(n, _)| n == "content_block_start")
        .map(|(_, v)| &v["content_block"]["id"])
        .collect();
    assert_eq!(starts, [&json!("a"), &json!("b")]);
    assert_eq!(message_delta(&ev)["delta"]["stop_reason"], "tool_use");
}

#[test]
fn interleaved_tool_arguments_reach_their_own_block() {
    let tc = |index: u64, extra: Value| {
        chunk(
            json!({ "tool_calls": [json!({ "index": index, "function": extra })] }),
            None,
        )
    };
    let input = openai_stream(
        &[
            chunk(
                json!({ "tool_calls": [{ "index": 0, "id": "x", "function": { "name": "X", "arguments": "{\"a\":" } }] }),
                None,
            ),
            chunk(
                json!({ "tool_calls": [{ "index": 1, "id": "y", "function": { "name": "Y", "arguments": "{\"b\":2}" } }] }),
                None,
            ),
            tc(0, json!({ "arguments": "1}" })),
            chunk(json!({}), Some("tool_calls")),
        ],
        true,
    );
    let (ev, _) = run(&input);
    let d = deltas(&ev);
    assert_eq!(d[&0], "{\"a\":1}");
    assert_eq!(d[&1], "{\"b\":2}");
}

#[test]
fn input_estimate_goes_into_message_start() {
    let mut t = OpenAiToAnthropicStream::new(ToAnthropicOptions {
        input_tokens_estimate: Some(1234),
        ..ToAnthropicOptions::new("m")
    });
    let out = t.feed(openai_stream(&[chunk(json!({ "content": "a" }), None)], false).as_bytes());
    assert_eq!(
        sse_events(&out)[0].1["message"]["usage"]["input_tokens"],
        1234
    );
}

#[test]
fn repeated_keys_read_like_before_the_last_one_wins() {
    let input = "data: {\"choices\":[{\"delta\":{\"content\":\"first\",\"content\":\"last\"}}],\"choices\":[{\"delta\":{\"content\":\"final\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    let (ev, _) = run(input);
    assert_eq!(deltas(&ev)[&0], "final");
    assert_eq!(message_delta(&ev)["delta"]["stop_reason"], "end_turn");
}

#[test]
fn fields_of_the_wrong_type_read_as_absent() {
    let input = openai_stream(
        &[
            json!({ "id": 7, "usage": [1], "choices": [{ "delta": { "content": ["part"], "reasoning_content": "", "reasoning": "r",
                "tool_calls": [1, { "index": -1, "id": "", "function": { "name": 2, "arguments": { "a": 1 } } }] },
                "finish_reason": 3 }] }),
            json!({ "choices": [{ "delta": null, "finish_reason": "length" }], "usage": { "prompt_tokens": "9", "completion_tokens": 2.0 } }),
        ],
        true,
    );
    let (ev, t) = run(&input);
    assert_eq!(
        trace(&ev),
        [
            "message_start",
            "ping",
            "content_block_start@0:thinking",
            "content_block_delta@0:thinking_delta",
            "content_block_stop@0",
            "content_block_start@1:tool_use",
            "content_block_delta@1:input_json_delta",
            "content_block_stop@1",
            "message_delta",
            "message_stop",
        ]
    );
    // Neither call has a usable index or id, so the second continues the first.
    assert_eq!(deltas(&ev)[&1], "{\"a\":1}");
    assert_eq!(message_delta(&ev)["delta"]["stop_reason"], "max_tokens");
    assert_eq!((t.usage().input_tokens, t.usage().output_tokens), (0, 2));
}

#[test]
fn openrouter_cache_reads_and_writes_become_anthropic_cache_counters() {
    let usage = json!({ "id": "chatcmpl-abc", "choices": [], "usage": { "prompt_tokens": 1000, "completion_tokens": 5,
        "prompt_tokens_details": { "cached_tokens": 600, "cache_write_tokens": 300 } } });
    let input = openai_stream(&[chunk(json!({ "content": "ok" }), Some("stop")), usage.clone()], true);
    let (ev, t) = run(&input);
    assert_eq!(
        message_delta(&ev)["usage"],
        json!({ "output_tokens": 5, "input_tokens": 100, "cache_read_input_tokens": 600, "cache_creation_input_tokens": 300 })
    );
    assert_eq!(t.usage().prompt_tokens(), 1000);
    let body = json!({ "id": "chatcmpl-abc", "choices": [{ "index": 0, "message": { "role": "assistant", "content": "ok" }, "finish_reason": "stop" }],
        "usage": usage["usage"] });
    let whole = crate::translate::openai_response_to_anthropic(&serde_json::to_vec(&body).unwrap(), &ToAnthropicOptions::new("c")).unwrap();
    let whole: Value = serde_json::from_slice(&whole.body).unwrap();
    assert_eq!(whole["usage"], json!({ "input_tokens": 100, "output_tokens": 5, "cache_read_input_tokens": 600, "cache_creation_input_tokens": 300 }));
}
