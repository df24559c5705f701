//! Rate and concurrency limits through the real binary, counted in-process (one replica): requests
//! and tokens per minute, concurrency with slow streams, per team and per key, refused with 429 in
//! the caller's format (Anthropic, OpenAI chat, OpenAI Responses) with a `Retry-After` that the
//! message repeats; other teams are never affected.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// One mock behind an Anthropic provider (`claude-*`) and an OpenAI one serving chat and Responses (`gpt-*`).
fn gateway(mock: &Mock, teams: &str) -> Gateway {
    let providers = provider_yaml("anth", "anthropic", &mock.url(), "sk-ant-api03-limits")
        + &provider_yaml(
            "oai",
            "openai",
            &format!("{}/v1", mock.url()),
            "sk-proj-limits",
        )
        + "    responses_api: true\n";
    let text = format!(
        "server:\n  threads: 2\n  grace_period_seconds: 10\nproviders:\n{providers}models:\n  - {{ name: \"claude-*\", targets: [\"anth/*\"] }}\n  - {{ name: \"gpt-*\", targets: [\"oai/*\"] }}\nteams:\n{teams}"
    );
    let mut builder = Gateway::with_config(&text);
    for key in [
        "RPM_KEY",
        "ALICE_KEY",
        "BOB_KEY",
        "FREE_KEY",
        "TPM_KEY",
        "SLOW_KEY",
    ] {
        builder = builder.env(key, &format!("{}-secret", key.to_lowercase()));
    }
    builder.start()
}

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

/// A 429's `Retry-After`, its error message, and its error body checked for the caller's format.
fn refusal(response: reqwest::blocking::Response, format: &str) -> (u64, String) {
    assert_eq!(response.status(), 429);
    let retry: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    let body: Value = response.json().unwrap();
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
    // ~2,400 bytes: estimated at ~600 tokens. Passed through (Anthropic to Anthropic), the estimate stays.
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

#[test]
fn a_translated_stream_corrects_its_estimate_with_the_usage_it_reported() {
    let mock = Mock::start(&[]);
    let teams =
        "  - name: wordy\n    keys: [{ env: TPM_KEY }]\n    limits: { tokens_per_minute: 1000 }\n";
    let gw = gateway(&mock, teams);
    let post = |body: String| {
        client()
            .post(gw.url("/v1/messages"))
            .header("x-api-key", key("TPM_KEY"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap()
    };
    // An Anthropic client on an OpenAI-compatible model: translated, and the stream reports its usage
    // (input: the translated body / 4; output: the words of the mock's answer), which the estimate
    // (the client's body / 4) could not know.
    let first = json!({"model": "gpt-4o-mini", "max_tokens": 200, "stream": true, "messages": [{"role": "user", "content": "w ".repeat(40)}]}).to_string();
    let estimated = (first.len() as u64).div_ceil(4);
    let response = post(first);
    assert_eq!(response.status(), 200);
    let events = sse_events(&response.text().unwrap());
    let output = events
        .iter()
        .find(|(name, _)| name == "message_delta")
        .and_then(|(_, data)| data["usage"]["output_tokens"].as_u64())
        .expect("usage");
    let upstream_body = mock
        .received()
        .last()
        .and_then(|r| r["body"].as_str().map(str::len))
        .expect("recorded");
    let used = (upstream_body as u64).div_ceil(4) + output;
    assert!(
        used > estimated + 20,
        "the answer adds output tokens: {used} vs {estimated}"
    );
    // The first request is settled in `logging`, which counts it in requests_total right after.
    let settled = || {
        gw.metric(
            "switchyard_requests_total{endpoint=\"messages\",provider=\"oai\",status=\"200\"}",
        ) >= 1.0
    };
    for _ in 0..100 {
        if settled() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(settled());
    // The window holds what it used, not what was estimated: one token more than is left is refused
    // (it would fit had the estimate stayed), exactly what is left is admitted.
    let left = (1000 - used) as usize;
    let (_, message) = refusal(post(body_of_len(4 * (left + 1))), "anthropic");
    assert!(
        message.contains(&format!("this request is estimated at {} tokens", left + 1)),
        "{message}"
    );
    assert_eq!(post(body_of_len(4 * left)).status(), 200);
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
