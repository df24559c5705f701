//! The usage store: SQLite (embedded, the default) or PostgreSQL (shared by several replicas), same
//! columns, versioned migrations from `migrations/` applied when it opens (sqlx's migrator, which
//! takes a lock on PostgreSQL so replicas starting together apply each migration once). Other
//! features add their own tables with further migrations in the same directories (0002: the
//! per-person keys of `crate::keys`).
//!
//! SQLite rows are written through rusqlite on the writer's thread, with one cached prepared
//! statement: sqlx runs every statement on a connection thread of its own (a channel round trip and
//! an async hand-off per row) and binds through its own argument buffers, which cost the ledger
//! ≈ 11k instructions per request on a small request (loadtest/RESULTS.md, "Hot-path overhead").
//! Migrations and queries stay on sqlx, so both databases share one schema and one query path.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;

use super::query::{GroupRow, Query, SpendQuery};
use super::record::UsageRecord;
use crate::config::StoreLocation;

/// Rows per `INSERT` on PostgreSQL: a batch is cut into statements of these sizes only, so the few
/// statements there are get prepared once per connection and reused from sqlx's statement cache. A
/// record binds 26 values: 256 rows stay under PostgreSQL's 65 535 bound values.
const ROWS_PER_STATEMENT: [usize; 5] = [256, 64, 16, 4, 1];
/// Rows per `INSERT` on SQLite: one, a prepared statement stepped once per row inside the batch's
/// transaction. (A multi-row `VALUES` statement is marked by SQLite's planner as depending on its bound
/// values, so clearing the bindings expires it and every execution prepares it again — measured in
/// loadtest/RESULTS.md as costlier.)
const SQLITE_ROWS: usize = 1;
const VALUES_PER_ROW: usize = 26;

/// `INSERT INTO usage_records (…) VALUES (…), …` for `rows` rows, with `$n` (PostgreSQL) or `?`
/// (SQLite) placeholders; built once per size.
fn insert_sql(rows: usize, numbered: bool) -> &'static str {
    static SQLITE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    static POSTGRES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let build = |numbered: bool| {
        ROWS_PER_STATEMENT
            .iter()
            .map(|&n| {
                let mut sql = format!("INSERT INTO usage_records ({COLUMNS}) VALUES ");
                for row in 0..n {
                    sql.push_str(if row == 0 { "(" } else { ", (" });
                    for v in 0..VALUES_PER_ROW {
                        if v > 0 {
                            sql.push_str(", ");
                        }
                        if numbered {
                            sql.push_str(&format!("${}", row * VALUES_PER_ROW + v + 1));
                        } else {
                            sql.push('?');
                        }
                    }
                    sql.push(')');
                }
                sql
            })
            .collect::<Vec<_>>()
    };
    let all = if numbered {
        POSTGRES.get_or_init(|| build(true))
    } else {
        SQLITE.get_or_init(|| build(false))
    };
    let index = ROWS_PER_STATEMENT
        .iter()
        .position(|&n| n == rows)
        .unwrap_or(ROWS_PER_STATEMENT.len() - 1);
    all.get(index).map_or("", String::as_str)
}

/// Cuts `records` into runs of the given sizes (descending, ending with 1), largest first.
fn statement_runs<'a>(
    records: &'a [UsageRecord],
    sizes: &'static [usize],
) -> impl Iterator<Item = &'a [UsageRecord]> {
    let mut rest = records;
    std::iter::from_fn(move || {
        let n = sizes.iter().copied().find(|&n| n <= rest.len())?;
        let (run, tail) = rest.split_at(n);
        rest = tail;
        Some(run)
    })
}

const COLUMNS: &str = "ts_ms, request_id, team, key_id, end_user, endpoint, client_format, requested_model, rule, provider, \
     upstream_model, attempts, providers_tried, status, error_kind, input_tokens, cache_read_tokens, cache_write_5m_tokens, \
     cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_nano_usd, latency_ms, ttfb_ms, stream, partial";

fn migrator(kind: &str) -> Migrator {
    let sql: [(&'static str, &'static str); 2] = match kind {
        "sqlite" => [
            ("usage records", include_str!("../../migrations/sqlite/0001_usage_records.sql")),
            ("api keys", include_str!("../../migrations/sqlite/0002_api_keys.sql")),
        ],
        _ => [
            ("usage records", include_str!("../../migrations/postgres/0001_usage_records.sql")),
            ("api keys", include_str!("../../migrations/postgres/0002_api_keys.sql")),
        ],
    };
    let migrations = sql
        .into_iter()
        .zip(1..)
        .map(|((description, sql), version)| {
            Migration::new(version, Cow::Borrowed(description), MigrationType::Simple, Cow::Borrowed(sql), false)
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    }
}

/// An open store.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgPool),
}

/// A SQLite store: sqlx's pool for migrations and queries, and the writer's own connection for inserts.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Migrations, queries and the other tables (person keys) go through sqlx.
    pub pool: SqlitePool,
    path: PathBuf,
    /// Opened on the first batch, dropped (and reopened by the next try) after a failed one.
    inserter: Arc<Mutex<Option<rusqlite::Connection>>>,
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

/// Binds one record's values in `COLUMNS` order (a macro: sqlx's query type differs per database, and a
/// rusqlite statement binds through [`Binder`]).
macro_rules! bind_record {
    ($q:expr, $r:expr) => {{
        let r: &UsageRecord = $r;
        let t = &r.tokens;
        $q.bind(r.time_ms)
            .bind(r.request_id.as_str())
            .bind(r.team.as_str())
            .bind(r.key_id.as_str())
            .bind(r.user.as_deref())
            .bind(r.endpoint)
            .bind(r.client_format)
            .bind(r.requested_model.as_str())
            .bind(r.rule.as_str())
            .bind(r.provider.as_str())
            .bind(r.upstream_model.as_str())
            .bind(i64::from(r.attempts))
            .bind(r.providers_tried.as_str())
            .bind(i64::from(r.status))
            .bind(r.error_kind)
            .bind(i64_of(t.input_tokens))
            .bind(i64_of(t.cache_read_input_tokens))
            .bind(i64_of(t.cache_creation_5m_input_tokens()))
            .bind(i64_of(t.cache_creation_1h_input_tokens))
            .bind(i64_of(t.output_tokens))
            .bind(i64_of(t.reasoning_tokens))
            .bind(r.cost_nano_usd.map(i64_of))
            .bind(i64_of(r.latency_ms))
            .bind(r.ttfb_ms.map(i64_of))
            .bind(i16::from(r.stream))
            .bind(i16::from(r.partial))
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

impl SqliteStore {
    /// Writes `records` in one transaction, one cached statement per row.
    fn insert(&self, records: &[UsageRecord]) -> Result<(), rusqlite::Error> {
        let mut slot = self.inserter.lock().unwrap_or_else(PoisonError::into_inner);
        let result = match slot.as_mut() {
            Some(conn) => insert_rows(conn, records),
            None => {
                open_inserter(&self.path).and_then(|conn| insert_rows(slot.insert(conn), records))
            }
        };
        if result.is_err() {
            *slot = None;
        }
        result
    }
}

/// The writer's connection: the file sqlx created and migrated (WAL, which the file keeps), with the
/// per-connection settings sqlx's pool uses.
fn open_inserter(path: &Path) -> Result<rusqlite::Connection, rusqlite::Error> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

fn insert_rows(
    conn: &mut rusqlite::Connection,
    records: &[UsageRecord],
) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction()?;
    {
        let mut statement = tx.prepare_cached(insert_sql(SQLITE_ROWS, false))?;
        for r in records {
            bind_record!(Binder::new(&mut statement), r).done()?;
            statement.raw_execute()?;
        }
    }
    tx.commit()
}

/// Lets [`bind_record!`]'s `.bind(v)` chain bind a rusqlite statement's parameters in order; the first
/// error is kept and returned by [`Binder::done`].
struct Binder<'a, 'c> {
    statement: &'a mut rusqlite::CachedStatement<'c>,
    index: usize,
    result: Result<(), rusqlite::Error>,
}

impl<'a, 'c> Binder<'a, 'c> {
    fn new(statement: &'a mut rusqlite::CachedStatement<'c>) -> Self {
        Binder {
            statement,
            index: 0,
            result: Ok(()),
        }
    }

    fn bind<T: rusqlite::ToSql>(mut self, value: T) -> Self {
        self.index += 1;
        if self.result.is_ok() {
            self.result = self.statement.raw_bind_parameter(self.index, value);
        }
        self
    }

    fn done(self) -> Result<(), rusqlite::Error> {
        self.result
    }
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
                Ok(Some(Store::Sqlite(SqliteStore {
                    pool,
                    path: path.clone(),
                    inserter: Arc::default(),
                })))
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
            Store::Sqlite(sqlite) => migrator("sqlite")
                .run(&sqlite.pool)
                .await
                .map_err(|e| e.to_string()),
            Store::Postgres(pool) => migrator("postgres")
                .run(pool)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Writes `records` in one transaction (SQLite: on the calling thread, which is the writer's own).
    pub async fn insert(&self, records: &[UsageRecord]) -> Result<(), String> {
        if records.is_empty() {
            return Ok(());
        }
        match self {
            Store::Sqlite(sqlite) => sqlite.insert(records).map_err(|e| e.to_string()),
            Store::Postgres(pool) => insert_postgres(pool, records)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// The grouped totals `query` asks for.
    pub async fn query(&self, query: &Query) -> Result<Vec<GroupRow>, sqlx::Error> {
        let sql = query.sql();
        let dims = query.by.len();
        let since = query.since_ms.unwrap_or(0);
        let mut out = Vec::new();
        match self {
            Store::Sqlite(sqlite) => {
                for row in sqlx::query(&sql)
                    .bind(since)
                    .fetch_all(&sqlite.pool)
                    .await?
                {
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

    /// Nano-USD recorded for `query`'s team or key since its start (0 when nothing was).
    pub async fn spent(&self, query: &SpendQuery) -> Result<i64, sqlx::Error> {
        let sum: Option<i64> = match self {
            Store::Sqlite(sqlite) => {
                sqlx::query_scalar(query.sql())
                    .bind(&query.name)
                    .bind(query.since_ms)
                    .fetch_one(&sqlite.pool)
                    .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_scalar(query.sql())
                    .bind(&query.name)
                    .bind(query.since_ms)
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok(sum.unwrap_or(0))
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(sqlite) => sqlite.pool.close().await,
            Store::Postgres(pool) => pool.close().await,
        }
    }
}

/// Writes `records` in one transaction, in statements of a few fixed sizes.
async fn insert_postgres(pool: &PgPool, records: &[UsageRecord]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for run in statement_runs(records, &ROWS_PER_STATEMENT) {
        let mut query = sqlx::query(insert_sql(run.len(), true));
        for r in run {
            query = bind_record!(query, r);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_go_out_in_few_statement_shapes() {
        let records = vec![UsageRecord::default(); 300];
        let runs: Vec<usize> = statement_runs(&records, &ROWS_PER_STATEMENT)
            .map(<[UsageRecord]>::len)
            .collect();
        assert_eq!(runs, vec![256, 16, 16, 4, 4, 4]);
        assert_eq!(insert_sql(4, true).matches('$').count(), 4 * VALUES_PER_ROW);
        assert!(
            insert_sql(1, false).ends_with("?)")
                && insert_sql(1, false).matches('?').count() == VALUES_PER_ROW
        );
        assert_eq!(COLUMNS.split(',').count(), VALUES_PER_ROW);
    }
}
