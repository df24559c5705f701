//! Usage queries: totals grouped by any of team, key, user, model, requested model, routing rule,
//! provider, endpoint and day, since a point in time — the one grouping `switchyard usage` and
//! `GET /admin/usage` share — and their table, JSON and CSV renderings. Pure apart from the SQL
//! text, which both stores accept.

use std::fmt::Write as _;

use serde_json::Value;

use super::record::civil_date;
use crate::pricing::format_usd;

/// A column to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Team,
    Key,
    User,
    /// The upstream model that served the request.
    Model,
    /// The model name the client asked for.
    RequestedModel,
    /// The routing rule that chose the target (`default`: no rule matched; `explicit`: the client
    /// named `provider/model`; empty: the request was refused before a route was found).
    Rule,
    Provider,
    Endpoint,
    /// UTC day, `YYYY-MM-DD`.
    Day,
}

const DIMENSIONS: &str = "team, key, user, model, requested_model, rule, provider, endpoint, day";

impl Dimension {
    pub fn parse(name: &str) -> Result<Dimension, String> {
        Ok(match name.trim() {
            "team" => Dimension::Team,
            "key" => Dimension::Key,
            "user" => Dimension::User,
            "model" => Dimension::Model,
            "requested_model" => Dimension::RequestedModel,
            "rule" => Dimension::Rule,
            "provider" => Dimension::Provider,
            "endpoint" => Dimension::Endpoint,
            "day" => Dimension::Day,
            other => {
                return Err(format!(
                    "cannot group by `{other}`: expected a comma-separated list of {DIMENSIONS}"
                ))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Dimension::Team => "team",
            Dimension::Key => "key",
            Dimension::User => "user",
            Dimension::Model => "model",
            Dimension::RequestedModel => "requested_model",
            Dimension::Rule => "rule",
            Dimension::Provider => "provider",
            Dimension::Endpoint => "endpoint",
            Dimension::Day => "day",
        }
    }

    /// The SQL expression, as text in both SQLite and PostgreSQL.
    fn sql(self) -> &'static str {
        match self {
            Dimension::Team => "team",
            Dimension::Key => "key_id",
            Dimension::User => "COALESCE(end_user, '')",
            Dimension::Model => "upstream_model",
            Dimension::RequestedModel => "requested_model",
            Dimension::Rule => "rule",
            Dimension::Provider => "provider",
            Dimension::Endpoint => "endpoint",
            Dimension::Day => "CAST(ts_ms / 86400000 AS TEXT)",
        }
    }
}

/// What to total: records since `since_ms` (Unix ms; `None`: all), grouped by `by` (none: one total).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub since_ms: Option<i64>,
    pub by: Vec<Dimension>,
}

impl Query {
    /// Reads `since` (`30m`, `24h`, `7d`, `4w`, or `all`) and `by` (`team,model`) as given by a user,
    /// relative to `now_ms`.
    pub fn parse(since: Option<&str>, by: Option<&str>, now_ms: i64) -> Result<Query, String> {
        let since_ms = match since.map(str::trim) {
            None | Some("") | Some("all") => None,
            Some(text) => Some(now_ms.saturating_sub(duration_ms(text)?)),
        };
        let mut dims = Vec::new();
        for name in by
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let d = Dimension::parse(name)?;
            if dims.contains(&d) {
                return Err(format!("`{name}` is named twice in the grouping"));
            }
            dims.push(d);
        }
        Ok(Query { since_ms, by: dims })
    }

    /// The statement; `$1` is `since_ms`.
    pub fn sql(&self) -> String {
        let mut sql = String::from("SELECT ");
        for d in &self.by {
            let _ = write!(sql, "{}, ", d.sql());
        }
        sql.push_str(
            "CAST(COUNT(*) AS BIGINT), CAST(SUM(input_tokens) AS BIGINT), CAST(SUM(cache_read_tokens) AS BIGINT), \
             CAST(SUM(cache_write_5m_tokens) AS BIGINT), CAST(SUM(cache_write_1h_tokens) AS BIGINT), CAST(SUM(output_tokens) AS BIGINT), \
             CAST(SUM(reasoning_tokens) AS BIGINT), CAST(SUM(cost_nano_usd) AS BIGINT), \
             CAST(SUM(CASE WHEN cost_nano_usd IS NULL THEN 1 ELSE 0 END) AS BIGINT), CAST(SUM(partial) AS BIGINT) \
             FROM usage_records WHERE ts_ms >= $1",
        );
        if !self.by.is_empty() {
            let ordinals: Vec<String> = (1..=self.by.len()).map(|i| i.to_string()).collect();
            let _ = write!(sql, " GROUP BY {0} ORDER BY {0}", ordinals.join(", "));
        }
        sql
    }
}

/// What a team or a key has spent since a point in time (the start of a budget's day or month):
/// the one figure a budget's counter is seeded with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendQuery {
    /// `true`: `name` is a key id (`key_id`); `false`: a team.
    pub key: bool,
    pub name: String,
    pub since_ms: i64,
}

impl SpendQuery {
    /// The statement; `$1` is the name, `$2` `since_ms`. Unpriced records count 0.
    pub fn sql(&self) -> &'static str {
        if self.key {
            "SELECT CAST(SUM(cost_nano_usd) AS BIGINT) FROM usage_records WHERE key_id = $1 AND ts_ms >= $2"
        } else {
            "SELECT CAST(SUM(cost_nano_usd) AS BIGINT) FROM usage_records WHERE team = $1 AND ts_ms >= $2"
        }
    }
}

/// `7d` → milliseconds (units s, m, h, d, w). Also how long a new key lasts (`keys create --expires`).
pub fn duration_ms(text: &str) -> Result<i64, String> {
    let bad = || {
        format!("`{text}` is not a time span: expected a number and a unit, such as 30m, 24h, 7d or 4w (or `all`)")
    };
    let unit = text.chars().last().ok_or_else(bad)?;
    let number: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| bad())?;
    let unit_ms = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        _ => return Err(bad()),
    };
    if number <= 0 {
        return Err(bad());
    }
    Ok(number.saturating_mul(unit_ms))
}

/// One group's totals.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupRow {
    /// The grouping values, in `Query::by` order (`day` as a day number until [`GroupRow::key`]).
    pub keys: Vec<String>,
    pub requests: i64,
    pub input_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_5m_tokens: i64,
    pub cache_write_1h_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
    /// `None` when no request of the group had a price.
    pub cost_nano_usd: Option<i64>,
    pub unpriced_requests: i64,
    pub partial_requests: i64,
}

impl GroupRow {
    /// The value of the `i`-th grouping, as shown (`day` as `YYYY-MM-DD`).
    fn key(&self, query: &Query, i: usize) -> String {
        let raw = self.keys.get(i).cloned().unwrap_or_default();
        match query.by.get(i) {
            Some(Dimension::Day) => raw.parse::<i64>().map(civil_date).unwrap_or(raw),
            _ => raw,
        }
    }

    fn numbers(&self) -> [(&'static str, String); 11] {
        [
            ("requests", self.requests.to_string()),
            ("input_tokens", self.input_tokens.to_string()),
            ("output_tokens", self.output_tokens.to_string()),
            (
                "cache_creation_input_tokens",
                (self.cache_write_5m_tokens + self.cache_write_1h_tokens).to_string(),
            ),
            (
                "cache_read_input_tokens",
                self.cache_read_tokens.to_string(),
            ),
            (
                "cache_creation_5m_input_tokens",
                self.cache_write_5m_tokens.to_string(),
            ),
            (
                "cache_creation_1h_input_tokens",
                self.cache_write_1h_tokens.to_string(),
            ),
            ("reasoning_tokens", self.reasoning_tokens.to_string()),
            (
                "cost_usd",
                self.cost_nano_usd.map_or_else(String::new, format_usd),
            ),
            ("unpriced_requests", self.unpriced_requests.to_string()),
            ("partial_requests", self.partial_requests.to_string()),
        ]
    }
}

/// A JSON list of objects: the grouping fields, then `requests`, token counts, `cost_usd` (an exact
/// decimal number, `null` when nothing in the group had a price) and `unpriced_requests`. Written
/// as text, one object per line, so the cost is never rounded through a float.
pub fn to_json(query: &Query, rows: &[GroupRow]) -> String {
    let mut out = String::from("[");
    for (n, row) in rows.iter().enumerate() {
        out.push_str(if n == 0 { "\n  {" } else { ",\n  {" });
        let mut first = true;
        let mut field = |out: &mut String, name: &str, value: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "{}:{value}", Value::String(name.to_string()));
        };
        for (i, d) in query.by.iter().enumerate() {
            field(
                &mut out,
                d.name(),
                &Value::String(row.key(query, i)).to_string(),
            );
        }
        for (name, value) in row.numbers() {
            field(
                &mut out,
                name,
                if value.is_empty() { "null" } else { &value },
            );
        }
        out.push('}');
    }
    out.push_str(if rows.is_empty() { "]\n" } else { "\n]\n" });
    out
}

/// CSV with a header row.
pub fn to_csv(query: &Query, rows: &[GroupRow]) -> String {
    let mut out = String::new();
    let header: Vec<&str> = query
        .by
        .iter()
        .map(|d| d.name())
        .chain(GroupRow::default().numbers().iter().map(|(n, _)| *n))
        .collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for row in rows {
        let mut fields: Vec<String> = (0..query.by.len())
            .map(|i| csv_field(&row.key(query, i)))
            .collect();
        fields.extend(row.numbers().into_iter().map(|(_, v)| v));
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// An aligned text table: the grouping columns, requests, the token columns and cost.
pub fn to_table(query: &Query, rows: &[GroupRow]) -> String {
    let columns = [
        "requests",
        "input",
        "output",
        "cache_write",
        "cache_read",
        "cost_usd",
    ];
    let mut grid: Vec<Vec<String>> = Vec::with_capacity(rows.len() + 1);
    grid.push(
        query
            .by
            .iter()
            .map(|d| d.name().to_string())
            .chain(columns.iter().map(|c| c.to_string()))
            .collect(),
    );
    for row in rows {
        let mut line: Vec<String> = (0..query.by.len())
            .map(|i| {
                Some(row.key(query, i))
                    .filter(|k| !k.is_empty())
                    .unwrap_or_else(|| "-".into())
            })
            .collect();
        line.push(row.requests.to_string());
        line.push(row.input_tokens.to_string());
        line.push(row.output_tokens.to_string());
        line.push((row.cache_write_5m_tokens + row.cache_write_1h_tokens).to_string());
        line.push(row.cache_read_tokens.to_string());
        line.push(
            row.cost_nano_usd
                .map_or_else(|| "unpriced".to_string(), format_usd),
        );
        grid.push(line);
    }
    let widths: Vec<usize> = (0..grid[0].len())
        .map(|c| grid.iter().map(|l| l[c].chars().count()).max().unwrap_or(0))
        .collect();
    let dims = query.by.len();
    let mut out = String::new();
    for line in &grid {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(c, v)| {
                if c < dims {
                    format!("{v:<w$}", w = widths[c])
                } else {
                    format!("{v:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_with_clear_errors() {
        let q = Query::parse(Some("7d"), Some("team, model"), 10 * 86_400_000).unwrap();
        assert_eq!(
            q,
            Query {
                since_ms: Some(3 * 86_400_000),
                by: vec![Dimension::Team, Dimension::Model]
            }
        );
        assert_eq!(
            Query::parse(None, None, 0).unwrap(),
            Query {
                since_ms: None,
                by: vec![]
            }
        );
        assert!(Query::parse(Some("7x"), None, 0)
            .unwrap_err()
            .contains("such as 30m, 24h, 7d"));
        assert!(Query::parse(Some("-1d"), None, 0).is_err());
        assert!(Query::parse(None, Some("team,colour"), 0)
            .unwrap_err()
            .contains("cannot group by `colour`"));
        assert!(Query::parse(None, Some("team,team"), 0)
            .unwrap_err()
            .contains("twice"));
    }

    #[test]
    fn sql_groups_by_ordinals() {
        let by_rule = Query::parse(None, Some("rule,team"), 0).unwrap();
        assert_eq!(by_rule.by, [Dimension::Rule, Dimension::Team]);
        assert!(
            by_rule.sql().starts_with("SELECT rule, team, "),
            "{}",
            by_rule.sql()
        );
        let q = Query::parse(None, Some("team,day"), 0).unwrap();
        let sql = q.sql();
        assert!(
            sql.starts_with(
                "SELECT team, CAST(ts_ms / 86400000 AS TEXT), CAST(COUNT(*) AS BIGINT)"
            ),
            "{sql}"
        );
        assert!(
            sql.ends_with("WHERE ts_ms >= $1 GROUP BY 1, 2 ORDER BY 1, 2"),
            "{sql}"
        );
        assert!(!Query::parse(None, None, 0)
            .unwrap()
            .sql()
            .contains("GROUP BY"));
    }

    fn rows() -> (Query, Vec<GroupRow>) {
        let q = Query::parse(None, Some("team,day"), 0).unwrap();
        let row = |team: &str, cost| GroupRow {
            keys: vec![team.into(), "20454".into()],
            requests: 3,
            input_tokens: 10,
            cache_read_tokens: 4,
            cache_write_5m_tokens: 2,
            cache_write_1h_tokens: 1,
            output_tokens: 7,
            cost_nano_usd: cost,
            ..GroupRow::default()
        };
        (q, vec![row("a,b", Some(1_234_567)), row("c", None)])
    }

    #[test]
    fn renderings() {
        let (q, rows) = rows();
        let text = to_json(&q, &rows);
        assert!(text.contains(r#""cost_usd":0.001234567"#), "{text}");
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json[0]["team"], "a,b");
        assert_eq!(json[0]["day"], "2026-01-01");
        assert_eq!(json[0]["cache_creation_input_tokens"], 3);
        assert_eq!(json[1]["cost_usd"], Value::Null);
        let csv = to_csv(&q, &rows);
        assert!(csv.starts_with("team,day,requests,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens"), "{csv}");
        assert!(
            csv.contains("\"a,b\",2026-01-01,3,10,7,3,4,2,1,0,0.001234567,0,0\n"),
            "{csv}"
        );
        let table = to_table(&q, &rows);
        assert!(
            table
                .lines()
                .next()
                .unwrap()
                .starts_with("team  day         requests"),
            "{table}"
        );
        assert!(
            table.contains("0.001234") && table.contains("unpriced"),
            "{table}"
        );
    }
}
