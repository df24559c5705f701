//! The daily-spend bar chart as inline SVG: one bar per day, a dollar axis with round steps, day
//! numbers underneath, and each day's figures in a `<title>` (the browser shows it on hover, without
//! JavaScript).

use std::fmt::Write as _;

use super::format::{escape, thousands, usd};
use super::{Day, Month};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 26.0;
/// The smallest top of the axis: one cent, so a quiet month still has readable steps.
const MIN_TOP_NANO: i64 = 10_000_000;

/// The top of the axis for a largest bar of `max` nano-USD: 1, 2, 4 or 8 times a power of ten, so that
/// its quarters (the grid lines) are round too.
pub fn axis_top(max: i64) -> i64 {
    let max = max.max(MIN_TOP_NANO);
    let mut magnitude: i64 = 1;
    while magnitude <= max / 10 {
        magnitude *= 10;
    }
    [1, 2, 4, 8, 10]
        .into_iter()
        .filter_map(|f| magnitude.checked_mul(f))
        .find(|&top| top >= max)
        .unwrap_or(max)
}

/// The chart of `days` of `month`.
pub fn daily_spend(month: Month, days: &[Day]) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let top = axis_top(days.iter().map(|d| d.totals.spend()).max().unwrap_or(0));
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="Daily spend, {title}" xmlns="http://www.w3.org/2000/svg">"#,
        title = escape(&month.title())
    );
    for quarter in 0..=4 {
        let y = TOP + plot_h - plot_h * f64::from(quarter) / 4.0;
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{x2}" y2="{y:.1}"/><text class="axis" x="{lx}" y="{ty:.1}" text-anchor="end">{label}</text>"#,
            x2 = WIDTH - RIGHT,
            lx = LEFT - 6.0,
            ty = y + 4.0,
            label = escape(&usd(top / 4 * i64::from(quarter)))
        );
    }
    if days.is_empty() {
        svg.push_str(
            r#"<text class="axis" x="380" y="120" text-anchor="middle">no days yet</text>"#,
        );
    }
    let slot = plot_w / days.len().max(1) as f64;
    let bar_w = (slot * 0.7).max(1.0);
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let spend = day.totals.spend();
        let h = if top > 0 {
            plot_h * spend as f64 / top as f64
        } else {
            0.0
        };
        let _ = write!(
            svg,
            r#"<g class="day"><title>{label}: {spend_text} · {requests} requests · {tokens} tokens</title><rect class="slot" x="{x:.1}" y="{TOP}" width="{slot:.1}" height="{plot_h}"/><rect class="bar" x="{bx:.1}" y="{by:.1}" width="{bar_w:.1}" height="{h:.1}"/><text class="axis" x="{cx:.1}" y="{dy}" text-anchor="middle">{n}</text></g>"#,
            label = escape(&month.day_label(day.day)),
            spend_text = escape(&usd(spend)),
            requests = thousands(day.totals.requests),
            tokens = thousands(day.totals.tokens()),
            bx = x + (slot - bar_w) / 2.0,
            by = TOP + plot_h - h,
            cx = x + slot / 2.0,
            dy = HEIGHT - 8.0,
            n = day.day,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::super::Totals;
    use super::*;

    fn days(spends: &[i64]) -> Vec<Day> {
        spends
            .iter()
            .enumerate()
            .map(|(i, &s)| Day {
                day: i as u8 + 1,
                totals: Totals {
                    requests: 1,
                    cost_nano_usd: Some(s),
                    ..Totals::default()
                },
            })
            .collect()
    }

    fn heights(svg: &str) -> Vec<f64> {
        svg.split(r#"class="bar""#)
            .skip(1)
            .map(|rest| {
                let h = rest.split("height=\"").nth(1).unwrap();
                h[..h.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn the_axis_top_is_round_and_above_the_largest_bar() {
        assert_eq!(axis_top(0), MIN_TOP_NANO);
        assert_eq!(axis_top(1), MIN_TOP_NANO);
        assert_eq!(axis_top(10_000_000), 10_000_000);
        assert_eq!(axis_top(10_000_001), 20_000_000);
        assert_eq!(axis_top(91_194_450), 100_000_000);
        assert_eq!(axis_top(2_500_000_000), 4_000_000_000);
        assert_eq!(axis_top(7_999_999_999), 8_000_000_000);
        assert_eq!(axis_top(i64::MAX), i64::MAX, "no overflow");
    }

    #[test]
    fn no_days_draws_an_empty_axis() {
        let svg = daily_spend(Month::containing(20_758).0, &[]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(heights(&svg).is_empty() && svg.contains("no days yet"));
        assert!(
            svg.contains(">$0.01<") && svg.contains(">$0.0025<"),
            "{svg}"
        );
    }

    #[test]
    fn one_day_fills_the_axis_and_zero_spend_stays_flat() {
        let nov = Month::containing(20_758).0;
        let svg = daily_spend(nov, &days(&[4_000_000_000]));
        assert_eq!(heights(&svg), [204.0]);
        assert!(
            svg.contains("<title>Nov 1: $4.00 · 1 requests · 0 tokens</title>"),
            "{svg}"
        );
        assert!(svg.contains(">$4.00<") && svg.contains(">$1.00<"));
        assert_eq!(heights(&daily_spend(nov, &days(&[0]))), [0.0]);
    }

    #[test]
    fn many_days_scale_against_the_largest() {
        let nov = Month::containing(20_758).0;
        let mut spends = vec![0; 30];
        spends[2] = 1_000_000_000;
        spends[29] = 2_000_000_000;
        let svg = daily_spend(nov, &days(&spends));
        let h = heights(&svg);
        assert_eq!(h.len(), 30, "one bar per day");
        assert_eq!((h[2], h[29], h[0]), (102.0, 204.0, 0.0));
        assert_eq!(svg.matches("<title>").count(), 30);
        assert!(svg.contains(">30</text>"));
    }
}
