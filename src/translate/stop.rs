//! Why a generation stopped, in both vocabularies. Used by the response and the stream translators so the
//! two agree.

/// OpenAI `finish_reason` → Anthropic `stop_reason`. `had_tool_calls` fixes providers (Ollama, some Gemini
/// and vLLM setups) that answer `stop` although the message carries tool calls: Claude Code runs tools only
/// on `tool_use`.
pub(crate) fn anthropic_stop_reason(
    finish_reason: Option<&str>,
    had_tool_calls: bool,
    matched_stop: bool,
) -> &'static str {
    match finish_reason {
        Some("length") => "max_tokens",
        Some("tool_calls") | Some("function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ if had_tool_calls => "tool_use",
        _ if matched_stop => "stop_sequence",
        _ => "end_turn",
    }
}

/// Anthropic `stop_reason` → OpenAI `finish_reason`.
pub(crate) fn openai_finish_reason(stop_reason: Option<&str>) -> &'static str {
    match stop_reason {
        Some("max_tokens") | Some("model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ => "stop",
    }
}
