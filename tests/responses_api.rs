//! `POST /v1/responses` through the real binary: errors in the Responses API's format with the right status,
//! native pass-through (body untouched but for `model`), translation notes, fallback across formats, key
//! pools, mid-stream failures as events the SDKs and Codex understand, and metrics by endpoint.

mod common;

use common::*;
use serde_json::{json, Value};

struct Setup {
    /// Held so the mocks live as long as the gateway that points at them.
    _mocks: Vec<Mock>,
    mock: Mock,
    gw: Gateway,
}

/// `native` (a Responses-API provider, two keys, the second refused), `claude` (Anthropic) and `chat`
/// (chat completions), all on one mock; `down` a mock that answers 503 to everything. `codex` is an
/// alias to native, `failover` falls from `down` to `claude`.
fn setup() -> Setup {
    let mock = Mock::start(&["--key-fault", "sk-native-refused=unauthorized"]);
    let down = Mock::start(&["--fault", "status:503"]);
    let providers = format!(
        "  native:\n    kind: openai\n    base_url: \"{m}/v1\"\n    keys: [\"sk-native-refused\", \"sk-native-good\"]\n    responses_api: true\n    pool: {{ strategy: round_robin, affinity: false }}\n{}{}{}    responses_api: true\n",
        provider_yaml("claude", "anthropic", &mock.url(), "sk-ant-api03-x"),
        provider_yaml("chat", "openai", &format!("{}/v1", mock.url()), "sk-or-v1-x"),
        provider_yaml("down", "openai", &format!("{}/v1", down.url()), "sk-down"),
        m = mock.url(),
    );
    let models = "  - { name: codex, targets: [\"native/gpt-5-codex\"] }\n  - { name: failover, targets: [\"down/gpt-5\", \"claude/claude-haiku-4-5\"] }\n";
    let gw = Gateway::with_config(&config(&providers, models)).start();
    Setup {
        _mocks: vec![down],
        mock,
        gw,
    }
}

fn post(s: &Setup, key: &str, body: &str, extra: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut req = client()
        .post(s.gw.url("/v1/responses"))
        .bearer_auth(key)
        .header("content-type", "application/json");
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(body.to_owned()).send().unwrap()
}

fn error_of(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let body: Value = r.json().unwrap();
    let error = body["error"].clone();
    assert!(
        error["message"].is_string()
            && error.get("type").is_some()
            && error.get("param").is_some()
            && error.get("code").is_some(),
        "{body}"
    );
    (status, error)
}

#[test]
fn errors_come_in_the_responses_format_with_the_right_status() {
    let s = setup();
    let (status, e) = error_of(post(
        &s,
        "wrong-key",
        r#"{"model":"codex","input":"hi"}"#,
        &[],
    ));
    assert_eq!((status, e["code"].as_str()), (401, Some("invalid_api_key")));
    let (status, e) = error_of(post(
        &s,
        TEAM_KEY,
        r#"{"model":"no-such-model","input":"hi"}"#,
        &[],
    ));
    assert_eq!((status, e["code"].as_str()), (404, Some("model_not_found")));
    assert!(e["message"].as_str().unwrap().contains("no-such-model"));
    let (status, e) = error_of(post(&s, TEAM_KEY, r#"{"model":"codex","input":"hi""#, &[]));
    assert_eq!(
        (status, e["type"].as_str()),
        (400, Some("invalid_request_error"))
    );
    // Server-side state exists only where the provider keeps it: refused before any translated target...
    for model in ["claude/claude-haiku-4-5", "chat/glm"] {
        let body = json!({"model": model, "input": "again", "previous_response_id": "resp_123"})
            .to_string();
        let (status, e) = error_of(post(&s, TEAM_KEY, &body, &[]));
        assert_eq!(status, 400, "{model}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("previous_response_id"),
            "{e}"
        );
    }
    // ...and passed on natively, where the provider itself answers (the mock keeps nothing either).
    let (status, e) = error_of(post(
        &s,
        TEAM_KEY,
        r#"{"model":"codex","input":"again","previous_response_id":"resp_123"}"#,
        &[],
    ));
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("previous_response_not_found"))
    );
    let r = client()
        .get(s.gw.url("/v1/responses"))
        .bearer_auth(TEAM_KEY)
        .send()
        .unwrap();
    assert_eq!(r.status(), 405);
    let translated = s
        .mock
        .received()
        .into_iter()
        .filter(|r| r["path"] != "/v1/responses")
        .count();
    assert_eq!(
        translated, 0,
        "refused requests never reach a translated target"
    );
}

#[test]
fn native_pass_through_changes_only_the_model_and_uses_the_working_key() {
    let s = setup();
    let body = r#"{"input":[{"role":"user","content":"héllo"}],  "model" : "codex","store":false,"include":["reasoning.encrypted_content"],"prompt_cache_key":"k1"}"#;
    for _ in 0..2 {
        let r = post(&s, TEAM_KEY, body, &[("session-id", "codex-session-1")]);
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-switchyard-target"], "native/gpt-5-codex");
        assert!(
            r.headers().get("x-switchyard-translation").is_none(),
            "nothing is translated"
        );
        let v: Value = r.json().unwrap();
        assert_eq!(v["object"], "response");
    }
    let sent: Vec<Value> = s
        .mock
        .received()
        .into_iter()
        .filter(|r| r["path"] == "/v1/responses")
        .collect();
    assert_eq!(
        sent.last().unwrap()["body"].as_str().unwrap(),
        body.replace("\"codex\"", "\"gpt-5-codex\""),
        "byte for byte but the model"
    );
    let keys: Vec<&str> = sent
        .iter()
        .filter_map(|r| recorded_header(r, "authorization"))
        .collect();
    assert!(keys.contains(&"Bearer sk-native-good"), "{keys:?}");
    assert_eq!(
        keys.last(),
        Some(&"Bearer sk-native-good"),
        "the refused key is disabled after its 401"
    );
    assert!(s.gw.metrics().contains(
        "switchyard_key_state_changes_total{change=\"disabled\",key=\"0\",provider=\"native\"} 1"
    ));
    assert_eq!(
        s.gw.metric(
            "switchyard_requests_total{endpoint=\"responses\",provider=\"native\",status=\"200\"}"
        ),
        2.0
    );
}

#[test]
fn translated_responses_carry_notes_and_fall_back_across_formats() {
    let s = setup();
    let body = json!({"model": "failover", "input": "hello", "stream": true, "tools": [{"type": "web_search"}, {"type": "function", "name": "f"}], "store": false});
    let r = post(&s, TEAM_KEY, &body.to_string(), &[]);
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-switchyard-target"],
        "claude/claude-haiku-4-5",
        "the 503 moved it on"
    );
    assert_eq!(
        r.headers()["x-switchyard-translation"],
        "dropped=hosted_tools"
    );
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let events = sse_events(&r.text().unwrap());
    assert_eq!(events.first().unwrap().0, "response.created");
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "response.completed");
    assert!(
        done["response"]["output"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("You said: hello"),
        "{done}"
    );
    assert!(done["response"]["usage"]["input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        s.gw.metric("switchyard_fallbacks_total{provider=\"down\"}"),
        1.0
    );
    assert_eq!(s.mock.received().last().unwrap()["path"], "/v1/messages");
}

#[test]
fn a_stream_cut_midway_ends_with_an_event_the_client_understands() {
    let s = setup();
    // Translated: the translator knows the response, so it ends it as `response.failed`.
    let r = post(
        &s,
        TEAM_KEY,
        r#"{"model":"chat/glm","input":"hello","stream":true}"#,
        &[("x-mock-fault", "cut:4")],
    );
    let events = sse_events(&r.text().unwrap());
    assert_eq!(events.first().unwrap().0, "response.created");
    let (last, failed) = events.last().unwrap();
    assert_eq!(
        (last.as_str(), failed["response"]["status"].as_str()),
        ("response.failed", Some("failed")),
        "{events:?}"
    );
    assert_eq!(failed["response"]["error"]["code"], "server_error");
    // Native: the gateway does not parse a pass-through stream, so it appends an `error` event.
    let r = post(
        &s,
        TEAM_KEY,
        r#"{"model":"codex","input":"hello","stream":true}"#,
        &[("x-mock-fault", "cut:4")],
    );
    let events = sse_events(&r.text().unwrap());
    assert_eq!(events.first().unwrap().0, "response.created");
    let (last, error) = events.last().unwrap();
    assert_eq!(
        (
            last.as_str(),
            error["type"].as_str(),
            error["code"].as_str()
        ),
        ("error", Some("error"), Some("bad_gateway")),
        "{events:?}"
    );
}

/// The `function_call` items of a streamed Response, as (name, arguments), checking that each item is
/// whole — no event of another item between its `output_item.added` and its `output_item.done`.
fn streamed_calls(text: &str) -> Vec<(String, Value)> {
    let mut open = None;
    let mut calls = Vec::new();
    for (kind, e) in sse_events(text) {
        let index = e.get("output_index").and_then(Value::as_u64);
        if let (Some(open), Some(index)) = (open, index) {
            assert_eq!(open, index, "{kind} of another item inside item {open}");
        }
        match kind.as_str() {
            "response.output_item.added" => open = index,
            "response.output_item.done" => {
                open = None;
                let item = &e["item"];
                if item["type"] == "function_call" {
                    let arguments = serde_json::from_str(item["arguments"].as_str().unwrap()).unwrap();
                    calls.push((item["name"].as_str().unwrap().to_owned(), arguments));
                }
            }
            _ => {}
        }
    }
    calls
}

#[test]
fn parallel_tool_calls_arrive_as_whole_function_call_items_natively_and_translated() {
    let s = setup();
    let body = json!({"input": "run: echo one\nrun: echo two", "stream": true,
                      "tools": [{"type": "function", "name": "exec_command", "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}}]});
    // Natively (the mock's Responses API), from Anthropic, and from a chat server that interleaves the calls.
    for model in ["codex", "claude/claude-haiku-4-5", "chat/glm"] {
        let mut request = body.clone();
        request["model"] = json!(model);
        let r = post(&s, TEAM_KEY, &request.to_string(), &[("x-mock-tool-stream", "interleaved")]);
        assert_eq!(r.status(), 200, "{model}");
        assert_eq!(
            streamed_calls(&r.text().unwrap()),
            [("exec_command".to_owned(), json!({"cmd": "echo one"})), ("exec_command".to_owned(), json!({"cmd": "echo two"}))],
            "{model}"
        );
    }
    let chat = s.mock.received().pop().unwrap();
    assert_eq!((chat["path"].as_str(), recorded_header(&chat, "x-mock-tool-stream")), (Some("/v1/chat/completions"), Some("interleaved")));
}
