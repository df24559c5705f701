//! The usage ledger: one [`UsageRecord`] per request, written to a durable store (SQLite or
//! PostgreSQL) and an optional JSON-lines request log, **off the request path**.
//!
//! ```text
//!  logging hook ── submit(record) ──try_send──▶ bounded queue ──▶ writer thread (own runtime)
//!                     │ full: drop + count                           ├─ request log line
//!                     ▼                                              └─ batch ─▶ store (retry while down)
//!        switchyard_usage_records_dropped_total{reason="queue_full"}
//! ```
//!
//! A hook never waits on the store: `submit` is a non-blocking `try_send`. The writer batches by
//! size (`usage.batch_size`) or time (`usage.flush_interval_ms`) and is flushed on graceful
//! shutdown and on reload. While the store is slow or down the batch waits and is retried; the
//! queue (`usage.queue_size`) fills, and what does not fit is dropped and counted, never blocking or
//! failing a request. A process killed outright loses what was not yet written: at most the
//! records of the last flush interval (more only while the store was behind: up to
//! `queue_size + batch_size`).

pub mod query;
pub mod record;
pub mod store;
mod writer;

#[cfg(test)]
mod tests;

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use crate::config::{RequestLog, UsageSettings};
use crate::metrics::Metrics;
pub use query::{Dimension, GroupRow, Query, SpendQuery};
pub use record::UsageRecord;
use store::{Open, Store};
use writer::{Control, Writer};

/// The proxy's handle on the ledger.
pub struct Ledger {
    records: Option<mpsc::Sender<UsageRecord>>,
    control: Option<mpsc::UnboundedSender<Control>>,
    has_store: bool,
    /// Unix seconds of the last "queue full" log line, and drops since it.
    last_drop_log: AtomicU64,
    drops_unlogged: AtomicU64,
}

impl Ledger {
    /// A ledger that keeps nothing (`store: none` and no request log).
    pub fn disabled() -> Ledger {
        Ledger {
            records: None,
            control: None,
            has_store: false,
            last_drop_log: AtomicU64::new(0),
            drops_unlogged: AtomicU64::new(0),
        }
    }

    /// Opens the store and the request log and starts the writer on a thread of its own. A SQLite
    /// store that cannot be created is an error here; PostgreSQL is connected lazily and retried.
    pub fn start(settings: &UsageSettings, log: &RequestLog) -> Result<Ledger, String> {
        let log_out: Option<Box<dyn Write + Send>> = match log {
            RequestLog::Off => None,
            RequestLog::Stdout => Some(Box::new(std::io::LineWriter::new(std::io::stdout()))),
            RequestLog::File(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open the request log {}: {e}", path.display()))?;
                Some(Box::new(std::io::BufWriter::new(file)))
            }
        };
        if log_out.is_none() && settings.store == crate::config::StoreLocation::None {
            return Ok(Ledger::disabled());
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the usage writer: {e}"))?;
        let location = settings.store.clone();
        let store = runtime.block_on(Store::open(&location, Open::Create))?;
        let has_store = store.is_some();
        let (records_tx, records_rx) = mpsc::channel(settings.queue_size);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let writer = Writer {
            store,
            log: log_out,
            batch_size: settings.batch_size,
            interval: settings.flush_interval,
            migrated: false,
            last_error_log: None,
        };
        std::thread::Builder::new()
            .name("usage-writer".into())
            .spawn(move || runtime.block_on(writer.run(records_rx, control_rx)))
            .map_err(|e| format!("cannot start the usage writer: {e}"))?;
        if has_store {
            log::debug!("usage ledger: {}", location.describe());
        }
        Ok(Ledger {
            records: Some(records_tx),
            control: Some(control_tx),
            has_store,
            last_drop_log: AtomicU64::new(0),
            drops_unlogged: AtomicU64::new(0),
        })
    }

    pub fn has_store(&self) -> bool {
        self.has_store
    }

    /// Hands a finished request's record to the writer without waiting; a full queue drops it
    /// (counted, and logged at most every 10 s).
    pub fn submit(&self, record: UsageRecord) {
        let Some(tx) = &self.records else { return };
        let metrics = Metrics::global();
        match tx.try_send(record) {
            Ok(()) => metrics.usage_records_queued.inc(),
            Err(e) => {
                let reason = match e {
                    mpsc::error::TrySendError::Full(_) => "queue_full",
                    mpsc::error::TrySendError::Closed(_) => "writer_stopped",
                };
                metrics
                    .usage_records_dropped
                    .with_label_values(&[reason])
                    .inc();
                self.log_drop(reason);
            }
        }
    }

    fn log_drop(&self, reason: &str) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let unlogged = self.drops_unlogged.fetch_add(1, Ordering::Relaxed) + 1;
        let last = self.last_drop_log.load(Ordering::Relaxed);
        if now >= last + 10
            && self
                .last_drop_log
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.drops_unlogged.fetch_sub(unlogged, Ordering::Relaxed);
            log::warn!("usage ledger: {unlogged} usage record(s) dropped ({reason}): the store is slow or down, or usage.queue_size is too small");
        }
    }

    /// Writes everything queued. With `wait`, blocks up to that long for it (shutdown); the store
    /// is given up on at the deadline and what could not be written is counted as dropped.
    pub fn flush(&self, wait: Option<Duration>) -> bool {
        let Some(control) = &self.control else {
            return true;
        };
        let deadline = Instant::now() + wait.unwrap_or(Duration::from_secs(30));
        match wait {
            None => control
                .send(Control::Flush {
                    deadline,
                    done: None,
                })
                .is_ok(),
            Some(wait) => {
                let (done, finished) = std::sync::mpsc::channel();
                if control
                    .send(Control::Flush {
                        deadline: deadline - wait / 5,
                        done: Some(done),
                    })
                    .is_err()
                {
                    return false;
                }
                finished.recv_timeout(wait).is_ok()
            }
        }
    }

    /// Totals from the store, as `query` groups them.
    pub async fn query(&self, query: Query) -> Result<Vec<GroupRow>, String> {
        let Some(control) = self.control.as_ref().filter(|_| self.has_store) else {
            return Err("this gateway keeps no usage store (usage.store: none)".into());
        };
        let (reply, answer) = oneshot::channel();
        control
            .send(Control::Query(query, reply))
            .map_err(|_| "the usage writer has stopped".to_string())?;
        match tokio::time::timeout(Duration::from_secs(30), answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("the usage writer has stopped".into()),
            Err(_) => Err("the usage store did not answer within 30 s".into()),
        }
    }
}

/// The longest a budget's seed waits for the store: it holds the first request of a period.
const SPEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Budgets are seeded from here: what a team or key has spent since the start of the period. What
/// this gateway has queued is written first, so the sum includes it.
#[async_trait::async_trait]
impl crate::limits::SpendSource for Ledger {
    async fn spent_since(
        &self,
        scope: crate::limits::ScopeKind,
        name: &str,
        since_ms: i64,
    ) -> Result<u64, String> {
        let Some(control) = self.control.as_ref().filter(|_| self.has_store) else {
            // No store: a budget counts what this process sees from its start.
            return Ok(0);
        };
        let (reply, answer) = oneshot::channel();
        let query = SpendQuery {
            key: scope == crate::limits::ScopeKind::Key,
            name: name.to_string(),
            since_ms,
        };
        // In order: the writer writes its queue before it answers.
        let flushed = control.send(Control::Flush {
            deadline: Instant::now() + SPEND_TIMEOUT,
            done: None,
        });
        if flushed.is_err() || control.send(Control::Spend(query, reply)).is_err() {
            return Err("the usage writer has stopped".into());
        }
        match tokio::time::timeout(SPEND_TIMEOUT, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("the usage writer has stopped".into()),
            Err(_) => Err(format!(
                "the usage store did not answer within {} s",
                SPEND_TIMEOUT.as_secs()
            )),
        }
    }
}

/// Now, as Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
