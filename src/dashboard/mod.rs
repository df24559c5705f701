//! The team cost page, `GET /dashboard` on the admin listener: a month's spend and tokens by team, by
//! model and by day, a chart of daily spend, and each team's limits with how close it is to them.
//!
//! ```text
//!  admin.rs ─▶ page::respond ─┬─ access::authenticate   (admin key: every team; team key: its own)
//!                             ├─ gather::gather          (two Ledger::query calls → DashboardData)
//!                             └─ render::render          (pure: DashboardData → HTML)
//! ```
//!
//! Server-rendered HTML with inline CSS and an inline SVG chart: no JavaScript and nothing fetched
//! from anywhere (people run the gateway air-gapped), sent with a Content-Security-Policy that
//! forbids both. A browser without JavaScript cannot set headers, so the page also takes HTTP Basic
//! auth (the key as the password) and answers 401 with `WWW-Authenticate` so the browser asks.
//! Everything that comes from the ledger or from clients is escaped ([`format::escape`]).

mod access;
mod chart;
pub mod format;
mod gather;
mod month;
mod page;
mod render;

pub use access::Viewer;
pub use gather::assemble;
pub use month::Month;
pub use page::respond;
pub use render::render;

use crate::ledger::GroupRow;

/// A group's totals as the page shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub requests: i64,
    /// Uncached input tokens.
    pub input_tokens: i64,
    /// Tokens read from and written to a prompt cache.
    pub cache_tokens: i64,
    pub output_tokens: i64,
    /// `None` while no request counted here had a price.
    pub cost_nano_usd: Option<i64>,
    pub unpriced_requests: i64,
}

impl Totals {
    pub fn add_row(&mut self, row: &GroupRow) {
        self.add(&Totals {
            requests: row.requests,
            input_tokens: row.input_tokens,
            cache_tokens: row
                .cache_read_tokens
                .saturating_add(row.cache_write_5m_tokens)
                .saturating_add(row.cache_write_1h_tokens),
            output_tokens: row.output_tokens,
            cost_nano_usd: row.cost_nano_usd,
            unpriced_requests: row.unpriced_requests,
        });
    }

    pub fn add(&mut self, other: &Totals) {
        self.requests = self.requests.saturating_add(other.requests);
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.cache_tokens = self.cache_tokens.saturating_add(other.cache_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cost_nano_usd = match (self.cost_nano_usd, other.cost_nano_usd) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            (a, b) => a.or(b),
        };
        self.unpriced_requests = self
            .unpriced_requests
            .saturating_add(other.unpriced_requests);
    }

    /// Every token, as `tokens_per_minute` counts them: input (uncached and cached) plus output.
    pub fn tokens(&self) -> i64 {
        self.input_tokens
            .saturating_add(self.cache_tokens)
            .saturating_add(self.output_tokens)
    }

    /// The spend, zero while nothing was priced (for sorting and the chart).
    pub fn spend(&self) -> i64 {
        self.cost_nano_usd.unwrap_or(0)
    }
}

/// Everything the page shows, gathered before rendering so that rendering is a pure function.
#[derive(Debug, Clone)]
pub struct DashboardData {
    pub month: Month,
    /// The month shown is the current one (month to date; limits shown).
    pub current: bool,
    /// `2026-11-29 23:10 UTC`.
    pub generated: String,
    pub viewer: Viewer,
    pub usage: Usage,
}

/// What the ledger could tell.
#[derive(Debug, Clone)]
pub enum Usage {
    /// `usage.store: none`: nothing is recorded.
    Off,
    /// The store did not answer.
    Failed(String),
    Recorded(Report),
}

/// One month's usage, already limited to what the viewer may see.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub total: Totals,
    /// Spend and tokens per team, the most expensive first.
    pub teams: Vec<TeamRow>,
    /// Per model served upstream (empty: the request never reached a provider), the most expensive first.
    pub models: Vec<(String, Totals)>,
    /// One entry per day of the month so far (all of it for a past month), first day first.
    pub days: Vec<Day>,
}

#[derive(Debug, Clone, Default)]
pub struct TeamRow {
    pub name: String,
    pub month: Totals,
    /// Today's spend (current month only).
    pub today: Totals,
    /// The team's limits with how close it is to each; `None` for a past month (limits are about now).
    pub limits: Option<Vec<LimitRow>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    /// Day of the month, from 1.
    pub day: u8,
    pub totals: Totals,
}

/// One configured limit of a team, written as its kind wants (a count, or dollars for a budget).
#[derive(Debug, Clone, PartialEq)]
pub struct LimitRow {
    /// The config field (`requests_per_minute`).
    pub field: &'static str,
    /// The configured value, as shown (`600`).
    pub configured: String,
    pub closeness: Closeness,
}

/// How close a team is to one limit.
#[derive(Debug, Clone, PartialEq)]
pub enum Closeness {
    /// What the ledger counted against the limit (`4 requests in the last minute`), and its share of
    /// the limit (1.0: at it).
    Measured { used: String, share: f64 },
    /// The ledger cannot tell; the reason is shown.
    NotMeasured(&'static str),
}
