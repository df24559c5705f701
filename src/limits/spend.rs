//! What teams and keys have spent in the current UTC day and month, in this process: one counter
//! per (scope, budget), seeded from the usage ledger the first time a period's counter is needed
//! (when the gateway starts, and when a new day or month begins) and then incremented by each
//! request's cost as it ends. Only scopes with budgets ever get here.
//!
//! The seed asks the ledger to write what it has queued first, so what this process spent before the
//! counter existed is in the sum. A request that ends while its period's counter does not exist yet
//! is not counted here: its record is in the ledger, which the seed reads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::budget::{BudgetCheck, Period, Warning, WarningBuilder};
use super::policy::{ScopeKind, Subjects};
use super::Over;

/// Where spend so far comes from when a period's counter is seeded: the usage ledger.
#[async_trait]
pub trait SpendSource: Send + Sync {
    /// Nano-USD recorded for the team (or the key) `name` from `since_ms` on.
    async fn spent_since(&self, scope: ScopeKind, name: &str, since_ms: i64)
        -> Result<u64, String>;
}

/// No ledger: spend counts from the moment the counter is made.
pub struct NoSpendSource;

#[async_trait]
impl SpendSource for NoSpendSource {
    async fn spent_since(&self, _: ScopeKind, _: &str, _: i64) -> Result<u64, String> {
        Ok(0)
    }
}

/// Reads what the scope of `check` has spent so far this period, for seeding its counter.
pub async fn seed(source: &dyn SpendSource, check: &BudgetCheck<'_>) -> Result<u64, String> {
    source
        .spent_since(check.scope.kind, &check.scope.name, check.span.start_ms)
        .await
        .map_err(|e| {
            format!(
                "cannot read what {} `{}` has spent this {} from the usage ledger: {e}",
                check.scope.kind.label(),
                check.scope.name,
                match check.period {
                    Period::Day => "day",
                    Period::Month => "month",
                }
            )
        })
}

struct Counter {
    /// The period it counts (`Span::id`).
    period: i64,
    spent: AtomicU64,
    seeded: tokio::sync::OnceCell<()>,
}

type CounterKey = (ScopeKind, Arc<str>, Period);

#[derive(Default)]
pub struct LocalSpend {
    counters: Mutex<HashMap<CounterKey, Arc<Counter>>>,
}

fn counter_key(check: &BudgetCheck<'_>) -> CounterKey {
    (check.scope.kind, check.scope.name.clone(), check.period)
}

impl LocalSpend {
    /// The counter of `check`'s period, made (unseeded) when it is the first use of that period.
    fn counter(&self, check: &BudgetCheck<'_>) -> Arc<Counter> {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let counter = counters.entry(counter_key(check)).or_insert_with(|| {
            Arc::new(Counter {
                period: check.span.id,
                spent: AtomicU64::new(0),
                seeded: tokio::sync::OnceCell::new(),
            })
        });
        if counter.period < check.span.id {
            *counter = Arc::new(Counter {
                period: check.span.id,
                spent: AtomicU64::new(0),
                seeded: tokio::sync::OnceCell::new(),
            });
        }
        counter.clone()
    }

    /// Checks every budget of `subjects`: refuses when one is reached, else says which is tightest
    /// when one is past its warning threshold. Nothing is counted.
    pub async fn check(
        &self,
        subjects: &Subjects,
        now_ms: i64,
        source: &dyn SpendSource,
    ) -> Result<Option<Warning>, Over> {
        let mut warning = WarningBuilder::default();
        for check in subjects.budget_checks(now_ms) {
            let counter = self.counter(&check);
            counter
                .seeded
                .get_or_init(|| async {
                    // Without the ledger's figure, what this process counts from now on is all the
                    // budget sees this period: the gateway keeps serving rather than refuse everyone.
                    let spent = seed(source, &check).await.unwrap_or_else(|e| {
                        log::warn!("budgets: {e}: counting from 0");
                        0
                    });
                    counter.spent.fetch_add(spent, Ordering::Relaxed);
                })
                .await;
            let spent = counter.spent.load(Ordering::Relaxed);
            if !check.admits(spent) {
                return Err(Over::budget(&check, spent, now_ms));
            }
            warning.add(&check, spent);
        }
        Ok(warning.finish())
    }

    /// Adds a finished request's cost to its scopes' counters of the current period (those that exist).
    pub fn add(&self, subjects: &Subjects, cost: u64, now_ms: i64) {
        if cost == 0 {
            return;
        }
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for check in subjects.budget_checks(now_ms) {
            if let Some(counter) = counters
                .get(&counter_key(&check))
                .filter(|c| c.period == check.span.id)
            {
                counter.spent.fetch_add(cost, Ordering::Relaxed);
            }
        }
    }
}
