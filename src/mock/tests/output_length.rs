//! Padded output over real HTTP: what a cost simulation asks the mock for (`x-mock-output-tokens`).

use serde_json::{json, Value};

use super::start_default;

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
