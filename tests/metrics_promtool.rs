//! The metrics as Prometheus tooling sees them, from a live scrape of the real binary after mixed
//! traffic (tokens, cost, a fallback, an unpriced model): `promtool check metrics` accepts the
//! scrape, and every PromQL expression of the Grafana dashboard (deploy/grafana/) parses
//! (`promtool check rules`, the expressions written as recording rules) and uses only metric names
//! the scrape exports. promtool is Debian's `prometheus` package, which `.ci/run` installs.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use serde_json::{json, Value};

fn promtool() -> Option<&'static str> {
    let found = Command::new("promtool").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "promtool is missing: .ci/run installs Debian's `prometheus` package");
        eprintln!("SKIPPED (not in CI): promtool is not installed (apt-get install prometheus)");
        return None;
    }
    Some("promtool")
}

/// A gateway that has seen every kind of traffic the dashboard charts; returns its scrape.
fn scrape_after_traffic() -> String {
    let failing = Mock::start(&["--fault", "status:503"]);
    let mock = Mock::start(&[]);
    let providers = format!(
        "{}{}",
        provider_yaml("flaky", "anthropic", &failing.url(), "k1"),
        provider_yaml("anthropic", "anthropic", &mock.url(), "k2")
    );
    let models = "  - { name: sonnet, targets: [\"flaky/claude-sonnet-4-5\", \"anthropic/claude-sonnet-4-5\"] }\n  - { name: \"*\", targets: [\"anthropic/*\"] }\n";
    let gw = Gateway::with_config(&(config(&providers, models) + "usage:\n  flush_interval_ms: 50\n")).start();
    let c = client();
    let system = "Long project context. ".repeat(400);
    for (model, stream) in [("sonnet", true), ("claude-haiku-4-5", false), ("claude-haiku-4-5", true), ("my-own-model", false)] {
        let body = json!({"model": model, "max_tokens": 20, "stream": stream,
            "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": "hi"}]});
        let r = c.post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&body).send().unwrap();
        assert_eq!(r.status(), 200);
        r.text().unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while gw.metric("switchyard_usage_records_written_total") < 4.0 {
        assert!(std::time::Instant::now() < deadline, "records not written");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    gw.metrics()
}

/// Every `expr` in the dashboard, with Grafana's variables given values PromQL accepts.
fn dashboard_expressions() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana/switchyard-usage.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(expr)) = map.get("expr") {
                    out.push(expr.replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$team", ".*"));
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&dashboard["panels"], &mut out);
    out
}

#[test]
fn the_scrape_passes_promtool_and_the_dashboard_uses_only_exported_metrics() {
    let Some(promtool) = promtool() else { return };
    let scrape = scrape_after_traffic();

    let mut check = Command::new(promtool).args(["check", "metrics"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    check.stdin.take().unwrap().write_all(scrape.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(out.status.success(), "promtool check metrics:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    let exprs = dashboard_expressions();
    assert!(exprs.len() >= 15, "{exprs:?}");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("dashboard-rules.yaml");
    let mut text = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, expr) in exprs.iter().enumerate() {
        text.push_str(&format!("      - record: dashboard:expr_{i}\n        expr: {}\n", serde_json::to_string(expr).unwrap()));
    }
    std::fs::write(&rules, text).unwrap();
    let out = Command::new(promtool).args(["check", "rules"]).arg(&rules).output().unwrap();
    assert!(out.status.success(), "promtool check rules:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    let exported: BTreeSet<&str> = scrape.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(['{', ' ']).next()).collect();
    let mut used = BTreeSet::new();
    for expr in &exprs {
        let mut rest = expr.as_str();
        while let Some(at) = rest.find("switchyard_") {
            let name: String = rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            rest = &rest[at + name.len()..];
            used.insert(name);
        }
    }
    let missing: Vec<&String> = used.iter().filter(|m| !exported.contains(m.as_str())).collect();
    assert!(missing.is_empty(), "the dashboard uses metrics the scrape does not export: {missing:?}\n{scrape}");
    for needed in ["switchyard_cost_usd_total", "switchyard_tokens_total", "switchyard_time_to_first_byte_seconds_bucket", "switchyard_fallbacks_total", "switchyard_unpriced_requests_total"] {
        assert!(used.contains(needed), "the dashboard charts {needed}");
    }
}
