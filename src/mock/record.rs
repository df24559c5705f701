//! Request recording. Tests prove what reached the upstream — which headers and keys the gateway forwarded, that
//! a body arrived byte-for-byte — by reading a JSON-lines file the mock appends to, one line per request:
//! `{"method":…,"path":…,"headers":[[name,value],…],"body":…}`. The line is built outside the lock and written
//! and flushed under a plain mutex (never held across an await); without `MockOptions::record` none of this runs.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use http::request::Parts;
use serde::Serialize;

use crate::mock::wire::json_vec;

/// Appends one JSON line per request to a file.
pub(crate) struct Recorder {
    out: Mutex<BufWriter<File>>,
}

#[derive(Serialize)]
struct Line<'a> {
    method: &'a str,
    path: &'a str,
    headers: Vec<(&'a str, Cow<'a, str>)>,
    body: Cow<'a, str>,
}

impl Recorder {
    /// Opens (creating if needed) `path` for appending.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("mock: cannot open record file {}: {e}", path.display()),
            )
        })?;
        Ok(Recorder {
            out: Mutex::new(BufWriter::new(file)),
        })
    }

    /// Appends the line for one request and flushes it. Failures are logged, never fatal.
    pub(crate) fn record(&self, parts: &Parts, body: &[u8]) {
        let line = Line {
            method: parts.method.as_str(),
            path: parts.uri.path_and_query().map_or(parts.uri.path(), |pq| pq.as_str()),
            headers: parts
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), String::from_utf8_lossy(value.as_bytes())))
                .collect(),
            body: String::from_utf8_lossy(body),
        };
        let mut bytes = json_vec(&line);
        bytes.push(b'\n');
        let mut out = match self.out.lock() {
            Ok(out) => out,
            // A panic elsewhere while holding the lock cannot leave a half line behind: lines are written whole.
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Err(e) = out.write_all(&bytes).and_then(|()| out.flush()) {
            log::warn!("mock: could not record a request: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_one_line_per_request_in_header_order() {
        let dir = tempfile::tempdir().ok();
        let path = dir.as_ref().map(|d| d.path().join("record.jsonl")).unwrap_or_default();
        let recorder = Recorder::open(&path);
        assert!(recorder.is_ok());
        let Ok(recorder) = recorder else { return };
        let request = http::Request::builder()
            .method("POST")
            .uri("/v1/messages?beta=true")
            .header("x-api-key", "k1")
            .header("anthropic-version", "2023-06-01")
            .header("x-b", "\u{e9}")
            .body(())
            .map(|r| r.into_parts().0);
        let Ok(parts) = request else { return };
        recorder.record(&parts, b"{\"a\":1}\xff");
        recorder.record(&parts, b"");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "{\"method\":\"POST\",\"path\":\"/v1/messages?beta=true\",\"headers\":[[\"x-api-key\",\"k1\"],\
             [\"anthropic-version\",\"2023-06-01\"],[\"x-b\",\"\u{e9}\"]],\"body\":\"{\\\"a\\\":1}\u{fffd}\"}"
        );
    }
}
