//! Pure translation between the Anthropic Messages API and the OpenAI Chat Completions API — requests,
//! responses, errors and SSE streams, both directions — with no Pingora types, so the proxy hooks stay thin
//! and every mapping is unit-tested here. Claude Code (Anthropic) can use any OpenAI-compatible model
//! (OpenRouter, OpenAI, Ollama, vLLM, GLM, Qwen, DeepSeek) with tools and streaming, and an OpenAI-SDK
//! client can use a Claude model.
//!
//! ```text
//!  Anthropic client ──request──▶ to_openai::request::anthropic_request_to_openai ──▶ OpenAI-compatible upstream
//!                   ◀─response── to_anthropic::response::openai_response_to_anthropic ◀─┘
//!                   ◀─SSE─────── to_anthropic::stream::OpenAiToAnthropicStream ◀─────────┘
//!                   ◀─error───── upstream_error::upstream_error_to_anthropic ◀───────────┘
//!  count_tokens ───────────────▶ tokens::estimate_input_tokens (local estimate)
//!
//!  OpenAI client ────request──▶ to_anthropic::request::openai_request_to_anthropic ──▶ Anthropic upstream
//!                ◀─response─── to_openai::response::anthropic_response_to_openai ◀──┘
//!                ◀─SSE──────── to_openai::stream::AnthropicToOpenAiStream ◀──────────┘
//!                ◀─error────── upstream_error::upstream_error_to_openai ◀────────────┘
//! ```
//!
//! OpenAI Responses API clients (Codex CLI) reach both kinds of upstream through `responses/`, which
//! translates to Chat Completions and composes with the translators above for Anthropic.
//!
//! Modules are named by the wire format they **produce**: `to_openai/` builds OpenAI bodies and chunks,
//! `to_anthropic/` builds Anthropic ones. Shared pieces: `cache_key` (`prompt_cache_key`), `chat_chunk` (the one `chat.completion.chunk` reader), `tool_calls` (parallel
//! tool calls assembled whole, in index order, for both Chat → Anthropic and Chat → Responses), `sse` (the SSE parser), `stream`
//! (the `StreamTranslator` contract), `stop`, `effort`, `ids`, `read` (JSON access with field
//! paths), `loose` (forgiving typed reads of stream events, which run per chunk), `notes` (what was dropped),
//! `error`. Token counts (`TokenUsage`, and the `usage` objects both APIs send) live in
//! `crate::usage`, shared with the usage ledger.
//!
//! Every translation returns [`Notes`]: stable names of what was dropped or degraded, for a response header
//! and logs. The complete list, Anthropic request → OpenAI: dropped `billing_header`, `cache_control` (unless
//! the provider keeps markers, `ToOpenAiOptions::cache_control`),
//! `context_management`, `thinking` and `effort` (target without reasoning support), `thinking_blocks`,
//! `redacted_thinking`, `server_tools`, `server_tool_blocks`, `schema_keys` (`$schema`), `defer_loading`,
//! `tool_strict`, `input_examples`, `citations`, `pdf_documents`, `file_sources`, `unknown_content_blocks`,
//! `top_k`, `service_tier`, `container`, `mcp_servers`, `inference_geo`, `output_format`, `unknown_fields`;
//! degraded `tool_result_images`, `orphan_tool_results`, `missing_tool_results`,
//! `stop_sequences_truncated`, `user_hashed`, `system_messages_as_user`, `max_tokens_clamped`. OpenAI request → Anthropic:
//! dropped `n` is an error when > 1; `reasoning_effort`, `reasoning_content`, `temperature`/`top_p`/`top_k`
//! (with thinking), `frequency_penalty`, `presence_penalty`, `logit_bias`, `logprobs`, `seed`, `modalities`,
//! `audio`, `prediction`, `store`, `metadata`, `service_tier`, `web_search_options`, `verbosity`,
//! `prompt_cache_key`, `safety_identifier`, `response_format`, `non_function_tools`, `tool_strict`,
//! `file_ids`, `unknown_content_parts`, `unknown_fields`; degraded `system_messages_moved`,
//! `temperature_clamped`, `tool_choice`, `function_messages`, `tool_arguments_unparsable`. Responses:
//! `extra_choices`, `tool_arguments_unparsable`, `redacted_thinking`, `server_tool_blocks`.

pub mod cache_key;
pub(crate) mod chat_chunk;
pub mod effort;
pub mod error;
pub mod ids;
pub(crate) mod loose;
pub mod notes;
pub(crate) mod read;
pub mod responses;
pub mod sse;
pub(crate) mod stop;
pub mod stream;
pub(crate) mod tool_calls;
pub mod to_anthropic;
pub mod to_openai;
pub mod tokens;
pub mod upstream_error;

#[cfg(test)]
mod tests;

pub use crate::usage::TokenUsage;
pub use cache_key::prompt_cache_key;
pub use error::TranslateError;
pub use notes::{Notes, Translated};
pub use stream::{StreamFailure, StreamTranslator};
pub use to_anthropic::request::{
    openai_request_to_anthropic, wants_usage_chunk, ToAnthropicRequestOptions,
};
pub use to_anthropic::response::openai_response_to_anthropic;
pub use to_anthropic::stream::OpenAiToAnthropicStream;
pub use to_anthropic::ToAnthropicOptions;
pub use to_openai::request::{
    anthropic_request_to_openai, MaxTokensField, MidSystem, ToOpenAiOptions,
};
pub use to_openai::response::anthropic_response_to_openai;
pub use to_openai::stream::AnthropicToOpenAiStream;
pub use to_openai::ToOpenAiResponseOptions;
pub use tokens::estimate_input_tokens;
pub use upstream_error::{upstream_error_to_anthropic, upstream_error_to_openai};
