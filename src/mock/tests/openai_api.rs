//! The OpenAI Chat Completions endpoints end to end: JSON and SSE replies (with and without the usage chunk),
//! tool calls, tool results, reasoning, truncation, models, authentication and request errors.

use serde_json::{json, Value};

use super::{header, parse_sse, start, start_default};
use crate::mock::MockOptions;

fn hello() -> Value {
    json!({"model": "gpt-test", "messages": [{"role": "system", "content": "be nice"},
                                             {"role": "user", "content": "hello there"}]})
}

fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]},
                                         "days": {"type": "integer"}},
        "required": ["city", "unit", "days"]}}})
}

#[tokio::test]
async fn json_reply_is_realistic() {
    let mock = start_default().await;
    let body = hello();
    let response = mock.openai(&body, &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert!(header(&response, "x-request-id").starts_with("req_"));
    let text = response.text().await.expect("body");
    assert!(text.starts_with(r#"{"id":"chatcmpl-"#), "{text}");
    assert!(text.contains(r#","object":"chat.completion","created":"#));
    assert!(text.contains(r#","model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the switchyard mock (model gpt-test). You said: hello there","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":"#), "{text}");
    assert!(text.ends_with(r#""prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_mock"}"#), "{text}");
    let reply: Value = serde_json::from_str(&text).expect("json");
    let prompt = (body.to_string().len() as u64).div_ceil(4);
    assert_eq!(reply["usage"]["prompt_tokens"], json!(prompt));
    assert_eq!(reply["usage"]["completion_tokens"], json!(11));
    assert_eq!(reply["usage"]["total_tokens"], json!(prompt + 11));
}

#[tokio::test]
async fn sse_reply_with_usage_chunk_and_done() {
    let mock = start_default().await;
    let mut body = hello();
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let response = mock.openai(&body, &[("x-mock-chunks", "4")]).await;
    assert_eq!(header(&response, "content-type"), "text/event-stream; charset=utf-8");
    let text = response.text().await.expect("body");
    assert!(text.ends_with("data: [DONE]\n\n"));
    let events = parse_sse(&text);
    assert!(events.iter().all(|(name, _)| name.is_none()));
    let chunks: Vec<Value> = events
        .iter()
        .filter_map(|(_, d)| serde_json::from_str(d).ok())
        .collect();
    assert_eq!(chunks.len(), 1 + 4 + 1 + 1);
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(chunks[0]["object"], json!("chat.completion.chunk"));
    let streamed: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        streamed,
        "Hello from the switchyard mock (model gpt-test). You said: hello there"
    );
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], json!("stop"));
    assert_eq!(chunks[6]["choices"], json!([]));
    assert_eq!(chunks[6]["usage"]["completion_tokens"], json!(11));
    let ids: Vec<&Value> = chunks.iter().map(|c| &c["id"]).collect();
    assert!(ids.iter().all(|id| *id == ids[0]));

    body["stream_options"] = json!({"include_usage": false});
    let text = mock.openai(&body, &[]).await.text().await.expect("body");
    assert!(!text.contains("usage"));
}

#[tokio::test]
async fn forced_tool_call_in_json_and_sse() {
    let mock = start_default().await;
    let mut body = hello();
    body["tools"] = json!([weather_tool()]);
    body["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
    let reply: Value = mock.openai(&body, &[]).await.json().await.expect("json");
    let choice = &reply["choices"][0];
    assert_eq!(choice["finish_reason"], json!("tool_calls"));
    assert_eq!(choice["message"]["content"], json!("I'll use get_weather."));
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["type"], json!("function"));
    assert!(call["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("call_") && id.len() == 29));
    assert_eq!(call["function"]["name"], json!("get_weather"));
    assert_eq!(
        call["function"]["arguments"],
        json!(r#"{"city":"mock","days":1,"unit":"c"}"#)
    );

    body["stream"] = json!(true);
    let text = mock.openai(&body, &[]).await.text().await.expect("body");
    let chunks: Vec<Value> = parse_sse(&text)
        .iter()
        .filter_map(|(_, d)| serde_json::from_str(d).ok())
        .collect();
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    // The body differs from the non-streaming one (`stream`), so the call id differs too.
    let stream_id = calls[0]["id"].as_str().unwrap_or("");
    assert!(
        stream_id.starts_with("call_") && calls[0]["id"] != call["id"],
        "{stream_id}"
    );
    assert_eq!(
        calls[0],
        &json!({"index": 0, "id": stream_id, "type": "function",
                                 "function": {"name": "get_weather", "arguments": ""}})
    );
    assert!(calls.len() > 2);
    assert!(calls[1..]
        .iter()
        .all(|c| c.get("id").is_none() && c["index"] == json!(0)));
    let arguments: String = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    assert_eq!(arguments, r#"{"city":"mock","days":1,"unit":"c"}"#);
    assert_eq!(
        chunks.last().map(|c| &c["choices"][0]["finish_reason"]),
        Some(&json!("tool_calls"))
    );
}

#[tokio::test]
async fn tool_message_gets_acknowledged() {
    let mock = start_default().await;
    let body = json!({"model": "m", "tools": [weather_tool()], "messages": [
        {"role": "user", "content": "get_weather please"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"}]});
    let reply: Value = mock.openai(&body, &[]).await.json().await.expect("json");
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        json!("Tool result received: sunny, 21C")
    );
    assert!(reply["choices"][0]["message"].get("tool_calls").is_none());
}

#[tokio::test]
async fn reasoning_and_length() {
    let mock = start_default().await;
    let mut body = hello();
    body["reasoning_effort"] = json!("high");
    let reply: Value = mock.openai(&body, &[]).await.json().await.expect("json");
    assert_eq!(
        reply["choices"][0]["message"]["reasoning_content"],
        json!("Mock reasoning about: hello there")
    );
    assert_eq!(
        reply["usage"]["completion_tokens_details"]["reasoning_tokens"],
        json!(5)
    );

    body["stream"] = json!(true);
    let text = mock.openai(&body, &[]).await.text().await.expect("body");
    let chunks: Vec<Value> = parse_sse(&text)
        .iter()
        .filter_map(|(_, d)| serde_json::from_str(d).ok())
        .collect();
    let first_reasoning = chunks
        .iter()
        .position(|c| c["choices"][0]["delta"]["reasoning_content"].is_string());
    let first_content = chunks.iter().position(|c| {
        c["choices"][0]["delta"]["content"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    });
    assert!(first_reasoning.is_some() && first_reasoning < first_content);

    let mut body = hello();
    body["max_completion_tokens"] = json!(2);
    let reply: Value = mock.openai(&body, &[]).await.json().await.expect("json");
    assert_eq!(reply["choices"][0]["message"]["content"], json!("Hello from"));
    assert_eq!(reply["choices"][0]["finish_reason"], json!("length"));
}

#[tokio::test]
async fn authentication_models_and_errors() {
    let mock = start(MockOptions {
        require_key: Some("sk-right-key-123".to_owned()),
        ..MockOptions::default()
    })
    .await;
    let body = hello().to_string();
    let missing = mock
        .post(
            "/v1/chat/completions",
            &[("x-api-key", "sk-right-key-123")],
            body.clone(),
        )
        .await;
    assert_eq!(missing.status(), 401);
    let error: Value = missing.json().await.expect("json");
    assert_eq!(error["error"]["type"], json!("invalid_request_error"));
    assert_eq!(error["error"]["param"], Value::Null);
    assert!(error["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("You didn't provide an API key")));
    let wrong = mock
        .post(
            "/v1/chat/completions",
            &[("authorization", "Bearer sk-wrong-key-456")],
            body.clone(),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let error: Value = wrong.json().await.expect("json");
    assert_eq!(error["error"]["code"], json!("invalid_api_key"));
    assert!(
        !error["error"]["message"].as_str().unwrap_or("").contains("wrong-key"),
        "the key is masked"
    );
    let right = mock
        .post(
            "/v1/chat/completions",
            &[("authorization", "Bearer sk-right-key-123")],
            body,
        )
        .await;
    assert_eq!(right.status(), 200);

    let models = mock
        .client
        .get(mock.url("/v1/models"))
        .bearer_auth("sk-right-key-123")
        .send()
        .await
        .expect("send");
    assert_eq!(models.status(), 200);
    let list: Value = models.json().await.expect("json");
    assert_eq!(list["object"], json!("list"));
    let first = &list["data"][0];
    assert!(first["id"].is_string() && first["created"].is_u64() && first["owned_by"].is_string());
    assert_eq!(first["object"], json!("model"));

    let response = mock
        .post(
            "/v1/chat/completions",
            &[("authorization", "Bearer sk-right-key-123")],
            "[1,",
        )
        .await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["type"], json!("invalid_request_error"));
    assert!(error["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("could not parse the JSON body")));

    let response = mock.post("/v1/embeddings", &[], "{}").await;
    assert_eq!(response.status(), 404);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["message"], json!("Invalid URL (POST /v1/embeddings)"));
}
