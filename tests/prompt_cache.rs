//! Prompt caching through translation, through the real binary: Claude Code's `cache_control` breakpoints
//! reach an OpenRouter-shaped provider on the blocks the client marked, OpenAI gets a stable hashed
//! `prompt_cache_key` and a byte-stable prefix (Codex, on the Responses surface, keeps its own key), and the
//! (mock) provider's cache reads and writes come back in the client's own usage format, both directions,
//! streaming and not.

mod common;

use common::*;
use serde_json::{json, Value};

fn upstream_bodies(mock: &Mock) -> Vec<Value> {
    mock.received().iter().filter(|r| r["path"] == "/v1/chat/completions").map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap()).collect()
}

/// The usage a streamed Anthropic response ends with (`message_delta`).
fn streamed_usage(text: &str) -> Value {
    let events = sse_events(text);
    events.iter().find(|(name, _)| name == "message_delta").unwrap_or_else(|| panic!("no message_delta: {text}")).1["usage"].clone()
}

/// The texts of the blocks a Claude Code request marked with `cache_control` (the billing header aside).
fn client_marked_texts(body: &Value) -> Vec<String> {
    let mut texts = Vec::new();
    let blocks = body["system"].as_array().unwrap().iter().chain(body["messages"].as_array().unwrap().iter().filter_map(|m| m["content"].as_array()).flatten());
    for block in blocks.filter(|b| b.get("cache_control").is_some()) {
        let text = block.get("text").or_else(|| block.get("content")).and_then(Value::as_str).unwrap().to_string();
        texts.push(text);
    }
    texts
}

/// The texts of the content parts the provider received with `cache_control`.
fn upstream_marked_texts(body: &Value) -> Vec<String> {
    let parts = body["messages"].as_array().unwrap().iter().filter_map(|m| m["content"].as_array()).flatten();
    parts.filter(|p| p.get("cache_control").is_some()).map(|p| p["text"].as_str().unwrap().to_string()).collect()
}

/// A mock and a gateway with one OpenAI-compatible provider `name` on it, with these translation settings.
fn openai_compatible(name: &str, translation: &str) -> (Mock, Gateway) {
    let mock = Mock::start(&[]);
    let providers = format!("{}    translation: {{ {translation} }}\n", provider_yaml(name, "openai", &format!("{}/v1", mock.url()), "sk-or-v1-cache"));
    let gw = Gateway::with_config(&config(&providers, "")).start();
    (mock, gw)
}

#[test]
fn captured_claude_code_turns_keep_their_breakpoints_and_turn_two_reads_the_cache() {
    let (mock, gw) = openai_compatible("openrouter", "cache_control: true");
    let c = client();
    let mut usages = Vec::new();
    for (name, stream) in [("01-opus-stream-first-turn.json", true), ("02-opus-stream-tool-result-turn.json", true), ("02-opus-stream-tool-result-turn.json", false)] {
        let mut body = fixture(name)["body"].clone();
        body["model"] = json!("openrouter/anthropic/claude-sonnet-4.5");
        body["stream"] = json!(stream);
        let r = c.post(gw.url("/v1/messages?beta=true")).header("x-api-key", TEAM_KEY).json(&body).send().unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let notes = r.headers().get("x-switchyard-translation").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert!(!notes.contains("cache_control"), "{name}: markers were not dropped: {notes}");
        usages.push(if stream { streamed_usage(&r.text().unwrap()) } else { r.json::<Value>().unwrap()["usage"].clone() });

        let upstream = upstream_bodies(&mock).pop().unwrap();
        let marked = client_marked_texts(&body);
        assert!(marked.len() >= 3, "{name}: the capture marks two system blocks and a message");
        assert_eq!(upstream_marked_texts(&upstream), marked, "{name}: every block the client marked, and only those, carries its marker");
        assert_eq!(upstream["messages"][0]["content"][0]["cache_control"], json!({"type": "ephemeral"}));
    }
    assert_eq!(usages[0]["cache_read_input_tokens"], 0, "{}", usages[0]);
    assert!(usages[0]["cache_creation_input_tokens"].as_u64().unwrap() > 1024, "turn 1 writes the prefix: {}", usages[0]);
    for turn_two in &usages[1..] {
        let read = turn_two["cache_read_input_tokens"].as_u64().unwrap();
        assert!(read > 1024, "turn 2 reads what turn 1 wrote: {turn_two}");
        assert!(turn_two["input_tokens"].as_u64().unwrap() < read, "input_tokens excludes the cached part: {turn_two}");
    }
}

#[test]
fn openai_gets_a_stable_hashed_prompt_cache_key_and_a_byte_stable_prefix() {
    let (mock, gw) = openai_compatible("openai", "prompt_cache_key: true");
    let c = client();
    let send = |body: &Value| c.post(gw.url("/v1/messages?beta=true")).header("x-api-key", TEAM_KEY).json(body).send().unwrap();
    let mut usages = Vec::new();
    for name in ["01-opus-stream-first-turn.json", "02-opus-stream-tool-result-turn.json"] {
        let mut body = fixture(name)["body"].clone();
        body["model"] = json!("openai/gpt-5");
        usages.push(streamed_usage(&send(&body).text().unwrap()));
    }
    let bodies = upstream_bodies(&mock);
    let (first, second) = (&bodies[0], &bodies[1]);
    let key = first["prompt_cache_key"].as_str().unwrap();
    assert_eq!(second["prompt_cache_key"], key, "one key for the whole session");
    assert!(key.starts_with("sy-") && key[3..].bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    let session = "6297ca5a-3386-41f3-b96b-56ef6c5bc197";
    assert!(!serde_json::to_string(first).unwrap().contains("6297ca5a"), "no raw session id goes to OpenAI");
    assert!(fixture("01-opus-stream-first-turn.json")["body"]["metadata"]["user_id"].as_str().unwrap().contains(session));
    let prefix = |b: &Value| serde_json::to_string(&b["messages"].as_array().unwrap()[..3]).unwrap();
    assert_eq!(prefix(first), prefix(second), "system prompt, first turn and environment message are byte-identical");
    assert_eq!(serde_json::to_string(&first["tools"]).unwrap(), serde_json::to_string(&second["tools"]).unwrap());
    assert!(!serde_json::to_string(&bodies).unwrap().contains("cache_control"), "OpenAI gets no markers");
    assert!(usages[1]["cache_read_input_tokens"].as_u64().unwrap() >= 1024, "automatic caching read: {}", usages[1]);

    // Another session, another key; a session known only from Claude Code's header still gets one.
    let mut other = fixture("01-opus-stream-first-turn.json")["body"].clone();
    other["model"] = json!("openai/gpt-5");
    other["metadata"]["user_id"] = json!(other["metadata"]["user_id"].as_str().unwrap().replace(session, "00000000-0000-0000-0000-000000000001"));
    assert_eq!(send(&other).status(), 200);
    let other_key = upstream_bodies(&mock).pop().unwrap()["prompt_cache_key"].as_str().unwrap().to_string();
    assert_ne!(other_key, key);
    let headed = c
        .post(gw.url("/v1/messages"))
        .header("x-api-key", TEAM_KEY)
        .header("x-claude-code-session-id", reqwest::header::HeaderValue::from_bytes(b"sess-\xff-1").unwrap())
        .json(&json!({"model": "openai/gpt-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .unwrap();
    assert_eq!(headed.status(), 200);
    let headed_key = upstream_bodies(&mock).pop().unwrap()["prompt_cache_key"].as_str().unwrap().to_string();
    assert!(headed_key.starts_with("sy-") && headed_key != key && headed_key != other_key, "{headed_key}");
}

/// The captured Codex CLI request, for a Responses client translated to chat completions.
fn codex_request(model: &str) -> (Value, String) {
    let capture: Value = serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/codex/01-codex-exec-first-turn.json")).unwrap()).unwrap();
    let mut body = capture["body"].clone();
    body["model"] = json!(model);
    (body, capture["headers"]["session-id"].as_str().unwrap().to_string())
}

#[test]
fn codex_keeps_its_own_prompt_cache_key_through_translation_and_reads_the_cache() {
    let (mock, gw) = openai_compatible("openai", "prompt_cache_key: true");
    let c = client();
    let (body, session) = codex_request("openai/gpt-5");
    let own_key = body["prompt_cache_key"].as_str().unwrap().to_string();
    let send = |body: &Value| c.post(gw.url("/v1/responses")).bearer_auth(TEAM_KEY).header("session-id", &session).json(body).send().unwrap();
    let mut usages = Vec::new();
    for _ in 0..2 {
        let r = send(&body);
        assert_eq!(r.status(), 200);
        let notes = r.headers().get("x-switchyard-translation").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert!(!notes.contains("prompt_cache_key"), "the key was sent on, not dropped: {notes}");
        let events = sse_events(&r.text().unwrap());
        let (last, done) = events.last().unwrap();
        assert_eq!(last, "response.completed");
        usages.push(done["response"]["usage"].clone());
    }
    let bodies = upstream_bodies(&mock);
    assert_eq!(bodies.len(), 2);
    for sent in &bodies {
        assert_eq!(sent["prompt_cache_key"], json!(own_key), "Codex's own key, not the gateway's");
    }
    assert_eq!(usages[0]["input_tokens_details"]["cached_tokens"], 0, "{}", usages[0]);
    assert!(usages[1]["input_tokens_details"]["cached_tokens"].as_u64().unwrap() >= 1024, "turn 2 reads the prefix: {}", usages[1]);

    // A Responses client that names no key gets the gateway's hashed one, from Codex's session header.
    let mut keyless = body.clone();
    keyless.as_object_mut().unwrap().remove("prompt_cache_key");
    assert_eq!(send(&keyless).status(), 200);
    let key = upstream_bodies(&mock).pop().unwrap()["prompt_cache_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sy-") && !key.contains(&session), "{key}");
}

#[test]
fn anthropic_cache_counters_reach_openai_clients_in_their_format() {
    let mock = Mock::start(&[]);
    let gw = Gateway::with_config(&config(&provider_yaml("anthropic", "anthropic", &mock.url(), "sk-ant-api03-cache"), "")).start();
    let c = client();
    let long = "Project conventions. ".repeat(400);
    let request = |stream: bool| {
        json!({"model": "anthropic/claude-sonnet-4-5", "stream": stream, "stream_options": {"include_usage": true}, "messages": [
            {"role": "system", "content": [{"type": "text", "text": long, "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": "hi"}]})
    };
    let first: Value = c.post(gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&request(false)).send().unwrap().json().unwrap();
    assert_eq!(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0, "{first}");
    let sent: Value = serde_json::from_str(mock.received()[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["system"][0]["cache_control"], json!({"type": "ephemeral"}), "the marker reached the Anthropic block");

    let second: Value = c.post(gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&request(false)).send().unwrap().json().unwrap();
    let cached = second["usage"]["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap();
    assert!(cached > 1024, "{second}");
    assert_eq!(second["usage"]["prompt_tokens"], first["usage"]["prompt_tokens"], "prompt_tokens counts cached input too");

    let text = c.post(gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&request(true)).send().unwrap().text().unwrap();
    let usage = sse_events(&text).into_iter().rev().find_map(|(_, d)| d.get("usage").filter(|u| !u.is_null()).cloned()).unwrap_or_else(|| panic!("{text}"));
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], cached, "streamed: {usage}");
}
