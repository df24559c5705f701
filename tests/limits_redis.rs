//! Limits shared through a real Redis (Debian's `redis-server`, started here on a free loopback port
//! in a temp dir): two gateway processes enforce one team limit together, concurrency slots are shared,
//! traffic without limits never reaches Redis, and when Redis stops, `fail_open` keeps traffic flowing
//! on local counters while `fail_closed` refuses with a clear error — both recover when it returns.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::usage::all_tokens;
use common::*;
use serde_json::{json, Value};

/// A `redis-server` of our own, without persistence.
struct Redis {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Redis {
        let mut redis = Redis {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
        };
        redis.restart();
        redis
    }

    /// (Re)starts it on the same port.
    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server) must be installed");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(&["ping"]).trim() != "PONG" {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn cli(&self, args: &[&str]) -> String {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Calls per command since start (`INFO commandstats`).
    fn command_calls(&self) -> BTreeMap<String, u64> {
        self.cli(&["info", "commandstats"])
            .lines()
            .filter_map(|line| {
                let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
                let calls = rest
                    .split(',')
                    .find_map(|kv| kv.strip_prefix("calls="))?
                    .parse()
                    .ok()?;
                Some((name.to_string(), calls))
            })
            .collect()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn gateway(mock: &Mock, redis: &Redis, on_error: &str, teams: &str) -> Gateway {
    gateway_with(mock, redis, on_error, teams, "")
}

/// [`gateway`] with more top-level config (`extra`, whole YAML lines).
fn gateway_with(mock: &Mock, redis: &Redis, on_error: &str, teams: &str, extra: &str) -> Gateway {
    let providers = provider_yaml("anth", "anthropic", &mock.url(), "sk-ant-api03-redis");
    let text = format!(
        "server:\n  threads: 2\n  grace_period_seconds: 10\nproviders:\n{providers}models:\n  - {{ name: \"*\", targets: [\"anth/*\"] }}\nshared_state: {{ redis_url: \"{}\", on_error: {on_error}, timeout_ms: 1000 }}\n{extra}teams:\n{teams}",
        redis.url()
    );
    Gateway::with_config(&text)
        .env("SHARED_KEY", "shared-secret")
        .env("FREE_KEY", "free-secret")
        .env("SLOW_KEY", "slow-secret")
        .env("METERED_KEY", "metered-secret")
        .env("BUDGET_KEY", "budget-secret")
        .start()
}

const TEAMS: &str =
    "  - { name: shared, keys: [{ env: SHARED_KEY }], limits: { requests_per_minute: 20 } }
  - { name: slow, keys: [{ env: SLOW_KEY }], limits: { max_concurrent: 1 } }
  - { name: metered, keys: [{ env: METERED_KEY }], limits: { tokens_per_minute: 100000, max_concurrent: 5 } }
  - { name: free, keys: [{ env: FREE_KEY }] }
";

fn ask(gw: &Gateway, key: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut request = client()
        .post(gw.url("/v1/messages"))
        .header("x-api-key", key);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.json(&json!({"model": "claude-haiku-4-5", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]})).send().unwrap()
}

#[test]
fn two_gateways_enforce_one_limit_together_and_unlimited_traffic_never_touches_redis() {
    let redis = Redis::start();
    let mock = Mock::start(&[]);
    let (a, b) = (
        gateway(&mock, &redis, "fail_open", TEAMS),
        gateway(&mock, &redis, "fail_open", TEAMS),
    );

    // Redis windows follow the wall-clock minute; across a boundary the previous minute's count decays
    // continuously, and the total could end one short of the limit. Start well inside a minute.
    let into_minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 60_000;
    if into_minute > 50_000 {
        std::thread::sleep(Duration::from_millis((60_000 - into_minute + 200) as u64));
    }
    // 30 requests, alternating between the replicas: exactly the limit is admitted, in total.
    let mut admitted = [0u32; 2];
    let mut refused = [0u32; 2];
    for i in 0..30 {
        let (gw, slot) = if i % 2 == 0 { (&a, 0) } else { (&b, 1) };
        match ask(gw, "shared-secret", &[]).status().as_u16() {
            200 => admitted[slot] += 1,
            429 => refused[slot] += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        admitted[0] + admitted[1],
        20,
        "admitted {admitted:?}, refused {refused:?}"
    );
    assert!(
        refused[0] > 0 && refused[1] > 0,
        "both replicas refuse once the shared count is reached: {refused:?}"
    );
    let body: Value = ask(&b, "shared-secret", &[]).json().unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("team `shared` exceeded requests_per_minute (20); resets in "),
        "{body}"
    );
    assert!(
        redis
            .cli(&[
                "--scan",
                "--pattern",
                "switchyard:team:shared:requests_per_minute:*"
            ])
            .lines()
            .count()
            >= 1,
        "the counter lives in Redis"
    );
    assert_eq!(
        a.metric("switchyard_limit_fail_open_total") + b.metric("switchyard_limit_fail_open_total"),
        0.0
    );

    // One concurrency slot for `slow`, shared: a stream held on one replica blocks the other.
    let stream_url = a.url("/v1/messages");
    let (started, started_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let body = json!({"model": "claude-haiku-4-5", "max_tokens": 50, "stream": true, "messages": [{"role": "user", "content": "slow"}]});
        let response = client()
            .post(stream_url)
            .header("x-api-key", "slow-secret")
            .header("x-mock-delay-ms", "200")
            .json(&body)
            .send()
            .unwrap();
        started.send(response.status().as_u16()).unwrap();
        response.text().unwrap()
    });
    assert_eq!(
        started_rx.recv_timeout(Duration::from_secs(20)).unwrap(),
        200
    );
    let response = ask(&b, "slow-secret", &[]);
    assert_eq!(response.status(), 429);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert!(holder.join().unwrap().contains("message_stop"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while ask(&b, "slow-secret", &[]).status() != 200 {
        assert!(
            Instant::now() < deadline,
            "the slot came back after the stream on the other replica ended"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Tokens per minute in Redis: when the request ends, its estimate is corrected to exactly what the
    // provider reported, in the same call that gives its concurrency slot back.
    let before = all_tokens(&mock);
    let body = json!({"model": "claude-haiku-4-5", "max_tokens": 200, "messages": [{"role": "user", "content": "w ".repeat(40)}]}).to_string();
    let estimated = (body.len() as u64).div_ceil(4);
    let response = client()
        .post(a.url("/v1/messages"))
        .header("x-api-key", "metered-secret")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().unwrap();
    let used = all_tokens(&mock) - before;
    assert_ne!(used, estimated, "the correction changes something");
    let counted = || -> u64 {
        redis
            .cli(&[
                "--scan",
                "--pattern",
                "switchyard:team:metered:tokens_per_minute:*",
            ])
            .lines()
            .map(|key| redis.cli(&["get", key]).trim().parse::<u64>().unwrap_or(0))
            .sum()
    };
    eventually(10, "the window holds what the request used", || {
        counted() == used
    });
    assert_eq!(
        redis
            .cli(&["hlen", "switchyard:team:metered:max_concurrent"])
            .trim(),
        "0",
        "the slot went back"
    );

    // A team without limits: not one Redis command for its traffic (only the replicas' heartbeats,
    // PSETEX every 5 s, and our own INFO run meanwhile).
    let before = redis.command_calls();
    for gw in [&a, &b, &a, &b, &a, &b, &a, &b] {
        assert_eq!(ask(gw, "free-secret", &[]).status(), 200);
    }
    let after = redis.command_calls();
    let moved: Vec<String> = after
        .iter()
        .filter(|(name, calls)| {
            before.get(*name) != Some(calls) && !matches!(name.as_str(), "psetex" | "info")
        })
        .map(|(name, calls)| {
            format!(
                "{name}: {} -> {calls}",
                before.get(name).copied().unwrap_or(0)
            )
        })
        .collect();
    assert!(
        moved.is_empty(),
        "unlimited traffic reached Redis: {moved:?}"
    );
    assert!(
        before.contains_key("evalsha") || before.contains_key("eval"),
        "limited traffic did use Redis: {before:?}"
    );
}

/// Polls `f` until it is true or `secs` pass.
fn eventually(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn redis_stopped_mid_test_fail_open_keeps_serving_fail_closed_refuses_and_both_recover() {
    let mut redis = Redis::start();
    let mock = Mock::start(&[]);
    let teams = "  - { name: shared, keys: [{ env: SHARED_KEY }], limits: { requests_per_minute: 1000 } }\n  - { name: free, keys: [{ env: FREE_KEY }] }\n";
    let (open, closed) = (
        gateway(&mock, &redis, "fail_open", teams),
        gateway(&mock, &redis, "fail_closed", teams),
    );
    for gw in [&open, &closed] {
        assert_eq!(ask(gw, "shared-secret", &[]).status(), 200);
    }
    assert_eq!(open.metric("switchyard_limit_store_up"), 1.0);

    redis.stop();
    // fail_open: served, counted on the replica's own counters, and the metrics say so.
    for _ in 0..3 {
        assert_eq!(ask(&open, "shared-secret", &[]).status(), 200);
    }
    assert!(open.metric("switchyard_limit_fail_open_total") >= 3.0);
    assert_eq!(open.metric("switchyard_limit_store_up"), 0.0);
    assert!(open.metric("switchyard_limit_store_errors_total{operation=\"admit\"}") >= 1.0);
    // fail_closed: refused in the caller's format, saying why; an OpenAI-format caller too.
    let response = ask(&closed, "shared-secret", &[]);
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("retry-after").is_some());
    let body: Value = response.json().unwrap();
    assert_eq!(body["error"]["type"], "api_error", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("team `shared` has limits, and the shared limit store (Redis) that counts them is unavailable"), "{message}");
    assert!(message.contains("fail_closed"), "{message}");
    let chat = client()
        .post(closed.url("/v1/chat/completions"))
        .bearer_auth("shared-secret")
        .json(&json!({"model": "x", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .unwrap();
    assert_eq!(chat.status(), 503);
    let chat: Value = chat.json().unwrap();
    assert_eq!(chat["error"]["code"], "service_unavailable", "{chat}");
    assert!(closed.metric("switchyard_limit_rejections_total{limit=\"store_unavailable\",scope=\"team\",team=\"shared\"}") >= 2.0);
    // Teams without limits never needed Redis and go on, even under fail_closed.
    assert_eq!(ask(&closed, "free-secret", &[]).status(), 200);
    let log = open.process.stderr.text();
    assert!(
        log.contains("limit store redis://127.0.0.1:") && log.contains("fail_open"),
        "a log line says what happened: {log}"
    );
    assert!(!log.contains("shared-secret"));

    // Redis comes back on the same port: both recover without a restart or a reload.
    redis.restart();
    eventually(20, "fail_closed recovers", || {
        ask(&closed, "shared-secret", &[]).status() == 200
    });
    eventually(20, "fail_open counts in Redis again", || {
        ask(&open, "shared-secret", &[]).status() == 200
            && open.metric("switchyard_limit_store_up") == 1.0
    });
    let fail_open_before = open.metric("switchyard_limit_fail_open_total");
    assert_eq!(ask(&open, "shared-secret", &[]).status(), 200);
    assert_eq!(
        open.metric("switchyard_limit_fail_open_total"),
        fail_open_before,
        "counted in Redis again, not locally"
    );
    assert!(
        !redis
            .cli(&["--scan", "--pattern", "switchyard:team:shared:*"])
            .trim()
            .is_empty(),
        "the counters are back in Redis"
    );
}

#[test]
fn two_gateways_share_one_budget_seeded_once_from_the_ledger() {
    // A daily budget: start away from midnight UTC, when its counter changes.
    let into_day = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 86_400;
    if into_day > 86_400 - 20 {
        std::thread::sleep(Duration::from_secs(86_400 - into_day + 1));
    }
    let redis = Redis::start();
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    // One ledger for both replicas; a budget smaller than one request's cost: the first request is
    // admitted (nothing spent), and its cost, counted in Redis, refuses the next one on either replica.
    let ledger = format!(
        "usage: {{ store: \"sqlite://{}\", flush_interval_ms: 20 }}\n",
        dir.path().join("usage.db").display()
    );
    let teams = "  - { name: budget, keys: [{ env: BUDGET_KEY }], limits: { budget_usd_per_day: 0.000001 } }\n  - { name: free, keys: [{ env: FREE_KEY }] }\n";
    let (a, b) = (
        gateway_with(&mock, &redis, "fail_closed", teams, &ledger),
        gateway_with(&mock, &redis, "fail_closed", teams, &ledger),
    );
    let counter = || {
        redis
            .cli(&[
                "--scan",
                "--pattern",
                "switchyard:team:budget:budget_usd_per_day:*",
            ])
            .trim()
            .to_string()
    };
    assert!(counter().is_empty(), "no counter before the first request");
    assert_eq!(ask(&a, "budget-secret", &[]).status(), 200);
    let key = counter();
    assert!(
        !key.is_empty(),
        "the first admission seeded the day's counter"
    );
    eventually(10, "the request's cost reaches Redis", || {
        redis.cli(&["get", &key]).trim().parse::<u64>().unwrap_or(0) > 1000
    });
    let spent: u64 = redis.cli(&["get", &key]).trim().parse().unwrap();
    let ttl: i64 = redis.cli(&["pttl", &key]).trim().parse().unwrap();
    assert!(
        ttl > 0 && ttl <= 25 * 3_600_000,
        "it expires after its day: {ttl} ms"
    );
    for gw in [&b, &a] {
        let response = ask(gw, "budget-secret", &[]);
        assert_eq!(response.status(), 429);
        let body: Value = response.json().unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(
                "team `budget` has reached its daily budget (budget_usd_per_day 0.000001 USD): "
            ),
            "{message}"
        );
    }
    assert_eq!(
        ask(&b, "free-secret", &[]).status(),
        200,
        "another team is served"
    );

    // The counter gone (a new day's, or a Redis that lost it): the next admission seeds it from the
    // ledger, which holds the first request's cost, once for both replicas.
    common::usage::wait_written(&a, 1);
    redis.cli(&["del", &key]);
    assert_eq!(ask(&b, "budget-secret", &[]).status(), 429);
    assert_eq!(
        redis.cli(&["get", &key]).trim().parse::<u64>().unwrap(),
        spent,
        "seeded with the ledger's figure"
    );
    assert_eq!(ask(&a, "budget-secret", &[]).status(), 429);
}
