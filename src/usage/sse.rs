//! Event framing for the usage extractor: finds where each Server-Sent Event ends in a stream that
//! arrives in arbitrary chunks, with `memchr` over line ends, and lends each whole event out as one
//! byte slice. Only an event cut by a chunk boundary is copied (into `pending`); nothing else is
//! kept. Unlike `translate::sse::SseParser`, which decodes events for a translator, this works on
//! positions, so the extractor can also cut an event out of the bytes the client gets.
//!
//! Line ends are `\n` or `\r\n` (what every provider sends); a bare `\r` line end is not
//! recognised, so such a stream is passed on untouched but yields no events.

use std::borrow::Cow;

/// Longest event kept for accounting; a longer one is still forwarded, only not read.
const MAX_EVENT: usize = 16 << 20;

#[derive(Debug)]
pub(crate) struct Framer {
    /// The start of the current event, when it began in an earlier chunk.
    pending: Vec<u8>,
    /// The current event grew past `MAX_EVENT`: it is skipped, not read.
    oversized: bool,
    /// The unfinished line so far holds nothing but `\r`.
    line_blank: bool,
}

impl Default for Framer {
    fn default() -> Self {
        Framer {
            pending: Vec::new(),
            oversized: false,
            line_blank: true,
        }
    }
}

/// Where an event ends in the chunk just fed, and whether it began in an earlier chunk.
pub(crate) struct Boundary {
    /// Offset of the event's first byte in this chunk (0 when it began earlier).
    pub start: usize,
    /// Offset just past its terminating blank line.
    pub end: usize,
    /// Some of its bytes came from earlier chunks (held in the framer until now).
    pub continued: bool,
}

fn blank(line: &[u8]) -> bool {
    line.is_empty() || line == b"\r"
}

impl Framer {
    /// Bytes of an unfinished event, held from earlier chunks.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// Whether an unfinished event precedes the next chunk.
    pub(crate) fn in_event(&self) -> bool {
        !self.pending.is_empty() || self.oversized
    }

    /// Finds every event the chunk completes; `on_event` gets its boundary and its whole bytes.
    /// Returns the offset where the unfinished tail (now held) begins.
    pub(crate) fn feed(
        &mut self,
        chunk: &[u8],
        mut on_event: impl FnMut(&Boundary, &[u8]),
    ) -> usize {
        let mut event_start = 0;
        let mut line_start = 0;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            let line = &chunk[line_start..nl];
            let is_blank = blank(line) && (line_start != 0 || self.line_blank);
            line_start = nl + 1;
            if !is_blank {
                continue;
            }
            let continued = event_start == 0 && (!self.pending.is_empty() || self.oversized);
            let boundary = Boundary {
                start: event_start,
                end: nl + 1,
                continued,
            };
            if continued {
                if !self.oversized && self.pending.len() + nl < MAX_EVENT {
                    let mut held = std::mem::take(&mut self.pending);
                    held.extend_from_slice(&chunk[..nl + 1]);
                    on_event(&boundary, &held);
                    held.clear();
                    self.pending = held;
                } else {
                    on_event(&boundary, b"");
                }
                self.pending.clear();
                self.oversized = false;
            } else {
                on_event(&boundary, &chunk[event_start..nl + 1]);
            }
            event_start = nl + 1;
        }
        let rest = &chunk[line_start..];
        self.line_blank = rest.iter().all(|&b| b == b'\r') && (line_start != 0 || self.line_blank);
        let tail = &chunk[event_start..];
        if self.oversized || self.pending.len() + tail.len() > MAX_EVENT {
            self.oversized = true;
            self.pending.clear();
        } else {
            self.pending.extend_from_slice(tail);
        }
        event_start
    }

    /// At the end of the body: the unterminated last event, if any (servers often close right after
    /// `data: [DONE]\n`).
    pub(crate) fn take_last(&mut self) -> Vec<u8> {
        self.line_blank = true;
        self.oversized = false;
        std::mem::take(&mut self.pending)
    }
}

/// One event's `event:` name and its `data:` lines (joined by `\n` when there are several).
pub(crate) struct Fields<'a> {
    pub name: Option<&'a [u8]>,
    pub data: Option<Cow<'a, [u8]>>,
}

/// The `\n`-separated lines of `event`, as `split` would give them (the last one empty when the
/// event ends with `\n`), found with `memchr` rather than by testing every byte: this runs once per
/// event, so it was most of the extractor's per-event cost.
fn lines(event: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut ends = memchr::memchr_iter(b'\n', event);
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        match ends.next() {
            Some(nl) => {
                start = Some(nl + 1);
                Some(&event[from..nl])
            }
            None => {
                start = None;
                Some(&event[from..])
            }
        }
    })
}

/// Reads the fields of one whole event. Comments and other fields are skipped.
pub(crate) fn fields(event: &[u8]) -> Fields<'_> {
    let mut name = None;
    let mut data: Option<Cow<'_, [u8]>> = None;
    for line in lines(event) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (field, value) = match memchr::memchr(b':', line) {
            Some(0) | None => continue,
            Some(i) => (
                &line[..i],
                line[i + 1..].strip_prefix(b" ").unwrap_or(&line[i + 1..]),
            ),
        };
        match field {
            b"event" => name = Some(value),
            b"data" => {
                data = Some(match data {
                    None => Cow::Borrowed(value),
                    Some(previous) => {
                        let mut joined = previous.into_owned();
                        joined.push(b'\n');
                        joined.extend_from_slice(value);
                        Cow::Owned(joined)
                    }
                })
            }
            _ => {}
        }
    }
    Fields { name, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut framer = Framer::default();
        let mut out = Vec::new();
        for chunk in chunks {
            framer.feed(chunk, |_, e| out.push(e.to_vec()));
        }
        let last = framer.take_last();
        if !last.is_empty() {
            out.push(last);
        }
        out
    }

    #[test]
    fn events_end_at_blank_lines_wherever_the_chunks_are_cut() {
        let stream = b"event: a\ndata: 1\n\ndata: 2\r\n\r\n: comment\ndata: 3\n";
        let whole = events(&[stream]);
        assert_eq!(
            whole,
            vec![
                b"event: a\ndata: 1\n\n".to_vec(),
                b"data: 2\r\n\r\n".to_vec(),
                b": comment\ndata: 3\n".to_vec()
            ]
        );
        for cut in 0..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(events(&[a, b]), whole, "cut at {cut}");
        }
    }

    #[test]
    fn lines_are_what_split_gives() {
        for event in [
            &b""[..],
            b"\n",
            b"a",
            b"a\n",
            b"a\nb",
            b"a\n\nb\n",
            b"\n\n",
            b"event: x\r\ndata: 1\r\n\r\n",
        ] {
            let expected: Vec<&[u8]> = event.split(|&b| b == b'\n').collect();
            assert_eq!(lines(event).collect::<Vec<_>>(), expected, "{event:?}");
        }
    }

    #[test]
    fn fields_are_read_from_one_event() {
        let f = fields(b"event: message_delta\r\ndata: {\"a\":1}\r\n\r\n");
        assert_eq!(
            (f.name, f.data.as_deref()),
            (Some(&b"message_delta"[..]), Some(&b"{\"a\":1}"[..]))
        );
        let f = fields(b": ping\ndata:x\ndata: y\nid: 3\n\n");
        assert_eq!((f.name, f.data.as_deref()), (None, Some(&b"x\ny"[..])));
    }
}
