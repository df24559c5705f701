//! The foundation through the real binary: local endpoints, both APIs via the mock provider,
//! the embedded default config, `check`, and graceful shutdown.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn mock_gateway(mock: &Mock) -> Gateway {
    let providers = provider_yaml("upstream", "mock", &mock.url(), "sk-mock-provider-key");
    Gateway::with_config(&config(&providers, "  - { name: \"*\", targets: [\"upstream/*\"] }\n")).start()
}

#[test]
fn local_endpoints_and_metrics() {
    let mock = Mock::start(&[]);
    let gw = mock_gateway(&mock);
    let c = client();
    let health = c.get(gw.url("/healthz")).send().unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"));
    assert_eq!(c.get(gw.url("/readyz")).send().unwrap().status(), 200);
    assert_eq!(c.get(format!("{}/healthz", gw.admin)).send().unwrap().status(), 200);
    assert_eq!(c.head(gw.url("/api/hello")).send().unwrap().status(), 200);

    let r = c.post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&json!({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})).send().unwrap();
    assert_eq!(r.status(), 200);
    let metrics = gw.metrics();
    assert!(metrics.contains("switchyard_requests_total{endpoint=\"messages\",provider=\"upstream\",status=\"200\"} 1"), "{metrics}");
    assert!(metrics.contains("switchyard_request_duration_seconds_bucket{endpoint=\"messages\""), "{metrics}");
    assert!(metrics.contains("switchyard_requests_total{endpoint=\"healthz\",provider=\"none\",status=\"200\"} 1"), "{metrics}");
}

#[test]
fn unknown_paths_and_methods_answer_in_the_callers_format() {
    let mock = Mock::start(&[]);
    let gw = mock_gateway(&mock);
    let c = client();
    let r = c.get(gw.url("/v2/nothing")).header("anthropic-version", "2023-06-01").send().unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "not_found_error");
    let r = c.get(gw.url("/v2/nothing")).send().unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["code"], "model_not_found");
    let r = c.get(gw.url("/v1/chat/completions")).send().unwrap();
    assert_eq!(r.status(), 405);
    let body: serde_json::Value = r.json().unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("GET is not allowed"));
}

#[test]
fn anthropic_messages_json_and_stream_through_the_mock() {
    let mock = Mock::start(&[]);
    let gw = mock_gateway(&mock);
    let c = client();
    let req = json!({"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"hello there"}]});
    let r = c.post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("anthropic-version", "2023-06-01").json(&req).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-switchyard-target"], "upstream/claude-haiku-4-5");
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["type"], "message");
    assert_eq!(body["model"], "claude-haiku-4-5");
    assert!(body["content"][0]["text"].as_str().unwrap().contains("hello there"));

    let mut streaming = req.clone();
    streaming["stream"] = json!(true);
    let r = c.post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&streaming).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let events = sse_events(&r.text().unwrap());
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    assert!(names.contains(&"content_block_delta"));
    assert!(names.contains(&"message_delta"));
}

#[test]
fn openai_chat_completions_json_and_stream_through_the_mock() {
    let mock = Mock::start(&[]);
    let gw = mock_gateway(&mock);
    let c = client();
    let req = json!({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]});
    let r = c.post(gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&req).send().unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");

    let mut streaming = req.clone();
    streaming["stream"] = json!(true);
    streaming["stream_options"] = json!({"include_usage": true});
    let text = c.post(gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&streaming).send().unwrap().text().unwrap();
    let events = sse_events(&text);
    assert_eq!(events.last().map(|(_, d)| d.clone()), Some(json!("[DONE]")));
    assert!(events.iter().any(|(_, d)| d["usage"]["completion_tokens"].is_number()), "{text}");
}

#[test]
fn embedded_default_answers_from_the_builtin_mock_with_a_generated_key() {
    let gw = Gateway::embedded_default().start();
    let out = gw.process.stdout.text();
    assert!(out.contains("ANTHROPIC_BASE_URL=http://127.0.0.1:"), "{out}");
    assert!(out.contains("built-in mock"), "{out}");
    let key = out.lines().skip_while(|l| !l.contains("generated team key")).nth(1).unwrap().trim().to_string();
    assert!(key.starts_with("sk-sy-"), "{out}");
    let c = client();
    let r = c.post(gw.url("/v1/messages")).header("x-api-key", &key).json(&json!({"model":"claude-opus-5-5","max_tokens":50,"messages":[{"role":"user","content":"hi"}]})).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["type"], "message");
    let r = c.post(gw.url("/v1/chat/completions")).bearer_auth(&key).json(&json!({"model":"anything","messages":[{"role":"user","content":"hi"}]})).send().unwrap();
    assert_eq!(r.status(), 200);
    let r = c.post(gw.url("/v1/messages")).header("x-api-key", "wrong").json(&json!({"model":"m","messages":[]})).send().unwrap();
    assert_eq!(r.status(), 401);
    assert!(!gw.process.stderr.text().contains(&key), "the generated key must only be shown once, on stdout");
}

#[test]
fn the_first_screen_with_no_configuration_is_the_banner_alone() {
    let gw = Gateway::embedded_default().default_logging().start();
    let out = gw.process.stdout.text();
    let first: Vec<&str> = out.lines().take(4).collect();
    assert!(first[0].starts_with("switchyard ") && first[0].contains("(embedded default)"), "{out}");
    assert!(first[1].trim_start().starts_with("proxy:") && first[2].trim_start().starts_with("metrics:"), "{out}");
    assert!(first[3].trim_start().starts_with("providers: mock"), "{out}");
    // What the embedded default left out (providers with no key) is one summary line, listed in full by `check`.
    let summary: Vec<&str> = out.lines().filter(|l| l.contains("skipped:")).collect();
    assert_eq!(summary.len(), 1, "{out}");
    assert!(summary[0].contains("switchyard check"), "{out}");
    assert!(out.contains("export ANTHROPIC_API_KEY=sk-sy-"), "{out}");
    // Nothing but the banner: no log lines at the default level before or after it while starting.
    let err = gw.process.stderr.text();
    assert!(err.lines().all(|l| !l.contains(" INFO ")), "log lines beside the banner:\n{err}");
    assert!(!err.contains("disabled"), "{err}");

    let check = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard")).args(["check"]).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).output().unwrap();
    let listed = String::from_utf8_lossy(&check.stdout);
    let skipped_lines = listed.lines().filter(|l| l.starts_with("skipped: ")).count();
    let count: usize = summary[0].split_whitespace().find_map(|w| w.parse().ok()).unwrap();
    assert_eq!(skipped_lines, count, "check lists each skipped entry:\n{listed}");
    assert!(listed.contains("is disabled (no key set)"), "{listed}");
}

#[test]
fn embedded_default_never_prints_a_key_given_in_the_environment() {
    let gw = Gateway::embedded_default().env("SWITCHYARD_TEAM_KEY", "team-secret-from-env-123").start();
    let r = client().post(gw.url("/v1/messages")).header("x-api-key", "team-secret-from-env-123").json(&json!({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]})).send().unwrap();
    assert_eq!(r.status(), 200);
    let all = format!("{}{}", gw.process.stdout.text(), gw.process.stderr.text());
    assert!(!all.contains("team-secret-from-env-123"), "{all}");
    assert!(all.contains("ANTHROPIC_API_KEY=<your team key>"), "{all}");
}

#[test]
fn check_accepts_the_example_and_names_a_typo() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/example.yaml");
    // On a fresh machine: no provider key at all.
    let ok = std::process::Command::new(BIN).args(["check", "--config", example]).env_clear().output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(out.contains("conf/example.yaml: ok"), "{out}");
    let with_keys = std::process::Command::new(BIN).args(["check", "--config", example]).env("ANTHROPIC_API_KEY", "x").env("OPENROUTER_API_KEY", "y").output().unwrap();
    let out = String::from_utf8_lossy(&with_keys.stdout);
    assert!(out.contains("model fast -> openrouter/z-ai/glm-4.5-air, anthropic/claude-haiku-4-5"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(example).unwrap().replace("grace_period_seconds", "grace_period_secs");
    std::fs::write(&bad, text).unwrap();
    let out = std::process::Command::new(BIN).args(["check", "--config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml: server.grace_period_secs: unknown field `grace_period_secs`"), "{err}");
    assert!(err.contains("grace_period_seconds"), "{err}");

    let out = std::process::Command::new(BIN).args(["run", "--config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "run refuses an invalid config too");
}

#[test]
fn sigterm_stops_an_idle_gateway_promptly() {
    let mock = Mock::start(&[]);
    let mut gw = mock_gateway(&mock);
    let start = Instant::now();
    gw.process.signal("TERM");
    let status = gw.process.wait_exit(Duration::from_secs(15)).expect("gateway exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(start.elapsed() < Duration::from_secs(15));
}

#[test]
fn sigterm_lets_an_open_stream_finish() {
    let mock = Mock::start(&[]);
    let mut gw = mock_gateway(&mock);
    let url = gw.url("/v1/messages");
    let streamer = std::thread::spawn(move || {
        client()
            .post(url)
            .header("x-api-key", TEAM_KEY)
            .header("x-mock-delay-ms", "150")
            .json(&json!({"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"slow please"}]}))
            .send()
            .and_then(|r| r.text())
    });
    std::thread::sleep(Duration::from_millis(400));
    gw.process.signal("TERM");
    let text = streamer.join().unwrap().expect("stream completes");
    let events = sse_events(&text);
    assert_eq!(events.last().map(|(e, _)| e.as_str()), Some("message_stop"), "{text}");
    assert!(gw.process.wait_exit(Duration::from_secs(15)).is_some());
}
