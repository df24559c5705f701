//! What a team or a key is held to, as the config resolved it: plain values built once per config
//! load, read by every request of that generation.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use super::budget::{usd_short, BudgetCheck, Period};

/// One kind of limit. [`LimitKind::field`] is its config field, and its name in messages and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Requests admitted in the last minute.
    RequestsPerMinute,
    /// Input + output tokens in the last minute: estimated at admission, corrected when the response reports them.
    TokensPerMinute,
    /// Requests under way at once (a stream counts until it ends).
    MaxConcurrent,
    /// USD spent in the current UTC day (nano-USD): checked at admission, counted when a request ends.
    BudgetPerDay,
    /// USD spent in the current UTC month (nano-USD).
    BudgetPerMonth,
}

impl LimitKind {
    pub const ALL: [LimitKind; 5] = [
        LimitKind::RequestsPerMinute,
        LimitKind::TokensPerMinute,
        LimitKind::MaxConcurrent,
        LimitKind::BudgetPerDay,
        LimitKind::BudgetPerMonth,
    ];
    /// The kinds counted at admission (rates and concurrency); budgets are only read there.
    pub const COUNTED: [LimitKind; 3] = [
        LimitKind::RequestsPerMinute,
        LimitKind::TokensPerMinute,
        LimitKind::MaxConcurrent,
    ];
    pub const BUDGETS: [LimitKind; 2] = [LimitKind::BudgetPerDay, LimitKind::BudgetPerMonth];

    pub fn field(self) -> &'static str {
        match self {
            LimitKind::RequestsPerMinute => "requests_per_minute",
            LimitKind::TokensPerMinute => "tokens_per_minute",
            LimitKind::MaxConcurrent => "max_concurrent",
            LimitKind::BudgetPerDay => "budget_usd_per_day",
            LimitKind::BudgetPerMonth => "budget_usd_per_month",
        }
    }

    /// What one request adds to this limit's counter.
    pub(super) fn cost(self, estimated_tokens: u64) -> u64 {
        match self {
            LimitKind::TokensPerMinute => estimated_tokens,
            LimitKind::RequestsPerMinute | LimitKind::MaxConcurrent => 1,
            // Budgets are read at admission; the cost is added when the request ends.
            LimitKind::BudgetPerDay | LimitKind::BudgetPerMonth => 0,
        }
    }
}

/// The limits of one team or key; `None` is no limit of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSet {
    pub requests_per_minute: Option<u64>,
    pub tokens_per_minute: Option<u64>,
    pub max_concurrent: Option<u64>,
    /// Nano-USD per UTC day.
    pub budget_usd_per_day: Option<u64>,
    /// Nano-USD per UTC month.
    pub budget_usd_per_month: Option<u64>,
    /// `budget_warn_at` in millionths: an admission with at least this share of a budget spent
    /// carries `x-switchyard-budget-remaining`.
    pub budget_warn_ppm: u32,
}

impl Default for LimitSet {
    fn default() -> Self {
        LimitSet {
            requests_per_minute: None,
            tokens_per_minute: None,
            max_concurrent: None,
            budget_usd_per_day: None,
            budget_usd_per_month: None,
            budget_warn_ppm: super::budget::DEFAULT_WARN_PPM,
        }
    }
}

impl LimitSet {
    pub fn get(&self, kind: LimitKind) -> Option<u64> {
        match kind {
            LimitKind::RequestsPerMinute => self.requests_per_minute,
            LimitKind::TokensPerMinute => self.tokens_per_minute,
            LimitKind::MaxConcurrent => self.max_concurrent,
            LimitKind::BudgetPerDay => self.budget_usd_per_day,
            LimitKind::BudgetPerMonth => self.budget_usd_per_month,
        }
    }

    pub fn has_budgets(&self) -> bool {
        self.budget_usd_per_day.is_some() || self.budget_usd_per_month.is_some()
    }

    pub fn is_empty(&self) -> bool {
        LimitKind::ALL.iter().all(|&k| self.get(k).is_none())
    }

    /// `field value, …` for `switchyard check` and logs.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = LimitKind::ALL
            .iter()
            .filter_map(|&k| {
                self.get(k).map(|v| match Period::of(k) {
                    Some(_) => format!("{} {}", k.field(), usd_short(v)),
                    None => format!("{} {v}", k.field()),
                })
            })
            .collect();
        if parts.is_empty() {
            return "none".into();
        }
        let mut text = parts.join(", ");
        if self.has_budgets() {
            let _ = write!(
                text,
                " (warn at {} %)",
                f64::from(self.budget_warn_ppm) / 10_000.0
            );
        }
        text
    }
}

/// Whose counters: a team's, or one key's (which count on top of its team's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeKind {
    Team,
    Key,
}

impl ScopeKind {
    pub fn label(self) -> &'static str {
        match self {
            ScopeKind::Team => "team",
            ScopeKind::Key => "key",
        }
    }
}

/// A team or a key that has limits: the identity its counters are kept under, and the limits.
#[derive(Debug)]
pub struct Scope {
    pub kind: ScopeKind,
    /// The team's name, or the key's id (its configured `name`, else a digest prefix: never the key).
    pub name: Arc<str>,
    /// The team (the key's team, for a key): the metric label, from the config's bounded set of names.
    pub team: Arc<str>,
    pub limits: LimitSet,
    /// The shared store's key for each limit ([`LimitKind::ALL`] order), built on first use: the
    /// process has one store, with one prefix, and admissions should not format them every time.
    pub(super) shared_keys: OnceLock<[String; LimitKind::ALL.len()]>,
}

impl Scope {
    /// A scope for `limits`, or `None` when there is nothing to hold it to (its traffic is never counted).
    pub fn new(kind: ScopeKind, name: &str, team: &str, limits: LimitSet) -> Option<Arc<Scope>> {
        (!limits.is_empty()).then(|| {
            Arc::new(Scope {
                kind,
                name: Arc::from(name),
                team: Arc::from(team),
                limits,
                shared_keys: OnceLock::new(),
            })
        })
    }
}

/// The scopes one request is counted against: its key's, then its team's (the more specific refusal wins).
#[derive(Debug, Clone, Default)]
pub struct Subjects(pub(super) [Option<Arc<Scope>>; 2]);

impl Subjects {
    pub fn new(key: Option<&Arc<Scope>>, team: Option<&Arc<Scope>>) -> Subjects {
        Subjects([key.cloned(), team.cloned()])
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Scope>> {
        self.0.iter().flatten()
    }

    /// Whether any scope has a budget: only then is spend read or counted.
    pub fn has_budgets(&self) -> bool {
        self.iter().any(|s| s.limits.has_budgets())
    }

    /// Every budget the request is held to, in the periods `now_ms` falls in.
    pub fn budget_checks(&self, now_ms: i64) -> impl Iterator<Item = BudgetCheck<'_>> {
        self.iter().flat_map(move |scope| {
            LimitKind::BUDGETS.into_iter().filter_map(move |kind| {
                let period = Period::of(kind)?;
                scope.limits.get(kind).map(|limit| BudgetCheck {
                    scope,
                    kind,
                    period,
                    span: period.span(now_ms),
                    limit,
                })
            })
        })
    }

    /// Every rate and concurrency limit the request is held to, in order, with what it costs against each.
    pub fn checks(&self, estimated_tokens: u64) -> impl Iterator<Item = Check<'_>> {
        self.iter().flat_map(move |scope| {
            LimitKind::COUNTED.into_iter().filter_map(move |kind| {
                scope.limits.get(kind).map(|limit| Check {
                    scope,
                    kind,
                    limit,
                    cost: kind.cost(estimated_tokens),
                })
            })
        })
    }
}

/// One limit one request is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    pub scope: &'a Arc<Scope>,
    pub kind: LimitKind,
    pub limit: u64,
    pub cost: u64,
}
