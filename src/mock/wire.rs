//! Byte-level helpers shared by the two wire formats: JSON serialization that cannot fail at run time and SSE
//! framing. Every streamed reply is rendered up front into one buffer and handed out as one `Bytes` slice per
//! event, so streaming costs one allocation per reply and event boundaries are exact (which `cut:<n>` and the
//! per-event delay rely on).

use bytes::Bytes;
use serde::Serialize;

/// `value` as compact JSON. Our wire types only have string keys, so serialization cannot fail; if it ever did,
/// the failure is logged and an empty object sent rather than a panic.
pub(crate) fn json_vec<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|e| {
        log::error!("mock: could not serialize a reply: {e}");
        b"{}".to_vec()
    })
}

/// Builds a sequence of SSE events in one buffer.
#[derive(Default)]
pub(crate) struct SseWriter {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl SseWriter {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        SseWriter {
            buf: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(16),
        }
    }

    /// Appends `event: <name>` (when given) and `data: <json>`.
    pub(crate) fn event<T: Serialize>(&mut self, name: Option<&str>, data: &T) {
        self.head(name);
        if let Err(e) = serde_json::to_writer(&mut self.buf, data) {
            log::error!("mock: could not serialize an SSE event: {e}");
        }
        self.end();
    }

    /// Appends an event whose data is given verbatim.
    pub(crate) fn raw(&mut self, name: Option<&str>, data: &str) {
        self.head(name);
        self.buf.extend_from_slice(data.as_bytes());
        self.end();
    }

    fn head(&mut self, name: Option<&str>) {
        if let Some(name) = name {
            self.buf.extend_from_slice(b"event: ");
            self.buf.extend_from_slice(name.as_bytes());
            self.buf.push(b'\n');
        }
        self.buf.extend_from_slice(b"data: ");
    }

    fn end(&mut self) {
        self.buf.extend_from_slice(b"\n\n");
        self.ends.push(self.buf.len());
    }

    /// The events, one `Bytes` each, sharing one allocation.
    pub(crate) fn finish(self) -> Vec<Bytes> {
        let all = Bytes::from(self.buf);
        let mut start = 0;
        self.ends
            .into_iter()
            .map(|end| {
                let event = all.slice(start..end);
                start = end;
                event
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_events_exactly() {
        let mut w = SseWriter::with_capacity(64);
        w.event(Some("message_stop"), &serde_json::json!({"type": "message_stop"}));
        w.raw(None, "[DONE]");
        let events = w.finish();
        assert_eq!(
            events,
            vec![
                Bytes::from_static(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
                Bytes::from_static(b"data: [DONE]\n\n"),
            ]
        );
    }
}
