//! Rate and concurrency limits per team and per key — to stop a runaway agent loop before it
//! floods a provider or the month's spend — that hold across replicas when they share a Redis.
//!
//! ```text
//!  request_filter ── Limiter::admit(subjects, estimated tokens) ──► Admission  (or a Refusal: 429 / 503)
//!                          │ checks every limit of the key, then of the team; counts all or nothing
//!                          ▼
//!                    CounterStore: LocalStore (this process)  |  SharedStore (Redis, every replica)
//!                          ▲
//!  logging ──────── Limiter::settle(admission, actual tokens) ── corrects tokens, frees concurrency
//! ```
//!
//! Everything is decided **before a request starts**: a stream is never cut because of its own usage.
//! Tokens per minute are counted from an estimate at admission ([`estimate_tokens`]) and corrected
//! when the request ends to the usage the ledger records for it ([`Actual`]). Pure: no Pingora types; the proxy calls
//! [`Limiter::admit`] once in admission and [`Limiter::settle`] once in `logging`. Traffic of teams and
//! keys without limits returns before any store is touched.
//!
//! Spend budgets (USD per UTC day, per UTC month) are two more [`LimitKind`]s on the same path:
//! `admit` reads what the team or key has spent this period (a reached budget refuses, a budget past
//! `budget_warn_at` is reported in [`Admission::warning`]) and counts nothing; `settle` adds the
//! request's cost from [`Actual::cost_nano_usd`], the cost its usage record carries. Spend counters
//! are seeded from the ledger once per period ([`SpendSource`]); see `budget.rs` and `spend.rs`.

pub mod budget;
mod local;
mod policy;
mod shared;
mod spend;
mod window;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use local::LocalStore;
pub use policy::{Check, LimitKind, LimitSet, Scope, ScopeKind, Subjects};
pub use shared::{OnError, SharedSettings, SharedStore};
pub use spend::{NoSpendSource, SpendSource};
pub use window::{whole_seconds, Counts, WINDOW};

use budget::{Exhausted, Warning};

use crate::errors::{ErrorKind, GatewayError};
use crate::metrics::Metrics;
use crate::usage::Extracted;

/// Where counters live: this process ([`LocalStore`]) or Redis, shared by every replica ([`SharedStore`]).
#[async_trait]
pub trait CounterStore: Send + Sync {
    /// Counts one request against every limit of `subjects`, or against none when one would go
    /// over; reads its budgets' spend at `now_ms` (seeding a period's counter from `spend`).
    async fn acquire(
        &self,
        subjects: &Subjects,
        estimated_tokens: u64,
        spend: &dyn SpendSource,
        now_ms: i64,
    ) -> Result<Verdict, StoreError>;
    /// Adds `delta` tokens to the current window of each tokens-per-minute limit (negative: a refund),
    /// `cost` nano-USD to each budget's current period, and gives back the slots `held`, in one
    /// message to the store. Sent without waiting for the store: the request is over.
    fn settle(&self, subjects: &Subjects, delta: i64, cost: u64, held: Held);
}

/// A store's answer to one admission.
pub enum Verdict {
    /// Counted; with the tightest budget when one is past its warning threshold.
    Admitted(Held, Option<Warning>),
    Refused(Over),
}

/// Concurrency slots a request holds in a store; given back when dropped (so a request that ends in
/// any way, even without `settle`, frees them).
pub enum Held {
    Local(Vec<pingora_limits::inflight::Guard>),
    Shared(shared::Slots),
}

/// The store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("{0}")]
    Failed(String),
    /// It failed a moment ago and is left alone for a second.
    #[error("it failed less than a second ago")]
    Resting,
}

/// A limit a request would go over.
#[derive(Debug, Clone)]
pub struct Over {
    pub scope: Arc<Scope>,
    pub kind: LimitKind,
    pub limit: u64,
    /// What this request would have added (1, or its estimated tokens).
    pub cost: u64,
    /// Until it would fit, if nothing else is counted meanwhile; `None`: it never fits.
    pub wait: Option<Duration>,
    /// For a budget: what was spent and when it renews.
    pub exhausted: Option<Exhausted>,
}

/// How long a refused request for a concurrency slot is told to wait: slots free as requests end.
const CONCURRENCY_RETRY: Duration = Duration::from_secs(1);

impl Over {
    fn rate(check: &Check<'_>, counts: &Counts) -> Over {
        Over {
            scope: check.scope.clone(),
            kind: check.kind,
            limit: check.limit,
            cost: check.cost,
            wait: counts.wait_for(check.limit, check.cost, WINDOW),
            exhausted: None,
        }
    }

    fn budget(check: &budget::BudgetCheck<'_>, spent: u64, now_ms: i64) -> Over {
        let until = u64::try_from(check.span.end_ms.saturating_sub(now_ms)).unwrap_or(0);
        Over {
            scope: check.scope.clone(),
            kind: check.kind,
            limit: check.limit,
            cost: 0,
            wait: Some(Duration::from_millis(until)),
            exhausted: Some(Exhausted {
                period: check.period,
                spent,
                renews_at_ms: check.span.end_ms,
            }),
        }
    }

    fn concurrency(check: &Check<'_>) -> Over {
        Over {
            scope: check.scope.clone(),
            kind: check.kind,
            limit: check.limit,
            cost: 1,
            wait: Some(CONCURRENCY_RETRY),
            exhausted: None,
        }
    }
}

/// Why a request was not admitted.
#[derive(Debug, Clone)]
pub enum Refusal {
    Over(Over),
    /// The shared store failed and `on_error` is `fail_closed`.
    StoreUnavailable {
        scope: Arc<Scope>,
        reason: String,
    },
}

/// `Retry-After` for a refusal by an unavailable store: it is retried after a second.
const STORE_RETRY: Duration = Duration::from_secs(2);

impl Refusal {
    /// The metric label for what refused it.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Over(over) => over.kind.field(),
            Refusal::StoreUnavailable { .. } => "store_unavailable",
        }
    }

    fn scope(&self) -> &Arc<Scope> {
        match self {
            Refusal::Over(over) => &over.scope,
            Refusal::StoreUnavailable { scope, .. } => scope,
        }
    }

    /// What the client is told: which team or key, which limit and its value, and when it resets.
    pub fn message(&self) -> String {
        let scope = self.scope();
        let who = format!("{} `{}`", scope.kind.label(), scope.name);
        match self {
            Refusal::Over(Over { kind, limit, wait, exhausted: Some(exhausted), .. }) => {
                budget::exhausted_message(&who, *kind, *limit, exhausted, wait.map_or(1, whole_seconds))
            }
            Refusal::Over(Over { kind: LimitKind::MaxConcurrent, limit, .. }) => {
                format!("{who} exceeded max_concurrent ({limit}): {limit} of its requests are under way; retry when one has finished")
            }
            Refusal::Over(Over { kind, limit, cost, wait: None, .. }) => format!(
                "{who} allows {} ({limit}), and this request alone is estimated at {cost} tokens (4 bytes of request per token): it cannot be admitted; shorten the request or ask for a higher limit",
                kind.field()
            ),
            Refusal::Over(Over { kind: LimitKind::TokensPerMinute, limit, cost, wait: Some(wait), .. }) => format!(
                "{who} exceeded tokens_per_minute ({limit}): this request is estimated at {cost} tokens; resets in {} s",
                whole_seconds(*wait)
            ),
            Refusal::Over(Over { kind, limit, wait: Some(wait), .. }) => format!("{who} exceeded {} ({limit}); resets in {} s", kind.field(), whole_seconds(*wait)),
            Refusal::StoreUnavailable { reason, .. } => format!(
                "{who} has limits, and the shared limit store (Redis) that counts them is unavailable ({reason}): the gateway refuses what it cannot count (shared_state.on_error: fail_closed); retry shortly"
            ),
        }
    }

    /// Seconds for `Retry-After`; none when waiting would not help.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Refusal::Over(over) => over.wait.map(whole_seconds),
            Refusal::StoreUnavailable { .. } => Some(whole_seconds(STORE_RETRY)),
        }
    }
}

impl From<Refusal> for GatewayError {
    fn from(refusal: Refusal) -> GatewayError {
        let kind = match refusal {
            Refusal::Over(_) => ErrorKind::LimitExceeded,
            Refusal::StoreUnavailable { .. } => ErrorKind::Unavailable,
        };
        let mut error = GatewayError::new(kind, refusal.message());
        error.retry_after = refusal.retry_after();
        error
    }
}

/// The tokens a request is counted for at admission: its body's bytes / 4 — the usual rule of
/// thumb for English and JSON, and free (no parse). Output tokens are not known yet; the correction
/// in `settle` adds them when the response reports them.
pub fn estimate_tokens(body_len: usize) -> u64 {
    (body_len as u64).div_ceil(4)
}

/// Which store counted an admission, so its correction and its slots go back to the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountedBy {
    Local,
    Shared,
}

/// A request's place in the counters, from admission to its end.
#[must_use = "an admission holds concurrency slots until it is settled or dropped"]
pub struct Admission {
    subjects: Subjects,
    tokens: u64,
    counted_by: CountedBy,
    /// The tightest budget, when one is past its warning threshold.
    warning: Option<Warning>,
    /// Released when the admission is dropped.
    _held: Held,
}

impl Admission {
    /// The tightest budget of this request, when one is past its `budget_warn_at`: what
    /// `x-switchyard-budget-remaining` says.
    pub fn warning(&self) -> Option<&Warning> {
        self.warning.as_ref()
    }
}

/// What a finished request used, as tokens per minute count it: the usage the ledger records for it,
/// from the one reading of the upstream response (`usage::UsageExtractor`) — pass-through or
/// translated, streamed or JSON, in every format.
///
/// Every input token counts — uncached, read from a cache, written to a cache — plus the output.
/// Cache reads count because the admission estimate is of the whole request body, cached prefix
/// included: correcting it to the uncached part alone would refund most of every long agent turn
/// and let the next burst through on a window that looks empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Actual {
    /// The tokens the ledger records; `None`: no response was read (the provider answered with an
    /// error, or not at all), and the admission's estimate stands.
    pub tokens: Option<u64>,
    /// The provider reported these figures itself. When it did not (a stream cut before its usage
    /// arrived, a body that could not be read), they are what was seen so far — a floor — and the
    /// admission's estimate stands if it is larger.
    pub reported: bool,
    /// The cost its usage record carries (nano-USD; `None`: unpriced), added to its budgets.
    pub cost_nano_usd: Option<u64>,
}

impl Actual {
    /// The tokens the ledger records for a request whose response the extractor read (or `None`).
    pub fn from_usage(extracted: Option<&Extracted>) -> Actual {
        match extracted {
            None => Actual::default(),
            Some(extracted) => Actual {
                tokens: Some(
                    extracted
                        .usage
                        .prompt_tokens()
                        .saturating_add(extracted.usage.output_tokens),
                ),
                reported: extracted.usage.reported,
                cost_nano_usd: None,
            },
        }
    }
}

/// The limits of every team and key: one per process, kept across config reloads (the limits come
/// with each request's config generation; the counters stay).
pub struct Limiter {
    local: LocalStore,
    shared: Option<(SharedStore, OnError)>,
    /// What seeds a budget's counter at the start of a period: the usage ledger.
    spend: Arc<dyn SpendSource>,
}

impl Limiter {
    /// In-process counters only, or shared through Redis as `shared_state` says; budgets count from 0.
    pub fn new(shared: Option<&SharedSettings>) -> Result<Limiter, String> {
        Limiter::with_spend(shared, Arc::new(NoSpendSource))
    }

    /// As [`Limiter::new`], with budgets seeded from `spend` (the usage ledger) once per period.
    pub fn with_spend(
        shared: Option<&SharedSettings>,
        spend: Arc<dyn SpendSource>,
    ) -> Result<Limiter, String> {
        let shared = shared
            .map(|s| SharedStore::start(s).map(|store| (store, s.on_error)))
            .transpose()?;
        Ok(Limiter {
            local: LocalStore::default(),
            shared,
            spend,
        })
    }

    /// Counts the request against its key's and its team's limits. `Ok(None)`: it has none, and no
    /// store was touched.
    pub async fn admit(
        &self,
        subjects: Subjects,
        estimated_tokens: u64,
    ) -> Result<Option<Admission>, Refusal> {
        if subjects.is_empty() {
            return Ok(None);
        }
        let now = crate::ledger::now_ms();
        let spend = self.spend.as_ref();
        let (verdict, counted_by) = match &self.shared {
            None => (
                self.local
                    .acquire(&subjects, estimated_tokens, spend, now)
                    .await,
                CountedBy::Local,
            ),
            Some((store, on_error)) => {
                match store.acquire(&subjects, estimated_tokens, spend, now).await {
                    Ok(verdict) => (Ok(verdict), CountedBy::Shared),
                    Err(e) if *on_error == OnError::FailOpen => {
                        Metrics::global().limits.fail_open.inc();
                        log::debug!("limit store failed ({e}): counted on this replica");
                        (
                            self.local
                                .acquire(&subjects, estimated_tokens, spend, now)
                                .await,
                            CountedBy::Local,
                        )
                    }
                    Err(e) => (Err(e), CountedBy::Shared),
                }
            }
        };
        let refusal = match verdict {
            Ok(Verdict::Admitted(held, warning)) => {
                if let Some(w) = &warning {
                    Metrics::global()
                        .limits
                        .budget_warnings
                        .with_label_values(&[&w.team, w.scope, w.kind.field()])
                        .inc();
                }
                return Ok(Some(Admission {
                    subjects,
                    tokens: estimated_tokens,
                    counted_by,
                    warning,
                    _held: held,
                }));
            }
            Ok(Verdict::Refused(over)) => Refusal::Over(over),
            Err(e) => match subjects.iter().next() {
                Some(scope) => Refusal::StoreUnavailable {
                    scope: scope.clone(),
                    reason: e.to_string(),
                },
                None => return Ok(None),
            },
        };
        let scope = refusal.scope();
        Metrics::global()
            .limits
            .rejections
            .with_label_values(&[&scope.team, scope.kind.label(), refusal.label()])
            .inc();
        Err(refusal)
    }

    /// The request is over: corrects its token count to what it really used, adds its cost to its
    /// budgets, and frees its slots.
    pub fn settle(&self, admission: Admission, actual: Actual) {
        let Admission {
            subjects,
            tokens: estimated,
            counted_by,
            warning: _,
            _held: held,
        } = admission;
        let cost = match actual.cost_nano_usd {
            Some(cost) if subjects.has_budgets() => cost,
            _ => 0,
        };
        let counts_tokens = subjects
            .iter()
            .any(|s| s.limits.tokens_per_minute.is_some());
        let delta = match actual.tokens {
            Some(used) if counts_tokens => {
                let tokens = if actual.reported {
                    used
                } else {
                    used.max(estimated)
                };
                i64::try_from(tokens)
                    .unwrap_or(i64::MAX)
                    .saturating_sub(i64::try_from(estimated).unwrap_or(i64::MAX))
            }
            _ => 0,
        };
        if delta == 0 && cost == 0 {
            // Dropping `held` gives the slots back.
            return;
        }
        let now = crate::ledger::now_ms();
        match (counted_by, &self.shared) {
            (CountedBy::Shared, Some((store, _))) => {
                store.settle(&subjects, delta, cost, held);
                // Counters this replica kept while the shared store failed, if any.
                self.local.spend.add(&subjects, cost, now);
            }
            (CountedBy::Local, Some((store, _))) => {
                self.local.settle(&subjects, delta, cost, held);
                // Admitted while the shared store failed: its spend still counts for every replica.
                if cost > 0 {
                    store.settle(&subjects, 0, cost, Held::Local(Vec::new()));
                }
            }
            _ => self.local.settle(&subjects, delta, cost, held),
        }
    }
}

#[cfg(test)]
mod tests;
