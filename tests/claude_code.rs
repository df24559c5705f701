//! The Claude Code CLI (pinned, from npm) through the real gateway to an OpenAI-compatible
//! (mock) provider: a full agent round trip — the model calls Bash, Claude Code runs it, sends
//! the tool result back through the translator, and the model answers with it.

mod common;

use common::*;

/// The chat completion requests the mock received, parsed.
fn chat_requests(mock: &Mock) -> Vec<serde_json::Value> {
    mock.received().into_iter().filter(|r| r["path"] == "/v1/chat/completions").map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap()).collect()
}

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

#[test]
fn claude_code_runs_two_parallel_tool_calls_the_provider_interleaved() {
    let mock = Mock::start(&["--tool-stream", "interleaved"]);
    let gw = gateway_on_openai_mock(&mock);
    let (ok, stdout, stderr) = run_claude(&gw, TEAM_KEY, "run: echo first-call-ok\nrun: echo second-call-ok", &["--model", "openrouter/z-ai/glm-4.5-air", "--allowedTools", "Bash"]);
    assert!(ok, "claude failed:\n{stdout}\n{stderr}");
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["is_error"], false, "{result}");

    let chats = chat_requests(&mock);
    let follow_up = chats.iter().rev().find(|c| c["messages"].as_array().unwrap().iter().any(|m| m["role"] == "tool")).expect("a request carrying the tool results");
    let messages = follow_up["messages"].as_array().unwrap();
    let assistant = messages.iter().rev().find(|m| m["role"] == "assistant" && m.get("tool_calls").is_some()).expect("the assistant turn with both calls");
    let calls = assistant["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2, "both calls came back as two tool_use blocks: {assistant}");
    let commands: Vec<serde_json::Value> = calls.iter().map(|c| serde_json::from_str::<serde_json::Value>(c["function"]["arguments"].as_str().unwrap()).unwrap()["command"].clone()).collect();
    assert_eq!(commands, ["echo first-call-ok", "echo second-call-ok"], "each call kept its own, whole input");
    for (call, expected) in calls.iter().zip(["first-call-ok", "second-call-ok"]) {
        let id = call["id"].as_str().unwrap();
        assert!(id.starts_with("call_"), "the provider's own id travelled back: {id}");
        let result = messages.iter().find(|m| m["role"] == "tool" && m["tool_call_id"] == id).unwrap_or_else(|| panic!("no tool result for {id}: {follow_up}"));
        assert!(result["content"].to_string().contains(expected), "{result}");
    }
    assert_ne!(calls[0]["id"], calls[1]["id"]);
}

#[test]
fn claude_code_keeps_its_cache_breakpoints_through_an_openrouter_shaped_provider_and_sees_cache_reads() {
    let mock = Mock::start(&[]);
    let providers = format!("{}    translation: {{ cache_control: true }}\n", provider_yaml("openrouter", "openai", &format!("{}/v1", mock.url()), "sk-or-v1-claude-code-test"));
    let gw = Gateway::with_config(&config(&providers, "  - { name: \"*\", targets: [\"openrouter/anthropic/claude-sonnet-4.5\"] }\n")).start();
    let (ok, stdout, stderr) = run_claude(&gw, TEAM_KEY, "run: echo cache-turn-ok", &["--model", "openrouter/anthropic/claude-sonnet-4.5", "--allowedTools", "Bash"]);
    assert!(ok, "claude failed:\n{stdout}\n{stderr}");
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["is_error"], false, "{result}");

    let chats = chat_requests(&mock);
    assert!(chats.len() >= 2, "the tool call turn and the tool result turn: {}", chats.len());
    for chat in &chats {
        let messages = chat["messages"].as_array().unwrap();
        let system = messages[0]["content"].as_array().expect("system kept as parts");
        assert!(system.iter().filter(|p| p.get("cache_control").is_some()).count() >= 2, "Claude Code marks its system blocks: {system:?}");
        let last = messages.last().unwrap()["content"].as_array().expect("the last message kept as parts");
        assert!(last.last().unwrap().get("cache_control").is_some(), "Claude Code marks the last block of the conversation: {last:?}");
    }
    let tool_turn = chats.last().unwrap();
    assert_eq!(tool_turn["messages"].as_array().unwrap().last().unwrap()["role"], "tool", "the breakpoint sits on the tool result");
    let read = result["usage"]["cache_read_input_tokens"].as_u64().unwrap_or(0);
    assert!(read > 1024, "the second turn read the prefix the first one wrote: {result}");
}

#[test]
fn claude_code_discovers_the_gateways_models_with_gateway_model_discovery_on() {
    let gw = Gateway::embedded_default().env("SWITCHYARD_TEAM_KEY", TEAM_KEY).start();
    let home = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = run_claude_in(home.path(), &gw, TEAM_KEY, "say hi", &[], &[("CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY", "1")]);
    assert!(ok, "claude failed:\n{stdout}\n{stderr}");
    assert!(gw.metric("switchyard_requests_total{endpoint=\"models\",provider=\"none\",status=\"200\"}") >= 1.0, "the CLI asked GET /v1/models:\n{}", gw.metrics());
    // What the CLI keeps for its /model picker: the gateway's list, filtered (by the CLI) to Claude models.
    let cache = std::fs::read_to_string(home.path().join(".claude/cache/gateway-models.json")).expect("the CLI stored the discovered models");
    let cache: serde_json::Value = serde_json::from_str(&cache).unwrap();
    assert_eq!(cache["baseUrl"], gw.base);
    let ids: Vec<&str> = cache["models"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"]);
}
