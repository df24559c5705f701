//! The Anthropic SSE events the stream translator sends, written from fixed templates straight into the
//! output buffer: only strings go through `serde_json` (for escaping), so no `Value` is built per event.
//! Keys are in the alphabetical order `serde_json::Value` serialized them in before, so the bytes on the
//! wire did not change.

use crate::translate::sse::{begin_named, end, json_str, json_u64};
use crate::usage::TokenUsage;

/// The `content_block_delta` kinds, with the key their text goes under.
#[derive(Debug, Clone, Copy)]
pub(super) enum DeltaKind {
    Thinking,
    Text,
    InputJson,
}

pub(super) fn message_start(out: &mut Vec<u8>, id: &str, model: &str, input_tokens: u64) {
    begin_named(out, "message_start");
    out.extend_from_slice(br#"{"message":{"content":[],"id":"#);
    json_str(out, id);
    out.extend_from_slice(br#","model":"#);
    json_str(out, model);
    out.extend_from_slice(br#","role":"assistant","stop_reason":null,"stop_sequence":null,"type":"message","usage":{"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"input_tokens":"#);
    json_u64(out, input_tokens);
    out.extend_from_slice(br#","output_tokens":1}},"type":"message_start"}"#);
    end(out);
}

pub(super) fn ping(out: &mut Vec<u8>) {
    out.extend_from_slice(b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
}

pub(super) fn thinking_start(out: &mut Vec<u8>, index: usize) {
    block_start(
        out,
        br#"{"signature":"","thinking":"","type":"thinking"}"#,
        index,
    );
}

pub(super) fn text_start(out: &mut Vec<u8>, index: usize) {
    block_start(out, br#"{"text":"","type":"text"}"#, index);
}

pub(super) fn tool_use_start(out: &mut Vec<u8>, index: usize, id: &str, name: &str) {
    begin_named(out, "content_block_start");
    out.extend_from_slice(br#"{"content_block":{"id":"#);
    json_str(out, id);
    out.extend_from_slice(br#","input":{},"name":"#);
    json_str(out, name);
    out.extend_from_slice(br#","type":"tool_use"},"index":"#);
    json_u64(out, index as u64);
    out.extend_from_slice(br#","type":"content_block_start"}"#);
    end(out);
}

fn block_start(out: &mut Vec<u8>, block: &[u8], index: usize) {
    begin_named(out, "content_block_start");
    out.extend_from_slice(br#"{"content_block":"#);
    out.extend_from_slice(block);
    out.extend_from_slice(br#","index":"#);
    json_u64(out, index as u64);
    out.extend_from_slice(br#","type":"content_block_start"}"#);
    end(out);
}

pub(super) fn block_delta(out: &mut Vec<u8>, index: usize, kind: DeltaKind, text: &str) {
    let (key, tail): (&[u8], &[u8]) = match kind {
        DeltaKind::Thinking => (br#"{"delta":{"thinking":"#, br#","type":"thinking_delta"}"#),
        DeltaKind::Text => (br#"{"delta":{"text":"#, br#","type":"text_delta"}"#),
        DeltaKind::InputJson => (
            br#"{"delta":{"partial_json":"#,
            br#","type":"input_json_delta"}"#,
        ),
    };
    begin_named(out, "content_block_delta");
    out.extend_from_slice(key);
    json_str(out, text);
    out.extend_from_slice(tail);
    out.extend_from_slice(br#","index":"#);
    json_u64(out, index as u64);
    out.extend_from_slice(br#","type":"content_block_delta"}"#);
    end(out);
}

pub(super) fn block_stop(out: &mut Vec<u8>, index: usize) {
    begin_named(out, "content_block_stop");
    out.extend_from_slice(br#"{"index":"#);
    json_u64(out, index as u64);
    out.extend_from_slice(br#","type":"content_block_stop"}"#);
    end(out);
}

/// `message_delta` then `message_stop`. The input and cache counters go in only when the upstream reported
/// them (Claude Code shows and accounts the cache counters from here).
pub(super) fn message_end(
    out: &mut Vec<u8>,
    stop_reason: &str,
    stop_sequence: Option<&str>,
    usage: TokenUsage,
) {
    begin_named(out, "message_delta");
    out.extend_from_slice(br#"{"delta":{"stop_reason":"#);
    json_str(out, stop_reason);
    out.extend_from_slice(br#","stop_sequence":"#);
    match stop_sequence {
        Some(s) => json_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#"},"type":"message_delta","usage":{"#);
    if usage.reported {
        out.extend_from_slice(br#""cache_creation_input_tokens":"#);
        json_u64(out, usage.cache_creation_input_tokens);
        out.extend_from_slice(br#","cache_read_input_tokens":"#);
        json_u64(out, usage.cache_read_input_tokens);
        out.extend_from_slice(br#","input_tokens":"#);
        json_u64(out, usage.input_tokens);
        out.push(b',');
    }
    out.extend_from_slice(br#""output_tokens":"#);
    json_u64(out, usage.output_tokens);
    out.extend_from_slice(b"}}");
    end(out);
    out.extend_from_slice(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
}

pub(super) fn error(out: &mut Vec<u8>, kind: &str, message: &str) {
    begin_named(out, "error");
    out.extend_from_slice(br#"{"error":{"message":"#);
    json_str(out, message);
    out.extend_from_slice(br#","type":"#);
    json_str(out, kind);
    out.extend_from_slice(br#"},"type":"error"}"#);
    end(out);
}
