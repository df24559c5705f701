//! TLS upstreams through the real binary: SNI and certificate verification against a local HTTPS
//! provider whose certificate comes from a throwaway CA (Python's `trustme`, in the SDK virtualenv).

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
    assert!(Command::new("bash").arg(root.join("tests/sdk_env.sh")).status().unwrap().success());
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let mut child = Command::new(root.join("target/sdk-venv/bin/python"))
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
