//! The usage store: SQLite (embedded, the default) or PostgreSQL (shared by several replicas), same
//! columns, versioned migrations from `migrations/` applied when it opens (sqlx's migrator, which
//! takes a lock on PostgreSQL so replicas starting together apply each migration once). Other
//! features add their own tables with further migrations in the same directories.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row};

use super::query::{GroupRow, Query};
use super::record::UsageRecord;
use crate::config::StoreLocation;

/// Records per statement at most (SQLite binds at most 32 766 values; a record binds 26).
pub const MAX_ROWS_PER_STATEMENT: usize = 1000;

const COLUMNS: &str = "ts_ms, request_id, team, key_id, end_user, endpoint, client_format, requested_model, rule, provider, \
     upstream_model, attempts, providers_tried, status, error_kind, input_tokens, cache_read_tokens, cache_write_5m_tokens, \
     cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_nano_usd, latency_ms, ttfb_ms, stream, partial";

fn migrator(kind: &str) -> Migrator {
    let sql = match kind {
        "sqlite" => include_str!("../../migrations/sqlite/0001_usage_records.sql"),
        _ => include_str!("../../migrations/postgres/0001_usage_records.sql"),
    };
    Migrator {
        migrations: Cow::Owned(vec![Migration::new(
            1,
            Cow::Borrowed("usage records"),
            MigrationType::Simple,
            Cow::Borrowed(sql),
            false,
        )]),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    }
}

/// An open store.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How a store is opened: by the gateway (create the file and its directory, migrate) or by
/// `switchyard usage` (read what is there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    Create,
    Existing,
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Binds one record's values in `COLUMNS` order (a macro: the builder's type differs per database).
macro_rules! bind_record {
    ($b:expr, $r:expr) => {{
        let r: &UsageRecord = $r;
        let t = &r.tokens;
        $b.push_bind(r.time_ms)
            .push_bind(r.request_id.as_str())
            .push_bind(r.team.as_str())
            .push_bind(r.key_id.as_str())
            .push_bind(r.user.as_deref())
            .push_bind(r.endpoint)
            .push_bind(r.client_format)
            .push_bind(r.requested_model.as_str())
            .push_bind(r.rule.as_str())
            .push_bind(r.provider.as_str())
            .push_bind(r.upstream_model.as_str())
            .push_bind(i64::from(r.attempts))
            .push_bind(r.providers_tried.as_str())
            .push_bind(i64::from(r.status))
            .push_bind(r.error_kind)
            .push_bind(i64_of(t.input_tokens))
            .push_bind(i64_of(t.cache_read_input_tokens))
            .push_bind(i64_of(t.cache_creation_5m_input_tokens()))
            .push_bind(i64_of(t.cache_creation_1h_input_tokens))
            .push_bind(i64_of(t.output_tokens))
            .push_bind(i64_of(t.reasoning_tokens))
            .push_bind(r.cost_nano_usd.map(i64_of))
            .push_bind(i64_of(r.latency_ms))
            .push_bind(r.ttfb_ms.map(i64_of))
            .push_bind(i16::from(r.stream))
            .push_bind(i16::from(r.partial));
    }};
}

/// Reads one result row of [`Query::sql`] (a macro for the same reason).
macro_rules! group_row {
    ($row:expr, $dims:expr) => {{
        let row = $row;
        let n = $dims;
        let mut keys = Vec::with_capacity(n);
        for i in 0..n {
            keys.push(row.try_get::<Option<String>, _>(i)?.unwrap_or_default());
        }
        let num = |i: usize| row.try_get::<Option<i64>, _>(n + i);
        GroupRow {
            keys,
            requests: num(0)?.unwrap_or(0),
            input_tokens: num(1)?.unwrap_or(0),
            cache_read_tokens: num(2)?.unwrap_or(0),
            cache_write_5m_tokens: num(3)?.unwrap_or(0),
            cache_write_1h_tokens: num(4)?.unwrap_or(0),
            output_tokens: num(5)?.unwrap_or(0),
            reasoning_tokens: num(6)?.unwrap_or(0),
            cost_nano_usd: num(7)?,
            unpriced_requests: num(8)?.unwrap_or(0),
            partial_requests: num(9)?.unwrap_or(0),
        }
    }};
}

impl Store {
    /// Opens (and with [`Open::Create`], creates and migrates) the store. `None` for `store: none`.
    pub async fn open(location: &StoreLocation, open: Open) -> Result<Option<Store>, String> {
        match location {
            StoreLocation::None => Ok(None),
            StoreLocation::Sqlite(path) => {
                if open == Open::Create {
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            format!(
                                "cannot create the usage store's directory {}: {e}",
                                dir.display()
                            )
                        })?;
                    }
                } else if !path.is_file() {
                    return Err(format!("no usage store at {} (the gateway creates it when it runs with this config)", path.display()));
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(open == Open::Create)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5));
                let pool = SqlitePoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(|e| format!("cannot open the usage store {}: {e}", path.display()))?;
                migrator("sqlite").run(&pool).await.map_err(|e| {
                    format!("cannot migrate the usage store {}: {e}", path.display())
                })?;
                Ok(Some(Store::Sqlite(pool)))
            }
            StoreLocation::Postgres(url) => {
                let shown = location.describe();
                let options = PgConnectOptions::from_str(url.expose())
                    .map_err(|e| format!("usage store {shown}: {e}"))?;
                let pool = PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_lazy_with(options);
                let store = Store::Postgres(pool);
                if open == Open::Existing {
                    store
                        .migrate()
                        .await
                        .map_err(|e| format!("usage store {shown}: {e}"))?;
                }
                Ok(Some(store))
            }
        }
    }

    /// Applies pending migrations (PostgreSQL: when it is reachable; the writer retries until it is).
    pub async fn migrate(&self) -> Result<(), String> {
        match self {
            Store::Sqlite(pool) => migrator("sqlite")
                .run(pool)
                .await
                .map_err(|e| e.to_string()),
            Store::Postgres(pool) => migrator("postgres")
                .run(pool)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Writes `records` (at most [`MAX_ROWS_PER_STATEMENT`] per statement) in one transaction.
    pub async fn insert(&self, records: &[UsageRecord]) -> Result<(), sqlx::Error> {
        if records.is_empty() {
            return Ok(());
        }
        let head = format!("INSERT INTO usage_records ({COLUMNS}) ");
        match self {
            Store::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for chunk in records.chunks(MAX_ROWS_PER_STATEMENT) {
                    let mut qb = QueryBuilder::<sqlx::Sqlite>::new(&head);
                    qb.push_values(chunk, |mut b, r| bind_record!(b, r));
                    qb.build().persistent(true).execute(&mut *tx).await?;
                }
                tx.commit().await
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for chunk in records.chunks(MAX_ROWS_PER_STATEMENT) {
                    let mut qb = QueryBuilder::<sqlx::Postgres>::new(&head);
                    qb.push_values(chunk, |mut b, r| bind_record!(b, r));
                    qb.build().persistent(true).execute(&mut *tx).await?;
                }
                tx.commit().await
            }
        }
    }

    /// The grouped totals `query` asks for.
    pub async fn query(&self, query: &Query) -> Result<Vec<GroupRow>, sqlx::Error> {
        let sql = query.sql();
        let dims = query.by.len();
        let since = query.since_ms.unwrap_or(0);
        let mut out = Vec::new();
        match self {
            Store::Sqlite(pool) => {
                for row in sqlx::query(&sql).bind(since).fetch_all(pool).await? {
                    out.push(group_row!(row, dims));
                }
            }
            Store::Postgres(pool) => {
                for row in sqlx::query(&sql).bind(since).fetch_all(pool).await? {
                    out.push(group_row!(row, dims));
                }
            }
        }
        Ok(out)
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(pool) => pool.close().await,
            Store::Postgres(pool) => pool.close().await,
        }
    }
}
