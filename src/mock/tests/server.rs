//! The server as a whole: connection and request counting, recording, the real Claude Code fixtures, the
//! background runner, and survival of hostile bodies.

use serde_json::{json, Value};

use super::{fixture_dir, sse_json, start, start_default};
use crate::mock::{spawn_background, MockOptions};

#[tokio::test]
async fn stats_count_connections_and_requests() {
    let mock = start_default().await;
    let body = json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
    for _ in 0..3 {
        assert_eq!(mock.anthropic(&body, &[]).await.status(), 200);
    }
    // One pooled client connection for three requests, plus the stats request's own connection.
    assert_eq!(mock.stats().await, (2, 3));
    let other = reqwest::Client::new();
    let response = other
        .post(mock.url("/v1/messages"))
        .header("x-api-key", "k")
        .body(body.to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(mock.stats().await, (4, 4));
}

#[tokio::test]
async fn recording_keeps_paths_headers_and_bodies_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("requests.jsonl");
    let mock = start(MockOptions {
        record: Some(path.clone()),
        ..MockOptions::default()
    })
    .await;
    let body = r#"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"héllo \"quoted\""}]}"#;
    let headers = [
        ("x-api-key", "team-key-abc123"),
        ("anthropic-beta", "a,b"),
        ("x-custom", "1"),
    ];
    let response = mock.post("/v1/messages?beta=true", &headers, body).await;
    assert_eq!(response.status(), 200);
    let response = mock
        .post("/v1/chat/completions", &[("authorization", "Bearer sk-x")], "not json")
        .await;
    assert_eq!(response.status(), 400);
    mock.stats().await;

    let text = std::fs::read_to_string(&path).expect("record file");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2, "stats requests are not recorded");
    assert_eq!(lines[0]["method"], json!("POST"));
    assert_eq!(lines[0]["path"], json!("/v1/messages?beta=true"));
    assert_eq!(lines[0]["body"], json!(body));
    let headers: Vec<(String, String)> = serde_json::from_value(lines[0]["headers"].clone()).expect("pairs");
    let position = |name: &str| headers.iter().position(|(n, _)| n == name);
    assert!(headers.contains(&("x-api-key".to_owned(), "team-key-abc123".to_owned())));
    assert!(position("x-api-key") < position("anthropic-beta") && position("anthropic-beta") < position("x-custom"));
    assert_eq!(lines[1]["body"], json!("not json"));
    assert_eq!(lines[1]["path"], json!("/v1/chat/completions"));
}

#[tokio::test]
async fn claude_code_fixtures_replay() {
    let mock = start_default().await;
    let mut files: Vec<_> = std::fs::read_dir(fixture_dir())
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "{files:?}");
    for file in files {
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
        let mut body = fixture["body"].clone();
        for stream in [true, false] {
            body["stream"] = json!(stream);
            let path = fixture["path"].as_str().expect("path");
            let mut request = mock.client.post(mock.url(path)).body(body.to_string());
            for (key, value) in fixture["headers"].as_object().expect("headers") {
                let skip = ["content-length", "connection", "host", "accept-encoding"];
                if !skip.contains(&key.to_ascii_lowercase().as_str()) {
                    request = request.header(key, value.as_str().expect("header value"));
                }
            }
            let response = request.send().await.expect("send");
            assert_eq!(response.status(), 200, "{name}");
            let text = response.text().await.expect("body");
            let (blocks, content): (Vec<Value>, String) = if stream {
                let events = sse_json(&text);
                let blocks = events.iter().filter_map(|e| e.get("content_block").cloned()).collect();
                let text = events.iter().filter_map(|e| e["delta"]["text"].as_str()).collect();
                (blocks, text)
            } else {
                let reply: Value = serde_json::from_str(&text).expect("reply");
                let blocks = reply["content"].as_array().cloned().unwrap_or_default();
                let text = blocks.iter().filter_map(|b| b["text"].as_str()).collect();
                (blocks, text)
            };
            // Every fixture asks for thinking (adaptive or enabled).
            assert_eq!(blocks[0]["type"], json!("thinking"), "{name}");
            let model = body["model"].as_str().expect("model");
            let expected = if name.starts_with("02") {
                "Tool result received: switchyard-tool-ok".to_owned()
            } else {
                format!("Hello from the switchyard mock (model {model}). You said: say hi")
            };
            assert_eq!(content, expected, "{name}");
        }
    }
}

#[tokio::test]
async fn claude_code_round_trip_with_bash() {
    let mock = start_default().await;
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_dir().join("01-opus-stream-first-turn.json")).expect("read"),
    )
    .expect("json");
    let mut body = fixture["body"].clone();
    let last = body["messages"][0]["content"]
        .as_array_mut()
        .and_then(|b| b.last_mut())
        .expect("text block");
    last["text"] = json!("run: echo switchyard-tool-ok");
    let text = mock.anthropic(&body, &[]).await.text().await.expect("body");
    let events = sse_json(&text);
    let tool = events
        .iter()
        .find(|e| e["content_block"]["type"] == json!("tool_use"))
        .expect("tool_use");
    assert_eq!(tool["content_block"]["name"], json!("Bash"));
    let input: String = events
        .iter()
        .filter_map(|e| e["delta"]["partial_json"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&input).expect("input"),
        json!({"command": "echo switchyard-tool-ok", "description": "mock"})
    );
}

#[test]
fn spawn_background_serves_on_its_own_runtime() {
    let addr = spawn_background(([127, 0, 0, 1], 0).into(), MockOptions::default()).expect("spawn");
    assert_ne!(addr.port(), 0);
    let client = reqwest::blocking::Client::new();
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let reply: Value = client
        .post(format!("http://{addr}/v1/chat/completions"))
        .bearer_auth("k")
        .body(body.to_string())
        .send()
        .expect("send")
        .json()
        .expect("json");
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        json!("Hello from the switchyard mock (model m). You said: hi")
    );
    let bad = spawn_background(addr, MockOptions::default());
    assert!(bad.is_err(), "the port is taken");
}

#[tokio::test]
async fn hostile_bodies_never_break_the_server() {
    let mock = start_default().await;
    let mut deep = String::new();
    for _ in 0..5000 {
        deep.push('[');
    }
    let mut bodies: Vec<String> = vec![
        String::new(),
        "null".into(),
        "[]".into(),
        "\"x\"".into(),
        deep,
        "{\"model\":".into(),
        String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x7b]).into_owned(),
    ];
    let odd_fields = [
        json!({"messages": 1}),
        json!({"messages": [1, null, "x"]}),
        json!({"messages": [{"role": "user"}]}),
        json!({"messages": [{"role": "user", "content": 5}]}),
        json!({"messages": [{"role": "user", "content": [1, {"type": "text"}, {"type": "tool_result", "content": 3}]}]}),
        json!({"messages": [{"role": "tool"}]}),
        json!({"messages": [{"role": "user", "content": "run:"}],
                                                      "tools": [{"name": "Bash"}], "tool_choice": "any"}),
        json!({"messages": [{"role": "user", "content": "x"}], "tools": "nope", "tool_choice": {"type": "tool"}}),
        json!({"messages": [{"role": "user", "content": "Bash"}], "tools": [{"name": "Bash", "input_schema": 3,
               "function": {"name": 1}}], "thinking": "yes", "reasoning": [], "stream_options": 1}),
        json!({"messages": [], "max_tokens": -1}),
        json!({"messages": [], "max_tokens": 1e300}),
        json!({"messages": [], "stream": "yes", "max_tokens": 1}),
        json!({"messages": [{"role": "user", "content": "ü".repeat(5000)}], "max_tokens": 1}),
    ];
    for mut value in odd_fields {
        value["model"] = json!("m");
        if value.get("max_tokens").is_none() {
            value["max_tokens"] = json!(50);
        }
        bodies.push(value.to_string());
    }
    for body in bodies {
        for (path, stream_header) in [
            ("/v1/messages", "x-api-key"),
            ("/v1/chat/completions", "authorization"),
            ("/v1/messages/count_tokens", "x-api-key"),
        ] {
            let response = mock.post(path, &[(stream_header, "Bearer k")], body.clone()).await;
            let status = response.status().as_u16();
            assert!(status == 200 || status == 400, "{path} {body:.80}: {status}");
            let _ = response.bytes().await.expect("body");
        }
    }
    // Every hostile body was answered on the one pooled connection (the other is the stats query's own).
    assert_eq!(mock.stats().await.0, 2);
}

#[tokio::test]
async fn a_client_leaving_mid_stream_shows_in_stats() {
    let mock = start_default().await;
    let body = json!({"model": "m", "max_tokens": 10, "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let mut response = mock.anthropic(&body, &[("x-mock-delay-ms", "100")]).await;
    assert!(response.chunk().await.expect("first chunk").is_some());
    drop(response);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let stats: Value = reqwest::get(mock.url("/mock/stats"))
            .await
            .expect("stats")
            .json()
            .await
            .expect("json");
        if stats["aborted_streams"] == json!(1) && stats["open_connections"] == json!(0) {
            assert_eq!(stats["requests"], json!(1));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the abandoned stream is still counted as open: {stats}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A stream read to its end is not an abort, nor is an injected cut.
    mock.anthropic(&body, &[]).await.text().await.expect("body");
    let _ = mock.anthropic(&body, &[("x-mock-fault", "cut:2")]).await.text().await;
    let stats: Value = reqwest::get(mock.url("/mock/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["aborted_streams"], json!(1), "{stats}");
}
