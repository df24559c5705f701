//! The Anthropic legs of a Responses exchange, composed through Chat Completions: the request goes
//! Responses → Chat (`request.rs`) → Anthropic (the existing `to_anthropic` translator), the answer comes
//! back Anthropic → Chat (`to_openai`) → Responses (`response.rs`, `stream.rs`). Each hop is a tested
//! translator of its own, so the mappings Claude Code and the OpenAI SDKs rely on are written once.
//! What the pivot cannot carry: Anthropic's thinking signatures (no Responses client could send them
//! back to Anthropic anyway) and the cache-write count (Responses reports cached reads only; cache writes
//! stay inside `input_tokens`).

use super::objects::ToResponsesOptions;
use super::request::{responses_request_to_chat, ResponsesShape, Target};
use super::response::chat_response_to_responses;
use super::stream::ChatToResponsesStream;
use crate::translate::error::TranslateError;
use crate::translate::notes::{Notes, Translated};
use crate::translate::sse::SseEvent;
use crate::translate::sse::SseParser;
use crate::translate::stream::{StreamFailure, StreamTranslator};
use crate::translate::to_anthropic::request::{
    openai_request_to_anthropic, ToAnthropicRequestOptions,
};
use crate::translate::to_openai::response::anthropic_response_to_openai;
use crate::translate::to_openai::stream::AnthropicToOpenAiStream;
use crate::translate::to_openai::ToOpenAiResponseOptions;
use crate::usage::TokenUsage;

/// `max_tokens` for an Anthropic target when the client set no `max_output_tokens` (Codex never does):
/// what Claude Code asks of Claude models, and room for the largest thinking budget below it.
pub const DEFAULT_MAX_TOKENS: u64 = 32_000;

fn merge(into: &mut Notes, from: &Notes) {
    for d in &from.dropped {
        into.drop(d);
    }
    for d in &from.degraded {
        into.degrade(d);
    }
}

/// Translates a Responses request into an Anthropic Messages request.
pub fn responses_request_to_anthropic(
    req: &serde_json::Value,
    upstream_model: &str,
    default_max_tokens: u64,
) -> Result<(Translated, ResponsesShape), TranslateError> {
    let step = responses_request_to_chat(
        req,
        upstream_model,
        &Target::Anthropic { default_max_tokens },
    )?;
    let anthropic =
        openai_request_to_anthropic(&step.chat, &ToAnthropicRequestOptions::new(upstream_model))?;
    let mut notes = step.notes;
    merge(&mut notes, &anthropic.notes);
    Ok((
        Translated {
            body: anthropic.body,
            notes,
        },
        step.shape,
    ))
}

fn chat_options(opts: &ToResponsesOptions) -> ToOpenAiResponseOptions {
    let mut chat = ToOpenAiResponseOptions::new(opts.client_model.clone(), opts.created_at);
    chat.include_usage = true;
    chat
}

/// Translates an Anthropic message into a Response object.
pub fn anthropic_response_to_responses(
    body: &[u8],
    opts: &ToResponsesOptions,
) -> Result<Translated, TranslateError> {
    let chat = anthropic_response_to_openai(body, &chat_options(opts))?;
    let mut out = chat_response_to_responses(&chat.body, opts)?;
    let mut notes = chat.notes;
    merge(&mut notes, &out.notes);
    out.notes = notes;
    Ok(out)
}

/// Anthropic SSE → Responses SSE: the Anthropic → Chat translator feeding the Chat → Responses one.
#[derive(Debug)]
pub struct AnthropicToResponsesStream {
    first: AnthropicToOpenAiStream,
    second: ChatToResponsesStream,
    between: Vec<u8>,
}

impl AnthropicToResponsesStream {
    pub fn new(opts: ToResponsesOptions) -> Self {
        AnthropicToResponsesStream {
            first: AnthropicToOpenAiStream::new(chat_options(&opts)),
            second: ChatToResponsesStream::new(opts),
            between: Vec::new(),
        }
    }

    /// Hands what the first translator produced to the second.
    fn pass_on(&mut self, out: &mut Vec<u8>) {
        let between = std::mem::take(&mut self.between);
        self.second.feed_into(&between, out);
        self.between = between;
        self.between.clear();
    }
}

impl StreamTranslator for AnthropicToResponsesStream {
    fn parser_mut(&mut self) -> &mut SseParser {
        self.first.parser_mut()
    }

    fn on_event(&mut self, event: SseEvent<'_>, out: &mut Vec<u8>) {
        let mut between = std::mem::take(&mut self.between);
        self.first.on_event(event, &mut between);
        self.between = between;
        self.pass_on(out);
    }

    fn on_eof(&mut self, out: &mut Vec<u8>) {
        if !self.first.is_done() {
            let mut between = std::mem::take(&mut self.between);
            self.first.on_eof(&mut between);
            self.between = between;
            self.pass_on(out);
        }
        self.second.finish_into(out);
    }

    fn fail_into(&mut self, kind: StreamFailure, message: &str, out: &mut Vec<u8>) {
        self.second.fail_into(kind, message, out);
    }

    fn usage(&self) -> TokenUsage {
        self.first.usage()
    }

    fn is_done(&self) -> bool {
        self.second.is_done()
    }
}
