//! Anthropic request → OpenAI request: one test per mapping row.

use serde_json::{json, Value};

use super::{to_openai, to_openai_with};
use crate::translate::{
    anthropic_request_to_openai, MaxTokensField, MidSystem, ToOpenAiOptions, TranslateError,
};

fn req(messages: Value) -> Value {
    json!({ "model": "claude-x", "max_tokens": 100, "messages": messages })
}

fn user(text: &str) -> Value {
    json!({ "role": "user", "content": text })
}

fn reasoning_opts() -> ToOpenAiOptions {
    ToOpenAiOptions {
        reasoning_effort: true,
        ..ToOpenAiOptions::new("up")
    }
}

#[test]
fn model_is_replaced_and_max_tokens_kept() {
    let (out, notes) = to_openai(req(json!([user("hi")])));
    assert_eq!(out["model"], "up");
    assert_eq!(out["max_tokens"], 100);
    assert_eq!(
        out["messages"],
        json!([{ "role": "user", "content": "hi" }])
    );
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn max_completion_tokens_option() {
    let opts = ToOpenAiOptions {
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        ..ToOpenAiOptions::new("o3")
    };
    let (out, _) = to_openai_with(req(json!([user("hi")])), &opts);
    assert_eq!(out["max_completion_tokens"], 100);
    assert!(out.get("max_tokens").is_none());
}

#[test]
fn max_tokens_capped_to_the_model_limit() {
    let opts = ToOpenAiOptions {
        max_output_tokens: Some(16384),
        ..ToOpenAiOptions::new("gpt-4o")
    };
    let mut r = req(json!([user("hi")]));
    r["max_tokens"] = json!(128000);
    let (out, notes) = to_openai_with(r.clone(), &opts);
    assert_eq!(out["max_tokens"], 16384);
    assert!(notes.degraded.contains(&"max_tokens_clamped"));
    r["max_tokens"] = json!(1000);
    let (out, notes) = to_openai_with(r, &opts);
    assert_eq!(out["max_tokens"], 1000);
    assert!(notes.is_empty());
}

#[test]
fn system_string_becomes_first_system_message() {
    let mut r = req(json!([user("hi")]));
    r["system"] = json!("be brief");
    let (out, _) = to_openai(r);
    assert_eq!(
        out["messages"][0],
        json!({ "role": "system", "content": "be brief" })
    );
}

#[test]
fn system_blocks_joined_billing_header_and_cache_control_dropped() {
    let mut r = req(json!([user("hi")]));
    r["system"] = json!([
        { "type": "text", "text": "x-anthropic-billing-header: cc_version=1; cc_entrypoint=cli;" },
        { "type": "text", "text": "first", "cache_control": { "type": "ephemeral" } },
        { "type": "text", "text": "second" }
    ]);
    let (out, notes) = to_openai(r);
    assert_eq!(
        out["messages"][0],
        json!({ "role": "system", "content": "first\n\nsecond" })
    );
    assert!(notes.dropped.contains(&"billing_header"));
    assert!(notes.dropped.contains(&"cache_control"));
    assert!(!out.to_string().contains("billing-header"));
}

#[test]
fn system_role_message_stays_in_place() {
    let r = req(
        json!([user("a"), { "role": "system", "content": [{ "type": "text", "text": "env" }] }, { "role": "assistant", "content": "b" }]),
    );
    let (out, _) = to_openai(r);
    let roles: Vec<&str> = out["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "system", "assistant"]);
    assert_eq!(out["messages"][1]["content"], "env");
}

#[test]
fn system_role_message_as_user_option_merges_into_user_turn() {
    let opts = ToOpenAiOptions {
        mid_system: MidSystem::AsUser,
        ..ToOpenAiOptions::new("up")
    };
    let r = req(json!([user("a"), { "role": "system", "content": "env" }]));
    let (out, notes) = to_openai_with(r, &opts);
    assert_eq!(
        out["messages"],
        json!([{ "role": "user", "content": "a\n\n<system-reminder>\nenv\n</system-reminder>" }])
    );
    assert!(notes.degraded.contains(&"system_messages_as_user"));
}

#[test]
fn text_blocks_join_into_one_string() {
    let r = req(
        json!([{ "role": "user", "content": [{ "type": "text", "text": "one" }, { "type": "text", "text": "two" }] }]),
    );
    assert_eq!(to_openai(r).0["messages"][0]["content"], "one\n\ntwo");
}

#[test]
fn images_become_image_url_parts() {
    let r = req(json!([{ "role": "user", "content": [
        { "type": "text", "text": "look" },
        { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": "AAAA" } },
        { "type": "image", "source": { "type": "url", "url": "https://x/y.jpg" } }
    ] }]));
    let (out, _) = to_openai(r);
    assert_eq!(
        out["messages"][0]["content"],
        json!([
            { "type": "text", "text": "look" },
            { "type": "image_url", "image_url": { "url": "data:image/png;base64,AAAA" } },
            { "type": "image_url", "image_url": { "url": "https://x/y.jpg" } }
        ])
    );
}

#[test]
fn tool_use_becomes_tool_calls_with_json_string_arguments() {
    let r = req(json!([user("go"), { "role": "assistant", "content": [
        { "type": "tool_use", "id": "toolu_1", "name": "Bash", "input": { "command": "ls" } }
    ] }, { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "toolu_1", "content": "ok" }] }]));
    let (out, _) = to_openai(r);
    let a = &out["messages"][1];
    assert_eq!(a["content"], Value::Null);
    assert_eq!(a["tool_calls"][0]["id"], "toolu_1");
    assert_eq!(a["tool_calls"][0]["type"], "function");
    assert_eq!(a["tool_calls"][0]["function"]["name"], "Bash");
    let args: Value = serde_json::from_str(
        a["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(args, json!({ "command": "ls" }));
}

#[test]
fn tool_results_follow_the_assistant_before_user_text() {
    let r = req(json!([user("go"), { "role": "assistant", "content": [
        { "type": "text", "text": "running" },
        { "type": "tool_use", "id": "t1", "name": "A", "input": {} },
        { "type": "tool_use", "id": "t2", "name": "B", "input": {} }
    ] }, { "role": "user", "content": [
        { "type": "text", "text": "and also this" },
        { "type": "tool_result", "tool_use_id": "t1", "content": [{ "type": "text", "text": "r1" }, { "type": "text", "text": "r1b" }] },
        { "type": "tool_result", "tool_use_id": "t2", "content": "boom", "is_error": true, "cache_control": { "type": "ephemeral" } }
    ] }]));
    let (out, _) = to_openai(r);
    let msgs = out["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 5);
    assert_eq!(msgs[1]["content"], "running");
    assert_eq!(
        msgs[2],
        json!({ "role": "tool", "tool_call_id": "t1", "content": "r1\n\nr1b" })
    );
    assert_eq!(
        msgs[3],
        json!({ "role": "tool", "tool_call_id": "t2", "content": "Error: boom" })
    );
    assert_eq!(
        msgs[4],
        json!({ "role": "user", "content": "and also this" })
    );
}

#[test]
fn tool_results_jump_over_a_system_message_to_reach_their_call() {
    let r = req(json!([user("go"),
        { "role": "assistant", "content": [{ "type": "tool_use", "id": "t1", "name": "A", "input": {} }] },
        { "role": "system", "content": "reminder" },
        { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "t1", "content": "r" }] }]));
    let (out, _) = to_openai(r);
    let roles: Vec<&str> = out["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool", "system"]);
}

#[test]
fn tool_result_images_move_to_a_user_message() {
    let r = req(json!([user("shot"),
        { "role": "assistant", "content": [{ "type": "tool_use", "id": "t1", "name": "Screenshot", "input": {} }] },
        { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "t1", "content": [
            { "type": "text", "text": "done" },
            { "type": "image", "source": { "type": "base64", "media_type": "image/jpeg", "data": "QQ==" } }
        ] }] }]));
    let (out, notes) = to_openai(r);
    let msgs = out["messages"].as_array().unwrap();
    assert_eq!(
        msgs[2],
        json!({ "role": "tool", "tool_call_id": "t1", "content": "done" })
    );
    assert_eq!(msgs[3]["role"], "user");
    assert_eq!(
        msgs[3]["content"][1],
        json!({ "type": "image_url", "image_url": { "url": "data:image/jpeg;base64,QQ==" } })
    );
    assert!(notes.degraded.contains(&"tool_result_images"));
}

#[test]
fn orphan_and_missing_tool_results_are_repaired() {
    let r = req(json!([user("go"),
        { "role": "assistant", "content": [{ "type": "tool_use", "id": "t1", "name": "A", "input": {} }] },
        { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "zzz", "content": "stray" }] }]));
    let (out, notes) = to_openai(r);
    let msgs = out["messages"].as_array().unwrap();
    assert_eq!(msgs[2]["role"], "tool");
    assert_eq!(msgs[2]["tool_call_id"], "t1");
    assert!(msgs[2]["content"].as_str().unwrap().starts_with("Error:"));
    assert_eq!(msgs[3]["role"], "user");
    assert!(msgs[3]["content"].as_str().unwrap().contains("stray"));
    assert!(notes.degraded.contains(&"orphan_tool_results"));
    assert!(notes.degraded.contains(&"missing_tool_results"));
}

#[test]
fn thinking_blocks_dropped_or_replayed() {
    let messages = json!([user("q"), { "role": "assistant", "content": [
        { "type": "thinking", "thinking": "hmm", "signature": "sig" },
        { "type": "redacted_thinking", "data": "xx" },
        { "type": "text", "text": "answer" }
    ] }, user("next")]);
    let (out, notes) = to_openai(req(messages.clone()));
    assert_eq!(
        out["messages"][1],
        json!({ "role": "assistant", "content": "answer" })
    );
    assert!(notes.dropped.contains(&"thinking_blocks"));
    assert!(notes.dropped.contains(&"redacted_thinking"));
    let opts = ToOpenAiOptions {
        replay_reasoning_content: true,
        ..ToOpenAiOptions::new("deepseek")
    };
    let (out, _) = to_openai_with(req(messages), &opts);
    assert_eq!(out["messages"][1]["reasoning_content"], "hmm");
}

#[test]
fn documents_text_inline_pdf_placeholder() {
    let r = req(json!([{ "role": "user", "content": [
        { "type": "document", "title": "notes", "source": { "type": "text", "media_type": "text/plain", "data": "body" } },
        { "type": "document", "source": { "type": "base64", "media_type": "application/pdf", "data": "JVBER" } }
    ] }]));
    let (out, notes) = to_openai(r);
    let content = out["messages"][0]["content"].as_str().unwrap();
    assert!(
        content.starts_with("notes\n\nbody\n\n[PDF document omitted"),
        "{content}"
    );
    assert!(notes.dropped.contains(&"pdf_documents"));
}

#[test]
fn consecutive_same_role_messages_merge() {
    let r = req(
        json!([user("a"), user("b"), { "role": "assistant", "content": "c" }, { "role": "assistant", "content": "d" }]),
    );
    let (out, _) = to_openai(r);
    assert_eq!(
        out["messages"],
        json!([{ "role": "user", "content": "a\n\nb" }, { "role": "assistant", "content": "c\n\nd" }])
    );
}

#[test]
fn tools_map_to_functions_and_schema_keys_are_stripped() {
    let mut r = req(json!([user("hi")]));
    r["tools"] = json!([
        { "name": "Bash", "description": "run", "input_schema": { "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
          "properties": { "x": { "$schema": "nested", "type": "string" } } }, "cache_control": { "type": "ephemeral" } },
        { "name": "Later", "input_schema": { "properties": {} }, "defer_loading": true },
        { "type": "web_search_20250305", "name": "web_search", "max_uses": 5 }
    ]);
    let (out, notes) = to_openai(r);
    let tools = out["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2);
    assert_eq!(
        tools[0],
        json!({ "type": "function", "function": { "name": "Bash", "description": "run",
        "parameters": { "type": "object", "properties": { "x": { "type": "string" } } } } })
    );
    assert_eq!(
        tools[1]["function"]["parameters"],
        json!({ "type": "object", "properties": {} })
    );
    for n in [
        "schema_keys",
        "defer_loading",
        "server_tools",
        "cache_control",
    ] {
        assert!(notes.dropped.contains(&n), "{n} missing from {notes:?}");
    }
}

#[test]
fn tool_choice_table() {
    let cases = [
        (json!({ "type": "auto" }), json!("auto"), None),
        (json!({ "type": "any" }), json!("required"), None),
        (json!({ "type": "none" }), json!("none"), None),
        (
            json!({ "type": "tool", "name": "Bash" }),
            json!({ "type": "function", "function": { "name": "Bash" } }),
            None,
        ),
        (
            json!({ "type": "auto", "disable_parallel_tool_use": true }),
            json!("auto"),
            Some(false),
        ),
    ];
    for (choice, expected, parallel) in cases {
        let mut r = req(json!([user("hi")]));
        r["tools"] = json!([{ "name": "Bash", "input_schema": { "type": "object" } }]);
        r["tool_choice"] = choice.clone();
        let (out, _) = to_openai(r);
        assert_eq!(out["tool_choice"], expected, "for {choice}");
        assert_eq!(
            out.get("parallel_tool_calls").and_then(Value::as_bool),
            parallel,
            "for {choice}"
        );
    }
}

#[test]
fn tool_choice_without_tools_is_omitted() {
    let mut r = req(json!([user("hi")]));
    r["tools"] = json!([{ "type": "web_search_20250305", "name": "web_search" }]);
    r["tool_choice"] = json!({ "type": "any" });
    let (out, _) = to_openai(r);
    assert!(
        out.get("tools").is_none() && out.get("tool_choice").is_none(),
        "{out}"
    );
}

#[test]
fn sampling_stop_user_stream_fields() {
    let mut r = req(json!([user("hi")]));
    r["temperature"] = json!(0.5);
    r["top_p"] = json!(0.9);
    r["top_k"] = json!(40);
    r["stop_sequences"] = json!(["a", "b", "c", "d", "e"]);
    r["metadata"] = json!({ "user_id": "u-1" });
    r["stream"] = json!(true);
    let (out, notes) = to_openai(r);
    assert_eq!(out["temperature"], 0.5);
    assert_eq!(out["top_p"], 0.9);
    assert_eq!(out["stop"], json!(["a", "b", "c", "d"]));
    assert_eq!(out["user"], "u-1");
    assert_eq!(out["stream"], true);
    assert_eq!(out["stream_options"], json!({ "include_usage": true }));
    assert!(notes.dropped.contains(&"top_k"));
    assert!(notes.degraded.contains(&"stop_sequences_truncated"));
}

#[test]
fn long_user_id_is_hashed() {
    let long = "x".repeat(200);
    let mut r = req(json!([user("hi")]));
    r["metadata"] = json!({ "user_id": long });
    let (out, notes) = to_openai(r);
    let user = out["user"].as_str().unwrap();
    assert_eq!(user.len(), 64);
    assert!(user.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(notes.degraded.contains(&"user_hashed"));
}

#[test]
fn thinking_budget_to_reasoning_effort_thresholds() {
    for (budget, effort) in [
        (1024, "low"),
        (4095, "low"),
        (4096, "medium"),
        (16383, "medium"),
        (16384, "high"),
        (31999, "high"),
    ] {
        let mut r = req(json!([user("hi")]));
        r["thinking"] = json!({ "type": "enabled", "budget_tokens": budget });
        let (out, notes) = to_openai_with(r, &reasoning_opts());
        assert_eq!(out["reasoning_effort"], effort, "budget {budget}");
        assert!(notes.dropped.is_empty());
    }
}

#[test]
fn effort_precedence_turn_then_top_level_then_budget() {
    let mut r = req(json!([user("hi")]));
    r["thinking"] = json!({ "type": "enabled", "budget_tokens": 31999 });
    r["output_config"] = json!({ "effort": "low" });
    assert_eq!(
        to_openai_with(r.clone(), &reasoning_opts()).0["reasoning_effort"],
        "low"
    );
    r["messages"] = json!([user("hi"), { "role": "system", "content": "x", "output_config": { "effort": "medium" } }]);
    assert_eq!(
        to_openai_with(r, &reasoning_opts()).0["reasoning_effort"],
        "medium"
    );
    let mut adaptive = req(json!([user("hi")]));
    adaptive["thinking"] = json!({ "type": "adaptive" });
    assert!(to_openai_with(adaptive, &reasoning_opts())
        .0
        .get("reasoning_effort")
        .is_none());
    let mut disabled = req(json!([user("hi")]));
    disabled["thinking"] = json!({ "type": "disabled" });
    assert!(to_openai_with(disabled, &reasoning_opts())
        .0
        .get("reasoning_effort")
        .is_none());
}

#[test]
fn thinking_dropped_and_reported_without_reasoning_support() {
    let mut r = req(json!([user("hi")]));
    r["thinking"] = json!({ "type": "adaptive", "display": "omitted" });
    r["output_config"] = json!({ "effort": "high" });
    r["context_management"] = json!({ "edits": [] });
    r["some_future_field"] = json!(1);
    let (out, notes) = to_openai(r);
    assert!(out.get("reasoning_effort").is_none());
    for n in ["thinking", "effort", "context_management", "unknown_fields"] {
        assert!(notes.dropped.contains(&n), "{n} missing from {notes:?}");
    }
    assert_eq!(
        notes.header_value(),
        "dropped=thinking,effort,context_management,unknown_fields"
    );
}

#[test]
fn output_format_json_schema_becomes_response_format() {
    let mut r = req(json!([user("hi")]));
    r["output_config"] =
        json!({ "format": { "type": "json_schema", "schema": { "type": "object" } } });
    let (out, _) = to_openai(r);
    assert_eq!(out["response_format"]["type"], "json_schema");
    assert_eq!(
        out["response_format"]["json_schema"]["schema"],
        json!({ "type": "object" })
    );
}

#[test]
fn invalid_input_names_the_field_path() {
    let opts = ToOpenAiOptions::new("up");
    let cases = [
        (json!([]), "(body)"),
        (json!({ "model": "m" }), "messages"),
        (json!({ "messages": {} }), "messages"),
        (
            json!({ "messages": [user("a"), { "role": "robot", "content": "x" }] }),
            "messages[1].role",
        ),
        (
            json!({ "messages": [{ "role": "user" }] }),
            "messages[0].content",
        ),
        (
            json!({ "messages": [{ "role": "user", "content": [{ "text": "x" }] }] }),
            "messages[0].content[0].type",
        ),
        (
            json!({ "messages": [{ "role": "user", "content": [{ "type": "image", "source": { "type": "base64", "media_type": "image/png" } }] }] }),
            "messages[0].content[0].source.data",
        ),
        (
            json!({ "messages": [{ "role": "assistant", "content": [{ "type": "tool_use", "name": "x", "input": {} }] }] }),
            "messages[0].content[0].id",
        ),
        (json!({ "messages": [], "max_tokens": "ten" }), "max_tokens"),
        (
            json!({ "messages": [], "tools": [{ "name": "x" }] }),
            "tools[0].input_schema",
        ),
        (json!({ "messages": [], "system": 5 }), "system"),
        (
            json!({ "messages": [], "thinking": { "type": "sometimes" } }),
            "thinking.type",
        ),
    ];
    for (body, path) in cases {
        match anthropic_request_to_openai(&body, &opts) {
            Err(TranslateError::InvalidRequest { path: p, .. }) => {
                assert_eq!(p, path, "for {body}")
            }
            other => panic!("expected InvalidRequest at {path} for {body}, got {other:?}"),
        }
    }
    let err = anthropic_request_to_openai(&json!({}), &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid request: `messages`: expected an array (required)"
    );
    assert_eq!(err.status(), 400);
}

#[test]
fn tool_markers_and_the_prompt_cache_key_go_where_the_provider_reads_them() {
    let req = json!({ "model": "m", "max_tokens": 10,
        "tools": [{ "name": "Bash", "input_schema": { "type": "object" }, "cache_control": { "type": "ephemeral", "ttl": "1h" } }],
        "messages": [{ "role": "user", "content": [{ "type": "image", "source": { "type": "url", "url": "https://x/i.png" }, "cache_control": { "type": "ephemeral" } }] },
                     { "role": "assistant", "content": [{ "type": "text", "text": "ok", "cache_control": { "type": "ephemeral" } },
                                                        { "type": "tool_use", "id": "t1", "name": "Bash", "input": {}, "cache_control": { "type": "ephemeral" } }] }] });
    let opts = ToOpenAiOptions {
        cache_control: true,
        prompt_cache_key: Some("sy-abc".into()),
        ..ToOpenAiOptions::new("up")
    };
    let (out, notes) = to_openai_with(req.clone(), &opts);
    assert_eq!(out["tools"][0]["cache_control"], json!({ "type": "ephemeral", "ttl": "1h" }));
    assert_eq!(out["messages"][0]["content"][0]["cache_control"], json!({ "type": "ephemeral" }));
    assert_eq!(out["messages"][1]["content"], json!([{ "type": "text", "text": "ok", "cache_control": { "type": "ephemeral" } }]));
    assert_eq!(out["prompt_cache_key"], "sy-abc");
    assert_eq!(notes.dropped, ["cache_control"], "only the tool_use block's marker has nowhere to go");

    let (plain, notes) = to_openai(req);
    assert!(plain.get("prompt_cache_key").is_none());
    assert!(plain["tools"][0].get("cache_control").is_none());
    assert_eq!(plain["messages"][1]["content"], "ok");
    assert_eq!(notes.dropped, ["cache_control"]);
}
