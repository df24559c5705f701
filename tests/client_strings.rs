//! Client-supplied strings that reach headers, paths or hashes, through the real binary: a model name
//! with control characters is the client's 400 (in its own format — Anthropic, Chat Completions or
//! Responses) and nothing goes upstream; request
//! ids, session ids, user ids, query strings and provider-qualified names with hostile content are
//! carried safely or replaced — never a 500, never a changed upstream path.

mod common;

use common::*;
use reqwest::header::HeaderValue;
use serde_json::json;

struct Setup {
    anthropic: Mock,
    openai: Mock,
    gw: Gateway,
}

fn setup() -> Setup {
    let anthropic = Mock::start(&[]);
    let openai = Mock::start(&[]);
    let providers = format!(
        "{}{}",
        provider_yaml("anthropic", "anthropic", &anthropic.url(), "sk-ant-api03-strings"),
        provider_yaml("openrouter", "openai", &format!("{}/v1", openai.url()), "sk-or-v1-strings"),
    );
    let models = "  - { name: \"claude-*\", targets: [\"anthropic/*\"] }\n  - { name: \"*\", targets: [\"openrouter/*\"] }\n";
    let gw = Gateway::with_config(&config(&providers, models)).start();
    Setup { anthropic, openai, gw }
}

fn messages(model: &str) -> serde_json::Value {
    json!({"model": model, "max_tokens": 32, "messages": [{"role": "user", "content": "hello"}]})
}

fn upstream_body(request: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(request["body"].as_str().unwrap()).unwrap()
}

#[test]
fn a_model_name_with_control_characters_is_a_400_in_the_callers_format_and_never_sent() {
    let s = setup();
    let c = client();
    for model in ["claude-x\r\nx-injected: 1", "gpt\u{0}4", "openrouter/a\nb", "m\u{7f}"] {
        let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&messages(model)).send().unwrap();
        assert_eq!(r.status(), 400, "{model:?}");
        assert!(r.headers().get("x-injected").is_none());
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(body["type"], "error", "{body}");
        assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("control character"), "{body}");

        let r = c.post(s.gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})).send().unwrap();
        assert_eq!(r.status(), 400, "{model:?}");
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        assert!(body.get("type").is_none(), "OpenAI shape: {body}");

        let r = c.post(s.gw.url("/v1/responses")).bearer_auth(TEAM_KEY).json(&json!({"model": model, "input": "hi", "stream": true})).send().unwrap();
        assert_eq!(r.status(), 400, "{model:?}");
        assert_eq!(r.headers()["content-type"], "application/json", "an error, not a stream");
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("control character"), "{body}");
        assert!(body.get("type").is_none(), "the Responses API's error shape is OpenAI's: {body}");
    }
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&messages(&"m".repeat(300))).send().unwrap();
    assert_eq!(r.status(), 400);
    assert!(s.anthropic.received().is_empty() && s.openai.received().is_empty(), "nothing reached a provider");
}

#[test]
fn names_of_any_script_and_provider_qualified_paths_stay_in_the_body() {
    let s = setup();
    let c = client();
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&messages("模型-1 beta")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-switchyard-target"].as_bytes(), "openrouter/模型-1 beta".as_bytes());

    let r = c.post(s.gw.url("/v1/messages?beta=true")).header("x-api-key", TEAM_KEY).json(&messages("openrouter/../../../admin?x=1#y")).send().unwrap();
    assert_eq!(r.status(), 200);
    let last = s.openai.received().pop().unwrap();
    assert_eq!(last["path"], "/v1/chat/completions", "the model never reaches the upstream path");
    assert_eq!(upstream_body(&last)["model"], "../../../admin?x=1#y");
}

#[test]
fn odd_request_ids_are_replaced_and_odd_session_ids_are_carried_unchanged() {
    let s = setup();
    let c = client();
    for bad in [HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(), HeaderValue::from_str(&"x".repeat(200)).unwrap(), HeaderValue::from_static("has space")] {
        let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("x-request-id", bad.clone()).json(&messages("claude-haiku-4-5")).send().unwrap();
        assert_eq!(r.status(), 200, "{bad:?}");
        let made = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(made.starts_with("req_"), "{made}");
        let sent = s.anthropic.received().pop().unwrap();
        assert_eq!(recorded_header(&sent, "x-request-id"), Some(made.as_str()));
    }
    let session = HeaderValue::from_bytes(&[b"sess-\xff\xfe-".as_slice(), "é".repeat(400).as_bytes()].concat()).unwrap();
    for model in ["claude-haiku-4-5", "glm-4.5"] {
        let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("x-claude-code-session-id", session.clone()).json(&messages(model)).send().unwrap();
        assert_eq!(r.status(), 200, "{model}");
    }
    let forwarded = s.anthropic.received().pop().unwrap();
    let header = forwarded["headers"].as_array().unwrap().iter().find(|h| h[0] == "x-claude-code-session-id").cloned();
    assert!(header.is_some(), "a valid header travels on as the client sent it");
    // Codex CLI's `session-id`, on the Responses surface, natively and translated.
    for model in ["claude-haiku-4-5", "glm-4.5"] {
        let r = c.post(s.gw.url("/v1/responses")).bearer_auth(TEAM_KEY).header("session-id", session.clone()).json(&json!({"model": model, "input": "hi"})).send().unwrap();
        assert_eq!(r.status(), 200, "{model}");
    }
}

#[test]
fn user_ids_with_control_characters_stay_json_and_long_ones_are_hashed() {
    let s = setup();
    let c = client();
    let mut req = messages("glm-4.5");
    req["metadata"] = json!({"user_id": format!("{{\"session_id\":\"a\\r\\nb\",\"pad\":\"{}\"}}", "x".repeat(5000))});
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&req).send().unwrap();
    assert_eq!(r.status(), 200);
    let user = upstream_body(&s.openai.received().pop().unwrap())["user"].as_str().unwrap().to_string();
    assert_eq!(user.len(), 64, "{user}");
    assert!(user.bytes().all(|b| b.is_ascii_hexdigit()), "{user}");

    req["metadata"] = json!({"user_id": "u\r\n1"});
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&req).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(upstream_body(&s.openai.received().pop().unwrap())["user"], "u\r\n1", "carried in the JSON body, escaped");

    let r = c.post(s.gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&json!({"model": "glm-4.5", "user": "a\u{0}b\r\n", "messages": [{"role": "user", "content": "hi"}]})).send().unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn query_strings_reach_anthropic_providers_verbatim_and_never_change_the_path() {
    let s = setup();
    let c = client();
    let query = "beta=true&x=%0D%0Ainjected:%201&y=../../admin&z=%00";
    let r = c.post(s.gw.url(&format!("/v1/messages?{query}"))).header("x-api-key", TEAM_KEY).json(&messages("claude-haiku-4-5")).send().unwrap();
    assert_eq!(r.status(), 200);
    let sent = s.anthropic.received().pop().unwrap();
    assert_eq!(sent["path"], format!("/v1/messages?{query}"));
    assert!(recorded_header(&sent, "injected").is_none());
    let r = c.post(s.gw.url(&format!("/v1/messages?{query}"))).header("x-api-key", TEAM_KEY).json(&messages("glm-4.5")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.openai.received().pop().unwrap()["path"], "/v1/chat/completions", "OpenAI-compatible providers get no query");
}
