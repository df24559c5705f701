//! A mock LLM provider: a deterministic, byte-realistic fake of the Anthropic Messages API and the OpenAI Chat
//! Completions API. Integration tests run the gateway against it, the gateway's embedded default config points at
//! it so that a newcomer gets real-looking replies with no provider keys, and load tests use it as a fast upstream.
//!
//! # Endpoints
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /v1/messages` (any query string, e.g. `?beta=true`) | Anthropic `message` JSON, or SSE with `"stream": true` |
//! | `POST /v1/messages/count_tokens` | `{"input_tokens": N}` |
//! | `POST /v1/chat/completions` | OpenAI `chat.completion` JSON, or `chat.completion.chunk` SSE with `"stream": true` |
//! | `POST /v1/responses` | OpenAI Responses API `response` JSON, or its typed SSE events (`response.created` … `response.completed`) with `"stream": true` |
//! | `GET /v1/models` | OpenAI list shape; Anthropic list shape when an `anthropic-version` header is present |
//! | `GET /mock/stats` (no key, never faulted, not recorded or counted) | `{"connections": <TCP connections accepted since start, the asking one included>, "requests": <requests handled>, "open_connections": <open now, the asking one left out>, "aborted_streams": <streamed bodies whose client left before the end>, "usage": {"<model>": {"requests", "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_creation_5m_input_tokens", "cache_creation_1h_input_tokens", "cache_read_input_tokens", "reasoning_tokens"}}}` — usage as reported in replies delivered without a fault, `input_tokens` the uncached part in every API |
//! | anything else | 404 in the format of the API the path looks like (`/v1/messages…`, `/v1/complete` → Anthropic; `/v1/chat/…`, `/v1/completions`, `/v1/embeddings`, `/v1/responses…` → OpenAI; otherwise Anthropic if `anthropic-version` is sent, else OpenAI) |
//!
//! Keys: Anthropic routes take `x-api-key` or `Authorization: Bearer`, OpenAI routes `Authorization: Bearer`.
//! A missing key is a 401 in that API's format; with [`MockOptions::require_key`] any other key is a 401 too.
//! A body that is not JSON is a 400 `invalid_request_error`; so is one missing what the real API requires
//! (Anthropic: `model`, `messages`, `max_tokens` ≥ 1; OpenAI: `model`, `messages`; Responses: `model`, and no
//! `previous_response_id` — the mock stores nothing, so any is `previous_response_not_found`). Everything else in a request —
//! `role: "system"` messages, `metadata`, `cache_control`, `context_management`, unknown fields — is accepted.
//!
//! # Deterministic replies
//!
//! A reply's content depends only on the request body (message/tool ids, `created` and thinking signatures are
//! derived from its hash), so the same request always gets the same reply; only the `request-id` /
//! `x-request-id` headers differ, being unique per request. "Last user text" is the last text block of the last
//! `role: "user"` message (OpenAI: of the last `user`/`tool` message; Responses: of the last `user` message item).
//!
//! - **Text**: `Hello from the switchyard mock (model <model>). You said: <first 80 chars of last user text>`.
//! - **Tool result**: if the last user turn carries a tool result (an Anthropic `tool_result` block — the first
//!   one — or trailing OpenAI `role: "tool"` messages or Responses `function_call_output` items — the first of
//!   them), the text is
//!   `Tool result received: <first 200 chars of its text>` and no tool is called.
//! - **Tool call**: with tools offered and no tool result, a tool is called when the tool choice forces one
//!   (Anthropic `tool`/`any`, OpenAI named function/`required`), when the last user text contains
//!   `run: <command>` (to the end of the line) and a shell tool is offered (Claude Code's `Bash`, Codex CLI's
//!   `exec_command` or `shell`), or when the last user text
//!   names an offered tool (whole word, case-sensitive). Precedence: a named forced tool, then `Bash` for `run:`,
//!   then the first tool named in the text, then (only for `any`/`required`) the first tool offered. A tool
//!   choice of `none` never calls a tool. The reply is a text block `I'll use <name>.` followed by the call
//!   (`stop_reason: "tool_use"` / `finish_reason: "tool_calls"` / a `function_call` item). With a `run:` command
//!   `Bash` gets `{"command": "<command>", "description": "mock"}`, `exec_command` `{"cmd": "<command>"}` and
//!   `shell` `{"command": ["bash", "-lc", "<command>"]}`; any other tool gets arguments generated from its schema:
//!   required properties only — strings `"mock"`, numbers `1`, booleans `true`, enums/consts their first value,
//!   arrays `minItems` items, objects recursively — with keys in sorted order.
//! - **Parallel tool calls**: when a shell tool is called for a `run:` line, every further `run:` line of the same
//!   text adds one more call of it (`I'll use Bash and Bash.`), each with its own id. Anthropic replies carry them
//!   as consecutive `tool_use` blocks, Responses replies as consecutive `function_call` items; OpenAI chat streams
//!   send them one after the other, or interleaved (see `x-mock-tool-stream`).
//! - **Reasoning**: an Anthropic request with `thinking.type` `enabled` or `adaptive` gets a `thinking` block
//!   first (`Mock reasoning about: <the echoed text>` plus a deterministic base64 `signature`); an OpenAI request
//!   with `reasoning_effort` (other than `"none"`) or a `reasoning` object gets the same text as
//!   `reasoning_content`, in the message or in deltas before the content; a Responses request with a `reasoning`
//!   object (effort other than `"none"`) gets a `reasoning` item first, its text as a `summary_text` when
//!   `reasoning.summary` is set and an opaque `encrypted_content` when `include` asks for it.
//! - **max_tokens**: when the text's words plus the tool arguments' words exceed `max_tokens`
//!   (OpenAI: `max_completion_tokens`, else `max_tokens`), the text is cut after `max_tokens` words, the tool call
//!   is dropped and the stop reason is `max_tokens` / `length`. Reasoning does not count against the limit.
//! - **Usage**: input tokens = ceil(body bytes / 4); output tokens = whitespace-separated words in reasoning, text
//!   and tool arguments (OpenAI `reasoning_tokens` = the reasoning's words).
//! - **Prompt cache**: each instance remembers the prompt prefixes it has seen, as providers do (see `cache.rs`):
//!   with `cache_control` markers (Anthropic; OpenRouter-style on the OpenAI API) the prefixes up to each marker
//!   are written and a later request reads the longest known one — `cache_read_input_tokens` /
//!   `cache_creation_input_tokens` with its `cache_creation.ephemeral_5m/1h_input_tokens` split by each marker's
//!   `ttl`, or `prompt_tokens_details.cached_tokens` / `cache_write_tokens` (Responses: `input_tokens_details`);
//!   without markers the OpenAI APIs (Chat Completions and Responses) cache every prefix automatically and report
//!   hits as `cached_tokens` (128-token steps). Anthropic's `input_tokens` is the uncached rest; OpenAI's
//!   `prompt_tokens` / `input_tokens` include the cached part, and a `deepseek` model also gets
//!   `prompt_cache_hit_tokens` / `prompt_cache_miss_tokens`. Prefixes shorter than 1024 tokens are never cached,
//!   so short requests report 0.
//! - **Streaming**: text and reasoning are each split into `chunks` deltas of nearly equal length on character
//!   boundaries (fewer for short texts), tool arguments into `chunks` JSON fragments. Anthropic streams open the
//!   tool input with an empty `partial_json`, as the real API does; OpenAI streams with
//!   `stream_options.include_usage` carry `"usage": null` on every chunk and end with a `choices: []` usage chunk.
//!
//! # Per-request overrides (headers; a gateway forwards unknown headers)
//!
//! - `x-mock-chunks: N` — deltas per text (default [`MockOptions::chunks`], 8).
//! - `x-mock-delay-ms: N` — pause between SSE events; a non-streaming reply is held back once by this long
//!   (default [`MockOptions::stream_delay`], 0).
//! - `x-mock-fault: <fault>` — see [`Fault`]; overrides [`MockOptions::fault`].
//! - `x-mock-output-tokens: N` — the reply's text is padded with filler words until the output tokens reach N
//!   (within `max_tokens`), so a cost simulation can give each turn a realistic output length.
//! - `x-mock-tool-stream: sequential|interleaved` — see [`ToolStream`]; overrides [`MockOptions::tool_stream`].
//!   `interleaved` sends every call's header (`index`, `id`, `type`, `function.name`, empty `arguments`) in one
//!   chunk, then one `{"index":i,"function":{"arguments":"…"}}` fragment per chunk, the calls taking turns.
//!
//! An unparsable override is a 400 naming the header and the valid syntax.
//!
//! # Faults
//!
//! Faults that replace the response (`status:<code>`, `overloaded`, `rate_limit:<secs>`, `unauthorized`, `hang`,
//! `wrong_content_type`, `close`) apply to every path, before routing and authentication. Faults that distort a
//! reply (`hang_body`, `drip:<ms>`, `cut:<n>`, `malformed`) apply only to a reply that would have succeeded; for
//! non-streaming replies they act on the JSON body split into `chunks` pieces (sent with the full
//! `content-length`), and `malformed` always answers `application/json` with the non-streaming reply cut in half.
//!
//! # Recording
//!
//! With [`MockOptions::record`], every request (but `/mock/stats`) appends one line, flushed at once:
//! `{"method":"POST","path":"/v1/messages?beta=true","headers":[["name","value"],…],"body":"<lossy UTF-8>"}`,
//! headers in received order with lowercase names.

mod anthropic;
mod body;
mod cache;
mod catalog;
mod fault;
mod handler;
mod ids;
mod openai;
mod plan;
mod record;
mod request;
mod respond;
mod responses;
mod responses_request;
mod schema;
mod server;
mod stats;
mod wire;

#[cfg(test)]
pub(crate) mod tests;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use fault::{Fault, ParseFaultError};
pub use openai::ToolStream;

/// How a mock instance behaves; per-request headers override `chunks`, `stream_delay` and `fault`.
#[derive(Clone)]
pub struct MockOptions {
    /// Append one JSON line per received request to this file.
    pub record: Option<PathBuf>,
    /// Default number of text deltas in a streamed reply (default 8; 0 is taken as 1).
    pub chunks: usize,
    /// Pause between SSE events (default none).
    pub stream_delay: Duration,
    /// A fault applied to every request (but `/mock/stats`).
    pub fault: Option<Fault>,
    /// If set, the provider key every request must present; any other is refused with 401.
    pub require_key: Option<String>,
    /// Faults for requests presenting a given provider key, so one key of a pool can misbehave.
    pub key_faults: Vec<(String, Fault)>,
    /// How OpenAI streams order the pieces of parallel tool calls (default: one call after the other).
    pub tool_stream: ToolStream,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            record: None,
            chunks: 8,
            stream_delay: Duration::ZERO,
            fault: None,
            require_key: None,
            key_faults: Vec::new(),
            tool_stream: ToolStream::Sequential,
        }
    }
}

impl fmt::Debug for MockOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let MockOptions {
            record,
            chunks,
            stream_delay,
            fault,
            require_key,
            key_faults,
            tool_stream,
        } = self;
        f.debug_struct("MockOptions")
            .field("record", record)
            .field("chunks", chunks)
            .field("stream_delay", stream_delay)
            .field("fault", fault)
            .field("require_key", &require_key.as_ref().map(|_| "*****"))
            .field(
                "key_faults",
                &key_faults
                    .iter()
                    .map(|(_, f)| ("*****", f))
                    .collect::<Vec<_>>(),
            )
            .field("tool_stream", tool_stream)
            .finish()
    }
}

/// The ids of the models the mock lists in `GET /v1/models` (it answers for any name).
pub fn model_ids() -> impl Iterator<Item = &'static str> {
    catalog::MODELS.iter().map(|m| m.id)
}

/// Serves the mock on `listener` for as long as the future is polled.
///
/// # Errors
/// Only when the options cannot be set up (the record file cannot be opened); accept errors are logged and
/// survived, so the future otherwise never completes.
pub async fn serve(listener: tokio::net::TcpListener, options: MockOptions) -> std::io::Result<()> {
    server::serve(listener, options).await
}

/// Starts the mock on its own thread with its own small tokio runtime (two workers; used when the gateway embeds
/// it); returns the bound address (useful with port 0). The thread runs until the process exits.
///
/// # Errors
/// Binding `addr`, opening the record file, building the runtime or spawning the thread failed; all happen before
/// this returns.
pub fn spawn_background(addr: SocketAddr, options: MockOptions) -> std::io::Result<SocketAddr> {
    server::spawn_background(addr, options)
}
