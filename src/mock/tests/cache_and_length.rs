//! Prompt caching and padded output over real HTTP: what a cost simulation reads from the mock.

use serde_json::{json, Value};

use super::{fixture_dir, start, start_default};
use crate::mock::MockOptions;

/// Claude Code's first turn (a capture), then the same conversation one tool round later.
fn turns() -> (String, String) {
    let text = std::fs::read_to_string(fixture_dir().join("01-opus-stream-first-turn.json"))
        .expect("capture");
    let capture: Value = serde_json::from_str(&text).expect("json");
    let mut first = capture["body"].clone();
    first["stream"] = json!(false);
    let mut second = first.clone();
    let messages = second["messages"].as_array_mut().expect("messages");
    messages.push(json!({"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]}));
    messages.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "Cargo.toml\nsrc\n", "cache_control": {"type": "ephemeral"}}]}));
    (first.to_string(), second.to_string())
}

async fn usage(mock: &super::Mock, path: &str, body: &str, headers: &[(&str, &str)]) -> Value {
    let mut all = vec![("x-api-key", "k"), ("authorization", "Bearer k")];
    all.extend_from_slice(headers);
    let response = mock.post(path, &all, body.to_owned()).await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.expect("json")["usage"].clone()
}

#[tokio::test]
async fn a_conversation_reads_its_prefix_from_the_cache_when_caching_is_on() {
    let (first, second) = turns();
    let mock = start(MockOptions {
        prompt_cache: true,
        ..MockOptions::default()
    })
    .await;
    let u1 = usage(&mock, "/v1/messages", &first, &[]).await;
    let total1 = (first.len() as u64).div_ceil(4);
    assert_eq!(u1["cache_read_input_tokens"], json!(0));
    let written = u1["cache_creation_input_tokens"].as_u64().expect("written");
    assert!(
        written > 5_000,
        "the tools and system prompt are written: {u1}"
    );
    assert_eq!(
        u1["input_tokens"].as_u64().expect("input") + written,
        total1
    );
    let u2 = usage(&mock, "/v1/messages", &second, &[]).await;
    assert_eq!(
        u2["cache_read_input_tokens"].as_u64(),
        Some(written),
        "the second turn reads what the first wrote: {u2}"
    );
    let total2 = (second.len() as u64).div_ceil(4);
    let parts = [
        "input_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    ]
    .iter()
    .map(|k| u2[k].as_u64().expect("count"))
    .sum::<u64>();
    assert_eq!(parts, total2);
    // Off for one request by header; and off by default.
    let off = usage(
        &mock,
        "/v1/messages",
        &second,
        &[("x-mock-prompt-cache", "off")],
    )
    .await;
    assert_eq!(
        (
            off["cache_read_input_tokens"].as_u64(),
            off["input_tokens"].as_u64()
        ),
        (Some(0), Some(total2))
    );
    let plain = start_default().await;
    usage(&plain, "/v1/messages", &second, &[]).await;
    assert_eq!(
        usage(&plain, "/v1/messages", &second, &[]).await["cache_read_input_tokens"],
        json!(0)
    );
}

#[tokio::test]
async fn openai_requests_report_cached_tokens_within_prompt_tokens() {
    let mock = start(MockOptions {
        prompt_cache: true,
        ..MockOptions::default()
    })
    .await;
    let system = json!({"role": "system", "content": "You are a coding agent. ".repeat(500)});
    let one = json!({"model": "glm", "messages": [system, {"role": "user", "content": "fix it"}]})
        .to_string();
    let two = json!({"model": "glm", "messages": [system, {"role": "user", "content": "fix it"}, {"role": "assistant", "content": "done"}, {"role": "user", "content": "thanks"}]}).to_string();
    assert_eq!(
        usage(&mock, "/v1/chat/completions", &one, &[]).await["prompt_tokens_details"]
            ["cached_tokens"],
        json!(0)
    );
    let u = usage(&mock, "/v1/chat/completions", &two, &[]).await;
    let cached = u["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .expect("cached");
    assert!(
        cached >= 2_048
            && cached % 128 == 0
            && cached < u["prompt_tokens"].as_u64().expect("prompt"),
        "{u}"
    );
}

#[tokio::test]
async fn output_can_be_padded_to_a_length() {
    let mock = start_default().await;
    let body =
        json!({"model": "m", "max_tokens": 1000, "messages": [{"role": "user", "content": "hi"}]})
            .to_string();
    let response = mock
        .post(
            "/v1/messages",
            &[("x-api-key", "k"), ("x-mock-output-tokens", "300")],
            body,
        )
        .await;
    let reply: Value = response.json().await.expect("json");
    assert_eq!(reply["usage"]["output_tokens"], json!(300));
    assert_eq!(
        reply["content"][0]["text"]
            .as_str()
            .expect("text")
            .split_whitespace()
            .count(),
        300
    );
    let capped =
        json!({"model": "m", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]})
            .to_string();
    let reply: Value = mock
        .post(
            "/v1/messages",
            &[("x-api-key", "k"), ("x-mock-output-tokens", "300")],
            capped,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        reply["usage"]["output_tokens"],
        json!(50),
        "never past max_tokens"
    );
    let bad = mock
        .post(
            "/v1/messages",
            &[("x-api-key", "k"), ("x-mock-output-tokens", "lots")],
            "{}",
        )
        .await;
    assert_eq!(bad.status(), 400);
}
