//! Properties of the Responses translators: the stream translators give the same bytes however the upstream
//! was chunked (down to one byte at a time), always end with one terminal event, and nothing panics on
//! arbitrary JSON or bytes. The upstream stream generators are the ones the Chat ⇄ Anthropic properties use.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::props::{
    anthropic_stream_bytes, arb_json, feed_cut, interleave, openai_stream_bytes, parallel_stream,
    streamed_calls,
};
use super::sse_events;
use crate::translate::responses::{
    anthropic_response_to_responses, chat_response_to_responses, responses_request_to_anthropic,
    responses_request_to_chat, AnthropicToResponsesStream, ChatToResponsesStream, ResponsesShape,
    Target, ToResponsesOptions,
};
use crate::translate::StreamTranslator;

fn opts(summary: bool) -> ToResponsesOptions {
    ToResponsesOptions {
        client_model: "m".into(),
        created_at: 1,
        shape: ResponsesShape {
            reasoning_as_summary: summary,
            ..ResponsesShape::default()
        },
    }
}

const TERMINAL: [&str; 3] = [
    "response.completed",
    "response.incomplete",
    "response.failed",
];

/// The Responses event protocol: `response.created` first, numbered 0, 1, 2…, items announced before
/// their deltas, exactly one terminal event, last.
fn check_responses_protocol(out: &[u8]) {
    let events = sse_events(out);
    assert!(!events.is_empty(), "a stream always says something");
    assert_eq!(events[0].0, "response.created");
    let mut added = std::collections::HashSet::new();
    for (n, (kind, e)) in events.iter().enumerate() {
        assert_eq!(e["sequence_number"], json!(n));
        if kind == "response.output_item.added" {
            assert!(
                added.insert(e["output_index"].as_u64().unwrap()),
                "an output index is added once"
            );
        } else if let Some(index) = e.get("output_index").and_then(Value::as_u64) {
            assert!(added.contains(&index), "{kind} before its item was added");
        }
        assert_eq!(
            TERMINAL.contains(&kind.as_str()),
            n == events.len() - 1,
            "{kind} at {n} of {}",
            events.len()
        );
    }
}

/// The function-call items of a Responses stream as (call id, name, arguments), checking on the way that
/// each item is whole — added, its deltas, `arguments.done`, `output_item.done`, with no event of another
/// item in between — and that items come in output-index order.
fn streamed_function_calls(out: &[u8]) -> Vec<(String, String, Value)> {
    let mut calls = Vec::new();
    let mut open: Option<u64> = None;
    let mut last_index = None;
    let mut arguments = String::new();
    for (kind, e) in sse_events(out) {
        let index = e.get("output_index").and_then(Value::as_u64);
        if let (Some(open), Some(index)) = (open, index) {
            assert_eq!(index, open, "{kind} of item {index} inside item {open}");
        }
        match kind.as_str() {
            "response.output_item.added" if e["item"]["type"] == "function_call" => {
                assert!(last_index < index, "items in output-index order");
                last_index = index;
                open = index;
                arguments.clear();
            }
            "response.function_call_arguments.delta" => {
                arguments.push_str(e["delta"].as_str().unwrap())
            }
            "response.function_call_arguments.done" => {
                assert_eq!(e["arguments"].as_str(), Some(arguments.as_str()))
            }
            "response.output_item.done" if e["item"]["type"] == "function_call" => {
                let item = &e["item"];
                assert_eq!(item["arguments"].as_str(), Some(arguments.as_str()));
                let parsed = serde_json::from_str(&arguments)
                    .unwrap_or_else(|err| panic!("{err}: {arguments}"));
                calls.push((
                    item["call_id"].as_str().unwrap().to_owned(),
                    item["name"].as_str().unwrap().to_owned(),
                    parsed,
                ));
                open = None;
            }
            "response.failed" => panic!("failed: {e}"),
            _ => {}
        }
    }
    calls
}

fn bytewise(t: &mut dyn StreamTranslator, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in bytes {
        t.feed_into(std::slice::from_ref(b), &mut out);
    }
    t.finish_into(&mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn chat_to_responses_is_chunking_invariant(bytes in openai_stream_bytes(), cuts in proptest::collection::vec(any::<usize>(), 0..12), summary in any::<bool>()) {
        let whole = feed_cut(&mut ChatToResponsesStream::new(opts(summary)), &bytes, &[]);
        let cut = feed_cut(&mut ChatToResponsesStream::new(opts(summary)), &bytes, &cuts);
        prop_assert_eq!(&whole, &cut);
        prop_assert_eq!(&whole, &bytewise(&mut ChatToResponsesStream::new(opts(summary)), &bytes));
        check_responses_protocol(&whole);
    }

    #[test]
    fn anthropic_to_responses_is_chunking_invariant(bytes in anthropic_stream_bytes(), cuts in proptest::collection::vec(any::<usize>(), 0..12)) {
        let whole = feed_cut(&mut AnthropicToResponsesStream::new(opts(true)), &bytes, &[]);
        let cut = feed_cut(&mut AnthropicToResponsesStream::new(opts(true)), &bytes, &cuts);
        prop_assert_eq!(&whole, &cut);
        prop_assert_eq!(&whole, &bytewise(&mut AnthropicToResponsesStream::new(opts(true)), &bytes));
        check_responses_protocol(&whole);
    }

    #[test]
    fn responses_stream_translators_survive_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
        check_responses_protocol(&feed_cut(&mut ChatToResponsesStream::new(opts(false)), &bytes, &cuts));
        check_responses_protocol(&feed_cut(&mut AnthropicToResponsesStream::new(opts(false)), &bytes, &cuts));
    }

    #[test]
    fn responses_translators_never_panic_on_arbitrary_json(v in arb_json()) {
        let targets = [Target::Chat { reasoning_effort: true, max_output_tokens: Some(10), prompt_cache_key: true, gateway_cache_key: Some("sy-k".into()) }, Target::Anthropic { default_max_tokens: 100 }];
        let candidates = [
            v.clone(),
            json!({ "model": "m", "input": v.clone() }),
            json!({ "model": "m", "input": [v.clone()], "tools": [v.clone()], "tool_choice": v.clone(), "reasoning": v.clone(), "text": v.clone() }),
            json!({ "model": "m", "input": [{ "type": "message", "role": "user", "content": [v.clone()] }, { "type": "function_call_output", "call_id": "c", "output": v.clone() }] }),
        ];
        for candidate in &candidates {
            for target in &targets {
                if let Ok(t) = responses_request_to_chat(candidate, "up", target) {
                    prop_assert!(t.chat.is_object());
                }
            }
            let _ = responses_request_to_anthropic(candidate, "up", 100);
        }
        let bytes = serde_json::to_vec(&v).unwrap();
        let wrapped = serde_json::to_vec(&json!({ "choices": [{ "message": v.clone() }], "content": [v.clone()], "usage": v.clone() })).unwrap();
        for body in [&bytes, &wrapped] {
            if let Ok(t) = chat_response_to_responses(body, &opts(true)) {
                prop_assert!(serde_json::from_slice::<Value>(&t.body).is_ok());
            }
            let _ = anthropic_response_to_responses(body, &opts(false));
        }
        let sse = format!("data: {}\n\ndata: {}\n\n", v, json!({ "choices": [{ "delta": v.clone() }] }));
        let mut chat = ChatToResponsesStream::new(opts(true));
        check_responses_protocol(&[chat.feed(sse.as_bytes()), chat.finish()].concat());
        let mut anthropic = AnthropicToResponsesStream::new(opts(false));
        check_responses_protocol(&[anthropic.feed(format!("event: x\ndata: {v}\n\n").as_bytes()), anthropic.finish()].concat());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Chat → Responses uses the same tool-call assembler as Chat → Anthropic: any interleaving of the same
    /// parallel calls, chunked anyhow, with ids missing or names repeated, gives the same whole
    /// `function_call` items in index order — ids kept where given, generated (unique, `call_…`) where not —
    /// streamed and non-streamed alike.
    #[test]
    fn parallel_tool_calls_give_the_same_function_call_items_in_any_interleaving(
        calls in streamed_calls(),
        order in proptest::collection::vec(any::<usize>(), 0..40),
        group in proptest::collection::vec(any::<bool>(), 0..40),
        repeat in any::<bool>(),
        text_first in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let sequential = interleave(&calls, &[0; 64], false, &[]);
        let reference = streamed_function_calls(&feed_cut(&mut ChatToResponsesStream::new(opts(false)), &parallel_stream(&sequential, false), &[]));
        prop_assert_eq!(reference.len(), calls.len());
        for (item, call) in reference.iter().zip(&calls) {
            match call.id.as_deref().filter(|id| !id.is_empty()) {
                Some(id) => prop_assert_eq!(&item.0, id),
                None => prop_assert!(item.0.starts_with("call_"), "{}", item.0),
            }
            prop_assert_eq!(&item.1, &call.name);
            prop_assert_eq!(&item.2, &call.input);
        }
        let mut ids: Vec<&String> = reference.iter().map(|c| &c.0).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), calls.len(), "ids are unique");

        let chunks = interleave(&calls, &order, repeat, &group);
        let out = feed_cut(&mut ChatToResponsesStream::new(opts(false)), &parallel_stream(&chunks, text_first), &cuts);
        check_responses_protocol(&out);
        prop_assert_eq!(&streamed_function_calls(&out), &reference);
        let message = json!({ "role": "assistant", "content": null, "tool_calls": chunks.concat() });
        let body = json!({ "id": "chatcmpl-par", "choices": [{ "index": 0, "message": message, "finish_reason": "tool_calls" }] });
        let whole: Value = serde_json::from_slice(&chat_response_to_responses(&serde_json::to_vec(&body).unwrap(), &opts(false)).unwrap().body).unwrap();
        let items: Vec<(String, String, Value)> = whole["output"].as_array().unwrap().iter()
            .filter(|i| i["type"] == "function_call")
            .map(|i| (i["call_id"].as_str().unwrap().to_owned(), i["name"].as_str().unwrap().to_owned(), serde_json::from_str(i["arguments"].as_str().unwrap()).unwrap()))
            .collect();
        prop_assert_eq!(&items, &reference);
    }
}
