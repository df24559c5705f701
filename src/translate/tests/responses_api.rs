//! The Responses API translators: request → Chat (and on to Anthropic), Chat and Anthropic answers and streams
//! → Response objects and the typed event sequence.

use serde_json::{json, Value};

use super::{anthropic_stream, json_of, openai_stream, sse_events};
use crate::translate::responses::{
    anthropic_response_to_responses, chat_response_to_responses, responses_request_to_anthropic,
    responses_request_to_chat, AnthropicToResponsesStream, ChatToResponsesStream, ResponsesShape,
    Target, ToResponsesOptions,
};
use crate::translate::{Notes, StreamFailure, StreamTranslator};

const CHAT: Target = Target::Chat {
    reasoning_effort: true,
    max_output_tokens: None,
    prompt_cache_key: false,
    gateway_cache_key: None,
};

fn to_chat(req: Value) -> (Value, Notes, ResponsesShape) {
    let t = responses_request_to_chat(&req, "up", &CHAT).unwrap();
    (t.chat, t.notes, t.shape)
}

fn opts(shape: ResponsesShape) -> ToResponsesOptions {
    ToResponsesOptions {
        client_model: "gpt-5-codex".into(),
        created_at: 7,
        shape,
    }
}

#[test]
fn items_become_turns_and_calls_pair_by_call_id_in_any_order() {
    let (chat, notes, _) = to_chat(json!({
        "model": "gpt-5-codex",
        "instructions": "Be a coding agent.",
        "input": [
            { "type": "message", "role": "developer", "content": [{ "type": "input_text", "text": "Sandbox: none." }] },
            { "role": "user", "content": "list files and read a.txt" },
            { "type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAA" },
            { "type": "function_call_output", "call_id": "call_2", "output": "hello" },
            { "type": "message", "role": "assistant", "content": [{ "type": "output_text", "text": "Looking." }] },
            { "type": "function_call", "call_id": "call_1", "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}" },
            { "type": "function_call", "call_id": "call_2", "name": "exec_command", "arguments": "{\"cmd\":\"cat a.txt\"}" },
            { "type": "function_call_output", "call_id": "call_1", "output": [{ "type": "input_text", "text": "a.txt" }] },
            { "type": "function_call_output", "call_id": "call_9", "output": "stray" },
            { "role": "user", "content": [{ "type": "input_text", "text": "see" }, { "type": "input_image", "image_url": "data:image/png;base64,AA", "detail": "high" }] }
        ],
        "tools": [{ "type": "function", "name": "exec_command", "parameters": { "type": "object", "properties": { "cmd": { "type": "string" } } }, "strict": false }],
        "tool_choice": "auto",
        "parallel_tool_calls": true,
        "max_output_tokens": 500,
        "store": false,
        "stream": true
    }));
    assert_eq!(
        chat,
        json!({
            "model": "up",
            "messages": [
                { "role": "system", "content": "Be a coding agent.\n\nSandbox: none." },
                { "role": "user", "content": "list files and read a.txt" },
                { "role": "assistant", "content": "Looking.", "tool_calls": [
                    { "id": "call_1", "type": "function", "function": { "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}" } },
                    { "id": "call_2", "type": "function", "function": { "name": "exec_command", "arguments": "{\"cmd\":\"cat a.txt\"}" } }
                ] },
                { "role": "tool", "tool_call_id": "call_1", "content": "a.txt" },
                { "role": "tool", "tool_call_id": "call_2", "content": "hello" },
                { "role": "user", "content": [{ "type": "text", "text": "see" }, { "type": "image_url", "image_url": { "url": "data:image/png;base64,AA", "detail": "high" } }] },
                { "role": "user", "content": "[result of tool call call_9]\nstray" }
            ],
            "tools": [{ "type": "function", "function": { "name": "exec_command", "parameters": { "type": "object", "properties": { "cmd": { "type": "string" } } } } }],
            "tool_choice": "auto",
            "parallel_tool_calls": true,
            "max_tokens": 500,
            "stream": true,
            "stream_options": { "include_usage": true }
        })
    );
    assert_eq!(notes.dropped, ["reasoning_items", "encrypted_reasoning"]);
    assert_eq!(notes.degraded, ["orphan_tool_outputs"]);
}

#[test]
fn namespace_tools_are_flattened_and_hosted_ones_dropped() {
    let (chat, notes, shape) = to_chat(json!({
        "model": "m",
        "input": [
            { "role": "user", "content": "spawn" },
            { "type": "function_call", "call_id": "c1", "name": "spawn_agent", "namespace": "agents", "arguments": "{}" }
        ],
        "tools": [
            { "type": "namespace", "name": "agents", "description": "Sub-agents.", "tools": [{ "type": "function", "name": "spawn_agent", "description": "Spawn one.", "parameters": { "type": "object" } }] },
            { "type": "web_search", "external_web_access": false },
            { "type": "custom", "name": "apply_patch", "format": { "type": "grammar" } }
        ],
        "tool_choice": { "type": "function", "name": "spawn_agent", "namespace": "agents" },
        "reasoning": { "effort": "high", "summary": "auto" },
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "k",
        "text": { "format": { "type": "json_schema", "name": "out", "schema": { "type": "object" }, "strict": true }, "verbosity": "low" }
    }));
    assert_eq!(
        chat["tools"],
        json!([{ "type": "function", "function": { "name": "agents__spawn_agent", "description": "Spawn one.\n\n(From the `agents` tools: Sub-agents.)", "parameters": { "type": "object" } } }])
    );
    assert_eq!(
        chat["tool_choice"],
        json!({ "type": "function", "function": { "name": "agents__spawn_agent" } })
    );
    assert_eq!(
        chat["messages"][1]["tool_calls"][0]["function"]["name"],
        "agents__spawn_agent"
    );
    assert_eq!(
        chat["messages"][2],
        json!({ "role": "tool", "tool_call_id": "c1", "content": "Error: no result was provided for this tool call." })
    );
    assert_eq!(chat["reasoning_effort"], "high");
    assert_eq!(
        chat["response_format"],
        json!({ "type": "json_schema", "json_schema": { "name": "out", "schema": { "type": "object" }, "strict": true } })
    );
    assert_eq!(
        shape.names.split("agents__spawn_agent"),
        (Some("agents"), "spawn_agent")
    );
    assert!(shape.reasoning_as_summary);
    assert_eq!(
        notes.dropped,
        [
            "hosted_tools",
            "custom_tools",
            "verbosity",
            "include",
            "prompt_cache_key"
        ]
    );
    assert_eq!(
        notes.degraded,
        ["namespace_tools_flattened", "missing_tool_outputs"]
    );
}

#[test]
fn a_prompt_cache_key_goes_to_servers_that_route_by_it_and_the_clients_own_wins() {
    let routes = |gateway: Option<&str>| Target::Chat {
        reasoning_effort: true,
        max_output_tokens: None,
        prompt_cache_key: true,
        gateway_cache_key: gateway.map(str::to_owned),
    };
    let with_key = json!({ "model": "m", "input": "hi", "prompt_cache_key": "codex-session", "prompt_cache_retention": "24h" });
    let t = responses_request_to_chat(&with_key, "up", &routes(Some("sy-gateway"))).unwrap();
    assert_eq!(
        (
            &t.chat["prompt_cache_key"],
            &t.chat["prompt_cache_retention"]
        ),
        (&json!("codex-session"), &json!("24h")),
        "Codex's own key is not overridden"
    );
    assert!(
        !t.notes.dropped.contains(&"prompt_cache_key"),
        "{:?}",
        t.notes.dropped
    );
    let without = json!({ "model": "m", "input": "hi" });
    let t = responses_request_to_chat(&without, "up", &routes(Some("sy-gateway"))).unwrap();
    assert_eq!(t.chat["prompt_cache_key"], "sy-gateway");
    let t = responses_request_to_chat(&without, "up", &routes(None)).unwrap();
    assert!(
        t.chat.get("prompt_cache_key").is_none(),
        "no identity, no key"
    );
    let t = responses_request_to_chat(&with_key, "up", &CHAT).unwrap();
    assert!(
        t.chat.get("prompt_cache_key").is_none() && t.chat.get("prompt_cache_retention").is_none()
    );
    assert!(
        t.notes.dropped.contains(&"prompt_cache_key"),
        "a server that takes no key: dropped, with a note"
    );
}

#[test]
fn reasoning_needs_support_and_state_needs_the_native_api() {
    let req = json!({ "model": "m", "input": "hi", "reasoning": { "effort": "medium" }, "max_output_tokens": 9000 });
    let t = responses_request_to_chat(
        &req,
        "up",
        &Target::Chat {
            reasoning_effort: false,
            max_output_tokens: Some(4096),
            prompt_cache_key: false,
            gateway_cache_key: None,
        },
    )
    .unwrap();
    assert_eq!(
        (t.chat.get("reasoning_effort"), &t.chat["max_tokens"]),
        (None, &json!(4096))
    );
    assert_eq!(
        (t.notes.dropped.as_slice(), t.notes.degraded.as_slice()),
        (&["reasoning"][..], &["max_tokens_clamped"][..])
    );
    for (field, value) in [
        ("previous_response_id", json!("resp_1")),
        ("conversation", json!("conv_1")),
        ("background", json!(true)),
    ] {
        let mut bad = req.clone();
        bad[field] = value;
        let err = responses_request_to_chat(&bad, "up", &CHAT).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains(field), "{err}");
    }
    let reference = json!({ "model": "m", "input": [{ "type": "item_reference", "id": "msg_1" }] });
    assert!(responses_request_to_chat(&reference, "up", &CHAT)
        .unwrap_err()
        .to_string()
        .contains("item_reference"));
    for bad in [
        json!({ "model": "m" }),
        json!({ "model": "m", "input": 5 }),
        json!({ "model": "m", "input": [{ "role": "robot", "content": "x" }] }),
    ] {
        assert_eq!(
            responses_request_to_chat(&bad, "up", &CHAT)
                .unwrap_err()
                .status(),
            400,
            "{bad}"
        );
    }
}

#[test]
fn anthropic_leg_gets_max_tokens_thinking_and_no_thinking_mid_tool_loop() {
    let req = json!({ "model": "m", "input": [{ "role": "user", "content": "hi" }], "instructions": "Sys", "reasoning": { "effort": "low" } });
    let (t, _) = responses_request_to_anthropic(&req, "claude-x", 32000).unwrap();
    let body = json_of(&t.body);
    assert_eq!(body["max_tokens"], 32000);
    assert_eq!(body["system"], "Sys");
    assert_eq!(
        body["thinking"],
        json!({ "type": "enabled", "budget_tokens": 2048 })
    );
    let mid_loop = json!({ "model": "m", "reasoning": { "effort": "low" }, "input": [
        { "role": "user", "content": "go" },
        { "type": "function_call", "call_id": "toolu_1", "name": "f", "arguments": "{}" },
        { "type": "function_call_output", "call_id": "toolu_1", "output": "ok" }
    ]});
    let (t, _) = responses_request_to_anthropic(&mid_loop, "claude-x", 32000).unwrap();
    let body = json_of(&t.body);
    assert!(
        body.get("thinking").is_none(),
        "Anthropic would refuse a tool loop whose thinking blocks are gone: {body}"
    );
    assert_eq!(t.notes.degraded, ["thinking_off_in_tool_loop"]);
    assert_eq!(
        body["messages"][2]["content"][0],
        json!({ "type": "tool_result", "tool_use_id": "toolu_1", "content": "ok" })
    );
}

#[test]
fn chat_response_becomes_a_response_object() {
    let (_, _, shape) = to_chat(
        json!({ "model": "m", "input": "x", "reasoning": { "effort": "low", "summary": "auto" },
        "tools": [{ "type": "namespace", "name": "ns", "tools": [{ "type": "function", "name": "f" }] }] }),
    );
    let body = json!({ "id": "chatcmpl-1", "choices": [{ "index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": "Calling.", "reasoning_content": "Think.",
        "tool_calls": [{ "id": "call_1", "type": "function", "function": { "name": "ns__f", "arguments": "{\"a\":1}" } }] } }],
        "usage": { "prompt_tokens": 100, "completion_tokens": 20, "prompt_tokens_details": { "cached_tokens": 60 }, "completion_tokens_details": { "reasoning_tokens": 5 } } });
    let r = json_of(
        &chat_response_to_responses(&serde_json::to_vec(&body).unwrap(), &opts(shape))
            .unwrap()
            .body,
    );
    assert_eq!(
        (
            r["object"].as_str(),
            r["status"].as_str(),
            r["model"].as_str()
        ),
        (Some("response"), Some("completed"), Some("gpt-5-codex"))
    );
    assert!(r["id"].as_str().unwrap().starts_with("resp_"));
    let output = r["output"].as_array().unwrap();
    assert_eq!(
        output[0]["summary"],
        json!([{ "type": "summary_text", "text": "Think." }])
    );
    assert_eq!(
        output[1]["content"],
        json!([{ "type": "output_text", "annotations": [], "logprobs": [], "text": "Calling." }])
    );
    assert_eq!(
        (
            &output[2]["type"],
            &output[2]["call_id"],
            &output[2]["namespace"],
            &output[2]["name"]
        ),
        (
            &json!("function_call"),
            &json!("call_1"),
            &json!("ns"),
            &json!("f")
        )
    );
    assert_eq!(
        r["usage"],
        json!({ "input_tokens": 100, "input_tokens_details": { "cache_write_tokens": 0, "cached_tokens": 60 }, "output_tokens": 20, "output_tokens_details": { "reasoning_tokens": 5 }, "total_tokens": 120 })
    );
    assert_eq!(
        r["reasoning"],
        json!({ "effort": "low", "summary": "auto" }),
        "request settings are echoed"
    );
    let cut = json!({ "id": "c", "choices": [{ "finish_reason": "length", "message": { "content": "abc" } }] });
    let r = json_of(
        &chat_response_to_responses(
            &serde_json::to_vec(&cut).unwrap(),
            &opts(ResponsesShape::default()),
        )
        .unwrap()
        .body,
    );
    assert_eq!(
        (&r["status"], &r["incomplete_details"]),
        (
            &json!("incomplete"),
            &json!({ "reason": "max_output_tokens" })
        )
    );
    assert_eq!(
        chat_response_to_responses(
            br#"{"error":{"message":"boom"}}"#,
            &opts(ResponsesShape::default())
        )
        .unwrap_err()
        .status(),
        502
    );
}

/// The event types in order, checking that each event's `sequence_number` is its position.
fn kinds(out: &[u8]) -> Vec<String> {
    let events = sse_events(out);
    for (n, (_, e)) in events.iter().enumerate() {
        assert_eq!(e["sequence_number"], json!(n), "{e}");
    }
    events.into_iter().map(|(name, _)| name).collect()
}

#[test]
fn chat_stream_becomes_the_typed_event_sequence() {
    let (_, _, shape) = to_chat(
        json!({ "model": "m", "input": "x", "reasoning": { "effort": "low", "summary": "auto" } }),
    );
    let upstream = openai_stream(
        &[
            json!({ "id": "chatcmpl-9", "choices": [{ "index": 0, "delta": { "role": "assistant", "reasoning_content": "Hm" } }] }),
            json!({ "id": "chatcmpl-9", "choices": [{ "index": 0, "delta": { "content": "Hel" } }] }),
            json!({ "id": "chatcmpl-9", "choices": [{ "index": 0, "delta": { "content": "lo" } }] }),
            json!({ "id": "chatcmpl-9", "choices": [{ "index": 0, "delta": { "tool_calls": [{ "index": 0, "id": "call_a", "type": "function", "function": { "name": "exec_command", "arguments": "{\"cmd\"" } }] } }] }),
            json!({ "id": "chatcmpl-9", "choices": [{ "index": 0, "delta": { "tool_calls": [{ "index": 0, "function": { "arguments": ":\"ls\"}" } }] } }] }),
            json!({ "id": "chatcmpl-9", "choices": [{ "index": 0, "delta": {}, "finish_reason": "tool_calls" }] }),
            json!({ "id": "chatcmpl-9", "choices": [], "usage": { "prompt_tokens": 10, "completion_tokens": 4 } }),
        ],
        true,
    );
    let mut t = ChatToResponsesStream::new(opts(shape));
    let out = [t.feed(upstream.as_bytes()), t.finish()].concat();
    assert_eq!(
        kinds(&out),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let events = sse_events(&out);
    assert_eq!(events[12].1["text"], "Hello");
    assert_eq!(events[15].1["item"]["status"], "in_progress");
    assert_eq!(events[18].1["arguments"], "{\"cmd\":\"ls\"}");
    let done = &events[20].1["response"];
    assert_eq!(
        (
            done["status"].as_str(),
            done["usage"]["total_tokens"].as_u64()
        ),
        (Some("completed"), Some(14))
    );
    assert_eq!(
        done["output"][2],
        json!({ "id": events[15].1["item"]["id"], "type": "function_call", "status": "completed", "arguments": "{\"cmd\":\"ls\"}", "call_id": "call_a", "name": "exec_command" })
    );
    assert!(t.is_done());
    assert_eq!(t.usage().prompt_tokens(), 10);
}

#[test]
fn interleaved_parallel_calls_become_whole_items_in_index_order() {
    // vLLM-style: both headers first (index 1 before index 0), then fragments in turns.
    let upstream = openai_stream(
        &[
            json!({ "id": "c", "choices": [{ "delta": { "tool_calls": [{ "index": 1, "id": "call_b", "function": { "name": "g", "arguments": "{\"b\":" } }, { "index": 0, "id": "call_a", "function": { "name": "f", "arguments": "{\"a\":" } }] } }] }),
            json!({ "id": "c", "choices": [{ "delta": { "tool_calls": [{ "index": 1, "function": { "arguments": "2}" } }, { "index": 0, "function": { "arguments": "1}" } }] } }] }),
            json!({ "id": "c", "choices": [{ "delta": {}, "finish_reason": "tool_calls" }] }),
        ],
        true,
    );
    let mut t = ChatToResponsesStream::new(opts(ResponsesShape::default()));
    let out = [t.feed(upstream.as_bytes()), t.finish()].concat();
    let events = sse_events(&out);
    let done = &events.last().unwrap().1["response"]["output"];
    assert_eq!(
        [
            &done[0]["call_id"],
            &done[0]["arguments"],
            &done[1]["call_id"],
            &done[1]["arguments"]
        ],
        [
            &json!("call_a"),
            &json!("{\"a\":1}"),
            &json!("call_b"),
            &json!("{\"b\":2}")
        ]
    );
    let item_events: Vec<(&str, u64)> = events
        .iter()
        .filter_map(|(k, e)| Some((k.as_str(), e.get("output_index")?.as_u64()?)))
        .collect();
    assert_eq!(
        item_events,
        [
            ("response.output_item.added", 0),
            ("response.function_call_arguments.delta", 0),
            ("response.function_call_arguments.delta", 0),
            ("response.function_call_arguments.done", 0),
            ("response.output_item.done", 0),
            ("response.output_item.added", 1),
            ("response.function_call_arguments.delta", 1),
            ("response.function_call_arguments.done", 1),
            ("response.output_item.done", 1),
        ],
        "one whole item after the other; call b's fragments waited for its turn"
    );
}

#[test]
fn calls_without_index_or_id_are_told_apart_and_given_ids() {
    // A server that sends no `index` and no `id`: a new name starts a new call.
    let upstream = openai_stream(
        &[
            json!({ "id": "c", "choices": [{ "delta": { "tool_calls": [{ "function": { "name": "f", "arguments": "{}" } }] } }] }),
            json!({ "id": "c", "choices": [{ "delta": { "tool_calls": [{ "function": { "name": "g", "arguments": "{\"x\"" } }] } }] }),
            json!({ "id": "c", "choices": [{ "delta": { "tool_calls": [{ "function": { "arguments": ":1}" } }] } }] }),
            json!({ "id": "c", "choices": [{ "delta": {}, "finish_reason": "tool_calls" }] }),
        ],
        true,
    );
    let mut t = ChatToResponsesStream::new(opts(ResponsesShape::default()));
    let out = [t.feed(upstream.as_bytes()), t.finish()].concat();
    let events = sse_events(&out);
    let output = &events.last().unwrap().1["response"]["output"];
    let calls: Vec<(&str, &str)> = output
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap(),
                i["arguments"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(calls, [("f", "{}"), ("g", "{\"x\":1}")]);
    let (a, b) = (
        output[0]["call_id"].as_str().unwrap(),
        output[1]["call_id"].as_str().unwrap(),
    );
    assert!(
        a.starts_with("call_") && b.starts_with("call_") && a != b,
        "{a} {b}"
    );
}

#[test]
fn failures_end_with_response_failed_never_a_silent_cut() {
    let partial = openai_stream(
        &[json!({ "id": "c", "choices": [{ "delta": { "content": "Hi" } }] })],
        false,
    );
    let mut t = ChatToResponsesStream::new(opts(ResponsesShape::default()));
    let out = [t.feed(partial.as_bytes()), t.finish()].concat();
    let last = sse_events(&out).pop().unwrap();
    assert_eq!(
        (
            last.0.as_str(),
            &last.1["response"]["status"],
            &last.1["response"]["error"]["code"]
        ),
        ("response.failed", &json!("failed"), &json!("server_error"))
    );
    assert_eq!(
        last.1["response"]["output"][0]["content"][0]["text"], "Hi",
        "what was produced is kept"
    );

    let error = openai_stream(
        &[json!({ "error": { "message": "rate limited", "code": 429 } })],
        false,
    );
    let mut t = ChatToResponsesStream::new(opts(ResponsesShape::default()));
    let last = sse_events(&t.feed(error.as_bytes())).pop().unwrap();
    assert_eq!(
        last.1["response"]["error"],
        json!({ "code": "rate_limit_exceeded", "message": "upstream error mid-stream: rate limited" })
    );
    assert!(t.is_done() && t.finish().is_empty());

    let mut t = ChatToResponsesStream::new(opts(ResponsesShape::default()));
    let _ = t.feed(partial.as_bytes());
    let failed = sse_events(&t.fail(StreamFailure::Api, "provider timed out"));
    assert_eq!(
        (
            failed.len(),
            failed[0].1["response"]["error"]["message"].as_str()
        ),
        (1, Some("provider timed out"))
    );
}

#[test]
fn anthropic_stream_and_message_reach_the_client_as_responses() {
    let upstream = anthropic_stream(&[
        json!({ "type": "message_start", "message": { "id": "msg_1", "usage": { "input_tokens": 12, "cache_read_input_tokens": 30, "output_tokens": 1 } } }),
        json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "thinking", "thinking": "", "signature": "" } }),
        json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "thinking_delta", "thinking": "Plan." } }),
        json!({ "type": "content_block_stop", "index": 0 }),
        json!({ "type": "content_block_start", "index": 1, "content_block": { "type": "tool_use", "id": "toolu_1", "name": "exec_command", "input": {} } }),
        json!({ "type": "content_block_delta", "index": 1, "delta": { "type": "input_json_delta", "partial_json": "{\"cmd\":\"ls\"}" } }),
        json!({ "type": "content_block_stop", "index": 1 }),
        json!({ "type": "message_delta", "delta": { "stop_reason": "tool_use" }, "usage": { "output_tokens": 9 } }),
        json!({ "type": "message_stop" }),
    ]);
    let mut t = AnthropicToResponsesStream::new(opts(ResponsesShape::default()));
    let mut out = Vec::new();
    for b in upstream.as_bytes() {
        t.feed_into(std::slice::from_ref(b), &mut out);
    }
    t.finish_into(&mut out);
    let k = kinds(&out);
    assert!(
        k.contains(&"response.reasoning_text.delta".to_owned()),
        "no summary asked: raw reasoning text"
    );
    let events = sse_events(&out);
    let done = &events.last().unwrap().1["response"];
    assert_eq!(done["output"][1]["call_id"], "toolu_1");
    assert_eq!(done["usage"]["input_tokens"], 42);
    assert_eq!(done["usage"]["input_tokens_details"]["cached_tokens"], 30);
    assert_eq!(done["usage"]["output_tokens"], 9);

    let message = json!({ "id": "msg_2", "type": "message", "role": "assistant", "model": "claude", "content": [{ "type": "text", "text": "Done." }],
        "stop_reason": "end_turn", "usage": { "input_tokens": 5, "output_tokens": 2 } });
    let r = json_of(
        &anthropic_response_to_responses(
            &serde_json::to_vec(&message).unwrap(),
            &opts(ResponsesShape::default()),
        )
        .unwrap()
        .body,
    );
    assert_eq!(
        (
            r["status"].as_str(),
            r["output"][0]["content"][0]["text"].as_str()
        ),
        (Some("completed"), Some("Done."))
    );
    let cut = anthropic_stream(&[
        json!({ "type": "message_start", "message": { "id": "m", "usage": {} } }),
    ]);
    let mut t = AnthropicToResponsesStream::new(opts(ResponsesShape::default()));
    let out = [t.feed(cut.as_bytes()), t.finish()].concat();
    assert_eq!(sse_events(&out).last().unwrap().0, "response.failed");
}
