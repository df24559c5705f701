//! One request's usage record: what the store keeps and the request log prints. Built once per
//! request in the proxy's `logging` hook and moved, never copied, through the queue.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::pricing::format_usd;
use crate::usage::TokenUsage;

/// Everything the ledger knows about one request. Holds no key and no prompt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsageRecord {
    /// When the request ended, Unix milliseconds.
    pub time_ms: i64,
    pub request_id: String,
    pub team: String,
    /// The team key's configured name, or `sha256:` and a digest prefix.
    pub key_id: String,
    pub user: Option<String>,
    pub endpoint: &'static str,
    pub client_format: &'static str,
    pub requested_model: String,
    /// The routing rule that chose the target, as `x-switchyard-route` names it: a rule's name,
    /// `default` (no rule matched) or `explicit` (the client named `provider/model`); empty when the
    /// request was refused before a route was found.
    pub rule: String,
    /// The provider that served the request (the last one tried), empty when none was.
    pub provider: String,
    pub upstream_model: String,
    /// Upstream connections tried, fallbacks and same-target retries included.
    pub attempts: u32,
    /// Providers tried, in order, comma-separated.
    pub providers_tried: String,
    /// The status the client got; 0 when it went away before any.
    pub status: u16,
    pub error_kind: Option<&'static str>,
    pub tokens: TokenUsage,
    /// `None`: the model has no price.
    pub cost_nano_usd: Option<u64>,
    pub latency_ms: u64,
    pub ttfb_ms: Option<u64>,
    pub stream: bool,
    /// The response did not run to its end; tokens are what was seen.
    pub partial: bool,
}

/// The request log's line: the record's fields by name, cost as an exact decimal.
#[derive(Serialize)]
struct Line<'a> {
    time: String,
    request_id: &'a str,
    team: &'a str,
    key_id: &'a str,
    user: Option<&'a str>,
    endpoint: &'a str,
    client_format: &'a str,
    requested_model: &'a str,
    rule: &'a str,
    provider: &'a str,
    upstream_model: &'a str,
    attempts: u32,
    providers_tried: &'a str,
    status: u16,
    error_kind: Option<&'a str>,
    input_tokens: u64,
    cache_read_input_tokens: u64,
    cache_creation_5m_input_tokens: u64,
    cache_creation_1h_input_tokens: u64,
    output_tokens: u64,
    reasoning_tokens: u64,
    cost_usd: Option<Box<RawValue>>,
    latency_ms: u64,
    ttfb_ms: Option<u64>,
    stream: bool,
    partial: bool,
}

impl UsageRecord {
    /// The record as one JSON line (with its `\n`), for the request log.
    pub fn json_line(&self) -> Vec<u8> {
        let t = &self.tokens;
        let line = Line {
            time: rfc3339_millis(self.time_ms),
            request_id: &self.request_id,
            team: &self.team,
            key_id: &self.key_id,
            user: self.user.as_deref(),
            endpoint: self.endpoint,
            client_format: self.client_format,
            requested_model: &self.requested_model,
            rule: &self.rule,
            provider: &self.provider,
            upstream_model: &self.upstream_model,
            attempts: self.attempts,
            providers_tried: &self.providers_tried,
            status: self.status,
            error_kind: self.error_kind,
            input_tokens: t.input_tokens,
            cache_read_input_tokens: t.cache_read_input_tokens,
            cache_creation_5m_input_tokens: t.cache_creation_5m_input_tokens(),
            cache_creation_1h_input_tokens: t.cache_creation_1h_input_tokens,
            output_tokens: t.output_tokens,
            reasoning_tokens: t.reasoning_tokens,
            cost_usd: self.cost_nano_usd.and_then(|c| {
                RawValue::from_string(format_usd(i64::try_from(c).unwrap_or(i64::MAX))).ok()
            }),
            latency_ms: self.latency_ms,
            ttfb_ms: self.ttfb_ms,
            stream: self.stream,
            partial: self.partial,
        };
        let mut out = serde_json::to_vec(&line).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

/// `2026-11-03T14:05:09.123Z` for Unix milliseconds.
pub fn rfc3339_millis(ms: i64) -> String {
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}.{millis:03}Z",
        civil_date(days),
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `YYYY-MM-DD` of a day number since 1970-01-01.
pub fn civil_date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// (year, month 1–12, day 1–31) of a day number since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day number since 1970-01-01 of a (year, month 1–12, day) date (Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_454), "2026-01-01");
        assert_eq!(civil_date(19_782), "2024-02-29");
        assert_eq!(
            rfc3339_millis(1_767_225_600_123),
            "2026-01-01T00:00:00.123Z"
        );
        assert_eq!(
            rfc3339_millis(1_767_229_509_007),
            "2026-01-01T01:05:09.007Z"
        );
    }

    #[test]
    fn the_log_line_has_the_fields_and_an_exact_cost() {
        let record = UsageRecord {
            time_ms: 1_767_225_600_000,
            request_id: "r1".into(),
            team: "platform".into(),
            key_id: "laptop".into(),
            endpoint: "messages",
            client_format: "anthropic",
            requested_model: "sonnet".into(),
            provider: "anthropic".into(),
            upstream_model: "claude-sonnet-4-5".into(),
            attempts: 2,
            providers_tried: "openrouter,anthropic".into(),
            status: 200,
            tokens: TokenUsage {
                input_tokens: 10,
                cache_read_input_tokens: 1,
                ..TokenUsage::default()
            },
            cost_nano_usd: Some(30_300),
            ..UsageRecord::default()
        };
        let line = String::from_utf8(record.json_line()).unwrap();
        assert!(line.ends_with("}\n") && !line.trim_end().contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["time"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["providers_tried"], "openrouter,anthropic");
        assert_eq!(v["cache_read_input_tokens"], 1);
        assert!(line.contains(r#""cost_usd":0.000030300"#), "{line}");
        assert_eq!(v["user"], serde_json::Value::Null);
    }
}
