//! Request handling, one function per request: read the body once, record it, apply header overrides and
//! faults, check the key, then route to the Anthropic or OpenAI endpoint and deliver the rendered reply — at once,
//! paced, cut, silent or malformed, as the fault asks. Order matters and mirrors a real provider seen through a
//! flaky network: faults that replace the response come before routing and authentication, so a test can inject
//! a 429 without a valid key; faults that distort a reply apply only to replies that would have succeeded.

use std::future::{pending, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, Request, Response};
use hyper::body::{Body as _, Incoming};
use serde_json::Value;
use tokio::sync::Notify;

use crate::mock::body::MockBody;
use crate::mock::cache::PromptCache;
use crate::mock::record::Recorder;
use crate::mock::respond::{self, Api, Responder};
use crate::mock::stats::Stats;
use crate::mock::{anthropic, ids, openai, plan, request, responses, responses_request, Fault, MockOptions, ToolStream};

/// Largest request body accepted (real Claude Code sessions reach several megabytes).
const MAX_BODY: usize = 64 << 20;
/// Largest `x-mock-chunks` honoured.
const MAX_CHUNKS: usize = 10_000;

/// State shared by every connection: settings, the recorder, counters and pre-rendered bodies.
pub(crate) struct Shared {
    chunks: usize,
    delay: Duration,
    fault: Option<Fault>,
    require_key: Option<String>,
    key_faults: Vec<(String, Fault)>,
    tool_stream: ToolStream,
    recorder: Option<Recorder>,
    pub stats: Arc<Stats>,
    models_anthropic: Bytes,
    models_openai: Bytes,
    cache: PromptCache,
}

impl Shared {
    pub(crate) fn new(options: MockOptions) -> std::io::Result<Self> {
        let MockOptions {
            record,
            chunks,
            stream_delay,
            fault,
            require_key,
            key_faults,
            tool_stream,
        } = options;
        Ok(Shared {
            chunks: chunks.clamp(1, MAX_CHUNKS),
            delay: stream_delay,
            fault,
            require_key,
            key_faults,
            tool_stream,
            recorder: record.as_deref().map(Recorder::open).transpose()?,
            stats: Arc::new(Stats::default()),
            models_anthropic: Bytes::from(anthropic::models_json()),
            models_openai: Bytes::from(openai::models_json()),
            cache: PromptCache::default(),
        })
    }
}

enum Route {
    Messages,
    CountTokens,
    ChatCompletions,
    Responses,
    Models,
    NotFound,
}

impl Route {
    fn of(method: &Method, path: &str) -> Route {
        match (method, path) {
            (&Method::POST, "/v1/messages") => Route::Messages,
            (&Method::POST, "/v1/messages/count_tokens") => Route::CountTokens,
            (&Method::POST, "/v1/chat/completions") => Route::ChatCompletions,
            (&Method::POST, "/v1/responses") => Route::Responses,
            (&Method::GET, "/v1/models") => Route::Models,
            _ => Route::NotFound,
        }
    }
}

/// Anthropic for its own paths; OpenAI for its own; otherwise whichever the `anthropic-version` header suggests.
fn api_of(route: &Route, path: &str, headers: &HeaderMap) -> Api {
    const OPENAI_PREFIXES: &[&str] = &["/v1/chat/", "/v1/completions", "/v1/embeddings", "/v1/responses"];
    match route {
        Route::Messages | Route::CountTokens => Api::Anthropic,
        // The Responses API reports errors in the OpenAI shape.
        Route::ChatCompletions | Route::Responses => Api::OpenAi,
        Route::Models | Route::NotFound => {
            if path.starts_with("/v1/messages") || path == "/v1/complete" {
                Api::Anthropic
            } else if OPENAI_PREFIXES.iter().any(|p| path.starts_with(p)) {
                Api::OpenAi
            } else if headers.contains_key("anthropic-version") {
                Api::Anthropic
            } else {
                Api::OpenAi
            }
        }
    }
}

/// How a successful reply is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shaping {
    Normal,
    HangBody,
    Drip(Duration),
    Cut(usize),
    Malformed,
}

/// Per-request settings: the instance's, overridden by `x-mock-*` headers.
struct Delivery {
    chunks: usize,
    delay: Duration,
    fault: Option<Fault>,
    tool_stream: ToolStream,
    /// Pad the reply to this many output tokens.
    output_tokens: Option<u64>,
}

impl Delivery {
    fn for_request(headers: &HeaderMap, shared: &Shared) -> Result<Delivery, String> {
        let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}").trim());
        let chunks = match header("x-mock-chunks") {
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => n.min(MAX_CHUNKS),
                _ => return Err(format!("x-mock-chunks must be a positive integer, got {v:?}")),
            },
            None => shared.chunks,
        };
        let delay = match header("x-mock-delay-ms") {
            Some(v) => match v.parse::<u64>() {
                Ok(ms) => Duration::from_millis(ms),
                Err(_) => return Err(format!("x-mock-delay-ms must be a number of milliseconds, got {v:?}")),
            },
            None => shared.delay,
        };
        let presented = header("x-api-key").or_else(|| header("authorization").and_then(|a| a.strip_prefix("Bearer ")).map(str::trim));
        let key_fault = presented.and_then(|key| shared.key_faults.iter().find(|(k, _)| k == key).map(|(_, f)| f.clone()));
        let fault = match header("x-mock-fault") {
            Some(v) => Some(v.parse::<Fault>().map_err(|e| format!("x-mock-fault: {e}"))?),
            None => key_fault.or_else(|| shared.fault.clone()),
        };
        let tool_stream = match header("x-mock-tool-stream") {
            Some(v) => v.parse::<ToolStream>().map_err(|e| format!("x-mock-tool-stream: {e}"))?,
            None => shared.tool_stream,
        };
        let output_tokens = match header("x-mock-output-tokens") {
            Some(v) => Some(v.parse::<u64>().map_err(|_| format!("x-mock-output-tokens must be a whole number of tokens, got {v:?}"))?),
            None => None,
        };
        Ok(Delivery { chunks, delay, fault, tool_stream, output_tokens })
    }
}

/// Answers one request. `kill` drops the whole connection when notified (the `close` fault).
pub(crate) async fn handle(shared: &Shared, kill: &Notify, request: Request<Incoming>) -> Response<MockBody> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    if path == "/mock/stats" {
        return respond::stats(shared.stats.json());
    }
    let serial = shared.stats.request_served();
    let route = Route::of(&parts.method, path);
    let out = Responder {
        api: api_of(&route, path, &parts.headers),
        serial,
    };

    let body = match read_body(body).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return out.error(
                413,
                &format!("Request exceeds the maximum allowed size of {MAX_BODY} bytes."),
            )
        }
        Err(BodyError::Read(e)) => return out.error(400, &format!("Could not read the request body: {e}")),
    };
    if let Some(recorder) = &shared.recorder {
        recorder.record(&parts, &body);
    }
    let delivery = match Delivery::for_request(&parts.headers, shared) {
        Ok(delivery) => delivery,
        Err(message) => return out.error(400, &message),
    };
    let shaping = match delivery.fault {
        Some(Fault::Status(code)) => {
            return out.error(
                code,
                &format!("Internal server error (switchyard mock fault status:{code})"),
            )
        }
        Some(Fault::Overloaded) => return out.overloaded(),
        Some(Fault::RateLimit(secs)) => return out.rate_limited(secs),
        Some(Fault::Unauthorized) => return out.unauthorized(&parts.headers),
        Some(Fault::WrongContentType) => return respond::html_page(),
        Some(Fault::Hang) => return pending().await,
        Some(Fault::Close) => {
            kill.notify_one();
            return pending().await;
        }
        Some(Fault::HangBody) => Shaping::HangBody,
        Some(Fault::Drip(pause)) => Shaping::Drip(pause),
        Some(Fault::Cut(events)) => Shaping::Cut(events),
        Some(Fault::Malformed) => Shaping::Malformed,
        None => Shaping::Normal,
    };

    if let Route::NotFound = route {
        return out.not_found(&parts.method, path);
    }
    if let Some(refused) = out.refuse_key(&parts.headers, shared.require_key.as_deref()) {
        return refused;
    }
    let no_stream = |_: usize| Vec::new();
    match route {
        Route::Models => {
            let list = match out.api {
                Api::Anthropic => shared.models_anthropic.clone(),
                Api::OpenAi => shared.models_openai.clone(),
            };
            deliver(shared, &out, &delivery, shaping, false, no_stream, || list).await
        }
        Route::CountTokens => {
            let value: Value = match serde_json::from_slice(&body) {
                Ok(value) => value,
                Err(e) => return out.unparsable(&e),
            };
            if let Err(invalid) = request::anthropic(&value, false) {
                return out.invalid(&invalid);
            }
            let tokens = (body.len() as u64).div_ceil(4);
            let json = || Bytes::from(anthropic::count_tokens_json(tokens));
            deliver(shared, &out, &delivery, shaping, false, no_stream, json).await
        }
        Route::Messages | Route::ChatCompletions => {
            let value: Value = match serde_json::from_slice(&body) {
                Ok(value) => value,
                Err(e) => return out.unparsable(&e),
            };
            let parsed = match out.api {
                Api::Anthropic => request::anthropic(&value, true),
                Api::OpenAi => request::openai(&value),
            };
            let conv = match parsed {
                Ok(conv) => conv,
                Err(invalid) => return out.invalid(&invalid),
            };
            let reply = planned(shared, &conv, &value, body.len(), out.api, shaping, delivery.output_tokens);
            let seed = ids::body_seed(&body);
            let (model, api) = (conv.model, out.api);
            let events = |chunks| match api {
                Api::Anthropic => anthropic::message_events(&reply, model, seed, chunks),
                Api::OpenAi => openai::completion_events(&reply, model, seed, chunks, conv.include_usage, delivery.tool_stream),
            };
            let json = || match api {
                Api::Anthropic => Bytes::from(anthropic::message_json(&reply, model, seed)),
                Api::OpenAi => Bytes::from(openai::completion_json(&reply, model, seed)),
            };
            deliver(shared, &out, &delivery, shaping, conv.stream, events, json).await
        }
        Route::Responses => {
            let value: Value = match serde_json::from_slice(&body) {
                Ok(value) => value,
                Err(e) => return out.unparsable(&e),
            };
            let (conv, ask) = match responses_request::responses(&value) {
                Ok(parsed) => parsed,
                Err(invalid) => return out.invalid(&invalid),
            };
            let reply = planned(shared, &conv, &value, body.len(), out.api, shaping, delivery.output_tokens);
            let seed = ids::body_seed(&body);
            let model = conv.model;
            let events = |chunks| responses::response_events(&reply, &value, model, seed, ask, chunks);
            let json = || Bytes::from(responses::response_json(&reply, &value, model, seed, ask));
            deliver(shared, &out, &delivery, shaping, conv.stream, events, json).await
        }
        Route::NotFound => out.not_found(&parts.method, path),
    }
}

/// The reply to a conversation, padded to `output_tokens` when the request asks for a length
/// (`x-mock-output-tokens`), with what the prompt cache read and wrote; its usage is added to the
/// stats when it will be delivered without a fault (a dripped reply still arrives whole).
fn planned<'a>(
    shared: &Shared,
    conv: &request::Conversation<'a>,
    value: &Value,
    body_len: usize,
    api: Api,
    shaping: Shaping,
    output_tokens: Option<u64>,
) -> plan::Reply<'a> {
    let mut reply = plan::plan(conv, body_len);
    if let Some(target) = output_tokens {
        plan::pad_output(&mut reply, target, conv.max_tokens);
    }
    reply.cache = shared.cache.account(value, body_len, api);
    if matches!(shaping, Shaping::Normal | Shaping::Drip(_)) {
        shared.stats.usage_reported(conv.model, &reply);
    }
    reply
}

/// Sends a successful reply, as SSE when `stream`, distorted as `shaping` says. Only the rendering that is used
/// runs. A non-streaming reply waits out `delivery.delay` once before it is sent.
async fn deliver(
    shared: &Shared,
    out: &Responder,
    delivery: &Delivery,
    shaping: Shaping,
    stream: bool,
    events: impl FnOnce(usize) -> Vec<Bytes>,
    json: impl FnOnce() -> Bytes,
) -> Response<MockBody> {
    if stream && shaping != Shaping::Malformed {
        let events = events(delivery.chunks);
        let watch = shared.stats.watch_stream();
        return out.sse(match shaping {
            Shaping::Normal | Shaping::Malformed => MockBody::frames(events, delivery.delay, None, watch),
            Shaping::Drip(pause) => MockBody::frames(events, pause, None, watch),
            Shaping::Cut(n) => MockBody::frames(events, delivery.delay, Some(n), watch),
            Shaping::HangBody => MockBody::Silent,
        });
    }
    let mut json = json();
    let len = json.len();
    match shaping {
        Shaping::Normal => {
            if !delivery.delay.is_zero() {
                tokio::time::sleep(delivery.delay).await;
            }
            out.json(MockBody::full(json), None)
        }
        Shaping::Malformed => {
            json.truncate(len / 2);
            out.json(MockBody::full(json), None)
        }
        Shaping::HangBody => out.json(MockBody::Silent, Some(len)),
        Shaping::Drip(pause) => {
            let body = MockBody::frames(pieces(&json, delivery.chunks), pause, None, shared.stats.watch_stream());
            out.json(body, Some(len))
        }
        Shaping::Cut(n) => {
            let body = MockBody::frames(
                pieces(&json, delivery.chunks),
                Duration::ZERO,
                Some(n),
                shared.stats.watch_stream(),
            );
            out.json(body, Some(len))
        }
    }
}

/// A JSON body split into `parts` pieces of nearly equal size.
fn pieces(all: &Bytes, parts: usize) -> Vec<Bytes> {
    let parts = parts.clamp(1, all.len().max(1));
    (0..parts)
        .map(|i| all.slice(i * all.len() / parts..(i + 1) * all.len() / parts))
        .collect()
}

enum BodyError {
    TooLarge,
    Read(hyper::Error),
}

/// Reads the whole request body, without copying when it arrives in one frame.
async fn read_body(mut body: Incoming) -> Result<Bytes, BodyError> {
    let mut single: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(data) = frame.map_err(BodyError::Read)?.into_data() else {
            continue; // trailers
        };
        if single.as_ref().map_or(0, Bytes::len) + joined.len() + data.len() > MAX_BODY {
            return Err(BodyError::TooLarge);
        }
        match single.take() {
            None if joined.is_empty() => single = Some(data),
            first => {
                if let Some(first) = first {
                    joined.extend_from_slice(&first);
                }
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(single.unwrap_or_else(|| joined.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_api_guessing() {
        let none = HeaderMap::new();
        let mut anthropic = HeaderMap::new();
        anthropic.insert("anthropic-version", http::HeaderValue::from_static("2023-06-01"));
        let api = |method: Method, path: &str, headers: &HeaderMap| api_of(&Route::of(&method, path), path, headers);
        assert_eq!(api(Method::POST, "/v1/messages", &none), Api::Anthropic);
        assert_eq!(api(Method::GET, "/v1/messages", &none), Api::Anthropic);
        assert_eq!(api(Method::POST, "/v1/messages/batches", &none), Api::Anthropic);
        assert_eq!(api(Method::POST, "/v1/chat/completions", &anthropic), Api::OpenAi);
        assert_eq!(api(Method::POST, "/v1/completions", &anthropic), Api::OpenAi);
        assert_eq!(api(Method::GET, "/v1/models", &none), Api::OpenAi);
        assert_eq!(api(Method::GET, "/v1/models", &anthropic), Api::Anthropic);
        assert_eq!(api(Method::GET, "/elsewhere", &anthropic), Api::Anthropic);
        assert_eq!(api(Method::GET, "/elsewhere", &none), Api::OpenAi);
        assert!(matches!(
            Route::of(&Method::GET, "/v1/chat/completions"),
            Route::NotFound
        ));
    }

    #[test]
    fn json_pieces_cover_the_body() {
        let parts = pieces(&Bytes::from_static(b"0123456789"), 3);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), b"0123456789".to_vec());
        assert_eq!(pieces(&Bytes::from_static(b"ab"), 8).len(), 2);
        assert_eq!(pieces(&Bytes::new(), 8).len(), 1);
    }
}
