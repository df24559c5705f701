//! The `chat.completion.chunk` events the stream translator sends, written from fixed templates straight
//! into the output buffer: only strings go through `serde_json` (for escaping), so no `Value` is built per
//! event. Keys are in the alphabetical order `serde_json::Value` serialized them in before, so the bytes
//! on the wire did not change. The part every chunk repeats (`created`, `id`, `model`, `object`) is
//! rendered once per stream.

use crate::translate::sse::{begin_data, end, json_str, json_u64};
use crate::usage::TokenUsage;

/// `,"created":…,"id":…,"model":…,"object":"chat.completion.chunk"`: the keys after `choices`.
pub(super) fn tail(created: u64, id: &str, model: &str) -> Vec<u8> {
    let mut t = Vec::with_capacity(96 + id.len() + model.len());
    t.extend_from_slice(br#","created":"#);
    json_u64(&mut t, created);
    t.extend_from_slice(br#","id":"#);
    json_str(&mut t, id);
    t.extend_from_slice(br#","model":"#);
    json_str(&mut t, model);
    t.extend_from_slice(br#","object":"chat.completion.chunk""#);
    t
}

/// A chunk with one choice whose `delta` is written by `delta`.
fn chunk(out: &mut Vec<u8>, tail: &[u8], finish: Option<&str>, delta: impl FnOnce(&mut Vec<u8>)) {
    begin_data(out);
    out.extend_from_slice(br#"{"choices":[{"delta":"#);
    delta(out);
    out.extend_from_slice(br#","finish_reason":"#);
    match finish {
        Some(f) => json_str(out, f),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","index":0,"logprobs":null}]"#);
    out.extend_from_slice(tail);
    out.push(b'}');
    end(out);
}

pub(super) fn role(out: &mut Vec<u8>, tail: &[u8]) {
    chunk(out, tail, None, |o| {
        o.extend_from_slice(br#"{"content":"","role":"assistant"}"#)
    });
}

/// A text delta under `field` (`content` or `reasoning_content`).
pub(super) fn text(out: &mut Vec<u8>, tail: &[u8], field: &str, text: &str) {
    chunk(out, tail, None, |o| {
        o.push(b'{');
        json_str(o, field);
        o.push(b':');
        json_str(o, text);
        o.push(b'}');
    });
}

pub(super) fn tool_start(out: &mut Vec<u8>, tail: &[u8], index: usize, id: &str, name: &str) {
    chunk(out, tail, None, |o| {
        o.extend_from_slice(br#"{"tool_calls":[{"function":{"arguments":"","name":"#);
        json_str(o, name);
        o.extend_from_slice(br#"},"id":"#);
        json_str(o, id);
        o.extend_from_slice(br#","index":"#);
        json_u64(o, index as u64);
        o.extend_from_slice(br#","type":"function"}]}"#);
    });
}

pub(super) fn tool_arguments(out: &mut Vec<u8>, tail: &[u8], index: usize, arguments: &str) {
    chunk(out, tail, None, |o| {
        o.extend_from_slice(br#"{"tool_calls":[{"function":{"arguments":"#);
        json_str(o, arguments);
        o.extend_from_slice(br#"},"index":"#);
        json_u64(o, index as u64);
        o.extend_from_slice(b"}]}");
    });
}

pub(super) fn finish(out: &mut Vec<u8>, tail: &[u8], reason: &str) {
    chunk(out, tail, Some(reason), |o| o.extend_from_slice(b"{}"));
}

/// The `choices: []` chunk that carries usage (`stream_options.include_usage`).
pub(super) fn usage(out: &mut Vec<u8>, tail: &[u8], u: TokenUsage) {
    let prompt = u.prompt_tokens();
    begin_data(out);
    out.extend_from_slice(br#"{"choices":[]"#);
    out.extend_from_slice(tail);
    out.extend_from_slice(br#","usage":{"completion_tokens":"#);
    json_u64(out, u.output_tokens);
    out.extend_from_slice(br#","prompt_tokens":"#);
    json_u64(out, prompt);
    out.extend_from_slice(br#","prompt_tokens_details":{"cached_tokens":"#);
    json_u64(out, u.cache_read_input_tokens);
    out.extend_from_slice(br#"},"total_tokens":"#);
    json_u64(out, prompt.saturating_add(u.output_tokens));
    out.extend_from_slice(b"}}");
    end(out);
}

pub(super) fn error(out: &mut Vec<u8>, kind: &str, message: &str) {
    begin_data(out);
    out.extend_from_slice(br#"{"error":{"code":null,"message":"#);
    json_str(out, message);
    out.extend_from_slice(br#","param":null,"type":"#);
    json_str(out, kind);
    out.extend_from_slice(b"}}");
    end(out);
}
