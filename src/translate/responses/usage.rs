//! Reading the token counts a Responses API provider reports — for the usage ledger on the native
//! pass-through path, where nothing is translated and the only usage is the provider's own: `usage` of a
//! JSON Response, or `response.usage` of the stream's terminal event (`response.completed`,
//! `response.incomplete`, `response.failed`).

use serde_json::Value;

use super::objects::ResponsesUsage;
use crate::translate::read::count;

/// Reads a Responses `usage` object (`input_tokens` includes the cached ones).
pub fn from_usage(u: &Value) -> Option<ResponsesUsage> {
    u.is_object().then(|| {
        ResponsesUsage::from_chat(
            count(u.get("input_tokens")),
            count(u.get("output_tokens")),
            count(u.pointer("/input_tokens_details/cached_tokens")),
            count(u.pointer("/output_tokens_details/reasoning_tokens")),
        )
    })
}

/// The usage of one stream event's data, when it is a terminal event that carries it.
pub fn from_stream_event(data: &str) -> Option<ResponsesUsage> {
    let v: Value = serde_json::from_str(data).ok()?;
    match v.get("type")?.as_str()? {
        "response.completed" | "response.incomplete" | "response.failed" => {
            from_usage(v.pointer("/response/usage")?)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_terminal_events() {
        let usage = serde_json::json!({"input_tokens": 100, "input_tokens_details": {"cached_tokens": 40}, "output_tokens": 30, "output_tokens_details": {"reasoning_tokens": 12}, "total_tokens": 130});
        let expected = ResponsesUsage {
            input_tokens: 100,
            cached_tokens: 40,
            output_tokens: 30,
            reasoning_tokens: 12,
        };
        assert_eq!(from_usage(&usage), Some(expected));
        let event = serde_json::json!({"type": "response.completed", "sequence_number": 9, "response": {"usage": usage}}).to_string();
        assert_eq!(from_stream_event(&event), Some(expected));
        assert_eq!(
            from_stream_event(r#"{"type":"response.output_text.delta","delta":"x"}"#),
            None
        );
        assert_eq!(
            from_stream_event(r#"{"type":"response.in_progress","response":{"usage":null}}"#),
            None
        );
        assert_eq!(from_stream_event("not json"), None);
        assert_eq!(
            expected.token_usage(true).input_tokens,
            60,
            "uncached input in the gateway's split"
        );
    }
}
