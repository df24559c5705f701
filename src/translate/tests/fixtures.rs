//! The four captured Claude Code requests (`tests/fixtures/claude-code/`) translated with and without
//! reasoning support.

use std::path::PathBuf;

use serde_json::Value;

use super::{json_of, to_anthropic};
use crate::translate::{anthropic_request_to_openai, estimate_input_tokens, ToOpenAiOptions};

fn fixture_dir() -> PathBuf {
    crate::mock::tests::fixture_dir()
}

fn body(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture_dir().join(name)).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["body"].clone()
}

struct Expect {
    file: &'static str,
    roles: &'static [&'static str],
    effort: &'static str,
}

const FIXTURES: &[Expect] = &[
    Expect {
        file: "01-opus-stream-first-turn.json",
        roles: &["system", "user", "system"],
        effort: "medium",
    },
    Expect {
        file: "02-opus-stream-tool-result-turn.json",
        roles: &["system", "user", "system", "assistant", "tool"],
        effort: "medium",
    },
    Expect {
        file: "03-bearer-custom-model.json",
        roles: &["system", "user", "system"],
        effort: "high",
    },
    Expect {
        file: "04-haiku-thinking-enabled.json",
        roles: &["system", "user"],
        effort: "high",
    },
];

#[test]
fn fixtures_translate_with_reasoning_support() {
    for e in FIXTURES {
        let req = body(e.file);
        let opts = ToOpenAiOptions {
            reasoning_effort: true,
            ..ToOpenAiOptions::new("z-ai/glm-4.6")
        };
        let t = anthropic_request_to_openai(&req, &opts)
            .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let text = String::from_utf8(t.body.clone()).unwrap();
        let out = json_of(&t.body);
        let roles: Vec<&str> = out["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, e.roles, "{}", e.file);
        assert_eq!(out["tools"].as_array().unwrap().len(), 12, "{}", e.file);
        assert_eq!(out["model"], "z-ai/glm-4.6");
        assert_eq!(out["stream"], true);
        assert_eq!(out["stream_options"]["include_usage"], true);
        assert_eq!(out["max_tokens"], req["max_tokens"]);
        assert_eq!(out["reasoning_effort"], e.effort, "{}", e.file);
        let system = out["messages"][0]["content"].as_str().unwrap();
        assert!(
            system.starts_with("You are a Claude agent"),
            "{}: {}",
            e.file,
            &system[..60]
        );
        for absent in [
            "x-anthropic-billing-header",
            "$schema",
            "cache_control",
            "defer_loading",
            "context_management",
            "output_config",
        ] {
            assert!(
                !text.contains(absent),
                "{}: `{absent}` leaked into the OpenAI body",
                e.file
            );
        }
        assert_eq!(
            out["user"].as_str().unwrap().len(),
            64,
            "metadata.user_id is a long JSON string: hashed"
        );
        for n in [
            "billing_header",
            "cache_control",
            "schema_keys",
            "defer_loading",
            "context_management",
        ] {
            assert!(
                t.notes.dropped.contains(&n),
                "{}: {n} not reported in {:?}",
                e.file,
                t.notes
            );
        }
        assert!(!t.notes.dropped.contains(&"thinking"));
        assert!(
            !t.notes.dropped.contains(&"unknown_fields"),
            "{}: {:?}",
            e.file,
            t.notes
        );
        assert!(
            estimate_input_tokens(&req) > 5_000,
            "{}: estimate {}",
            e.file,
            estimate_input_tokens(&req)
        );
    }
}

#[test]
fn fixtures_without_reasoning_support_report_thinking() {
    for e in FIXTURES {
        let t =
            anthropic_request_to_openai(&body(e.file), &ToOpenAiOptions::new("llama3")).unwrap();
        let out = json_of(&t.body);
        assert!(out.get("reasoning_effort").is_none());
        assert!(
            t.notes.dropped.contains(&"thinking"),
            "{}: {:?}",
            e.file,
            t.notes
        );
        let has_effort = e.file != "04-haiku-thinking-enabled.json";
        assert_eq!(
            t.notes.dropped.contains(&"effort"),
            has_effort,
            "{}",
            e.file
        );
    }
}

#[test]
fn fixture_02_tool_round_trip_keeps_ids() {
    let t = anthropic_request_to_openai(
        &body("02-opus-stream-tool-result-turn.json"),
        &ToOpenAiOptions::new("m"),
    )
    .unwrap();
    let out = json_of(&t.body);
    let msgs = out["messages"].as_array().unwrap();
    let call = &msgs[3]["tool_calls"][0];
    assert_eq!(call["id"], "toolu_5efdb43bd104427abc0aa5af");
    assert_eq!(call["function"]["name"], "Bash");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["command"], "echo switchyard-tool-ok");
    assert_eq!(
        msgs[4],
        serde_json::json!({ "role": "tool", "tool_call_id": "toolu_5efdb43bd104427abc0aa5af", "content": "switchyard-tool-ok" })
    );
    // and the OpenAI body translates back to Anthropic with the pair intact
    let (back, _) = to_anthropic(out);
    let m = back["messages"].as_array().unwrap();
    assert_eq!(m.last().unwrap()["content"][0]["type"], "tool_result");
    assert_eq!(
        m.last().unwrap()["content"][0]["tool_use_id"],
        "toolu_5efdb43bd104427abc0aa5af"
    );
    assert_eq!(back["tools"].as_array().unwrap().len(), 12);
}

/// Every `cache_control` value in a tree, with the path of the object that carries it.
fn markers(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.contains_key("cache_control") {
                out.push(path.clone());
            }
            for (k, v) in m {
                markers(v, format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                markers(v, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn without_markers(mut v: Value) -> Value {
    match &mut v {
        Value::Object(m) => {
            m.remove("cache_control");
            for x in m.values_mut() {
                *x = without_markers(x.take());
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                *x = without_markers(x.take());
            }
        }
        _ => {}
    }
    v
}

#[test]
fn cache_markers_stay_on_the_blocks_claude_code_marked_when_the_provider_honours_them() {
    let opts = ToOpenAiOptions {
        cache_control: true,
        ..ToOpenAiOptions::new("anthropic/claude-sonnet-4.5")
    };
    let translate = |file: &str| {
        let t = anthropic_request_to_openai(&body(file), &opts).unwrap();
        (json_of(&t.body), t.notes)
    };
    let (first, notes) = translate("01-opus-stream-first-turn.json");
    assert!(!notes.dropped.contains(&"cache_control"), "{:?}", notes.dropped);
    let mut found = Vec::new();
    markers(&first["messages"], "messages".into(), &mut found);
    // system[1] and system[2] (system[0], the billing header, is dropped), and the mid-conversation system message.
    assert_eq!(found, ["messages[0].content[0]", "messages[0].content[1]", "messages[2].content[0]"]);
    assert_eq!(first["messages"][0]["content"][0]["cache_control"], serde_json::json!({ "type": "ephemeral" }));
    assert_eq!(first["messages"][1]["content"].as_array().map(Vec::len), Some(2), "one part per user block");

    let (second, _) = translate("02-opus-stream-tool-result-turn.json");
    let mut found = Vec::new();
    markers(&second["messages"], "messages".into(), &mut found);
    assert_eq!(found, ["messages[0].content[0]", "messages[0].content[1]", "messages[4].content[0]"]);
    assert_eq!(second["messages"][4]["role"], "tool", "the tool_result's marker rides on the tool message");
    // The prefix reads the same on both turns: only the markers moved.
    assert_eq!(without_markers(first["messages"].clone()), without_markers(serde_json::json!(second["messages"].as_array().unwrap()[..3])));
}

#[test]
fn without_cache_support_the_prefix_is_byte_identical_across_turns() {
    let opts = ToOpenAiOptions::new("gpt-5");
    let first = anthropic_request_to_openai(&body("01-opus-stream-first-turn.json"), &opts).unwrap();
    let second = anthropic_request_to_openai(&body("02-opus-stream-tool-result-turn.json"), &opts).unwrap();
    assert!(first.notes.dropped.contains(&"cache_control"));
    let (first, second) = (json_of(&first.body), json_of(&second.body));
    let prefix = |v: &Value| serde_json::to_string(&v["messages"].as_array().unwrap()[..3]).unwrap();
    assert_eq!(prefix(&first), prefix(&second), "system prompt, first user turn and environment message are stable");
    assert!(first["messages"][0]["content"].is_string());
    assert_eq!(serde_json::to_string(&first["tools"]).unwrap(), serde_json::to_string(&second["tools"]).unwrap());
    let mut found = Vec::new();
    markers(&first, String::new(), &mut found);
    assert!(found.is_empty(), "{found:?}");
}
