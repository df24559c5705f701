//! OpenAI Chat Completions request → Anthropic Messages request, for an OpenAI-SDK client using a Claude
//! model. Every top-level field is mapped, dropped with a note, or reported as unknown.
//!
//! `max_tokens` is required by Anthropic: `max_completion_tokens`, else `max_tokens`, else
//! [`DEFAULT_MAX_TOKENS`]. `reasoning_effort` becomes a thinking budget (table in `effort.rs`), clamped
//! below `max_tokens`; when the clamped budget is under Anthropic's 1024 minimum, thinking is dropped.
//! With thinking on, Anthropic rejects `temperature` ≠ 1, `top_p` < 0.95 and `top_k`, so those are dropped.

use serde_json::{json, Map, Value};

use super::messages::translate_messages;
use super::tools::{translate_functions, translate_tool_choice, translate_tools};
use crate::translate::effort::budget_for_reasoning_effort;
use crate::translate::error::TranslateError;
use crate::translate::notes::{Notes, Translated};
use crate::translate::read::{
    as_object, opt_array, opt_bool, opt_f64, opt_str, opt_u64, to_bytes, Path, Res, Side,
};

const SIDE: Side = Side::Request;

/// `max_tokens` when the OpenAI request sets no limit.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;
/// Anthropic's smallest thinking budget.
const MIN_THINKING_BUDGET: u64 = 1024;

/// What the Anthropic target supports, from the route's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToAnthropicRequestOptions {
    pub upstream_model: String,
    /// The model supports extended thinking; otherwise `reasoning_effort` is dropped and reported.
    pub thinking: bool,
    pub default_max_tokens: u64,
}

impl ToAnthropicRequestOptions {
    pub fn new(upstream_model: impl Into<String>) -> Self {
        ToAnthropicRequestOptions {
            upstream_model: upstream_model.into(),
            thinking: true,
            default_max_tokens: DEFAULT_MAX_TOKENS,
        }
    }
}

/// Fields with no Anthropic equivalent, dropped on purpose: (field, note).
const DROPPED_FIELDS: &[(&str, &str)] = &[
    ("frequency_penalty", "frequency_penalty"),
    ("presence_penalty", "presence_penalty"),
    ("logit_bias", "logit_bias"),
    ("logprobs", "logprobs"),
    ("top_logprobs", "logprobs"),
    ("seed", "seed"),
    ("modalities", "modalities"),
    ("audio", "audio"),
    ("prediction", "prediction"),
    ("store", "store"),
    ("metadata", "metadata"),
    ("service_tier", "service_tier"),
    ("web_search_options", "web_search_options"),
    ("verbosity", "verbosity"),
    ("prompt_cache_key", "prompt_cache_key"),
    ("safety_identifier", "safety_identifier"),
    ("response_format", "response_format"),
];

const MAPPED_FIELDS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop",
    "user",
    "stream",
    "stream_options",
    "n",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "functions",
    "function_call",
    "reasoning_effort",
];

/// Translates an OpenAI Chat Completions request body into an Anthropic Messages body.
pub fn openai_request_to_anthropic(
    req: &Value,
    opts: &ToAnthropicRequestOptions,
) -> Result<Translated, TranslateError> {
    let root = Path::ROOT;
    let m = as_object(req, &root, SIDE)?;
    let mut notes = Notes::default();
    if opt_u64(m, "n", &root, SIDE)?.is_some_and(|n| n > 1) {
        return Err(root.key("n").unsupported("n>1 is not supported"));
    }
    let messages_at = root.key("messages");
    let msgs = opt_array(m, "messages", &root, SIDE)?
        .ok_or_else(|| messages_at.err(SIDE, "an array (required)"))?;
    let conv = translate_messages(msgs, &messages_at, &mut notes)?;

    let mut out = Map::new();
    out.insert("model".into(), json!(opts.upstream_model));
    if let Some(system) = conv.system_value() {
        out.insert("system".into(), system);
    }
    out.insert("messages".into(), Value::Array(conv.messages));
    let mut max_tokens = match opt_u64(m, "max_completion_tokens", &root, SIDE)? {
        Some(n) => n,
        None => opt_u64(m, "max_tokens", &root, SIDE)?.unwrap_or(opts.default_max_tokens),
    };
    max_tokens = max_tokens.max(1);
    out.insert("max_tokens".into(), json!(max_tokens));

    let thinking = thinking_budget(m, &root, opts, max_tokens, &mut notes)?;
    sampling_fields(m, &root, thinking.is_some(), &mut out, &mut notes)?;
    if let Some(budget) = thinking {
        out.insert(
            "thinking".into(),
            json!({ "type": "enabled", "budget_tokens": budget }),
        );
    }
    if let Some(stops) = stop_sequences(m.get("stop"), &root.key("stop"))? {
        out.insert("stop_sequences".into(), stops);
    }
    if let Some(user) = opt_str(m, "user", &root, SIDE)? {
        out.insert("metadata".into(), json!({ "user_id": user }));
    }
    if opt_bool(m, "stream", &root, SIDE)? == Some(true) {
        out.insert("stream".into(), json!(true));
    }
    let mut tools = match opt_array(m, "tools", &root, SIDE)? {
        Some(t) => translate_tools(t, &root.key("tools"), &mut notes)?,
        None => Vec::new(),
    };
    if let Some(f) = opt_array(m, "functions", &root, SIDE)? {
        tools.extend(translate_functions(f, &root.key("functions"), &mut notes)?);
    }
    let parallel = opt_bool(m, "parallel_tool_calls", &root, SIDE)?;
    let (choice_key, choice) = match m.get("tool_choice").filter(|c| !c.is_null()) {
        Some(c) => ("tool_choice", Some(c)),
        None => ("function_call", m.get("function_call")),
    };
    if !tools.is_empty() {
        let choice = translate_tool_choice(choice, parallel, &root.key(choice_key), &mut notes)?;
        out.insert("tools".into(), Value::Array(tools));
        if let Some(c) = choice {
            out.insert("tool_choice".into(), c);
        }
    }
    for (field, note) in DROPPED_FIELDS {
        if m.get(*field).is_some_and(|v| !v.is_null())
            && !(*field == "response_format" && is_text_format(m))
        {
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

/// Whether the OpenAI request asked for a final usage chunk (`stream_options.include_usage`); the
/// Anthropic→OpenAI stream translator takes this as an option.
pub fn wants_usage_chunk(req: &Value) -> bool {
    req.pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn is_text_format(m: &Map<String, Value>) -> bool {
    m.get("response_format")
        .and_then(|f| f.get("type"))
        .and_then(Value::as_str)
        == Some("text")
}

fn thinking_budget(
    m: &Map<String, Value>,
    root: &Path,
    opts: &ToAnthropicRequestOptions,
    max_tokens: u64,
    notes: &mut Notes,
) -> Res<Option<u64>> {
    let Some(word) = opt_str(m, "reasoning_effort", root, SIDE)? else {
        return Ok(None);
    };
    let Some(budget) = budget_for_reasoning_effort(word) else {
        return Ok(None);
    };
    if !opts.thinking {
        notes.drop("reasoning_effort");
        return Ok(None);
    }
    let budget = budget.min(max_tokens.saturating_sub(1));
    if budget < MIN_THINKING_BUDGET {
        notes.drop("reasoning_effort");
        return Ok(None);
    }
    Ok(Some(budget))
}

/// `temperature` (OpenAI allows up to 2, Anthropic 1: clamped), `top_p`, `top_k`; with thinking on only
/// the values Anthropic accepts are kept.
fn sampling_fields(
    m: &Map<String, Value>,
    root: &Path,
    thinking: bool,
    out: &mut Map<String, Value>,
    notes: &mut Notes,
) -> Res<()> {
    if let Some(t) = opt_f64(m, "temperature", root, SIDE)? {
        if thinking && t != 1.0 {
            notes.drop("temperature");
        } else if t > 1.0 {
            notes.degrade("temperature_clamped");
            out.insert("temperature".into(), json!(1.0));
        } else {
            out.insert("temperature".into(), json!(t));
        }
    }
    if let Some(p) = opt_f64(m, "top_p", root, SIDE)? {
        if thinking && p < 0.95 {
            notes.drop("top_p");
        } else {
            out.insert("top_p".into(), json!(p));
        }
    }
    if let Some(k) = opt_u64(m, "top_k", root, SIDE)? {
        if thinking {
            notes.drop("top_k");
        } else {
            out.insert("top_k".into(), json!(k));
        }
    }
    Ok(())
}

/// `stop`: a string or an array of strings.
fn stop_sequences(stop: Option<&Value>, at: &Path) -> Res<Option<Value>> {
    match stop {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(json!([s]))),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for (i, s) in a.iter().enumerate() {
                out.push(json!(s
                    .as_str()
                    .ok_or_else(|| at.index(i).err(SIDE, "a string"))?));
            }
            Ok((!out.is_empty()).then_some(Value::Array(out)))
        }
        Some(_) => Err(at.err(SIDE, "a string or an array of strings")),
    }
}
