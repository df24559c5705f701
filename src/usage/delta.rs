//! A cheap read of the text a streamed delta carries. The extractor counts streamed text only for the
//! record of a stream that is cut before the provider reports its output, yet it has to read every delta
//! to have it: parsing each one as JSON was the extractor's whole per-event cost on a pass-through stream.
//! Providers send deltas in one fixed shape, so that shape is matched here with a few byte comparisons
//! and one `memchr`; anything else (other fields, other key order, whitespace) gets `None`, and the
//! caller parses the event as before. Either way the text counted is the same.

use std::borrow::Cow;

/// The text of an Anthropic `content_block_delta` event's data in the API's own shape,
/// `{"type":"content_block_delta","index":N,"delta":{"type":"<kind>_delta","<field>":"…"}}` —
/// the `text`, `thinking` or `partial_json` string (empty for a `signature_delta`).
pub(crate) fn anthropic(data: &[u8]) -> Option<Cow<'_, str>> {
    let rest = data.strip_prefix(br#"{"type":"content_block_delta","index":"#)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = rest[digits..].strip_prefix(br#","delta":{"type":""#)?;
    let (counted, rest) = [
        (true, &br#"text_delta","text":""#[..]),
        (true, br#"thinking_delta","thinking":""#),
        (true, br#"input_json_delta","partial_json":""#),
        (false, br#"signature_delta","signature":""#),
    ]
    .into_iter()
    .find_map(|(counted, shape)| rest.strip_prefix(shape).map(|rest| (counted, rest)))?;
    let text = string_then(rest, b"}}")?;
    if counted {
        Some(text)
    } else {
        Some(Cow::Borrowed(""))
    }
}

/// The text of an OpenAI chat completion chunk whose first choice's delta is `{"content":"…"}` and
/// which carries no usage: a chunk with anything else in its delta (role, reasoning, tool calls,
/// refusal) or with a `usage` object gets `None`.
pub(crate) fn openai(data: &[u8]) -> Option<Cow<'_, str>> {
    if memchr::memmem::find(data, br#""usage":{"#).is_some() {
        return None;
    }
    let at = memchr::memmem::find(data, br#""delta":{"content":""#)?;
    string_then(&data[at + br#""delta":{"content":""#.len()..], b"}")
}

/// The JSON string whose body starts `rest` (its opening quote already consumed), decoded, when the
/// bytes after its closing quote start with `after`.
fn string_then<'a>(rest: &'a [u8], after: &[u8]) -> Option<Cow<'a, str>> {
    let mut from = 0;
    let end = loop {
        let quote = from + memchr::memchr(b'"', &rest[from..])?;
        let backslashes = rest[..quote]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            break quote;
        }
        from = quote + 1;
    };
    if !rest[end + 1..].starts_with(after) {
        return None;
    }
    let body = &rest[..end];
    if memchr::memchr(b'\\', body).is_none() {
        return std::str::from_utf8(body).ok().map(Cow::Borrowed);
    }
    // With escapes: the string with its quotes, decoded by serde_json.
    let quoted = rest.get(..end + 1).map(|s| [&b"\""[..], s].concat())?;
    serde_json::from_slice::<String>(&quoted)
        .ok()
        .map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_deltas_in_the_apis_shape() {
        let text = br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello \"you\"\n"}}"#;
        assert_eq!(anthropic(text).as_deref(), Some("Hello \"you\"\n"));
        let thinking = br#"{"type":"content_block_delta","index":12,"delta":{"type":"thinking_delta","thinking":"hm"}}"#;
        assert_eq!(anthropic(thinking).as_deref(), Some("hm"));
        let json = br#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#;
        assert_eq!(anthropic(json).as_deref(), Some("{\"a\":"));
        let signature = br#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}"#;
        assert_eq!(anthropic(signature).as_deref(), Some(""));
    }

    #[test]
    fn any_other_shape_is_left_to_the_parser() {
        for data in [
            &br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","x":1}}"#[..],
            br#"{"type": "content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}"#,
            br#"{"index":0,"type":"content_block_delta","delta":{"type":"text_delta","text":"a"}}"#,
            br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"unterminated}}"#,
            br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\"}}"#,
            br#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}"#,
        ] {
            assert_eq!(anthropic(data), None, "{}", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn openai_content_deltas_without_usage() {
        let chunk = br#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi \\ there"},"finish_reason":null}],"usage":null}"#;
        assert_eq!(openai(chunk).as_deref(), Some("Hi \\ there"));
        for data in [
            &br#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#[..],
            br#"{"choices":[{"index":0,"delta":{"content":"a","reasoning_content":"b"}}]}"#,
            br#"{"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":1}}"#,
            br#"{"choices":[{"index":0,"delta":{"tool_calls":[]}}]}"#,
        ] {
            assert_eq!(openai(data), None, "{}", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn the_fast_read_agrees_with_serde_on_any_text() {
        for text in [
            "",
            "plain",
            "quote \" and \\ backslash",
            "line\nbreak\ttab",
            "unicode é ✓ 😀",
            "\\\"",
            "ends with \\",
        ] {
            let escaped = serde_json::to_string(text).unwrap();
            let anthropic_data = format!(
                r#"{{"type":"content_block_delta","index":3,"delta":{{"type":"text_delta","text":{escaped}}}}}"#
            );
            assert_eq!(
                anthropic(anthropic_data.as_bytes()).as_deref(),
                Some(text),
                "{anthropic_data}"
            );
            let openai_data = format!(
                r#"{{"choices":[{{"index":0,"delta":{{"content":{escaped}}},"finish_reason":null}}]}}"#
            );
            assert_eq!(
                openai(openai_data.as_bytes()).as_deref(),
                Some(text),
                "{openai_data}"
            );
        }
    }
}
