//! `switchyard route`: where a request would go and why, without sending it. It reads the request
//! the way the gateway does (`body::peek_with`, [`Facts::gather`]), routes it with the same
//! [`super::route`] the proxy calls, and then walks the rules once more to say which condition held
//! and which did not — so the explanation cannot disagree with the gateway.

use serde::Serialize;
use serde_json::Value;

use super::facts::{Facts, KeySource, Needs, RequestView};
use super::{condition::format_name, Action, RuleName};
use crate::api::{caller_format, Endpoint};
use crate::auth::Team;
use crate::body;
use crate::config::Config;

/// A request as read from a file: a capture (`{method, path, headers, body}`, as in
/// `tests/fixtures/`) or a bare JSON body.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Lowercase names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// Reads `text`; a bare body is taken as sent to `default_path`. The body is compacted (key order
    /// kept), as a client sends it, so the token estimate sees the bytes the gateway would.
    pub fn from_json(text: &str, default_path: &str) -> Result<Request, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let object = value
            .as_object()
            .ok_or("expected a JSON object: a request body, or a capture with `body`")?;
        let is_capture = object.contains_key("body")
            && (object.contains_key("path")
                || object.contains_key("headers")
                || object.contains_key("method"));
        if !is_capture {
            return Ok(Request {
                method: "POST".into(),
                path: default_path.into(),
                headers: Vec::new(),
                body: compact(text),
            });
        }
        let [_, body] = body::capture_body(text).ok_or("the capture's `body` could not be read")?;
        let headers = match object.get("headers") {
            Some(Value::Object(map)) => map
                .iter()
                .filter_map(|(k, v)| Some((k.to_ascii_lowercase(), v.as_str()?.to_string())))
                .collect(),
            // The mock's recordings: a list of [name, value] pairs.
            Some(Value::Array(pairs)) => pairs
                .iter()
                .filter_map(|p| {
                    Some((
                        p.get(0)?.as_str()?.to_ascii_lowercase(),
                        p.get(1)?.as_str()?.to_string(),
                    ))
                })
                .collect(),
            _ => Vec::new(),
        };
        let text_of = |key: &str, default: &str| {
            object
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        Ok(Request {
            method: text_of("method", "POST"),
            path: text_of("path", default_path),
            headers,
            body,
        })
    }

    /// Adds or replaces a header from `Name: value`.
    pub fn set_header(&mut self, line: &str) -> Result<(), String> {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("`{line}` is not `Name: value`"))?;
        let name = name.trim().to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.trim().to_string()));
        Ok(())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A JSON document without insignificant whitespace, keys in their order.
fn compact(text: &str) -> Vec<u8> {
    let wrapped = format!("{{\"body\":{text}}}");
    body::capture_body(&wrapped).map_or_else(|| text.as_bytes().to_vec(), |[_, compact]| compact)
}

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub team: String,
    /// `global`, `team` (its own list) or `none`.
    pub rule_set: &'static str,
    pub request: RequestSummary,
    pub facts: FactsShown,
    /// The rules looked at, in order, up to the one that decided.
    pub rules: Vec<RuleTrace>,
    /// The rule that routed the request (`default`: none matched; `explicit`: `provider/model`).
    pub rule: String,
    /// The model name routed: the rule's choice, or the requested name.
    pub model: String,
    /// Where the request goes, fallbacks in order.
    pub targets: Vec<TargetShown>,
}

#[derive(Debug, Serialize)]
pub struct RequestSummary {
    pub method: String,
    pub path: String,
    pub endpoint: &'static str,
    pub format: &'static str,
    pub body_bytes: usize,
}

#[derive(Debug, Serialize)]
pub struct FactsShown {
    pub model: String,
    pub team: String,
    pub endpoint: &'static str,
    pub format: &'static str,
    pub thinking: &'static str,
    pub input_tokens: u64,
    pub messages: u64,
    pub images: u64,
    pub tools: Vec<String>,
    pub max_tokens: Option<u64>,
    pub conversation: &'static str,
    /// The headers the rules look at; `null` when absent.
    pub headers: serde_json::Map<String, Value>,
    pub conversation_key: ConversationKey,
}

#[derive(Debug, Serialize)]
pub struct ConversationKey {
    pub source: &'static str,
    /// The id itself, or a digest of the bytes that stand in for one.
    pub value: String,
}

#[derive(Debug, Serialize)]
pub struct RuleTrace {
    pub name: String,
    pub matched: bool,
    pub conditions: Vec<ConditionTrace>,
    /// A split's weights and the choice for this conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Why a matching rule was passed over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ConditionTrace {
    pub fact: String,
    pub wanted: String,
    pub seen: String,
    pub holds: bool,
}

#[derive(Debug, Serialize)]
pub struct TargetShown {
    pub provider: String,
    pub model: String,
}

/// Where `req` from `team` would go under `config`, and why. `Err` is what the gateway would answer
/// instead (as a sentence).
pub fn explain(config: &Config, team: &Team, req: &Request) -> Result<Explanation, String> {
    let path = req.path.split('?').next().unwrap_or("");
    let (endpoint, _) = Endpoint::classify(&req.method, path);
    if !endpoint.is_proxied() {
        return Err(format!("{} {} is not a model request: switchyard routes POST /v1/messages, /v1/messages/count_tokens, /v1/chat/completions and /v1/responses", req.method, req.path));
    }
    let format = caller_format(endpoint, req.header("anthropic-version").is_some());
    let peek = body::peek_with(&req.body, true)
        .map_err(|e| format!("the gateway answers 400: {}", e.0))?;
    let model = peek
        .model
        .clone()
        .filter(|m| !m.is_empty())
        .ok_or("the gateway answers 400: the body has no `model`")?;
    if !team.may_use(&model) {
        return Err(format!(
            "the gateway answers 403: team `{}` may not use model `{model}`",
            team.name
        ));
    }
    let session = if peek.session.is_empty() {
        req.header("x-claude-code-session-id")
            .unwrap_or("")
            .as_bytes()
            .to_vec()
    } else {
        peek.session.clone()
    };
    let header = |name: &str| req.header(name);
    let view = RequestView {
        body: &req.body,
        spans: peek.fact_spans(),
        model: &model,
        team: &team.name,
        endpoint,
        format,
        header: &header,
        request_id: "route-explain",
    };
    let set = team.rules.as_deref();
    let facts = Facts::gather(&view, Needs::ALL, set.map_or(&[][..], |s| s.headers()));
    let router = &config.router;
    let routed = super::route(router, team, &view, &session).ok_or_else(|| {
        format!("the gateway answers 404: model `{model}` is not served by this config")
    })?;

    let mut traces = Vec::new();
    let mut routed_model = model.clone();
    if let (Some(set), false) = (set, routed.rule == RuleName::Explicit) {
        for rule in set.rules() {
            let conditions: Vec<ConditionTrace> = rule
                .conditions
                .iter()
                .map(|c| ConditionTrace {
                    fact: c.fact(),
                    wanted: c.wanted(),
                    seen: c.seen(&facts),
                    holds: c.holds(&facts),
                })
                .collect();
            let matched = conditions.iter().all(|c| c.holds);
            let chosen = rule.model_for(&facts);
            let split = match &rule.action {
                Action::Split(s) if matched => {
                    let weights: Vec<String> = s
                        .choices
                        .iter()
                        .map(|c| format!("{} {}", c.model, c.weight))
                        .collect();
                    Some(format!(
                        "{} → {chosen} (by {})",
                        weights.join(", "),
                        facts.split_key_source.as_str()
                    ))
                }
                _ => None,
            };
            let allowed = team.may_use(chosen);
            let note = (matched && !allowed)
                .then(|| format!("team `{}` may not use `{chosen}`: passed over", team.name));
            traces.push(RuleTrace {
                name: rule.name.to_string(),
                matched,
                conditions,
                split,
                note,
            });
            if matched && allowed {
                routed_model = chosen.to_string();
                break;
            }
        }
    }
    if routed.rule == RuleName::Default {
        routed_model = model.clone();
    }
    let targets = routed
        .route
        .targets
        .iter()
        .map(|t| TargetShown {
            provider: config
                .providers
                .get(t.provider)
                .map_or_else(|| "?".to_string(), |p| p.name.clone()),
            model: t.upstream_model.clone(),
        })
        .collect();
    let rule_set = match (set, &team.rules, &config.rules) {
        (None, _, _) => "none",
        (Some(_), Some(own), Some(global)) if std::sync::Arc::ptr_eq(own, global) => "global",
        _ => "team",
    };
    Ok(Explanation {
        team: team.name.clone(),
        rule_set,
        request: RequestSummary {
            method: req.method.clone(),
            path: req.path.clone(),
            endpoint: endpoint.label(),
            format: format_name(format),
            body_bytes: req.body.len(),
        },
        facts: shown(&facts),
        rules: traces,
        rule: routed.rule.as_str().to_string(),
        model: routed_model,
        targets,
    })
}

fn shown(f: &Facts<'_>) -> FactsShown {
    let key = match f.split_key_source {
        KeySource::ConversationStart | KeySource::Request => {
            use sha2::Digest;
            format!(
                "sha256:{}",
                &hex::encode(sha2::Sha256::digest(&f.split_key))[..16]
            )
        }
        _ => String::from_utf8_lossy(&f.split_key)
            .chars()
            .take(80)
            .collect(),
    };
    FactsShown {
        model: f.model.to_string(),
        team: f.team.to_string(),
        endpoint: f.endpoint.map_or("none", |e| e.label()),
        format: f.format.map_or("none", format_name),
        thinking: f.thinking.as_str(),
        input_tokens: f.input_tokens,
        messages: f.messages,
        images: f.images,
        tools: f.tools.iter().map(|t| t.to_string()).collect(),
        max_tokens: f.max_tokens,
        conversation: f.conversation.as_str(),
        headers: f
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    v.map_or(Value::Null, |v| Value::String(v.to_string())),
                )
            })
            .collect(),
        conversation_key: ConversationKey {
            source: f.split_key_source.as_str(),
            value: key,
        },
    }
}

/// The explanation for a person.
pub fn render_text(e: &Explanation) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    let set = match e.rule_set {
        "global" => "the global rules",
        "team" => "its own rules",
        _ => "no rules",
    };
    line(format!(
        "request  {} {} ({} API, {} bytes)",
        e.request.method, e.request.path, e.request.format, e.request.body_bytes
    ));
    line(format!("team     {} ({set})", e.team));
    line("facts".to_string());
    let f = &e.facts;
    let tools = if f.tools.is_empty() {
        "none".to_string()
    } else {
        format!("{}: {}", f.tools.len(), f.tools.join(", "))
    };
    let rows: Vec<(String, String)> = vec![
        ("model".into(), f.model.clone()),
        ("team".into(), f.team.clone()),
        ("endpoint".into(), f.endpoint.into()),
        ("format".into(), f.format.into()),
        ("thinking".into(), f.thinking.into()),
        (
            "input_tokens".into(),
            format!(
                "{} (estimate: (body bytes − image bytes) / 4 + 1600 per image)",
                f.input_tokens
            ),
        ),
        ("messages".into(), f.messages.to_string()),
        ("images".into(), f.images.to_string()),
        ("tools".into(), tools),
        (
            "max_tokens".into(),
            f.max_tokens
                .map_or_else(|| "absent".to_string(), |m| m.to_string()),
        ),
        ("conversation".into(), f.conversation.into()),
        (
            "conversation key".into(),
            format!(
                "{} ({})",
                f.conversation_key.value, f.conversation_key.source
            ),
        ),
    ];
    let mut rows = rows;
    for (name, value) in &f.headers {
        rows.push((
            format!("header {name}"),
            value.as_str().unwrap_or("absent").to_string(),
        ));
    }
    for (name, value) in rows {
        line(format!("  {name:<17} {value}"));
    }
    if e.rules.is_empty() {
        line(match e.rule.as_str() {
            "explicit" => "rules    not applied: the client named provider/model".to_string(),
            _ => "rules    none apply to this team".to_string(),
        });
    } else {
        line("rules    (in order; the first that matches decides)".to_string());
    }
    for (i, r) in e.rules.iter().enumerate() {
        let verdict = match (r.matched, &r.note) {
            (true, None) => "MATCH",
            (true, Some(_)) => "matched, passed over",
            (false, _) => "no",
        };
        line(format!("  {}. {} — {verdict}", i + 1, r.name));
        if r.conditions.is_empty() {
            line("       (no conditions: matches every request)".to_string());
        }
        for c in &r.conditions {
            line(format!(
                "       {} {}: {} (wanted {})",
                if c.holds { "✓" } else { "✗" },
                c.fact,
                c.seen,
                c.wanted
            ));
        }
        if let Some(split) = &r.split {
            line(format!("       split: {split}"));
        }
        if let Some(note) = &r.note {
            line(format!("       {note}"));
        }
    }
    line(format!("rule     {}", e.rule));
    line(format!("model    {}", e.model));
    for (i, t) in e.targets.iter().enumerate() {
        line(format!(
            "{} {}. {}/{}",
            if i == 0 { "targets " } else { "        " },
            i + 1,
            t.provider,
            t.model
        ));
    }
    out
}
