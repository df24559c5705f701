//! Rate and concurrency limits through the real binary, counted in-process (one replica): requests
//! and tokens per minute, concurrency with slow streams, per team and per key, refused with 429 in
//! the caller's format (Anthropic, OpenAI chat, OpenAI Responses) with a `Retry-After` that the
//! message repeats; other teams are never affected.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::usage::{all_tokens, request_log, wait_written};
use common::*;
use serde_json::{json, Value};

/// One mock behind an Anthropic provider (`claude-*`) and an OpenAI one serving chat and Responses (`gpt-*`).
fn gateway(mock: &Mock, teams: &str) -> Gateway {
    let mut builder = Gateway::with_config(&gateway_config(mock, teams));
    for key in KEYS {
        builder = builder.env(key, &format!("{}-secret", key.to_lowercase()));
    }
    builder.start()
}

fn gateway_config(mock: &Mock, teams: &str) -> String {
    let providers = provider_yaml("anth", "anthropic", &mock.url(), "sk-ant-api03-limits")
        + &provider_yaml(
            "oai",
            "openai",
            &format!("{}/v1", mock.url()),
            "sk-proj-limits",
        )
        + "    responses_api: true\n";
    // The ledger writes quickly (tests wait for its records) and keeps the request log, one line each.
    format!(
        "server:\n  threads: 2\n  grace_period_seconds: 10\nproviders:\n{providers}models:\n  - {{ name: \"claude-*\", targets: [\"anth/*\"] }}\n  - {{ name: \"gpt-*\", targets: [\"oai/*\"] }}\nusage: {{ flush_interval_ms: 20 }}\nlog: {{ requests: \"${{SWITCHYARD_DATA_DIR}}/requests.jsonl\" }}\nteams:\n{teams}"
    )
}

/// The variable holding a team's key: `anthropic-json` → `ANTHROPIC_JSON_KEY`.
fn env_name(team: &str) -> String {
    format!("{}_KEY", team.to_uppercase().replace('-', "_"))
}

/// The team key variables every test gateway has (each holds `<name>-secret`).
const KEYS: [&str; 6] = [
    "RPM_KEY",
    "ALICE_KEY",
    "BOB_KEY",
    "FREE_KEY",
    "TPM_KEY",
    "SLOW_KEY",
];

fn key(name: &str) -> String {
    format!("{}-secret", name.to_lowercase())
}

/// A request in one of the three client formats, with `body_pad` extra bytes of prompt.
fn send(
    gw: &Gateway,
    format: &str,
    team_key: &str,
    pad: usize,
    headers: &[(&str, &str)],
) -> reqwest::blocking::Response {
    let text = format!("hello {}", "x".repeat(pad));
    let (path, body) = match format {
        "anthropic" => (
            "/v1/messages",
            json!({"model": "claude-haiku-4-5", "max_tokens": 20, "messages": [{"role": "user", "content": text}]}),
        ),
        "openai" => (
            "/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}),
        ),
        _ => ("/v1/responses", json!({"model": "gpt-5", "input": text})),
    };
    let mut request = client()
        .post(gw.url(path))
        .bearer_auth(team_key)
        .json(&body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().unwrap()
}

#[test]
fn requests_per_minute_per_team_and_per_key_in_every_format() {
    let mock = Mock::start(&[]);
    let teams = "
  - name: bursty
    keys: [{ env: RPM_KEY }]
    limits: { requests_per_minute: 3 }
  - name: people
    keys: [{ env: ALICE_KEY, name: alice, limits: { requests_per_minute: 2 } }, { env: BOB_KEY, name: bob }]
  - name: free
    keys: [{ env: FREE_KEY }]
";
    let gw = gateway(&mock, teams);
    // Three admitted across formats, then every format is refused, and refusals count nothing.
    for format in ["anthropic", "openai", "responses"] {
        assert_eq!(
            send(&gw, format, &key("RPM_KEY"), 0, &[]).status(),
            200,
            "{format}"
        );
    }
    for format in ["anthropic", "openai", "responses", "anthropic"] {
        let (retry, message) = refusal(send(&gw, format, &key("RPM_KEY"), 0, &[]), format);
        // Three in the current window: room for one more once the next window is a third in: 20–80 s.
        assert!((20..=80).contains(&retry), "Retry-After {retry}");
        assert!(
            message.starts_with("team `bursty` exceeded requests_per_minute (3); resets in "),
            "{message}"
        );
        let said: u64 = message
            .rsplit("resets in ")
            .next()
            .and_then(|s| s.trim_end_matches(" s").parse().ok())
            .unwrap();
        assert!(
            said.abs_diff(retry) <= 1,
            "the message and Retry-After agree: {said} vs {retry}"
        );
    }
    // Other teams are unaffected; a team without limits is never refused.
    for _ in 0..6 {
        assert_eq!(send(&gw, "openai", &key("FREE_KEY"), 0, &[]).status(), 200);
    }
    // A key's own limit: alice's third request is refused, her teammate bob goes on.
    for _ in 0..2 {
        assert_eq!(
            send(&gw, "anthropic", &key("ALICE_KEY"), 0, &[]).status(),
            200
        );
    }
    let (_, message) = refusal(
        send(&gw, "anthropic", &key("ALICE_KEY"), 0, &[]),
        "anthropic",
    );
    assert!(
        message.starts_with("key `alice` exceeded requests_per_minute (2)"),
        "{message}"
    );
    assert!(
        !message.contains("alice_key-secret"),
        "the key itself is never shown"
    );
    assert_eq!(
        send(&gw, "anthropic", &key("BOB_KEY"), 0, &[]).status(),
        200
    );

    let metrics = gw.metrics();
    let sample =
        |labels: &str| gw.metric(&format!("switchyard_limit_rejections_total{{{labels}}}"));
    assert_eq!(
        sample("limit=\"requests_per_minute\",scope=\"team\",team=\"bursty\""),
        4.0,
        "{metrics}"
    );
    assert_eq!(
        sample("limit=\"requests_per_minute\",scope=\"key\",team=\"people\""),
        1.0,
        "{metrics}"
    );
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("switchyard_limit_") && l.contains("team=\"free\"")),
        "unlimited traffic is not counted by limits"
    );
    assert_eq!(
        mock.received().len(),
        3 + 6 + 3,
        "refused requests never reached the provider"
    );
    // The ledger records refusals too: who was refused, by which key (its `name:`), and no usage.
    wait_written(&gw, 3 + 4 + 6 + 3 + 1);
    let log = request_log(&gw);
    let refused: Vec<&Value> = log.iter().filter(|r| r["status"] == 429).collect();
    assert_eq!(refused.len(), 4 + 1, "{log:?}");
    for record in &refused {
        assert_eq!(record["error_kind"], "limit_exceeded", "{record}");
        assert_eq!(
            (record["provider"].as_str(), record["attempts"].as_u64()),
            (Some(""), Some(0)),
            "{record}"
        );
        assert_eq!(record["cost_usd"].as_f64(), Some(0.0), "{record}");
        assert!(
            record["requested_model"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
                && record["rule"].as_str().is_some_and(|r| !r.is_empty()),
            "{record}"
        );
    }
    let alice = refused
        .iter()
        .find(|r| r["team"] == "people")
        .expect("alice's refusal");
    assert_eq!(
        alice["key_id"], "alice",
        "the key's name is its id in the ledger"
    );
    assert!(log
        .iter()
        .any(|r| r["team"] == "people" && r["key_id"] == "bob" && r["status"] == 200));
    assert!(
        !log.iter().any(|r| r.to_string().contains("-secret")),
        "no key in the ledger"
    );
}

#[test]
fn tokens_per_minute_are_estimated_before_and_corrected_after() {
    let mock = Mock::start(&[]);
    let teams = "
  - name: wordy
    keys: [{ env: TPM_KEY }]
    limits: { tokens_per_minute: 1000 }
  - name: free
    keys: [{ env: FREE_KEY }]
";
    let gw = gateway(&mock, teams);
    // ~2,400 bytes: estimated at ~600 tokens; the mock reports about as much input, and a few words out.
    assert_eq!(
        send(&gw, "anthropic", &key("TPM_KEY"), 2300, &[]).status(),
        200
    );
    let (retry, message) = refusal(
        send(&gw, "anthropic", &key("TPM_KEY"), 2300, &[]),
        "anthropic",
    );
    let estimate: u64 = message
        .strip_prefix(
            "team `wordy` exceeded tokens_per_minute (1000): this request is estimated at ",
        )
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{message}"));
    assert!(
        (580..=620).contains(&estimate),
        "4 bytes per token: {estimate}"
    );
    assert!((1..=120).contains(&retry), "{retry}");
    // A request larger than the whole limit can never pass: no Retry-After, and the message says so.
    let response = send(&gw, "openai", &key("TPM_KEY"), 8000, &[]);
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("retry-after").is_none());
    let body: Value = response.json().unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("this request alone is estimated at"),
        "{body}"
    );
    assert_eq!(
        send(&gw, "openai", &key("FREE_KEY"), 8000, &[]).status(),
        200,
        "other teams are unaffected"
    );
}

/// An Anthropic request body of exactly `len` bytes: estimated at `len / 4` tokens.
fn body_of_len(len: usize) -> String {
    let shell = json!({"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": ""}]}).to_string();
    shell.replace(
        "\"content\":\"\"",
        &format!("\"content\":\"{}\"", "x".repeat(len - shell.len())),
    )
}

/// One way a response can come back: the client's path and body, sent to a team of its own.
struct Shape {
    team: &'static str,
    path: &'static str,
    bodies: Vec<Value>,
    tokens_per_minute: u64,
}

/// Every input and output token the ledger recorded for `team`, and its cache reads.
fn ledger_tokens(gw: &Gateway, team: &str) -> (u64, u64) {
    let rows = gw.usage_json("team");
    let row = rows
        .iter()
        .find(|r| r["team"] == team)
        .unwrap_or_else(|| panic!("no {team} in {rows:?}"));
    let fields = [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
    ];
    (
        fields.iter().map(|f| row[*f].as_u64().unwrap()).sum(),
        row["cache_read_input_tokens"].as_u64().unwrap(),
    )
}

#[test]
fn every_response_corrects_its_estimate_to_the_usage_the_ledger_records() {
    let mock = Mock::start(&[]);
    let words = "w ".repeat(40);
    let anthropic = |model: &str, stream: bool| json!({"model": model, "max_tokens": 200, "stream": stream, "messages": [{"role": "user", "content": words}]});
    let chat = |model: &str, stream: bool| json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": words}]});
    let responses = |stream: bool| json!({"model": "gpt-5", "stream": stream, "input": words});
    // A system prompt long enough for the mock's prompt cache: written by the first request, read by the second.
    let cached = json!({"model": "claude-haiku-4-5", "max_tokens": 200, "system": [{"type": "text", "text": "s ".repeat(3000), "cache_control": {"type": "ephemeral"}}], "messages": [{"role": "user", "content": words}]});
    let shapes = [
        Shape {
            team: "anthropic-json",
            path: "/v1/messages",
            bodies: vec![anthropic("claude-haiku-4-5", false)],
            tokens_per_minute: 1000,
        },
        Shape {
            team: "anthropic-sse",
            path: "/v1/messages",
            bodies: vec![anthropic("claude-haiku-4-5", true)],
            tokens_per_minute: 1000,
        },
        Shape {
            team: "chat-json",
            path: "/v1/chat/completions",
            bodies: vec![chat("gpt-4o-mini", false)],
            tokens_per_minute: 1000,
        },
        // The client did not ask for usage: the gateway asks, reads it, and cuts it out of the stream.
        Shape {
            team: "chat-sse",
            path: "/v1/chat/completions",
            bodies: vec![chat("gpt-4o-mini", true)],
            tokens_per_minute: 1000,
        },
        Shape {
            team: "responses-json",
            path: "/v1/responses",
            bodies: vec![responses(false)],
            tokens_per_minute: 1000,
        },
        Shape {
            team: "responses-sse",
            path: "/v1/responses",
            bodies: vec![responses(true)],
            tokens_per_minute: 1000,
        },
        Shape {
            team: "translated-sse",
            path: "/v1/messages",
            bodies: vec![anthropic("gpt-4o-mini", true)],
            tokens_per_minute: 1000,
        },
        Shape {
            team: "translated-json",
            path: "/v1/chat/completions",
            bodies: vec![chat("claude-haiku-4-5", false)],
            tokens_per_minute: 1000,
        },
        Shape {
            team: "cached",
            path: "/v1/messages",
            bodies: vec![cached.clone(), cached],
            tokens_per_minute: 10_000,
        },
    ];
    let teams: String = shapes
        .iter()
        .map(|s| format!("  - {{ name: {0}, keys: [{{ env: {1} }}], limits: {{ tokens_per_minute: {2} }} }}\n", s.team, env_name(s.team), s.tokens_per_minute))
        .collect();
    let mut builder = Gateway::with_config(&gateway_config(&mock, &teams));
    for shape in &shapes {
        builder = builder.env(&env_name(shape.team), &format!("{}-secret", shape.team));
    }
    let gw = builder.start();

    let mut records = 0;
    for shape in &shapes {
        let team_key = format!("{}-secret", shape.team);
        let post = |path: &str, body: String| {
            client()
                .post(gw.url(path))
                .bearer_auth(&team_key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .unwrap()
        };
        let before = all_tokens(&mock);
        let mut estimated = 0;
        for body in &shape.bodies {
            let body = body.to_string();
            estimated += (body.len() as u64).div_ceil(4);
            let response = post(shape.path, body);
            assert_eq!(response.status(), 200, "{}", shape.team);
            response.text().unwrap();
        }
        // Each request is settled in `logging` just before its record is queued: once the ledger has it,
        // the window holds what it used.
        records += shape.bodies.len();
        wait_written(&gw, records);
        let used = all_tokens(&mock) - before;
        let (recorded, cache_read) = ledger_tokens(&gw, shape.team);
        assert_eq!(
            recorded, used,
            "{}: the ledger holds what the provider reported",
            shape.team
        );
        assert_ne!(
            used, estimated,
            "{}: the correction changes something",
            shape.team
        );
        if shape.team == "cached" {
            assert!(
                cache_read > 1000,
                "the second request read the cache: {cache_read}"
            );
        }
        // One token more than is left is refused (it would fit had the estimate stayed, or were cache
        // reads not counted); exactly what is left is admitted.
        let left = (shape.tokens_per_minute - used) as usize;
        let (_, message) = refusal(
            post("/v1/messages", body_of_len(4 * (left + 1))),
            "anthropic",
        );
        assert!(
            message.contains(&format!("this request is estimated at {} tokens", left + 1)),
            "{}: {message}",
            shape.team
        );
        assert_eq!(
            post("/v1/messages", body_of_len(4 * left)).status(),
            200,
            "{}",
            shape.team
        );
        records += 2;
    }
}

#[test]
fn max_concurrent_refuses_while_slow_streams_run_and_admits_when_they_end() {
    let mock = Mock::start(&[]);
    let teams = "
  - name: agents
    keys: [{ env: SLOW_KEY }]
    limits: { max_concurrent: 2 }
  - name: free
    keys: [{ env: FREE_KEY }]
";
    let gw = gateway(&mock, teams);
    let url = gw.url("/v1/chat/completions");
    let (started, started_rx) = mpsc::channel();
    let mut streams = Vec::new();
    for _ in 0..2 {
        let (url, started) = (url.clone(), started.clone());
        streams.push(std::thread::spawn(move || {
            let body = json!({"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "slow please"}]});
            let response = client().post(url).bearer_auth(key("SLOW_KEY")).header("x-mock-delay-ms", "250").json(&body).send().unwrap();
            let status = response.status().as_u16();
            started.send(status).unwrap();
            let text = response.text().unwrap();
            (status, text)
        }));
    }
    for _ in 0..2 {
        assert_eq!(
            started_rx.recv_timeout(Duration::from_secs(20)).unwrap(),
            200,
            "both streams admitted"
        );
    }
    // Both slots are held by streams under way: the third is refused in each format, shortly.
    for format in ["openai", "anthropic", "responses"] {
        let (retry, message) = refusal(send(&gw, format, &key("SLOW_KEY"), 0, &[]), format);
        assert_eq!(retry, 1);
        assert!(
            message.starts_with("team `agents` exceeded max_concurrent (2)"),
            "{message}"
        );
    }
    assert_eq!(
        send(&gw, "openai", &key("FREE_KEY"), 0, &[]).status(),
        200,
        "other teams are unaffected"
    );
    for stream in streams {
        let (status, text) = stream.join().unwrap();
        assert_eq!(status, 200);
        assert!(text.contains("[DONE]"), "the stream was not cut: {text}");
    }
    // Slots come back when the streams end (as `logging` runs, just after the last byte).
    let mut admitted = false;
    for _ in 0..100 {
        if send(&gw, "openai", &key("SLOW_KEY"), 0, &[]).status() == 200 {
            admitted = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(admitted, "a slot was free again after the streams ended");
    assert_eq!(gw.metric("switchyard_limit_rejections_total{limit=\"max_concurrent\",scope=\"team\",team=\"agents\"}"), 3.0);
}
