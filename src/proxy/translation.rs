//! Glue between the proxy and the pure `translate` module: which translator a request and its
//! response need, and the per-response state (a stream state machine, or a buffer for the one
//! case that must be whole: a non-streaming JSON body or an error body). Streams are never
//! buffered; each upstream chunk is translated and sent on as it arrives.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};

use crate::api::ApiFormat;
use crate::config::Provider;
use crate::errors::{ErrorKind, GatewayError};
use crate::translate::responses::{self as responses, ResponsesShape, ToResponsesOptions};
use crate::translate::{
    self, AnthropicToOpenAiStream, OpenAiToAnthropicStream, StreamTranslator, ToAnthropicOptions, ToAnthropicRequestOptions,
    ToOpenAiOptions, ToOpenAiResponseOptions, Translated,
};

/// What the client asked, kept for translating the response back.
#[derive(Debug, Clone, Default)]
pub struct ClientShape {
    pub client_model: String,
    pub stop_sequences: Vec<String>,
    pub include_usage: bool,
    /// For Responses API clients: namespaced tool names, the reasoning form, the settings to echo.
    pub responses: ResponsesShape,
}

/// Translates a client request body for a provider spoken to in `wire`.
/// Returns the upstream body, what was dropped or degraded (for a response header), and the client shape.
/// `session` is the conversation identity (see `body::Peek::session`), for OpenAI's `prompt_cache_key`.
pub fn request(client: ApiFormat, wire: ApiFormat, body: &[u8], upstream_model: &str, provider: &Provider, session: &[u8]) -> Result<(Bytes, String, ClientShape), GatewayError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| GatewayError::new(ErrorKind::InvalidRequest, format!("request body is not valid JSON: {e}")))?;
    let client_model = value.get("model").and_then(|m| m.as_str()).unwrap_or_default().to_string();
    let mut responses_shape = ResponsesShape::default();
    let translated = match (client, wire) {
        (ApiFormat::Anthropic, ApiFormat::OpenAi) => {
            let mut opts = ToOpenAiOptions::new(upstream_model);
            opts.reasoning_effort = provider.translation.reasoning_effort;
            opts.max_output_tokens = provider.translation.max_output_tokens;
            opts.cache_control = provider.translation.cache_control;
            opts.prompt_cache_key = provider.translation.prompt_cache_key.then(|| translate::prompt_cache_key(session)).flatten();
            translate::anthropic_request_to_openai(&value, &opts)
        }
        (ApiFormat::OpenAi, ApiFormat::Anthropic) => {
            let opts = ToAnthropicRequestOptions { upstream_model: upstream_model.to_string(), thinking: true, default_max_tokens: 4096 };
            translate::openai_request_to_anthropic(&value, &opts)
        }
        (ApiFormat::Responses, ApiFormat::OpenAi) => {
            let target = responses::Target::Chat {
                reasoning_effort: provider.translation.reasoning_effort,
                max_output_tokens: provider.translation.max_output_tokens,
                prompt_cache_key: provider.translation.prompt_cache_key,
                gateway_cache_key: provider.translation.prompt_cache_key.then(|| translate::prompt_cache_key(session)).flatten(),
            };
            responses::responses_request_to_chat(&value, upstream_model, &target).map(|t| {
                responses_shape = t.shape;
                Translated { body: serde_json::to_vec(&t.chat).unwrap_or_default(), notes: t.notes }
            })
        }
        (ApiFormat::Responses, ApiFormat::Anthropic) => {
            let default_max_tokens = provider.translation.max_output_tokens.map_or(responses::anthropic::DEFAULT_MAX_TOKENS, |cap| cap.min(responses::anthropic::DEFAULT_MAX_TOKENS));
            responses::responses_request_to_anthropic(&value, upstream_model, default_max_tokens).map(|(t, shape)| {
                responses_shape = shape;
                t
            })
        }
        (client, wire) => return Err(GatewayError::new(ErrorKind::Internal, format!("no translation from {client:?} to {wire:?}"))),
    }
    .map_err(|e| GatewayError::new(if e.status() == 400 { ErrorKind::InvalidRequest } else { ErrorKind::BadGateway }, e.to_string()))?;
    let stop_sequences = value
        .get("stop_sequences")
        .and_then(|s| s.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let include_usage = client == ApiFormat::OpenAi && translate::wants_usage_chunk(&value);
    let notes = if translated.notes.is_empty() { String::new() } else { translated.notes.header_value() };
    Ok((Bytes::from(translated.body), notes, ClientShape { client_model, stop_sequences, include_usage, responses: responses_shape }))
}

/// How a translated response body is handled.
pub enum ResponseTranslation {
    /// SSE, chunk by chunk.
    Stream(Box<dyn StreamTranslator + Sync>),
    /// A whole JSON body (non-streaming success, or an error), translated at its end; `wire` is the
    /// format it comes in.
    Whole { buffer: BytesMut, status: u16, wire: ApiFormat },
}

/// The content type the client will get for a translated response.
pub fn content_type(translation: &ResponseTranslation) -> &'static str {
    match translation {
        ResponseTranslation::Stream(_) => "text/event-stream; charset=utf-8",
        ResponseTranslation::Whole { .. } => "application/json",
    }
}

/// Chooses the response translation for an upstream status; also returns the status the client sees.
pub fn response(client: ApiFormat, wire: ApiFormat, upstream_status: u16, stream: bool, shape: &ClientShape) -> (ResponseTranslation, u16) {
    if upstream_status >= 400 {
        return (ResponseTranslation::Whole { buffer: BytesMut::new(), status: upstream_status, wire }, client_error_status(client, upstream_status));
    }
    if !stream {
        return (ResponseTranslation::Whole { buffer: BytesMut::new(), status: upstream_status, wire }, upstream_status);
    }
    let translator: Box<dyn StreamTranslator + Sync> = match (client, wire) {
        (ApiFormat::Anthropic, _) => Box::new(OpenAiToAnthropicStream::new(anthropic_options(shape))),
        (ApiFormat::OpenAi, _) => Box::new(AnthropicToOpenAiStream::new(openai_options(shape))),
        (ApiFormat::Responses, ApiFormat::Anthropic) => Box::new(responses::AnthropicToResponsesStream::new(responses_options(shape))),
        (ApiFormat::Responses, _) => Box::new(responses::ChatToResponsesStream::new(responses_options(shape))),
    };
    (ResponseTranslation::Stream(translator), upstream_status)
}

fn client_error_status(client: ApiFormat, status: u16) -> u16 {
    match client {
        ApiFormat::Anthropic => translate::upstream_error_to_anthropic(status, b"").0,
        ApiFormat::OpenAi | ApiFormat::Responses => translate::upstream_error_to_openai(status, b"").0,
    }
}

fn anthropic_options(shape: &ClientShape) -> ToAnthropicOptions {
    ToAnthropicOptions { client_model: shape.client_model.clone(), stop_sequences: shape.stop_sequences.clone(), input_tokens_estimate: None }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn openai_options(shape: &ClientShape) -> ToOpenAiResponseOptions {
    let mut opts = ToOpenAiResponseOptions::new(shape.client_model.clone(), now());
    opts.include_usage = shape.include_usage;
    opts
}

fn responses_options(shape: &ClientShape) -> ToResponsesOptions {
    ToResponsesOptions { client_model: shape.client_model.clone(), created_at: now(), shape: shape.responses.clone() }
}

/// Feeds one upstream chunk; returns what to send the client now.
pub fn body_chunk(client: ApiFormat, translation: &mut ResponseTranslation, shape: &ClientShape, chunk: Option<&Bytes>, end: bool) -> Bytes {
    match translation {
        ResponseTranslation::Stream(t) => {
            let mut out = Vec::new();
            if let Some(chunk) = chunk {
                t.feed_into(chunk, &mut out);
            }
            if end {
                t.finish_into(&mut out);
            }
            Bytes::from(out)
        }
        ResponseTranslation::Whole { buffer, status, wire } => {
            if let Some(chunk) = chunk {
                buffer.extend_from_slice(chunk);
            }
            if !end {
                return Bytes::new();
            }
            Bytes::from(whole_body(client, *wire, *status, buffer, shape))
        }
    }
}

fn error_body(client: ApiFormat, status: u16, body: &[u8]) -> Vec<u8> {
    match client {
        ApiFormat::Anthropic => translate::upstream_error_to_anthropic(status, body).1,
        ApiFormat::OpenAi | ApiFormat::Responses => translate::upstream_error_to_openai(status, body).1,
    }
}

fn whole_body(client: ApiFormat, wire: ApiFormat, status: u16, body: &[u8], shape: &ClientShape) -> Vec<u8> {
    if status >= 400 {
        return error_body(client, status, body);
    }
    let result = match (client, wire) {
        (ApiFormat::Anthropic, _) => translate::openai_response_to_anthropic(body, &anthropic_options(shape)),
        (ApiFormat::OpenAi, _) => translate::anthropic_response_to_openai(body, &openai_options(shape)),
        (ApiFormat::Responses, ApiFormat::Anthropic) => responses::anthropic_response_to_responses(body, &responses_options(shape)),
        (ApiFormat::Responses, _) => responses::chat_response_to_responses(body, &responses_options(shape)),
    };
    match result {
        Ok(translated) => translated.body,
        Err(e) => {
            log::warn!("could not translate a provider response: {e}");
            error_body(client, 502, e.to_string().as_bytes())
        }
    }
}

/// A mid-stream failure (upstream cut, timeout) as the client's own stream error event.
pub fn stream_failure(translation: &mut ResponseTranslation, message: &str) -> Option<Bytes> {
    match translation {
        ResponseTranslation::Stream(t) if !t.is_done() => Some(Bytes::from(t.fail(translate::StreamFailure::Api, message))),
        _ => None,
    }
}
