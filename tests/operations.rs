//! Operations through the real binary: hot reload under traffic (valid and invalid changes),
//! and the SIGTERM drain (readiness first, serving through the drain delay, then refusing).

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn config_with_alias(mock: &Mock, target_model: &str, extra: &str) -> String {
    let providers = provider_yaml("upstream", "anthropic", &mock.url(), "sk-ant-reload");
    format!("{}{extra}", config(&providers, &format!("  - {{ name: fast, targets: [\"upstream/{target_model}\"] }}\n")))
}

fn target_of_fast(gw: &Gateway) -> Option<String> {
    let r = client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&json!({"model":"fast","max_tokens":5,"messages":[{"role":"user","content":"x"}]})).send().ok()?;
    (r.status() == 200).then(|| r.headers().get("x-switchyard-target").and_then(|v| v.to_str().ok()).map(str::to_string)).flatten()
}

fn write_config(gw: &Gateway, yaml: &str) {
    let port = |url: &str| url.rsplit(':').next().unwrap().to_string();
    let text = format!("listen:\n  proxy: 127.0.0.1:{}\n  admin: 127.0.0.1:{}\n{yaml}", port(&gw.base), port(&gw.admin));
    std::fs::write(&gw.config_path, text).unwrap();
}

#[test]
fn hot_reload_under_traffic_applies_valid_changes_and_refuses_invalid_ones() {
    let mock = Mock::start(&[]);
    let gw = Gateway::with_config(&config_with_alias(&mock, "model-one", "")).start();
    assert_eq!(target_of_fast(&gw).as_deref(), Some("upstream/model-one"));

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let traffic: Vec<_> = (0..3)
        .map(|_| {
            let (stop, ok, failed, url) = (stop.clone(), ok.clone(), failed.clone(), gw.url("/v1/messages"));
            std::thread::spawn(move || {
                let c = client();
                let deadline = Instant::now() + Duration::from_secs(30);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let r = c.post(&url).header("x-api-key", TEAM_KEY).json(&json!({"model":"fast","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]})).send().and_then(|r| r.error_for_status()).and_then(|r| r.text());
                    match r {
                        Ok(text) if text.contains("message_stop") => ok.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(300));
    write_config(&gw, &config_with_alias(&mock, "model-two", ""));
    gw.process.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while target_of_fast(&gw).as_deref() != Some("upstream/model-two") {
        assert!(Instant::now() < deadline, "the valid change did not take effect");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(gw.metric("switchyard_config_reloads_total{result=\"ok\"}"), 1.0);

    write_config(&gw, &config_with_alias(&mock, "model-three", "").replace("targets:", "targetz:"));
    gw.process.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.metric("switchyard_config_reloads_total{result=\"error\"}") < 1.0 {
        assert!(Instant::now() < deadline, "the invalid config was not refused");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(target_of_fast(&gw).as_deref(), Some("upstream/model-two"), "the running config stays");
    assert!(gw.process.stderr.text().contains("config reload refused"), "the refusal is logged");
    assert!(gw.process.stderr.text().contains("targetz"), "the log names the bad field");

    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for t in traffic {
        t.join().unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0, "requests failed during reloads");
    assert!(ok.load(Ordering::Relaxed) > 10, "too little traffic to mean anything: {}", ok.load(Ordering::Relaxed));
}

#[test]
fn sigterm_fails_readiness_serves_through_the_drain_delay_then_refuses() {
    let mock = Mock::start(&[]);
    let mut gw = Gateway::with_config(&config_with_alias(&mock, "m", "").replace("grace_period_seconds: 10\n", "grace_period_seconds: 10\n  drain_delay_seconds: 2\n")).start();
    let url = gw.url("/v1/messages");
    let streamer = std::thread::spawn(move || {
        client()
            .post(url)
            .header("x-api-key", TEAM_KEY)
            .header("x-mock-delay-ms", "250")
            .json(&json!({"model":"fast","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"a long stream"}]}))
            .send()
            .and_then(|r| r.text())
    });
    std::thread::sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    gw.process.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(client().get(format!("{}/readyz", gw.admin)).send().unwrap().status(), 503, "readiness fails first");
    let during = client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&json!({"model":"fast","max_tokens":5,"messages":[{"role":"user","content":"x"}]})).send().unwrap();
    assert_eq!(during.status(), 200, "still serving during the drain delay");
    while signalled.elapsed() < Duration::from_millis(2600) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let port = gw.base.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "new connections are refused after the drain delay");
    let text = streamer.join().unwrap().expect("the open stream completes");
    assert!(text.contains("message_stop"), "{text}");
    let status = gw.process.wait_exit(Duration::from_secs(10)).expect("exits once drained");
    assert!(status.success());
}

#[test]
fn sigquit_hands_the_sockets_to_a_new_process_without_dropping_requests() {
    let mock = Mock::start(&[]);
    let sock_dir = tempfile::tempdir().unwrap();
    let sock = sock_dir.path().join("upgrade.sock");
    let extra = format!("  upgrade_sock: {}\n", sock.display());
    let yaml = config_with_alias(&mock, "m", "").replace("grace_period_seconds: 10\n", &format!("grace_period_seconds: 10\n{extra}"));
    let mut old = Gateway::with_config(&yaml).start();

    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["run", "--upgrade", "--config"]).arg(&old.config_path).env("TEAM_KEY", TEAM_KEY).env("RUST_LOG", "info").env("SWITCHYARD_DATA_DIR", old.data_dir());
    let mut new = Process::spawn(cmd);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sock.exists() {
        assert!(Instant::now() < deadline, "the new process never listened on the upgrade socket: {}", new.stderr.text());
        std::thread::sleep(Duration::from_millis(20));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let traffic = {
        let (stop, ok, failed, url) = (stop.clone(), ok.clone(), failed.clone(), old.url("/v1/messages"));
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(40);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                // A fresh connection each time, so each request is accepted by whichever process listens.
                let c = reqwest::blocking::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(10)).build().unwrap();
                match c.post(&url).header("x-api-key", TEAM_KEY).json(&json!({"model":"fast","max_tokens":5,"messages":[{"role":"user","content":"x"}]})).send() {
                    Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    old.process.signal("QUIT");
    let exited = old.process.wait_exit(Duration::from_secs(30));
    assert!(exited.is_some(), "the old process exits after handing over");
    let served_after = ok.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    traffic.join().unwrap();
    assert!(ok.load(Ordering::Relaxed) > served_after, "the new process serves after the old one left");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "requests failed during the upgrade");
    assert!(new.child.try_wait().unwrap().is_none(), "the new process keeps running");
    new.signal("INT");
    let _ = new.wait_exit(Duration::from_secs(5));
}
