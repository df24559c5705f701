//! The usage ledger through the real binary: exact tokens and cost for Anthropic and OpenAI clients,
//! native and translated, streaming and not — read back from the store and compared with what the
//! mock providers reported — plus partial records for aborted and cut streams, fallbacks, the
//! request log, the admin endpoint, and a store that stops answering.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::usage::*;
use common::*;
use serde_json::{json, Value};

const ADMIN_KEY: &str = "admin-key-for-tests-1b2c";

fn setup(usage: &str) -> (Mock, Mock, Gateway) {
    let anthropic = Mock::start(&[]);
    let openai = Mock::start(&[]);
    let providers = format!(
        "{}{}",
        provider_yaml("anthropic", "anthropic", &anthropic.url(), "sk-ant-api03-ledger"),
        provider_yaml("openrouter", "openai", &format!("{}/v1", openai.url()), "sk-or-v1-ledger"),
    );
    let models = "  - { name: \"claude-*\", targets: [\"anthropic/*\"] }\n  - { name: \"gpt-*\", targets: [\"openrouter/*\"] }\n";
    let extra = format!("{usage}log:\n  requests: \"${{SWITCHYARD_DATA_DIR}}/requests.jsonl\"\nadmin:\n  keys: [{{ env: ADMIN_KEY, name: ops }}]\n");
    let gw = Gateway::with_config(&(config(&providers, models) + &extra)).env("ADMIN_KEY", ADMIN_KEY).start();
    (anthropic, openai, gw)
}

fn big(text: &str) -> String {
    text.repeat(300)
}

fn anthropic_body(model: &str, stream: bool, question: &str) -> Value {
    json!({
        "model": model, "max_tokens": 200, "stream": stream,
        "system": [{"type": "text", "text": big("You are a careful assistant. "), "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": big("Here is the project context. "), "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": question},
        ],
    })
}

fn openai_body(model: &str, stream: bool, question: &str) -> Value {
    json!({
        "model": model, "stream": stream,
        "messages": [{"role": "system", "content": big("You are a careful assistant. ")}, {"role": "user", "content": question}],
    })
}

fn send(gw: &Gateway, path: &str, body: &Value) -> String {
    let mut req = client().post(gw.url(path)).header("x-api-key", TEAM_KEY).json(body);
    if path == "/v1/messages" {
        req = req.header("anthropic-version", "2023-06-01");
    }
    let r = req.send().unwrap();
    assert_eq!(r.status(), 200, "{path} {}", body["model"]);
    r.text().unwrap()
}

#[test]
fn exact_tokens_and_cost_for_every_client_path() {
    let (anthropic, openai, gw) = setup("usage:\n  flush_interval_ms: 100\n");
    // Anthropic client, native: the first request writes the cache, the second reads it.
    send(&gw, "/v1/messages", &anthropic_body("claude-sonnet-4-5", false, "first?"));
    send(&gw, "/v1/messages", &anthropic_body("claude-sonnet-4-5", true, "second?"));
    // Anthropic client, translated to an OpenAI-format provider (automatic caching on the second).
    send(&gw, "/v1/messages", &anthropic_body("openrouter/z-ai/glm-4.5-air", false, "first?"));
    send(&gw, "/v1/messages", &anthropic_body("openrouter/z-ai/glm-4.5-air", true, "second?"));
    // OpenAI client, native: a stream that did not ask for usage gets none, one that did gets it.
    send(&gw, "/v1/chat/completions", &openai_body("gpt-4o", false, "first?"));
    let plain = send(&gw, "/v1/chat/completions", &openai_body("gpt-4o", true, "second?"));
    let mut asked = openai_body("gpt-4o", true, "third?");
    asked["stream_options"] = json!({"include_usage": true});
    let with_usage = send(&gw, "/v1/chat/completions", &asked);
    // OpenAI client, translated to an Anthropic provider.
    send(&gw, "/v1/chat/completions", &openai_body("anthropic/claude-haiku-4-5", false, "first?"));
    send(&gw, "/v1/chat/completions", &openai_body("anthropic/claude-haiku-4-5", true, "second?"));

    let chunks = |body: &str| sse_events(body).into_iter().map(|(_, d)| d).collect::<Vec<_>>();
    assert!(chunks(&plain).iter().all(|c| c.get("choices").is_none_or(|ch| ch.as_array().is_some_and(|a| !a.is_empty())) || c == "[DONE]"), "the usage chunk was cut out: {plain}");
    assert!(plain.ends_with("data: [DONE]\n\n"), "{plain}");
    assert!(chunks(&with_usage).iter().any(|c| c["choices"] == json!([]) && c["usage"]["prompt_tokens"].as_u64() > Some(0)), "{with_usage}");
    let asked_upstream = openai.received().iter().filter(|r| r["path"] == "/v1/chat/completions").filter_map(|r| serde_json::from_str::<Value>(r["body"].as_str()?).ok()).filter(|b| b["stream"] == true).all(|b| b["stream_options"]["include_usage"] == true);
    assert!(asked_upstream, "every OpenAI-format stream asks the provider for usage");

    wait_written(&gw, 9);
    let reported = reported_usage(&[&anthropic, &openai]);
    let rates: BTreeMap<&str, Rates> = BTreeMap::from([
        ("claude-sonnet-4-5", ["3", "15", "3.75", "6", "0.30"]),
        ("claude-haiku-4-5", ["1", "5", "1.25", "2", "0.10"]),
        ("gpt-4o", ["2.50", "10", "2.50", "2.50", "1.25"]),
        ("z-ai/glm-4.5-air", ["0.20", "1.10", "0.20", "0.20", "0.03"]),
    ]);
    let ledger = assert_ledger_matches(&gw, &reported, &rates);
    assert_eq!(ledger.len(), 4, "{ledger:?}");
    // The cache shows up where the providers cache: both kinds of Anthropic write, and reads.
    let sonnet = &reported["claude-sonnet-4-5"];
    assert!(num(sonnet, "cache_creation_5m_input_tokens") > 1000 && num(sonnet, "cache_creation_1h_input_tokens") > 1000 && num(sonnet, "cache_read_input_tokens") > 2000, "{sonnet}");
    assert!(num(&reported["z-ai/glm-4.5-air"], "cache_read_input_tokens") >= 1024);
    assert!(num(&reported["gpt-4o"], "cache_read_input_tokens") >= 1024);

    // The request log has every record, with who and where, and never a key or a prompt.
    let log = request_log(&gw);
    assert_eq!(log.len(), 9);
    let text = std::fs::read_to_string(gw.data_dir().join("requests.jsonl")).unwrap();
    assert!(!text.contains(TEAM_KEY) && !text.contains("careful assistant") && !text.contains("sk-or-v1-ledger"));
    let translated = log.iter().find(|l| l["requested_model"] == "openrouter/z-ai/glm-4.5-air" && l["stream"] == true).unwrap();
    assert_eq!((translated["client_format"].as_str(), translated["provider"].as_str(), translated["upstream_model"].as_str()), (Some("anthropic"), Some("openrouter"), Some("z-ai/glm-4.5-air")));
    assert!(translated["input_tokens"].as_u64() > Some(0) && translated["ttfb_ms"].is_u64() && translated["key_id"].as_str().unwrap().starts_with("sha256:"));

    // The same grouping over HTTP, behind an admin key.
    let admin = |key: Option<&str>, query: &str| {
        let mut r = client().get(format!("{}/admin/usage{query}", gw.admin));
        if let Some(key) = key {
            r = r.header("x-api-key", key);
        }
        r.send().unwrap()
    };
    assert_eq!(admin(None, "").status(), 401);
    assert_eq!(admin(Some("not-a-key"), "").status(), 401);
    assert_eq!(admin(Some(TEAM_KEY), "?by=model").status(), 403, "a team key never opens an admin endpoint");
    let bad = admin(Some(ADMIN_KEY), "?by=colour");
    assert_eq!(bad.status(), 400);
    assert!(bad.text().unwrap().contains("cannot group by `colour`"));
    assert_eq!(admin(Some(ADMIN_KEY), "?since=yesterday").status(), 400);
    let over_http: Vec<Value> = admin(Some(ADMIN_KEY), "?since=7d&by=model").json().unwrap();
    assert_eq!(over_http, ledger);
    let by_team_model: Vec<Value> = admin(Some(ADMIN_KEY), "?by=team,model").json().unwrap();
    assert!(by_team_model.iter().all(|r| r["team"] == "test-team") && by_team_model.len() == 4);

    // Metrics: tokens and cost by team, model and provider; nothing secret in a label.
    let metrics = gw.metrics();
    assert!(metrics.contains(r#"switchyard_tokens_total{kind="cache_write_1h",model="claude-sonnet-4-5",provider="anthropic",team="test-team"}"#), "{metrics}");
    assert!(metrics.contains(r#"switchyard_cost_usd_total{model="gpt-4o",provider="openrouter",team="test-team"}"#));
    assert!(!metrics.contains(TEAM_KEY) && !metrics.contains(ADMIN_KEY));
}

#[test]
fn aborted_and_cut_streams_are_partial_and_fallbacks_show_their_attempts() {
    let (anthropic, _openai, gw) = setup("usage:\n  flush_interval_ms: 100\n");
    // Upstream cut after six events (message_start, ping, block start, three text deltas).
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 500, "stream": true, "messages": [{"role": "user", "content": "tell me a long story"}]});
    let r = client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("x-mock-fault", "cut:6").header("x-mock-chunks", "20").json(&body).send().unwrap();
    let received = r.text().unwrap_or_default();
    let text: String = sse_events(&received).iter().filter_map(|(_, d)| d["delta"]["text"].as_str().map(str::to_string)).collect();
    assert!(!text.is_empty(), "{received}");

    // The client goes away mid-stream: read a little, then drop the connection.
    let raw = serde_json::to_vec(&json!({"model": "claude-sonnet-4-5", "max_tokens": 500, "stream": true, "messages": [{"role": "user", "content": "another long story"}]})).unwrap();
    let mut sock = std::net::TcpStream::connect(gw.base.trim_start_matches("http://")).unwrap();
    write!(sock, "POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: {TEAM_KEY}\r\nx-mock-chunks: 40\r\nx-mock-delay-ms: 100\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", raw.len()).unwrap();
    sock.write_all(&raw).unwrap();
    let mut first = [0u8; 2048];
    let n = sock.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).contains("200"));
    std::thread::sleep(Duration::from_millis(350));
    drop(sock);

    wait_written(&gw, 2);
    let log = request_log(&gw);
    let cut = &log[0];
    assert_eq!((cut["partial"].as_bool(), cut["status"].as_u64()), (Some(true), Some(200)), "{cut}");
    assert_eq!(cut["input_tokens"].as_u64(), Some((serde_json::to_vec(&body).unwrap().len() as u64).div_ceil(4)), "the input the provider reported in message_start");
    assert_eq!(cut["output_tokens"].as_u64(), Some(switchyard::translate::tokens::count_text_tokens(&text)), "the streamed text, tokenized: {cut}");
    let gone = &log[1];
    assert_eq!((gone["partial"].as_bool(), gone["error_kind"].as_str()), (Some(true), Some("client_gone")), "{gone}");
    assert_eq!(gone["input_tokens"].as_u64(), Some((raw.len() as u64).div_ceil(4)));
    assert!(gone["output_tokens"].as_u64() >= Some(1));
    assert!(anthropic.stats()["aborted_streams"].as_u64() >= Some(1));
    let totals = gw.usage_json("team");
    assert_eq!(totals[0]["partial_requests"].as_u64(), Some(2));
    assert!(gw.metric("switchyard_partial_responses_total{provider=\"anthropic\"}") >= 2.0);
}

#[test]
fn a_fallback_records_its_attempts_and_providers() {
    let broken = Mock::start(&["--fault", "status:503"]);
    let good = Mock::start(&[]);
    let providers = format!("{}{}", provider_yaml("flaky", "anthropic", &broken.url(), "k1"), provider_yaml("steady", "anthropic", &good.url(), "k2"));
    let models = "  - { name: sonnet, targets: [\"flaky/claude-sonnet-4-5\", \"steady/claude-sonnet-4-5\"] }\n  - { name: ours, targets: [\"steady/our-own-model\"] }\n";
    let gw = Gateway::with_config(&(config(&providers, models) + "usage:\n  flush_interval_ms: 100\nlog:\n  requests: \"${SWITCHYARD_DATA_DIR}/requests.jsonl\"\n")).start();
    send(&gw, "/v1/messages", &json!({"model": "sonnet", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}));
    wait_written(&gw, 1);
    let record = &request_log(&gw)[0];
    assert_eq!((record["attempts"].as_u64(), record["providers_tried"].as_str(), record["provider"].as_str()), (Some(2), Some("flaky,steady"), Some("steady")), "{record}");
    assert_eq!((record["requested_model"].as_str(), record["upstream_model"].as_str()), (Some("sonnet"), Some("claude-sonnet-4-5")));
    assert!(record["cost_usd"].as_f64() > Some(0.0));
    // `check` lists the models the config names that have no price.
    let check = std::process::Command::new(BIN).arg("check").arg("--config").arg(&gw.config_path).env("TEAM_KEY", TEAM_KEY).env("SWITCHYARD_DATA_DIR", gw.data_dir()).output().unwrap();
    let listed = String::from_utf8_lossy(&check.stdout);
    assert!(listed.contains("unpriced: steady/our-own-model") && !listed.contains("unpriced: steady/claude-sonnet-4-5"), "{listed}{}", String::from_utf8_lossy(&check.stderr));
    // An unpriced model is served, recorded with an unknown cost, and counted.
    send(&gw, "/v1/messages", &json!({"model": "ours", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}));
    wait_written(&gw, 2);
    assert_eq!(request_log(&gw)[1]["cost_usd"], Value::Null);
    assert_eq!(gw.metric("switchyard_unpriced_requests_total{model=\"our-own-model\",provider=\"steady\"}"), 1.0);
}

#[test]
fn a_stalled_store_fails_no_request_and_the_drop_counter_moves() {
    let (_anthropic, _openai, gw) = setup("usage:\n  flush_interval_ms: 50\n  batch_size: 2\n  queue_size: 4\n");
    send(&gw, "/v1/messages", &json!({"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "warm up"}]}));
    wait_written(&gw, 1);
    // Another process holds the database's write lock: the writer waits out its busy timeout, retries,
    // and the queue behind it overflows.
    let db = gw.data_dir().join("usage.db");
    let mut locker = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(8)\n")
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with sqlite3");
    let mut line = [0u8; 6];
    locker.stdout.as_mut().unwrap().read_exact(&mut line).unwrap();
    let started = Instant::now();
    for i in 0..20 {
        let r = client()
            .post(gw.url("/v1/messages"))
            .header("x-api-key", TEAM_KEY)
            .json(&json!({"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": format!("request {i}")}]}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "a stalled store never fails a request");
    }
    assert!(started.elapsed() < Duration::from_secs(4), "requests did not wait on the store: {:?}", started.elapsed());
    assert!(gw.metric("switchyard_usage_records_dropped_total{reason=\"queue_full\"}") >= 1.0, "{}", gw.metrics());
    assert!(gw.process.stderr.text().contains("usage record(s) dropped (queue_full)"));
    let _ = locker.wait();
    // Once the lock is gone the waiting batch and queue are written: every record is either written or counted.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (written, dropped) = (gw.metric("switchyard_usage_records_written_total"), gw.metric("switchyard_usage_records_dropped_total{reason=\"queue_full\"}"));
        if written + dropped == 21.0 && gw.metric("switchyard_usage_records_queued") == 0.0 {
            break;
        }
        assert!(Instant::now() < deadline, "written {written} + dropped {dropped} != 21");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(gw.metric("switchyard_usage_store_errors_total") >= 1.0);
    assert_eq!(gw.usage_json("team")[0]["requests"].as_f64(), Some(gw.metric("switchyard_usage_records_written_total")));
}
