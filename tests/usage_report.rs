//! The usage report after a mixed workload, as README.md shows it: the Claude Code CLI (native on
//! an Anthropic provider and translated to an OpenAI-compatible one) for team `platform`, and the
//! official `anthropic` and `openai` Python SDKs (native and translated) for team `research`, all
//! against mock providers. `switchyard usage --by team,model` must add up, model by model, to the
//! usage the mocks reported. The test prints the report (README.md's "Usage and cost" shows a run).

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const RESEARCH_KEY: &str = "research-team-key-5e6f";

fn sdk(script: &str, model: &str, base_url: &str) {
    run_sdk(script, "basic", model, base_url, RESEARCH_KEY);
}

fn claude(gw: &Gateway, prompt: &str, model: &str) {
    let (ok, stdout, stderr) = run_claude(gw, TEAM_KEY, prompt, &["--model", model, "--allowedTools", "Bash"]);
    assert!(ok, "claude --model {model}: {stdout}{stderr}");
    let result: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["is_error"], false, "{result}");
}

#[test]
fn usage_by_team_and_model_adds_up_to_what_the_providers_reported() {
    let anthropic = Mock::start(&[]);
    let openrouter = Mock::start(&[]);
    let providers = format!(
        "{}{}",
        provider_yaml("anthropic", "anthropic", &anthropic.url(), "sk-ant-api03-report"),
        provider_yaml("openrouter", "openai", &format!("{}/v1", openrouter.url()), "sk-or-v1-report"),
    );
    let text = format!(
        "server:\n  threads: 1\nproviders:\n{providers}models:\n  - {{ name: \"claude-*\", targets: [\"anthropic/*\"] }}\n  - {{ name: \"gpt-*\", targets: [\"openrouter/*\"] }}\n\
         teams:\n  - name: platform\n    keys: [{{ env: TEAM_KEY, name: claude-code }}]\n  - name: research\n    keys: [{{ env: RESEARCH_KEY, name: notebooks }}]\n\
         usage:\n  flush_interval_ms: 200\n"
    );
    let gw = Gateway::with_config(&text).env("RESEARCH_KEY", RESEARCH_KEY).start();

    claude(&gw, "run: echo switchyard-usage-report", "claude-sonnet-4-5");
    claude(&gw, "say hi", "openrouter/z-ai/glm-4.5-air");
    sdk("anthropic_client.py", "claude-haiku-4-5", &gw.base);
    sdk("anthropic_client.py", "openrouter/z-ai/glm-4.5-air", &gw.base);
    sdk("openai_client.py", "gpt-4o-mini", &gw.url("/v1"));
    sdk("openai_client.py", "anthropic/claude-haiku-4-5", &gw.url("/v1"));

    let mut reported = serde_json::Map::new();
    for mock in [&anthropic, &openrouter] {
        reported.extend(mock.stats()["usage"].as_object().unwrap().clone());
    }
    let served: u64 = reported.values().map(|t| t["requests"].as_u64().unwrap()).sum();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let priced: u64 = gw.usage_json("provider").iter().filter(|r| r["provider"] != "").map(|r| r["requests"].as_u64().unwrap()).sum();
        if priced >= served {
            break;
        }
        assert!(Instant::now() < deadline, "the ledger has {priced} of {served} served requests");
        std::thread::sleep(Duration::from_millis(100));
    }

    let by_model = gw.usage_json("model");
    for (model, mock) in &reported {
        let row = by_model.iter().find(|r| r["model"] == model.as_str()).unwrap_or_else(|| panic!("no ledger row for {model}: {by_model:?}"));
        for field in ["requests", "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] {
            assert_eq!(row[field], mock[field], "{model} {field}");
        }
    }
    let by_team_model = gw.usage_json("team,model");
    let teams: std::collections::BTreeSet<&str> = by_team_model.iter().filter_map(|r| r["team"].as_str()).collect();
    assert_eq!(teams, ["platform", "research"].into_iter().collect());
    let platform_cache: u64 = by_team_model.iter().filter(|r| r["team"] == "platform").map(|r| r["cache_read_input_tokens"].as_u64().unwrap()).sum();
    assert!(platform_cache > 0, "Claude Code's cached system prompt is read back: {by_team_model:?}");

    println!("\n$ switchyard usage --by team,model\n{}", gw.usage_cli(&["--by", "team,model"]));
    println!("mock-reported usage by model:\n{}", serde_json::to_string_pretty(&reported).unwrap());
}
