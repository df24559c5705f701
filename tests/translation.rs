//! Translation through the real binary: Anthropic clients on OpenAI-compatible providers (thinking,
//! count_tokens, errors, cut streams, real Claude Code captures) and the reverse.

mod common;

use common::*;
use serde_json::json;

struct Setup {
    openai: Mock,
    anthropic: Mock,
    gw: Gateway,
}

/// `reasoning` providers accept `reasoning_effort`; `plain` ones do not.
fn setup() -> Setup {
    let openai = Mock::start(&[]);
    let anthropic = Mock::start(&[]);
    let providers = format!(
        "{}    translation: {{ reasoning_effort: true, max_output_tokens: 8192 }}\n{}{}",
        provider_yaml("reasoning", "openai", &format!("{}/v1", openai.url()), "sk-or-reasoning"),
        provider_yaml("plain", "openai", &format!("{}/v1", openai.url()), "sk-or-plain"),
        provider_yaml("anthropic", "anthropic", &anthropic.url(), "sk-ant-api03-t"),
    );
    let gw = Gateway::with_config(&config(&providers, "  - { name: \"claude-*\", targets: [\"anthropic/*\"] }\n")).start();
    Setup { openai, anthropic, gw }
}

fn last_upstream_body(mock: &Mock) -> serde_json::Value {
    serde_json::from_str(mock.received().last().unwrap()["body"].as_str().unwrap()).unwrap()
}

#[test]
fn thinking_maps_to_reasoning_effort_where_supported_and_is_dropped_visibly_elsewhere() {
    let s = setup();
    let c = client();
    let req = json!({"model":"reasoning/glm","max_tokens":64000,"thinking":{"type":"enabled","budget_tokens":31999},"messages":[{"role":"user","content":"think"}]});
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&req).send().unwrap();
    assert_eq!(r.status(), 200);
    let upstream = last_upstream_body(&s.openai);
    assert_eq!(upstream["reasoning_effort"], "high");
    assert_eq!(upstream["max_tokens"], 8192, "clamped to the provider's max_output_tokens");
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["content"][0]["type"], "thinking", "{body}");
    assert_eq!(body["content"][1]["type"], "text");

    let mut streaming = req.clone();
    streaming["stream"] = json!(true);
    let text = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&streaming).send().unwrap().text().unwrap();
    let events = sse_events(&text);
    assert!(events.iter().any(|(_, d)| d["delta"]["type"] == "thinking_delta"), "{text}");
    assert_eq!(events.last().unwrap().0, "message_stop");

    let mut plain = req.clone();
    plain["model"] = json!("plain/glm");
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&plain).send().unwrap();
    assert_eq!(r.status(), 200);
    let notes = r.headers()["x-switchyard-translation"].to_str().unwrap().to_string();
    assert!(notes.contains("thinking"), "{notes}");
    assert!(last_upstream_body(&s.openai).get("reasoning_effort").is_none());
}

#[test]
fn count_tokens_is_estimated_locally_for_openai_targets_and_forwarded_for_anthropic() {
    let s = setup();
    let c = client();
    let body = json!({"model":"plain/glm","messages":[{"role":"user","content":"count these tokens please, all of them"}]});
    let r = c.post(s.gw.url("/v1/messages/count_tokens")).header("x-api-key", TEAM_KEY).json(&body).send().unwrap();
    assert_eq!(r.status(), 200);
    let n = r.json::<serde_json::Value>().unwrap()["input_tokens"].as_u64().unwrap();
    assert!((5..100).contains(&n), "{n}");
    assert!(s.openai.received().is_empty(), "the estimate is local");
    let r = c.post(s.gw.url("/v1/messages/count_tokens")).header("x-api-key", TEAM_KEY).json(&json!({"model":"claude-haiku-4-5","messages":[{"role":"user","content":"x"}]})).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.anthropic.received().last().unwrap()["path"], "/v1/messages/count_tokens");
}

#[test]
fn provider_errors_arrive_in_the_callers_format() {
    let s = setup();
    let c = client();
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("x-mock-fault", "rate_limit:7").json(&json!({"model":"plain/glm","max_tokens":5,"messages":[{"role":"user","content":"x"}]})).send().unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "rate_limit_error");

    // Another provider: `plain`'s only key now rests for the 7 s its 429 asked for.
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("x-mock-fault", "status:503").json(&json!({"model":"reasoning/glm","max_tokens":5,"messages":[{"role":"user","content":"x"}]})).send().unwrap();
    assert_eq!(r.status(), 529, "Claude Code retries overloaded_error");
    assert_eq!(r.json::<serde_json::Value>().unwrap()["error"]["type"], "overloaded_error");
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&json!({"model":"plain/glm","max_tokens":5,"messages":[{"role":"user","content":"x"}]})).send().unwrap();
    assert_eq!(r.status(), 429, "plain's key is resting");
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() <= 7);

    let r = c.post(s.gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).header("x-mock-fault", "overloaded").json(&json!({"model":"claude-haiku-4-5","messages":[{"role":"user","content":"x"}]})).send().unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["code"], "overloaded_error", "{body}");
    assert_eq!(body["error"]["type"], "server_error", "{body}");
}

#[test]
fn a_cut_translated_stream_ends_with_an_error_event() {
    let s = setup();
    let text = client()
        .post(s.gw.url("/v1/messages"))
        .header("x-api-key", TEAM_KEY)
        .header("x-mock-fault", "cut:3")
        .json(&json!({"model":"plain/glm","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"x"}]}))
        .send()
        .unwrap()
        .text()
        .unwrap_or_default();
    let events = sse_events(&text);
    assert_eq!(events.first().map(|(e, _)| e.as_str()), Some("message_start"), "{text}");
    assert_eq!(events.last().map(|(e, _)| e.as_str()), Some("error"), "never a silent cut: {text}");
}

#[test]
fn captured_claude_code_requests_translate_for_an_openai_provider() {
    let s = setup();
    for name in ["01-opus-stream-first-turn.json", "02-opus-stream-tool-result-turn.json", "03-bearer-custom-model.json", "04-haiku-thinking-enabled.json"] {
        let capture = fixture(name);
        let mut body = capture["body"].clone();
        body["model"] = json!("reasoning/z-ai/glm-4.5-air");
        let r = client().post(s.gw.url("/v1/messages?beta=true")).header("x-api-key", TEAM_KEY).header("anthropic-beta", "claude-code-20250219").json(&body).send().unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let events = sse_events(&r.text().unwrap());
        assert_eq!(events.last().map(|(e, _)| e.as_str()), Some("message_stop"), "{name}");
        let got = s.openai.received().pop().unwrap();
        assert_eq!(got["path"], "/v1/chat/completions", "{name}");
        assert_eq!(recorded_header(&got, "anthropic-beta"), None, "{name}: Anthropic headers stay home");
        let upstream: serde_json::Value = serde_json::from_str(got["body"].as_str().unwrap()).unwrap();
        assert_eq!(upstream["model"], "z-ai/glm-4.5-air");
        assert_eq!(upstream["stream"], true);
        assert_eq!(upstream["tools"].as_array().map(Vec::len), capture["body"]["tools"].as_array().map(Vec::len), "{name}: every tool kept");
        assert!(!got["body"].as_str().unwrap().contains("x-anthropic-billing-header"), "{name}: billing header dropped");
        assert_eq!(upstream["messages"][0]["role"], "system");
    }
}

#[test]
fn parallel_tool_calls_interleaved_by_the_provider_reach_the_client_as_whole_blocks() {
    let s = setup();
    let c = client();
    let bash = json!({"name": "Bash", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}});
    let request = |stream: bool| json!({"model": "plain/glm", "max_tokens": 200, "stream": stream, "tools": [bash.clone()],
        "messages": [{"role": "user", "content": "run: echo one\nrun: echo two"}]});
    for order in ["interleaved", "sequential"] {
        let text = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("x-mock-tool-stream", order).json(&request(true)).send().unwrap().text().unwrap();
        let upstream = s.openai.received().pop().unwrap();
        assert_eq!(recorded_header(&upstream, "x-mock-tool-stream"), Some(order));
        let events = sse_events(&text);
        let mut blocks: Vec<(serde_json::Value, String)> = Vec::new();
        let mut open = None;
        for (name, data) in &events {
            match name.as_str() {
                "content_block_start" => {
                    assert_eq!(open, None, "{order}: a block opened inside another: {text}");
                    open = data["index"].as_u64();
                    if data["content_block"]["type"] == "tool_use" {
                        blocks.push((data["content_block"].clone(), String::new()));
                    }
                }
                "content_block_delta" => {
                    assert_eq!(data["index"].as_u64(), open, "{order}: a delta outside its open block: {text}");
                    if let Some(partial) = data["delta"]["partial_json"].as_str() {
                        blocks.last_mut().unwrap().1.push_str(partial);
                    }
                }
                "content_block_stop" => open = None,
                _ => {}
            }
        }
        let inputs: Vec<serde_json::Value> = blocks.iter().map(|(_, json)| serde_json::from_str(json).unwrap()).collect();
        assert_eq!(inputs, [json!({"command": "echo one", "description": "mock"}), json!({"command": "echo two", "description": "mock"})], "{order}");
        assert!(blocks.iter().all(|(b, _)| b["name"] == "Bash" && b["id"].as_str().unwrap().starts_with("call_")), "{order}");
        assert_ne!(blocks[0].0["id"], blocks[1].0["id"]);
        assert_eq!(events.iter().find(|(n, _)| n == "message_delta").unwrap().1["delta"]["stop_reason"], "tool_use");
    }
    let whole: serde_json::Value = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&request(false)).send().unwrap().json().unwrap();
    let tools: Vec<&serde_json::Value> = whole["content"].as_array().unwrap().iter().filter(|b| b["type"] == "tool_use").collect();
    assert_eq!(tools.len(), 2, "{whole}");
    assert_eq!(tools[1]["input"]["command"], "echo two");
}
