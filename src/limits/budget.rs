//! Spend budgets per UTC day and per UTC month: the periods they count in, the amounts (integer
//! nano-USD, like the ledger's cost), and what a client is told. Pure: the counters live in the
//! stores (`spend.rs` in this process, `shared.rs` in Redis).
//!
//! A budget is checked at admission against what its team or key has spent in the current period,
//! and a request's cost is added when it ends (from the cost its usage record carries): a stream is
//! never cut by its own spend, so a budget can be overrun by the requests under way when it is
//! reached — by design, the next request is the one refused.

use std::sync::Arc;

use super::policy::{LimitKind, Scope};
use crate::ledger::record::{civil_from_days, days_from_civil, rfc3339_millis};

const DAY_MS: i64 = 86_400_000;
/// Nano-USD in one USD.
pub const NANO_PER_USD: u64 = 1_000_000_000;
/// The largest budget accepted: well inside the 2^53 nano-USD that Redis' Lua numbers hold exactly.
pub const MAX_BUDGET_USD: f64 = 1_000_000.0;
/// `budget_warn_at` when a limits block sets none: 80 % of a budget.
pub const DEFAULT_WARN_PPM: u32 = 800_000;

/// The period a budget counts in: a UTC calendar day or a UTC calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Month,
}

/// One period: its number (days or months since 1970-01, for counter keys) and its bounds in Unix ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub id: i64,
    pub start_ms: i64,
    /// When the next period starts: when the budget renews.
    pub end_ms: i64,
}

impl Period {
    pub fn of(kind: LimitKind) -> Option<Period> {
        match kind {
            LimitKind::BudgetPerDay => Some(Period::Day),
            LimitKind::BudgetPerMonth => Some(Period::Month),
            _ => None,
        }
    }

    /// `daily` / `monthly`, for messages.
    pub fn adjective(self) -> &'static str {
        match self {
            Period::Day => "daily",
            Period::Month => "monthly",
        }
    }

    /// The period `now_ms` falls in.
    pub fn span(self, now_ms: i64) -> Span {
        let day = now_ms.div_euclid(DAY_MS);
        match self {
            Period::Day => Span {
                id: day,
                start_ms: day * DAY_MS,
                end_ms: (day + 1) * DAY_MS,
            },
            Period::Month => {
                let (year, month, _) = civil_from_days(day);
                let (next_year, next_month) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                Span {
                    id: (year - 1970) * 12 + (month - 1),
                    start_ms: days_from_civil(year, month, 1) * DAY_MS,
                    end_ms: days_from_civil(next_year, next_month, 1) * DAY_MS,
                }
            }
        }
    }
}

/// A budget as written in USD (a YAML number, or the text of one), in nano-USD: more than 0, finite,
/// at most [`MAX_BUDGET_USD`].
pub fn usd_to_nano(usd: f64) -> Result<u64, String> {
    let expected = format!(
        "expected an amount of USD greater than 0 and at most {MAX_BUDGET_USD}, such as 50 or 0.25"
    );
    if !usd.is_finite() || usd <= 0.0 || usd > MAX_BUDGET_USD {
        return Err(format!("{usd} is not valid: {expected}"));
    }
    let nano = (usd * NANO_PER_USD as f64).round();
    if nano < 1.0 {
        return Err(format!("{usd} is less than 0.000000001 USD: {expected}"));
    }
    Ok(nano as u64)
}

/// A nano-USD amount as USD with six decimals, `1.234567` (rounded down: never more than is left).
pub fn usd_6(nano: u64) -> String {
    let micro = nano / 1000;
    format!("{}.{:06}", micro / 1_000_000, micro % 1_000_000)
}

/// A budget's value as configured: the shortest decimal that reads back to it (`10`, `0.0001`).
pub fn usd_short(nano: u64) -> String {
    let mut text = format!("{}.{:09}", nano / NANO_PER_USD, nano % NANO_PER_USD);
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    text
}

/// One budget a request is checked against, in the period of the moment it is checked.
#[derive(Debug, Clone)]
pub struct BudgetCheck<'a> {
    pub scope: &'a Arc<Scope>,
    pub kind: LimitKind,
    pub period: Period,
    pub span: Span,
    /// The budget, nano-USD.
    pub limit: u64,
}

impl BudgetCheck<'_> {
    /// Whether `spent` leaves room for another request (the budget is reached at `spent ≥ limit`).
    pub fn admits(&self, spent: u64) -> bool {
        spent < self.limit
    }
}

/// An exhausted budget, for the refusal's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    pub period: Period,
    /// What the team or key has spent this period, nano-USD.
    pub spent: u64,
    /// When the budget renews (the next period starts), Unix ms.
    pub renews_at_ms: i64,
}

/// The message of a refusal by an exhausted budget: who, which budget and its value, what was
/// spent, and when it renews.
pub fn exhausted_message(
    who: &str,
    kind: LimitKind,
    limit: u64,
    exhausted: &Exhausted,
    wait_s: u64,
) -> String {
    let renews = rfc3339_millis(exhausted.renews_at_ms);
    let renews = renews
        .strip_suffix(".000Z")
        .map_or(renews.clone(), |t| format!("{t}Z"));
    format!(
        "{who} has reached its {} budget ({} {} USD): {} USD spent this {}; it renews at {renews} (in {wait_s} s)",
        exhausted.period.adjective(),
        kind.field(),
        usd_short(limit),
        usd_6(exhausted.spent),
        match exhausted.period {
            Period::Day => "day (UTC)",
            Period::Month => "month (UTC)",
        },
    )
}

/// The budgets of one admitted request that are past their warning threshold: the tightest one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The team (metric label), the scope kind and the budget that is tightest.
    pub team: Arc<str>,
    pub scope: &'static str,
    pub kind: LimitKind,
    /// What is left of it, nano-USD.
    pub remaining: u64,
}

impl Warning {
    /// `x-switchyard-budget-remaining`'s value.
    pub fn header_value(&self) -> String {
        usd_6(self.remaining)
    }
}

/// Collects the budgets of an admitted request and keeps the tightest, if any is past its threshold.
#[derive(Debug, Default)]
pub struct WarningBuilder {
    any_past_threshold: bool,
    tightest: Option<Warning>,
}

impl WarningBuilder {
    pub fn add(&mut self, check: &BudgetCheck<'_>, spent: u64) {
        let remaining = check.limit.saturating_sub(spent);
        let threshold =
            u128::from(check.limit) * u128::from(check.scope.limits.budget_warn_ppm) / 1_000_000;
        if u128::from(spent) >= threshold {
            self.any_past_threshold = true;
        }
        if self
            .tightest
            .as_ref()
            .is_none_or(|w| remaining < w.remaining)
        {
            self.tightest = Some(Warning {
                team: check.scope.team.clone(),
                scope: check.scope.kind.label(),
                kind: check.kind,
                remaining,
            });
        }
    }

    pub fn finish(self) -> Option<Warning> {
        self.tightest.filter(|_| self.any_past_threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(year: i64, month: i64, day: i64, hour: i64) -> i64 {
        days_from_civil(year, month, day) * DAY_MS + hour * 3_600_000
    }

    #[test]
    fn days_are_utc_days() {
        let span = Period::Day.span(ms(2026, 11, 29, 23) + 59 * 60_000);
        assert_eq!(span.start_ms, ms(2026, 11, 29, 0));
        assert_eq!(span.end_ms, ms(2026, 11, 30, 0));
        assert_eq!(rfc3339_millis(span.end_ms), "2026-11-30T00:00:00.000Z");
        assert_eq!(
            Period::Day.span(span.end_ms).start_ms,
            span.end_ms,
            "midnight belongs to the new day"
        );
    }

    #[test]
    fn months_end_on_their_last_day_including_february_and_december() {
        let cases = [
            ((2026, 1, 31), "2026-01-01", "2026-02-01"),
            ((2024, 2, 29), "2024-02-01", "2024-03-01"),
            ((2026, 2, 28), "2026-02-01", "2026-03-01"),
            ((2026, 4, 30), "2026-04-01", "2026-05-01"),
            ((2026, 12, 31), "2026-12-01", "2027-01-01"),
            ((2027, 1, 1), "2027-01-01", "2027-02-01"),
        ];
        for ((y, m, d), start, end) in cases {
            let span = Period::Month.span(ms(y, m, d, 23));
            assert_eq!(
                rfc3339_millis(span.start_ms),
                format!("{start}T00:00:00.000Z"),
                "{y}-{m}-{d}"
            );
            assert_eq!(
                rfc3339_millis(span.end_ms),
                format!("{end}T00:00:00.000Z"),
                "{y}-{m}-{d}"
            );
        }
        let december = Period::Month.span(ms(2026, 12, 15, 0));
        let january = Period::Month.span(ms(2027, 1, 15, 0));
        assert_eq!(
            january.id,
            december.id + 1,
            "Dec → Jan is the next month's counter"
        );
        assert_eq!(Period::Month.span(december.end_ms), january);
        assert_eq!(Period::Month.span(0).id, 0);
    }

    #[test]
    fn amounts_are_whole_nano_usd() {
        assert_eq!(usd_to_nano(0.0001), Ok(100_000));
        assert_eq!(usd_to_nano(50.0), Ok(50 * NANO_PER_USD));
        assert_eq!(usd_to_nano(0.1 + 0.2), Ok(300_000_000));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e6, 1e-12] {
            let e = usd_to_nano(bad).unwrap_err();
            assert!(
                e.contains("expected an amount of USD greater than 0"),
                "{e}"
            );
        }
        assert_eq!(usd_6(1_234_567_890), "1.234567");
        assert_eq!(usd_6(999), "0.000000");
        assert_eq!(usd_short(10 * NANO_PER_USD), "10");
        assert_eq!(usd_short(100_000), "0.0001");
        assert_eq!(usd_short(2_500_000_000), "2.5");
    }

    #[test]
    fn the_message_names_the_budget_what_was_spent_and_when_it_renews() {
        let exhausted = Exhausted {
            period: Period::Month,
            spent: 10_250_000_000,
            renews_at_ms: ms(2027, 1, 1, 0),
        };
        assert_eq!(
            exhausted_message("team `platform`", LimitKind::BudgetPerMonth, 10 * NANO_PER_USD, &exhausted, 3600),
            "team `platform` has reached its monthly budget (budget_usd_per_month 10 USD): 10.250000 USD spent this month (UTC); it renews at 2027-01-01T00:00:00Z (in 3600 s)"
        );
    }
}
