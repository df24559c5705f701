//! The captured Codex CLI request (`tests/fixtures/codex/01-codex-exec-first-turn.json`) translated for both
//! other formats and compared with golden files, so any change in the mapping shows as a diff; plus the
//! structural rules the real APIs enforce. `SWITCHYARD_BLESS=1 cargo test --lib responses_golden` rewrites
//! the golden files after an intended change.

use std::path::PathBuf;

use serde_json::Value;

use super::json_of;
use crate::translate::responses::{
    responses_request_to_anthropic, responses_request_to_chat, Target,
};

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/codex/01-codex-exec-first-turn.json"
    );
    let capture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    capture["body"].clone()
}

/// Compares `got` (body and notes) with the golden file, or rewrites it when blessing.
fn golden(name: &str, got: &Value) {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/translate/tests/golden"
    ))
    .join(name);
    let pretty = serde_json::to_string_pretty(got).unwrap() + "\n";
    if std::env::var_os("SWITCHYARD_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &pretty).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (SWITCHYARD_BLESS=1 writes it)", path.display()));
    assert!(
        want == pretty,
        "{} differs from the translation; rerun with SWITCHYARD_BLESS=1 if the change is intended",
        path.display()
    );
}

fn names(tools: &Value, pointer: &str) -> Vec<String> {
    tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn codex_first_turn_to_chat_completions() {
    let t = responses_request_to_chat(
        &fixture(),
        "z-ai/glm-4.6",
        &Target::Chat {
            reasoning_effort: true,
            max_output_tokens: None,
            prompt_cache_key: false,
            gateway_cache_key: None,
        },
    )
    .unwrap();
    golden(
        "codex-first-turn.chat.json",
        &serde_json::json!({ "body": t.chat, "notes": t.notes.header_value() }),
    );
    let chat = &t.chat;
    let roles: Vec<&str> = chat["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["system", "user", "user"],
        "instructions and developer messages lead as one system message"
    );
    let tools = names(&chat["tools"], "/function/name");
    assert_eq!(
        tools.len(),
        12,
        "4 functions, 5 namespaced, 3 more functions: {tools:?}"
    );
    assert!(
        tools.iter().all(|n| n.len() <= 64
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')),
        "{tools:?}"
    );
    assert!(
        chat.get("reasoning_effort").is_none(),
        "Codex asked for a summary but no effort"
    );
    assert_eq!(chat["stream_options"]["include_usage"], true);
}

#[test]
fn codex_first_turn_to_anthropic() {
    let (t, shape) =
        responses_request_to_anthropic(&fixture(), "claude-sonnet-4-5", 32000).unwrap();
    let body = json_of(&t.body);
    golden(
        "codex-first-turn.anthropic.json",
        &serde_json::json!({ "body": body, "notes": t.notes.header_value() }),
    );
    assert!(body["system"]
        .as_str()
        .unwrap()
        .starts_with("You are a coding agent running in the Codex CLI"));
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(
        messages.first().unwrap()["role"],
        "user",
        "Anthropic conversations start with the user"
    );
    assert!(
        messages.windows(2).all(|w| w[0]["role"] != w[1]["role"]),
        "roles alternate"
    );
    assert_eq!(body["max_tokens"], 32000);
    let tools = names(&body["tools"], "/name");
    assert!(
        tools.contains(&"exec_command".to_owned())
            && tools.contains(&"multi_agent_v1__wait_agent".to_owned()),
        "{tools:?}"
    );
    assert_eq!(
        shape.names.split("multi_agent_v1__wait_agent"),
        (Some("multi_agent_v1"), "wait_agent")
    );
}
