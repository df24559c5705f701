//! The official Python SDKs (`anthropic`, `openai`, pinned in tests/sdk-requirements.txt) against the
//! real gateway: native pass-through to each provider kind, and translated in both directions.
//! The scripts in tests/sdk/ assert on what the SDKs parse; this file checks their reports.

mod common;

use common::*;

/// Runs one SDK scenario with the test team's key; returns the facts it printed.
fn run_sdk(script: &str, scenario: &str, model: &str, base_url: &str) -> serde_json::Value {
    common::run_sdk(script, scenario, model, base_url, TEAM_KEY)
}

struct Setup {
    _anthropic: Mock,
    _openai: Mock,
    gw: Gateway,
}

fn setup() -> Setup {
    let anthropic = Mock::start(&[]);
    let openai = Mock::start(&[]);
    let providers = format!(
        "{}    models: [claude-haiku-4-5]\n{}    models: [z-ai/glm-4.5-air]\n",
        provider_yaml("anthropic", "anthropic", &anthropic.url(), "sk-ant-api03-sdk"),
        provider_yaml("openrouter", "openai", &format!("{}/v1", openai.url()), "sk-or-v1-sdk"),
    ) + &provider_yaml("openai", "openai", &format!("{}/v1", openai.url()), "sk-proj-sdk")
        + "    responses_api: true\n";
    let models = "  - { name: \"claude-*\", targets: [\"anthropic/*\"] }\n  - { name: \"gpt-*\", targets: [\"openrouter/*\"] }\n";
    let gw = Gateway::with_config(&config(&providers, models)).start();
    Setup { _anthropic: anthropic, _openai: openai, gw }
}

#[test]
fn anthropic_sdk_native() {
    let s = setup();
    // Both mocks list six models of their own; model discovery brings them in the background.
    let listed = s.gw.model_ids(TEAM_KEY, 13);
    assert_eq!(listed[..2], ["claude-haiku-4-5", "openrouter/z-ai/glm-4.5-air"]);
    let facts = run_sdk("anthropic_client.py", "basic", "claude-haiku-4-5", &s.gw.base);
    assert_eq!(facts["model"], "claude-haiku-4-5");
    assert_eq!(facts["models"], serde_json::json!(listed), "the SDK paged through the whole list");
    run_sdk("anthropic_client.py", "tools", "claude-haiku-4-5", &s.gw.base);
    run_sdk("anthropic_client.py", "image", "claude-haiku-4-5", &s.gw.base);
}

#[test]
fn openai_sdk_native() {
    let s = setup();
    let facts = run_sdk("openai_client.py", "basic", "gpt-4o-mini", &s.gw.url("/v1"));
    assert_eq!(facts["model"], "gpt-4o-mini");
    assert!(facts["models"].as_array().unwrap().iter().any(|m| m == "openrouter/z-ai/glm-4.5-air"));
    run_sdk("openai_client.py", "tools", "gpt-4o-mini", &s.gw.url("/v1"));
}

#[test]
fn anthropic_sdk_on_an_openai_compatible_model() {
    let s = setup();
    let facts = run_sdk("anthropic_client.py", "basic", "openrouter/z-ai/glm-4.5-air", &s.gw.base);
    assert_eq!(facts["model"], "openrouter/z-ai/glm-4.5-air", "the client sees the name it asked for");
    run_sdk("anthropic_client.py", "tools", "openrouter/z-ai/glm-4.5-air", &s.gw.base);
    run_sdk("anthropic_client.py", "image", "openrouter/z-ai/glm-4.5-air", &s.gw.base);
}

#[test]
fn openai_sdk_on_a_claude_model() {
    let s = setup();
    let facts = run_sdk("openai_client.py", "basic", "anthropic/claude-haiku-4-5", &s.gw.url("/v1"));
    assert_eq!(facts["model"], "anthropic/claude-haiku-4-5");
    run_sdk("openai_client.py", "tools", "anthropic/claude-haiku-4-5", &s.gw.url("/v1"));
}

/// `client.responses.create` and `client.responses.stream`, with a function tool and its round trip,
/// natively to a Responses-API provider and translated to Anthropic and to chat completions.
#[test]
fn openai_sdk_responses_api_on_all_three_kinds() {
    let s = setup();
    // Native pass-through leaves the provider's answer untouched, its own model name included; the
    // translators answer with the name the client asked for.
    for (model, answered) in [("openai/gpt-5-codex", "gpt-5-codex"), ("anthropic/claude-haiku-4-5", "anthropic/claude-haiku-4-5"), ("openrouter/z-ai/glm-4.5-air", "openrouter/z-ai/glm-4.5-air")] {
        let facts = run_sdk("openai_client.py", "responses", model, &s.gw.url("/v1"));
        assert_eq!(facts["model"], answered);
        assert!(facts["id"].as_str().is_some_and(|id| id.starts_with("resp_")), "{facts}");
    }
}
