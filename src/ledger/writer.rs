//! The ledger's writer task: takes records off the queue, prints them to the request log, and
//! writes them to the store in batches — when `batch_size` records wait or `flush_interval` has
//! passed, and on demand (shutdown, reload). A failing store is retried with backoff while the
//! batch waits; meanwhile the queue fills and the proxy drops (and counts) what does not fit. It
//! runs on its own thread and runtime, so nothing here ever runs on a request's task.

use std::io::Write;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::query::{GroupRow, Query, SpendQuery};
use super::record::UsageRecord;
use super::store::Store;
use crate::metrics::Metrics;

/// What the proxy side asks of the writer besides taking records.
pub(super) enum Control {
    /// Write everything queued now; give up on the store at `deadline` (counting what is dropped).
    Flush {
        deadline: Instant,
        done: Option<std::sync::mpsc::Sender<()>>,
    },
    Query(Query, oneshot::Sender<Result<Vec<GroupRow>, String>>),
    /// What a team or key has spent since a time (a budget's seed).
    Spend(SpendQuery, oneshot::Sender<Result<u64, String>>),
}

pub(super) struct Writer {
    pub store: Option<Store>,
    pub log: Option<Box<dyn Write + Send>>,
    pub batch_size: usize,
    pub interval: Duration,
    pub migrated: bool,
    /// Logs store errors at most every 10 s.
    pub last_error_log: Option<Instant>,
}

impl Writer {
    pub(super) async fn run(
        mut self,
        mut records: mpsc::Receiver<UsageRecord>,
        mut control: mpsc::UnboundedReceiver<Control>,
    ) {
        let mut batch = Vec::with_capacity(self.batch_size);
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A flush that arrived while a write was retrying, handled once that write is done.
        let mut deferred: Option<Control> = None;
        loop {
            if let Some(Control::Flush { deadline, done }) = deferred.take() {
                self.flush(
                    &mut records,
                    &mut batch,
                    deadline,
                    &mut control,
                    &mut deferred,
                )
                .await;
                if let Some(done) = done {
                    let _ = done.send(());
                }
                continue;
            }
            tokio::select! {
                biased;
                ctl = control.recv() => match ctl {
                    Some(Control::Flush { deadline, done }) => {
                        self.flush(&mut records, &mut batch, deadline, &mut control, &mut deferred).await;
                        if let Some(done) = done {
                            let _ = done.send(());
                        }
                    }
                    Some(Control::Query(query, reply)) => self.answer(query, reply),
                    Some(Control::Spend(query, reply)) => self.answer_spend(query, reply),
                    None => {
                        let deadline = Instant::now() + Duration::from_secs(5);
                        self.flush(&mut records, &mut batch, deadline, &mut control, &mut deferred).await;
                        return;
                    }
                },
                record = records.recv(), if batch.len() < self.batch_size => match record {
                    Some(record) => {
                        self.accept(record, &mut batch);
                        if batch.len() >= self.batch_size {
                            self.write(&mut batch, None, &mut control, &mut deferred).await;
                            self.flush_log();
                        }
                    }
                    None => {
                        let deadline = Instant::now() + Duration::from_secs(5);
                        self.write(&mut batch, Some(deadline), &mut control, &mut deferred).await;
                        self.flush_log();
                        return;
                    }
                },
                _ = tick.tick() => {
                    self.write(&mut batch, None, &mut control, &mut deferred).await;
                    self.flush_log();
                }
            }
        }
    }

    /// Writes everything queued now (giving up on the store at `deadline`).
    async fn flush(
        &mut self,
        records: &mut mpsc::Receiver<UsageRecord>,
        batch: &mut Vec<UsageRecord>,
        deadline: Instant,
        control: &mut mpsc::UnboundedReceiver<Control>,
        deferred: &mut Option<Control>,
    ) {
        while let Ok(record) = records.try_recv() {
            self.accept(record, batch);
            if batch.len() >= self.batch_size {
                self.write(batch, Some(deadline), control, deferred).await;
            }
        }
        self.write(batch, Some(deadline), control, deferred).await;
        self.flush_log();
    }

    fn answer(&self, query: Query, reply: oneshot::Sender<Result<Vec<GroupRow>, String>>) {
        match self.store.clone() {
            Some(store) => {
                tokio::spawn(async move {
                    let _ = reply.send(
                        store
                            .query(&query)
                            .await
                            .map_err(|e| format!("the usage store failed the query: {e}")),
                    );
                });
            }
            None => {
                let _ = reply.send(Err(
                    "this gateway keeps no usage store (usage.store: none)".into()
                ));
            }
        }
    }

    fn answer_spend(&self, query: SpendQuery, reply: oneshot::Sender<Result<u64, String>>) {
        let Some(store) = self.store.clone() else {
            let _ = reply.send(Ok(0));
            return;
        };
        tokio::spawn(async move {
            let spent = store
                .spent(&query)
                .await
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|e| format!("the usage store failed the query: {e}"));
            let _ = reply.send(spent);
        });
    }

    fn accept(&mut self, record: UsageRecord, batch: &mut Vec<UsageRecord>) {
        Metrics::global().usage_records_queued.dec();
        if let Some(log) = self.log.as_mut() {
            if let Err(e) = log.write_all(&record.json_line()) {
                log::warn!("cannot write the request log: {e}");
            }
        }
        if self.store.is_some() {
            batch.push(record);
        }
    }

    fn flush_log(&mut self) {
        if let Some(Err(e)) = self.log.as_mut().map(|l| l.flush()) {
            log::warn!("cannot write the request log: {e}");
        }
    }

    /// Writes `batch`, retrying with backoff while the store fails; with a `deadline`, gives up then
    /// and counts the records as dropped. Queries are answered while it waits; a flush that arrives
    /// sets the deadline and is handed back in `deferred`.
    async fn write(
        &mut self,
        batch: &mut Vec<UsageRecord>,
        mut deadline: Option<Instant>,
        control: &mut mpsc::UnboundedReceiver<Control>,
        deferred: &mut Option<Control>,
    ) {
        let Some(store) = self.store.clone() else {
            batch.clear();
            return;
        };
        if batch.is_empty() {
            return;
        }
        let metrics = Metrics::global();
        let mut backoff = Duration::from_millis(100);
        loop {
            let started = Instant::now();
            let result = match self.migrated {
                true => store.insert(batch).await.map_err(|e| e.to_string()),
                false => match store.migrate().await {
                    Ok(()) => {
                        self.migrated = true;
                        store.insert(batch).await.map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e),
                },
            };
            metrics
                .usage_store_write_seconds
                .observe(started.elapsed().as_secs_f64());
            match result {
                Ok(()) => {
                    metrics.usage_records_written.inc_by(batch.len() as u64);
                    batch.clear();
                    return;
                }
                Err(e) => {
                    metrics.usage_store_errors.inc();
                    if self
                        .last_error_log
                        .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
                    {
                        self.last_error_log = Some(Instant::now());
                        log::error!(
                            "usage store write failed ({} record(s) waiting; retrying): {e}",
                            batch.len()
                        );
                    }
                }
            }
            if deadline.is_some_and(|d| Instant::now() + backoff > d) {
                metrics
                    .usage_records_dropped
                    .with_label_values(&["store_unavailable"])
                    .inc_by(batch.len() as u64);
                log::error!(
                    "usage store unavailable: {} usage record(s) dropped",
                    batch.len()
                );
                batch.clear();
                return;
            }
            let sleep = tokio::time::sleep(backoff);
            tokio::pin!(sleep);
            let mut closed = false;
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    ctl = control.recv(), if deferred.is_none() && !closed => match ctl {
                        Some(Control::Query(query, reply)) => self.answer(query, reply),
                        Some(Control::Spend(query, reply)) => self.answer_spend(query, reply),
                        Some(Control::Flush { deadline: d, done }) => {
                            deadline = Some(deadline.map_or(d, |old| old.min(d)));
                            *deferred = Some(Control::Flush { deadline: d, done });
                        }
                        None => {
                            closed = true;
                            deadline = Some(deadline.unwrap_or_else(Instant::now));
                        }
                    },
                }
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}
