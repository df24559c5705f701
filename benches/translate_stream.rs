//! How much CPU one translated SSE stream costs, without Pingora or sockets around it, so a change to the
//! stream translators can be judged in seconds instead of a load-test run. std only (no criterion): the
//! median of several timed repetitions is stable enough on a shared machine to see a 2× change.
//!
//! The upstream bytes mimic the mock provider (`src/mock/openai.rs`): one event per upstream read, a role
//! chunk, text deltas, a finish chunk, a usage-only chunk and `data: [DONE]`. The reverse direction uses the
//! event sequence of Anthropic's own API.
//!
//! Run: `cargo bench --bench translate_stream`.

use std::hint::black_box;
use std::time::Instant;

use switchyard::translate::{
    AnthropicToOpenAiStream, OpenAiToAnthropicStream, StreamTranslator, ToAnthropicOptions,
    ToOpenAiResponseOptions,
};

const TEXT_CHUNKS: usize = 17;
const STREAMS_PER_REP: usize = 2_000;
const REPS: usize = 9;

fn piece(i: usize) -> String {
    format!("Part {i} of the answer: a \\\"quoted\\\" word, ünïcode ✓ and a newline\\n")
}

/// 20 `chat.completion.chunk` events and `[DONE]`, framed like the mock provider frames them.
fn openai_events() -> Vec<Vec<u8>> {
    let head = r#"{"id":"chatcmpl-mock0123456789abcdef","object":"chat.completion.chunk","created":1760000000,"model":"gpt-4o-mini","system_fingerprint":"fp_mock","choices":"#;
    let chunk = |choices: &str, usage: &str| {
        format!("data: {head}{choices},\"usage\":{usage}}}\n\n").into_bytes()
    };
    let choice = |delta: &str, finish: &str| {
        format!(r#"[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}]"#)
    };
    let mut events = vec![chunk(
        &choice(r#"{"role":"assistant","content":""}"#, "null"),
        "null",
    )];
    for i in 0..TEXT_CHUNKS {
        let delta = format!(r#"{{"content":"{}"}}"#, piece(i));
        events.push(chunk(&choice(&delta, "null"), "null"));
    }
    events.push(chunk(&choice("{}", r#""stop""#), "null"));
    let usage = r#"{"prompt_tokens":412,"completion_tokens":260,"total_tokens":672,"prompt_tokens_details":{"cached_tokens":128},"completion_tokens_details":{"reasoning_tokens":0}}"#;
    events.push(chunk("[]", usage));
    events.push(b"data: [DONE]\n\n".to_vec());
    events
}

/// The Anthropic event sequence for the same answer.
fn anthropic_events() -> Vec<Vec<u8>> {
    let ev = |name: &str, data: &str| format!("event: {name}\ndata: {data}\n\n").into_bytes();
    let mut events = vec![
        ev(
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":412,"cache_creation_input_tokens":0,"cache_read_input_tokens":128,"output_tokens":1}}}"#,
        ),
        ev(
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        ev("ping", r#"{"type": "ping"}"#),
    ];
    for i in 0..TEXT_CHUNKS {
        let data = format!(
            r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{}"}}}}"#,
            piece(i)
        );
        events.push(ev("content_block_delta", &data));
    }
    events.push(ev(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":0}"#,
    ));
    events.push(ev("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":260}}"#));
    events.push(ev("message_stop", r#"{"type":"message_stop"}"#));
    events
}

/// One stream as the gateway runs it: a fresh translator, one `feed_into` per upstream read, a fresh
/// output buffer per read (as `proxy::translation::body_chunk` does), then `finish_into` at EOF.
fn run_stream(mut t: impl StreamTranslator, events: &[Vec<u8>]) -> usize {
    let mut sent = 0;
    for e in events {
        let mut out = Vec::new();
        t.feed_into(black_box(e), &mut out);
        sent += black_box(out).len();
    }
    let mut out = Vec::new();
    t.finish_into(&mut out);
    sent + black_box(out).len()
}

/// Every byte the translator sends for `events`, to check that a faster translator sends the same ones.
fn output(mut t: impl StreamTranslator, events: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        t.feed_into(e, &mut out);
    }
    t.finish_into(&mut out);
    out
}

/// FNV-1a, enough to compare outputs between two builds by eye.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Upstream streams that reach the paths the timed one does not: reasoning, parallel and legacy tool
/// calls, refusals, a stop sequence, usage variants, mid-stream errors, odd types, CRLF and comments.
fn odd_openai_streams() -> Vec<Vec<Vec<u8>>> {
    let raw = [
        r#"{"id":"c1","choices":[{"delta":{"role":"assistant","reasoning_content":"Let me \"think\""}}]}"#,
        r#"{"choices":[{"delta":{"reasoning":"more","content":"Answer ✓\n"},"finish_reason":null}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"Bash","arguments":""}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"command\":"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_2","function":{"name":"Read","arguments":{"b":1,"a":[2]}}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"x","function":{"name":"NoIndex","arguments":"{}"}},"junk",{"function":{"arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"function_call":{"name":"legacy","arguments":"{\"q\":1}"}}}]}"#,
        r#"{"choices":[{"delta":{"refusal":"no","content":7,"tool_calls":{}},"stop_reason":"END"}]}"#,
        r#"{"choices":[{"delta":{},"finish_reason":"stop","matched_stop":"END"}],"usage":null}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":100.0,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":0},"prompt_cache_hit_tokens":30}}"#,
    ];
    let framed = |lines: &[&str]| -> Vec<Vec<u8>> {
        lines
            .iter()
            .map(|l| format!("data: {l}\r\n\r\n: keep-alive\n\n").into_bytes())
            .collect()
    };
    let mut streams = vec![framed(&raw), framed(&[raw[1], "[DONE]"])];
    streams.push(framed(&[
        r#"[1,2]"#,
        r#"{"id":5,"choices":"x"}"#,
        r#"{"error":{"message":"Rate limit hit","code":429}}"#,
    ]));
    streams.push(framed(&[
        r#"{"choices":[{"delta":{"content":"a"},"finish_reason":"error"}]}"#,
    ]));
    streams.push(framed(&[r#"{"choices":[{"delta":{"content":"cut"}}]}"#]));
    streams
}

fn odd_anthropic_streams() -> Vec<Vec<Vec<u8>>> {
    let ev = |name: &str, data: &str| format!("event: {name}\ndata: {data}\n\n").into_bytes();
    vec![
        vec![
            ev(
                "message_start",
                r#"{"type":"message_start","message":{"id":"m1","usage":{"input_tokens":9,"output_tokens":1,"cache_read_input_tokens":null}}}"#,
            ),
            ev(
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"hm"}}"#,
            ),
            ev(
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"\"q\""}}"#,
            ),
            ev(
                "content_block_start",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"Bash","input":{}}}"#,
            ),
            ev(
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}"#,
            ),
            ev(
                "content_block_delta",
                r#"{"index":7,"delta":{"type":"input_json_delta","partial_json":"lost"}}"#,
            ),
            ev(
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":"5"}}"#,
            ),
            ev("message_stop", r#"{"type":"message_stop"}"#),
        ],
        vec![
            ev(
                "content_block_delta",
                r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#,
            ),
            ev(
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
        ],
        vec![ev("message_start", r#"[]"#), ev("message_stop", r#""s""#)],
        vec![ev("message_start", r#"{"type":"message_start"}"#)],
    ]
}

fn median_ns_per_stream(mut one: impl FnMut() -> usize) -> f64 {
    let mut reps: Vec<f64> = (0..REPS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..STREAMS_PER_REP {
                black_box(one());
            }
            start.elapsed().as_nanos() as f64 / STREAMS_PER_REP as f64
        })
        .collect();
    reps.sort_by(f64::total_cmp);
    reps[REPS / 2]
}

fn report(name: &str, events: usize, bytes_out: usize, ns: f64) {
    println!(
        "{name:<34} {ns:>10.0} ns/stream  {:>7.0} ns/event  ({events} events in, {bytes_out} bytes out)",
        ns / events as f64
    );
}

fn main() {
    let openai = openai_events();
    let to_anthropic = || {
        let opts = ToAnthropicOptions::new("claude-sonnet-4-5");
        run_stream(OpenAiToAnthropicStream::new(opts), &openai)
    };
    let bytes = to_anthropic();
    report(
        "openai→anthropic (Claude Code)",
        openai.len(),
        bytes,
        median_ns_per_stream(to_anthropic),
    );

    let anthropic = anthropic_events();
    let to_openai = || {
        let mut opts = ToOpenAiResponseOptions::new("gpt-4o-mini", 1_760_000_000);
        opts.include_usage = true;
        run_stream(AnthropicToOpenAiStream::new(opts), &anthropic)
    };
    let bytes = to_openai();
    report(
        "anthropic→openai (OpenAI SDK)",
        anthropic.len(),
        bytes,
        median_ns_per_stream(to_openai),
    );

    let mut all = output(
        OpenAiToAnthropicStream::new(ToAnthropicOptions::new("claude-sonnet-4-5")),
        &openai,
    );
    for stream in odd_openai_streams() {
        let mut opts = ToAnthropicOptions::new("claude-\"x\"");
        opts.stop_sequences = vec!["END".to_owned()];
        all.extend(output(OpenAiToAnthropicStream::new(opts), &stream));
    }
    let mut opts = ToOpenAiResponseOptions::new("gpt-4o-mini", 1_760_000_000);
    opts.include_usage = true;
    all.extend(output(
        AnthropicToOpenAiStream::new(opts.clone()),
        &anthropic,
    ));
    for stream in odd_anthropic_streams() {
        all.extend(output(AnthropicToOpenAiStream::new(opts.clone()), &stream));
    }
    println!(
        "output checksum {:016x} over {} bytes (must not change with a pure speed-up)",
        checksum(&all),
        all.len()
    );
}
