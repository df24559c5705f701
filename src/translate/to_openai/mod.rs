//! Translators that produce OpenAI Chat Completions wire format: an Anthropic request for an
//! OpenAI-compatible upstream, and an Anthropic upstream's response and stream for an OpenAI client.

mod blocks;
mod chunks;
mod messages;
pub mod request;
pub mod response;
pub mod stream;
mod tools;

/// What the OpenAI-side response translators need to know about the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToOpenAiResponseOptions {
    /// The `model` the client asked for, echoed back.
    pub client_model: String,
    /// Unix seconds for `created`; passed in so translation stays pure and repeatable.
    pub created: u64,
    /// The client sent `stream_options.include_usage: true`: end the stream with a usage chunk.
    pub include_usage: bool,
}

impl ToOpenAiResponseOptions {
    pub fn new(client_model: impl Into<String>, created: u64) -> Self {
        ToOpenAiResponseOptions {
            client_model: client_model.into(),
            created,
            include_usage: false,
        }
    }
}
