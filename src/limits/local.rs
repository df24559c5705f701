//! The in-process store: counters in this process only, from `pingora-limits` — [`Rate`] (two
//! alternating one-minute windows per key, read back with `rate_with` for the sliding estimate) and
//! [`Inflight`] (a counter whose guard gives the slot back when dropped). Exact enough for limits:
//! both estimate with a count-min sketch (4 × 1024 / 4 × 8192 slots), which over-counts a key only
//! when all four of its slots collide with busier keys — with one key per configured team or key,
//! practically never.
//!
//! It is the store of a single replica, and the fallback of a replica whose shared store fails
//! (`on_error: fail_open`): then each replica enforces every limit on its own.

use async_trait::async_trait;
use pingora_limits::inflight::Inflight;
use pingora_limits::rate::Rate;

use super::policy::{Check, LimitKind, ScopeKind, Subjects};
use super::spend::{LocalSpend, SpendSource};
use super::window::{Counts, WINDOW};
use super::{CounterStore, Held, Over, StoreError, Verdict};

pub struct LocalStore {
    /// Requests and tokens per minute, keyed by (scope, name, limit).
    rates: Rate,
    concurrent: Inflight,
    /// Spend per budget period.
    pub(super) spend: LocalSpend,
}

impl Default for LocalStore {
    fn default() -> Self {
        LocalStore {
            rates: Rate::new(WINDOW),
            concurrent: Inflight::new(),
            spend: LocalSpend::default(),
        }
    }
}

/// The key one limit of one scope is counted under.
fn key<'a>(check: &Check<'a>) -> (ScopeKind, &'a str, LimitKind) {
    (check.scope.kind, &check.scope.name, check.kind)
}

fn signed(n: u64) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

impl LocalStore {
    /// Counts the request against every check, or against none when one would go over. Each counter
    /// is incremented first and checked after, so two concurrent requests cannot both take the last slot.
    pub fn try_acquire(&self, subjects: &Subjects, estimated_tokens: u64) -> Verdict {
        let mut counted: Vec<Check<'_>> = Vec::new();
        let mut guards = Vec::new();
        for check in subjects.checks(estimated_tokens) {
            let over = match check.kind {
                LimitKind::RequestsPerMinute | LimitKind::TokensPerMinute => {
                    let now = self.rates.observe(&key(&check), signed(check.cost));
                    counted.push(check);
                    let (previous, elapsed) = self.rates.rate_with(&key(&check), |c| {
                        (c.prev_samples, c.current_interval_fraction)
                    });
                    let before = Counts {
                        previous: u64::try_from(previous).unwrap_or(0),
                        current: u64::try_from(now).unwrap_or(0).saturating_sub(check.cost),
                        elapsed,
                    };
                    (!before.admits(check.limit, check.cost)).then(|| Over::rate(&check, &before))
                }
                // Budgets are not counted at admission (`LocalSpend::check` reads them).
                LimitKind::BudgetPerDay | LimitKind::BudgetPerMonth => None,
                LimitKind::MaxConcurrent => {
                    let (guard, now) = self.concurrent.incr(key(&check), 1);
                    let under_way = u64::try_from(now).unwrap_or(0);
                    if under_way > check.limit {
                        Some(Over::concurrency(&check))
                    } else {
                        guards.push(guard);
                        None
                    }
                }
            };
            if let Some(over) = over {
                for done in counted {
                    self.rates.observe(&key(&done), -signed(done.cost));
                }
                return Verdict::Refused(over);
            }
        }
        Verdict::Admitted(Held::Local(guards), None)
    }

    /// Adds `delta` tokens to the current window of each tokens-per-minute limit. A refund (negative)
    /// takes back at most what the current window holds: the estimate may have been counted in the
    /// previous one, and a negative count would lend this window room it never had.
    pub fn add_tokens(&self, subjects: &Subjects, delta: i64) {
        for check in subjects
            .checks(0)
            .filter(|c| c.kind == LimitKind::TokensPerMinute)
        {
            let key = key(&check);
            let delta = isize::try_from(delta).unwrap_or(0);
            let delta = if delta < 0 {
                delta.max(-self.rates.rate_with(&key, |c| c.curr_samples).max(0))
            } else {
                delta
            };
            self.rates.observe(&key, delta);
        }
    }
}

#[async_trait]
impl CounterStore for LocalStore {
    async fn acquire(
        &self,
        subjects: &Subjects,
        estimated_tokens: u64,
        spend: &dyn SpendSource,
        now_ms: i64,
    ) -> Result<Verdict, StoreError> {
        // Budgets first: they count nothing, so a refusal by one leaves every counter as it was.
        let warning = if subjects.has_budgets() {
            match self.spend.check(subjects, now_ms, spend).await {
                Ok(warning) => warning,
                Err(over) => return Ok(Verdict::Refused(over)),
            }
        } else {
            None
        };
        Ok(match self.try_acquire(subjects, estimated_tokens) {
            Verdict::Admitted(held, _) => Verdict::Admitted(held, warning),
            refused => refused,
        })
    }

    fn settle(&self, subjects: &Subjects, delta: i64, cost: u64, held: Held) {
        if delta != 0 {
            self.add_tokens(subjects, delta);
        }
        if cost > 0 {
            self.spend.add(subjects, cost, crate::ledger::now_ms());
        }
        drop(held);
    }
}
