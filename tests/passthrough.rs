//! Native pass-through through the real binary: team keys, key swap, routing, the body carried
//! byte for byte (2 MiB and real Claude Code captures), header policy, streaming without
//! buffering, per-provider connection reuse, limits.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const ANTHROPIC_KEY: &str = "sk-ant-api03-provider-key-AAAA";
const OPENAI_KEY: &str = "sk-or-v1-provider-key-BBBB";

struct Setup {
    anthropic: Mock,
    openai: Mock,
    gw: Gateway,
}

fn setup_with(extra_config: &str) -> Setup {
    let anthropic = Mock::start(&[]);
    let openai = Mock::start(&[]);
    let providers = format!(
        "{}{}    headers: {{ HTTP-Referer: \"https://example.test/team\", X-Title: \"switchyard-tests\" }}\n    models: [z-ai/glm-4.5-air]\n",
        provider_yaml("anthropic", "anthropic", &anthropic.url(), ANTHROPIC_KEY),
        provider_yaml("openrouter", "openai", &format!("{}/v1", openai.url()), OPENAI_KEY),
    );
    let models = "  - { name: sonnet, targets: [\"anthropic/claude-sonnet-4-5\"] }\n  - { name: \"claude-*\", targets: [\"anthropic/*\"] }\n  - { name: \"gpt-*\", targets: [\"openrouter/*\"] }\n";
    let mut text = config(&providers, models);
    text.push_str(extra_config);
    let gw = Gateway::with_config(&text).env("LIMITED_KEY", "limited-team-key-123").start();
    Setup { anthropic, openai, gw }
}

fn setup() -> Setup {
    setup_with("")
}

fn messages(model: &str) -> serde_json::Value {
    json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "hello"}]})
}

#[test]
fn missing_or_wrong_team_key_is_401_in_each_format() {
    let s = setup();
    let c = client();
    for (key, header) in [(None, "x-api-key"), (Some("wrong"), "x-api-key"), (Some("wrong"), "authorization")] {
        let mut req = c.post(s.gw.url("/v1/messages")).json(&messages("claude-haiku-4-5"));
        if let Some(k) = key {
            req = if header == "authorization" { req.bearer_auth(k) } else { req.header(header, k) };
        }
        let r = req.send().unwrap();
        assert_eq!(r.status(), 401);
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "authentication_error");
    }
    let r = c.post(s.gw.url("/v1/chat/completions")).bearer_auth("wrong").json(&json!({"model":"gpt-4o","messages":[]})).send().unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert!(s.anthropic.received().is_empty() && s.openai.received().is_empty(), "refused requests never reach a provider");
}

#[test]
fn team_model_globs_give_403_naming_the_model() {
    let s = setup_with("  - name: limited\n    keys: [{ env: LIMITED_KEY }]\n    models: [\"claude-haiku-*\"]\n");
    let c = client();
    let ok = c.post(s.gw.url("/v1/messages")).header("x-api-key", "limited-team-key-123").json(&messages("claude-haiku-4-5")).send().unwrap();
    assert_eq!(ok.status(), 200);
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", "limited-team-key-123").json(&messages("claude-opus-4-5")).send().unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["type"], "permission_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("claude-opus-4-5"));
    // Of everything the providers list (see the next test), the team sees what its globs allow.
    let ids = s.gw.model_ids("limited-team-key-123", 1);
    assert_eq!(ids, ["claude-haiku-4-5"]);
}

#[test]
fn the_team_key_never_leaves_the_gateway() {
    let s = setup();
    let c = client();
    c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("cookie", "session=abc").json(&messages("claude-haiku-4-5")).send().unwrap();
    c.post(s.gw.url("/v1/messages?beta=true")).bearer_auth(TEAM_KEY).json(&json!({"model":"sonnet","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]})).send().unwrap().text().unwrap();
    c.post(s.gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&json!({"model":"gpt-4o","messages":[{"role":"user","content":"x"}]})).send().unwrap();
    c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&messages("nope-model")).send().unwrap();
    c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).body("{broken").send().unwrap();

    let anthropic = s.anthropic.received();
    let openai = s.openai.received();
    assert_eq!(anthropic.len(), 2);
    assert_eq!(openai.len(), 1);
    let everything = format!(
        "{} {} {} {} {}",
        serde_json::to_string(&anthropic).unwrap(),
        serde_json::to_string(&openai).unwrap(),
        s.gw.process.stdout.text(),
        s.gw.process.stderr.text(),
        s.gw.metrics()
    );
    assert!(!everything.contains(TEAM_KEY), "team key leaked somewhere");
    for request in &anthropic {
        assert_eq!(recorded_header(request, "x-api-key"), Some(ANTHROPIC_KEY));
        assert_eq!(recorded_header(request, "authorization"), None);
        assert_eq!(recorded_header(request, "cookie"), None);
        assert_eq!(recorded_header(request, "anthropic-version"), Some("2023-06-01"));
    }
    assert_eq!(recorded_header(&openai[0], "authorization"), Some(format!("Bearer {OPENAI_KEY}").as_str()));
    assert_eq!(recorded_header(&openai[0], "x-api-key"), None);
    assert_eq!(recorded_header(&openai[0], "http-referer"), Some("https://example.test/team"));
    assert_eq!(recorded_header(&openai[0], "x-title"), Some("switchyard-tests"));
    assert_eq!(openai[0]["path"], "/v1/chat/completions");
    assert_eq!(anthropic[1]["path"], "/v1/messages?beta=true", "the query string is kept");
}

#[test]
fn routing_by_exact_alias_prefix_and_glob() {
    let s = setup();
    let c = client();
    let cases = [
        ("/v1/messages", "sonnet", "anthropic/claude-sonnet-4-5"),
        ("/v1/messages", "anthropic/claude-opus-4-5", "anthropic/claude-opus-4-5"),
        ("/v1/messages", "claude-haiku-4-5", "anthropic/claude-haiku-4-5"),
        ("/v1/chat/completions", "openrouter/z-ai/glm-4.5-air", "openrouter/z-ai/glm-4.5-air"),
        ("/v1/chat/completions", "gpt-4o-mini", "openrouter/gpt-4o-mini"),
    ];
    for (path, model, target) in cases {
        let body = if path == "/v1/messages" { messages(model) } else { json!({"model": model, "messages": [{"role":"user","content":"x"}]}) };
        let r = c.post(s.gw.url(path)).bearer_auth(TEAM_KEY).json(&body).send().unwrap();
        assert_eq!(r.status(), 200, "{model}");
        assert_eq!(r.headers()["x-switchyard-target"], target, "{model}");
        let reply: serde_json::Value = r.json().unwrap();
        let upstream_model = target.split_once('/').unwrap().1;
        assert_eq!(reply["model"], upstream_model, "the provider saw the upstream name for {model}");
    }
    let sent: Vec<String> = s.anthropic.received().iter().map(|r| serde_json::from_str::<serde_json::Value>(r["body"].as_str().unwrap()).unwrap()["model"].as_str().unwrap().to_string()).collect();
    assert_eq!(sent, vec!["claude-sonnet-4-5", "claude-opus-4-5", "claude-haiku-4-5"]);

    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&messages("mystery-model")).send().unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["type"], "not_found_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("mystery-model"));
    assert!(body["error"]["message"].as_str().unwrap().contains("/v1/models"));
}

#[test]
fn a_two_mib_body_is_routed_by_its_model_and_arrives_intact() {
    let s = setup();
    let filler = "x".repeat(2 * 1024 * 1024);
    // `model` deliberately after the big field: nothing may depend on its position.
    let body = format!(r#"{{"messages":[{{"role":"user","content":"{filler}"}}],"max_tokens":5,"model":"sonnet"}}"#);
    let r = client().post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("content-type", "application/json").body(body.clone()).send().unwrap();
    assert_eq!(r.status(), 200);
    let received = s.anthropic.received();
    assert_eq!(received.len(), 1);
    let expected = body.replace(r#""model":"sonnet""#, r#""model":"claude-sonnet-4-5""#);
    assert_eq!(received[0]["body"].as_str().unwrap().len(), expected.len());
    assert!(received[0]["body"].as_str().unwrap() == expected, "body changed beyond the model splice");
    assert_eq!(recorded_header(&received[0], "content-length"), Some(expected.len().to_string().as_str()));
}

#[test]
fn captured_claude_code_requests_are_forwarded_unchanged() {
    let s = setup();
    for name in ["01-opus-stream-first-turn.json", "02-opus-stream-tool-result-turn.json", "04-haiku-thinking-enabled.json"] {
        let capture = fixture(name);
        let body = serde_json::to_vec(&capture["body"]).unwrap();
        let mut req = client().post(s.gw.url(capture["path"].as_str().unwrap()));
        for (k, v) in capture["headers"].as_object().unwrap() {
            if !["content-length", "connection", "accept-encoding", "x-api-key", "authorization"].contains(&k.to_ascii_lowercase().as_str()) {
                req = req.header(k.as_str(), v.as_str().unwrap());
            }
        }
        let r = req.header("x-api-key", TEAM_KEY).body(body.clone()).send().unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let events = sse_events(&r.text().unwrap());
        assert_eq!(events.last().map(|(e, _)| e.as_str()), Some("message_stop"), "{name}");
        let got = s.anthropic.received().pop().unwrap();
        assert!(got["body"].as_str().unwrap().as_bytes() == body.as_slice(), "{name}: body changed");
        assert_eq!(got["path"], "/v1/messages?beta=true");
        for keep in ["anthropic-beta", "anthropic-version", "x-app", "user-agent", "x-claude-code-session-id", "x-stainless-retry-count", "anthropic-dangerous-direct-browser-access"] {
            let sent = capture["headers"].as_object().unwrap().iter().find(|(k, _)| k.eq_ignore_ascii_case(keep)).map(|(_, v)| v.as_str().unwrap());
            assert_eq!(recorded_header(&got, keep), sent, "{name}: header {keep}");
        }
        assert_eq!(recorded_header(&got, "x-api-key"), Some(ANTHROPIC_KEY));
    }
}

#[test]
fn request_ids_are_kept_or_made_and_returned() {
    let s = setup();
    let r = client().post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("x-request-id", "client-chosen-id-1").json(&messages("claude-haiku-4-5")).send().unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-chosen-id-1");
    assert_eq!(recorded_header(&s.anthropic.received()[0], "x-request-id"), Some("client-chosen-id-1"));
    let r = client().post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&messages("claude-haiku-4-5")).send().unwrap();
    let made = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(made.starts_with("req_"), "{made}");
    assert_eq!(recorded_header(&s.anthropic.received()[1], "x-request-id"), Some(made.as_str()));
}

#[test]
fn the_first_event_arrives_before_the_upstream_finishes() {
    let s = setup();
    let mut body = messages("claude-haiku-4-5");
    body["stream"] = json!(true);
    let started = Instant::now();
    let mut r = client().post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("x-mock-delay-ms", "300").json(&body).send().unwrap();
    let mut first = [0u8; 64];
    let n = r.read(&mut first).unwrap();
    let first_at = started.elapsed();
    assert!(n > 0 && String::from_utf8_lossy(&first[..n]).contains("message_start"));
    let mut rest = String::new();
    r.read_to_string(&mut rest).unwrap();
    let total = started.elapsed();
    // The mock spaces its ~14 events 300 ms apart: a buffering proxy would deliver byte one at the end.
    assert!(total >= Duration::from_millis(1500), "stream too fast to tell: {total:?}");
    assert!(first_at < total / 2, "first bytes at {first_at:?} of {total:?}: the stream was buffered");
}

#[test]
fn client_disconnect_cancels_the_upstream_stream() {
    let s = setup();
    let body = serde_json::to_string(&json!({"model":"claude-haiku-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hello"}]})).unwrap();
    let mut tcp = std::net::TcpStream::connect(s.gw.base.trim_start_matches("http://")).unwrap();
    write!(tcp, "POST /v1/messages HTTP/1.1\r\nHost: gw\r\nx-api-key: {TEAM_KEY}\r\nx-mock-delay-ms: 200\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut buf = [0u8; 256];
    let _ = tcp.read(&mut buf).unwrap();
    drop(tcp);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stats = s.anthropic.stats();
        if stats["open_connections"].as_u64() == Some(0) || stats["aborted_streams"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "upstream stream still open after the client left: {stats}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let metric = s.gw.metric("switchyard_client_disconnects_total{endpoint=\"messages\"}");
    assert!(metric >= 1.0, "client disconnect not counted");
}

#[test]
fn connections_to_a_provider_are_reused() {
    let s = setup();
    let c = client();
    // Model discovery fetches each provider's list once at start, on a connection of its own.
    let connections = |stats: serde_json::Value| stats["connections"].as_u64().unwrap();
    let (anthropic_before, openai_before) = (connections(s.anthropic.stats_after_discovery()), connections(s.openai.stats_after_discovery()));
    for _ in 0..20 {
        let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&messages("claude-haiku-4-5")).send().unwrap();
        assert_eq!(r.status(), 200);
    }
    // Each stats probe is one connection of its own.
    let stats = s.anthropic.stats();
    assert_eq!(connections(stats.clone()) - anthropic_before - 1, 1, "20 sequential requests should share one pooled connection: {stats}");
    assert_eq!(connections(s.openai.stats()), openai_before + 1, "the other provider saw nothing but the probe: pools are per provider");
}

#[test]
fn limits_and_malformed_input() {
    let s = setup_with("limits: { max_body_bytes: 4096 }\n");
    let c = client();
    let big = json!({"model":"claude-haiku-4-5","messages":[{"role":"user","content":"y".repeat(5000)}]});
    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&big).send().unwrap();
    assert_eq!(r.status(), 413);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["type"], "request_too_large");
    assert!(body["error"]["message"].as_str().unwrap().contains("4096"));

    let r = c.post(s.gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&big).send().unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["error"]["code"], "request_too_large");

    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).body(r#"{"model": "claude-haiku-4-5", "messages": [}"#).send().unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("not valid JSON"), "{body}");

    let r = c.post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&json!({"messages": []})).send().unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("`model` is required"));
    assert!(s.anthropic.received().is_empty());
}

#[test]
fn models_are_listed_per_team_in_both_formats() {
    let s = setup();
    let c = client();
    // Aliases, then providers' configured models, then what each provider's own /v1/models lists (both
    // mocks list the same six models), each under the name that routes to it.
    let ids = s.gw.model_ids(TEAM_KEY, 14);
    let expected = [
        "sonnet", "openrouter/z-ai/glm-4.5-air",
        "claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "anthropic/gpt-4o", "anthropic/gpt-4o-mini", "anthropic/switchyard-mock",
        "openrouter/claude-opus-4-5", "openrouter/claude-sonnet-4-5", "openrouter/claude-haiku-4-5", "gpt-4o", "gpt-4o-mini", "openrouter/switchyard-mock",
    ];
    assert_eq!(ids, expected);
    for mock in [&s.anthropic, &s.openai] {
        let fetched = mock.discovery_requests();
        assert_eq!(recorded_header(&fetched[0], "user-agent").map(|ua| ua.starts_with("switchyard-model-discovery/")), Some(true));
    }
    assert_eq!(s.anthropic.discovery_requests()[0]["path"], "/v1/models?limit=1000");
    assert_eq!(recorded_header(&s.anthropic.discovery_requests()[0], "x-api-key"), Some(ANTHROPIC_KEY));
    assert_eq!(s.openai.discovery_requests()[0]["path"], "/v1/models");
    assert_eq!(recorded_header(&s.openai.discovery_requests()[0], "authorization"), Some(format!("Bearer {OPENAI_KEY}").as_str()));
    assert_eq!(recorded_header(&s.openai.discovery_requests()[0], "x-title"), Some("switchyard-tests"), "the provider's extra headers too");

    let openai: serde_json::Value = c.get(s.gw.url("/v1/models")).bearer_auth(TEAM_KEY).send().unwrap().json().unwrap();
    assert_eq!(openai["object"], "list");
    assert_eq!(openai["data"][1], json!({"id": "openrouter/z-ai/glm-4.5-air", "object": "model", "created": 0, "owned_by": "openrouter"}));
    let anthropic_page = |query: &str| -> serde_json::Value {
        c.get(s.gw.url(&format!("/v1/models?{query}"))).header("x-api-key", TEAM_KEY).header("anthropic-version", "2023-06-01").send().unwrap().json().unwrap()
    };
    let all = anthropic_page("limit=1000");
    assert_eq!(all["data"][0]["type"], "model");
    assert_eq!(all["data"].as_array().unwrap().len(), 14);
    assert_eq!((&all["has_more"], &all["first_id"], &all["last_id"]), (&json!(false), &json!("sonnet"), &json!("openrouter/switchyard-mock")));
    let first = anthropic_page("limit=5");
    assert_eq!((&first["has_more"], &first["last_id"]), (&json!(true), &json!("claude-haiku-4-5")));
    let next = anthropic_page("limit=5&after_id=claude-haiku-4-5");
    assert_eq!(next["first_id"], "anthropic/gpt-4o");
    let r = c.get(s.gw.url("/v1/models?limit=0")).header("x-api-key", TEAM_KEY).header("anthropic-version", "2023-06-01").send().unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["error"]["type"], "invalid_request_error");
    assert_eq!(c.get(s.gw.url("/v1/models")).send().unwrap().status(), 401);
}

const BYOK_TEAM: &str = "byok-team-key-456";


#[test]
fn credential_passthrough_forwards_recognised_credentials_only_under_the_policy() {
    let s = {
        let anthropic = Mock::start(&[]);
        let openai = Mock::start(&[]);
        let providers = format!(
            "{}{}    passthrough_family: openrouter\n",
            provider_yaml("anthropic", "anthropic", &anthropic.url(), ANTHROPIC_KEY),
            provider_yaml("openrouter", "openai", &format!("{}/v1", openai.url()), OPENAI_KEY),
        );
        let text = format!("{}  - name: byok\n    keys: [{{ env: BYOK_KEY }}]\n    credential_passthrough: true\n", config(&providers, "  - { name: \"claude-*\", targets: [\"anthropic/*\"] }\n"));
        let gw = Gateway::with_config(&text).env("BYOK_KEY", BYOK_TEAM).start();
        Setup { anthropic, openai, gw }
    };
    let c = client();
    let send = |team: &str, cred: (&str, &str), model: &str| {
        let req = c.post(s.gw.url("/v1/messages")).header("x-switchyard-key", team).header("anthropic-beta", "claude-code-20250219");
        let req = if cred.0 == "bearer" { req.bearer_auth(cred.1) } else { req.header(cred.0, cred.1) };
        req.json(&messages(model)).send().unwrap()
    };

    // An Anthropic API key goes to the Anthropic provider as x-api-key.
    assert_eq!(send(BYOK_TEAM, ("x-api-key", "sk-ant-api03-client-own-key-1"), "claude-haiku-4-5").status(), 200);
    let got = s.anthropic.received().pop().unwrap();
    assert_eq!(recorded_header(&got, "x-api-key"), Some("sk-ant-api03-client-own-key-1"));
    assert_eq!(recorded_header(&got, "x-switchyard-key"), None, "the team key never travels");

    // A Claude subscription OAuth token goes as Bearer, with the OAuth beta flag added.
    assert_eq!(send(BYOK_TEAM, ("bearer", "sk-ant-oat01-client-oauth-token"), "claude-haiku-4-5").status(), 200);
    let got = s.anthropic.received().pop().unwrap();
    assert_eq!(recorded_header(&got, "authorization"), Some("Bearer sk-ant-oat01-client-oauth-token"));
    assert_eq!(recorded_header(&got, "x-api-key"), None);
    assert_eq!(recorded_header(&got, "anthropic-beta"), Some("claude-code-20250219,oauth-2025-04-20"));

    // An OpenRouter key to a route served by Anthropic: not its family, so the gateway key is used.
    assert_eq!(send(BYOK_TEAM, ("x-api-key", "sk-or-v1-client-openrouter-key"), "claude-haiku-4-5").status(), 200);
    let got = s.anthropic.received().pop().unwrap();
    assert_eq!(recorded_header(&got, "x-api-key"), Some(ANTHROPIC_KEY));
    // ...and to the OpenRouter provider it is forwarded.
    assert_eq!(send(BYOK_TEAM, ("bearer", "sk-or-v1-client-openrouter-key"), "openrouter/z-ai/glm-4.5-air").status(), 200);
    assert_eq!(recorded_header(&s.openai.received().pop().unwrap(), "authorization"), Some("Bearer sk-or-v1-client-openrouter-key"));

    // An unknown shape is refused, never forwarded.
    let r = send(BYOK_TEAM, ("x-api-key", "ghp_not_a_provider_key_123"), "claude-haiku-4-5");
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("no recognised shape"));

    // A team without the policy: the client's credential is stripped, the gateway key used.
    assert_eq!(send(TEAM_KEY, ("x-api-key", "sk-ant-api03-client-own-key-2"), "claude-haiku-4-5").status(), 200);
    let got = s.anthropic.received().pop().unwrap();
    assert_eq!(recorded_header(&got, "x-api-key"), Some(ANTHROPIC_KEY));
    let all = serde_json::to_string(&s.anthropic.received()).unwrap();
    assert!(!all.contains("ghp_not_a_provider_key_123") && !all.contains("client-own-key-2"));
    assert!(!all.contains(BYOK_TEAM) && !all.contains(TEAM_KEY));
}

#[test]
fn a_client_trickling_its_body_is_cut_off_with_408() {
    let s = setup_with("limits: { body_timeout_ms: 500 }\n");
    let mut tcp = std::net::TcpStream::connect(s.gw.base.trim_start_matches("http://")).unwrap();
    write!(tcp, "POST /v1/messages HTTP/1.1\r\nHost: gw\r\nx-api-key: {TEAM_KEY}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"model\":").unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut response = String::new();
    let _ = tcp.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("request_timeout") || response.contains("did not arrive"), "{response}");
    assert!(s.anthropic.received().is_empty());
}

#[test]
fn a_body_read_in_pieces_arrives_byte_identical() {
    let s = setup();
    let capture = fixture("01-opus-stream-first-turn.json");
    let mut body = capture["body"].clone();
    body["stream"] = json!(false);
    let body = serde_json::to_vec(&body).unwrap();
    // With Content-Length (the real Claude Code first turn, ~50 KB, in 6 reads) and chunked.
    for chunked in [false, true] {
        let response = post_in_pieces(&s.gw, &body, 6, chunked);
        assert!(response.starts_with("HTTP/1.1 200"), "chunked {chunked}: {}", &response[..response.len().min(300)]);
        let got = s.anthropic.received().pop().unwrap();
        assert!(got["body"].as_str().unwrap().as_bytes() == body.as_slice(), "chunked {chunked}: body changed");
    }
}
