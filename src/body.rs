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
}

/// How much of the system prompt identifies a conversation's cache prefix.
const SESSION_SYSTEM_PREFIX: usize = 512;

/// Why a body could not be peeked, in words a client can act on.
#[derive(Debug, PartialEq, Eq)]
pub struct BodyError(pub String);

/// The top-level keys routing reads, in the order of `Scanner::fields`.
const FIELDS: [&[u8]; 6] = [b"model", b"stream", b"metadata", b"user", b"system", b"stream_options"];
const MODEL: usize = 0;
const STREAM: usize = 1;
const METADATA: usize = 2;
const USER: usize = 3;
const SYSTEM: usize = 4;
const STREAM_OPTIONS: usize = 5;

pub fn peek(body: &[u8]) -> Result<Peek, BodyError> {
    let mut scanner = Scanner { b: body, pos: 0, stack: Vec::new(), seen: [false; 6], fields: [None; 6] };
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
    Ok(Peek { model, model_span, stream, session, metadata_span: fields[METADATA], user_span: fields[USER], stream_options_span: fields[STREAM_OPTIONS] })
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
    /// Which of `FIELDS` have appeared, to refuse a duplicate as serde does (a `null` counts).
    seen: [bool; 6],
    /// Span of each of `FIELDS`' values; `None` when absent or `null`, which serde treats alike.
    fields: [Option<(usize, usize)>; 6],
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
                if &self.b[value_start..self.pos] != b"null" {
                    self.fields[i] = Some((value_start, self.pos));
                }
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

    /// Which of `FIELDS` the key `b[start..end]` (with its quotes) names. A key with escapes is
    /// decoded first, because serde matches `"mod\u0065l"` as `model`.
    fn field(&mut self, start: usize, end: usize) -> Result<Option<usize>, BodyError> {
        let inner = &self.b[start + 1..end - 1];
        let index = if memchr::memchr(b'\\', inner).is_some() {
            let key: String = std::str::from_utf8(&self.b[start..end])
                .map_err(|e| not_utf8(start + e.valid_up_to()))
                .and_then(|text| serde_json::from_str(text).map_err(|e| self.error(start, &without_position(&e))))?;
            FIELDS.iter().position(|f| *f == key.as_bytes())
        } else {
            FIELDS.iter().position(|f| *f == inner)
        };
        if let Some(i) = index {
            if std::mem::replace(&mut self.seen[i], true) {
                let name = String::from_utf8_lossy(FIELDS[i]);
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
        Ok(Peek { model, model_span, stream, session, metadata_span, user_span, stream_options_span })
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
