//! The extractor on recorded streams and bodies: exact counts, cut streams, the stripped usage
//! chunk, and any re-chunking giving the same result.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::api::ApiFormat;

const ANTHROPIC_STREAM: &str = concat!(
    "event: message_start\n",
    r#"data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":300,"cache_read_input_tokens":4000,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"output_tokens":1}}}"#,
    "\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n",
    "event: content_block_start\n",
    r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    "\n\nevent: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello there, "}}"#,
    "\n\nevent: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"how are you today?"}}"#,
    "\n\nevent: content_block_stop\n",
    r#"data: {"type":"content_block_stop","index":0}"#,
    "\n\nevent: message_delta\n",
    r#"data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":25}}"#,
    "\n\nevent: message_stop\n",
    r#"data: {"type":"message_stop"}"#,
    "\n\n",
);

const OPENAI_USAGE_CHUNK: &str = concat!(
    r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":2100,"completion_tokens":30,"total_tokens":2130,"prompt_tokens_details":{"cached_tokens":2048},"completion_tokens_details":{"reasoning_tokens":10}}}"#,
    "\n\n",
);

fn openai_stream() -> String {
    let chunk = |delta: &str, finish: &str| {
        format!(
            r#"data: {{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}],"usage":null}}"#
        ) + "\n\n"
    };
    [
        chunk(r#"{"role":"assistant","content":""}"#, "null"),
        chunk(r#"{"content":"Hello there, "}"#, "null"),
        chunk(r#"{"content":"how are you today?"}"#, "null"),
        chunk("{}", r#""stop""#),
        OPENAI_USAGE_CHUNK.to_string(),
        "data: [DONE]\n\n".to_string(),
    ]
    .concat()
}

/// A Responses API stream as OpenAI sends it (typed events with `event:` names; the terminal event
/// repeats the whole Response): reasoning, a message and a function call, then `response.completed`.
fn responses_stream(terminal: &str) -> String {
    let event =
        |kind: &str, data: &str| format!("event: {kind}\ndata: {{\"type\":\"{kind}\",{data}}}\n\n");
    let response = |status: &str, usage: &str| {
        format!(
            r#""response":{{"id":"resp_1","object":"response","created_at":1,"status":"{status}","model":"gpt-5-codex","output":[{{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{{"type":"output_text","annotations":[],"text":"Hello there, how are you today?"}}]}}],"usage":{usage}}}"#
        )
    };
    let usage = r#"{"input_tokens":2100,"input_tokens_details":{"cached_tokens":2048},"output_tokens":30,"output_tokens_details":{"reasoning_tokens":10},"total_tokens":2130}"#;
    let status = if terminal == "response.failed" {
        "failed"
    } else {
        "completed"
    };
    [
        event("response.created", &format!(r#""sequence_number":0,{}"#, response("in_progress", "null"))),
        event("response.in_progress", &format!(r#""sequence_number":1,{}"#, response("in_progress", "null"))),
        event("response.reasoning_summary_text.delta", r#""sequence_number":2,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Thinking it over""#),
        event("response.output_item.added", r#""sequence_number":3,"output_index":1,"item":{"type":"message","id":"msg_1","status":"in_progress","role":"assistant","content":[]}"#),
        event("response.output_text.delta", r#""sequence_number":4,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hello there, ""#),
        event("response.output_text.delta", r#""sequence_number":5,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"how are you today?""#),
        event("response.function_call_arguments.delta", r#""sequence_number":6,"item_id":"fc_1","output_index":2,"delta":"{\"cmd\":\"ls\"}""#),
        event(terminal, &format!(r#""sequence_number":7,{}"#, response(status, usage))),
    ]
    .concat()
}

/// Feeds `body` cut at `cuts`; returns the result and what the client would get.
fn run(
    format: ApiFormat,
    stream: bool,
    strip: bool,
    body: &[u8],
    cuts: &[usize],
) -> (Extracted, Vec<u8>) {
    let mut x = UsageExtractor::new(format, stream, strip);
    let mut out = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    points.sort_unstable();
    points.push(body.len());
    let mut at = 0;
    for (i, &p) in points.iter().enumerate() {
        let chunk = Bytes::copy_from_slice(&body[at..p]);
        let end = i + 1 == points.len();
        match x.feed(Some(&chunk), end) {
            Fed::Unchanged => out.extend_from_slice(&chunk),
            Fed::Replaced(b) => out.extend_from_slice(&b),
        }
        at = p;
    }
    (x.result(), out)
}

#[test]
fn anthropic_stream_counts_every_kind() {
    let (r, out) = run(
        ApiFormat::Anthropic,
        true,
        false,
        ANTHROPIC_STREAM.as_bytes(),
        &[],
    );
    assert!(!r.partial && r.usage.reported);
    let u = r.usage;
    assert_eq!(
        (
            u.input_tokens,
            u.cache_read_input_tokens,
            u.cache_creation_5m_input_tokens(),
            u.cache_creation_1h_input_tokens,
            u.output_tokens
        ),
        (12, 4000, 100, 200, 25)
    );
    assert_eq!(out, ANTHROPIC_STREAM.as_bytes());
}

#[test]
fn a_cut_anthropic_stream_keeps_the_input_and_counts_the_text() {
    let cut = ANTHROPIC_STREAM.find("event: content_block_stop").unwrap();
    let (r, _) = run(
        ApiFormat::Anthropic,
        true,
        false,
        &ANTHROPIC_STREAM.as_bytes()[..cut],
        &[],
    );
    assert!(r.partial && !r.usage.reported);
    let text_tokens =
        crate::translate::tokens::count_text_tokens("Hello there, how are you today?");
    assert_eq!(
        (
            r.usage.input_tokens,
            r.usage.cache_read_input_tokens,
            r.usage.output_tokens
        ),
        (12, 4000, text_tokens)
    );
    // The body ended but without message_stop: still partial.
    let no_stop = ANTHROPIC_STREAM.replace(
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        "",
    );
    let (r, _) = run(ApiFormat::Anthropic, true, false, no_stop.as_bytes(), &[]);
    assert!(r.partial);
    assert_eq!(
        r.usage.output_tokens, 25,
        "the reported output stays once message_delta came"
    );
}

#[test]
fn openai_stream_usage_and_the_stripped_chunk() {
    let stream = openai_stream();
    let (r, out) = run(ApiFormat::OpenAi, true, false, stream.as_bytes(), &[]);
    assert!(!r.partial);
    let u = r.usage;
    assert_eq!(
        (
            u.input_tokens,
            u.cache_read_input_tokens,
            u.output_tokens,
            u.reasoning_tokens
        ),
        (52, 2048, 30, 10)
    );
    assert_eq!(out, stream.as_bytes());
    let (stripped, out) = run(ApiFormat::OpenAi, true, true, stream.as_bytes(), &[]);
    assert_eq!(stripped, r);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        stream.replace(OPENAI_USAGE_CHUNK, "")
    );
}

#[test]
fn a_cut_openai_stream_counts_the_text() {
    let stream = openai_stream();
    let cut = stream.find(OPENAI_USAGE_CHUNK).unwrap();
    let (r, _) = run(
        ApiFormat::OpenAi,
        true,
        false,
        &stream.as_bytes()[..cut],
        &[],
    );
    assert!(r.partial);
    assert_eq!(
        (r.usage.input_tokens, r.usage.output_tokens),
        (
            0,
            crate::translate::tokens::count_text_tokens("Hello there, how are you today?")
        )
    );
}

#[test]
fn json_bodies() {
    let anthropic = r#"{"id":"msg_1","type":"message","content":[{"type":"text","text":"usage: none"}],"usage":{"input_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":3,"output_tokens":2}}"#;
    let (r, _) = run(
        ApiFormat::Anthropic,
        false,
        false,
        anthropic.as_bytes(),
        &[10, 50],
    );
    assert!(!r.partial);
    assert_eq!(
        (
            r.usage.input_tokens,
            r.usage.cache_read_input_tokens,
            r.usage.output_tokens
        ),
        (7, 3, 2)
    );
    let deepseek = r#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":50,"completion_tokens":4,"prompt_cache_hit_tokens":30,"prompt_cache_miss_tokens":20}}"#;
    let (r, _) = run(ApiFormat::OpenAi, false, false, deepseek.as_bytes(), &[]);
    assert_eq!(
        (
            r.usage.input_tokens,
            r.usage.cache_read_input_tokens,
            r.usage.output_tokens
        ),
        (20, 30, 4)
    );
    let (r, _) = run(
        ApiFormat::OpenAi,
        false,
        false,
        &deepseek.as_bytes()[..40],
        &[],
    );
    assert!(r.partial, "a cut JSON body has no usage to read");
}

#[test]
fn responses_stream_usage_from_the_terminal_event() {
    let stream = responses_stream("response.completed");
    let (r, out) = run(ApiFormat::Responses, true, true, stream.as_bytes(), &[]);
    assert!(!r.partial && r.usage.reported, "{r:?}");
    let u = r.usage;
    assert_eq!(
        (
            u.input_tokens,
            u.cache_read_input_tokens,
            u.cache_creation_input_tokens,
            u.output_tokens,
            u.reasoning_tokens
        ),
        (52, 2048, 0, 30, 10)
    );
    assert_eq!(
        out,
        stream.as_bytes(),
        "a Responses stream is never altered"
    );
    let incomplete = stream.replace("response.completed", "response.incomplete");
    assert_eq!(
        run(
            ApiFormat::Responses,
            true,
            false,
            incomplete.as_bytes(),
            &[]
        )
        .0,
        r,
        "stopped at a limit is still a proper end"
    );
    let failed = run(
        ApiFormat::Responses,
        true,
        false,
        responses_stream("response.failed").as_bytes(),
        &[],
    )
    .0;
    assert!(failed.partial && failed.usage.reported);
    assert_eq!(
        failed.usage, u,
        "a failed Response's usage is what it spent"
    );
}

#[test]
fn a_cut_responses_stream_counts_the_streamed_text() {
    let stream = responses_stream("response.completed");
    let cut = stream.find("event: response.completed").unwrap();
    let (r, _) = run(
        ApiFormat::Responses,
        true,
        false,
        &stream.as_bytes()[..cut],
        &[],
    );
    assert!(r.partial && !r.usage.reported);
    let streamed = "Thinking it overHello there, how are you today?{\"cmd\":\"ls\"}";
    assert_eq!(
        (r.usage.input_tokens, r.usage.output_tokens),
        (0, crate::translate::tokens::count_text_tokens(streamed))
    );
    // Without `event:` lines (some servers send data only) every event is read by its type.
    let data_only: String = stream
        .lines()
        .filter(|l| !l.starts_with("event: "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        run(ApiFormat::Responses, true, false, data_only.as_bytes(), &[]).0,
        run(ApiFormat::Responses, true, false, stream.as_bytes(), &[]).0
    );
}

#[test]
fn responses_json_body() {
    let body = r#"{"id":"resp_1","object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"usage: {}"}]}],"usage":{"input_tokens":3000,"input_tokens_details":{"cached_tokens":1024,"cache_write_tokens":1500},"output_tokens":12,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":3012}}"#;
    let (r, _) = run(
        ApiFormat::Responses,
        false,
        false,
        body.as_bytes(),
        &[7, 90],
    );
    assert!(!r.partial);
    assert_eq!(
        (
            r.usage.input_tokens,
            r.usage.cache_read_input_tokens,
            r.usage.cache_creation_input_tokens,
            r.usage.output_tokens
        ),
        (476, 1024, 1500, 12)
    );
}

proptest! {
    #[test]
    fn any_rechunking_gives_the_same_usage(cuts in prop::collection::vec(any::<usize>(), 0..12)) {
        let whole = run(ApiFormat::Anthropic, true, false, ANTHROPIC_STREAM.as_bytes(), &[]);
        prop_assert_eq!(run(ApiFormat::Anthropic, true, false, ANTHROPIC_STREAM.as_bytes(), &cuts), whole);
        let stream = openai_stream();
        for strip in [false, true] {
            let whole = run(ApiFormat::OpenAi, true, strip, stream.as_bytes(), &[]);
            prop_assert_eq!(run(ApiFormat::OpenAi, true, strip, stream.as_bytes(), &cuts), whole);
        }
        let responses = responses_stream("response.completed");
        let whole = run(ApiFormat::Responses, true, false, responses.as_bytes(), &[]);
        prop_assert_eq!(run(ApiFormat::Responses, true, false, responses.as_bytes(), &cuts), whole);
        let crlf = ANTHROPIC_STREAM.replace('\n', "\r\n");
        let whole = run(ApiFormat::Anthropic, true, false, crlf.as_bytes(), &[]);
        prop_assert_eq!(whole.0.usage.output_tokens, 25);
        prop_assert_eq!(run(ApiFormat::Anthropic, true, false, crlf.as_bytes(), &cuts), whole);
    }

    #[test]
    fn cut_streams_never_panic(cut in any::<usize>(), cuts in prop::collection::vec(any::<usize>(), 0..6)) {
        for (format, body) in [(ApiFormat::Anthropic, ANTHROPIC_STREAM.to_string()), (ApiFormat::OpenAi, openai_stream()), (ApiFormat::Responses, responses_stream("response.completed"))] {
            let body = &body.as_bytes()[..cut % (body.len() + 1)];
            let (r, out) = run(format, true, true, body, &cuts);
            prop_assert!(r.usage.output_tokens <= 40);
            prop_assert!(out.len() <= body.len());
        }
    }
}
