//! Every fault mode end to end, through the `x-mock-fault` header and through `MockOptions::fault`.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use serde_json::{json, Value};

use super::{header, parse_sse, read_until_error, start, start_default, Mock};
use crate::mock::{Fault, MockOptions};

fn anthropic_body(stream: bool) -> Value {
    json!({"model": "m", "max_tokens": 100, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

fn openai_body(stream: bool) -> Value {
    json!({"model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

async fn anthropic_fault(mock: &Mock, fault: &str, stream: bool) -> reqwest::Response {
    mock.anthropic(&anthropic_body(stream), &[("x-mock-fault", fault)])
        .await
}

async fn openai_fault(mock: &Mock, fault: &str, stream: bool) -> reqwest::Response {
    mock.openai(&openai_body(stream), &[("x-mock-fault", fault)]).await
}

#[tokio::test]
async fn status_faults_use_each_apis_error_format() {
    let mock = start_default().await;
    for code in [500u16, 502, 503] {
        let response = anthropic_fault(&mock, &format!("status:{code}"), true).await;
        assert_eq!(response.status().as_u16(), code);
        assert_eq!(header(&response, "x-should-retry"), "true");
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["type"], json!("error"));
        assert_eq!(error["error"]["type"], json!("api_error"));

        let response = openai_fault(&mock, &format!("status:{code}"), false).await;
        assert_eq!(response.status().as_u16(), code);
        let error: Value = response.json().await.expect("json");
        assert_eq!(error["error"]["type"], json!("server_error"));
        assert!(error["error"].get("param").is_some() && error["error"].get("code").is_some());
    }
    // Replacement faults come before authentication.
    let response = mock.post("/v1/messages", &[("x-mock-fault", "status:500")], "{}").await;
    assert_eq!(response.status(), 500);
}

#[tokio::test]
async fn overloaded_rate_limit_and_unauthorized() {
    let mock = start_default().await;
    let response = anthropic_fault(&mock, "overloaded", false).await;
    assert_eq!(response.status().as_u16(), 529);
    assert_eq!(
        response.json::<Value>().await.expect("json")["error"]["type"],
        json!("overloaded_error")
    );
    assert_eq!(openai_fault(&mock, "overloaded", false).await.status(), 503);

    let response = anthropic_fault(&mock, "rate_limit:7", false).await;
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "retry-after"), "7");
    assert_eq!(
        response.json::<Value>().await.expect("json")["error"]["type"],
        json!("rate_limit_error")
    );
    let response = openai_fault(&mock, "rate_limit:2", false).await;
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "retry-after"), "2");
    assert_eq!(
        response.json::<Value>().await.expect("json")["error"]["code"],
        json!("rate_limit_exceeded")
    );

    let response = anthropic_fault(&mock, "unauthorized", false).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.expect("json")["error"]["type"],
        json!("authentication_error")
    );
    let response = openai_fault(&mock, "unauthorized", false).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.expect("json")["error"]["code"],
        json!("invalid_api_key")
    );
}

#[tokio::test]
async fn hang_never_answers_and_hang_body_sends_only_headers() {
    let mock = start_default().await;
    let request = mock
        .client
        .post(mock.url("/v1/messages"))
        .header("x-api-key", "k")
        .header("x-mock-fault", "hang")
        .body(anthropic_body(false).to_string())
        .timeout(Duration::from_millis(200))
        .send();
    let result = request.await;
    assert!(
        result.as_ref().err().is_some_and(reqwest::Error::is_timeout),
        "{result:?}"
    );

    for stream in [true, false] {
        let response = anthropic_fault(&mock, "hang_body", stream).await;
        assert_eq!(response.status(), 200);
        let expected = if stream {
            "text/event-stream; charset=utf-8"
        } else {
            "application/json"
        };
        assert_eq!(header(&response, "content-type"), expected);
        let body = tokio::time::timeout(Duration::from_millis(150), read_until_error(response)).await;
        assert!(body.is_err(), "no body should arrive");
    }
    // The mock still serves other requests.
    assert_eq!(mock.anthropic(&anthropic_body(false), &[]).await.status(), 200);
}

#[tokio::test]
async fn drip_and_delay_pace_the_stream() {
    let mock = start_default().await;
    // One text delta: 7 Anthropic events, so 6 pauses.
    let started = Instant::now();
    let response = mock
        .anthropic(
            &anthropic_body(true),
            &[("x-mock-fault", "drip:30"), ("x-mock-chunks", "1")],
        )
        .await;
    let text = response.text().await.expect("body");
    assert_eq!(parse_sse(&text).len(), 7);
    assert!(
        started.elapsed() >= Duration::from_millis(180),
        "{:?}",
        started.elapsed()
    );

    let started = Instant::now();
    let response = mock
        .openai(&openai_body(true), &[("x-mock-delay-ms", "25"), ("x-mock-chunks", "2")])
        .await;
    let text = response.text().await.expect("body");
    assert_eq!(parse_sse(&text).len(), 5);
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );

    // A dripped JSON body arrives whole, in pieces.
    let started = Instant::now();
    let response = openai_fault(&mock, "drip:20", false).await;
    let reply: Value = response.json().await.expect("json");
    assert_eq!(reply["object"], json!("chat.completion"));
    assert!(
        started.elapsed() >= Duration::from_millis(140),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cut_stops_after_n_events_without_a_clean_end() {
    let mock = start_default().await;
    let response = anthropic_fault(&mock, "cut:3", true).await;
    assert_eq!(response.status(), 200);
    let (got, clean) = read_until_error(response).await;
    assert!(!clean, "the body must not end cleanly");
    let events = parse_sse(&got);
    assert_eq!(events.len(), 3, "{got}");
    assert_eq!(events[2].0.as_deref(), Some("content_block_start"));

    let response = openai_fault(&mock, "cut:2", true).await;
    let (got, clean) = read_until_error(response).await;
    assert!(!clean);
    assert_eq!(parse_sse(&got).len(), 2);

    let response = openai_fault(&mock, "cut:1", false).await;
    let length: usize = header(&response, "content-length").parse().expect("content-length");
    let (got, clean) = read_until_error(response).await;
    assert!(
        !clean && !got.is_empty() && got.len() < length,
        "{} of {length}",
        got.len()
    );
}

#[tokio::test]
async fn malformed_and_wrong_content_type() {
    let mock = start_default().await;
    for stream in [true, false] {
        let response = anthropic_fault(&mock, "malformed", stream).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), "application/json");
        let body = response.text().await.expect("body");
        assert!(body.starts_with("{\"id\":\"msg_01"), "{body}");
        assert!(serde_json::from_str::<Value>(&body).is_err());
    }
    let response = openai_fault(&mock, "wrong_content_type", false).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8");
    assert!(response.text().await.expect("body").starts_with("<!DOCTYPE html>"));
}

#[tokio::test]
async fn close_drops_the_connection_without_a_response() {
    let mock = start_default().await;
    let client = reqwest::Client::new();
    let result = client
        .post(mock.url("/v1/messages"))
        .header("x-api-key", "k")
        .header("x-mock-fault", "close")
        .body(anthropic_body(false).to_string())
        .send()
        .await;
    let err = result.expect_err("no response");
    assert!(!err.is_timeout(), "{err:?}");
    assert_eq!(mock.anthropic(&anthropic_body(false), &[]).await.status(), 200);
}

#[tokio::test]
async fn instance_fault_applies_to_every_request_but_stats() {
    let mock = start(MockOptions {
        fault: Some(Fault::Status(503)),
        ..MockOptions::default()
    })
    .await;
    assert_eq!(mock.anthropic(&anthropic_body(false), &[]).await.status(), 503);
    assert_eq!(mock.openai(&openai_body(true), &[]).await.status(), 503);
    let models = mock.client.get(mock.url("/v1/models")).send().await.expect("send");
    assert_eq!(models.status(), 503);
    // The header overrides the instance fault.
    let response = mock
        .anthropic(&anthropic_body(false), &[("x-mock-fault", "rate_limit:1")])
        .await;
    assert_eq!(response.status(), 429);
    assert_eq!(mock.stats().await.1, 4);
}

#[tokio::test]
async fn bad_overrides_are_explained() {
    let mock = start_default().await;
    let response = anthropic_fault(&mock, "explode", false).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("json");
    let message = error["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("x-mock-fault") && message.contains("rate_limit:<secs>"),
        "{message}"
    );
    let response = mock.anthropic(&anthropic_body(true), &[("x-mock-chunks", "0")]).await;
    assert_eq!(response.status(), 400);
    let response = mock.openai(&openai_body(true), &[("x-mock-delay-ms", "soon")]).await;
    assert_eq!(response.status(), 400);
}

/// A raw HTTP/1.1 request carrying `fault`, written to a fresh TCP connection.
async fn raw_request(mock: &Mock, fault: &str) -> TcpStream {
    let body = anthropic_body(false).to_string();
    let request = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: mock\r\nx-api-key: k\r\nx-mock-fault: {fault}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(mock.addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    stream
}

#[tokio::test]
async fn hang_holds_the_connection_until_the_client_leaves() {
    let mock = start_default().await;
    let mut stream = raw_request(&mock, "hang").await;
    let mut buf = [0u8; 256];
    let early = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await;
    assert!(early.is_err(), "nothing is sent while hanging");
    // The client goes away (half-closes); the mock lets go of the connection instead of leaking it.
    stream.shutdown().await.expect("shutdown");
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
}

#[tokio::test]
async fn close_sends_not_a_single_byte() {
    let mock = start_default().await;
    let mut stream = raw_request(&mock, "close").await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut got)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    assert!(got.is_empty());
}
