//! Upstream error bodies re-expressed in the caller's format.

use serde_json::json;

use super::json_of;
use crate::translate::upstream_error::{anthropic_error_body, openai_error_body};
use crate::translate::{upstream_error_to_anthropic, upstream_error_to_openai};

const OPENAI_BODY: &[u8] = br#"{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;

#[test]
fn status_to_anthropic_type_table() {
    let cases = [
        (400, 400, "invalid_request_error"),
        (422, 422, "invalid_request_error"),
        (401, 401, "authentication_error"),
        (402, 402, "billing_error"),
        (403, 403, "permission_error"),
        (404, 404, "not_found_error"),
        (409, 409, "invalid_request_error"),
        (413, 413, "request_too_large"),
        (429, 429, "rate_limit_error"),
        (500, 500, "api_error"),
        (502, 502, "api_error"),
        (503, 529, "overloaded_error"),
        (529, 529, "overloaded_error"),
        (200, 502, "api_error"),
    ];
    for (status, out_status, kind) in cases {
        let (s, body) = upstream_error_to_anthropic(status, OPENAI_BODY);
        let v = json_of(&body);
        assert_eq!(
            (s, v["error"]["type"].as_str().unwrap()),
            (out_status, kind),
            "status {status}"
        );
        assert_eq!(v["type"], "error");
        assert_eq!(
            v["error"]["message"],
            "upstream (OpenAI-compatible) error: Rate limit reached for gpt-4o"
        );
    }
}

#[test]
fn status_to_openai_type_table() {
    let anthropic_body =
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    for (status, out_status, kind) in [
        (400, 400, "invalid_request_error"),
        (401, 401, "authentication_error"),
        (403, 403, "permission_error"),
        (404, 404, "not_found_error"),
        (429, 429, "rate_limit_error"),
        (500, 500, "server_error"),
        (529, 503, "server_error"),
        (503, 503, "server_error"),
    ] {
        let (s, body) = upstream_error_to_openai(status, anthropic_body);
        let v = json_of(&body);
        assert_eq!(
            (s, v["error"]["type"].as_str().unwrap()),
            (out_status, kind),
            "status {status}"
        );
        assert_eq!(
            v["error"]["message"],
            "upstream (Anthropic) error: Overloaded"
        );
        assert_eq!(v["error"]["code"], "overloaded_error");
    }
}

#[test]
fn anthropic_caller_keeps_an_anthropic_upstream_type() {
    let body =
        br#"{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}"#;
    let (s, out) = upstream_error_to_anthropic(404, body);
    assert_eq!(s, 404);
    assert_eq!(
        json_of(&out)["error"],
        json!({ "type": "not_found_error", "message": "upstream (Anthropic) error: model: claude-x" })
    );
}

#[test]
fn odd_bodies_keep_their_message() {
    let (s, out) = upstream_error_to_anthropic(502, b"<html>\n<body>Bad   Gateway</body></html>");
    assert_eq!(s, 502);
    assert_eq!(
        json_of(&out)["error"]["message"],
        "upstream error: upstream returned HTTP 502: <html> <body>Bad Gateway</body></html>"
    );
    let (_, out) = upstream_error_to_openai(500, b"");
    assert_eq!(
        json_of(&out)["error"]["message"],
        "upstream error: upstream returned HTTP 500 with an empty body"
    );
    let (s, out) = upstream_error_to_anthropic(404, br#"{"error":"model 'qwen3' not found"}"#);
    assert_eq!(
        (s, json_of(&out)["error"]["message"].as_str().unwrap()),
        (404, "upstream error: model 'qwen3' not found")
    );
    let (_, out) = upstream_error_to_anthropic(422, br#"{"detail":"messages: field required"}"#);
    assert_eq!(
        json_of(&out)["error"]["message"],
        "upstream error: messages: field required"
    );
    let long = vec![b'x'; 5000];
    let (_, out) = upstream_error_to_openai(500, &long);
    assert!(json_of(&out)["error"]["message"].as_str().unwrap().len() < 600);
}

#[test]
fn openrouter_error_in_a_200_uses_its_code() {
    let (s, out) = upstream_error_to_anthropic(
        200,
        br#"{"error":{"message":"Provider returned error","code":429,"metadata":{}}}"#,
    );
    assert_eq!(s, 429);
    assert_eq!(json_of(&out)["error"]["type"], "rate_limit_error");
}

#[test]
fn gateway_error_bodies() {
    assert_eq!(
        json_of(&anthropic_error_body("invalid_request_error", "bad")),
        json!({ "type": "error", "error": { "type": "invalid_request_error", "message": "bad" } })
    );
    assert_eq!(
        json_of(&openai_error_body("invalid_request_error", "bad"))["error"]["message"],
        "bad"
    );
}
