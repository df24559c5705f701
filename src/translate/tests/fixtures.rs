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
