//! Reading the routing fields of a JSON request body, and splicing a new `model` into it. On the
//! pass-through path this is the only body work: the rest of the bytes are forwarded exactly as
//! the client sent them.
//!
//! `peek` is a byte-level scanner over the top-level object rather than a JSON parser, because a
//! parser must walk every byte of a 50 KB Claude Code body (its `stream` key comes last, so there
//! is no early exit) and that walk was the largest cost of the pass-through path. The scanner steps
//! over string values with `memchr` and over nested objects and arrays by counting brackets, and
//! decodes only what routing reads: the `model` string (with `serde_json`, so escapes are right)
//! and the `stream` literal.
//!
//! What it checks: the body is an object; strings are terminated; brackets balance and match;
//! colons and commas are where the grammar puts them; nothing follows the object; top-level
//! scalars are well-formed numbers or literals; `model` is a valid JSON string in valid UTF-8;
//! `stream` is `true`, `false` or `null`; none of the fields routing reads appears twice (as
//! `serde` would refuse). What it deliberately does not check, inside values it steps over:
//! number and literal syntax, escape sequences, raw control characters in strings, and UTF-8.
//! Those would cost the full walk this module exists to avoid, and the gateway has nothing to
//! gain from catching them: a pass-through body is forwarded untouched, so the provider rejects
//! it with a 400 in the very API format the client speaks. The translation path parses the whole
//! body into a tree anyway, so there every error is still caught by the gateway.
//!
//! Routing rules (`crate::rules`) need more of the request than routing does: the messages, the
//! tools, thinking, token limits. [`peek_with`] finds those top-level values in the same pass, only
//! when the team's rules need them, and [`elements`] / [`members`] step through the inside of one
//! of them the same way (quotes and brackets, nothing decoded), so a fact costs one walk over the
//! value it comes from and nothing when no rule asks for it.

/// The fields routing needs, borrowed from the body.
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Debug, PartialEq, Eq)]
pub struct Peek {
    pub model: Option<String>,
    /// Byte range of the `model` value (including its quotes) in the body.
    pub model_span: Option<(usize, usize)>,
    pub stream: bool,
    /// A conversation identity for cache affinity: the client's user/session id and the start of
    /// its system prompt, as raw JSON bytes (empty when the body has neither).
    pub session: Vec<u8>,
    /// Byte ranges of the raw `metadata`, `user` and `stream_options` values, for the usage ledger
    /// (end user) and for asking an OpenAI-format provider for stream usage.
    pub metadata_span: Option<(usize, usize)>,
    pub user_span: Option<(usize, usize)>,
    pub stream_options_span: Option<(usize, usize)>,
    /// Where the values request facts come from are ([`peek_with`] only; boxed, so a peek for a
    /// gateway without rules stays as small as it was).
    pub facts: Option<Box<FactSpans>>,
}

impl Peek {
    /// The fact spans (all `None` when the peek did not look for them).
    pub fn fact_spans(&self) -> &FactSpans {
        FactSpans::or_none(&self.facts)
    }
}

/// The top-level values routing rules read their facts from, beyond those routing reads anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactField {
    Metadata,
    User,
    System,
    Messages,
    /// The Responses API's conversation (`input` items).
    Input,
    Tools,
    Thinking,
    ReasoningEffort,
    Reasoning,
    MaxTokens,
    MaxCompletionTokens,
    MaxOutputTokens,
    PromptCacheKey,
    PreviousResponseId,
}

/// Byte ranges of the [`FactField`] values in a body (`None`: absent or `null`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactSpans([Option<(usize, usize)>; ALL_FIELDS.len()]);

impl FactSpans {
    /// `spans`, or no spans at all.
    pub fn or_none(spans: &Option<Box<FactSpans>>) -> &FactSpans {
        static NONE: FactSpans = FactSpans([None; ALL_FIELDS.len()]);
        spans.as_deref().unwrap_or(&NONE)
    }

    pub fn get(&self, field: FactField) -> Option<(usize, usize)> {
        let index = match field {
            FactField::Metadata => METADATA,
            FactField::User => USER,
            FactField::System => SYSTEM,
            FactField::Messages => 6,
            FactField::Input => 7,
            FactField::Tools => 8,
            FactField::Thinking => 9,
            FactField::ReasoningEffort => 10,
            FactField::Reasoning => 11,
            FactField::MaxTokens => 12,
            FactField::MaxCompletionTokens => 13,
            FactField::MaxOutputTokens => 14,
            FactField::PromptCacheKey => 15,
            FactField::PreviousResponseId => 16,
        };
        self.0[index]
    }
}

/// How much of the system prompt identifies a conversation's cache prefix.
const SESSION_SYSTEM_PREFIX: usize = 512;

/// Why a body could not be peeked, in words a client can act on.
#[derive(Debug, PartialEq, Eq)]
pub struct BodyError(pub String);

/// The top-level keys `peek` reads: the first [`ROUTING_FIELDS`] always (routing's own, refused when
/// repeated, as serde would), the rest for [`peek_with`] (the last one wins when repeated, as it
/// does for a provider that parses into a map).
const ALL_FIELDS: [&[u8]; 17] = [
    b"model",
    b"stream",
    b"metadata",
    b"user",
    b"system",
    b"stream_options",
    b"messages",
    b"input",
    b"tools",
    b"thinking",
    b"reasoning_effort",
    b"reasoning",
    b"max_tokens",
    b"max_completion_tokens",
    b"max_output_tokens",
    b"prompt_cache_key",
    b"previous_response_id",
];
const ROUTING_FIELDS: usize = 6;
const MODEL: usize = 0;
const STREAM: usize = 1;
const METADATA: usize = 2;
const USER: usize = 3;
const SYSTEM: usize = 4;
const STREAM_OPTIONS: usize = 5;

/// Reads the routing fields of `body` (see the module doc for what is checked).
pub fn peek(body: &[u8]) -> Result<Peek, BodyError> {
    peek_with(body, false)
}

/// As [`peek`]; with `facts`, also finds the values routing rules read ([`Peek::fact_spans`]) in the
/// same pass. Without, it compares each top-level key with routing's six names only.
pub fn peek_with(body: &[u8], facts: bool) -> Result<Peek, BodyError> {
    let wanted = if facts { ALL_FIELDS.len() } else { ROUTING_FIELDS };
    let mut scanner = Scanner { b: body, pos: 0, stack: Vec::new(), wanted, seen: [false; ROUTING_FIELDS], fields: [None; ALL_FIELDS.len()] };
    scanner.object()?;
    let fields = scanner.fields;

    let (model, model_span) = match fields[MODEL] {
        None => (None, None),
        Some((start, end)) => (Some(decode_model(body, start, end)?), Some((start, end))),
    };
    let stream = match fields[STREAM].map(|(s, e)| &body[s..e]) {
        None => false,
        Some(b"true") => true,
        Some(b"false") => false,
        Some(raw) => {
            let shown = serde_json::from_slice::<serde_json::Value>(raw).map_or_else(|_| excerpt(raw), |v| v.to_string());
            return Err(BodyError(format!("`stream` must be true or false, got {shown}")));
        }
    };
    let mut session = Vec::new();
    for (start, end) in [fields[METADATA], fields[USER]].into_iter().flatten() {
        session.extend_from_slice(&body[start..end]);
    }
    if !session.is_empty() {
        if let Some((start, end)) = fields[SYSTEM] {
            session.extend_from_slice(&body[start..end.min(start + SESSION_SYSTEM_PREFIX)]);
        }
    }
    let facts = facts.then(|| Box::new(FactSpans(fields)));
    Ok(Peek {
        model,
        model_span,
        stream,
        session,
        metadata_span: fields[METADATA],
        user_span: fields[USER],
        stream_options_span: fields[STREAM_OPTIONS],
        facts,
    })
}

/// The `model` value, which is the one string whose content the gateway uses — so it alone is
/// checked for UTF-8 and decoded by a real JSON parser.
fn decode_model(body: &[u8], start: usize, end: usize) -> Result<String, BodyError> {
    let raw = &body[start..end];
    if raw.first() != Some(&b'"') {
        return Err(BodyError(format!("`model` must be a string, got {}", excerpt(raw))));
    }
    let text = std::str::from_utf8(raw).map_err(|e| not_utf8(start + e.valid_up_to()))?;
    serde_json::from_str(text).map_err(|e| syntax(body, start, &format!("in `model`: {}", without_position(&e))))
}

/// A key with escapes, decoded (`b[start..end]` includes its quotes).
fn decode_key(b: &[u8], start: usize, end: usize) -> Result<String, BodyError> {
    std::str::from_utf8(&b[start..end])
        .map_err(|e| not_utf8(start + e.valid_up_to()))
        .and_then(|text| serde_json::from_str(text).map_err(|e| syntax(b, start, &without_position(&e))))
}

fn not_utf8(at: usize) -> BodyError {
    BodyError(format!("request body is not valid UTF-8 (at byte {at})"))
}

/// The start of a value for an error message: 40 characters, as the serde-based peek showed.
fn excerpt(raw: &[u8]) -> String {
    String::from_utf8_lossy(&raw[..raw.len().min(160)]).chars().take(40).collect()
}

fn syntax(body: &[u8], at: usize, what: &str) -> BodyError {
    let (line, column) = line_column(body, at);
    BodyError(format!("request body is not valid JSON: {what} (line {line}, column {column})"))
}

/// 1-based line and byte column of `at` (of the last byte when `at` is the end), as serde counts.
fn line_column(body: &[u8], at: usize) -> (usize, usize) {
    let at = at.min(body.len().saturating_sub(1));
    let before = &body[..at];
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    (line, at - line_start + 1)
}

/// serde_json's message without its " at line L column C", which would be relative to a slice.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    pos: usize,
    /// Open brackets of the nested value being stepped over, so `{"a":[}` is refused.
    stack: Vec<u8>,
    /// How many of `ALL_FIELDS` (from the first) this scan looks for.
    wanted: usize,
    /// Which routing fields have appeared, to refuse a duplicate as serde does (a `null` counts).
    seen: [bool; ROUTING_FIELDS],
    /// Span of each of `ALL_FIELDS`' values; `None` when absent or `null`, which serde treats alike.
    fields: [Option<(usize, usize)>; ALL_FIELDS.len()],
}

impl Scanner<'_> {
    fn at(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.at() {
            self.pos += 1;
        }
    }

    fn error(&self, at: usize, what: &str) -> BodyError {
        syntax(self.b, at, what)
    }

    fn object(&mut self) -> Result<(), BodyError> {
        self.skip_ws();
        if self.at() != Some(b'{') {
            return Err(BodyError("request body must be a JSON object".to_string()));
        }
        self.pos += 1;
        self.skip_ws();
        if self.at() == Some(b'}') {
            self.pos += 1;
        } else {
            self.members()?;
        }
        self.skip_ws();
        if self.pos != self.b.len() {
            return Err(self.error(self.pos, "trailing characters"));
        }
        Ok(())
    }

    fn members(&mut self) -> Result<(), BodyError> {
        let mut first = true;
        loop {
            self.skip_ws();
            let key_start = self.pos;
            match self.at() {
                Some(b'"') => {}
                Some(b'}') if !first => return Err(self.error(self.pos, "trailing comma")),
                None => return Err(self.error(self.pos, "EOF while parsing an object")),
                Some(_) => return Err(self.error(self.pos, "key must be a string")),
            }
            first = false;
            self.pos = self.string_end(key_start)?;
            let field = self.field(key_start, self.pos)?;
            self.skip_ws();
            match self.at() {
                Some(b':') => self.pos += 1,
                None => return Err(self.error(self.pos, "EOF while parsing an object")),
                Some(_) => return Err(self.error(self.pos, "expected `:`")),
            }
            self.skip_ws();
            let value_start = self.pos;
            self.value()?;
            if let Some(i) = field {
                // A repeated routing field was refused above; any other repeated one: the last wins.
                self.fields[i] = (&self.b[value_start..self.pos] != b"null").then_some((value_start, self.pos));
            }
            self.skip_ws();
            match self.at() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => return Err(self.error(self.pos, "EOF while parsing an object")),
                Some(_) => return Err(self.error(self.pos, "expected `,` or `}`")),
            }
        }
    }

    /// Which of the wanted `ALL_FIELDS` the key `b[start..end]` (with its quotes) names. A key with
    /// escapes is decoded first, because serde matches `"mod\u0065l"` as `model`.
    fn field(&mut self, start: usize, end: usize) -> Result<Option<usize>, BodyError> {
        let inner = &self.b[start + 1..end - 1];
        let wanted = &ALL_FIELDS[..self.wanted];
        let index = if memchr::memchr(b'\\', inner).is_some() {
            let key = decode_key(self.b, start, end)?;
            wanted.iter().position(|f| *f == key.as_bytes())
        } else {
            wanted.iter().position(|f| *f == inner)
        };
        if let Some(i) = index.filter(|i| *i < ROUTING_FIELDS) {
            if std::mem::replace(&mut self.seen[i], true) {
                let name = String::from_utf8_lossy(ALL_FIELDS[i]);
                let (line, column) = line_column(self.b, start);
                return Err(BodyError(format!("request body must be a JSON object: duplicate field `{name}` (line {line}, column {column})")));
            }
        }
        Ok(index)
    }

    fn value(&mut self) -> Result<(), BodyError> {
        match self.at() {
            Some(b'"') => self.pos = self.string_end(self.pos)?,
            Some(b'{' | b'[') => self.pos = self.container_end(self.pos)?,
            Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                let start = self.pos;
                while let Some(b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'+' | b'-' | b'.') = self.at() {
                    self.pos += 1;
                }
                let token = &self.b[start..self.pos];
                if !(matches!(token, b"true" | b"false" | b"null") || is_number(token)) {
                    return Err(self.error(start, "invalid number or literal"));
                }
            }
            None => return Err(self.error(self.pos, "EOF while parsing a value")),
            Some(_) => return Err(self.error(self.pos, "expected value")),
        }
        Ok(())
    }

    /// The position after the string starting with the quote at `start`. It looks for quotes
    /// only, and tells an escaped one by the backslashes before it: Claude Code's prompts are
    /// full of `\n`, and stopping at every backslash too doubled the number of searches.
    fn string_end(&self, start: usize) -> Result<usize, BodyError> {
        let mut i = start + 1;
        while let Some(n) = memchr::memchr(b'"', &self.b[i..]) {
            let quote = i + n;
            let backslashes = self.b[start + 1..quote].iter().rev().take_while(|&&c| c == b'\\').count();
            if backslashes % 2 == 0 {
                return Ok(quote + 1);
            }
            i = quote + 1;
        }
        Err(self.error(self.b.len(), "EOF while parsing a string"))
    }

    /// The position after the object or array opening at `start`, found by matching brackets
    /// and stepping over strings (which may contain brackets) without looking inside them.
    fn container_end(&mut self, start: usize) -> Result<usize, BodyError> {
        self.stack.clear();
        let mut i = start;
        while let Some(&byte) = self.b.get(i) {
            match byte {
                b'"' => {
                    i = self.string_end(i)?;
                    continue;
                }
                b'{' | b'[' => self.stack.push(byte),
                b'}' | b']' => {
                    let opener = if byte == b'}' { b'{' } else { b'[' };
                    if self.stack.pop() != Some(opener) {
                        return Err(self.error(i, &format!("unbalanced brackets: unexpected `{}`", byte as char)));
                    }
                    if self.stack.is_empty() {
                        return Ok(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        let what = if self.b[start] == b'{' { "EOF while parsing an object" } else { "EOF while parsing a list" };
        Err(self.error(self.b.len(), what))
    }
}

/// Steps through the inside of an array or object value that `peek` bounded, one element or member
/// at a time. `peek` checked only that the value's strings end and its brackets match, so inside it
/// anything may still be malformed: the walk then simply ends early (a fact read from a malformed
/// body is as good as the provider's 400 that follows makes it), and never panics.
struct Walk<'a> {
    scanner: Scanner<'a>,
    end: usize,
    object: bool,
    done: bool,
}

/// One element or member: its key (objects only) and its value's span.
type Step<'a> = (Option<&'a [u8]>, (usize, usize));

impl<'a> Walk<'a> {
    fn new(body: &'a [u8], (start, end): (usize, usize), opener: u8) -> Walk<'a> {
        let end = end.min(body.len());
        let ok = start < end && body.get(start) == Some(&opener);
        let scanner = Scanner { b: &body[..end], pos: start + 1, stack: Vec::new(), wanted: 0, seen: [false; ROUTING_FIELDS], fields: [None; ALL_FIELDS.len()] };
        Walk { scanner, end, object: opener == b'{', done: !ok }
    }

    /// The next key (raw, without its quotes; `None` for a key with escapes, which facts never
    /// need decoded) and value span; for an array, the key is always `None`.
    fn step(&mut self) -> Option<Step<'a>> {
        if self.done {
            return None;
        }
        let s = &mut self.scanner;
        s.skip_ws();
        let mut key = None;
        if self.object {
            if s.at() != Some(b'"') {
                self.done = true;
                return None;
            }
            let key_start = s.pos;
            s.pos = s.string_end(key_start).ok()?;
            let raw = &s.b[key_start + 1..s.pos - 1];
            key = memchr::memchr(b'\\', raw).is_none().then_some(raw);
            s.skip_ws();
            if s.at() != Some(b':') {
                self.done = true;
                return None;
            }
            s.pos += 1;
            s.skip_ws();
        } else if s.at() == Some(b']') {
            self.done = true;
            return None;
        }
        let start = s.pos;
        if s.value().is_err() {
            self.done = true;
            return None;
        }
        let span = (start, s.pos);
        s.skip_ws();
        match s.at() {
            Some(b',') => s.pos += 1,
            _ => self.done = true,
        }
        if s.pos >= self.end {
            self.done = true;
        }
        Some((key, span))
    }
}

/// The elements of the array at `span` (empty if it is not an array).
pub fn elements(body: &[u8], span: (usize, usize)) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut walk = Walk::new(body, span, b'[');
    std::iter::from_fn(move || walk.step().map(|(_, span)| span))
}

/// The members of the object at `span` (empty if it is not an object), as raw key (without quotes;
/// keys with escapes are skipped) and value span.
pub fn members(body: &[u8], span: (usize, usize)) -> impl Iterator<Item = (&[u8], (usize, usize))> + '_ {
    let mut walk = Walk::new(body, span, b'{');
    std::iter::from_fn(move || loop {
        match walk.step()? {
            (Some(key), span) => return Some((key, span)),
            (None, _) => continue,
        }
    })
}

/// Whether the value at `span` is anything but an array with at least one element (`[]`, `[ ]`, not
/// an array), looking at its first bytes only.
pub fn is_empty_array(body: &[u8], span: (usize, usize)) -> bool {
    let value = body.get(span.0..span.1).unwrap_or_default();
    match value.strip_prefix(b"[") {
        Some(inside) => inside.iter().find(|c| !matches!(c, b' ' | b'\n' | b'\r' | b'\t')) == Some(&b']'),
        None => true,
    }
}

/// The value of `key` in the object at `span` (the last one when repeated).
pub fn member(body: &[u8], span: (usize, usize), key: &[u8]) -> Option<(usize, usize)> {
    members(body, span).filter(|(k, _)| *k == key).last().map(|(_, v)| v)
}

/// The string at `span`, decoded (`None` if it is not a valid JSON string). Borrowed when it has no
/// escapes, which is what the short identifiers facts read (roles, types, names) almost always are.
pub fn string_at(body: &[u8], span: (usize, usize)) -> Option<std::borrow::Cow<'_, str>> {
    let raw = body.get(span.0..span.1)?;
    let inner = raw.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if memchr::memchr(b'\\', inner).is_none() {
        return std::str::from_utf8(inner).ok().map(std::borrow::Cow::Borrowed);
    }
    serde_json::from_slice::<String>(raw).ok().map(std::borrow::Cow::Owned)
}

/// The non-negative integer at `span` (`None` for anything else).
pub fn integer_at(body: &[u8], span: (usize, usize)) -> Option<u64> {
    std::str::from_utf8(body.get(span.0..span.1)?).ok()?.parse().ok()
}

/// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_number(token: &[u8]) -> bool {
    fn digits(t: &[u8], i: &mut usize) -> usize {
        let start = *i;
        while t.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    }
    let mut i = usize::from(token.first() == Some(&b'-'));
    match token.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(token, &mut i);
        }
        _ => return false,
    }
    if token.get(i) == Some(&b'.') {
        i += 1;
        if digits(token, &mut i) == 0 {
            return false;
        }
    }
    if matches!(token.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(token.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(token, &mut i) == 0 {
            return false;
        }
    }
    i == token.len()
}

/// The body with its `model` value replaced by `model` (a JSON string).
pub fn with_model(body: &[u8], span: (usize, usize), model: &str) -> Vec<u8> {
    let quoted = serde_json::to_string(model).unwrap_or_else(|_| "\"\"".to_string());
    let mut out = Vec::with_capacity(body.len() + quoted.len());
    out.extend_from_slice(&body[..span.0]);
    out.extend_from_slice(quoted.as_bytes());
    out.extend_from_slice(&body[span.1..]);
    out
}

/// A captured request's `body`, as stored (pretty-printed) and compacted in its own key order, the
/// way a JSON client sends it. Re-serialising through `serde_json::Value` would sort the keys and
/// move `stream` from the last place, which is the case the scanner has to be fast at. For the body
/// tests and the `body_peek` bench, which read the Claude Code captures.
#[doc(hidden)]
pub fn capture_body(capture: &str) -> Option<[Vec<u8>; 2]> {
    #[derive(Deserialize)]
    struct Capture<'a> {
        #[serde(borrow)]
        body: &'a RawValue,
    }
    let raw = serde_json::from_str::<Capture<'_>>(capture).ok()?.body.get();
    let mut compact = Vec::with_capacity(raw.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in raw.as_bytes() {
        if in_string {
            compact.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = b == b'"';
            compact.push(b);
        }
    }
    Some([raw.as_bytes().to_vec(), compact])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    /// The serde-based peek the scanner replaced: a full parse, kept as the reference it must agree
    /// with on every body that is valid JSON.
    fn reference_peek(body: &[u8]) -> Result<Peek, BodyError> {
        #[derive(Deserialize)]
        struct Fields<'a> {
            #[serde(borrow, default)]
            model: Option<&'a RawValue>,
            #[serde(default)]
            stream: Option<serde_json::Value>,
            #[serde(borrow, default)]
            metadata: Option<&'a RawValue>,
            #[serde(borrow, default)]
            user: Option<&'a RawValue>,
            #[serde(borrow, default)]
            system: Option<&'a RawValue>,
            #[serde(borrow, default)]
            stream_options: Option<&'a RawValue>,
        }
        let text = std::str::from_utf8(body).map_err(|e| BodyError(format!("request body is not valid UTF-8 (at byte {})", e.valid_up_to())))?;
        if !text.trim_start().starts_with('{') {
            return Err(BodyError("request body must be a JSON object".to_string()));
        }
        let fields: Fields<'_> = serde_json::from_str(text).map_err(|e| BodyError(format!("serde: {e}")))?;
        let (model, model_span) = match fields.model {
            None => (None, None),
            Some(raw) => {
                let model: String = serde_json::from_str(raw.get())
                    .map_err(|_| BodyError(format!("`model` must be a string, got {}", raw.get().chars().take(40).collect::<String>())))?;
                let start = raw.get().as_ptr() as usize - text.as_ptr() as usize;
                (Some(model), Some((start, start + raw.get().len())))
            }
        };
        let stream = match fields.stream {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::Bool(b)) => b,
            Some(other) => return Err(BodyError(format!("`stream` must be true or false, got {other}"))),
        };
        let mut session = Vec::new();
        for raw in [fields.metadata, fields.user].into_iter().flatten() {
            session.extend_from_slice(raw.get().as_bytes());
        }
        if !session.is_empty() {
            if let Some(system) = fields.system {
                let bytes = system.get().as_bytes();
                session.extend_from_slice(&bytes[..bytes.len().min(SESSION_SYSTEM_PREFIX)]);
            }
        }
        let span = |raw: Option<&RawValue>| {
            raw.filter(|r| r.get() != "null").map(|r| {
                let start = r.get().as_ptr() as usize - text.as_ptr() as usize;
                (start, start + r.get().len())
            })
        };
        let (metadata_span, user_span, stream_options_span) = (span(fields.metadata), span(fields.user), span(fields.stream_options));
        Ok(Peek { model, model_span, stream, session, metadata_span, user_span, stream_options_span, facts: None })
    }

    /// Whether the error came from the JSON grammar (whose wording differs between the two) rather
    /// than from a field's type (whose wording must be the same).
    fn is_syntax(e: &BodyError) -> bool {
        e.0.starts_with("serde: ") || e.0.contains("not valid JSON") || e.0.contains("duplicate field")
    }

    /// On valid JSON the scanner must give exactly the reference's answer.
    fn assert_agrees(body: &[u8]) {
        let (got, want) = (peek(body), reference_peek(body));
        match (&got, &want) {
            (Err(g), Err(w)) if is_syntax(w) => assert!(is_syntax(g) || g.0.contains("must be a JSON object"), "{g:?} vs {w:?}"),
            _ => assert_eq!(got, want, "body: {}", String::from_utf8_lossy(body)),
        }
    }

    /// A capture's `body`, as captured (pretty) and compacted in its key order, as clients send it.
    fn capture_bodies(capture: &str) -> [Vec<u8>; 2] {
        capture_body(capture).expect("a capture with a `body`")
    }

    #[test]
    fn claude_code_captures_peek_as_the_reference_does() {
        let dir = crate::mock::tests::fixture_dir();
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut seen = 0;
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")) {
            for body in capture_bodies(&std::fs::read_to_string(&path).unwrap()) {
                let p = peek(&body).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                assert!(p.model.is_some(), "{}", path.display());
                assert_eq!(Ok(p), reference_peek(&body), "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen > 0, "no captures in {}", dir.display());
    }

    /// `peek_with` finds each fact field where a full parse puts it; `peek` finds none of them.
    #[test]
    fn fact_spans_are_where_serde_finds_the_values() {
        let dir = crate::mock::tests::fixture_dir();
        let body = capture_bodies(&std::fs::read_to_string(dir.join("02-opus-stream-tool-result-turn.json")).unwrap())[1].clone();
        let p = peek_with(&body, true).unwrap();
        let tree: serde_json::Map<String, Value> = serde_json::from_slice(&body).unwrap();
        for (field, key) in [(FactField::Messages, "messages"), (FactField::Tools, "tools"), (FactField::Thinking, "thinking"), (FactField::MaxTokens, "max_tokens"), (FactField::Metadata, "metadata"), (FactField::System, "system")] {
            let (start, end) = p.fact_spans().get(field).unwrap_or_else(|| panic!("{key}"));
            assert_eq!(serde_json::from_slice::<Value>(&body[start..end]).unwrap(), tree[key], "{key}");
        }
        assert_eq!(p.fact_spans().get(FactField::Input), None);
        let plain = peek(&body).unwrap();
        assert_eq!(plain.fact_spans(), &FactSpans::default());
        assert!(plain.facts.is_none(), "nothing allocated for facts");
        assert_eq!((plain.model, plain.stream, plain.session), (p.model, p.stream, p.session));
        // Repeated fact fields: the last wins, as a provider parsing into a map sees it.
        let p = peek_with(br#"{"tools":[1],"model":"m","tools":null,"max_tokens":1,"max_tokens":2}"#, true).unwrap();
        assert_eq!(p.fact_spans().get(FactField::Tools), None);
        assert_eq!(p.fact_spans().get(FactField::MaxTokens).map(|(s, e)| e - s), Some(1));
    }

    #[test]
    fn walking_inside_values() {
        let body = br#"{"a": [ {"x": 1, "y\u0041": 2, "z": "s\"q"} , [1,2], "t", 3 ] , "b": {}, "c": [], "d": [1, }"#;
        let a = (6, body.windows(3).position(|w| w == b"3 ]").unwrap() + 3);
        let items: Vec<&[u8]> = elements(body, a).map(|(s, e)| &body[s..e]).collect();
        assert_eq!(items, [&br#"{"x": 1, "y\u0041": 2, "z": "s\"q"}"#[..], b"[1,2]", b"\"t\"", b"3"]);
        let first = elements(body, a).next().unwrap();
        let keys: Vec<&[u8]> = members(body, first).map(|(k, _)| k).collect();
        assert_eq!(keys, [&b"x"[..], b"z"], "keys with escapes are not offered");
        assert_eq!(member(body, first, b"z").and_then(|v| string_at(body, v)).as_deref(), Some("s\"q"));
        assert_eq!(member(body, first, b"x").and_then(|v| integer_at(body, v)), Some(1));
        assert_eq!(elements(body, first).count(), 0, "an object is not an array");
        assert_eq!(members(body, a).count(), 0, "an array is not an object");
        assert_eq!(elements(body, (0, 0)).count(), 0);
        assert_eq!(elements(body, (body.len(), body.len() + 5)).count(), 0);
        // Malformed inside: the walk stops, never panics.
        let d = body.windows(3).rposition(|w| w == b"[1,").unwrap();
        assert_eq!(elements(body, (d, body.len())).count(), 1);
        assert_eq!(string_at(br#""a\qb""#, (0, 6)), None);
        assert_eq!(integer_at(b"-1", (0, 2)), None);
        for (value, empty) in [(&b"[]"[..], true), (b"[ \n]", true), (b"[1]", false), (b"[ {}]", false), (b"{}", true), (b"\"[]\"", true), (b"", true)] {
            assert_eq!(is_empty_array(value, (0, value.len())), empty, "{}", String::from_utf8_lossy(value));
        }
    }

    #[test]
    fn claude_code_shaped_body_with_stream_last() {
        let body = serde_json::to_vec(&json!({
            "model": "claude-opus-4-5",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "say \"hi\" {[\\"}]}],
            "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
            "tools": [{"name": "Bash", "input_schema": {"type": "object", "properties": {"x": {"type": ["string", "null"], "minimum": -1.5e3}}}}],
            "metadata": {"user_id": "user_abc_account_1_session_2"},
            "max_tokens": 32000,
            "stream": true
        }))
        .unwrap();
        let p = peek(&body).unwrap();
        assert!(p.stream);
        assert!(!p.session.is_empty());
        assert_agrees(&body);
    }

    #[test]
    fn finds_model_anywhere_and_splices_it() {
        let body = br#"{"messages":[{"role":"user","content":"model"}], "model" : "openrouter/z-ai/glm-4.5-air","stream":true}"#;
        let p = peek(body).unwrap();
        assert_eq!(p.model.as_deref(), Some("openrouter/z-ai/glm-4.5-air"));
        assert!(p.stream);
        let out = with_model(body, p.model_span.unwrap(), "z-ai/glm-4.5-air");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["model"], "z-ai/glm-4.5-air");
        assert_eq!(v["messages"][0]["content"], "model");
        assert_eq!(out.len(), body.len() - "openrouter/".len());
    }

    #[test]
    fn session_identity_needs_a_user_and_includes_the_system_prefix() {
        let a = peek(br#"{"model":"m","metadata":{"user_id":"u1"},"system":"You are X"}"#).unwrap();
        let b = peek(br#"{"model":"m","metadata":{"user_id":"u1"},"system":"You are Y"}"#).unwrap();
        let c = peek(br#"{"system":"You are X","model":"m","metadata":{"user_id":"u1"}}"#).unwrap();
        assert_ne!(a.session, b.session);
        assert_eq!(a.session, c.session, "field order does not matter");
        assert!(peek(br#"{"model":"m","system":"You are X"}"#).unwrap().session.is_empty());
        assert!(!peek(br#"{"model":"m","user":"abc"}"#).unwrap().session.is_empty());
    }

    #[test]
    fn escaped_model_names_round_trip() {
        let body = br#"{"model":"a\"b\u00e9"}"#;
        let p = peek(body).unwrap();
        assert_eq!(p.model.as_deref(), Some("a\"bé"));
        let out = with_model(body, p.model_span.unwrap(), "x\"y");
        assert_eq!(out, br#"{"model":"x\"y"}"#);
    }

    #[test]
    fn null_fields_count_as_absent_but_still_as_duplicates() {
        let p = peek(br#"{"model":null,"stream":null,"metadata":null,"user":"u"}"#).unwrap();
        assert_eq!((p.model, p.model_span, p.stream), (None, None, false));
        assert_eq!(p.session, br#""u""#);
        assert!(peek(br#"{"model":null,"model":"m"}"#).unwrap_err().0.contains("duplicate field `model`"));
        assert!(peek(br#"{"stream":true,"stream":true}"#).unwrap_err().0.contains("duplicate field `stream`"));
        // serde matches a field by its decoded name.
        assert!(peek(br#"{"model":"a","mod\u0065l":"b"}"#).unwrap_err().0.contains("duplicate field"));
        assert_eq!(peek(br#"{"mod\u0065l":"b"}"#).unwrap().model.as_deref(), Some("b"));
        // Other keys may repeat, as serde ignores them.
        assert_agrees(br#"{"x":1,"x":[2],"model":"m"}"#);
    }

    #[test]
    fn clear_errors() {
        assert!(peek(b"{").unwrap_err().0.contains("not valid JSON"));
        assert!(peek(b"[1]").unwrap_err().0.contains("must be a JSON object"));
        assert!(peek(br#"{"model":5}"#).unwrap_err().0.contains("`model` must be a string"));
        assert!(peek(br#"{"model":"m","stream":"yes"}"#).unwrap_err().0.contains("`stream` must be"));
        assert!(peek(b"\xff").unwrap_err().0.contains("must be a JSON object"));
        assert!(peek(b"{\"model\":\"\xff\"}").unwrap_err().0.contains("not valid UTF-8 (at byte 10)"));
        assert!(peek(br#"{"model":"a","model":"b"}"#).is_err());
        assert_eq!(peek(br#"{"messages":[]}"#).unwrap().model, None);
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for (body, says) in [
            (&b""[..], "must be a JSON object"),
            (b"  ", "must be a JSON object"),
            (b"\"str\"", "must be a JSON object"),
            (b"{", "EOF while parsing an object"),
            (br#"{"model""#, "EOF while parsing an object"),
            (br#"{"model":"m"#, "EOF while parsing a string"),
            (br#"{"model":"m\"}"#, "EOF while parsing a string"),
            (br#"{"a":"x\\"#, "EOF while parsing a string"),
            (br#"{"model" "m"}"#, "expected `:`"),
            (br#"{"model":"m" "stream":true}"#, "expected `,` or `}`"),
            (br#"{"model":"m",}"#, "trailing comma"),
            (br#"{model:"m"}"#, "key must be a string"),
            (br#"{"model":}"#, "expected value"),
            (br#"{"model":"m"} x"#, "trailing characters"),
            (br#"{"model":"m"}{}"#, "trailing characters"),
            (br#"{"model": "claude-haiku-4-5", "messages": [}"#, "unbalanced brackets"),
            (br#"{"a":{"b":[1,2}]}"#, "unbalanced brackets"),
            (br#"{"a":[[1]"#, "EOF while parsing a list"),
            (br#"{"a":{"b":{}"#, "EOF while parsing an object"),
            (br#"{"max_tokens":01}"#, "invalid number or literal"),
            (br#"{"max_tokens":1.}"#, "invalid number or literal"),
            (br#"{"stream":tru}"#, "invalid number or literal"),
            (br#"{"model":"a\qb"}"#, "not valid JSON: in `model`"),
            (br#"{"stream":1}"#, "`stream` must be true or false, got 1"),
            (br#"{"stream":{"a":1}}"#, "got {\"a\":1}"),
            (br#"{"model":["a"]}"#, "`model` must be a string, got [\"a\"]"),
        ] {
            let err = peek(body).expect_err(&String::from_utf8_lossy(body));
            assert!(err.0.contains(says), "{}: {err:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn error_positions_count_lines_and_columns() {
        let err = peek(b"{\n  \"model\": \"m\",\n  \"stream\" true\n}").unwrap_err();
        assert!(err.0.ends_with("(line 3, column 12)"), "{err:?}");
    }

    /// What the scanner deliberately leaves to the provider (see the module doc): errors inside
    /// values it steps over. These bodies are forwarded as they are.
    #[test]
    fn errors_inside_skipped_values_are_left_to_the_provider() {
        for body in [&br#"{"model":"m","messages":[01, tru, "\q"]}"#[..], b"{\"model\":\"m\",\"system\":\"a\nb \xff\"}", br#"{"model":"m","tools":[,,]}"#] {
            assert!(reference_peek(body).is_err());
            assert_eq!(peek(body).unwrap().model.as_deref(), Some("m"));
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("model".to_string()),
            Just("stream".to_string()),
            Just("metadata".to_string()),
            Just("user".to_string()),
            Just("system".to_string()),
            "[a-z\"\\\\{}\\[\\]: ,é\u{1F600}\n]{0,8}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
            "[\"\\\\{}\\[\\]\\x00-\\x1f\u{7f}é]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn json_object() -> impl Strategy<Value = Value> {
        let routing = prop_oneof![
            Just(Value::Null),
            "[a-z/.\\-\"\\\\é]{0,12}".prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ];
        (json_value(), prop::option::of(routing.clone()), prop::option::of(routing), prop::collection::vec(("[a-z]{1,6}", json_value()), 0..4)).prop_map(
            |(extra, model, stream, more)| {
                let mut map = serde_json::Map::new();
                map.insert("x".to_string(), extra);
                if let Some(m) = model {
                    map.insert("model".to_string(), m);
                }
                if let Some(s) = stream {
                    map.insert("stream".to_string(), s);
                }
                map.extend(more);
                Value::Object(map)
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn agrees_with_serde_on_valid_objects(object in json_object()) {
            assert_agrees(serde_json::to_string(&object).unwrap().as_bytes());
            assert_agrees(serde_json::to_string_pretty(&object).unwrap().as_bytes());
        }

        #[test]
        fn agrees_with_serde_on_nested_objects(object in json_value()) {
            assert_agrees(serde_json::to_string(&object).unwrap().as_bytes());
            assert_agrees(serde_json::to_string_pretty(&object).unwrap().as_bytes());
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = peek(&body);
        }

        /// Damaged JSON must not panic, and whatever serde still accepts the scanner must read the same.
        #[test]
        fn damaged_json_never_panics_and_never_disagrees(object in json_object(), cut in any::<prop::sample::Index>(), byte in any::<u8>(), op in 0..3u8) {
            let mut body = serde_json::to_vec(&object).unwrap();
            let at = cut.index(body.len() + 1);
            match op {
                0 => body.truncate(at),
                1 => body.insert(at, byte),
                _ => if at < body.len() { body[at] = byte },
            }
            let got = peek(&body);
            if let Ok(want) = reference_peek(&body) {
                prop_assert_eq!(got, Ok(want));
            }
        }
    }
}
