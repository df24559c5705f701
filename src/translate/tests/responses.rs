//! Non-streaming responses, both directions.

use serde_json::{json, Value};

use super::json_of;
use crate::translate::{
    anthropic_response_to_openai, openai_response_to_anthropic, ToAnthropicOptions,
    ToOpenAiResponseOptions, TranslateError,
};

fn oa_response(message: Value, finish: &str) -> Value {
    json!({ "id": "chatcmpl-123", "object": "chat.completion", "model": "glm-4.5",
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
        "usage": { "prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120, "prompt_tokens_details": { "cached_tokens": 30 } } })
}

fn to_anthropic(body: &Value) -> Value {
    let t = openai_response_to_anthropic(
        body.to_string().as_bytes(),
        &ToAnthropicOptions::new("claude-opus-5-5"),
    )
    .unwrap();
    json_of(&t.body)
}

#[test]
fn text_response_maps_id_model_stop_and_usage() {
    let out = to_anthropic(&oa_response(
        json!({ "role": "assistant", "content": "hi" }),
        "stop",
    ));
    let id = out["id"].as_str().unwrap();
    assert!(id.starts_with("msg_") && id.len() == 28, "{id}");
    assert_eq!(out["type"], "message");
    assert_eq!(out["role"], "assistant");
    assert_eq!(out["model"], "claude-opus-5-5");
    assert_eq!(out["content"], json!([{ "type": "text", "text": "hi" }]));
    assert_eq!(out["stop_reason"], "end_turn");
    assert_eq!(out["stop_sequence"], Value::Null);
    assert_eq!(
        out["usage"],
        json!({ "input_tokens": 70, "output_tokens": 20, "cache_read_input_tokens": 30, "cache_creation_input_tokens": 0 })
    );
    // deterministic in the upstream id
    assert_eq!(
        to_anthropic(&oa_response(json!({ "content": "other" }), "stop"))["id"],
        out["id"]
    );
    let mut other = oa_response(json!({ "content": "hi" }), "stop");
    other["id"] = json!("chatcmpl-456");
    assert_ne!(to_anthropic(&other)["id"], out["id"]);
}

#[test]
fn content_order_is_thinking_text_tools() {
    let msg = json!({ "role": "assistant", "content": "let me check", "reasoning_content": "user wants ls",
        "tool_calls": [
            { "id": "call_a", "type": "function", "function": { "name": "Bash", "arguments": "{\"command\":\"ls\"}" } },
            { "id": "call_b", "type": "function", "function": { "name": "Read", "arguments": "{broken" } },
            { "type": "function", "function": { "name": "Empty", "arguments": "" } }
        ] });
    let out = to_anthropic(&oa_response(msg, "tool_calls"));
    let c = out["content"].as_array().unwrap();
    assert_eq!(
        c[0],
        json!({ "type": "thinking", "thinking": "user wants ls", "signature": "" })
    );
    assert_eq!(c[1], json!({ "type": "text", "text": "let me check" }));
    assert_eq!(
        c[2],
        json!({ "type": "tool_use", "id": "call_a", "name": "Bash", "input": { "command": "ls" } })
    );
    assert_eq!(c[3]["input"], json!({ "_raw": "{broken" }));
    assert_eq!(c[4]["input"], json!({}));
    assert!(c[4]["id"].as_str().unwrap().starts_with("toolu_"));
    assert_eq!(out["stop_reason"], "tool_use");
}

#[test]
fn openrouter_reasoning_field_and_deepseek_cache_hits() {
    let mut body = oa_response(json!({ "content": "x", "reasoning": "because" }), "stop");
    body["usage"] =
        json!({ "prompt_tokens": 50, "completion_tokens": 5, "prompt_cache_hit_tokens": 40 });
    let out = to_anthropic(&body);
    assert_eq!(out["content"][0]["thinking"], "because");
    assert_eq!(out["usage"]["input_tokens"], 10);
    assert_eq!(out["usage"]["cache_read_input_tokens"], 40);
}

#[test]
fn finish_reason_table() {
    let call =
        json!([{ "id": "c", "type": "function", "function": { "name": "f", "arguments": "{}" } }]);
    let cases = [
        (json!({ "content": "x" }), "stop", "end_turn"),
        (json!({ "content": "x" }), "length", "max_tokens"),
        (
            json!({ "content": null, "tool_calls": call.clone() }),
            "tool_calls",
            "tool_use",
        ),
        (
            json!({ "content": null, "tool_calls": call.clone() }),
            "stop",
            "tool_use",
        ),
        (
            json!({ "content": null, "function_call": { "name": "f", "arguments": "{}" } }),
            "function_call",
            "tool_use",
        ),
        (json!({ "content": "" }), "content_filter", "refusal"),
        (
            json!({ "content": null, "refusal": "no" }),
            "stop",
            "refusal",
        ),
    ];
    for (msg, finish, expected) in cases {
        let out = to_anthropic(&oa_response(msg.clone(), finish));
        assert_eq!(out["stop_reason"], expected, "{msg} / {finish}");
    }
}

#[test]
fn vllm_stop_reason_reports_the_stop_sequence() {
    let mut body = oa_response(json!({ "content": "a" }), "stop");
    body["choices"][0]["stop_reason"] = json!("###");
    let opts = ToAnthropicOptions {
        stop_sequences: vec!["###".into()],
        ..ToAnthropicOptions::new("m")
    };
    let out = json_of(
        &openai_response_to_anthropic(body.to_string().as_bytes(), &opts)
            .unwrap()
            .body,
    );
    assert_eq!(out["stop_reason"], "stop_sequence");
    assert_eq!(out["stop_sequence"], "###");
    body["choices"][0]["stop_reason"] = json!(151643); // a token id: not a stop sequence
    assert_eq!(to_anthropic(&body)["stop_reason"], "end_turn");
}

#[test]
fn openai_response_errors() {
    let opts = ToAnthropicOptions::new("m");
    assert!(matches!(
        openai_response_to_anthropic(b"<html>", &opts),
        Err(TranslateError::NotJson { .. })
    ));
    let e =
        openai_response_to_anthropic(br#"{"error":{"message":"no credits","code":402}}"#, &opts)
            .unwrap_err();
    assert_eq!(
        e,
        TranslateError::UpstreamReported {
            message: "no credits".into()
        }
    );
    assert_eq!(e.status(), 502);
    let e = openai_response_to_anthropic(br#"{"id":"x"}"#, &opts).unwrap_err();
    assert_eq!(
        e,
        TranslateError::InvalidResponse {
            path: "choices".into(),
            expected: "an array (required)"
        }
    );
}

fn an_response(content: Value, stop: &str) -> Value {
    json!({ "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet", "content": content,
        "stop_reason": stop, "stop_sequence": null,
        "usage": { "input_tokens": 10, "output_tokens": 7, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5 } })
}

fn to_openai(body: &Value) -> Value {
    let t = anthropic_response_to_openai(
        body.to_string().as_bytes(),
        &ToOpenAiResponseOptions::new("gpt-alias", 1700000000),
    )
    .unwrap();
    json_of(&t.body)
}

#[test]
fn anthropic_response_to_openai_maps_everything() {
    let out = to_openai(&an_response(
        json!([
            { "type": "thinking", "thinking": "hmm", "signature": "s" },
            { "type": "text", "text": "a" },
            { "type": "text", "text": "b" },
            { "type": "tool_use", "id": "toolu_1", "name": "f", "input": { "x": 1 } }
        ]),
        "tool_use",
    ));
    assert!(out["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(out["object"], "chat.completion");
    assert_eq!(out["created"], 1700000000);
    assert_eq!(out["model"], "gpt-alias");
    let m = &out["choices"][0]["message"];
    assert_eq!(m["content"], "ab");
    assert_eq!(m["reasoning_content"], "hmm");
    assert_eq!(
        m["tool_calls"],
        json!([{ "id": "toolu_1", "type": "function", "function": { "name": "f", "arguments": "{\"x\":1}" } }])
    );
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        out["usage"],
        json!({ "prompt_tokens": 115, "completion_tokens": 7, "total_tokens": 122, "prompt_tokens_details": { "cached_tokens": 100 } })
    );
}

#[test]
fn anthropic_stop_reason_table() {
    for (stop, finish) in [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("stop_sequence", "stop"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        ("model_context_window_exceeded", "length"),
    ] {
        let out = to_openai(&an_response(json!([{ "type": "text", "text": "x" }]), stop));
        assert_eq!(out["choices"][0]["finish_reason"], finish, "{stop}");
    }
}

#[test]
fn anthropic_error_body_is_reported() {
    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let e = anthropic_response_to_openai(body, &ToOpenAiResponseOptions::new("m", 0)).unwrap_err();
    assert_eq!(
        e,
        TranslateError::UpstreamReported {
            message: "Overloaded".into()
        }
    );
}
