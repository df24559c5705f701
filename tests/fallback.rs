//! Fallback through the real binary against the fault-injecting mock: for each fault, what the
//! client sees (status, body format, stream ending), which target served, and the counters.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

struct Setup {
    /// Held so the primary mock lives as long as the gateway that points at it.
    _primary: Mock,
    backup: Mock,
    gw: Gateway,
}

/// `chain` = primary (anthropic kind) then backup (anthropic kind); `solo` = primary only;
/// `cross` = primary then an OpenAI-compatible backup (the fallback crosses formats).
fn setup(primary_args: &[&str], extra_provider_yaml: &str) -> Setup {
    let primary = Mock::start(primary_args);
    let backup = Mock::start(&[]);
    let providers = format!(
        "{}    timeouts: {{ connect_ms: 1000, first_byte_ms: 1500, idle_ms: 1500 }}\n{extra_provider_yaml}{}{}",
        provider_yaml("primary", "anthropic", &primary.url(), "sk-ant-api03-primary"),
        provider_yaml("backup", "anthropic", &backup.url(), "sk-ant-api03-backup"),
        provider_yaml("backupoai", "openai", &format!("{}/v1", backup.url()), "sk-or-backup"),
    );
    let models = "  - { name: chain, targets: [\"primary/claude-a\", \"backup/claude-b\"] }\n  - { name: solo, targets: [\"primary/claude-a\"] }\n  - { name: cross, targets: [\"primary/claude-a\", \"backupoai/glm-b\"] }\n";
    let gw = Gateway::with_config(&config(&providers, models)).start();
    Setup { _primary: primary, backup, gw }
}

fn ask(s: &Setup, model: &str, fault: Option<&str>, stream: bool) -> reqwest::blocking::Response {
    let mut req = client().post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY);
    if let Some(f) = fault {
        req = req.header("x-mock-fault", f);
    }
    req.json(&json!({"model": model, "max_tokens": 50, "stream": stream, "messages": [{"role":"user","content":"hello"}]})).send().unwrap()
}

fn fallbacks(gw: &Gateway) -> f64 {
    gw.metric("switchyard_fallbacks_total{provider=\"primary\"}")
}

#[test]
fn failing_statuses_fall_back_to_the_next_target_before_anything_is_sent() {
    // The fault is the primary instance's own (a per-request header would reach the backup too).
    for fault in ["status:500", "status:502", "status:503", "overloaded", "rate_limit:3"] {
        let s = setup(&["--fault", fault], "");
        let r = ask(&s, "chain", None, true);
        assert_eq!(r.status(), 200, "{fault}");
        assert_eq!(r.headers()["x-switchyard-target"], "backup/claude-b", "{fault}");
        let events = sse_events(&r.text().unwrap());
        assert_eq!(events.last().unwrap().0, "message_stop", "{fault}: nothing of the failed attempt reached the client");
        assert_eq!(events.iter().filter(|(e, _)| e == "message_start").count(), 1, "{fault}");
        assert_eq!(fallbacks(&s.gw), 1.0, "{fault}");
        assert!(s.gw.metrics().contains("switchyard_upstream_attempts_total{outcome=\"retryable_status\",provider=\"primary\"} 1"), "{fault}");
        assert!(s.gw.metrics().contains("switchyard_requests_total{endpoint=\"messages\",provider=\"backup\",status=\"200\"} 1"), "{fault}");
        let resent: serde_json::Value = serde_json::from_str(s.backup.received()[0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(resent["model"], "claude-b", "{fault}: re-sent with the backup's model");
        assert_eq!(resent["messages"][0]["content"], "hello");
    }
}

#[test]
fn the_last_targets_failure_reaches_the_client_in_its_format() {
    let s = setup(&[], "");
    let r = ask(&s, "solo", Some("overloaded"), false);
    assert_eq!(r.status(), 529);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["error"]["type"], "overloaded_error");
    let r = ask(&s, "solo", Some("rate_limit:9"), false);
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "9");
}

#[test]
fn a_refused_connection_falls_back_and_alone_is_a_502_in_the_callers_format() {
    let s = setup(&[], "");
    let port = free_port();
    let dead = Mock::start(&[]);
    let providers = format!(
        "{}{}",
        provider_yaml("dead", "anthropic", &format!("http://127.0.0.1:{port}"), "sk-ant-api03-dead"),
        provider_yaml("alive", "anthropic", &dead.url(), "sk-ant-api03-alive"),
    );
    let gw = Gateway::with_config(&config(&providers, "  - { name: chain, targets: [\"dead/x\", \"alive/y\"] }\n  - { name: solo, targets: [\"dead/x\"] }\n")).start();
    let r = client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&json!({"model":"chain","max_tokens":5,"messages":[{"role":"user","content":"x"}]})).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-switchyard-target"], "alive/y");
    assert!(gw.metrics().contains("switchyard_upstream_attempts_total{outcome=\"connect_error\",provider=\"dead\"} 1"));
    let r = client().post(gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&json!({"model":"solo","messages":[{"role":"user","content":"x"}]})).send().unwrap();
    assert_eq!(r.status(), 502);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["code"], "bad_gateway");
    assert!(body["error"]["message"].as_str().unwrap().contains("dead"), "{body}");
    drop(s);
}

#[test]
fn a_hung_upstream_times_out_and_falls_back() {
    let s = setup(&["--fault", "hang"], "");
    let started = Instant::now();
    let r = ask(&s, "chain", None, true);
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-switchyard-target"], "backup/claude-b");
    assert!(started.elapsed() < Duration::from_secs(10));
    let r = ask(&s, "solo", None, false);
    assert_eq!(r.status(), 504);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["error"]["type"], "api_error");
}

#[test]
fn a_fallback_can_cross_formats() {
    let s = setup(&["--fault", "status:503"], "");
    let r = ask(&s, "cross", None, true);
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-switchyard-target"], "backupoai/glm-b");
    let events = sse_events(&r.text().unwrap());
    assert_eq!(events.first().unwrap().0, "message_start");
    assert_eq!(events.last().unwrap().0, "message_stop");
    assert_eq!(s.backup.received().last().unwrap()["path"], "/v1/chat/completions");
}

#[test]
fn failures_after_the_stream_started_end_it_with_an_error_event() {
    let s = setup(&[], "");
    // Cut mid-stream: no retry is possible any more (headers are out); the stream ends well-formed.
    let text = ask(&s, "chain", Some("cut:4"), true).text().unwrap_or_default();
    let events = sse_events(&text);
    assert_eq!(events.first().unwrap().0, "message_start", "{text}");
    assert_eq!(events.last().unwrap().0, "error", "{text}");
    assert!(s.backup.received().is_empty(), "no second upstream after the client got bytes");
    // A slow drip slower than the read timeout is cut by it, and ends the same way.
    let text = ask(&s, "solo", Some("drip:2500"), true).text().unwrap_or_default();
    let events = sse_events(&text);
    assert_eq!(events.last().map(|(e, _)| e.as_str()), Some("error"), "{text}");
}

#[test]
fn broken_success_responses_fall_back() {
    let s = setup(&["--fault", "wrong_content_type"], "");
    let r = ask(&s, "chain", None, false);
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-switchyard-target"], "backup/claude-b", "an HTML page is not an API answer");
    let r = ask(&s, "solo", None, false);
    assert_eq!(r.status(), 502);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["type"], "error");
}

#[test]
fn the_retry_budget_bounds_a_chain() {
    let first = Mock::start(&["--fault", "status:503"]);
    let second = Mock::start(&["--fault", "status:503"]);
    let third = Mock::start(&[]);
    let providers = format!(
        "{}{}{}",
        provider_yaml("one", "anthropic", &first.url(), "sk-ant-api03-1"),
        provider_yaml("two", "anthropic", &second.url(), "sk-ant-api03-2"),
        provider_yaml("three", "anthropic", &third.url(), "sk-ant-api03-3"),
    );
    let models = "  - { name: capped, targets: [\"one/a\", \"two/b\", \"three/c\"], max_attempts: 2 }\n  - { name: open, targets: [\"one/a\", \"two/b\", \"three/c\"] }\n";
    let gw = Gateway::with_config(&config(&providers, models)).start();
    let ask = |model: &str| client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&json!({"model": model, "max_tokens": 5, "messages": [{"role":"user","content":"x"}]})).send().unwrap();
    let r = ask("capped");
    assert_eq!(r.status(), 503, "two attempts, both failed: the second's answer goes out");
    assert!(third.received().is_empty());
    let r = ask("open");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-switchyard-target"], "three/c");
}

#[test]
fn malformed_json_passes_through_as_sent_and_fails_translation_cleanly() {
    let s = setup(&["--fault", "malformed"], "");
    // Pass-through forwards the provider's bytes: the client's SDK sees the provider's broken JSON.
    let r = ask(&s, "solo", None, false);
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text().unwrap()).is_err());
    // Translation has to read it. The status line went out with the upstream's 200 before the body
    // could be read (a known limit of translating a non-streaming body), so the error is in the body,
    // in the caller's format, naming the upstream.
    let r = client().post(s.gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&json!({"model":"solo","messages":[{"role":"user","content":"x"}]})).send().unwrap();
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(status, 200, "the OpenAI client got the translated status line before the body: {body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("upstream"), "{body}");
}

#[test]
fn a_stream_that_never_stops_is_cut_by_the_total_timeout() {
    let mock = Mock::start(&[]);
    let providers = format!("{}    timeouts: {{ idle_ms: 2000, total_ms: 1200 }}\n", provider_yaml("drip", "anthropic", &mock.url(), "sk-ant-api03-drip"));
    let gw = Gateway::with_config(&config(&providers, "  - { name: \"*\", targets: [\"drip/*\"] }\n")).start();
    let started = Instant::now();
    let text = client()
        .post(gw.url("/v1/messages"))
        .header("x-api-key", TEAM_KEY)
        .header("x-mock-fault", "drip:300")
        .header("x-mock-chunks", "40")
        .json(&json!({"model":"m","max_tokens":500,"stream":true,"messages":[{"role":"user","content":"x"}]}))
        .send()
        .unwrap()
        .text()
        .unwrap_or_default();
    let events = sse_events(&text);
    assert_eq!(events.last().map(|(e, _)| e.as_str()), Some("error"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5), "cut near 1.2 s, not after the ~13 s stream: {:?}", started.elapsed());
}

#[test]
fn a_body_read_in_pieces_is_resent_whole_on_fallback() {
    // 40 KB fits Pingora's retry buffer, which then holds all of it as the chunks it came in;
    // 300 KB does not: the gateway joins it itself and the buffer holds only its tail.
    let s = setup(&["--fault", "overloaded"], "");
    for (size, pieces) in [(40 * 1024, 5), (300 * 1024, 7)] {
        let filler: String = (0..size).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let body = format!(r#"{{"messages":[{{"role":"user","content":"{filler}"}}],"max_tokens":5,"model":"chain"}}"#);
        let response = post_in_pieces(&s.gw, body.as_bytes(), pieces, false);
        assert!(response.starts_with("HTTP/1.1 200"), "{size}: {}", &response[..response.len().min(300)]);
        assert!(response.to_ascii_lowercase().contains("x-switchyard-target: backup/claude-b"), "{size}");
        let first = s._primary.received().pop().unwrap();
        assert!(first["body"].as_str().unwrap() == body.replace(r#""model":"chain""#, r#""model":"claude-a""#), "{size}: the first attempt got it whole");
        let resent = s.backup.received().pop().unwrap();
        let expected = body.replace(r#""model":"chain""#, r#""model":"claude-b""#);
        assert!(resent["body"].as_str().unwrap() == expected, "{size}: the backup got the whole body, model spliced");
        assert_eq!(recorded_header(&resent, "content-length"), Some(expected.len().to_string().as_str()));
    }
}
