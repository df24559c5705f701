//! Checking the usage ledger against what the mock providers reported: the ledger's per-model totals
//! (read back with `switchyard usage --format json`) must equal the mocks' `/mock/stats` usage, and each
//! model's printed cost must be the tokens times the published rates, exactly.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Gateway, Mock};

/// A model's rates in USD per million tokens, as text: input, output, cache write 5 m, cache write 1 h,
/// cache read.
pub type Rates = [&'static str; 5];

/// Every token kind `/mock/stats` reports per model, and the ledger's JSON report too.
pub const USAGE_FIELDS: [&str; 8] = [
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "reasoning_tokens",
];

/// Waits until the ledger has written `n` records (its flush interval is 1 s unless configured).
pub fn wait_written(gw: &Gateway, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while gw.metric("switchyard_usage_records_written_total") < n as f64 {
        assert!(
            Instant::now() < deadline,
            "the ledger wrote {} of {n} records:\n{}",
            gw.metric("switchyard_usage_records_written_total"),
            gw.process.stderr.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The request log's records, when the config says `log: { requests: "${SWITCHYARD_DATA_DIR}/requests.jsonl" }`.
pub fn request_log(gw: &Gateway) -> Vec<Value> {
    std::fs::read_to_string(gw.data_dir().join("requests.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("log line is JSON"))
        .collect()
}

/// The usage the mocks reported, by model.
pub fn reported_usage(mocks: &[&Mock]) -> BTreeMap<String, Value> {
    let mut reported = BTreeMap::new();
    for mock in mocks {
        for (model, totals) in mock.stats()["usage"]
            .as_object()
            .expect("usage in /mock/stats")
        {
            reported.insert(model.clone(), totals.clone());
        }
    }
    reported
}

/// Every input and output token the mock reported so far, over all models, cached or not: what a
/// tokens-per-minute limit counts.
pub fn all_tokens(mock: &Mock) -> u64 {
    reported_usage(&[mock])
        .values()
        .map(|u| {
            [
                "input_tokens",
                "cache_creation_input_tokens",
                "cache_read_input_tokens",
                "output_tokens",
            ]
            .iter()
            .map(|f| u[*f].as_u64().unwrap_or(0))
            .sum::<u64>()
        })
        .sum()
}

/// USD per million tokens (as text) × tokens, in nano-USD; exact for the rates used in the tests.
pub fn nano(tokens: u64, usd_per_million: &str) -> u64 {
    let micro = switchyard::pricing::parse_usd(usd_per_million).expect("a rate");
    tokens * micro / 1000
}

pub fn num(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

/// Asserts that the ledger has one row per model the mocks served, with exactly the tokens they reported
/// and the cost those tokens come to at `rates` (compared as printed: an exact decimal). Returns the rows.
pub fn assert_ledger_matches(
    gw: &Gateway,
    reported: &BTreeMap<String, Value>,
    rates: &BTreeMap<&str, Rates>,
) -> Vec<Value> {
    let ledger = gw.usage_json("model");
    let raw = gw.usage_cli(&["--by", "model", "--format", "json"]);
    let printed_cost = |model: &str| {
        let line = raw
            .lines()
            .find(|l| l.contains(&format!("\"model\":\"{model}\"")))
            .unwrap_or_else(|| panic!("no {model} in {raw}"));
        line.split("\"cost_usd\":")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap()
            .to_string()
    };
    let models: std::collections::BTreeSet<&str> =
        ledger.iter().filter_map(|r| r["model"].as_str()).collect();
    assert_eq!(
        models,
        reported.keys().map(String::as_str).collect(),
        "ledger rows {ledger:?}"
    );
    assert_eq!(models.len(), ledger.len(), "one row per model: {ledger:?}");
    for row in &ledger {
        let model = row["model"].as_str().unwrap();
        let mock = &reported[model];
        for field in USAGE_FIELDS {
            assert_eq!(
                row[field], mock[field],
                "{model} {field}: ledger {row} mock {mock}"
            );
        }
        let [input, output, w5, w1, read] = rates[model];
        let expected = nano(num(mock, "input_tokens"), input)
            + nano(num(mock, "output_tokens"), output)
            + nano(num(mock, "cache_creation_5m_input_tokens"), w5)
            + nano(num(mock, "cache_creation_1h_input_tokens"), w1)
            + nano(num(mock, "cache_read_input_tokens"), read);
        assert_eq!(
            printed_cost(model),
            switchyard::pricing::format_usd(expected as i64),
            "{model}"
        );
        assert_eq!(
            (
                row["unpriced_requests"].as_u64(),
                row["partial_requests"].as_u64()
            ),
            (Some(0), Some(0)),
            "{row}"
        );
    }
    ledger
}
