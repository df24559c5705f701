//! The PostgreSQL usage store against a real PostgreSQL (Debian's `postgresql` package, which
//! `.ci/run` installs): two gateway replicas share one database (both apply the migrations at start),
//! their records add up to what the mock reported, and stopping the database mid-run fails no
//! request while the drop counter moves. The test starts its own server with Debian's binaries
//! (`/usr/lib/postgresql/<version>/bin`) on a free loopback port in a temporary directory — as the
//! `postgres` user when it runs as root, because `initdb` refuses root.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// A PostgreSQL server of this test's own.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

fn debian_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

impl Postgres {
    fn command(&self, tool: &str) -> Command {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            c
        } else {
            Command::new(self.bin.join(tool))
        };
        cmd.env_remove("PGDATA");
        cmd
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts a fresh server, or `None` (outside CI only) when Debian's binaries are not installed.
    fn start() -> Option<Postgres> {
        let Some(bin) = debian_bin_dir() else {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "PostgreSQL's binaries are missing under /usr/lib/postgresql: .ci/run installs Debian's `postgresql` package");
            eprintln!("SKIPPED (not in CI): Debian's postgresql package is not installed (apt-get install postgresql)");
            return None;
        };
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let as_postgres = uid == "0";
        let dir = tempfile::tempdir().unwrap();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "chown the test directory to postgres");
        }
        let pg = Postgres {
            bin,
            data: dir.path().join("data"),
            port: free_port(),
            as_postgres,
            _dir: dir,
        };
        let data = pg.data.to_string_lossy().to_string();
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "sy",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        pg.start_server();
        Some(pg)
    }

    fn start_server(&self) {
        let data = self.data.to_string_lossy().to_string();
        let socket_dir = self
            .data
            .parent()
            .unwrap_or(Path::new("/tmp"))
            .to_string_lossy()
            .to_string();
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={socket_dir} -c fsync=off", self.port);
        let log = self
            .data
            .parent()
            .unwrap()
            .join("server.log")
            .to_string_lossy()
            .to_string();
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-o", &options, "-l", &log, "-w", "-t", "30", "start",
            ],
        );
    }

    fn stop(&self) {
        let data = self.data.to_string_lossy().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://sy@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}

fn send(gw: &Gateway, stream: bool, i: usize) {
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 50, "stream": stream, "messages": [{"role": "user", "content": format!("postgres {i}")}]});
    let r = client()
        .post(gw.url("/v1/messages"))
        .header("x-api-key", TEAM_KEY)
        .json(&body)
        .send()
        .unwrap();
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
    let usage = format!(
        "usage:\n  store: \"{}\"\n  flush_interval_ms: 100\n  batch_size: 2\n  queue_size: 4\n",
        pg.url()
    );
    let text = config(
        &providers,
        "  - { name: \"claude-*\", targets: [\"anthropic/*\"] }\n",
    ) + &usage;
    let (a, b) = (
        Gateway::with_config(&text).start(),
        Gateway::with_config(&text).start(),
    );
    for i in 0..3 {
        send(&a, i % 2 == 0, i);
        send(&b, i % 2 == 1, i);
    }
    let written = |gw: &Gateway| gw.metric("switchyard_usage_records_written_total");
    wait_until("six records", || written(&a) + written(&b) == 6.0);
    let rows = a.usage_json("team,model");
    let reported = &mock.stats()["usage"]["claude-sonnet-4-5"];
    assert_eq!(rows.len(), 1, "{rows:?}");
    for field in [
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ] {
        assert_eq!(rows[0][field], reported[field], "{field}");
    }
    assert_eq!(rows[0]["cost_usd"].as_f64().map(|c| c > 0.0), Some(true));
    assert_eq!(
        b.usage_json("model"),
        a.usage_json("model"),
        "both replicas read the same store"
    );
    // The routing rule groups on PostgreSQL too (no rules here: every request routed by its name).
    let by_rule = a.usage_json("rule");
    assert_eq!(
        (
            by_rule.len(),
            by_rule[0]["rule"].as_str(),
            by_rule[0]["requests"].as_u64()
        ),
        (1, Some("default"), Some(6)),
        "{by_rule:?}"
    );

    // A budget is seeded from PostgreSQL: a replica started now with a monthly budget below what the team
    // spent refuses its first request.
    let spent = rows[0]["cost_usd"].as_f64().unwrap_or_default();
    let budget = (spent / 2.0 * 1e9).round() / 1e9;
    let c = Gateway::with_config(&format!(
        "{text}default_limits: {{ budget_usd_per_month: {budget} }}\n"
    ))
    .start();
    let refused = client()
        .post(c.url("/v1/messages"))
        .bearer_auth(TEAM_KEY)
        .json(&serde_json::json!({"model": "claude-sonnet-4-5", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 429);
    let message = refused.text().unwrap();
    assert!(
        message.contains("has reached its monthly budget")
            && message.contains(&format!("budget_usd_per_month {budget} USD")),
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
    wait_until("a failed write to be counted", || {
        a.metric("switchyard_usage_store_errors_total") >= 1.0
    });
    assert!(a.process.stderr.text().contains("usage store write failed"));
    // It comes back: what waited in memory is written, what overflowed stays counted.
    pg.start_server();
    wait_until("the waiting records to be written", || {
        written(&a) + dropped == 3.0 + 12.0 && a.metric("switchyard_usage_records_queued") == 0.0
    });
    assert_eq!(
        a.usage_json("team")[0]["requests"].as_f64(),
        Some(written(&a) + written(&b) + 1.0)
    );
}
