//! Whole conversations translated and compared with the complete expected body, so any change in the
//! mapping shows up as a diff here.

use serde_json::json;

use super::{to_anthropic, to_openai_with};
use crate::translate::ToOpenAiOptions;

#[test]
fn claude_code_style_conversation_to_openai() {
    let req = json!({
        "model": "claude-opus-5-5",
        "max_tokens": 32000,
        "stream": true,
        "system": [
            { "type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.331; cc_entrypoint=cli;" },
            { "type": "text", "text": "You are Claude Code.", "cache_control": { "type": "ephemeral" } }
        ],
        "messages": [
            { "role": "user", "content": [
                { "type": "text", "text": "What is in this screenshot? Then list the dir." },
                { "type": "image", "source": { "type": "base64", "media_type": "image/png", "data": "iVBORw0K" } }
            ] },
            { "role": "assistant", "content": [
                { "type": "thinking", "thinking": "Look, then ls.", "signature": "EqQBCkYIB" },
                { "type": "text", "text": "A terminal. Listing now." },
                { "type": "tool_use", "id": "toolu_01", "name": "Bash", "input": { "command": "ls", "description": "List files" } },
                { "type": "tool_use", "id": "toolu_02", "name": "Read", "input": { "file_path": "/a.txt" } }
            ] },
            { "role": "user", "content": [
                { "type": "tool_result", "tool_use_id": "toolu_01", "content": "a.txt\nb.txt", "is_error": false },
                { "type": "tool_result", "tool_use_id": "toolu_02", "content": [{ "type": "text", "text": "No such file" }], "is_error": true, "cache_control": { "type": "ephemeral" } },
                { "type": "text", "text": "Thanks." }
            ] },
            { "role": "system", "content": "Reminder: be brief.", "output_config": { "effort": "low" } },
            { "role": "assistant", "content": [{ "type": "text", "text": "Done." }] },
            { "role": "user", "content": "bye" }
        ],
        "tools": [
            { "name": "Bash", "description": "Run", "input_schema": { "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                "properties": { "command": { "type": "string" }, "description": { "type": "string" } }, "required": ["command"], "additionalProperties": false } },
            { "name": "Read", "description": "Read", "input_schema": { "type": "object", "properties": { "file_path": { "type": "string" } } } },
            { "type": "web_search_20250305", "name": "web_search" }
        ],
        "tool_choice": { "type": "auto" },
        "thinking": { "type": "enabled", "budget_tokens": 31999 },
        "metadata": { "user_id": "user_42" },
        "context_management": { "edits": [{ "type": "clear_thinking_20251015", "keep": "all" }] }
    });
    let opts = ToOpenAiOptions {
        reasoning_effort: true,
        ..ToOpenAiOptions::new("qwen3-coder")
    };
    let (out, notes) = to_openai_with(req, &opts);
    let expected = json!({
        "model": "qwen3-coder",
        "max_tokens": 32000,
        "stream": true,
        "stream_options": { "include_usage": true },
        "user": "user_42",
        "reasoning_effort": "low",
        "tool_choice": "auto",
        "messages": [
            { "role": "system", "content": "You are Claude Code." },
            { "role": "user", "content": [
                { "type": "text", "text": "What is in this screenshot? Then list the dir." },
                { "type": "image_url", "image_url": { "url": "data:image/png;base64,iVBORw0K" } }
            ] },
            { "role": "assistant", "content": "A terminal. Listing now.", "tool_calls": [
                { "id": "toolu_01", "type": "function", "function": { "name": "Bash", "arguments": "{\"command\":\"ls\",\"description\":\"List files\"}" } },
                { "id": "toolu_02", "type": "function", "function": { "name": "Read", "arguments": "{\"file_path\":\"/a.txt\"}" } }
            ] },
            { "role": "tool", "tool_call_id": "toolu_01", "content": "a.txt\nb.txt" },
            { "role": "tool", "tool_call_id": "toolu_02", "content": "Error: No such file" },
            { "role": "user", "content": "Thanks." },
            { "role": "system", "content": "Reminder: be brief." },
            { "role": "assistant", "content": "Done." },
            { "role": "user", "content": "bye" }
        ],
        "tools": [
            { "type": "function", "function": { "name": "Bash", "description": "Run", "parameters": { "type": "object",
                "properties": { "command": { "type": "string" }, "description": { "type": "string" } }, "required": ["command"], "additionalProperties": false } } },
            { "type": "function", "function": { "name": "Read", "description": "Read", "parameters": { "type": "object", "properties": { "file_path": { "type": "string" } } } } }
        ]
    });
    assert_eq!(out, expected);
    assert_eq!(
        notes.dropped,
        [
            "billing_header",
            "cache_control",
            "thinking_blocks",
            "schema_keys",
            "server_tools",
            "context_management"
        ]
    );
    assert!(notes.degraded.is_empty());
}

#[test]
fn openai_sdk_conversation_to_anthropic() {
    let req = json!({
        "model": "claude-sonnet",
        "messages": [
            { "role": "system", "content": "You are helpful." },
            { "role": "user", "content": [
                { "type": "text", "text": "Weather here?" },
                { "type": "image_url", "image_url": { "url": "https://img.example/sky.jpg" } }
            ] },
            { "role": "assistant", "content": "Checking.", "tool_calls": [
                { "id": "call_1", "type": "function", "function": { "name": "weather", "arguments": "{\"city\":\"Oslo\"}" } }
            ] },
            { "role": "tool", "tool_call_id": "call_1", "content": "-3C" },
            { "role": "assistant", "content": "It's -3C." },
            { "role": "user", "content": "Thanks" }
        ],
        "tools": [{ "type": "function", "function": { "name": "weather", "parameters": { "type": "object", "properties": { "city": { "type": "string" } } } } }],
        "tool_choice": "auto",
        "max_completion_tokens": 1000,
        "stream": true,
        "stream_options": { "include_usage": true },
        "reasoning_effort": "low"
    });
    let (out, notes) = to_anthropic(req);
    let expected = json!({
        "model": "claude-up",
        "system": "You are helpful.",
        "max_tokens": 1000,
        "stream": true,
        "messages": [
            { "role": "user", "content": [
                { "type": "text", "text": "Weather here?" },
                { "type": "image", "source": { "type": "url", "url": "https://img.example/sky.jpg" } }
            ] },
            { "role": "assistant", "content": [
                { "type": "text", "text": "Checking." },
                { "type": "tool_use", "id": "call_1", "name": "weather", "input": { "city": "Oslo" } }
            ] },
            { "role": "user", "content": [{ "type": "tool_result", "tool_use_id": "call_1", "content": "-3C" }] },
            { "role": "assistant", "content": [{ "type": "text", "text": "It's -3C." }] },
            { "role": "user", "content": [{ "type": "text", "text": "Thanks" }] }
        ],
        "tools": [{ "name": "weather", "input_schema": { "type": "object", "properties": { "city": { "type": "string" } } } }],
        "tool_choice": { "type": "auto" }
    });
    // "low" is a 2048 budget, clamped to max_tokens - 1 = 999, under Anthropic's 1024 minimum: dropped.
    assert_eq!(out, expected);
    assert_eq!(notes.dropped, ["reasoning_effort"]);
}
