//! One small incremental Server-Sent Events parser, shared by both stream translators. Upstream bodies
//! arrive in arbitrary byte chunks: an event, a `\r\n` pair or a multi-byte UTF-8 character may be split
//! anywhere. The parser keeps the unfinished line as bytes and decodes only whole lines, so the events it
//! yields do not depend on where the chunks were cut. Comments (`: keep-alive`, `: OPENROUTER PROCESSING`)
//! are skipped; `id` and `retry` are ignored because no translator needs them.

/// One dispatched event: the `event:` name (if any) and the `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Incremental parser state.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous chunk ended on `\r`; a `\n` opening the next chunk belongs to that line ending.
    after_cr: bool,
    /// The first line may start with a UTF-8 byte-order mark, which the spec says to drop.
    seen_any: bool,
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes and appends every event completed by them to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        let mut rest = chunk;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', rest) {
            self.line.extend_from_slice(&rest[..pos]);
            let terminator = rest[pos];
            rest = &rest[pos + 1..];
            if terminator == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
        }
        self.line.extend_from_slice(rest);
    }

    /// At end of input: treats an unterminated last line and an undispatched event as complete, because
    /// servers often close right after `data: [DONE]\n` without the blank line.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
        }
        self.dispatch(out);
        self.after_cr = false;
    }

    fn process_line(&mut self, raw: &[u8], out: &mut Vec<SseEvent>) {
        let mut bytes = raw;
        if !self.seen_any {
            self.seen_any = true;
            if let Some(stripped) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
                bytes = stripped;
            }
        }
        if bytes.is_empty() {
            self.dispatch(out);
            return;
        }
        if bytes[0] == b':' {
            return;
        }
        let line = String::from_utf8_lossy(bytes);
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&line[..], ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if let Some(data) = self.data.take() {
            out.push(SseEvent { event, data });
        }
    }
}

/// Appends `event: NAME\ndata: JSON\n\n` (the Anthropic framing).
pub(crate) fn write_named(out: &mut Vec<u8>, name: &str, data: &serde_json::Value) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(&super::read::to_bytes(data));
    out.extend_from_slice(b"\n\n");
}

/// Appends `data: JSON\n\n` (the OpenAI framing).
pub(crate) fn write_data(out: &mut Vec<u8>, data: &serde_json::Value) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(&super::read::to_bytes(data));
    out.extend_from_slice(b"\n\n");
}

/// Appends the OpenAI end marker.
pub(crate) fn write_done(out: &mut Vec<u8>) {
    out.extend_from_slice(b"data: [DONE]\n\n");
}
