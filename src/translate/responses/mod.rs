//! The OpenAI Responses API (`POST /v1/responses`, what Codex CLI speaks) for targets that do not serve it:
//! OpenAI-compatible Chat Completions servers and Anthropic. (Providers that serve the Responses API get
//! the client's body untouched; nothing here runs for them.)
//!
//! Chat Completions is the pivot. It is the Responses API's own predecessor — items map onto messages and
//! tool calls one to one — and the existing Chat ⇄ Anthropic translators already carry everything an
//! Anthropic target can take, so the Anthropic legs are compositions rather than a third mapping:
//!
//! ```text
//!  Responses client ─request─▶ request::responses_request_to_chat ─────────────────────────▶ Chat upstream
//!                   ◀─JSON──── response::chat_response_to_responses ◀─────────────────────────┘
//!                   ◀─SSE───── stream::ChatToResponsesStream ◀────────────────────────────────┘
//!
//!  Responses client ─request─▶ responses_request_to_chat ─▶ to_anthropic::request ─────────▶ Anthropic upstream
//!                   ◀─JSON──── chat_response_to_responses ◀─ to_openai::response ◀──────────┘
//!                   ◀─SSE───── AnthropicToResponsesStream = to_openai::stream ▶ ChatToResponsesStream
//!  errors (both)    ◀───────── upstream_error::upstream_error_to_openai (the Responses API's error shape)
//! ```
//!
//! Notes (`x-switchyard-translation`), Responses request → Chat: dropped `include`, `prompt_cache_key`,
//! `safety_identifier`, `metadata`, `service_tier`, `max_tool_calls`, `logprobs` (`top_logprobs`),
//! `client_metadata`, `store` (when true), `truncation` (when auto), `verbosity`, `text_format` (formats
//! other than text/json), `reasoning` (target without reasoning support, or an Anthropic target mid tool
//! loop), `reasoning_items`, `encrypted_reasoning`, `hosted_tools`, `hosted_tool_items`, `custom_tools`,
//! `tool_strict`, `file_ids`, `input_files`, `input_audio`, `system_images`, `tool_output_images`,
//! `unknown_content_parts`, `unknown_input_items`, `unknown_fields`; degraded `namespace_tools_flattened`,
//! `custom_tool_calls`, `tool_choice`, `orphan_tool_outputs`, `missing_tool_outputs`, `max_tokens_clamped`,
//! `user_hashed`, `thinking_off_in_tool_loop`. Refused with 400: `previous_response_id`, `conversation`,
//! `prompt`, `background: true`, `item_reference` items. The Anthropic leg adds the Chat → Anthropic notes.
//!
//! `usage` reads a Responses provider's own token counts (JSON `usage`, or the terminal stream event's),
//! for accounting native pass-through traffic.

pub mod anthropic;
mod input;
pub mod objects;
pub mod request;
pub mod response;
pub mod stream;
mod tools;
pub mod usage;

pub use anthropic::{
    anthropic_response_to_responses, responses_request_to_anthropic, AnthropicToResponsesStream,
};
pub use objects::{ResponsesUsage, ToResponsesOptions};
pub use request::{responses_request_to_chat, ResponsesShape, Target, ToChat};
pub use response::chat_response_to_responses;
pub use stream::ChatToResponsesStream;
pub use tools::ToolNames;
