//! One small incremental Server-Sent Events parser, shared by both stream translators. Upstream bodies
//! arrive in arbitrary byte chunks: an event, a `\r\n` pair or a multi-byte UTF-8 character may be split
//! anywhere. The parser keeps the unfinished line as bytes and decodes only whole events, so the events it
//! yields do not depend on where the chunks were cut. Comments (`: keep-alive`, `: OPENROUTER PROCESSING`)
//! are skipped; `id` and `retry` are ignored because no translator needs them.
//!
//! Every stream runs through here once per upstream event, so the parser allocates nothing in the steady
//! state: whole lines are read straight out of the chunk, only a line cut by a chunk boundary is copied,
//! and events are lent to a callback as slices of buffers that keep their capacity for the next event.

use std::borrow::Cow;

/// One dispatched event: the `event:` name (if any) and the `data:` lines joined by `\n`. Invalid UTF-8
/// is replaced (U+FFFD), which is the only case that allocates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent<'a> {
    pub event: Option<Cow<'a, str>>,
    pub data: Cow<'a, str>,
}

/// Incremental parser state.
#[derive(Debug, Default)]
pub struct SseParser {
    /// The start of a line whose end has not arrived yet.
    line: Vec<u8>,
    /// The previous chunk ended on `\r`; a `\n` opening the next chunk belongs to that line ending.
    after_cr: bool,
    /// The first line may start with a UTF-8 byte-order mark, which the spec says to drop.
    seen_any: bool,
    event: Vec<u8>,
    has_event: bool,
    data: Vec<u8>,
    has_data: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes and hands every event completed by them to `on_event`.
    pub fn feed(&mut self, chunk: &[u8], mut on_event: impl FnMut(SseEvent<'_>)) {
        let mut rest = chunk;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', rest) {
            let (text, terminator) = (&rest[..pos], rest[pos]);
            rest = &rest[pos + 1..];
            if terminator == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            self.complete_line(text, &mut on_event);
        }
        self.line.extend_from_slice(rest);
    }

    /// At end of input: treats an unterminated last line and an undispatched event as complete, because
    /// servers often close right after `data: [DONE]\n` without the blank line.
    pub fn finish(&mut self, mut on_event: impl FnMut(SseEvent<'_>)) {
        if !self.line.is_empty() {
            self.complete_line(b"", &mut on_event);
        }
        self.dispatch(&mut on_event);
        self.after_cr = false;
    }

    /// Processes the buffered start of a line (if any) followed by `tail`, copying only when a chunk
    /// boundary had cut the line.
    fn complete_line(&mut self, tail: &[u8], on_event: &mut impl FnMut(SseEvent<'_>)) {
        if self.line.is_empty() {
            self.process_line(tail, on_event);
            return;
        }
        let mut line = std::mem::take(&mut self.line);
        line.extend_from_slice(tail);
        self.process_line(&line, on_event);
        line.clear();
        self.line = line;
    }

    fn process_line(&mut self, raw: &[u8], on_event: &mut impl FnMut(SseEvent<'_>)) {
        let mut bytes = raw;
        if !self.seen_any {
            self.seen_any = true;
            if let Some(stripped) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
                bytes = stripped;
            }
        }
        if bytes.is_empty() {
            self.dispatch(on_event);
            return;
        }
        if bytes[0] == b':' {
            return;
        }
        let (field, value) = match memchr::memchr(b':', bytes) {
            Some(i) => {
                let v = &bytes[i + 1..];
                (&bytes[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (bytes, &b""[..]),
        };
        match field {
            b"event" => {
                self.event.clear();
                self.event.extend_from_slice(value);
                self.has_event = true;
            }
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, on_event: &mut impl FnMut(SseEvent<'_>)) {
        if self.has_data {
            on_event(SseEvent {
                event: self.has_event.then(|| String::from_utf8_lossy(&self.event)),
                data: String::from_utf8_lossy(&self.data),
            });
        }
        self.has_event = false;
        self.has_data = false;
        self.event.clear();
        self.data.clear();
    }
}

/// Appends `event: NAME\ndata: ` (the Anthropic framing); the caller writes the JSON and [`end`].
pub(crate) fn begin_named(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
}

/// Appends `data: ` (the OpenAI framing); the caller writes the JSON and [`end`].
pub(crate) fn begin_data(out: &mut Vec<u8>) {
    out.extend_from_slice(b"data: ");
}

/// Ends an event.
pub(crate) fn end(out: &mut Vec<u8>) {
    out.extend_from_slice(b"\n\n");
}

/// Appends the OpenAI end marker.
pub(crate) fn write_done(out: &mut Vec<u8>) {
    out.extend_from_slice(b"data: [DONE]\n\n");
}

/// Appends `s` as a JSON string literal, escaped exactly as `serde_json` escapes it inside a value.
pub(crate) fn json_str(out: &mut Vec<u8>, s: &str) {
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

/// Appends a JSON number.
pub(crate) fn json_u64(out: &mut Vec<u8>, n: u64) {
    if serde_json::to_writer(&mut *out, &n).is_err() {
        out.push(b'0');
    }
}
