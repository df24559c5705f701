//! Property tests: stream translation does not depend on how the upstream bytes were chunked (cuts inside
//! `\r\n` pairs and multi-byte characters included), stream output always follows the client protocol,
//! and no translator panics on arbitrary JSON.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::sse_events;
use super::sse_parser::owned;
use crate::translate::sse::SseParser;
use crate::translate::{
    anthropic_request_to_openai, anthropic_response_to_openai, estimate_input_tokens,
    openai_request_to_anthropic, openai_response_to_anthropic, upstream_error_to_anthropic,
    upstream_error_to_openai, AnthropicToOpenAiStream, MidSystem, OpenAiToAnthropicStream,
    StreamTranslator, ToAnthropicOptions, ToAnthropicRequestOptions, ToOpenAiOptions,
    ToOpenAiResponseOptions,
};

/// Text with ASCII, accents, CJK and emoji, so cuts land inside multi-byte characters.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("a"),
            Just(" "),
            Just("é"),
            Just("中"),
            Just("🎉"),
            Just("\\n"),
            Just("\""),
            Just("{")
        ],
        0..8,
    )
    .prop_map(|v| v.concat())
}

fn openai_chunk() -> impl Strategy<Value = String> {
    let delta = |d: Value, finish: Value| {
        format!(
            "data: {}",
            json!({ "id": "c1", "choices": [{ "index": 0, "delta": d, "finish_reason": finish }] })
        )
    };
    prop_oneof![
        4 => text().prop_map(move |t| delta(json!({ "content": t }), Value::Null)),
        2 => text().prop_map(move |t| delta(json!({ "reasoning_content": t }), Value::Null)),
        3 => (0u64..3, any::<bool>(), text()).prop_map(move |(i, first, args)| {
            let mut c = json!({ "index": i, "function": { "arguments": args } });
            if first {
                c["id"] = json!(format!("call_{i}"));
                c["function"]["name"] = json!("Tool");
            }
            delta(json!({ "tool_calls": [c] }), Value::Null)
        }),
        1 => prop_oneof![Just("stop"), Just("length"), Just("tool_calls")].prop_map(move |f| delta(json!({}), json!(f))),
        1 => (0u64..500, 0u64..500).prop_map(|(p, c)| format!("data: {}", json!({ "choices": [], "usage": { "prompt_tokens": p, "completion_tokens": c } }))),
        1 => Just(": keep-alive".to_owned()),
        1 => Just("data: {\"error\":{\"message\":\"boom ✗\"}}".to_owned()),
        1 => Just("data: not json".to_owned()),
    ]
}

pub(super) fn openai_stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(openai_chunk(), 0..14),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(chunks, done, crlf)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut s = String::new();
            for c in chunks {
                s.push_str(&c);
                s.push_str(nl);
                s.push_str(nl);
            }
            if done {
                s.push_str("data: [DONE]");
                s.push_str(nl);
                s.push_str(nl);
            }
            s.into_bytes()
        })
}

fn anthropic_event() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (0u64..3, text()).prop_map(|(i, t)| json!({ "type": "content_block_delta", "index": i, "delta": { "type": "text_delta", "text": t } })),
        1 => (0u64..3, text()).prop_map(|(i, t)| json!({ "type": "content_block_delta", "index": i, "delta": { "type": "thinking_delta", "thinking": t } })),
        2 => (0u64..3, text()).prop_map(|(i, t)| json!({ "type": "content_block_delta", "index": i, "delta": { "type": "input_json_delta", "partial_json": t } })),
        1 => (0u64..3).prop_map(|i| json!({ "type": "content_block_start", "index": i, "content_block": { "type": "tool_use", "id": format!("toolu_{i}"), "name": "T", "input": {} } })),
        1 => (0u64..3).prop_map(|i| json!({ "type": "content_block_start", "index": i, "content_block": { "type": "text", "text": "" } })),
        1 => (0u64..3).prop_map(|i| json!({ "type": "content_block_stop", "index": i })),
        1 => (0u64..99).prop_map(|n| json!({ "type": "message_delta", "delta": { "stop_reason": "end_turn" }, "usage": { "output_tokens": n } })),
        1 => Just(json!({ "type": "ping" })),
        1 => Just(json!({ "type": "message_stop" })),
        1 => Just(json!({ "type": "error", "error": { "type": "overloaded_error", "message": "Overloaded" } })),
    ]
}

pub(super) fn anthropic_stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    (proptest::collection::vec(anthropic_event(), 0..14), any::<bool>()).prop_map(|(events, crlf)| {
        let nl = if crlf { "\r\n" } else { "\n" };
        let start = json!({ "type": "message_start", "message": { "id": "msg_1", "usage": { "input_tokens": 3, "output_tokens": 1 } } });
        let mut s = String::new();
        for e in std::iter::once(start).chain(events) {
            s.push_str(&format!("event: {}{nl}data: {e}{nl}{nl}", e["type"].as_str().unwrap_or("")));
        }
        s.into_bytes()
    })
}

/// Feeds `bytes` cut at `cuts` (positions modulo the length) and returns everything emitted.
pub(super) fn feed_cut(t: &mut dyn StreamTranslator, bytes: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|c| {
            if bytes.is_empty() {
                0
            } else {
                c % (bytes.len() + 1)
            }
        })
        .collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut prev = 0;
    for p in points {
        t.feed_into(&bytes[prev..p], &mut out);
        prev = p;
    }
    t.feed_into(&bytes[prev..], &mut out);
    t.finish_into(&mut out);
    out
}

/// The Anthropic event protocol: message_start first (or an error), blocks numbered 0, 1, 2… in start
/// order, deltas only to started blocks, and exactly one terminal event (message_stop or error), last.
fn check_anthropic_protocol(out: &[u8]) {
    let events = sse_events(out);
    let last = events.len() - 1;
    assert!(
        events[last].0 == "message_stop" || events[last].0 == "error",
        "ends with {}",
        events[last].0
    );
    let mut started = 0u64;
    let mut open = None;
    for (i, (name, v)) in events.iter().enumerate() {
        match name.as_str() {
            "message_start" => assert_eq!(i, 0, "message_start must come first"),
            "message_stop" | "error" => assert_eq!(i, last, "{name} must be the last event"),
            "message_delta" => assert_eq!(open, None, "a block is still open at message_delta"),
            "content_block_start" => {
                assert_eq!(open, None, "a block starts while another is open");
                assert_eq!(
                    v["index"].as_u64(),
                    Some(started),
                    "blocks are numbered in start order"
                );
                open = Some(started);
                started += 1;
            }
            "content_block_stop" => {
                assert_eq!(
                    v["index"].as_u64(),
                    open,
                    "stop of a block that is not the open one"
                );
                open = None;
            }
            // Late argument deltas of an interleaved tool call go to an earlier, closed block.
            "content_block_delta" => assert!(v["index"].as_u64().unwrap() < started),
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sse_parser_is_chunking_invariant(
        events in proptest::collection::vec((proptest::option::of("[a-z_]{1,8}"), proptest::collection::vec(text(), 1..3)), 0..6),
        endings in proptest::collection::vec(proptest::sample::select(&["\n", "\r\n"][..]), 1..4),
        lone_cr in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        // Mixed `\n` / `\r\n` endings, or all lone `\r` (a `\r` followed by a `\n` ending would be one `\r\n`).
        let mut s = String::new();
        let mut k = 0;
        let mut nl = || { k += 1; if lone_cr { "\r" } else { endings[k % endings.len()] } };
        let mut expected = Vec::new();
        for (name, lines) in &events {
            if let Some(n) = name {
                s.push_str(&format!("event: {n}{}", nl()));
            }
            for l in lines {
                s.push_str(&format!("data: {l}{}", nl()));
            }
            s.push_str(nl());
            expected.push((name.clone(), lines.join("\n")));
        }
        let bytes = s.as_bytes();
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut parser = SseParser::new();
        let mut got = Vec::new();
        let mut prev = 0;
        for p in points {
            parser.feed(&bytes[prev..p], |e| got.push(owned(e)));
            prev = p;
        }
        parser.feed(&bytes[prev..], |e| got.push(owned(e)));
        parser.finish(|e| got.push(owned(e)));
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn openai_to_anthropic_is_chunking_invariant(bytes in openai_stream_bytes(), cuts in proptest::collection::vec(any::<usize>(), 0..12)) {
        let opts = ToAnthropicOptions::new("claude");
        let whole = feed_cut(&mut OpenAiToAnthropicStream::new(opts.clone()), &bytes, &[]);
        let cut = feed_cut(&mut OpenAiToAnthropicStream::new(opts.clone()), &bytes, &cuts);
        prop_assert_eq!(&whole, &cut);
        let mut bytewise = OpenAiToAnthropicStream::new(opts);
        let mut out = Vec::new();
        for b in &bytes {
            bytewise.feed_into(std::slice::from_ref(b), &mut out);
        }
        bytewise.finish_into(&mut out);
        prop_assert_eq!(&whole, &out);
        check_anthropic_protocol(&whole);
    }

    #[test]
    fn anthropic_to_openai_is_chunking_invariant(bytes in anthropic_stream_bytes(), cuts in proptest::collection::vec(any::<usize>(), 0..12), usage in any::<bool>()) {
        let opts = ToOpenAiResponseOptions { include_usage: usage, ..ToOpenAiResponseOptions::new("gpt", 1) };
        let whole = feed_cut(&mut AnthropicToOpenAiStream::new(opts.clone()), &bytes, &[]);
        let cut = feed_cut(&mut AnthropicToOpenAiStream::new(opts), &bytes, &cuts);
        prop_assert_eq!(&whole, &cut);
        let events = sse_events(&whole);
        let last = &events.last().unwrap().1;
        prop_assert!(last == &json!("[DONE]") || last.get("error").is_some());
    }

    #[test]
    fn stream_translators_survive_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
        let out = feed_cut(&mut OpenAiToAnthropicStream::new(ToAnthropicOptions::new("m")), &bytes, &cuts);
        check_anthropic_protocol(&out);
        let out = feed_cut(&mut AnthropicToOpenAiStream::new(ToOpenAiResponseOptions::new("m", 0)), &bytes, &cuts);
        prop_assert!(!sse_events(&out).is_empty());
        let _ = upstream_error_to_anthropic(500, &bytes);
        let _ = upstream_error_to_openai(429, &bytes);
    }

    #[test]
    fn translators_never_panic_on_arbitrary_json(v in arb_json(), mid_user in any::<bool>(), reasoning in any::<bool>()) {
        let opts = ToOpenAiOptions {
            reasoning_effort: reasoning,
            replay_reasoning_content: reasoning,
            mid_system: if mid_user { MidSystem::AsUser } else { MidSystem::InPlace },
            ..ToOpenAiOptions::new("m")
        };
        let bytes = serde_json::to_vec(&v).unwrap();
        for candidate in [v.clone(), json!({ "messages": [v.clone()] }), json!({ "messages": [{ "role": "user", "content": [v.clone()] }], "tools": [v.clone()] })] {
            if let Ok(t) = anthropic_request_to_openai(&candidate, &opts) {
                prop_assert!(serde_json::from_slice::<Value>(&t.body).is_ok());
            }
            let _ = openai_request_to_anthropic(&candidate, &ToAnthropicRequestOptions::new("c"));
            let _ = estimate_input_tokens(&candidate);
        }
        let _ = openai_response_to_anthropic(&bytes, &ToAnthropicOptions::new("c"));
        let _ = anthropic_response_to_openai(&bytes, &ToOpenAiResponseOptions::new("m", 0));
        let wrapped = serde_json::to_vec(&json!({ "choices": [{ "message": v.clone(), "delta": v.clone() }], "content": [v.clone()] })).unwrap();
        let _ = openai_response_to_anthropic(&wrapped, &ToAnthropicOptions::new("c"));
        let _ = anthropic_response_to_openai(&wrapped, &ToOpenAiResponseOptions::new("m", 0));
        let _ = upstream_error_to_anthropic(400, &bytes);
        let _ = upstream_error_to_openai(200, &bytes);
        let sse = format!("data: {}\n\ndata: {}\n\n", v, serde_json::to_string(&json!({ "choices": [{ "delta": v.clone() }] })).unwrap());
        let mut a = OpenAiToAnthropicStream::new(ToAnthropicOptions::new("c"));
        let out = [a.feed(sse.as_bytes()), a.finish()].concat();
        check_anthropic_protocol(&out);
        let mut o = AnthropicToOpenAiStream::new(ToOpenAiResponseOptions::new("m", 0));
        let _ = o.feed(format!("event: x\ndata: {v}\n\n").as_bytes());
        let _ = o.finish();
    }
}

/// Field names the translators look at, so arbitrary trees reach deep code paths.
const KEYS: &[&str] = &[
    "model",
    "messages",
    "role",
    "content",
    "type",
    "text",
    "system",
    "tools",
    "tool_choice",
    "name",
    "input",
    "input_schema",
    "id",
    "tool_use_id",
    "is_error",
    "source",
    "data",
    "media_type",
    "url",
    "thinking",
    "budget_tokens",
    "max_tokens",
    "stop_sequences",
    "stop",
    "metadata",
    "user_id",
    "user",
    "choices",
    "message",
    "delta",
    "tool_calls",
    "function",
    "arguments",
    "finish_reason",
    "usage",
    "prompt_tokens",
    "error",
    "index",
    "image_url",
    "stream",
    "n",
    "reasoning_effort",
    "output_config",
    "effort",
    "tool_call_id",
    "parameters",
    "temperature",
    "file",
    "file_data",
    "title",
    "cache_control",
    "reasoning_content",
    "parallel_tool_calls",
    "disable_parallel_tool_use",
    "format",
    "schema",
    "x",
];

const WORDS: &[&str] = &[
    "user",
    "assistant",
    "system",
    "developer",
    "tool",
    "function",
    "text",
    "image",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "document",
    "base64",
    "url",
    "file",
    "content",
    "auto",
    "any",
    "none",
    "required",
    "enabled",
    "adaptive",
    "disabled",
    "low",
    "high",
    "stop",
    "length",
    "tool_calls",
    "image_url",
    "data:image/png;base64,AA",
    "data:x",
    "{\"a\":1}",
    "{",
    "search_result",
    "json_schema",
    "x-anthropic-billing-header: x",
    "web_search_20250305",
    "custom",
    "",
];

pub(super) fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        proptest::sample::select(WORDS).prop_map(Value::from),
        "\\PC{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..7).prop_map(
                |kv| Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<String, Value>>()
                )
            ),
        ]
    })
}

/// One parallel tool call as a server might stream it: its header (`index`, maybe an `id`, `name`) and its
/// arguments cut into fragments.
#[derive(Debug, Clone)]
pub(super) struct StreamedCall {
    pub(super) index: u64,
    pub(super) id: Option<String>,
    pub(super) name: String,
    pub(super) input: Value,
    pieces: Vec<String>,
}

pub(super) fn streamed_calls() -> impl Strategy<Value = Vec<StreamedCall>> {
    let input = proptest::collection::btree_map(
        proptest::sample::select(vec!["command", "file_path", "pattern", "n"]),
        prop_oneof![text().prop_map(Value::from), (0i64..1000).prop_map(Value::from)],
        0..3,
    );
    let call = (
        proptest::option::of(prop_oneof![Just(String::new()), "call_[a-z0-9]{4}"]),
        proptest::sample::select(vec!["Bash", "Read", "Edit", "Grep"]),
        input,
        proptest::collection::vec(any::<usize>(), 0..5),
    );
    proptest::collection::vec(call, 1..5).prop_map(|calls| {
        calls
            .into_iter()
            .enumerate()
            .map(|(i, (id, name, input, cuts))| {
                let args = serde_json::to_string(&input).unwrap();
                let chars: Vec<(usize, char)> = args.char_indices().collect();
                let mut points: Vec<usize> = cuts.iter().map(|c| chars[c % chars.len()].0).collect();
                points.sort_unstable();
                points.dedup();
                let mut pieces = Vec::new();
                let mut prev = 0;
                for p in points.into_iter().chain([args.len()]) {
                    pieces.push(args[prev..p].to_owned());
                    prev = p;
                }
                StreamedCall { index: i as u64, id: id.map(|id| if id.is_empty() { id } else { format!("{id}_{i}") }), name: name.to_owned(), input: Value::Object(input.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()), pieces }
            })
            .collect()
    })
}

/// `order` picks, step by step, which call sends its next piece; the header always comes first for each
/// call. `repeat` re-sends the id and name on later fragments; `group` packs consecutive pieces into one
/// chunk. Returns the `tool_calls` entries, chunk by chunk.
pub(super) fn interleave(calls: &[StreamedCall], order: &[usize], repeat: bool, group: &[bool]) -> Vec<Vec<Value>> {
    let mut next = vec![0usize; calls.len()];
    let mut entries = Vec::new();
    let mut k = 0;
    loop {
        let live: Vec<usize> = (0..calls.len()).filter(|&c| next[c] < calls[c].pieces.len()).collect();
        if live.is_empty() {
            break;
        }
        let c = live[order.get(k).copied().unwrap_or(0) % live.len()];
        k += 1;
        let call = &calls[c];
        let first = next[c] == 0;
        let mut entry = json!({ "index": call.index, "function": { "arguments": call.pieces[next[c]] } });
        if first || repeat {
            if let Some(id) = &call.id {
                entry["id"] = json!(id);
            }
            entry["type"] = json!("function");
            entry["function"]["name"] = json!(call.name);
        }
        next[c] += 1;
        entries.push(entry);
    }
    let mut chunks: Vec<Vec<Value>> = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        match chunks.last_mut() {
            Some(last) if group.get(i).copied().unwrap_or(false) => last.push(entry),
            _ => chunks.push(vec![entry]),
        }
    }
    chunks
}

/// The `tool_use` blocks of an Anthropic stream as (id, name, input), checking on the way that every
/// delta goes to the open block and the blocks are numbered in order.
fn streamed_tool_blocks(out: &[u8]) -> Vec<(String, String, Value)> {
    let mut blocks: Vec<(String, String, String)> = Vec::new();
    let mut open: Option<u64> = None;
    let mut next = 0;
    let mut tool_at = std::collections::HashMap::new();
    for (name, v) in sse_events(out) {
        match name.as_str() {
            "content_block_start" => {
                assert_eq!(open, None, "a block started inside another");
                assert_eq!(v["index"], json!(next));
                open = Some(next);
                next += 1;
                let b = &v["content_block"];
                if b["type"] == "tool_use" {
                    tool_at.insert(v["index"].as_u64().unwrap(), blocks.len());
                    blocks.push((b["id"].as_str().unwrap().to_owned(), b["name"].as_str().unwrap().to_owned(), String::new()));
                }
            }
            "content_block_delta" => {
                assert_eq!(v["index"].as_u64(), open, "a delta outside the open block");
                if let Some(&at) = tool_at.get(&v["index"].as_u64().unwrap()) {
                    blocks[at].2.push_str(v["delta"]["partial_json"].as_str().unwrap());
                }
            }
            "content_block_stop" => {
                assert_eq!(v["index"].as_u64(), open);
                open = None;
            }
            "error" => panic!("error event: {v}"),
            _ => {}
        }
    }
    blocks.into_iter().map(|(id, name, json)| (id, name, serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}")))).collect()
}

pub(super) fn parallel_stream(chunks: &[Vec<Value>], text_first: bool) -> Vec<u8> {
    let chunk = |delta: Value, finish: Value| format!("data: {}\n\n", json!({ "id": "chatcmpl-par", "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] }));
    let mut s = chunk(json!({ "role": "assistant", "content": if text_first { json!("Running them.") } else { Value::Null } }), Value::Null);
    for c in chunks {
        s.push_str(&chunk(json!({ "tool_calls": c }), Value::Null));
    }
    s.push_str(&chunk(json!({}), json!("tool_calls")));
    s.push_str("data: [DONE]\n\n");
    s.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any interleaving of the same parallel calls, chunked anyhow, with ids missing or names repeated,
    /// gives the same `tool_use` blocks — in index order, ids kept where given and generated (unique,
    /// `toolu_…`) where not, inputs whole — streamed and non-streamed alike.
    #[test]
    fn parallel_tool_calls_give_the_same_blocks_in_any_interleaving(
        calls in streamed_calls(),
        order_a in proptest::collection::vec(any::<usize>(), 0..40),
        order_b in proptest::collection::vec(any::<usize>(), 0..40),
        group in proptest::collection::vec(any::<bool>(), 0..40),
        repeat in any::<bool>(),
        text_first in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let sequential: Vec<usize> = vec![0; 64];
        let reference = streamed_tool_blocks(&feed_cut(&mut OpenAiToAnthropicStream::new(ToAnthropicOptions::new("c")), &parallel_stream(&interleave(&calls, &sequential, false, &[]), false), &[]));
        prop_assert_eq!(reference.len(), calls.len());
        for (block, call) in reference.iter().zip(&calls) {
            match call.id.as_deref().filter(|id| !id.is_empty()) {
                Some(id) => prop_assert_eq!(&block.0, id),
                None => prop_assert!(block.0.starts_with("toolu_") && block.0.len() == 30, "{}", block.0),
            }
            prop_assert_eq!(&block.1, &call.name);
            prop_assert_eq!(&block.2, &call.input);
        }
        let mut ids: Vec<&String> = reference.iter().map(|b| &b.0).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), calls.len(), "ids are unique");

        for order in [&order_a, &order_b] {
            let chunks = interleave(&calls, order, repeat, &group);
            let out = feed_cut(&mut OpenAiToAnthropicStream::new(ToAnthropicOptions::new("c")), &parallel_stream(&chunks, text_first), &cuts);
            prop_assert_eq!(&streamed_tool_blocks(&out), &reference);
            let message = json!({ "role": "assistant", "content": null, "tool_calls": chunks.concat() });
            let body = json!({ "id": "chatcmpl-par", "choices": [{ "index": 0, "message": message, "finish_reason": "tool_calls" }] });
            let whole: Value = serde_json::from_slice(&openai_response_to_anthropic(&serde_json::to_vec(&body).unwrap(), &ToAnthropicOptions::new("c")).unwrap().body).unwrap();
            let blocks: Vec<(String, String, Value)> = whole["content"].as_array().unwrap().iter().map(|b| (b["id"].as_str().unwrap().to_owned(), b["name"].as_str().unwrap().to_owned(), b["input"].clone())).collect();
            prop_assert_eq!(&blocks, &reference);
        }
    }
}
