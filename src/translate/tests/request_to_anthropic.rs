//! OpenAI request → Anthropic request: one test per mapping row.

use serde_json::{json, Value};

use super::{json_of, to_anthropic};
use crate::translate::{
    openai_request_to_anthropic, wants_usage_chunk, ToAnthropicRequestOptions, TranslateError,
};

fn req(messages: Value) -> Value {
    json!({ "model": "gpt-x", "messages": messages })
}

#[test]
fn system_and_developer_messages_become_system() {
    let r = req(json!([
        { "role": "system", "content": "one" },
        { "role": "developer", "content": [{ "type": "text", "text": "two" }] },
        { "role": "user", "content": "hi" },
        { "role": "system", "content": "late" }
    ]));
    let (out, notes) = to_anthropic(r);
    assert_eq!(out["model"], "claude-up");
    assert_eq!(out["system"], "one\n\ntwo\n\nlate");
    assert_eq!(
        out["messages"],
        json!([{ "role": "user", "content": [{ "type": "text", "text": "hi" }] }])
    );
    assert!(notes.degraded.contains(&"system_messages_moved"));
}

#[test]
fn image_parts_become_image_blocks() {
    let r = req(json!([{ "role": "user", "content": [
        { "type": "text", "text": "see" },
        { "type": "image_url", "image_url": { "url": "data:image/png;base64,AAA=", "detail": "high" } },
        { "type": "image_url", "image_url": { "url": "https://e.x/cat.png" } }
    ] }]));
    let (out, _) = to_anthropic(r);
    assert_eq!(
        out["messages"][0]["content"],
        json!([
            { "type": "text", "text": "see" },
            { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": "AAA=" } },
            { "type": "image", "source": { "type": "url", "url": "https://e.x/cat.png" } }
        ])
    );
}

#[test]
fn tool_calls_and_tool_messages_round_trip() {
    let r = req(json!([
        { "role": "user", "content": "weather?" },
        { "role": "assistant", "content": null, "tool_calls": [
            { "id": "call_1", "type": "function", "function": { "name": "get", "arguments": "{\"city\":\"Oslo\"}" } },
            { "id": "call_2", "type": "function", "function": { "name": "get", "arguments": "not json" } }
        ] },
        { "role": "tool", "tool_call_id": "call_1", "content": "cold" },
        { "role": "tool", "tool_call_id": "call_2", "content": [{ "type": "text", "text": "warm" }] },
        { "role": "user", "content": "thanks" }
    ]));
    let (out, notes) = to_anthropic(r);
    let msgs = out["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(
        msgs[1]["content"],
        json!([
            { "type": "tool_use", "id": "call_1", "name": "get", "input": { "city": "Oslo" } },
            { "type": "tool_use", "id": "call_2", "name": "get", "input": { "_raw": "not json" } }
        ])
    );
    assert_eq!(
        msgs[2]["content"],
        json!([
            { "type": "tool_result", "tool_use_id": "call_1", "content": "cold" },
            { "type": "tool_result", "tool_use_id": "call_2", "content": "warm" },
            { "type": "text", "text": "thanks" }
        ])
    );
    assert!(notes.degraded.contains(&"tool_arguments_unparsable"));
}

#[test]
fn tools_and_tool_choice_table() {
    let cases = [
        (json!("auto"), None, json!({ "type": "auto" })),
        (json!("required"), None, json!({ "type": "any" })),
        (json!("none"), None, json!({ "type": "none" })),
        (
            json!({ "type": "function", "function": { "name": "f" } }),
            None,
            json!({ "type": "tool", "name": "f" }),
        ),
        (
            Value::Null,
            Some(false),
            json!({ "type": "auto", "disable_parallel_tool_use": true }),
        ),
        (
            json!("required"),
            Some(false),
            json!({ "type": "any", "disable_parallel_tool_use": true }),
        ),
    ];
    for (choice, parallel, expected) in cases {
        let mut r = req(json!([{ "role": "user", "content": "hi" }]));
        r["tools"] = json!([{ "type": "function", "function": { "name": "f", "description": "d", "parameters": { "type": "object", "properties": {} }, "strict": true } }]);
        r["tool_choice"] = choice.clone();
        if let Some(p) = parallel {
            r["parallel_tool_calls"] = json!(p);
        }
        let (out, notes) = to_anthropic(r);
        assert_eq!(
            out["tools"],
            json!([{ "name": "f", "description": "d", "input_schema": { "type": "object", "properties": {} } }])
        );
        assert_eq!(out["tool_choice"], expected, "for {choice} / {parallel:?}");
        assert!(notes.dropped.contains(&"tool_strict"));
    }
}

#[test]
fn max_tokens_precedence_and_default() {
    let base = req(json!([{ "role": "user", "content": "hi" }]));
    assert_eq!(to_anthropic(base.clone()).0["max_tokens"], 4096);
    let mut r = base.clone();
    r["max_tokens"] = json!(77);
    assert_eq!(to_anthropic(r.clone()).0["max_tokens"], 77);
    r["max_completion_tokens"] = json!(88);
    assert_eq!(to_anthropic(r).0["max_tokens"], 88);
}

#[test]
fn stop_user_stream_and_sampling() {
    let mut r = req(json!([{ "role": "user", "content": "hi" }]));
    r["stop"] = json!("END");
    r["user"] = json!("alice");
    r["stream"] = json!(true);
    r["stream_options"] = json!({ "include_usage": true });
    r["temperature"] = json!(1.7);
    r["top_p"] = json!(0.5);
    r["n"] = json!(1);
    let (out, notes) = to_anthropic(r.clone());
    assert_eq!(out["stop_sequences"], json!(["END"]));
    assert_eq!(out["metadata"], json!({ "user_id": "alice" }));
    assert_eq!(out["stream"], true);
    assert_eq!(out["temperature"], 1.0);
    assert_eq!(out["top_p"], 0.5);
    assert!(out.get("stream_options").is_none() && out.get("n").is_none());
    assert!(notes.degraded.contains(&"temperature_clamped"));
    assert!(!notes.dropped.contains(&"unknown_fields"), "{notes:?}");
    assert!(wants_usage_chunk(&r));
    r["stop"] = json!(["a", "b"]);
    assert_eq!(to_anthropic(r).0["stop_sequences"], json!(["a", "b"]));
}

#[test]
fn n_greater_than_one_is_rejected() {
    let mut r = req(json!([{ "role": "user", "content": "hi" }]));
    r["n"] = json!(2);
    let err = openai_request_to_anthropic(&r, &ToAnthropicRequestOptions::new("c")).unwrap_err();
    assert_eq!(
        err,
        TranslateError::Unsupported {
            path: "n".into(),
            reason: "n>1 is not supported"
        }
    );
    assert_eq!(
        err.to_string(),
        "unsupported request: `n`: n>1 is not supported"
    );
}

#[test]
fn reasoning_effort_becomes_thinking_budget() {
    for (effort, max, expected) in [
        ("low", 8000, Some(2048)),
        ("medium", 20000, Some(8192)),
        ("high", 64000, Some(24576)),
        ("high", 5000, Some(4999)),
        ("high", 1000, None),
        ("minimal", 8000, None),
    ] {
        let mut r = req(json!([{ "role": "user", "content": "hi" }]));
        r["reasoning_effort"] = json!(effort);
        r["max_tokens"] = json!(max);
        r["temperature"] = json!(0.2);
        let (out, notes) = to_anthropic(r);
        match expected {
            Some(b) => {
                assert_eq!(
                    out["thinking"],
                    json!({ "type": "enabled", "budget_tokens": b }),
                    "{effort}/{max}"
                );
                assert!(out.get("temperature").is_none());
                assert!(notes.dropped.contains(&"temperature"));
            }
            None => {
                assert!(out.get("thinking").is_none(), "{effort}/{max}");
                assert_eq!(out["temperature"], 0.2);
            }
        }
    }
    let mut r = req(json!([{ "role": "user", "content": "hi" }]));
    r["reasoning_effort"] = json!("high");
    let opts = ToAnthropicRequestOptions {
        thinking: false,
        ..ToAnthropicRequestOptions::new("claude-haiku")
    };
    let t = openai_request_to_anthropic(&r, &opts).unwrap();
    assert!(json_of(&t.body).get("thinking").is_none());
    assert!(t.notes.dropped.contains(&"reasoning_effort"));
}

#[test]
fn openai_only_fields_are_reported() {
    let mut r = req(json!([{ "role": "user", "content": "hi" }]));
    r["frequency_penalty"] = json!(0.1);
    r["logprobs"] = json!(true);
    r["seed"] = json!(7);
    r["response_format"] = json!({ "type": "json_object" });
    r["mystery"] = json!(true);
    let (_, notes) = to_anthropic(r);
    for n in [
        "frequency_penalty",
        "logprobs",
        "seed",
        "response_format",
        "unknown_fields",
    ] {
        assert!(notes.dropped.contains(&n), "{n} missing from {notes:?}");
    }
}

#[test]
fn invalid_openai_requests_name_the_path() {
    let opts = ToAnthropicRequestOptions::new("c");
    let cases = [
        (json!({ "model": "m" }), "messages"),
        (
            json!({ "messages": [{ "content": "x" }] }),
            "messages[0].role",
        ),
        (
            json!({ "messages": [{ "role": "tool", "content": "x" }] }),
            "messages[0].tool_call_id",
        ),
        (
            json!({ "messages": [{ "role": "user", "content": [{ "type": "image_url", "image_url": { "url": "data:image/png,AAA" } }] }] }),
            "messages[0].content[0].image_url",
        ),
        (
            json!({ "messages": [{ "role": "assistant", "tool_calls": [{ "id": "c", "function": {} }] }] }),
            "messages[0].tool_calls[0].function.name",
        ),
        (json!({ "messages": [], "stop": 3 }), "stop"),
    ];
    for (body, path) in cases {
        match openai_request_to_anthropic(&body, &opts) {
            Err(TranslateError::InvalidRequest { path: p, .. }) => {
                assert_eq!(p, path, "for {body}")
            }
            other => panic!("expected InvalidRequest at {path} for {body}, got {other:?}"),
        }
    }
}

#[test]
fn openrouter_style_cache_markers_on_parts_stay_on_their_blocks() {
    let eph = json!({ "type": "ephemeral" });
    let (out, _) = to_anthropic(json!({ "model": "m", "messages": [
        { "role": "system", "content": [{ "type": "text", "text": "rules", "cache_control": eph }] },
        { "role": "user", "content": [{ "type": "text", "text": "a" }, { "type": "text", "text": "b", "cache_control": eph }] },
        { "role": "assistant", "content": null, "tool_calls": [{ "id": "c1", "type": "function", "function": { "name": "f", "arguments": "{}" } }] },
        { "role": "tool", "tool_call_id": "c1", "content": [{ "type": "text", "text": "done", "cache_control": eph }] }
    ] }));
    assert_eq!(out["system"], json!([{ "type": "text", "text": "rules", "cache_control": eph }]));
    assert_eq!(out["messages"][0]["content"][1], json!({ "type": "text", "text": "b", "cache_control": eph }));
    assert!(out["messages"][0]["content"][0].get("cache_control").is_none());
    assert_eq!(out["messages"][2]["content"][0]["cache_control"], eph);
    let (plain, _) = to_anthropic(json!({ "model": "m", "messages": [{ "role": "system", "content": "s" }, { "role": "user", "content": "u" }] }));
    assert_eq!(plain["system"], "s", "no markers: the system prompt stays one string");
}
