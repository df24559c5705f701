//! TLS through the real binary. Upstream: SNI and certificate verification against a local HTTPS
//! provider whose certificate comes from a throwaway CA (Python's `trustme`, in the SDK virtualenv).
//! Downstream: HTTPS on the gateway's own proxy listener, whose certificate a SIGHUP swaps.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;
use serde_json::json;

struct TlsUpstream {
    child: std::process::Child,
    port: u16,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for TlsUpstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tls_upstream() -> TlsUpstream {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let mut child = Command::new(sdk_python())
        .arg(root.join("tests/sdk/tls_upstream.py"))
        .arg(&ca)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port: {line:?}"));
    TlsUpstream { child, port, ca, _dir: dir }
}

fn gateway(up: &TlsUpstream, trust_ca: bool) -> Gateway {
    let ca = if trust_ca { format!("  ca_file: {}\n", up.ca.display()) } else { String::new() };
    let providers = format!(
        "  secure:\n    kind: anthropic\n    base_url: \"https://127.0.0.1:{}\"\n    keys: [\"sk-ant-api03-tls\"]\n    tls: {{ verify: true, sni: localhost }}\n",
        up.port
    );
    let text = config(&providers, "  - { name: \"*\", targets: [\"secure/*\"] }\n").replace("server:\n", &format!("server:\n{ca}"));
    Gateway::with_config(&text).start()
}

fn ask(gw: &Gateway) -> reqwest::blocking::Response {
    client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&json!({"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"x"}]})).send().unwrap()
}

#[test]
fn tls_upstream_with_sni_and_a_trusted_ca() {
    let up = tls_upstream();
    let gw = gateway(&up, true);
    let r = ask(&gw);
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["content"][0]["text"], "over tls");
    assert_eq!(body["sni"], "localhost", "the configured SNI was sent");
}

#[test]
fn an_untrusted_certificate_is_refused_with_502() {
    let up = tls_upstream();
    let gw = gateway(&up, false);
    let r = ask(&gw);
    assert_eq!(r.status(), 502);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["type"], "error");
    assert!(body["error"]["message"].as_str().unwrap().contains("secure"), "{body}");
}

/// What tests/sdk/tls_probe.py saw on the gateway's HTTPS listener.
fn probe(gw: &Gateway, certs: &TestCerts) -> serde_json::Value {
    let port = gw.base.rsplit(':').next().unwrap().to_string();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/tls_probe.py");
    let out = Command::new(sdk_python()).arg(script).arg(port).arg(certs.path("ca.pem")).arg(certs.path("first.pem")).arg(certs.path("second.pem")).output().unwrap();
    assert!(out.status.success(), "tls_probe.py: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(out.stdout.trim_ascii()).unwrap()
}

#[test]
fn the_proxy_listener_serves_https_and_a_sighup_swaps_its_certificate_for_new_connections() {
    let certs = TestCerts::new();
    let live = tempfile::tempdir().unwrap();
    let (cert, key) = (live.path().join("tls.crt"), live.path().join("tls.key"));
    std::fs::copy(certs.path("first.pem"), &cert).unwrap();
    std::fs::copy(certs.path("first.key"), &key).unwrap();
    let mock = Mock::start(&[]);
    let providers = provider_yaml("anth", "anthropic", &mock.url(), "sk-ant-api03-https");
    let gw = Gateway::with_config(&config(&providers, "  - { name: \"*\", targets: [\"anth/*\"] }\n")).proxy_tls(&cert, &key).start();
    assert!(gw.base.starts_with("https://"));

    let seen = probe(&gw, &certs);
    assert_eq!(seen["status"], 200, "verified against the test CA for `localhost`: {seen}");
    assert_eq!(seen["served"], seen["leaves"][0], "the first certificate is served: {seen}");
    // Plain HTTP on the HTTPS port is not answered as HTTP.
    let plain = client().get(gw.base.replace("https://", "http://") + "/healthz").send();
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));

    // A renewed certificate is copied over the files and the gateway told to reload.
    std::fs::copy(certs.path("second.pem"), &cert).unwrap();
    std::fs::copy(certs.path("second.key"), &key).unwrap();
    gw.process.signal("HUP");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let seen = probe(&gw, &certs);
        if seen["served"] == seen["leaves"][1] {
            assert_eq!(seen["status"], 200);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the second certificate was never served: {seen}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(gw.metric("switchyard_config_reloads_total{result=\"ok\"}"), 1.0);

    // A broken key is refused like any invalid config, and the running certificate stays.
    std::fs::write(&key, "not a key").unwrap();
    gw.process.signal("HUP");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while gw.metric("switchyard_config_reloads_total{result=\"error\"}") < 1.0 {
        assert!(std::time::Instant::now() < deadline, "the broken reload was not refused");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let seen = probe(&gw, &certs);
    assert_eq!((seen["served"].clone(), seen["status"].clone()), (seen["leaves"][1].clone(), json!(200)));
    assert!(gw.process.stderr.text().contains("listen.proxy_tls.key"), "the refusal names the field");
}

#[test]
fn check_names_the_tls_field_whose_file_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    let text = config(&provider_yaml("anth", "anthropic", "http://127.0.0.1:9", "k"), "  - { name: \"*\", targets: [\"anth/*\"] }\n");
    std::fs::write(&path, format!("listen:\n  proxy_tls: {{ cert: /nonexistent/tls.crt, key: /nonexistent/tls.key }}\n{text}")).unwrap();
    let out = Command::new(BIN).arg("check").arg("--config").arg(&path).env("TEAM_KEY", TEAM_KEY).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("listen.proxy_tls.cert: cannot read `/nonexistent/tls.crt`"), "{stderr}");
}
