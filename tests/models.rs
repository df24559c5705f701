//! `GET /v1/models` through the real binary: never empty when something can be served — the built-in mock's
//! models, the default model, providers' own lists fetched in the background — bounded by a timeout that
//! never reaches the request path, refreshed on reload, stopped on shutdown.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const MOCK_MODELS: [&str; 6] = ["claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "gpt-4o", "gpt-4o-mini", "switchyard-mock"];

#[test]
fn with_no_provider_key_the_built_in_mocks_models_are_listed_in_both_shapes() {
    let gw = Gateway::embedded_default().env("SWITCHYARD_TEAM_KEY", TEAM_KEY).start();
    assert_eq!(gw.model_ids(TEAM_KEY, 0), MOCK_MODELS);
    let anthropic: Value = client().get(gw.url("/v1/models?limit=1000")).header("x-api-key", TEAM_KEY).header("anthropic-version", "2023-06-01").send().unwrap().json().unwrap();
    assert_eq!(anthropic["data"][0], json!({"type": "model", "id": "claude-opus-4-5", "display_name": "claude-opus-4-5", "created_at": "1970-01-01T00:00:00Z"}));
    assert_eq!((&anthropic["first_id"], &anthropic["last_id"], &anthropic["has_more"]), (&json!("claude-opus-4-5"), &json!("switchyard-mock"), &json!(false)));
    let listed = gw.model_ids(TEAM_KEY, 0);
    let r = client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&json!({"model": listed[1], "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]})).send().unwrap();
    assert_eq!(r.status(), 200, "a listed model is one the gateway serves");
}

#[test]
fn an_openai_compatible_provider_with_a_default_model_lists_it_and_then_what_the_provider_serves() {
    let mock = Mock::start(&[]);
    let gw = Gateway::embedded_default()
        .env("SWITCHYARD_TEAM_KEY", TEAM_KEY)
        .env("OPENROUTER_API_KEY", "sk-or-v1-models")
        .env("OPENROUTER_BASE_URL", &format!("{}/v1", mock.url()))
        .env("SWITCHYARD_DEFAULT_MODEL", "openrouter/z-ai/glm-4.5-air")
        .start();
    assert_eq!(gw.model_ids(TEAM_KEY, 0)[0], "openrouter/z-ai/glm-4.5-air", "listed from the start");
    let all = gw.model_ids(TEAM_KEY, 7);
    let mut expected = vec!["openrouter/z-ai/glm-4.5-air".to_string()];
    expected.extend(MOCK_MODELS.iter().map(|m| format!("openrouter/{m}")));
    assert_eq!(all, expected, "the provider's own list, under names that route to it");
    let fetched = mock.discovery_requests();
    assert_eq!(fetched[0]["path"], "/v1/models");
    assert_eq!(recorded_header(&fetched[0], "authorization"), Some("Bearer sk-or-v1-models"));
    assert_eq!(recorded_header(&fetched[0], "http-referer"), Some("https://github.com/switchyard-gateway/switchyard"), "the provider's own headers");
    assert!(mock.received().is_empty(), "discovery is the only request the provider saw");
}

#[test]
fn a_failing_or_silent_provider_leaves_the_configured_list_and_never_holds_up_a_request_or_shutdown() {
    let failing = Mock::start(&["--fault", "status:503"]);
    let silent = Mock::start(&["--fault", "hang"]);
    let providers = format!(
        "{}    models: [configured-a]\n{}    models: [configured-b]\n",
        provider_yaml("failing", "openai", &format!("{}/v1", failing.url()), "sk-1"),
        provider_yaml("silent", "anthropic", &silent.url(), "sk-2")
    );
    let mut gw = Gateway::with_config(&config(&providers, "")).start();
    // The silent provider holds discovery's request open (up to its 10 s timeout); requests are answered meanwhile.
    let deadline = Instant::now() + Duration::from_secs(20);
    while silent.discovery_requests().is_empty() || failing.discovery_requests().is_empty() {
        assert!(Instant::now() < deadline, "discovery never asked the providers");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(silent.stats()["open_connections"], 1, "discovery is still waiting on the silent provider");
    assert_eq!(gw.model_ids(TEAM_KEY, 0), ["failing/configured-a", "silent/configured-b"]);
    let logs = gw.process.stderr.text();
    assert!(logs.contains("model discovery: provider `failing`: answered 503"), "{logs}");
    assert!(!logs.contains("sk-1") && !logs.contains("sk-2"), "no key in the logs");

    gw.process.signal("TERM");
    assert!(gw.process.wait_exit(Duration::from_secs(15)).is_some(), "the discovery task stops with the server");
}

#[test]
fn a_reload_fetches_the_new_providers_list_at_once() {
    let first = Mock::start(&[]);
    let added = Mock::start(&[]);
    let one = provider_yaml("first", "openai", &format!("{}/v1", first.url()), "sk-1");
    let gw = Gateway::with_config(&config(&one, "")).start();
    assert_eq!(gw.model_ids(TEAM_KEY, 6).len(), 6);
    let text = std::fs::read_to_string(&gw.config_path).unwrap();
    let two = format!("{one}{}", provider_yaml("added", "openai", &format!("{}/v1", added.url()), "sk-2"));
    std::fs::write(&gw.config_path, text.replace(&one, &two)).unwrap();
    gw.process.signal("HUP");
    let all = gw.model_ids(TEAM_KEY, 12);
    assert_eq!(all.len(), 12, "{all:?}");
    assert!(all.contains(&"added/claude-opus-4-5".to_string()), "{all:?}");
    assert_eq!(added.discovery_requests().len(), 1);
}
