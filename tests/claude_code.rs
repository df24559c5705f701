//! The Claude Code CLI (pinned, from npm) through the real gateway to an OpenAI-compatible
//! (mock) provider: a full agent round trip — the model calls Bash, Claude Code runs it, sends
//! the tool result back through the translator, and the model answers with it.

mod common;

use common::*;

fn gateway_on_openai_mock(mock: &Mock) -> Gateway {
    let providers = provider_yaml("openrouter", "openai", &format!("{}/v1", mock.url()), "sk-or-v1-claude-code-test");
    // Claude Code also sends background requests for its default models: everything goes to the mock.
    Gateway::with_config(&config(&providers, "  - { name: \"*\", targets: [\"openrouter/z-ai/glm-4.5-air\"] }\n")).start()
}

#[test]
fn claude_code_completes_a_tool_round_trip_on_an_openai_compatible_model() {
    let mock = Mock::start(&[]);
    let gw = gateway_on_openai_mock(&mock);
    let (ok, stdout, stderr) = run_claude(&gw, TEAM_KEY, "run: echo switchyard-tool-ok", &["--model", "openrouter/z-ai/glm-4.5-air", "--allowedTools", "Bash"]);
    assert!(ok, "claude failed:\n{stdout}\n{stderr}");
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["is_error"], false, "{result}");
    assert!(result["result"].as_str().unwrap_or_default().contains("Tool result received: switchyard-tool-ok"), "{result}");

    let chats: Vec<serde_json::Value> = mock
        .received()
        .into_iter()
        .filter(|r| r["path"] == "/v1/chat/completions")
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect();
    assert!(chats.len() >= 2, "expected the tool call turn and the tool result turn, got {}", chats.len());
    let last = chats.last().unwrap();
    assert_eq!(last["model"], "z-ai/glm-4.5-air");
    let tool_message = last["messages"].as_array().unwrap().iter().find(|m| m["role"] == "tool").expect("a tool message reached the provider");
    assert!(tool_message["content"].to_string().contains("switchyard-tool-ok"), "{tool_message}");
    assert!(last["tools"].as_array().is_some_and(|t| t.iter().any(|t| t["function"]["name"] == "Bash")));
}

#[test]
fn claude_code_says_hi_through_the_translator() {
    let mock = Mock::start(&[]);
    let gw = gateway_on_openai_mock(&mock);
    let (ok, stdout, stderr) = run_claude(&gw, TEAM_KEY, "say hi", &[]);
    assert!(ok, "claude failed:\n{stdout}\n{stderr}");
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["is_error"], false, "{result}");
    assert!(result["result"].as_str().unwrap_or_default().contains("Hello from the switchyard mock (model z-ai/glm-4.5-air)"), "{result}");
}
