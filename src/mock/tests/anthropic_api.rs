//! The Anthropic Messages endpoints end to end: JSON and SSE replies, tools, tool results, thinking, truncation,
//! count_tokens, models, authentication and request errors.

use serde_json::{json, Value};

use super::{header, sse_json, start, start_default};
use crate::mock::MockOptions;

fn hello() -> Value {
    json!({"model": "claude-test", "max_tokens": 100, "messages": [{"role": "user", "content": "hello there"}]})
}

fn bash_tool() -> Value {
    json!({"name": "Bash", "description": "Run a command",
           "input_schema": {"type": "object", "properties": {"command": {"type": "string"},
                                                             "timeout": {"type": "number"}},
                            "required": ["command"]}})
}

#[tokio::test]
async fn json_reply_is_realistic_and_deterministic() {
    let mock = start_default().await;
    let body = hello();
    let response = mock
        .post("/v1/messages?beta=true", &[("x-api-key", "k")], body.to_string())
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert!(header(&response, "request-id").starts_with("req_011C"));
    let first = response.bytes().await.expect("body");
    let second = mock.anthropic(&body, &[]).await.bytes().await.expect("body");
    assert_eq!(first, second, "same request, same reply");
    let reply: Value = serde_json::from_slice(&first).expect("json");
    let text = std::str::from_utf8(&first).expect("utf8");
    assert!(text.starts_with(r#"{"id":"msg_01"#), "{text}");
    assert!(text.contains(r#","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"Hello from the switchyard mock (model claude-test). You said: hello there"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":"#), "{text}");
    assert_eq!(reply["id"].as_str().map(str::len), Some(28));
    let len = body.to_string().len() as u64;
    assert_eq!(reply["usage"]["input_tokens"], json!(len.div_ceil(4)));
    assert_eq!(reply["usage"]["output_tokens"], json!(11));
}

#[tokio::test]
async fn sse_reply_streams_the_same_text() {
    let mock = start_default().await;
    let mut body = hello();
    body["stream"] = json!(true);
    let response = mock.anthropic(&body, &[("x-mock-chunks", "3")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "text/event-stream; charset=utf-8");
    let text = response.text().await.expect("body");
    let events = super::parse_sse(&text);
    let names: Vec<&str> = events.iter().filter_map(|(n, _)| n.as_deref()).collect();
    assert_eq!(
        names,
        vec![
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let data = sse_json(&text);
    assert_eq!(data[0]["message"]["stop_reason"], Value::Null);
    assert_eq!(data[0]["message"]["content"], json!([]));
    let streamed: String = data.iter().filter_map(|e| e["delta"]["text"].as_str()).collect();
    assert_eq!(
        streamed,
        "Hello from the switchyard mock (model claude-test). You said: hello there"
    );
    assert_eq!(
        data[7]["delta"],
        json!({"stop_reason": "end_turn", "stop_sequence": null})
    );
    assert_eq!(data[7]["usage"], json!({"output_tokens": 11}));
}

#[tokio::test]
async fn run_command_calls_bash_in_json_and_sse() {
    let mock = start_default().await;
    let mut body = json!({"model": "m", "max_tokens": 1000, "tools": [bash_tool()],
                          "messages": [{"role": "user", "content": [{"type": "text", "text": "please run: echo ok"}]}]});
    let reply: Value = mock.anthropic(&body, &[]).await.json().await.expect("json");
    assert_eq!(reply["stop_reason"], json!("tool_use"));
    assert_eq!(reply["content"][0], json!({"type": "text", "text": "I'll use Bash."}));
    let tool = &reply["content"][1];
    assert_eq!(tool["type"], json!("tool_use"));
    assert_eq!(tool["name"], json!("Bash"));
    assert_eq!(tool["input"], json!({"command": "echo ok", "description": "mock"}));
    let id = tool["id"].as_str().expect("id");
    assert!(id.starts_with("toolu_01") && id.len() == 30, "{id}");

    body["stream"] = json!(true);
    let text = mock.anthropic(&body, &[]).await.text().await.expect("body");
    let data = sse_json(&text);
    let start = data
        .iter()
        .find(|e| e["content_block"]["type"] == json!("tool_use"))
        .expect("tool block");
    assert_eq!(start["index"], json!(1));
    assert_eq!(start["content_block"]["input"], json!({}));
    let stream_id = start["content_block"]["id"].as_str().unwrap_or("");
    assert!(
        stream_id.starts_with("toolu_01") && stream_id != id,
        "ids follow the body, which now has stream"
    );
    let fragments: Vec<&str> = data
        .iter()
        .filter_map(|e| e["delta"]["partial_json"].as_str())
        .collect();
    assert!(fragments.len() > 2, "{fragments:?}");
    let input: Value = serde_json::from_str(&fragments.concat()).expect("arguments");
    assert_eq!(input, json!({"command": "echo ok", "description": "mock"}));
    assert!(text.contains(r#""delta":{"stop_reason":"tool_use","stop_sequence":null}"#));
}

#[tokio::test]
async fn tool_result_gets_acknowledged() {
    let mock = start_default().await;
    let body = json!({"model": "m", "max_tokens": 1000, "tools": [bash_tool()], "messages": [
        {"role": "user", "content": "run: echo ok"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_x", "name": "Bash",
                                           "input": {"command": "echo ok"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "ok\n",
                                      "is_error": false, "cache_control": {"type": "ephemeral"}}]}]});
    let reply: Value = mock.anthropic(&body, &[]).await.json().await.expect("json");
    assert_eq!(
        reply["content"],
        json!([{"type": "text", "text": "Tool result received: ok\n"}])
    );
    assert_eq!(reply["stop_reason"], json!("end_turn"));
}

#[tokio::test]
async fn thinking_comes_first_with_a_signature() {
    let mock = start_default().await;
    let mut body = hello();
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let reply: Value = mock.anthropic(&body, &[]).await.json().await.expect("json");
    assert_eq!(reply["content"][0]["type"], json!("thinking"));
    assert_eq!(
        reply["content"][0]["thinking"],
        json!("Mock reasoning about: hello there")
    );
    assert_eq!(reply["content"][0]["signature"].as_str().map(str::len), Some(128));
    assert_eq!(reply["content"][1]["type"], json!("text"));

    body["stream"] = json!(true);
    body["thinking"] = json!({"type": "adaptive", "display": "omitted"});
    let text = mock.anthropic(&body, &[]).await.text().await.expect("body");
    let data = sse_json(&text);
    assert_eq!(
        data[2]["content_block"],
        json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    let thinking: String = data.iter().filter_map(|e| e["delta"]["thinking"].as_str()).collect();
    assert_eq!(thinking, "Mock reasoning about: hello there");
    let signature = data
        .iter()
        .find(|e| e["delta"]["type"] == json!("signature_delta"))
        .expect("signature");
    assert_eq!(signature["index"], json!(0));
    let text_start = data
        .iter()
        .find(|e| e["content_block"]["type"] == json!("text"))
        .expect("text block");
    assert_eq!(text_start["index"], json!(1));
}

#[tokio::test]
async fn max_tokens_truncates() {
    let mock = start_default().await;
    let mut body = hello();
    body["max_tokens"] = json!(3);
    let reply: Value = mock.anthropic(&body, &[]).await.json().await.expect("json");
    assert_eq!(reply["content"][0]["text"], json!("Hello from the"));
    assert_eq!(reply["stop_reason"], json!("max_tokens"));
    assert_eq!(reply["usage"]["output_tokens"], json!(3));
}

#[tokio::test]
async fn count_tokens_and_models() {
    let mock = start_default().await;
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).to_string();
    let response = mock
        .post("/v1/messages/count_tokens", &[("x-api-key", "k")], body.clone())
        .await;
    assert_eq!(response.status(), 200);
    let count: Value = response.json().await.expect("json");
    assert_eq!(count, json!({"input_tokens": (body.len() as u64).div_ceil(4)}));

    let response = mock
        .client
        .get(mock.url("/v1/models?limit=1000"))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.expect("json");
    assert_eq!(list["has_more"], json!(false));
    assert_eq!(list["data"][0]["type"], json!("model"));
    assert!(list["data"][0]["display_name"].is_string() && list["data"][0]["created_at"].is_string());
    assert_eq!(list["first_id"], list["data"][0]["id"]);
}

#[tokio::test]
async fn authentication_errors_look_real() {
    let mock = start(MockOptions {
        require_key: Some("right".to_owned()),
        ..MockOptions::default()
    })
    .await;
    let body = hello().to_string();
    let missing = mock.post("/v1/messages", &[], body.clone()).await;
    assert_eq!(missing.status(), 401);
    assert!(header(&missing, "request-id").starts_with("req_"));
    let error: Value = missing.json().await.expect("json");
    assert_eq!(error["type"], json!("error"));
    assert_eq!(
        error["error"],
        json!({"type": "authentication_error", "message": "x-api-key header is required"})
    );
    assert!(error["request_id"].as_str().is_some_and(|id| id.starts_with("req_")));
    let wrong = mock.post("/v1/messages", &[("x-api-key", "wrong")], body.clone()).await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        wrong.json::<Value>().await.expect("json")["error"]["message"],
        json!("invalid x-api-key")
    );
    assert_eq!(
        mock.post("/v1/messages", &[("x-api-key", "right")], body.clone())
            .await
            .status(),
        200
    );
    assert_eq!(
        mock.post("/v1/messages", &[("authorization", "Bearer right")], body)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn bad_requests_and_unknown_paths() {
    let mock = start_default().await;
    let response = mock.post("/v1/messages", &[("x-api-key", "k")], "{not json").await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["type"], json!("invalid_request_error"));

    let response = mock.anthropic(&json!({"model": "m", "messages": []}), &[]).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.expect("json")["error"]["message"],
        json!("max_tokens: Field required")
    );

    let response = mock
        .post("/v1/nothing", &[("anthropic-version", "2023-06-01")], "{}")
        .await;
    assert_eq!(response.status(), 404);
    let error: Value = response.json().await.expect("json");
    assert_eq!(
        error["error"],
        json!({"type": "not_found_error", "message": "Not Found"})
    );
    let response = mock.client.get(mock.url("/v1/messages")).send().await.expect("send");
    assert_eq!(response.status(), 404);
    assert_eq!(response.json::<Value>().await.expect("json")["type"], json!("error"));
}
