//! The Codex CLI (pinned, from npm) through the real gateway: `codex exec` completes a shell-tool round trip
//! — the model calls `exec_command`, Codex runs it, sends the `function_call_output` back, and the model
//! answers with it — natively to a Responses-API provider, and by translation to an Anthropic provider and
//! to an OpenAI-compatible chat-completions provider (all three the mock). On each path the usage ledger
//! records exactly the tokens (and the cost) the mock reported for Codex's two turns.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use std::collections::BTreeMap;

use common::usage::*;
use common::*;
use serde_json::Value;

const PROMPT: &str = "run: echo switchyard-codex-ok";

fn codex() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("bash")
        .arg(root.join("tests/codex_env.sh"))
        .status()
        .expect("run tests/codex_env.sh");
    assert!(
        status.success(),
        "could not install the pinned Codex CLI (tests/codex_env.sh)"
    );
    root.join("target/codex/node_modules/.bin/codex")
}

/// A throwaway CODEX_HOME whose config points Codex at the gateway: no retries (a failure shows at once),
/// no sandbox or approvals (`exec` runs unattended), no update check, analytics or telemetry.
fn codex_home(gw: &Gateway, dir: &Path) -> PathBuf {
    let home = dir.join(".codex");
    std::fs::create_dir_all(&home).unwrap();
    let config = format!(
        r#"model = "gpt-5-codex"
model_provider = "switchyard"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.switchyard]
name = "switchyard"
base_url = "{}/v1"
env_key = "SWITCHYARD_TEAM_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[otel]
exporter = "none"
"#,
        gw.base
    );
    std::fs::write(home.join("config.toml"), config).unwrap();
    home
}

/// Runs `codex exec PROMPT` with `model`; returns (exit ok, stdout, stderr).
fn run_codex(gw: &Gateway, model: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let home = codex_home(gw, dir.path());
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let mut cmd = Command::new(codex());
    cmd.args(["exec", "--skip-git-repo-check", "-m", model, PROMPT]);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("CODEX_HOME", &home)
        .env("SWITCHYARD_TEAM_KEY", TEAM_KEY)
        .current_dir(&work)
        .stdin(std::process::Stdio::null());
    run_client(cmd)
}

/// The mock, and a gateway with one provider of `kind` on it (`responses_api` for the native case).
fn setup(kind: &str, extra: &str, base_path: &str) -> (Mock, Gateway) {
    let mock = Mock::start(&[]);
    let providers = format!(
        "{}{extra}",
        provider_yaml(
            "up",
            kind,
            &format!("{}{base_path}", mock.url()),
            "sk-provider-codex-test"
        )
    );
    let ledger = "usage:\n  flush_interval_ms: 100\nlog:\n  requests: \"${SWITCHYARD_DATA_DIR}/requests.jsonl\"\n";
    let gw = Gateway::with_config(
        &(config(&providers, "  - { name: \"*\", targets: [\"up/*\"] }\n") + ledger),
    )
    .start();
    (mock, gw)
}

/// The request bodies the mock received on `path`, as sent and parsed.
fn bodies(mock: &Mock, path: &str) -> Vec<(String, Value)> {
    mock.received()
        .into_iter()
        .filter(|r| r["path"] == path)
        .map(|r| {
            let raw = r["body"].as_str().unwrap_or_default().to_owned();
            let parsed = serde_json::from_str(&raw).unwrap();
            (raw, parsed)
        })
        .collect()
}

/// Codex's last message is the mock's answer to the tool output, which carries the command's output.
fn assert_round_trip(ok: bool, stdout: &str, stderr: &str) {
    assert!(ok, "codex failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("Tool result received:") && stdout.contains("switchyard-codex-ok"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains("echo switchyard-codex-ok"),
        "Codex ran the command the model asked for:\n{stderr}"
    );
}

/// Sends a recorded request to the mock again, byte for byte: its replies depend only on the body, so this
/// shows what the first turn answered.
fn replay(mock: &Mock, path: &str, body: &str, auth: (&str, &str)) -> String {
    let request = client()
        .post(format!("{}{path}", mock.url()))
        .header(auth.0, auth.1)
        .header("content-type", "application/json");
    request
        .body(body.to_owned())
        .send()
        .and_then(|r| r.text())
        .unwrap()
}

/// The ledger after Codex's two turns on `model`: the tokens and cost the mock reported, two records of the
/// Responses endpoint and client format, and the tokens in the metrics. `cached` says whether the upstream
/// caches Codex's prompt (the OpenAI APIs do so automatically; Anthropic only at markers, which Codex does
/// not send), so the second turn's cache read must show up. Called before any replay, which the mock would
/// count too.
fn assert_ledger(gw: &Gateway, mock: &Mock, model: &str, rates: Rates, cached: bool) {
    wait_written(gw, 2);
    let reported = reported_usage(&[mock]);
    let ledger = assert_ledger_matches(gw, &reported, &BTreeMap::from([(model, rates)]));
    assert_eq!(ledger[0]["requests"], 2, "{ledger:?}");
    let totals = &reported[model];
    assert!(
        num(totals, "input_tokens") > 0 && num(totals, "output_tokens") > 0,
        "{totals}"
    );
    assert_eq!(
        num(totals, "cache_read_input_tokens") >= 1024,
        cached,
        "{totals}"
    );
    let log = request_log(gw);
    assert_eq!(log.len(), 2);
    for record in &log {
        assert_eq!(
            (
                record["endpoint"].as_str(),
                record["client_format"].as_str(),
                record["provider"].as_str(),
                record["upstream_model"].as_str(),
                record["partial"].as_bool(),
                record["stream"].as_bool(),
            ),
            (
                Some("responses"),
                Some("responses"),
                Some("up"),
                Some(model),
                Some(false),
                Some(true)
            ),
            "{record}"
        );
    }
    let by_endpoint = gw.usage_json("endpoint");
    assert_eq!(
        (by_endpoint.len(), &by_endpoint[0]["endpoint"]),
        (1, &Value::from("responses"))
    );
    let output = format!("switchyard_tokens_total{{kind=\"output\",model=\"{model}\",provider=\"up\",team=\"test-team\"}}");
    assert_eq!(
        gw.metric(&output),
        num(totals, "output_tokens") as f64,
        "{}",
        gw.metrics()
    );
}

fn requests_metric(gw: &Gateway) -> f64 {
    gw.metric("switchyard_requests_total{endpoint=\"responses\",provider=\"up\",status=\"200\"}")
}

#[test]
fn codex_round_trip_natively_to_a_responses_api_provider() {
    let (mock, gw) = setup("openai", "    responses_api: true\n", "/v1");
    let (ok, stdout, stderr) = run_codex(&gw, "gpt-5-codex");
    assert_round_trip(ok, &stdout, &stderr);
    assert_ledger(
        &gw,
        &mock,
        "gpt-5-codex",
        ["1.25", "10", "1.25", "1.25", "0.125"],
        true,
    );

    let turns = bodies(&mock, "/v1/responses");
    assert_eq!(
        turns.len(),
        2,
        "the first turn and the function_call_output turn"
    );
    let first_reply = replay(
        &mock,
        "/v1/responses",
        &turns[0].0,
        ("authorization", "Bearer sk-provider-codex-test"),
    );
    let call = sse_events(&first_reply)
        .into_iter()
        .map(|(_, e)| e)
        .find(|e| e["type"] == "response.output_item.done" && e["item"]["type"] == "function_call")
        .expect("the first turn called a tool");
    assert_eq!(call["item"]["name"], "exec_command");
    let input = turns[1].1["input"].as_array().unwrap();
    let output = input
        .iter()
        .find(|i| i["type"] == "function_call_output")
        .expect("a function_call_output reached the provider");
    assert_eq!(output["call_id"], call["item"]["call_id"]);
    assert!(
        output["output"].to_string().contains("switchyard-codex-ok"),
        "{output}"
    );
    assert!(input
        .iter()
        .any(|i| i["type"] == "function_call" && i["call_id"] == call["item"]["call_id"]));
    assert_eq!(
        turns[1].1["tools"], turns[0].1["tools"],
        "native: the body goes through untouched"
    );
    assert_eq!(requests_metric(&gw), 2.0);
}

#[test]
fn codex_round_trip_to_an_anthropic_provider_by_translation() {
    let (mock, gw) = setup("anthropic", "", "");
    let (ok, stdout, stderr) = run_codex(&gw, "claude-sonnet-4-5");
    assert_round_trip(ok, &stdout, &stderr);
    assert_ledger(
        &gw,
        &mock,
        "claude-sonnet-4-5",
        ["3", "15", "3.75", "6", "0.30"],
        false,
    );

    let turns = bodies(&mock, "/v1/messages");
    assert_eq!(turns.len(), 2, "the first turn and the tool result turn");
    assert_eq!(turns[0].1["model"], "claude-sonnet-4-5");
    let first_reply = replay(
        &mock,
        "/v1/messages",
        &turns[0].0,
        ("x-api-key", "sk-provider-codex-test"),
    );
    let tool_use = sse_events(&first_reply)
        .into_iter()
        .map(|(_, e)| e)
        .find(|e| e["content_block"]["type"] == "tool_use")
        .expect("the first turn called a tool");
    let id = &tool_use["content_block"]["id"];
    let messages = turns[1].1["messages"].as_array().unwrap();
    let result = messages
        .iter()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .find(|b| b["type"] == "tool_result")
        .expect("a tool_result reached the provider");
    assert_eq!(&result["tool_use_id"], id);
    assert!(
        result["content"]
            .to_string()
            .contains("switchyard-codex-ok"),
        "{result}"
    );
    let tools: Vec<&str> = turns[0].1["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        tools.contains(&"exec_command") && tools.contains(&"multi_agent_v1__spawn_agent"),
        "{tools:?}"
    );
    assert_eq!(requests_metric(&gw), 2.0);
}

#[test]
fn codex_round_trip_to_a_chat_completions_provider_by_translation() {
    let (mock, gw) = setup("openai", "", "/v1");
    let (ok, stdout, stderr) = run_codex(&gw, "up/z-ai/glm-4.5-air");
    assert_round_trip(ok, &stdout, &stderr);
    assert_ledger(
        &gw,
        &mock,
        "z-ai/glm-4.5-air",
        ["0.20", "1.10", "0.20", "0.20", "0.03"],
        true,
    );

    let turns = bodies(&mock, "/v1/chat/completions");
    assert_eq!(turns.len(), 2, "the first turn and the tool result turn");
    assert_eq!(turns[0].1["model"], "z-ai/glm-4.5-air");
    let first_reply = replay(
        &mock,
        "/v1/chat/completions",
        &turns[0].0,
        ("authorization", "Bearer sk-provider-codex-test"),
    );
    let call = sse_events(&first_reply)
        .into_iter()
        .map(|(_, e)| e)
        .find_map(|e| {
            e["choices"][0]["delta"]["tool_calls"][0]["id"]
                .as_str()
                .map(str::to_owned)
        })
        .expect("the first turn called a tool");
    let messages = turns[1].1["messages"].as_array().unwrap();
    let tool = messages
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("a tool message reached the provider");
    assert_eq!(tool["tool_call_id"], call.as_str());
    assert!(
        tool["content"].to_string().contains("switchyard-codex-ok"),
        "{tool}"
    );
    let assistant = messages.iter().find(|m| m["role"] == "assistant").unwrap();
    assert_eq!(assistant["tool_calls"][0]["id"], call.as_str());
    assert_eq!(requests_metric(&gw), 2.0);
}
