//! Anthropic Messages request → OpenAI Chat Completions request: the entry point that walks the top-level
//! fields, delegating messages, blocks and tools to their modules. Every top-level field is handled by
//! name — mapped, deliberately dropped (and reported), or reported as unknown — so nothing the caller asked
//! for disappears without a note.

use serde_json::{json, Map, Value};

use super::blocks::system_blocks;
use super::messages::Conversation;
use super::tools::{translate_tool_choice, translate_tools};
use crate::translate::effort::Effort;
use crate::translate::ids::sha256_hex;
use crate::translate::notes::{Notes, Translated};
use crate::translate::read::{
    as_object, opt_array, opt_bool, opt_f64, opt_object, opt_str, opt_u64, to_bytes, Path, Res,
    Side,
};

const SIDE: Side = Side::Request;

/// OpenAI caps `stop` at four sequences.
const MAX_STOP_SEQUENCES: usize = 4;
/// OpenAI's documented limit for `user`; longer ids are replaced by their SHA-256 hex (64 characters).
const MAX_USER_LEN: usize = 64;

/// Which field carries the output limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaxTokensField {
    /// `max_tokens`: every OpenAI-compatible server.
    #[default]
    MaxTokens,
    /// `max_completion_tokens`: required by OpenAI's reasoning models (o-series, gpt-5).
    MaxCompletionTokens,
}

/// Where `role: "system"` messages found inside `messages` go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MidSystem {
    /// A system message at the same position (OpenAI, OpenRouter, vLLM with most templates).
    #[default]
    InPlace,
    /// A user message wrapped in `<system-reminder>` tags, for chat templates that reject a system
    /// message after the first position (some Qwen and Llama templates).
    AsUser,
}

/// What the target upstream supports, from the route's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToOpenAiOptions {
    /// Replaces the client's `model`.
    pub upstream_model: String,
    /// The target accepts `reasoning_effort`; otherwise thinking requests are dropped and reported.
    pub reasoning_effort: bool,
    pub max_tokens_field: MaxTokensField,
    /// Send earlier-turn `thinking` text back as `reasoning_content` on assistant messages (DeepSeek-style
    /// servers that want it for tool-use turns); by default it is dropped, since most servers reject or
    /// ignore it and Anthropic signatures mean nothing to them.
    pub replay_reasoning_content: bool,
    pub mid_system: MidSystem,
    /// The model's output limit: a larger `max_tokens` (Claude Code asks 32000–128000) is lowered to it
    /// and reported as `max_tokens_clamped`, instead of the upstream rejecting the request.
    pub max_output_tokens: Option<u64>,
    /// The target honours Anthropic-style `cache_control` on content parts and tools (OpenRouter for
    /// Anthropic and Gemini models): content keeps its block structure and markers (see `messages.rs`).
    /// Otherwise markers are dropped and reported.
    pub cache_control: bool,
    /// OpenAI's `prompt_cache_key`, sent as is: a stable, hashed conversation identity that routes a
    /// conversation's turns to the same cache (see `cache_key.rs`).
    pub prompt_cache_key: Option<String>,
}

impl ToOpenAiOptions {
    /// Defaults: no reasoning support, `max_tokens`, no reasoning replay, system messages in place, no cap,
    /// cache markers dropped, no `prompt_cache_key`.
    pub fn new(upstream_model: impl Into<String>) -> Self {
        ToOpenAiOptions {
            upstream_model: upstream_model.into(),
            reasoning_effort: false,
            max_tokens_field: MaxTokensField::MaxTokens,
            replay_reasoning_content: false,
            mid_system: MidSystem::InPlace,
            max_output_tokens: None,
            cache_control: false,
            prompt_cache_key: None,
        }
    }
}

/// Top-level fields dropped on purpose: (field, note).
const DROPPED_FIELDS: &[(&str, &str)] = &[
    ("context_management", "context_management"),
    ("top_k", "top_k"),
    ("service_tier", "service_tier"),
    ("container", "container"),
    ("mcp_servers", "mcp_servers"),
    ("inference_geo", "inference_geo"),
];

/// Top-level fields read below.
const MAPPED_FIELDS: &[&str] = &[
    "model",
    "messages",
    "system",
    "max_tokens",
    "temperature",
    "top_p",
    "stop_sequences",
    "stream",
    "metadata",
    "tools",
    "tool_choice",
    "thinking",
    "output_config",
];

/// Translates an Anthropic Messages request body into an OpenAI Chat Completions body.
pub fn anthropic_request_to_openai(
    req: &Value,
    opts: &ToOpenAiOptions,
) -> Result<Translated, crate::translate::TranslateError> {
    let root = Path::ROOT;
    let m = as_object(req, &root, SIDE)?;
    let mut notes = Notes::default();
    let mut out = Map::new();
    out.insert("model".into(), json!(opts.upstream_model));

    let messages_at = root.key("messages");
    let messages = opt_array(m, "messages", &root, SIDE)?
        .ok_or_else(|| messages_at.err(SIDE, "an array (required)"))?;
    let mut conv = Conversation::new(opts.mid_system, opts.replay_reasoning_content, opts.cache_control);
    if let Some(system) = m.get("system").filter(|s| !s.is_null()) {
        let blocks = system_blocks(system, &root.key("system"), &mut notes)?;
        conv.push_system(blocks, &mut notes);
    }
    for (i, msg) in messages.iter().enumerate() {
        conv.add(msg, &messages_at.index(i), &mut notes)?;
    }
    let turn_effort = conv.turn_effort.clone();
    out.insert("messages".into(), Value::Array(conv.render(&mut notes)));

    if let Some(mut n) = opt_u64(m, "max_tokens", &root, SIDE)? {
        if let Some(cap) = opts.max_output_tokens.filter(|cap| n > *cap) {
            notes.degrade("max_tokens_clamped");
            n = cap;
        }
        let key = match opts.max_tokens_field {
            MaxTokensField::MaxTokens => "max_tokens",
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
        };
        out.insert(key.into(), json!(n));
    }
    for key in ["temperature", "top_p"] {
        if let Some(x) = opt_f64(m, key, &root, SIDE)? {
            out.insert(key.into(), json!(x));
        }
    }
    if let Some(stops) = stop_sequences(m, &root, &mut notes)? {
        out.insert("stop".into(), stops);
    }
    if let Some(user) = user_field(m, &root, &mut notes)? {
        out.insert("user".into(), json!(user));
    }
    if let Some(key) = &opts.prompt_cache_key {
        out.insert("prompt_cache_key".into(), json!(key));
    }
    if opt_bool(m, "stream", &root, SIDE)? == Some(true) {
        out.insert("stream".into(), json!(true));
        out.insert("stream_options".into(), json!({ "include_usage": true }));
    }
    tools_fields(m, &root, opts.cache_control, &mut out, &mut notes)?;
    reasoning_fields(m, &root, turn_effort.as_deref(), opts, &mut out, &mut notes)?;

    for (field, note) in DROPPED_FIELDS {
        if m.get(*field).is_some_and(|v| !v.is_null()) {
            notes.drop(note);
        }
    }
    if m.keys().any(|k| {
        !MAPPED_FIELDS.contains(&k.as_str()) && !DROPPED_FIELDS.iter().any(|(f, _)| f == k)
    }) {
        notes.drop("unknown_fields");
    }
    Ok(Translated {
        body: to_bytes(&Value::Object(out)),
        notes,
    })
}

fn stop_sequences(m: &Map<String, Value>, root: &Path, notes: &mut Notes) -> Res<Option<Value>> {
    let Some(arr) = opt_array(m, "stop_sequences", root, SIDE)? else {
        return Ok(None);
    };
    let at = root.key("stop_sequences");
    let mut stops = Vec::new();
    for (i, s) in arr.iter().enumerate() {
        let s = s
            .as_str()
            .ok_or_else(|| at.index(i).err(SIDE, "a string"))?;
        stops.push(json!(s));
    }
    if stops.is_empty() {
        return Ok(None);
    }
    if stops.len() > MAX_STOP_SEQUENCES {
        notes.degrade("stop_sequences_truncated");
        stops.truncate(MAX_STOP_SEQUENCES);
    }
    Ok(Some(Value::Array(stops)))
}

/// `metadata.user_id` → `user`, verbatim when short, else its SHA-256 hex (stable per id, no PII leak).
fn user_field(m: &Map<String, Value>, root: &Path, notes: &mut Notes) -> Res<Option<String>> {
    let Some(meta) = opt_object(m, "metadata", root, SIDE)? else {
        return Ok(None);
    };
    let Some(user) = opt_str(meta, "user_id", &root.key("metadata"), SIDE)? else {
        return Ok(None);
    };
    if user.chars().count() <= MAX_USER_LEN {
        return Ok(Some(user.to_owned()));
    }
    notes.degrade("user_hashed");
    Ok(Some(sha256_hex(user)))
}

fn tools_fields(
    m: &Map<String, Value>,
    root: &Path,
    keep_cache: bool,
    out: &mut Map<String, Value>,
    notes: &mut Notes,
) -> Res<()> {
    let tools = match opt_array(m, "tools", root, SIDE)? {
        Some(list) => translate_tools(list, &root.key("tools"), keep_cache, notes)?,
        None => Vec::new(),
    };
    let choice = match m.get("tool_choice").filter(|v| !v.is_null()) {
        Some(c) => translate_tool_choice(c, &root.key("tool_choice"))?,
        None => (None, None),
    };
    if tools.is_empty() {
        // OpenAI rejects an empty `tools` array and a `tool_choice` without tools.
        return Ok(());
    }
    out.insert("tools".into(), Value::Array(tools));
    if let Some(c) = choice.0 {
        out.insert("tool_choice".into(), c);
    }
    if let Some(p) = choice.1 {
        out.insert("parallel_tool_calls".into(), json!(p));
    }
    Ok(())
}

/// `thinking` / `output_config.effort` → `reasoning_effort`. Precedence: the latest per-turn effort on a
/// `role: "system"` message, then top-level `output_config.effort`, then the thinking budget (see
/// `effort.rs`). `adaptive` thinking without an effort sends nothing and lets the server default.
fn reasoning_fields(
    m: &Map<String, Value>,
    root: &Path,
    turn_effort: Option<&str>,
    opts: &ToOpenAiOptions,
    out: &mut Map<String, Value>,
    notes: &mut Notes,
) -> Res<()> {
    let thinking_at = root.key("thinking");
    let (thinking_on, budget) = match opt_object(m, "thinking", root, SIDE)? {
        None => (false, None),
        Some(t) => match opt_str(t, "type", &thinking_at, SIDE)? {
            Some("enabled") => (true, opt_u64(t, "budget_tokens", &thinking_at, SIDE)?),
            Some("adaptive") => (true, None),
            Some("disabled") | None => (false, None),
            Some(_) => {
                return Err(thinking_at
                    .key("type")
                    .err(SIDE, "one of enabled, adaptive, disabled"))
            }
        },
    };
    let config_at = root.key("output_config");
    let mut top_effort = None;
    if let Some(cfg) = opt_object(m, "output_config", root, SIDE)? {
        top_effort = opt_str(cfg, "effort", &config_at, SIDE)?;
        if let Some(format) = cfg.get("format").filter(|f| !f.is_null()) {
            if let Some(rf) = response_format(format) {
                out.insert("response_format".into(), rf);
            } else {
                notes.drop("output_format");
            }
        }
    }
    let effort_word = turn_effort.or(top_effort);
    let effort = effort_word
        .and_then(Effort::from_anthropic)
        .or(budget.map(Effort::from_budget));
    if opts.reasoning_effort {
        if let Some(e) = effort.filter(|_| thinking_on || effort_word.is_some()) {
            out.insert("reasoning_effort".into(), json!(e.as_str()));
        }
    } else {
        if thinking_on {
            notes.drop("thinking");
        }
        if effort_word.is_some() {
            notes.drop("effort");
        }
    }
    Ok(())
}

/// Anthropic structured output (`output_config.format: {type: json_schema, schema}`) → OpenAI
/// `response_format`.
fn response_format(format: &Value) -> Option<Value> {
    if format.get("type")?.as_str()? != "json_schema" {
        return None;
    }
    let schema = format.get("schema")?.as_object()?;
    Some(json!({ "type": "json_schema", "json_schema": { "name": "output", "schema": schema } }))
}
