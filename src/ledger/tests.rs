//! The SQLite store and the writer on a real file: records go in through the queue, totals come out
//! grouped; the PostgreSQL round trip is tests/ledger_postgres.rs.

use super::*;
use crate::config::StoreLocation;
use crate::usage::TokenUsage;

fn record(team: &str, model: &str, day: i64, input: u64, cost: Option<u64>) -> UsageRecord {
    UsageRecord {
        time_ms: day * 86_400_000 + 1_000,
        request_id: format!("r-{team}-{model}-{input}"),
        team: team.into(),
        key_id: "k".into(),
        endpoint: "messages",
        client_format: "anthropic",
        requested_model: model.into(),
        provider: "anthropic".into(),
        upstream_model: model.into(),
        attempts: 1,
        providers_tried: "anthropic".into(),
        status: 200,
        tokens: TokenUsage {
            input_tokens: input,
            output_tokens: 2,
            cache_read_input_tokens: 1,
            cache_creation_input_tokens: 3,
            cache_creation_1h_input_tokens: 1,
            ..TokenUsage::default()
        },
        cost_nano_usd: cost,
        ..UsageRecord::default()
    }
}

#[test]
fn sqlite_round_trip_through_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/usage.db");
    let settings = UsageSettings {
        store: StoreLocation::Sqlite(path.clone()),
        batch_size: 2,
        flush_interval: Duration::from_millis(50),
        queue_size: 100,
    };
    let log_path = dir.path().join("requests.jsonl");
    let ledger = Ledger::start(&settings, &RequestLog::File(log_path.clone())).unwrap();
    ledger.submit(record("a", "claude-sonnet-4-5", 20_000, 10, Some(300)));
    ledger.submit(record("a", "claude-sonnet-4-5", 20_001, 20, Some(700)));
    ledger.submit(record("a", "glm-4.5-air", 20_001, 5, None));
    ledger.submit(record("b", "claude-sonnet-4-5", 20_001, 1, Some(1)));
    assert!(ledger.flush(Some(Duration::from_secs(10))));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let by_team_model = runtime
        .block_on(ledger.query(Query::parse(None, Some("team,model"), 0).unwrap()))
        .unwrap();
    assert_eq!(by_team_model.len(), 3);
    let first = &by_team_model[0];
    assert_eq!(
        (
            first.keys.clone(),
            first.requests,
            first.input_tokens,
            first.cost_nano_usd
        ),
        (
            vec!["a".to_string(), "claude-sonnet-4-5".to_string()],
            2,
            30,
            Some(1000)
        )
    );
    assert_eq!(
        (
            first.cache_read_tokens,
            first.cache_write_5m_tokens,
            first.cache_write_1h_tokens,
            first.output_tokens
        ),
        (2, 4, 2, 4)
    );
    assert_eq!(
        (
            by_team_model[1].cost_nano_usd,
            by_team_model[1].unpriced_requests
        ),
        (None, 1)
    );
    let by_day = runtime
        .block_on(ledger.query(Query {
            since_ms: Some(20_001 * 86_400_000),
            by: vec![Dimension::Day],
        }))
        .unwrap();
    assert_eq!((by_day.len(), by_day[0].requests), (1, 3));
    assert!(query::to_json(
        &Query {
            since_ms: None,
            by: vec![Dimension::Day]
        },
        &by_day
    )
    .contains("\"day\":\"2024-10-05\""));
    // The CLI's way in: the file as it is, no creation.
    let store = runtime
        .block_on(Store::open(&StoreLocation::Sqlite(path), Open::Existing))
        .unwrap()
        .unwrap();
    let all = runtime
        .block_on(store.query(&Query {
            since_ms: None,
            by: vec![],
        }))
        .unwrap();
    assert_eq!(
        (all.len(), all[0].requests, all[0].cost_nano_usd),
        (1, 4, Some(1001))
    );
    let log = std::fs::read_to_string(log_path).unwrap();
    assert_eq!(log.lines().count(), 4);
    assert!(runtime
        .block_on(Store::open(
            &StoreLocation::Sqlite(dir.path().join("missing.db")),
            Open::Existing
        ))
        .unwrap_err()
        .contains("no usage store"));
}
