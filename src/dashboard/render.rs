//! [`render`]: the cost page's HTML from [`DashboardData`], a pure function. Inline CSS, inline SVG,
//! no script and no URL outside the page itself (links go to `/dashboard?month=…` and never carry a
//! key). Every name from the config, the ledger or a client is written through [`escape`]. Numbers are
//! in cells marked `data-field`, with the exact spend in the cell's `title`, so a reader (or a test)
//! can check them against `GET /admin/usage`.

use std::fmt::Write as _;

use super::chart;
use super::format::{escape, thousands, usd, usd_exact};
use super::{Closeness, DashboardData, LimitRow, Report, TeamRow, Totals, Usage, Viewer};

const STYLE: &str = "
:root { color-scheme: light; --ink: #1d2430; --muted: #5d6776; --line: #dde2ea; --bar: #3566c8; --soft: #f4f6fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; color: var(--ink); background: #fff; }
header, main, footer { max-width: 1120px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 18px; display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: 8px 24px; }
h1 { font-size: 22px; margin: 0; }
h1 span { color: var(--muted); font-weight: 400; }
h2 { font-size: 16px; margin: 26px 0 8px; }
nav a { color: var(--bar); margin-left: 14px; text-decoration: none; }
nav a:hover { text-decoration: underline; }
.who { color: var(--muted); margin: 4px 0 0; width: 100%; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; margin-top: 16px; }
.card { background: var(--soft); border-radius: 8px; padding: 10px 14px; }
.card b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
.card span { color: var(--muted); }
.chart { width: 100%; height: auto; display: block; }
.chart .grid { stroke: var(--line); }
.chart .axis { fill: var(--muted); font-size: 10px; }
.chart .bar { fill: var(--bar); }
.chart .slot { fill: transparent; }
.chart .day:hover .slot { fill: var(--soft); }
.chart .day:hover .bar { fill: #1f4aa0; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th[scope=row] { font-weight: 500; max-width: 420px; overflow: hidden; text-overflow: ellipsis; }
thead th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.n, thead th.n { text-align: right; font-variant-numeric: tabular-nums; }
tfoot th, tfoot td { font-weight: 600; border-bottom: none; }
meter { width: 110px; vertical-align: middle; }
code { font-size: 12px; background: var(--soft); padding: 1px 4px; border-radius: 3px; }
.muted, footer { color: var(--muted); }
.notice { background: #fff6e0; border: 1px solid #f0d58a; border-radius: 8px; padding: 4px 16px; margin-top: 18px; }
details summary { cursor: pointer; margin: 26px 0 8px; font-weight: 600; }
footer { font-size: 12px; padding-top: 20px; padding-bottom: 24px; }
";

/// The whole page.
pub fn render(data: &DashboardData) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let title = data.month.title();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Team cost · {t} · switchyard</title><link rel=\"icon\" href=\"data:,\"><style>{STYLE}</style></head><body>\n<header><h1>Team cost <span>{t}{to_date}</span></h1>",
        t = escape(&title),
        to_date = if data.current { " · month to date (UTC)" } else { " (UTC)" },
    );
    nav(&mut out, data);
    let who = match &data.viewer {
        Viewer::Admin => "Every team (admin key).".to_string(),
        Viewer::Team(team) => format!(
            "Team <b>{}</b> (a team key shows its own team only).",
            escape(team)
        ),
    };
    let _ = write!(
        out,
        "<p class=\"who\">{who} Generated {}.</p></header>\n<main>",
        escape(&data.generated)
    );
    match &data.usage {
        Usage::Off => out.push_str(
            "<section class=\"notice\"><h2>The usage ledger is off</h2><p>This gateway runs with <code>usage: { store: none }</code>, so it records no \
             request's tokens or cost, and this page has nothing to show. To turn the ledger on, remove <code>store: none</code> (the default \
             store is a SQLite file, <code>${SWITCHYARD_DATA_DIR:-./switchyard-data}/usage.db</code>) or set \
             <code>usage: { store: \"postgres://…\" }</code> for several replicas, and restart the gateway.</p></section>",
        ),
        Usage::Failed(reason) => {
            let _ = write!(
                out,
                "<section class=\"notice\"><h2>The usage store did not answer</h2><p>{}</p><p>Reload this page to try again.</p></section>",
                escape(reason)
            );
        }
        Usage::Recorded(report) => body(&mut out, data, report),
    }
    out.push_str(
        "</main>\n<footer>From the usage ledger: a request counts when it ends, and is written within <code>usage.flush_interval_ms</code>. \
         Days are UTC. Spend is rounded here; hover a figure for the exact amount.</footer>\n</body></html>\n",
    );
    out
}

fn nav(out: &mut String, data: &DashboardData) {
    out.push_str("<nav>");
    if let Some(previous) = data.month.previous() {
        let _ = write!(
            out,
            "<a href=\"/dashboard?month={previous}\">← {}</a>",
            escape(&previous.title())
        );
    }
    if !data.current {
        let next = data.month.next();
        let _ = write!(
            out,
            "<a href=\"/dashboard?month={next}\">{} →</a><a href=\"/dashboard\">This month</a>",
            escape(&next.title())
        );
    }
    out.push_str("</nav>");
}

fn body(out: &mut String, data: &DashboardData, report: &Report) {
    let t = &report.total;
    let _ = write!(
        out,
        "<section class=\"cards\" data-total=\"cards\"><div class=\"card\"><b>{}</b><span>spend{}</span></div><div class=\"card\"><b>{}</b><span>tokens</span></div>\
         <div class=\"card\"><b>{}</b><span>requests</span></div><div class=\"card\"><b>{}</b><span>{}</span></div></section>",
        usd(t.spend()),
        if data.current { ", month to date" } else { "" },
        thousands(t.tokens()),
        thousands(t.requests),
        report.teams.len(),
        if report.teams.len() == 1 { "team" } else { "teams" },
    );
    out.push_str("<h2>Daily spend</h2>");
    out.push_str(&chart::daily_spend(data.month, &report.days));
    out.push_str("<section><h2>By team</h2>");
    let teams = report
        .teams
        .iter()
        .map(|row| (row.name.clone(), &row.month, Some(&row.today)));
    table(out, "team", "Team", data.current, teams, t);
    out.push_str("</section><section><h2>By model</h2>");
    let models = report
        .models
        .iter()
        .map(|(name, totals)| (name.clone(), totals, None));
    table(out, "model", "Model", false, models, t);
    out.push_str("</section>");
    if t.unpriced_requests > 0 {
        let _ = write!(
            out,
            "<p class=\"muted\">{} request(s) used a model without a price and count no spend (<code>switchyard check</code> lists unpriced models).</p>",
            thousands(t.unpriced_requests)
        );
    }
    limits(out, &report.teams);
    out.push_str("<details><summary>Day by day</summary>");
    let days = report
        .days
        .iter()
        .map(|d| (data.month.day_label(d.day), &d.totals, None));
    table(out, "day", "Day", false, days, t);
    out.push_str("</details>");
}

/// Rows of `(name, totals, today)`, with a month total at the foot.
fn table<'a>(
    out: &mut String,
    kind: &str,
    heading: &str,
    with_today: bool,
    rows: impl Iterator<Item = (String, &'a Totals, Option<&'a Totals>)>,
    total: &Totals,
) {
    let _ = write!(
        out,
        "<table data-table=\"{kind}\"><thead><tr><th>{heading}</th><th class=\"n\">Requests</th><th class=\"n\">Input</th><th class=\"n\">Cache</th><th class=\"n\">Output</th>\
         <th class=\"n\">Tokens</th><th class=\"n\">Spend</th>{}</tr></thead><tbody>",
        if with_today { "<th class=\"n\">Today</th>" } else { "" }
    );
    for (name, totals, today) in rows {
        let shown = if name.is_empty() {
            "<span class=\"muted\">(none)</span>".to_string()
        } else {
            escape(&name)
        };
        let _ = write!(
            out,
            "<tr data-{kind}=\"{}\"><th scope=\"row\" title=\"{0}\">{shown}</th>",
            escape(&name)
        );
        cells(out, totals);
        if with_today {
            spend_cell(
                out,
                "today_cost_usd",
                today.copied().unwrap_or_default().cost_nano_usd,
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody><tfoot><tr data-total=\"month\"><th>Total</th>");
    cells(out, total);
    if with_today {
        out.push_str("<td></td>");
    }
    out.push_str("</tr></tfoot></table>");
}

fn cells(out: &mut String, t: &Totals) {
    for (field, value) in [
        ("requests", t.requests),
        ("input_tokens", t.input_tokens),
        ("cache_tokens", t.cache_tokens),
        ("output_tokens", t.output_tokens),
        ("tokens", t.tokens()),
    ] {
        let _ = write!(
            out,
            "<td class=\"n\" data-field=\"{field}\">{}</td>",
            thousands(value)
        );
    }
    spend_cell(out, "cost_usd", t.cost_nano_usd);
}

fn spend_cell(out: &mut String, field: &str, nano: Option<i64>) {
    match nano {
        Some(nano) => {
            let _ = write!(
                out,
                "<td class=\"n\" data-field=\"{field}\" title=\"{} USD\">{}</td>",
                usd_exact(nano),
                escape(&usd(nano))
            );
        }
        None => {
            let _ = write!(
                out,
                "<td class=\"n muted\" data-field=\"{field}\" title=\"no price known\">–</td>"
            );
        }
    }
}

fn limits(out: &mut String, teams: &[TeamRow]) {
    let shown: Vec<(&TeamRow, &Vec<LimitRow>)> = teams
        .iter()
        .filter_map(|t| t.limits.as_ref().map(|l| (t, l)))
        .collect();
    if shown.is_empty() {
        return;
    }
    out.push_str(
        "<section><h2>Limits</h2><table data-table=\"limits\"><thead><tr><th>Team</th><th>Limit</th><th class=\"n\">Configured</th><th>Now</th><th>Closeness</th></tr></thead><tbody>",
    );
    for (team, rows) in shown {
        let name = escape(&team.name);
        if rows.is_empty() {
            let _ = write!(out, "<tr data-limits=\"{name}\"><th scope=\"row\">{name}</th><td colspan=\"4\" class=\"muted\">no limits configured</td></tr>");
        }
        for row in rows {
            let _ = write!(
                out,
                "<tr data-limits=\"{name}\" data-limit=\"{field}\"><th scope=\"row\">{name}</th><td><code>{field}</code></td><td class=\"n\">{configured}</td>",
                field = row.field,
                configured = escape(&row.configured),
            );
            match &row.closeness {
                Closeness::Measured { used, share } => {
                    let _ = write!(
                        out,
                        "<td data-field=\"used\">{}</td><td><meter min=\"0\" max=\"1\" low=\"0.8\" high=\"0.95\" optimum=\"0\" value=\"{value:.4}\"></meter> {pct:.0} %</td>",
                        escape(used),
                        value = share.clamp(0.0, 1.0),
                        pct = share * 100.0,
                    );
                }
                Closeness::NotMeasured(why) => {
                    let _ = write!(
                        out,
                        "<td colspan=\"2\" class=\"muted\">{}</td>",
                        escape(why)
                    );
                }
            }
            out.push_str("</tr>");
        }
    }
    out.push_str("</tbody></table></section>");
}

#[cfg(test)]
mod tests {
    use super::super::{Day, Month};
    use super::*;

    const HOSTILE: &str = r#"gpt"><script>alert('x')</script><img src=x onerror=alert(1)>&amp;"#;

    fn totals(requests: i64, cost: Option<i64>) -> Totals {
        Totals {
            requests,
            input_tokens: 1_234_567,
            cache_tokens: 10,
            output_tokens: 5,
            cost_nano_usd: cost,
            unpriced_requests: 0,
        }
    }

    fn data(usage: Usage) -> DashboardData {
        DashboardData {
            month: Month::containing(20_786).0,
            current: true,
            generated: "2026-11-29 23:10 UTC".into(),
            viewer: Viewer::Admin,
            usage,
        }
    }

    fn report(model: &str) -> Report {
        Report {
            total: totals(3, Some(1_234_567_890)),
            teams: vec![TeamRow {
                name: "platform<b>".into(),
                month: totals(3, Some(1_234_567_890)),
                today: totals(1, Some(1_000)),
                limits: Some(vec![LimitRow {
                    field: "requests_per_minute",
                    configured: "60".into(),
                    closeness: Closeness::Measured {
                        used: "48 requests in the last minute".into(),
                        share: 0.8,
                    },
                }]),
            }],
            models: vec![
                (model.into(), totals(2, Some(1_234_567_890))),
                (String::new(), totals(1, None)),
            ],
            days: (1..=29)
                .map(|day| Day {
                    day,
                    totals: Totals::default(),
                })
                .collect(),
        }
    }

    #[test]
    fn names_from_clients_are_escaped_everywhere() {
        let html = render(&data(Usage::Recorded(report(HOSTILE))));
        assert!(
            !html.contains("<script") && !html.contains("<img") && !html.contains("platform<b>"),
            "{html}"
        );
        assert!(html.contains("gpt&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;"));
        assert!(html.contains("data-team=\"platform&lt;b&gt;\""));
    }

    #[test]
    fn the_page_is_self_contained_and_shows_the_figures() {
        let html = render(&data(Usage::Recorded(report("claude-sonnet-4-5"))));
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
        for outside in ["http://", "https://", "<script", "src=", "@import", "url("] {
            let uses = html.matches(outside).count()
                - usize::from(outside == "http://")
                    * html.matches("http://www.w3.org/2000/svg").count();
            assert_eq!(uses, 0, "{outside} in the page");
        }
        assert!(html.contains("<td class=\"n\" data-field=\"input_tokens\">1,234,567</td>"));
        assert!(html.contains("data-field=\"cost_usd\" title=\"1.234567890 USD\">$1.23</td>"));
        assert!(html
            .contains("data-field=\"today_cost_usd\" title=\"0.000001000 USD\">&lt; $0.0001</td>"));
        assert!(
            html.contains("title=\"no price known\">–</td>"),
            "an unpriced model shows no spend"
        );
        assert!(html.contains("<code>requests_per_minute</code></td><td class=\"n\">60</td><td data-field=\"used\">48 requests in the last minute</td>"));
        assert!(html.contains("80 %"));
        assert_eq!(html.matches("class=\"bar\"").count(), 29);
        assert!(
            html.contains("href=\"/dashboard?month=2026-10\"") && !html.contains("month=2026-12")
        );
    }

    #[test]
    fn a_team_view_names_its_team_and_a_past_month_links_back() {
        let mut d = data(Usage::Recorded(Report::default()));
        d.viewer = Viewer::Team("<research>".into());
        d.current = false;
        let html = render(&d);
        assert!(html.contains("Team <b>&lt;research&gt;</b>") && !html.contains("Every team"));
        assert!(
            html.contains("href=\"/dashboard?month=2026-12\"")
                && html.contains("href=\"/dashboard\">This month")
        );
        assert!(!html.contains("<h2>Limits</h2>"));
    }

    #[test]
    fn an_off_or_failing_ledger_says_so() {
        let off = render(&data(Usage::Off));
        assert!(
            off.contains("The usage ledger is off")
                && off.contains("store: none")
                && off.ends_with("</html>\n")
        );
        let failed = render(&data(Usage::Failed("store <down>".into())));
        assert!(failed.contains("store &lt;down&gt;"));
    }
}
