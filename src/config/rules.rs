//! Routing rules in config: the file model (`rules:` at the top level and under a team) and its
//! validation into `crate::rules::RuleSet`. Every failure names the field and what would be valid:
//! an unknown fact (serde lists the known ones), a threshold no count can meet, a weight below zero
//! or weights summing to zero, a model no rule or provider serves.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::validate::FieldError;
use crate::api::{ApiFormat, Endpoint};
use crate::routing::Router;
use crate::rules::facts::{Conversation, Thinking};
use crate::rules::{Action, Choice, Condition, Globs, Range, Rule, RuleSet, Split};

/// One rule as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Shown in `x-switchyard-route` and recorded with each request.
    pub name: String,
    /// Conditions, all of which must hold (none: the rule always matches).
    #[serde(default)]
    pub when: WhenFile,
    /// The model name to route to (alias, chain, `provider/model`)...
    #[serde(default)]
    pub model: Option<String>,
    /// ...or a split of several, by weight, sticky per conversation.
    #[serde(default)]
    pub split: Option<Vec<SplitFile>>,
}

/// The facts a rule can match on.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenFile {
    /// Globs of the model name the client asked for.
    pub model: Option<Patterns>,
    /// Globs of team names.
    pub team: Option<Patterns>,
    /// messages | count_tokens | chat_completions | responses.
    pub endpoint: Option<Patterns>,
    /// anthropic | openai | responses: the API the client speaks.
    pub format: Option<Patterns>,
    /// true (adaptive or enabled) | false | off | adaptive | enabled, or a list.
    pub thinking: Option<serde_yaml::Value>,
    /// `{ over: N, under: N }`, estimated.
    pub input_tokens: Option<serde_yaml::Value>,
    /// `{ over: N, under: N }`: entries in `messages` / `input`.
    pub messages: Option<serde_yaml::Value>,
    /// `{ over: N, under: N }`.
    pub max_tokens: Option<serde_yaml::Value>,
    pub images: Option<bool>,
    /// Whether any tool is offered.
    pub tools: Option<bool>,
    /// Globs of tool names, one of which must be offered (`web_search*`).
    pub tool: Option<Patterns>,
    /// Request header (name) → globs of its value (`x-switchyard-route-hint: cheap`).
    pub headers: Option<BTreeMap<String, Patterns>>,
    /// new | continuing.
    pub conversation: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitFile {
    pub model: String,
    /// Relative weight, 0 or more (0 keeps a choice listed but unused).
    pub weight: i64,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Default)]
pub struct Patterns(pub Vec<String>);

impl<'de> Deserialize<'de> for Patterns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PatternsVisitor;
        impl<'de> Visitor<'de> for PatternsVisitor {
            type Value = Patterns;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Patterns, E> {
                Ok(Patterns(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Patterns, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(Patterns(items))
            }
        }
        d.deserialize_any(PatternsVisitor)
    }
}

/// Names no rule may take: what `x-switchyard-route` says when no rule applied.
const RESERVED: [&str; 2] = ["default", "explicit"];
const ENDPOINTS: [(&str, Endpoint); 4] = [
    ("messages", Endpoint::Messages),
    ("count_tokens", Endpoint::CountTokens),
    ("chat_completions", Endpoint::ChatCompletions),
    ("responses", Endpoint::Responses),
];
const FORMATS: [(&str, ApiFormat); 3] = [
    ("anthropic", ApiFormat::Anthropic),
    ("openai", ApiFormat::OpenAi),
    ("responses", ApiFormat::Responses),
];

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError {
        path: path.into(),
        message: message.into(),
    })
}

/// What a rule set's validation needs to know about the rest of the config.
pub struct Context<'a> {
    pub router: &'a Router,
    /// Providers (and rules of `models:`) that exist but are off because no key is set.
    pub disabled: &'a HashSet<String>,
    pub enabled_providers: Vec<&'a str>,
}

/// Validates the rules at `path` (`rules`, `teams[2].rules`). Rules whose every model is disabled
/// are left out with a line in `skipped`; `None` when no rule is left.
pub fn build(
    files: Vec<RuleFile>,
    path: &str,
    cx: &Context<'_>,
    skipped: &mut Vec<String>,
) -> Result<Option<Arc<RuleSet>>, FieldError> {
    let mut rules = Vec::new();
    let mut names = HashSet::new();
    for (i, file) in files.into_iter().enumerate() {
        let rpath = format!("{path}[{i}]");
        let name = file.name.trim().to_string();
        check_name(&name, &format!("{rpath}.name"))?;
        if !names.insert(name.clone()) {
            return err(
                format!("{rpath}.name"),
                format!(
                    "rule `{name}` is defined twice in this list: each rule needs its own name"
                ),
            );
        }
        let conditions = conditions(file.when, &format!("{rpath}.when"))?;
        let action = match (file.model, file.split) {
            (Some(model), None) => match resolves(cx, model.trim(), &format!("{rpath}.model"))? {
                true => Action::Model(model.trim().to_string()),
                false => {
                    skipped.push(format!("{rpath} (`{name}`): model `{}` has no enabled provider; rule skipped", model.trim()));
                    continue;
                }
            },
            (None, Some(split)) => match build_split(split, &format!("{rpath}.split"), cx, &name, skipped)? {
                Some(split) => Action::Split(split),
                None => continue,
            },
            (Some(_), Some(_)) => return err(rpath, "give either `model` or `split`, not both"),
            (None, None) => return err(rpath, "needs `model: NAME` (an alias, chain or provider/model) or `split: [{ model: NAME, weight: N }, ...]`"),
        };
        rules.push(Rule {
            name: Arc::from(name.as_str()),
            conditions,
            action,
        });
    }
    Ok((!rules.is_empty()).then(|| Arc::new(RuleSet::new(rules))))
}

fn check_name(name: &str, path: &str) -> Result<(), FieldError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !valid {
        return err(path, format!("`{name}` is not a valid rule name: use 1-64 letters, digits, `-`, `_` or `.` (it is sent in the x-switchyard-route header)"));
    }
    if RESERVED.contains(&name) {
        return err(path, format!("`{name}` is reserved (x-switchyard-route says `default` when no rule matched and `explicit` for a provider/model request): choose another name"));
    }
    Ok(())
}

/// Whether `model` is served: `Ok(false)` when only disabled providers would serve it.
fn resolves(cx: &Context<'_>, model: &str, path: &str) -> Result<bool, FieldError> {
    if model.is_empty() {
        return err(path, "must not be empty: name a model from `models:` (an alias or chain) or `provider/model`");
    }
    if cx.router.resolve_direct(model).is_some() {
        return Ok(true);
    }
    let provider_disabled = model
        .split_once('/')
        .is_some_and(|(p, _)| cx.disabled.contains(p));
    if cx.router.is_disabled_name(model) || provider_disabled {
        return Ok(false);
    }
    let enabled = if cx.enabled_providers.is_empty() {
        "none".to_string()
    } else {
        cx.enabled_providers.join(", ")
    };
    err(path, format!("`{model}` matches no model in `models:` and no enabled provider: name an alias or chain from `models:`, or `provider/model` (enabled providers: {enabled})"))
}

fn build_split(
    files: Vec<SplitFile>,
    path: &str,
    cx: &Context<'_>,
    rule: &str,
    skipped: &mut Vec<String>,
) -> Result<Option<Split>, FieldError> {
    if files.is_empty() {
        return err(path, "needs at least one `{ model: NAME, weight: N }`");
    }
    let mut choices = Vec::new();
    let mut seen = HashSet::new();
    let mut total = 0i64;
    for (j, choice) in files.iter().enumerate() {
        let cpath = format!("{path}[{j}]");
        let model = choice.model.trim();
        if !seen.insert(model.to_string()) {
            return err(
                format!("{cpath}.model"),
                format!("`{model}` is listed twice in this split: give it one weight"),
            );
        }
        if choice.weight < 0 || choice.weight > i64::from(u32::MAX) {
            return err(
                format!("{cpath}.weight"),
                format!(
                    "{} is not a valid weight: expected a whole number from 0 to {}",
                    choice.weight,
                    u32::MAX
                ),
            );
        }
        total += choice.weight;
        if resolves(cx, model, &format!("{cpath}.model"))? {
            choices.push(Choice::new(
                model,
                u32::try_from(choice.weight).unwrap_or(u32::MAX),
            ));
        } else {
            skipped.push(format!("{cpath} (`{rule}`): model `{model}` has no enabled provider; left out of the split"));
        }
    }
    if total == 0 {
        return err(
            path,
            "the weights sum to 0: give at least one model a weight above 0",
        );
    }
    if choices.iter().all(|c| c.weight == 0) {
        skipped.push(format!("{path} (`{rule}`): no model with a weight above 0 has an enabled provider; rule skipped"));
        return Ok(None);
    }
    Ok(Some(Split { choices }))
}

fn conditions(when: WhenFile, path: &str) -> Result<Vec<Condition>, FieldError> {
    let WhenFile {
        model,
        team,
        endpoint,
        format,
        thinking,
        input_tokens,
        messages,
        max_tokens,
        images,
        tools,
        tool,
        headers,
        conversation,
    } = when;
    let mut out = Vec::new();
    if let Some(p) = model {
        out.push(Condition::Model(globs(&p, &format!("{path}.model"))?));
    }
    if let Some(p) = team {
        out.push(Condition::Team(globs(&p, &format!("{path}.team"))?));
    }
    if let Some(p) = endpoint {
        out.push(Condition::Endpoint(one_of(
            &p,
            &ENDPOINTS,
            &format!("{path}.endpoint"),
        )?));
    }
    if let Some(p) = format {
        out.push(Condition::Format(one_of(
            &p,
            &FORMATS,
            &format!("{path}.format"),
        )?));
    }
    if let Some(v) = thinking {
        out.push(Condition::Thinking(thinking_modes(
            &v,
            &format!("{path}.thinking"),
        )?));
    }
    if let Some(v) = input_tokens {
        out.push(Condition::InputTokens(range(
            &v,
            &format!("{path}.input_tokens"),
        )?));
    }
    if let Some(v) = messages {
        out.push(Condition::Messages(range(&v, &format!("{path}.messages"))?));
    }
    if let Some(v) = max_tokens {
        out.push(Condition::MaxTokens(range(
            &v,
            &format!("{path}.max_tokens"),
        )?));
    }
    if let Some(b) = images {
        out.push(Condition::Images(b));
    }
    if let Some(b) = tools {
        out.push(Condition::Tools(b));
    }
    if let Some(p) = tool {
        out.push(Condition::Tool(globs(&p, &format!("{path}.tool"))?));
    }
    for (name, p) in headers.unwrap_or_default() {
        let hpath = format!("{path}.headers.{name}");
        let lower = name.trim().to_ascii_lowercase();
        if http::HeaderName::from_bytes(lower.as_bytes()).is_err() {
            return err(hpath, format!("`{name}` is not a valid HTTP header name"));
        }
        out.push(Condition::Header(lower, globs(&p, &hpath)?));
    }
    if let Some(c) = conversation {
        out.push(Condition::Conversation(match c.trim() {
            "new" => Conversation::New,
            "continuing" => Conversation::Continuing,
            other => {
                return err(
                    format!("{path}.conversation"),
                    format!(
                    "`{other}` is not valid: expected new (no assistant turn yet) or continuing"
                ),
                )
            }
        }));
    }
    Ok(out)
}

fn globs(p: &Patterns, path: &str) -> Result<Globs, FieldError> {
    if p.0.is_empty() {
        return err(path, "needs at least one pattern");
    }
    Globs::new(&p.0)
        .or_else(|(i, why)| err(path, format!("`{}` is not a valid glob: {why}", p.0[i])))
}

fn one_of<T: Copy>(p: &Patterns, known: &[(&str, T)], path: &str) -> Result<Vec<T>, FieldError> {
    if p.0.is_empty() {
        return err(path, "needs at least one value");
    }
    let valid = known.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    p.0.iter()
        .map(|v| {
            known
                .iter()
                .find(|(n, _)| *n == v.trim())
                .map(|(_, t)| *t)
                .ok_or_else(|| FieldError {
                    path: path.to_string(),
                    message: format!("`{v}` is not valid: expected one of {valid}"),
                })
        })
        .collect()
}

fn thinking_modes(v: &serde_yaml::Value, path: &str) -> Result<Vec<Thinking>, FieldError> {
    use serde_yaml::Value;
    let expected = "expected true (adaptive or enabled), false, off, adaptive, enabled, or a list of the last three";
    let named = |s: &str| Thinking::ALL.into_iter().find(|t| t.as_str() == s.trim());
    match v {
        Value::Bool(true) => Ok(vec![Thinking::Adaptive, Thinking::Enabled]),
        Value::Bool(false) => Ok(vec![Thinking::Off]),
        Value::String(s) => named(s).map(|t| vec![t]).ok_or_else(|| FieldError {
            path: path.into(),
            message: format!("`{s}` is not valid: {expected}"),
        }),
        Value::Sequence(items) if !items.is_empty() => items
            .iter()
            .map(|item| {
                item.as_str().and_then(named).ok_or_else(|| FieldError {
                    path: path.into(),
                    message: format!("{} is not valid: {expected}", show(item)),
                })
            })
            .collect(),
        other => err(path, format!("{} is not valid: {expected}", show(other))),
    }
}

/// `{ over: N, under: M }` with N < n < M for some whole n.
fn range(v: &serde_yaml::Value, path: &str) -> Result<Range, FieldError> {
    let expected = "expected `{ over: N }`, `{ under: N }` or both, with whole numbers";
    let Some(map) = v.as_mapping().filter(|m| !m.is_empty()) else {
        return err(path, format!("{} is not valid: {expected}", show(v)));
    };
    let mut range = Range::default();
    for (key, value) in map {
        let key = key.as_str().unwrap_or("");
        let slot = match key {
            "over" => &mut range.over,
            "under" => &mut range.under,
            other => {
                return err(
                    format!("{path}.{other}"),
                    format!("unknown bound `{other}`: {expected}"),
                )
            }
        };
        *slot = Some(match value.as_i64() {
            Some(n) if n >= 0 => n as u64,
            _ => {
                return err(
                    format!("{path}.{key}"),
                    format!(
                        "{} is not valid: expected a whole number of 0 or more",
                        show(value)
                    ),
                )
            }
        });
    }
    match (range.over, range.under) {
        (_, Some(0)) => err(
            format!("{path}.under"),
            "nothing is under 0: use a bound above 0, or `over` instead",
        ),
        (Some(o), Some(u)) if u <= o.saturating_add(1) => err(
            path,
            format!(
                "no whole number is over {o} and under {u}: `under` must be at least `over` + 2"
            ),
        ),
        _ => Ok(range),
    }
}

fn show(v: &serde_yaml::Value) -> String {
    serde_yaml::to_string(v)
        .map(|s| format!("`{}`", s.trim()))
        .unwrap_or_else(|_| "this value".to_string())
}

/// A team's `rules:`: absent or `true` (the global rules), `false` (none), or its own list.
pub fn for_team(
    value: Option<serde_yaml::Value>,
    path: &str,
    global: &Option<Arc<RuleSet>>,
    cx: &Context<'_>,
    skipped: &mut Vec<String>,
) -> Result<Option<Arc<RuleSet>>, FieldError> {
    match value {
        None | Some(serde_yaml::Value::Bool(true)) => Ok(global.clone()),
        Some(serde_yaml::Value::Bool(false)) => Ok(None),
        Some(list @ serde_yaml::Value::Sequence(_)) => {
            let files: Vec<RuleFile> = serde_path_to_error::deserialize(list).map_err(|e| {
                let inner = e.path().to_string();
                FieldError { path: format!("{path}{}", if inner == "." { String::new() } else { inner }), message: e.into_inner().to_string() }
            })?;
            build(files, path, cx, skipped)
        }
        Some(other) => err(path, format!("{} is not valid: expected false (no rules for this team), true (the global rules) or a list of rules", show(&other))),
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
