//! Responses API request → Chat Completions request. This is the request half of every translated
//! Responses exchange: for an OpenAI-compatible target the result is sent as it is; for an Anthropic
//! target it is the input of the existing Chat → Anthropic translator (see `anthropic.rs`).
//!
//! Every top-level field is mapped, dropped with a note, refused, or reported as unknown. Refused (400):
//! `previous_response_id`, `conversation`, `prompt` and `background: true`, which all need state kept by
//! the provider, and only the OpenAI Responses API keeps it (such requests work when routed there natively).

use std::sync::{Arc, LazyLock};

use serde_json::{json, Map, Value};

use super::input::translate_input;
use super::tools::{translate_tool_choice, translate_tools, ToolNames};
use crate::translate::error::TranslateError;
use crate::translate::ids::sha256_hex;
use crate::translate::notes::Notes;
use crate::translate::read::{
    as_object, opt_array, opt_bool, opt_f64, opt_object, opt_str, opt_u64, Path, Res, Side,
};

const SIDE: Side = Side::Request;

/// OpenAI's documented limit for Chat's `user`; longer ids are sent as their SHA-256 hex.
const MAX_USER_LEN: usize = 64;

/// Where the Chat request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An OpenAI-compatible Chat Completions server.
    Chat {
        /// The server accepts `reasoning_effort` (the provider's `translation.reasoning_effort`).
        reasoning_effort: bool,
        /// Cap on `max_tokens` (the provider's `translation.max_output_tokens`).
        max_output_tokens: Option<u64>,
        /// The server routes by `prompt_cache_key` (the provider's `translation.prompt_cache_key`): the
        /// client's own key (and `prompt_cache_retention`) is sent on unchanged, else `gateway_cache_key`.
        /// Off: the client's key is dropped with a note.
        prompt_cache_key: bool,
        /// The gateway's hashed key for this conversation, sent when the client gave none.
        gateway_cache_key: Option<String>,
    },
    /// The Chat → Anthropic translator: `max_tokens` is always set (Anthropic requires it) and reasoning
    /// always becomes `reasoning_effort`, which that translator turns into a thinking budget.
    Anthropic {
        /// `max_tokens` when the client set no `max_output_tokens`.
        default_max_tokens: u64,
    },
}

/// What the Responses-side translators need to know about the request.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsesShape {
    /// Flat names of namespaced functions, to turn calls back into `namespace` + `name`.
    pub names: ToolNames,
    /// The client asked for a reasoning summary: reasoning is sent as `summary_text` (which Codex shows)
    /// rather than as `reasoning_text` content.
    pub reasoning_as_summary: bool,
    /// The request settings every Response object repeats (`instructions`, `tools`, `tool_choice`,
    /// `reasoning`, `text`, …), as the real API echoes them.
    pub echo: Arc<Map<String, Value>>,
}

/// The echo of a request that set nothing, built once: every request's context starts with a default
/// shape (only Responses requests replace it), so building this map per request cost every request
/// ≈ 24k instructions to build and drop.
static DEFAULT_ECHO: LazyLock<Arc<Map<String, Value>>> =
    LazyLock::new(|| Arc::new(echo(&Map::new())));

impl Default for ResponsesShape {
    fn default() -> Self {
        ResponsesShape {
            names: ToolNames::default(),
            reasoning_as_summary: false,
            echo: Arc::clone(&DEFAULT_ECHO),
        }
    }
}

/// A Chat request body built from a Responses request.
#[derive(Debug, Clone)]
pub struct ToChat {
    pub chat: Value,
    pub notes: Notes,
    pub shape: ResponsesShape,
}

/// Fields dropped on purpose: (field, note). `store` only when `true`, `truncation` only when `auto`.
const DROPPED_FIELDS: &[(&str, &str)] = &[
    ("include", "include"),
    ("prompt_cache_key", "prompt_cache_key"),
    ("prompt_cache_retention", "prompt_cache_key"),
    ("safety_identifier", "safety_identifier"),
    ("metadata", "metadata"),
    ("service_tier", "service_tier"),
    ("max_tool_calls", "max_tool_calls"),
    ("top_logprobs", "logprobs"),
    ("client_metadata", "client_metadata"),
];

const MAPPED_FIELDS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "max_output_tokens",
    "temperature",
    "top_p",
    "reasoning",
    "text",
    "user",
    "store",
    "truncation",
    "previous_response_id",
    "conversation",
    "prompt",
    "background",
];

/// Translates a Responses request into a Chat Completions request for `target`.
pub fn responses_request_to_chat(
    req: &Value,
    upstream_model: &str,
    target: &Target,
) -> Result<ToChat, TranslateError> {
    let root = Path::ROOT;
    let m = as_object(req, &root, SIDE)?;
    refuse_server_state(m, &root)?;
    let mut notes = Notes::default();
    let mut names = ToolNames::default();

    let tools = match opt_array(m, "tools", &root, SIDE)? {
        Some(t) => translate_tools(t, &root.key("tools"), &mut notes, &mut names)?,
        None => Vec::new(),
    };
    let instructions = match m.get("instructions") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(root.key("instructions").err(SIDE, "a string")),
    };
    let input = m.get("input").ok_or_else(|| {
        root.key("input")
            .err(SIDE, "a string or an array of input items (required)")
    })?;
    let messages = translate_input(instructions, input, &names, &root.key("input"), &mut notes)?;

    let mut out = Map::new();
    out.insert("model".into(), json!(upstream_model));
    out.insert("messages".into(), Value::Array(messages));
    if !tools.is_empty() {
        out.insert("tools".into(), Value::Array(tools));
        if let Some(choice) = m.get("tool_choice") {
            if let Some(c) =
                translate_tool_choice(choice, &names, &root.key("tool_choice"), &mut notes)?
            {
                out.insert("tool_choice".into(), c);
            }
        }
        if let Some(p) = opt_bool(m, "parallel_tool_calls", &root, SIDE)? {
            out.insert("parallel_tool_calls".into(), json!(p));
        }
    }
    max_tokens(m, &root, target, &mut out, &mut notes)?;
    for key in ["temperature", "top_p"] {
        if let Some(v) = opt_f64(m, key, &root, SIDE)? {
            out.insert(key.into(), json!(v));
        }
    }
    let reasoning = opt_object(m, "reasoning", &root, SIDE)?;
    if let Some(effort) =
        reasoning_effort(reasoning, &root.key("reasoning"), target, &out, &mut notes)?
    {
        out.insert("reasoning_effort".into(), json!(effort));
    }
    text_format(m, &root, &mut out, &mut notes)?;
    if let Some(user) = opt_str(m, "user", &root, SIDE)? {
        let user = if user.chars().count() <= MAX_USER_LEN {
            user.to_owned()
        } else {
            notes.degrade("user_hashed");
            sha256_hex(user)
        };
        out.insert("user".into(), json!(user));
    }
    if opt_bool(m, "stream", &root, SIDE)? == Some(true) {
        out.insert("stream".into(), json!(true));
        out.insert("stream_options".into(), json!({ "include_usage": true }));
    }
    let cache_key_sent = prompt_cache_key(m, &root, target, &mut out)?;
    if opt_bool(m, "store", &root, SIDE)? != Some(false) && m.contains_key("store") {
        notes.drop("store");
    }
    if opt_str(m, "truncation", &root, SIDE)? == Some("auto") {
        notes.drop("truncation");
    }
    for (field, note) in DROPPED_FIELDS {
        if cache_key_sent && field.starts_with("prompt_cache_") {
            continue;
        }
        if m.get(*field).is_some_and(|v| !v.is_null()) {
            notes.drop(note);
        }
    }
    if m.keys().any(|k| {
        !MAPPED_FIELDS.contains(&k.as_str()) && !DROPPED_FIELDS.iter().any(|(f, _)| f == k)
    }) {
        notes.drop("unknown_fields");
    }
    let summary = reasoning
        .and_then(|r| r.get("summary").or_else(|| r.get("generate_summary")))
        .and_then(Value::as_str);
    let shape = ResponsesShape {
        names,
        reasoning_as_summary: summary.is_some_and(|s| s != "none"),
        echo: Arc::new(echo(m)),
    };
    Ok(ToChat {
        chat: Value::Object(out),
        notes,
        shape,
    })
}

/// `prompt_cache_key` for a Chat server that routes by it: the client's own key wins over the gateway's, so a
/// client keeps the cache it chose. Returns whether the client's cache fields were sent on.
fn prompt_cache_key(
    m: &Map<String, Value>,
    root: &Path,
    target: &Target,
    out: &mut Map<String, Value>,
) -> Res<bool> {
    let Target::Chat {
        prompt_cache_key: true,
        gateway_cache_key,
        ..
    } = target
    else {
        return Ok(false);
    };
    let client_key = opt_str(m, "prompt_cache_key", root, SIDE)?;
    if let Some(key) = client_key.or(gateway_cache_key.as_deref()) {
        out.insert("prompt_cache_key".into(), json!(key));
    }
    if let Some(retention) = opt_str(m, "prompt_cache_retention", root, SIDE)? {
        out.insert("prompt_cache_retention".into(), json!(retention));
    }
    Ok(true)
}

/// Requests that only a provider keeping responses can answer.
fn refuse_server_state(m: &Map<String, Value>, root: &Path) -> Res<()> {
    let present = |key: &str| m.get(key).is_some_and(|v| !v.is_null());
    if present("previous_response_id") {
        return Err(root.key("previous_response_id").unsupported(
            "`previous_response_id` needs the earlier response stored by the provider, which only the OpenAI Responses API does; send the whole conversation in `input` (Codex does with `store: false`)",
        ));
    }
    if present("conversation") {
        return Err(root.key("conversation").unsupported("`conversation` needs a conversation stored by the provider, which only the OpenAI Responses API keeps; send the whole conversation in `input`"));
    }
    if present("prompt") {
        return Err(root.key("prompt").unsupported("`prompt` names a prompt template stored with OpenAI; this model is not served by the OpenAI Responses API"));
    }
    if m.get("background").and_then(Value::as_bool) == Some(true) {
        return Err(root.key("background").unsupported("`background: true` needs the provider to keep the response for polling, which only the OpenAI Responses API does"));
    }
    Ok(())
}

/// `max_output_tokens` → `max_tokens` (capped for Chat servers; defaulted for Anthropic, which requires it).
fn max_tokens(
    m: &Map<String, Value>,
    root: &Path,
    target: &Target,
    out: &mut Map<String, Value>,
    notes: &mut Notes,
) -> Res<()> {
    let asked = opt_u64(m, "max_output_tokens", root, SIDE)?;
    let n = match (target, asked) {
        (
            Target::Chat {
                max_output_tokens: Some(cap),
                ..
            },
            Some(n),
        ) if n > *cap => {
            notes.degrade("max_tokens_clamped");
            *cap
        }
        (_, Some(n)) => n,
        (Target::Chat { .. }, None) => return Ok(()),
        (Target::Anthropic { default_max_tokens }, None) => *default_max_tokens,
    };
    out.insert("max_tokens".into(), json!(n.max(1)));
    Ok(())
}

/// `reasoning.effort` → `reasoning_effort`. For an Anthropic target it becomes a thinking budget — unless
/// the conversation is in the middle of a tool loop: Anthropic then requires the last assistant turn to
/// start with the signed thinking block it produced, which no Responses client can send back (the
/// signature does not survive in `encrypted_content` of another provider), so reasoning is dropped for
/// that request rather than failing it.
fn reasoning_effort(
    reasoning: Option<&Map<String, Value>>,
    at: &Path,
    target: &Target,
    out: &Map<String, Value>,
    notes: &mut Notes,
) -> Res<Option<&'static str>> {
    let Some(r) = reasoning else { return Ok(None) };
    let effort = match opt_str(r, "effort", at, SIDE)? {
        None | Some("none") => return Ok(None),
        Some("minimal" | "low") => "low",
        Some("medium") => "medium",
        Some("high") => "high",
        Some("xhigh" | "max") => match target {
            Target::Anthropic { .. } => "xhigh",
            Target::Chat { .. } => "high",
        },
        Some(_) => {
            return Err(at
                .key("effort")
                .err(SIDE, "one of none, minimal, low, medium, high, xhigh"))
        }
    };
    match target {
        Target::Chat {
            reasoning_effort: true,
            ..
        } => Ok(Some(effort)),
        Target::Chat {
            reasoning_effort: false,
            ..
        } => {
            notes.drop("reasoning");
            Ok(None)
        }
        Target::Anthropic { .. } if continues_tool_loop(out) => {
            notes.drop("reasoning");
            notes.degrade("thinking_off_in_tool_loop");
            Ok(None)
        }
        Target::Anthropic { .. } => Ok(Some(effort)),
    }
}

/// Whether the translated conversation ends with tool results after an assistant turn that called tools.
fn continues_tool_loop(out: &Map<String, Value>) -> bool {
    let messages = out
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    messages
        .iter()
        .rev()
        .find(|m| m["role"] != "tool")
        .is_some_and(|m| m["role"] == "assistant" && m.get("tool_calls").is_some())
}

/// `text.format` → `response_format`; `text.verbosity` has no Chat equivalent outside OpenAI.
fn text_format(
    m: &Map<String, Value>,
    root: &Path,
    out: &mut Map<String, Value>,
    notes: &mut Notes,
) -> Res<()> {
    let at = root.key("text");
    let Some(text) = opt_object(m, "text", root, SIDE)? else {
        return Ok(());
    };
    if text.get("verbosity").is_some_and(|v| !v.is_null()) {
        notes.drop("verbosity");
    }
    let Some(format) = opt_object(text, "format", &at, SIDE)? else {
        return Ok(());
    };
    let format_at = at.key("format");
    match opt_str(format, "type", &format_at, SIDE)? {
        None | Some("text") => {}
        Some("json_object") => {
            out.insert("response_format".into(), json!({ "type": "json_object" }));
        }
        Some("json_schema") => {
            let mut schema = Map::new();
            for key in ["name", "description", "schema", "strict"] {
                if let Some(v) = format.get(key).filter(|v| !v.is_null()) {
                    schema.insert(key.into(), v.clone());
                }
            }
            out.insert(
                "response_format".into(),
                json!({ "type": "json_schema", "json_schema": Value::Object(schema) }),
            );
        }
        Some(_) => notes.drop("text_format"),
    }
    Ok(())
}

/// The request settings a Response object repeats, with the real API's defaults for absent ones.
fn echo(m: &Map<String, Value>) -> Map<String, Value> {
    let get = |key: &str, default: Value| {
        m.get(key)
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or(default)
    };
    let reasoning = m.get("reasoning").and_then(Value::as_object);
    let reasoning_field = |key: &str| {
        reasoning
            .and_then(|r| r.get(key))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut e = Map::new();
    e.insert("background".into(), json!(false));
    e.insert("instructions".into(), get("instructions", Value::Null));
    e.insert(
        "max_output_tokens".into(),
        get("max_output_tokens", Value::Null),
    );
    e.insert("max_tool_calls".into(), get("max_tool_calls", Value::Null));
    e.insert("metadata".into(), get("metadata", json!({})));
    e.insert(
        "parallel_tool_calls".into(),
        get("parallel_tool_calls", json!(true)),
    );
    e.insert("previous_response_id".into(), Value::Null);
    e.insert(
        "prompt_cache_key".into(),
        get("prompt_cache_key", Value::Null),
    );
    e.insert(
        "reasoning".into(),
        json!({ "effort": reasoning_field("effort"), "summary": reasoning_field("summary") }),
    );
    e.insert(
        "safety_identifier".into(),
        get("safety_identifier", Value::Null),
    );
    e.insert("service_tier".into(), json!("default"));
    // Nothing is stored on this path, whatever was asked.
    e.insert("store".into(), json!(false));
    e.insert("temperature".into(), get("temperature", json!(1.0)));
    e.insert(
        "text".into(),
        get(
            "text",
            json!({ "format": { "type": "text" }, "verbosity": "medium" }),
        ),
    );
    e.insert("tool_choice".into(), get("tool_choice", json!("auto")));
    e.insert("tools".into(), get("tools", json!([])));
    e.insert("top_logprobs".into(), get("top_logprobs", json!(0)));
    e.insert("top_p".into(), get("top_p", json!(1.0)));
    e.insert("truncation".into(), get("truncation", json!("disabled")));
    e.insert("user".into(), get("user", Value::Null));
    e
}
