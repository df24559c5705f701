//! Test harness: starts the real `switchyard` binary — as gateway and as mock provider — on
//! loopback ports, waits until it is ready, and kills exactly the processes it started when
//! the handle drops.

#![allow(dead_code)]

pub mod postgres;
pub mod usage;

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_switchyard");
pub const TEAM_KEY: &str = "team-key-for-tests-7f3a9c";

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Collects a child's output in the background so tests can assert on it.
#[derive(Clone, Default)]
pub struct Output(Arc<Mutex<String>>);

impl Output {
    pub fn text(&self) -> String {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn capture(&self, stream: impl Read + Send + 'static) {
        let sink = self.0.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                }
                line.clear();
            }
        });
    }
}

pub struct Process {
    pub child: Child,
    pub stdout: Output,
    pub stderr: Output,
}

impl Process {
    pub fn spawn(mut cmd: Command) -> Process {
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = cmd.spawn().expect("spawn switchyard");
        let (stdout, stderr) = (Output::default(), Output::default());
        if let Some(s) = child.stdout.take() {
            stdout.capture(s);
        }
        if let Some(s) = child.stderr.take() {
            stderr.capture(s);
        }
        Process {
            child,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status();
    }

    /// Waits up to `timeout` for the process to exit; returns its exit status if it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running mock provider.
pub struct Mock {
    pub process: Process,
    pub addr: SocketAddr,
    pub record: PathBuf,
    _dir: tempfile::TempDir,
}

impl Mock {
    pub fn start(extra: &[&str]) -> Mock {
        let dir = tempfile::tempdir().expect("tempdir");
        let record = dir.path().join("received.jsonl");
        let mut cmd = Command::new(BIN);
        cmd.arg("mock")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--record")
            .arg(&record)
            .args(extra);
        cmd.env("RUST_LOG", "warn");
        let process = Process::spawn(cmd);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = process.stdout.text();
            if let Some(addr) = out
                .lines()
                .find_map(|l| l.split("http://").nth(1))
                .and_then(|a| a.trim().parse().ok())
            {
                return Mock {
                    process,
                    addr,
                    record,
                    _dir: dir,
                };
            }
            assert!(
                Instant::now() < deadline,
                "mock did not start: {}",
                process.stderr.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request the mock received for a client, as recorded JSON lines: the gateway's own model
    /// discovery requests (see `discovery_requests`) are left out.
    pub fn received(&self) -> Vec<serde_json::Value> {
        self.all_received()
            .into_iter()
            .filter(|r| !is_discovery(r))
            .collect()
    }

    /// The `GET /v1/models` requests the gateway's model discovery sent.
    pub fn discovery_requests(&self) -> Vec<serde_json::Value> {
        self.all_received()
            .into_iter()
            .filter(is_discovery)
            .collect()
    }

    fn all_received(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Waits until the gateway's model discovery has fetched this mock's list and closed its connection,
    /// so tests that count connections start after it; returns the mock's stats then (the probe's own
    /// connection included, as always).
    pub fn stats_after_discovery(&self) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let stats = self.stats();
            if !self.discovery_requests().is_empty() && stats["open_connections"] == 0 {
                return stats;
            }
            assert!(
                Instant::now() < deadline,
                "the gateway never fetched this mock's model list: {stats}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stats(&self) -> serde_json::Value {
        reqwest::blocking::get(format!("{}/mock/stats", self.url()))
            .and_then(|r| r.json())
            .expect("mock stats")
    }
}

fn is_discovery(request: &serde_json::Value) -> bool {
    recorded_header(request, "user-agent")
        .is_some_and(|ua| ua.starts_with("switchyard-model-discovery/"))
}

/// A header's value in a recorded request (names compared case-insensitively).
pub fn recorded_header<'a>(request: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    request["headers"].as_array()?.iter().find_map(|pair| {
        let pair = pair.as_array()?;
        (pair.first()?.as_str()?.eq_ignore_ascii_case(name))
            .then(|| pair.get(1)?.as_str())
            .flatten()
    })
}

/// A running gateway.
pub struct Gateway {
    pub process: Process,
    pub base: String,
    pub admin: String,
    pub config_path: PathBuf,
    /// The environment it was started with (for `switchyard usage` with the same config).
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

pub struct GatewayBuilder {
    config: Option<String>,
    env: Vec<(String, String)>,
    args: Vec<String>,
    default_logging: bool,
    /// `listen.proxy_tls` (cert, key): the proxy listener serves HTTPS.
    proxy_tls: Option<(PathBuf, PathBuf)>,
}

impl Gateway {
    /// A gateway with `config` (YAML without `listen:`; it gets loopback ports added).
    pub fn with_config(config: &str) -> GatewayBuilder {
        GatewayBuilder {
            config: Some(config.to_string()),
            env: vec![("TEAM_KEY".into(), TEAM_KEY.into())],
            args: vec![],
            default_logging: false,
            proxy_tls: None,
        }
    }

    /// A gateway on the embedded default config (no --config).
    pub fn embedded_default() -> GatewayBuilder {
        GatewayBuilder {
            config: None,
            env: vec![],
            args: vec![],
            default_logging: false,
            proxy_tls: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The directory the gateway keeps its data in (`SWITCHYARD_DATA_DIR`): the default usage store.
    pub fn data_dir(&self) -> &Path {
        self._dir.path()
    }

    /// `switchyard usage --config <this gateway's config> ARGS` (same data directory), stdout.
    pub fn usage_cli(&self, args: &[&str]) -> String {
        let config = self.config_path.to_string_lossy().to_string();
        let out = self.cli(&[&["usage", "--config", &config], args].concat());
        assert!(out.status.success(), "switchyard usage {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `switchyard ARGS` with this gateway's environment and data directory (for `usage --config` or
    /// `keys … --config`: the CLI opens the same store).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("SWITCHYARD_DATA_DIR", self.data_dir())
            .output()
            .expect("run switchyard")
    }

    /// The ledger's totals grouped by `by` (e.g. `team,model`), read back with `switchyard usage --format json`.
    pub fn usage_json(&self, by: &str) -> Vec<serde_json::Value> {
        let text = self.usage_cli(&["--by", by, "--format", "json"]);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    pub fn metrics(&self) -> String {
        reqwest::blocking::get(format!("{}/metrics", self.admin))
            .and_then(|r| r.text())
            .unwrap_or_default()
    }

    /// The model ids `key`'s team sees in `GET /v1/models` (OpenAI shape), asked again until there are at
    /// least `len` — model discovery fills providers' lists in the background — or 20 s have passed.
    pub fn model_ids(&self, key: &str, len: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let list: serde_json::Value = client()
                .get(self.url("/v1/models"))
                .bearer_auth(key)
                .send()
                .and_then(|r| r.json())
                .unwrap_or_default();
            let ids: Vec<String> = list["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect();
            if ids.len() >= len || Instant::now() > deadline {
                return ids;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The value of one metric sample (exact label set as rendered), or 0.
    pub fn metric(&self, sample: &str) -> f64 {
        self.metrics()
            .lines()
            .find_map(|l| {
                l.strip_prefix(sample)
                    .and_then(|rest| rest.trim().parse().ok())
            })
            .unwrap_or(0.0)
    }
}

impl GatewayBuilder {
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Serves HTTPS on the proxy listener with this certificate and key; `base` is then
    /// `https://localhost:PORT`.
    pub fn proxy_tls(mut self, cert: &Path, key: &Path) -> Self {
        self.proxy_tls = Some((cert.to_path_buf(), key.to_path_buf()));
        self
    }

    /// Leaves `RUST_LOG` unset, so the gateway logs at its own default level, as it does for a user.
    pub fn default_logging(mut self) -> Self {
        self.default_logging = true;
        self
    }

    pub fn start(self) -> Gateway {
        for _ in 0..5 {
            if let Some(gw) = self.try_start() {
                return gw;
            }
        }
        panic!("gateway did not start after 5 attempts");
    }

    fn try_start(&self) -> Option<Gateway> {
        let dir = tempfile::tempdir().expect("tempdir");
        let (proxy, admin) = (free_port(), free_port());
        let config_path = dir.path().join("switchyard.yaml");
        let mut cmd = Command::new(BIN);
        cmd.env_clear();
        for var in ["PATH", "HOME", "TMPDIR"] {
            if let Ok(v) = std::env::var(var) {
                cmd.env(var, v);
            }
        }
        if !self.default_logging {
            cmd.env("RUST_LOG", "info");
        }
        // The usage ledger's default SQLite file goes in this test's own directory, never the repository.
        cmd.env("SWITCHYARD_DATA_DIR", dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        match &self.config {
            Some(config) => {
                let tls = match &self.proxy_tls {
                    Some((cert, key)) => format!(
                        "  proxy_tls: {{ cert: '{}', key: '{}' }}\n",
                        cert.display(),
                        key.display()
                    ),
                    None => String::new(),
                };
                let text = format!(
                    "listen:\n  proxy: 127.0.0.1:{proxy}\n  admin: 127.0.0.1:{admin}\n{tls}{config}"
                );
                std::fs::write(&config_path, text).expect("write config");
                cmd.arg("run").arg("--config").arg(&config_path);
            }
            None => {
                cmd.env("SWITCHYARD_LISTEN", format!("127.0.0.1:{proxy}"));
                cmd.env("SWITCHYARD_METRICS_LISTEN", format!("127.0.0.1:{admin}"));
            }
        }
        cmd.args(&self.args);
        let mut process = Process::spawn(cmd);
        let gw_admin = format!("http://127.0.0.1:{admin}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = process.child.try_wait() {
                eprintln!(
                    "gateway exited early:\n{}\n{}",
                    process.stdout.text(),
                    process.stderr.text()
                );
                return None;
            }
            let ready = reqwest::blocking::get(format!("{gw_admin}/readyz"))
                .map(|r| r.status() == 200)
                .unwrap_or(false)
                && std::net::TcpStream::connect(("127.0.0.1", proxy)).is_ok();
            if ready {
                let base = match self.proxy_tls {
                    Some(_) => format!("https://localhost:{proxy}"),
                    None => format!("http://127.0.0.1:{proxy}"),
                };
                return Some(Gateway {
                    process,
                    base,
                    admin: gw_admin,
                    config_path,
                    env: self.env.clone(),
                    _dir: dir,
                });
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        None
    }
}

/// A blocking client with no pooling surprises and a sane timeout.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A provider block pointing at `mock` with the given kind.
pub fn provider_yaml(name: &str, kind: &str, base_url: &str, key: &str) -> String {
    format!("  {name}:\n    kind: {kind}\n    base_url: \"{base_url}\"\n    keys: [\"{key}\"]\n")
}

/// Standard test config: one team (key in $TEAM_KEY), providers as given, models as given.
pub fn config(providers: &str, models: &str) -> String {
    format!("server:\n  threads: 1\n  grace_period_seconds: 10\nproviders:\n{providers}models:\n{models}teams:\n  - name: test-team\n    keys: [{{ env: TEAM_KEY }}]\n")
}

/// Parses an SSE body into (event name, data JSON) pairs.
pub fn sse_events(body: &str) -> Vec<(String, serde_json::Value)> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .filter_map(|block| {
            let mut event = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if data == "[DONE]" {
                return Some((event, serde_json::Value::String("[DONE]".into())));
            }
            serde_json::from_str(&data).ok().map(|d| (event, d))
        })
        .collect()
}

/// The SDK virtualenv's Python (created once by tests/sdk_env.sh, with the pinned SDKs and `trustme`;
/// checked once per test binary).
pub fn sdk_python() -> PathBuf {
    static READY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    READY
        .get_or_init(|| {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let status = Command::new("bash")
                .arg(root.join("tests/sdk_env.sh"))
                .status()
                .expect("run tests/sdk_env.sh");
            assert!(
                status.success(),
                "could not install the pinned SDKs (tests/sdk_env.sh)"
            );
            root.join("target/sdk-venv/bin/python")
        })
        .clone()
}

/// A throwaway CA and two server certificates from it (tests/sdk/make_certs.py), for HTTPS on the
/// gateway's own listener: `ca.pem`, `first.pem`/`first.key`, `second.pem`/`second.key`.
pub struct TestCerts {
    pub dir: tempfile::TempDir,
}

impl TestCerts {
    pub fn new() -> TestCerts {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/make_certs.py");
        let status = Command::new(sdk_python())
            .arg(script)
            .arg(dir.path())
            .status()
            .expect("run make_certs.py");
        assert!(status.success(), "make_certs.py failed");
        TestCerts { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn fixture(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude-code")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture json")
}

/// The pinned Claude Code CLI, installed (once) by tests/claude_code_env.sh.
pub fn claude_bin() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("bash")
        .arg(root.join("tests/claude_code_env.sh"))
        .status()
        .expect("run tests/claude_code_env.sh");
    assert!(
        status.success(),
        "could not install the pinned Claude Code CLI (tests/claude_code_env.sh)"
    );
    root.join("target/claude-code/node_modules/.bin/claude")
}

/// Runs `claude -p PROMPT --output-format json EXTRA` against the gateway with `key`, in a throwaway
/// home, killed after 120 s; returns (exit ok, stdout, stderr).
pub fn run_claude(gw: &Gateway, key: &str, prompt: &str, extra: &[&str]) -> (bool, String, String) {
    let home = tempfile::tempdir().expect("tempdir");
    run_claude_in(home.path(), gw, key, prompt, extra, &[])
}

/// As `run_claude`, with `home` as HOME and working directory, and extra environment variables.
pub fn run_claude_in(
    home: &Path,
    gw: &Gateway,
    key: &str,
    prompt: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (bool, String, String) {
    let mut cmd = Command::new(claude_bin());
    cmd.arg("-p")
        .arg(prompt)
        .args(["--output-format", "json"])
        .args(extra);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("ANTHROPIC_BASE_URL", &gw.base)
        .env("ANTHROPIC_API_KEY", key)
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("CLAUDE_CODE_MAX_RETRIES", "1")
        .envs(env.iter().copied())
        .current_dir(home);
    run_client(cmd)
}

/// Runs a client CLI to its end, killed (by its own pid) if it takes more than 120 s; returns
/// (exit ok, stdout, stderr).
pub fn run_client(mut cmd: Command) -> (bool, String, String) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the client");
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(120));
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    });
    let out = child.wait_with_output().expect("client output");
    drop(watchdog);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs one scenario of tests/sdk/SCRIPT with `key`; returns the facts it printed.
pub fn run_sdk(
    script: &str,
    scenario: &str,
    model: &str,
    base_url: &str,
    key: &str,
) -> serde_json::Value {
    run_sdk_with(script, scenario, model, base_url, key, &[])
}

/// `run_sdk` with extra environment (e.g. `SSL_CERT_FILE`, which both SDKs' HTTP client honours).
pub fn run_sdk_with(
    script: &str,
    scenario: &str,
    model: &str,
    base_url: &str,
    key: &str,
    env: &[(&str, &Path)],
) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(script);
    let out = Command::new(sdk_python())
        .arg(path)
        .arg(scenario)
        .arg(model)
        .env("BASE_URL", base_url)
        .env("API_KEY", key)
        .envs(env.iter().copied())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{script} {scenario} {model} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(out.stdout.trim_ascii()).expect("facts json")
}

/// A 429's `Retry-After`, its error message, and its error body checked for the caller's format.
/// (`format`: `anthropic`, or any OpenAI one.)
pub fn refusal(response: reqwest::blocking::Response, format: &str) -> (u64, String) {
    assert_eq!(response.status(), 429);
    let retry: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    let body: serde_json::Value = response.json().unwrap();
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if format == "anthropic" {
        assert_eq!(
            (body["type"].as_str(), body["error"]["type"].as_str()),
            (Some("error"), Some("rate_limit_error")),
            "{body}"
        );
    } else {
        assert_eq!(
            (
                body["error"]["type"].as_str(),
                body["error"]["code"].as_str()
            ),
            (Some("rate_limit_error"), Some("rate_limit_exceeded")),
            "{body}"
        );
    }
    (retry, message)
}

/// POSTs `body` to the gateway's `/v1/messages` over one connection in `pieces` writes a few
/// milliseconds apart, so the gateway reads it as several chunks rather than one (with
/// `Content-Length`, or with `Transfer-Encoding: chunked` and one HTTP chunk per piece). Returns the
/// raw response (the connection is closed after it).
pub fn post_in_pieces(gw: &Gateway, body: &[u8], pieces: usize, chunked: bool) -> String {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(gw.base.trim_start_matches("http://")).expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    tcp.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let framing = if chunked { "transfer-encoding: chunked".to_string() } else { format!("content-length: {}", body.len()) };
    write!(tcp, "POST /v1/messages HTTP/1.1\r\nHost: gw\r\nx-api-key: {TEAM_KEY}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\nconnection: close\r\n{framing}\r\n\r\n").expect("head");
    for piece in body.chunks(body.len().div_ceil(pieces.max(1)).max(1)) {
        if chunked {
            write!(tcp, "{:x}\r\n", piece.len()).expect("chunk size");
        }
        tcp.write_all(piece).expect("piece");
        if chunked {
            tcp.write_all(b"\r\n").expect("chunk end");
        }
        tcp.flush().expect("flush");
        // The pause is what makes the pieces separate reads on the gateway's side.
        std::thread::sleep(Duration::from_millis(5));
    }
    if chunked {
        tcp.write_all(b"0\r\n\r\n").expect("last chunk");
    }
    let mut response = String::new();
    tcp.read_to_string(&mut response).expect("response");
    response
}
