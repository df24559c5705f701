//! Request facts: what routing rules match on, read once per request and only as far as the team's
//! rules need ([`Needs`]). Everything comes from values `body::peek_with` already bounded in its
//! single pass over the top-level object; a fact that lives inside a value (a message's role, a
//! block's type, a tool's name) costs one walk over that value with `body::elements` /
//! `body::members`, which step over strings with `memchr` and decode nothing but the short
//! identifiers compared. No fact needs a full JSON parse.
//!
//! **Estimated input tokens** are `(body bytes − bytes of images) / 4 + 1,600 per image`: the body
//! length is known for free, and four bytes a token is the usual rule for English text and code. The
//! JSON around the content (keys, tool schemas, escapes) counts too, so the estimate runs above a
//! tokenizer's count — measured on the Claude Code captures against the o200k tokenizer of
//! `translate::tokens` in this module's tests and in `docs/routing.md`. Images are taken out because
//! base64 bytes are no measure of an image's tokens (Anthropic bills ~1,600 for a 1.15 MP image).

use std::borrow::Cow;

use crate::api::{ApiFormat, Endpoint};
use crate::body::{self, FactField, FactSpans};

/// Bytes per token of the estimate.
pub const BYTES_PER_TOKEN: u64 = 4;
/// Tokens counted per image (as `translate::tokens::IMAGE_TOKENS`).
pub const IMAGE_TOKENS: u64 = crate::translate::tokens::IMAGE_TOKENS;
/// How much of the system prompt and of the first message identifies a conversation that carries no id.
const CONVERSATION_PREFIX: usize = 512;

/// Which facts a rule set reads, so that a request gathers those and nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs(u16);

impl Needs {
    pub const NONE: Needs = Needs(0);
    pub const THINKING: Needs = Needs(1);
    pub const INPUT_TOKENS: Needs = Needs(1 << 1);
    pub const MESSAGES: Needs = Needs(1 << 2);
    pub const IMAGES: Needs = Needs(1 << 3);
    pub const TOOLS: Needs = Needs(1 << 4);
    pub const TOOL_NAMES: Needs = Needs(1 << 5);
    pub const MAX_TOKENS: Needs = Needs(1 << 6);
    pub const CONVERSATION: Needs = Needs(1 << 7);
    pub const SPLIT_KEY: Needs = Needs(1 << 8);
    pub const ALL: Needs = Needs((1 << 9) - 1);

    pub fn contains(self, other: Needs) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn intersects(self, other: Needs) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether any fact comes from the body (then `peek_with` must find the fact fields).
    pub fn body(self) -> bool {
        self.0 != 0
    }
}

impl std::ops::BitOr for Needs {
    type Output = Needs;
    fn bitor(self, other: Needs) -> Needs {
        Needs(self.0 | other.0)
    }
}

impl std::ops::BitOrAssign for Needs {
    fn bitor_assign(&mut self, other: Needs) {
        self.0 |= other.0;
    }
}

/// Whether and how the request asks the model to reason before answering.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Thinking {
    #[default]
    Off,
    /// Anthropic `thinking: {type: adaptive}`: the model decides (Claude Code's Opus sends it on every turn).
    Adaptive,
    /// Anthropic `thinking: {type: enabled, budget_tokens}`, OpenAI `reasoning_effort` or a Responses
    /// `reasoning` object (other than effort `none`).
    Enabled,
}

impl Thinking {
    pub const ALL: [Thinking; 3] = [Thinking::Off, Thinking::Adaptive, Thinking::Enabled];

    pub fn as_str(self) -> &'static str {
        match self {
            Thinking::Off => "off",
            Thinking::Adaptive => "adaptive",
            Thinking::Enabled => "enabled",
        }
    }
}

/// Whether the conversation has an earlier model turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Conversation {
    /// No assistant turn, no tool result, no `previous_response_id`: the first request of a task.
    #[default]
    New,
    Continuing,
}

impl Conversation {
    pub fn as_str(self) -> &'static str {
        match self {
            Conversation::New => "new",
            Conversation::Continuing => "continuing",
        }
    }
}

/// Where the identity that keeps a conversation on one side of a split came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeySource {
    /// `session_id` inside Claude Code's `metadata.user_id`.
    SessionId,
    /// The `X-Claude-Code-Session-Id` header.
    SessionHeader,
    /// The Responses API's `prompt_cache_key` (Codex CLI sends its session id there).
    PromptCacheKey,
    /// OpenAI's `user`.
    User,
    /// `metadata.user_id` that holds no session id: one user's conversations stay together.
    MetadataUser,
    /// The start of the system prompt and of the first message, which a conversation keeps turn after turn.
    ConversationStart,
    /// Nothing identifies a conversation: the request id (each request is its own conversation).
    #[default]
    Request,
}

impl KeySource {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::SessionId => "metadata.user_id session_id",
            KeySource::SessionHeader => "x-claude-code-session-id",
            KeySource::PromptCacheKey => "prompt_cache_key",
            KeySource::User => "user",
            KeySource::MetadataUser => "metadata.user_id",
            KeySource::ConversationStart => "system prompt + first message",
            KeySource::Request => "request id (no conversation identity)",
        }
    }
}

/// What a rule can see of one request. Facts a rule set does not need keep their default.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    /// The model name the client asked for.
    pub model: &'a str,
    pub team: &'a str,
    pub endpoint: Option<Endpoint>,
    pub format: Option<ApiFormat>,
    pub thinking: Thinking,
    pub input_tokens: u64,
    /// Entries in `messages` (or Responses `input` items).
    pub messages: u64,
    pub images: u64,
    /// Bytes of the images' blocks (taken out of the token estimate).
    pub image_bytes: u64,
    /// Whether the request offers any tool (a look at the first byte of `tools`, no walk).
    pub tools_offered: bool,
    /// Each tool's name (a function's name; a hosted tool's `type` when it has no name): one walk
    /// over `tools`, only when a rule names tools.
    pub tools: Vec<Cow<'a, str>>,
    pub max_tokens: Option<u64>,
    pub conversation: Conversation,
    /// Values of the headers rules look at (lowercase names), `None` when absent.
    pub headers: Vec<(String, Option<&'a str>)>,
    pub split_key: Vec<u8>,
    pub split_key_source: KeySource,
}

/// One request as the rules see it: no Pingora types, so the proxy and `switchyard route` share it.
pub struct RequestView<'a> {
    pub body: &'a [u8],
    /// From `body::peek_with(body, true)` (all `None` when the rule set needs no body fact).
    pub spans: &'a FactSpans,
    pub model: &'a str,
    pub team: &'a str,
    pub endpoint: Endpoint,
    pub format: ApiFormat,
    /// A request header by lowercase name.
    pub header: &'a dyn Fn(&str) -> Option<&'a str>,
    /// Stands in for a conversation identity when the request has none (the request id).
    pub request_id: &'a str,
}

impl<'a> Facts<'a> {
    /// Gathers `needs` (and the headers named in `headers`) from `req`.
    pub fn gather(req: &RequestView<'a>, needs: Needs, headers: &[String]) -> Facts<'a> {
        let mut facts = Facts {
            model: req.model,
            team: req.team,
            endpoint: Some(req.endpoint),
            format: Some(req.format),
            ..Facts::default()
        };
        let (b, spans) = (req.body, req.spans);
        if needs.contains(Needs::THINKING) {
            facts.thinking = thinking(b, spans);
        }
        if needs.contains(Needs::MAX_TOKENS) {
            facts.max_tokens = [
                FactField::MaxCompletionTokens,
                FactField::MaxOutputTokens,
                FactField::MaxTokens,
            ]
            .into_iter()
            .find_map(|f| spans.get(f))
            .and_then(|span| body::integer_at(b, span));
        }
        if needs.intersects(Needs::TOOLS | Needs::TOOL_NAMES) {
            facts.read_tools(b, spans, needs.contains(Needs::TOOL_NAMES));
        }
        if needs
            .intersects(Needs::MESSAGES | Needs::IMAGES | Needs::INPUT_TOKENS | Needs::CONVERSATION)
        {
            facts.read_messages(b, spans, needs);
        }
        if needs.contains(Needs::INPUT_TOKENS) {
            let text_bytes = (b.len() as u64).saturating_sub(facts.image_bytes);
            facts.input_tokens = text_bytes / BYTES_PER_TOKEN + facts.images * IMAGE_TOKENS;
        }
        facts.headers = headers
            .iter()
            .map(|name| (name.clone(), (req.header)(name)))
            .collect();
        if needs.contains(Needs::SPLIT_KEY) {
            (facts.split_key_source, facts.split_key) = split_key(req);
        }
        facts
    }

    fn read_tools(&mut self, b: &'a [u8], spans: &FactSpans, names: bool) {
        let Some(span) = spans.get(FactField::Tools) else {
            return;
        };
        self.tools_offered = !body::is_empty_array(b, span);
        if names {
            self.tools = body::elements(b, span)
                .filter_map(|tool| tool_name(b, tool))
                .collect();
        }
    }

    /// One walk over `messages` (or `input`) for the count, the roles and the images — and none at
    /// all when only images matter and [`may_hold_images`] says there are none.
    fn read_messages(&mut self, b: &'a [u8], spans: &FactSpans, needs: Needs) {
        if spans.get(FactField::PreviousResponseId).is_some() {
            self.conversation = Conversation::Continuing;
        }
        let Some(span) = spans
            .get(FactField::Messages)
            .or(spans.get(FactField::Input))
        else {
            return;
        };
        if b.get(span.0) == Some(&b'"') {
            // The Responses API's `input` may be one string: one user message.
            self.messages = 1;
            return;
        }
        let images = needs.intersects(Needs::IMAGES | Needs::INPUT_TOKENS)
            && may_hold_images(&b[span.0..span.1]);
        let roles = needs.contains(Needs::CONVERSATION);
        if !(images || roles || needs.contains(Needs::MESSAGES)) {
            return;
        }
        for message in body::elements(b, span) {
            self.messages += 1;
            if !(images || roles) {
                continue;
            }
            for (key, value) in body::members(b, message) {
                match key {
                    b"role" if roles => {
                        if matches!(
                            body::string_at(b, value).as_deref(),
                            Some("assistant" | "tool" | "function")
                        ) {
                            self.conversation = Conversation::Continuing;
                        }
                    }
                    // Responses API items other than messages: earlier calls, their outputs, reasoning.
                    b"type" if roles => {
                        if matches!(body::string_at(b, value).as_deref(), Some(t) if t != "message")
                        {
                            self.conversation = Conversation::Continuing;
                        }
                    }
                    b"content" if images => self.read_blocks(b, value, 0),
                    _ => {}
                }
            }
        }
    }

    /// Content blocks: images counted, and a tool result's own blocks looked into (Claude Code's
    /// Read tool returns a screenshot inside a `tool_result`) — one level deep, as the APIs nest them.
    fn read_blocks(&mut self, b: &[u8], content: (usize, usize), depth: u8) {
        for block in body::elements(b, content) {
            let mut inner = None;
            for (key, value) in body::members(b, block) {
                match key {
                    b"type" => {
                        if let Some("image" | "image_url" | "input_image") =
                            body::string_at(b, value).as_deref()
                        {
                            self.images += 1;
                            self.image_bytes += (block.1 - block.0) as u64;
                        }
                    }
                    b"content" if depth == 0 => inner = Some(value),
                    _ => {}
                }
            }
            if let Some(inner) = inner {
                self.read_blocks(b, inner, depth + 1);
            }
        }
    }

    /// The value of header `name` (lowercase) as gathered.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| *v)
    }
}

/// Whether `messages` may hold an image block: its type is the JSON string `"image"`, `"image_url"`
/// or `"input_image"`, and those bytes, quotes included, can only be such a string — inside a text
/// the quotes would be escaped (`\\"image\\"`). One `memmem` pass for `image`, each hit checked for
/// those quotes, instead of a walk over every message; a false alarm (the string `"image"` as some
/// other value) only costs the walk that settles it.
fn may_hold_images(messages: &[u8]) -> bool {
    memchr::memmem::find_iter(messages, b"image").any(|at| {
        let (before, after) = (&messages[..at], &messages[at + b"image".len()..]);
        let closed = after.starts_with(b"\"") || after.starts_with(b"_url\"");
        (before.ends_with(b"\"") && closed)
            || (before.ends_with(b"\"input_") && after.starts_with(b"\""))
    })
}

fn thinking(b: &[u8], spans: &FactSpans) -> Thinking {
    if let Some(span) = spans.get(FactField::Thinking) {
        return match body::member(b, span, b"type")
            .and_then(|t| body::string_at(b, t))
            .as_deref()
        {
            Some("enabled") => Thinking::Enabled,
            Some("adaptive") => Thinking::Adaptive,
            _ => Thinking::Off,
        };
    }
    let effort = |span| {
        body::string_at(b, span).map_or(Thinking::Enabled, |e| {
            if e == "none" {
                Thinking::Off
            } else {
                Thinking::Enabled
            }
        })
    };
    if let Some(span) = spans.get(FactField::ReasoningEffort) {
        return effort(span);
    }
    match spans.get(FactField::Reasoning) {
        Some(span) => body::member(b, span, b"effort").map_or(Thinking::Enabled, effort),
        None => Thinking::Off,
    }
}

/// A tool's name: its `name` (Anthropic, Responses functions), its `function.name` (chat
/// completions), else its `type` (hosted tools such as the Responses API's `web_search`).
fn tool_name<'a>(b: &'a [u8], tool: (usize, usize)) -> Option<Cow<'a, str>> {
    let (mut name, mut kind) = (None, None);
    for (key, value) in body::members(b, tool) {
        match key {
            b"name" => name = body::string_at(b, value),
            b"type" => kind = body::string_at(b, value),
            b"function" if name.is_none() => {
                name = body::member(b, value, b"name").and_then(|n| body::string_at(b, n))
            }
            _ => {}
        }
    }
    name.or(kind)
}

/// The identity that keeps a conversation on one side of a split, and where it came from.
fn split_key(req: &RequestView<'_>) -> (KeySource, Vec<u8>) {
    let (b, spans) = (req.body, req.spans);
    let user_id = spans
        .get(FactField::Metadata)
        .and_then(|m| body::member(b, m, b"user_id"))
        .and_then(|u| body::string_at(b, u));
    if let Some(session) = user_id.as_deref().and_then(session_in_user_id) {
        return (KeySource::SessionId, session.into_bytes());
    }
    if let Some(header) = (req.header)("x-claude-code-session-id").filter(|h| !h.is_empty()) {
        return (KeySource::SessionHeader, header.as_bytes().to_vec());
    }
    let string = |field| {
        spans
            .get(field)
            .and_then(|s| body::string_at(b, s))
            .filter(|s| !s.is_empty())
    };
    if let Some(key) = string(FactField::PromptCacheKey) {
        return (KeySource::PromptCacheKey, key.as_bytes().to_vec());
    }
    if let Some(user) = string(FactField::User) {
        return (KeySource::User, user.as_bytes().to_vec());
    }
    if let Some(user_id) = user_id.filter(|u| !u.is_empty()) {
        return (KeySource::MetadataUser, user_id.as_bytes().to_vec());
    }
    let first = spans
        .get(FactField::Messages)
        .or(spans.get(FactField::Input))
        .and_then(|m| body::elements(b, m).next());
    let system = spans.get(FactField::System);
    if first.is_some() || system.is_some() {
        let mut key = Vec::with_capacity(2 * CONVERSATION_PREFIX);
        for (start, end) in [system, first].into_iter().flatten() {
            key.extend_from_slice(&b[start..end.min(start + CONVERSATION_PREFIX)]);
        }
        return (KeySource::ConversationStart, key);
    }
    (KeySource::Request, req.request_id.as_bytes().to_vec())
}

/// The session id in Claude Code's `metadata.user_id`: a JSON string holding
/// `{"device_id":…,"account_uuid":…,"session_id":…}` (2.x), or `user_<hash>_account_<uuid>_session_<uuid>` (1.x).
fn session_in_user_id(user_id: &str) -> Option<String> {
    if user_id.starts_with('{') {
        let bytes = user_id.as_bytes();
        let session = body::member(bytes, (0, bytes.len()), b"session_id")?;
        return body::string_at(bytes, session)
            .filter(|s| !s.is_empty())
            .map(Cow::into_owned);
    }
    let (_, session) = user_id.rsplit_once("_session_")?;
    (!session.is_empty()).then(|| session.to_string())
}

#[cfg(test)]
mod tests;
