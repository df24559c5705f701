//! The count_tokens estimate.

use serde_json::json;

use crate::translate::estimate_input_tokens;
use crate::translate::tokens::{count_text_tokens, IMAGE_TOKENS, MESSAGE_OVERHEAD, TOOL_OVERHEAD};

#[test]
fn counts_text_with_o200k() {
    assert_eq!(count_text_tokens(""), 0);
    assert_eq!(count_text_tokens("hello world"), 2);
}

#[test]
fn estimate_covers_system_messages_and_tools() {
    let bare = json!({ "messages": [{ "role": "user", "content": "hello world" }] });
    assert_eq!(estimate_input_tokens(&bare), MESSAGE_OVERHEAD + 2);
    let full = json!({
        "system": [{ "type": "text", "text": "hello world" }],
        "messages": [
            { "role": "user", "content": [{ "type": "text", "text": "hello world" },
                { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": "AAAA" } }] },
            { "role": "assistant", "content": [{ "type": "tool_use", "id": "t", "name": "Bash", "input": { "command": "ls" } }] },
            { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "t", "content": "hello world" }] }
        ],
        "tools": [{ "name": "Bash", "description": "hello world", "input_schema": { "type": "object" } }]
    });
    let n = estimate_input_tokens(&full);
    let floor = 2 + 3 * MESSAGE_OVERHEAD + 2 + IMAGE_TOKENS + 2 + TOOL_OVERHEAD + 2;
    assert!(n > floor && n < floor + 40, "{n} vs {floor}");
    assert_eq!(estimate_input_tokens(&json!("not a request")), 0);
}
