//! The counters behind `GET /mock/stats`. Gateway tests read them to prove behaviour that is invisible from the
//! client side: that upstream connections are pooled (`connections` accepted vs `requests` served), and that a
//! client going away cancels the upstream stream (`open_connections` falls to zero, `aborted_streams` rises).
//! Every accepted TCP connection counts, including the one a stats query arrives on; `open_connections` leaves
//! out the asking connection itself. Counting is lock-free: an atomic add or two per connection and per request.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::mock::plan::Reply;

/// Counters since the server started.
#[derive(Default)]
pub(crate) struct Stats {
    connections: AtomicU64,
    open_connections: AtomicU64,
    requests: AtomicU64,
    aborted_streams: AtomicU64,
    /// Token usage reported in replies, by model: what a gateway's usage ledger must add up to.
    usage: Mutex<BTreeMap<String, UsageTotals>>,
}

/// Sums of the usage the mock reported for one model.
#[derive(Default, Clone, Copy)]
struct UsageTotals {
    requests: u64,
    input: u64,
    output: u64,
    write_5m: u64,
    write_1h: u64,
    read: u64,
    reasoning: u64,
}

impl Stats {
    /// Counts an accepted connection; it stays counted as open until the returned guard is dropped.
    pub(crate) fn connection_opened(self: &Arc<Self>) -> OpenConnection {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.open_connections.fetch_add(1, Ordering::Relaxed);
        OpenConnection(Arc::clone(self))
    }

    /// Counts a request and returns its serial number (from 1).
    pub(crate) fn request_served(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Watches one streamed body: if it is dropped before [`StreamWatch::finish`], the client went away.
    pub(crate) fn watch_stream(self: &Arc<Self>) -> StreamWatch {
        StreamWatch {
            stats: Arc::clone(self),
            finished: false,
        }
    }

    /// Adds one reply's reported usage to its model's totals.
    pub(crate) fn usage_reported(&self, model: &str, reply: &Reply<'_>) {
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        let t = usage.entry(model.to_owned()).or_default();
        t.requests += 1;
        t.input += reply.uncached_input_tokens();
        t.output += reply.output_tokens;
        t.write_5m += reply.cache.write_5m;
        t.write_1h += reply.cache.write_1h;
        t.read += reply.cache.read;
        t.reasoning += reply.reasoning_tokens;
    }

    /// The `/mock/stats` body, as answered on one of the open connections (which is left out of the open count:
    /// it exists only to ask).
    pub(crate) fn json(&self) -> String {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let usage: BTreeMap<String, serde_json::Value> = self
            .usage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(model, t)| {
                let totals = serde_json::json!({
                    "requests": t.requests,
                    "input_tokens": t.input,
                    "output_tokens": t.output,
                    "cache_creation_input_tokens": t.write_5m + t.write_1h,
                    "cache_creation_5m_input_tokens": t.write_5m,
                    "cache_creation_1h_input_tokens": t.write_1h,
                    "cache_read_input_tokens": t.read,
                    "reasoning_tokens": t.reasoning,
                });
                (model.clone(), totals)
            })
            .collect();
        format!(
            "{{\"connections\":{},\"requests\":{},\"open_connections\":{},\"aborted_streams\":{},\"usage\":{}}}",
            load(&self.connections),
            load(&self.requests),
            load(&self.open_connections).saturating_sub(1),
            load(&self.aborted_streams),
            serde_json::to_string(&usage).unwrap_or_else(|_| "{}".into()),
        )
    }
}

/// An open connection; closing it (dropping the guard) takes it off the open count.
pub(crate) struct OpenConnection(Arc<Stats>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A streamed body in flight.
pub(crate) struct StreamWatch {
    stats: Arc<Stats>,
    finished: bool,
}

impl StreamWatch {
    /// The body ended the way the mock meant it to (completely, or by an injected cut).
    pub(crate) fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for StreamWatch {
    fn drop(&mut self) {
        if !self.finished {
            self.stats.aborted_streams.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_connections_requests_and_aborts() {
        let stats = Arc::new(Stats::default());
        let first = stats.connection_opened();
        let asking = stats.connection_opened();
        assert_eq!(stats.request_served(), 1);
        assert_eq!(stats.request_served(), 2);
        let mut done = stats.watch_stream();
        done.finish();
        drop(done);
        drop(stats.watch_stream());
        assert_eq!(
            stats.json(),
            r#"{"connections":2,"requests":2,"open_connections":1,"aborted_streams":1,"usage":{}}"#
        );
        drop(first);
        assert_eq!(
            stats.json(),
            r#"{"connections":2,"requests":2,"open_connections":0,"aborted_streams":1,"usage":{}}"#
        );
        drop(asking);
        assert_eq!(stats.open_connections.load(Ordering::Relaxed), 0);
    }
}
