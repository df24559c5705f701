//! The PostgreSQL usage store against a real PostgreSQL (Debian's `postgresql` package, which
//! `.ci/run` installs): two gateway replicas share one database (both apply the migrations at start),
//! their records add up to what the mock reported, and stopping the database mid-run fails no
//! request while the drop counter moves. The test starts its own server with Debian's binaries
//! (`/usr/lib/postgresql/<version>/bin`) on a free loopback port in a temporary directory — as the
//! `postgres` user when it runs as root, because `initdb` refuses root.

mod common;

use std::time::{Duration, Instant};

use common::postgres::Postgres;
use common::*;
use serde_json::json;

fn send(gw: &Gateway, stream: bool, i: usize) {
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 50, "stream": stream, "messages": [{"role": "user", "content": format!("postgres {i}")}]});
    let r = client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&body).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(!r.text().unwrap().is_empty());
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn two_replicas_share_one_postgres_store_and_survive_it_stopping() {
    let Some(pg) = Postgres::start() else { return };
    let mock = Mock::start(&[]);
    let providers = provider_yaml("anthropic", "anthropic", &mock.url(), "sk-ant-api03-pg");
    let usage = format!("usage:\n  store: \"{}\"\n  flush_interval_ms: 100\n  batch_size: 2\n  queue_size: 4\n", pg.url());
    let text = config(&providers, "  - { name: \"claude-*\", targets: [\"anthropic/*\"] }\n") + &usage;
    let (a, b) = (Gateway::with_config(&text).start(), Gateway::with_config(&text).start());
    for i in 0..3 {
        send(&a, i % 2 == 0, i);
        send(&b, i % 2 == 1, i);
    }
    let written = |gw: &Gateway| gw.metric("switchyard_usage_records_written_total");
    wait_until("six records", || written(&a) + written(&b) == 6.0);
    let rows = a.usage_json("team,model");
    let reported = &mock.stats()["usage"]["claude-sonnet-4-5"];
    assert_eq!(rows.len(), 1, "{rows:?}");
    for field in ["requests", "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] {
        assert_eq!(rows[0][field], reported[field], "{field}");
    }
    assert_eq!(rows[0]["cost_usd"].as_f64().map(|c| c > 0.0), Some(true));
    assert_eq!(b.usage_json("model"), a.usage_json("model"), "both replicas read the same store");
    // The routing rule groups on PostgreSQL too (no rules here: every request routed by its name).
    let by_rule = a.usage_json("rule");
    assert_eq!((by_rule.len(), by_rule[0]["rule"].as_str(), by_rule[0]["requests"].as_u64()), (1, Some("default"), Some(6)), "{by_rule:?}");

    // A budget is seeded from PostgreSQL: a replica started now with a monthly budget below what the team
    // spent refuses its first request.
    let spent = rows[0]["cost_usd"].as_f64().unwrap_or_default();
    let budget = (spent / 2.0 * 1e9).round() / 1e9;
    let c = Gateway::with_config(&format!("{text}default_limits: {{ budget_usd_per_month: {budget} }}\n")).start();
    let refused = client()
        .post(c.url("/v1/messages"))
        .bearer_auth(TEAM_KEY)
        .json(&serde_json::json!({"model": "claude-sonnet-4-5", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 429);
    let message = refused.text().unwrap();
    assert!(
        message.contains("has reached its monthly budget") && message.contains(&format!("budget_usd_per_month {budget} USD")),
        "{message}"
    );
    // Its refusal is a record too (no tokens, no cost), counted with the others below.
    wait_until("the refusal's record", || written(&c) == 1.0);
    drop(c);

    // The database goes away: requests still succeed, the queue overflows and is counted.
    pg.stop();
    for i in 0..12 {
        send(&a, false, 100 + i);
    }
    let dropped = a.metric("switchyard_usage_records_dropped_total{reason=\"queue_full\"}");
    assert!(dropped >= 1.0, "{}", a.metrics());
    wait_until("a failed write to be counted", || a.metric("switchyard_usage_store_errors_total") >= 1.0);
    assert!(a.process.stderr.text().contains("usage store write failed"));
    // It comes back: what waited in memory is written, what overflowed stays counted.
    pg.start_server();
    wait_until("the waiting records to be written", || written(&a) + dropped == 3.0 + 12.0 && a.metric("switchyard_usage_records_queued") == 0.0);
    assert_eq!(a.usage_json("team")[0]["requests"].as_f64(), Some(written(&a) + written(&b) + 1.0));
}
