//! One condition of a rule, on one fact. A rule matches when all of its conditions hold; a list in
//! a condition (`model: [a, b]`) holds when any item does. Each condition also says, in words, why it
//! held or not — what `switchyard route` prints.

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::facts::{Conversation, Facts, Needs, Thinking};
use crate::api::{ApiFormat, Endpoint};

/// Glob patterns (one holds → the condition holds), kept with their text for explanations.
#[derive(Debug, Clone)]
pub struct Globs {
    patterns: Vec<String>,
    set: GlobSet,
    /// When every pattern is a literal or `literal*` (`claude-haiku-*`, `cheap`): those, so a match is
    /// a comparison or a `starts_with` rather than a glob-set run on every request.
    simple: Option<Vec<(String, bool)>>,
}

impl Globs {
    /// Compiles `patterns`; `Err` names the first that is not a valid glob, and why.
    pub fn new(patterns: &[String]) -> Result<Globs, (usize, String)> {
        let mut builder = GlobSetBuilder::new();
        for (i, p) in patterns.iter().enumerate() {
            builder.add(Glob::new(p).map_err(|e| (i, e.kind().to_string()))?);
        }
        let set = builder.build().map_err(|e| (0, e.to_string()))?;
        let is_literal = |p: &str| !p.contains(['*', '?', '[', ']', '{', '}', '\\']);
        let simple = patterns
            .iter()
            .map(|p| match p.strip_suffix('*') {
                Some(prefix) if is_literal(prefix) => Some((prefix.to_string(), true)),
                _ => is_literal(p).then(|| (p.clone(), false)),
            })
            .collect();
        Ok(Globs {
            patterns: patterns.to_vec(),
            set,
            simple,
        })
    }

    pub fn is_match(&self, text: &str) -> bool {
        match &self.simple {
            Some(simple) => simple.iter().any(|(p, prefix)| {
                if *prefix {
                    text.starts_with(p.as_str())
                } else {
                    text == p
                }
            }),
            None => self.set.is_match(text),
        }
    }

    fn shown(&self) -> String {
        match self.patterns.as_slice() {
            [one] => one.clone(),
            many => format!("one of {}", many.join(", ")),
        }
    }
}

/// `over` and `under` are exclusive bounds: `{over: 100}` holds for 101 and more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub over: Option<u64>,
    pub under: Option<u64>,
}

impl Range {
    pub fn holds(self, value: u64) -> bool {
        self.over.is_none_or(|o| value > o) && self.under.is_none_or(|u| value < u)
    }

    fn shown(self) -> String {
        match (self.over, self.under) {
            (Some(o), Some(u)) => format!("over {o} and under {u}"),
            (Some(o), None) => format!("over {o}"),
            (None, Some(u)) => format!("under {u}"),
            (None, None) => "any".to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Condition {
    /// The model name the client asked for.
    Model(Globs),
    Team(Globs),
    Endpoint(Vec<Endpoint>),
    Format(Vec<ApiFormat>),
    /// Which thinking modes hold.
    Thinking(Vec<Thinking>),
    InputTokens(Range),
    Messages(Range),
    /// Absent `max_tokens` never holds.
    MaxTokens(Range),
    Images(bool),
    Tools(bool),
    /// Some offered tool's name matches.
    Tool(Globs),
    /// A request header (lowercase name) whose value matches; an absent header never holds.
    Header(String, Globs),
    Conversation(Conversation),
}

impl Condition {
    /// The facts this condition reads (model, team, endpoint and format are always known).
    pub fn needs(&self) -> Needs {
        match self {
            Condition::Model(_)
            | Condition::Team(_)
            | Condition::Endpoint(_)
            | Condition::Format(_)
            | Condition::Header(..) => Needs::NONE,
            Condition::Thinking(_) => Needs::THINKING,
            Condition::InputTokens(_) => Needs::INPUT_TOKENS,
            Condition::Messages(_) => Needs::MESSAGES,
            Condition::MaxTokens(_) => Needs::MAX_TOKENS,
            Condition::Images(_) => Needs::IMAGES,
            Condition::Tools(_) => Needs::TOOLS,
            Condition::Tool(_) => Needs::TOOL_NAMES,
            Condition::Conversation(_) => Needs::CONVERSATION,
        }
    }

    pub fn holds(&self, f: &Facts<'_>) -> bool {
        match self {
            Condition::Model(g) => g.is_match(f.model),
            Condition::Team(g) => g.is_match(f.team),
            Condition::Endpoint(list) => f.endpoint.is_some_and(|e| list.contains(&e)),
            Condition::Format(list) => f.format.is_some_and(|x| list.contains(&x)),
            Condition::Thinking(list) => list.contains(&f.thinking),
            Condition::InputTokens(r) => r.holds(f.input_tokens),
            Condition::Messages(r) => r.holds(f.messages),
            Condition::MaxTokens(r) => f.max_tokens.is_some_and(|m| r.holds(m)),
            Condition::Images(want) => (f.images > 0) == *want,
            Condition::Tools(want) => f.tools_offered == *want,
            Condition::Tool(g) => f.tools.iter().any(|t| g.is_match(t)),
            Condition::Header(name, g) => f.header(name).is_some_and(|v| g.is_match(v)),
            Condition::Conversation(want) => f.conversation == *want,
        }
    }

    /// The fact's name as written in config.
    pub fn fact(&self) -> String {
        match self {
            Condition::Model(_) => "model".into(),
            Condition::Team(_) => "team".into(),
            Condition::Endpoint(_) => "endpoint".into(),
            Condition::Format(_) => "format".into(),
            Condition::Thinking(_) => "thinking".into(),
            Condition::InputTokens(_) => "input_tokens".into(),
            Condition::Messages(_) => "messages".into(),
            Condition::MaxTokens(_) => "max_tokens".into(),
            Condition::Images(_) => "images".into(),
            Condition::Tools(_) => "tools".into(),
            Condition::Tool(_) => "tool".into(),
            Condition::Header(name, _) => format!("headers.{name}"),
            Condition::Conversation(_) => "conversation".into(),
        }
    }

    /// What the condition asks for, in words (`over 100000`, `one of claude-haiku-*, haiku`).
    pub fn wanted(&self) -> String {
        let list = |items: Vec<&str>| match items.as_slice() {
            [one] => one.to_string(),
            many => format!("one of {}", many.join(", ")),
        };
        match self {
            Condition::Model(g)
            | Condition::Team(g)
            | Condition::Tool(g)
            | Condition::Header(_, g) => g.shown(),
            Condition::Endpoint(e) => list(e.iter().map(|e| e.label()).collect()),
            Condition::Format(x) => list(x.iter().map(|x| format_name(*x)).collect()),
            Condition::Thinking(t) => list(t.iter().map(|t| t.as_str()).collect()),
            Condition::InputTokens(r) | Condition::Messages(r) | Condition::MaxTokens(r) => {
                r.shown()
            }
            Condition::Images(b) | Condition::Tools(b) => b.to_string(),
            Condition::Conversation(c) => c.as_str().to_string(),
        }
    }

    /// The fact's value for this request, as the condition saw it.
    pub fn seen(&self, f: &Facts<'_>) -> String {
        match self {
            Condition::Model(_) => f.model.to_string(),
            Condition::Team(_) => f.team.to_string(),
            Condition::Endpoint(_) => f.endpoint.map_or("none", |e| e.label()).to_string(),
            Condition::Format(_) => f.format.map_or("none", format_name).to_string(),
            Condition::Thinking(_) => f.thinking.as_str().to_string(),
            Condition::InputTokens(_) => f.input_tokens.to_string(),
            Condition::Messages(_) => f.messages.to_string(),
            Condition::MaxTokens(_) => f
                .max_tokens
                .map_or_else(|| "absent".to_string(), |m| m.to_string()),
            Condition::Images(_) => (f.images > 0).to_string(),
            Condition::Tools(_) => f.tools_offered.to_string(),
            Condition::Tool(_) if f.tools.is_empty() => "no tools".to_string(),
            Condition::Tool(_) => f.tools.join(", "),
            Condition::Header(name, _) => f
                .header(name)
                .map_or_else(|| "absent".to_string(), str::to_string),
            Condition::Conversation(_) => f.conversation.as_str().to_string(),
        }
    }
}

/// The client format's name in config (`format: anthropic`).
pub fn format_name(format: ApiFormat) -> &'static str {
    match format {
        ApiFormat::Anthropic => "anthropic",
        ApiFormat::OpenAi => "openai",
        ApiFormat::Responses => "responses",
    }
}
