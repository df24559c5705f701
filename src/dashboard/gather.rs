//! What the cost page shows, from two ledger queries: the month by team, model and day, and the last
//! minute by team (for rate limits). [`assemble`] is the pure part — it keeps only what the viewer may
//! see, before anything is rendered — and is tested on its own.

use std::collections::BTreeMap;

use super::format::{thousands, usd};
use super::{
    Closeness, DashboardData, Day, LimitRow, Month, Report, TeamRow, Totals, Usage, Viewer,
};
use crate::config::Config;
use crate::ledger::{Dimension, GroupRow, Ledger, Query};
use crate::limits::{LimitKind, LimitSet};

const DAY_MS: i64 = 86_400_000;

/// What [`assemble`] works from.
pub struct Inputs<'a> {
    pub viewer: &'a Viewer,
    pub month: Month,
    /// Today's day of the month when `month` is the current one; `None` for a past month.
    pub today: Option<u8>,
    /// Rows grouped by team, model and day (raw day numbers) since the month began.
    pub month_rows: &'a [GroupRow],
    /// Rows grouped by team over the last minute.
    pub minute_rows: &'a [GroupRow],
    /// Each configured team with its limits, in config order.
    pub configured: &'a [(String, LimitSet)],
}

/// Gathers the page's data for `viewer`. A ledger that is off or failing is said so on the page.
pub async fn gather(
    ledger: &Ledger,
    config: &Config,
    viewer: Viewer,
    month: Month,
    now_ms: i64,
) -> DashboardData {
    let (this_month, day) = Month::containing(now_ms.div_euclid(DAY_MS));
    let current = month == this_month;
    let generated = crate::ledger::record::rfc3339_millis(now_ms);
    let generated = format!(
        "{} UTC",
        generated.get(..16).unwrap_or(&generated).replace('T', " ")
    );
    let usage = if ledger.has_store() {
        let configured: Vec<(String, LimitSet)> = config
            .teams
            .all()
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    t.limits.as_ref().map(|s| s.limits).unwrap_or_default(),
                )
            })
            .collect();
        match fetch(ledger, month, current, now_ms).await {
            Ok((month_rows, minute_rows)) => Usage::Recorded(assemble(&Inputs {
                viewer: &viewer,
                month,
                today: current.then_some(day),
                month_rows: &month_rows,
                minute_rows: &minute_rows,
                configured: &configured,
            })),
            Err(e) => Usage::Failed(e),
        }
    } else {
        Usage::Off
    };
    DashboardData {
        month,
        current,
        generated,
        viewer,
        usage,
    }
}

/// The two queries. The ledger's query has no upper bound, so a past month's later days are read and
/// dropped by [`assemble`]; the last minute is only asked for the current month.
async fn fetch(
    ledger: &Ledger,
    month: Month,
    current: bool,
    now_ms: i64,
) -> Result<(Vec<GroupRow>, Vec<GroupRow>), String> {
    let month_query = Query {
        since_ms: Some(month.first_day().saturating_mul(DAY_MS)),
        by: vec![Dimension::Team, Dimension::Model, Dimension::Day],
    };
    let month_rows = ledger.query(month_query).await?;
    let minute_rows = if current {
        ledger
            .query(Query {
                since_ms: Some(now_ms - 60_000),
                by: vec![Dimension::Team],
            })
            .await?
    } else {
        Vec::new()
    };
    Ok((month_rows, minute_rows))
}

/// The report for `inputs.viewer`: rows of other teams are dropped first, so nothing of them —
/// names, models, numbers — can reach the page.
pub fn assemble(inputs: &Inputs<'_>) -> Report {
    let first_day = inputs.month.first_day();
    let shown_days = inputs.today.unwrap_or_else(|| inputs.month.days());
    let mut report = Report {
        days: (1..=shown_days)
            .map(|day| Day {
                day,
                totals: Totals::default(),
            })
            .collect(),
        ..Report::default()
    };
    let mut teams: BTreeMap<&str, TeamRow> = BTreeMap::new();
    for (name, _) in inputs
        .configured
        .iter()
        .filter(|(name, _)| inputs.viewer.sees(name))
    {
        teams.entry(name).or_insert_with(|| TeamRow {
            name: name.clone(),
            ..TeamRow::default()
        });
    }
    if let super::Viewer::Team(own) = inputs.viewer {
        teams.entry(own).or_insert_with(|| TeamRow {
            name: own.clone(),
            ..TeamRow::default()
        });
    }
    let mut models: BTreeMap<&str, Totals> = BTreeMap::new();
    for row in inputs.month_rows {
        let [team, model, day] = [0, 1, 2].map(|i| row.keys.get(i).map_or("", String::as_str));
        let Some(day_of_month) = day
            .parse::<i64>()
            .ok()
            .map(|d| d - first_day + 1)
            .filter(|d| (1..=i64::from(shown_days)).contains(d))
        else {
            continue;
        };
        if !inputs.viewer.sees(team) {
            continue;
        }
        let entry = teams.entry(team).or_insert_with(|| TeamRow {
            name: team.to_string(),
            ..TeamRow::default()
        });
        entry.month.add_row(row);
        if inputs
            .today
            .is_some_and(|today| i64::from(today) == day_of_month)
        {
            entry.today.add_row(row);
        }
        models.entry(model).or_default().add_row(row);
        report.total.add_row(row);
        if let Some(d) = usize::try_from(day_of_month - 1)
            .ok()
            .and_then(|i| report.days.get_mut(i))
        {
            d.totals.add_row(row);
        }
    }
    if inputs.today.is_some() {
        for (name, set) in inputs.configured {
            if let Some(team) = teams.get_mut(name.as_str()) {
                let mut last_minute = Totals::default();
                for row in inputs
                    .minute_rows
                    .iter()
                    .filter(|r| r.keys.first() == Some(name))
                {
                    last_minute.add_row(row);
                }
                let spent = Spent { today: team.today.spend(), month: team.month.spend() };
                team.limits = Some(limit_rows(set, &last_minute, spent));
            }
        }
    }
    report.teams = teams.into_values().collect();
    report.teams.sort_by(|a, b| {
        b.month
            .spend()
            .cmp(&a.month.spend())
            .then(b.month.tokens().cmp(&a.month.tokens()))
            .then(a.name.cmp(&b.name))
    });
    report.models = models
        .into_iter()
        .map(|(m, t)| (m.to_string(), t))
        .collect();
    report.models.sort_by(|a, b| {
        b.1.spend()
            .cmp(&a.1.spend())
            .then(b.1.tokens().cmp(&a.1.tokens()))
            .then(a.0.cmp(&b.0))
    });
    report
}

/// A team's configured limits and how close it is to each. One `match` over every [`LimitKind`], so
/// a new kind of limit cannot be left off the page: it does not compile until it says how it is
/// measured (a spend budget: `TeamRow::today` / `TeamRow::month` spend against the budget).
fn limit_rows(set: &LimitSet, last_minute: &Totals, spent: Spent) -> Vec<LimitRow> {
    LimitKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let limit = set.get(kind)?;
            let count = thousands(i64::try_from(limit).unwrap_or(i64::MAX));
            let (configured, closeness) = match kind {
                LimitKind::RequestsPerMinute => (count, last_minute_share(last_minute.requests, "requests", limit)),
                LimitKind::TokensPerMinute => (count, last_minute_share(last_minute.tokens(), "tokens", limit)),
                LimitKind::MaxConcurrent => (
                    count,
                    Closeness::NotMeasured("requests under way are counted live by the limiter; the ledger sees a request when it ends"),
                ),
                LimitKind::BudgetPerDay => (usd(nano(limit)), budget_share(spent.today, "today", limit)),
                LimitKind::BudgetPerMonth => (usd(nano(limit)), budget_share(spent.month, "this month", limit)),
            };
            Some(LimitRow { field: kind.field(), configured, closeness })
        })
        .collect()
}

/// What a team has spent (nano-USD) in the periods its budgets cover.
#[derive(Debug, Clone, Copy)]
struct Spent {
    today: i64,
    month: i64,
}

fn nano(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `spent` (nano-USD) of a `budget` (nano-USD) in the period the budget covers.
fn budget_share(spent: i64, period: &str, budget: u64) -> Closeness {
    Closeness::Measured {
        used: format!("{} spent {period}", usd(spent)),
        share: spent.max(0) as f64 / budget.max(1) as f64,
    }
}

/// `used` of a per-minute `limit`, as the ledger counted the last minute.
fn last_minute_share(used: i64, unit: &str, limit: u64) -> Closeness {
    Closeness::Measured {
        used: format!("{} {unit} in the last minute", thousands(used)),
        share: used.max(0) as f64 / limit.max(1) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(keys: &[&str], requests: i64, cost: Option<i64>) -> GroupRow {
        GroupRow {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            requests,
            input_tokens: 100 * requests,
            cache_read_tokens: 10,
            output_tokens: 5,
            cost_nano_usd: cost,
            ..GroupRow::default()
        }
    }

    /// November 2026: day 20758 is the 1st; today is the 29th.
    fn rows() -> Vec<GroupRow> {
        vec![
            row(&["platform", "claude-sonnet-4-5", "20758"], 2, Some(3_000)),
            row(&["platform", "claude-sonnet-4-5", "20786"], 1, Some(1_000)),
            row(&["research", "secret-model", "20786"], 4, Some(9_000)),
            row(&["research", "gpt-4o-mini", "20760"], 1, None),
            row(&["platform", "later", "20789"], 7, Some(1)),
        ]
    }

    fn limits() -> Vec<(String, LimitSet)> {
        vec![
            (
                "platform".into(),
                LimitSet {
                    requests_per_minute: Some(60),
                    tokens_per_minute: Some(1000),
                    max_concurrent: Some(4),
                    budget_usd_per_day: Some(2_000),
                    ..LimitSet::default()
                },
            ),
            ("research".into(), LimitSet::default()),
            ("idle".into(), LimitSet::default()),
        ]
    }

    fn inputs<'a>(
        viewer: &'a Viewer,
        month_rows: &'a [GroupRow],
        minute: &'a [GroupRow],
        configured: &'a [(String, LimitSet)],
        today: Option<u8>,
    ) -> Inputs<'a> {
        Inputs {
            viewer,
            month: Month::containing(20_786).0,
            today,
            month_rows,
            minute_rows: minute,
            configured,
        }
    }

    #[test]
    fn an_admin_sees_every_team_model_and_day() {
        let (rows, limits) = (rows(), limits());
        let minute = [row(&["platform"], 3, Some(1))];
        let r = assemble(&inputs(&Viewer::Admin, &rows, &minute, &limits, Some(29)));
        let names: Vec<&str> = r.teams.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["research", "platform", "idle"],
            "by spend, then tokens"
        );
        assert_eq!(r.total.requests, 8, "the row after today is left out");
        assert_eq!(r.total.cost_nano_usd, Some(13_000));
        assert_eq!(r.days.len(), 29);
        assert_eq!((r.days[0].day, r.days[0].totals.requests), (1, 2));
        assert_eq!(r.days[28].totals.spend(), 10_000);
        let platform = &r.teams[1];
        assert_eq!(
            (platform.month.requests, platform.today.spend()),
            (3, 1_000)
        );
        let rates = platform.limits.as_ref().unwrap();
        assert_eq!(
            rates[0],
            LimitRow {
                field: "requests_per_minute",
                configured: "60".into(),
                closeness: Closeness::Measured {
                    used: "3 requests in the last minute".into(),
                    share: 0.05
                }
            }
        );
        assert_eq!(
            rates[1].closeness,
            Closeness::Measured {
                used: "315 tokens in the last minute".into(),
                share: 0.315
            }
        );
        assert!(matches!(rates[2].closeness, Closeness::NotMeasured(_)));
        assert_eq!(
            r.teams[2].limits.as_deref(),
            Some(&[][..]),
            "a configured team without limits says so"
        );
        let models: Vec<&str> = r.models.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(models, ["secret-model", "claude-sonnet-4-5", "gpt-4o-mini"]);
        assert_eq!(r.models[2].1.cost_nano_usd, None, "unpriced stays unpriced");
    }

    #[test]
    fn a_team_sees_nothing_of_another_team() {
        let (rows, limits) = (rows(), limits());
        let viewer = Viewer::Team("platform".into());
        let r = assemble(&inputs(&viewer, &rows, &[], &limits, Some(29)));
        let text = format!("{r:?}");
        assert!(
            !text.contains("research") && !text.contains("secret-model") && !text.contains("idle"),
            "{text}"
        );
        assert_eq!(r.total.requests, 3);
        assert_eq!(r.teams.len(), 1);
        let unknown = Viewer::Team("new-team".into());
        let r = assemble(&inputs(&unknown, &rows, &[], &limits, Some(29)));
        assert_eq!(
            (r.teams.len(), r.total.requests, r.models.len()),
            (1, 0, 0),
            "a team with no traffic sees itself, empty"
        );
    }

    #[test]
    fn a_past_month_shows_every_day_and_no_limits() {
        let (rows, limits) = (rows(), limits());
        let october = Month::containing(20_750).0;
        let r = assemble(&Inputs {
            month: october,
            ..inputs(&Viewer::Admin, &rows, &[], &limits, None)
        });
        assert_eq!(r.days.len(), 31);
        assert_eq!(r.total.requests, 0, "November's rows are not October's");
        assert!(r.teams.iter().all(|t| t.limits.is_none()));
    }
}
