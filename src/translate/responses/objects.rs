//! The pieces of Responses API output shared by the JSON and the stream translators: the Response object
//! (with the request settings it repeats), output items, usage, and a small writer for SSE events that puts
//! `type` and `sequence_number` first, as the real API does.

use serde_json::{json, Map, Value};

use super::request::ResponsesShape;
use crate::translate::ids::derive;
use crate::translate::sse::{end, json_str, json_u64};
use crate::usage::TokenUsage;

/// Token counts in the Responses API's terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponsesUsage {
    /// All input tokens, cached ones and cache writes included.
    pub input_tokens: u64,
    pub cached_tokens: u64,
    /// The part of `input_tokens` written to the provider's cache (explicit `cache_control` caching).
    pub cache_write_tokens: u64,
    /// All output tokens, reasoning included.
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
}

impl ResponsesUsage {
    /// From the gateway's common split (what a Chat or Anthropic upstream reported).
    pub(crate) fn from_tokens(t: TokenUsage) -> Self {
        ResponsesUsage {
            input_tokens: t.prompt_tokens(),
            cached_tokens: t.cache_read_input_tokens,
            cache_write_tokens: t.cache_creation_input_tokens,
            output_tokens: t.output_tokens,
            reasoning_tokens: t.reasoning_tokens.min(t.output_tokens),
        }
    }

    pub(crate) fn to_json(self) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "input_tokens_details": { "cache_write_tokens": self.cache_write_tokens, "cached_tokens": self.cached_tokens },
            "output_tokens": self.output_tokens,
            "output_tokens_details": { "reasoning_tokens": self.reasoning_tokens },
            "total_tokens": self.input_tokens.saturating_add(self.output_tokens),
        })
    }

    /// In the gateway's common (Anthropic) split: uncached input is what is neither read from nor written
    /// to the cache.
    pub(crate) fn token_usage(self, reported: bool) -> TokenUsage {
        let cached = self.cached_tokens.min(self.input_tokens);
        let writes = self.cache_write_tokens.min(self.input_tokens - cached);
        TokenUsage {
            input_tokens: self.input_tokens - cached - writes,
            output_tokens: self.output_tokens,
            cache_read_input_tokens: cached,
            cache_creation_input_tokens: writes,
            reasoning_tokens: self.reasoning_tokens.min(self.output_tokens),
            reported,
            ..TokenUsage::default()
        }
    }
}

/// What the Responses-side translators need to know about the exchange.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToResponsesOptions {
    /// The `model` the client asked for, echoed back.
    pub client_model: String,
    /// Unix seconds for `created_at`; passed in so translation stays pure and repeatable.
    pub created_at: u64,
    pub shape: ResponsesShape,
}

/// How a Response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    InProgress,
    Completed,
    /// Stopped early: `max_output_tokens` or `content_filter`.
    Incomplete(&'static str),
    Failed,
}

/// Chat `finish_reason` → the Response status.
pub(crate) fn status_for(finish_reason: Option<&str>) -> Status {
    match finish_reason {
        Some("length") => Status::Incomplete("max_output_tokens"),
        Some("content_filter") => Status::Incomplete("content_filter"),
        _ => Status::Completed,
    }
}

/// A Response object: the request's echoed settings plus this response's fields.
pub(crate) fn response_object(
    opts: &ToResponsesOptions,
    id: &str,
    status: Status,
    output: Vec<Value>,
    usage: Option<ResponsesUsage>,
    error: Option<Value>,
) -> Value {
    let mut r: Map<String, Value> = (*opts.shape.echo).clone();
    let (word, incomplete) = match status {
        Status::InProgress => ("in_progress", None),
        Status::Completed => ("completed", None),
        Status::Incomplete(reason) => ("incomplete", Some(json!({ "reason": reason }))),
        Status::Failed => ("failed", None),
    };
    r.insert("id".into(), json!(id));
    r.insert("object".into(), json!("response"));
    r.insert("created_at".into(), json!(opts.created_at));
    r.insert("status".into(), json!(word));
    if status == Status::Completed {
        r.insert("completed_at".into(), json!(opts.created_at));
    }
    r.insert("error".into(), error.unwrap_or(Value::Null));
    r.insert(
        "incomplete_details".into(),
        incomplete.unwrap_or(Value::Null),
    );
    r.insert("model".into(), json!(opts.client_model));
    r.insert("output".into(), Value::Array(output));
    r.insert(
        "usage".into(),
        usage.map_or(Value::Null, ResponsesUsage::to_json),
    );
    Value::Object(r)
}

/// A Response id derived from the upstream's id (or from the body when it sent none).
pub(crate) fn response_id(seed: &[u8]) -> String {
    derive("resp_", seed)
}

/// The id of the `n`-th output item of a response.
pub(crate) fn item_id(prefix: &str, response_id: &str, n: usize) -> String {
    derive(prefix, format!("{response_id}#{n}").as_bytes())
}

pub(crate) fn reasoning_item(id: &str, text: &str, as_summary: bool) -> Value {
    if as_summary {
        json!({ "id": id, "type": "reasoning", "summary": [{ "type": "summary_text", "text": text }] })
    } else {
        json!({ "id": id, "type": "reasoning", "summary": [], "content": [{ "type": "reasoning_text", "text": text }] })
    }
}

/// A message content part: `output_text` or `refusal`.
pub(crate) fn content_part(refusal: bool, text: &str) -> Value {
    if refusal {
        json!({ "type": "refusal", "refusal": text })
    } else {
        json!({ "type": "output_text", "annotations": [], "logprobs": [], "text": text })
    }
}

pub(crate) fn message_item(id: &str, status: &str, content: Vec<Value>) -> Value {
    json!({ "id": id, "type": "message", "status": status, "content": content, "role": "assistant" })
}

pub(crate) fn function_call_item(
    id: &str,
    status: &str,
    call_id: &str,
    (namespace, name): (Option<&str>, &str),
    arguments: &str,
) -> Value {
    let mut item = json!({ "id": id, "type": "function_call", "status": status, "arguments": arguments, "call_id": call_id, "name": name });
    if let Some(ns) = namespace {
        item["namespace"] = json!(ns);
    }
    item
}

/// The `error` of a failed Response: `code` is one the SDKs know (`server_error`, `rate_limit_exceeded`).
pub(crate) fn failure(code: &str, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

/// Writes one SSE event: `event: <type>` and a data object that starts with `type` and `sequence_number`.
pub(crate) struct EventWriter<'o> {
    out: &'o mut Vec<u8>,
}

impl<'o> EventWriter<'o> {
    pub(crate) fn begin(out: &'o mut Vec<u8>, kind: &str, sequence_number: u64) -> Self {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\ndata: {\"type\":");
        json_str(out, kind);
        out.extend_from_slice(b",\"sequence_number\":");
        json_u64(out, sequence_number);
        EventWriter { out }
    }

    fn key(&mut self, key: &str) {
        self.out.push(b',');
        json_str(self.out, key);
        self.out.push(b':');
    }

    pub(crate) fn str(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        json_str(self.out, value);
        self
    }

    pub(crate) fn num(mut self, key: &str, value: u64) -> Self {
        self.key(key);
        json_u64(self.out, value);
        self
    }

    /// A field whose value is written verbatim (a JSON literal such as `[]`).
    pub(crate) fn raw(mut self, key: &str, json: &[u8]) -> Self {
        self.key(key);
        self.out.extend_from_slice(json);
        self
    }

    pub(crate) fn value(mut self, key: &str, value: &Value) -> Self {
        self.key(key);
        if serde_json::to_writer(&mut *self.out, value).is_err() {
            self.out.extend_from_slice(b"null");
        }
        self
    }

    pub(crate) fn end(self) {
        self.out.push(b'}');
        end(self.out);
    }
}

/// A Responses `error` event for a stream the gateway passed through and must end itself: the SDKs and
/// Codex read `code` and `message`. Its `sequence_number` is 0 because a pass-through stream's own
/// numbering is not tracked.
pub fn error_event(code: &str, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    EventWriter::begin(&mut out, "error", 0)
        .str("code", code)
        .str("message", message)
        .raw("param", b"null")
        .end();
    out
}
