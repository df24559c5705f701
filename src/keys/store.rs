//! The `api_keys` table (migration 0002) in the usage store: SQLite or PostgreSQL, the same SQL
//! (`$n` placeholders, which both accept). Every create and revoke bumps `api_keys_version` in the
//! same transaction, so a replica's one-row poll sees every change.

use sqlx::Row;

use super::{KeyError, KeyLimits, NewKey};
use crate::ledger::store::Store;

/// A stored key, without its digest (what `keys list` shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub name: String,
    pub team: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
    pub limits: KeyLimits,
}

/// A key that opens the gateway (not revoked): its row and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveKey {
    pub row: KeyRow,
    pub digest: [u8; 32],
}

const ROW_COLUMNS: &str = "name, team, created_ms, expires_ms, revoked_ms, last_used_ms, requests_per_minute, tokens_per_minute, \
     max_concurrent, budget_nano_usd_per_day, budget_nano_usd_per_month";

/// Runs `$body` with `$pool` bound to whichever pool the store has (the query types differ per database).
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite(sqlite) => {
                let $pool = &sqlite.pool;
                $body
            }
            Store::Postgres($pool) => $body,
        }
    };
}

fn unsigned(value: Option<i64>) -> Option<u64> {
    value.and_then(|v| u64::try_from(v).ok())
}

fn signed(value: Option<u64>) -> Option<i64> {
    value.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

macro_rules! key_row {
    ($row:expr) => {{
        let row = $row;
        KeyRow {
            name: row.try_get(0)?,
            team: row.try_get(1)?,
            created_ms: row.try_get(2)?,
            expires_ms: row.try_get(3)?,
            revoked_ms: row.try_get(4)?,
            last_used_ms: row.try_get(5)?,
            limits: KeyLimits {
                requests_per_minute: unsigned(row.try_get(6)?),
                tokens_per_minute: unsigned(row.try_get(7)?),
                max_concurrent: unsigned(row.try_get(8)?),
                budget_nano_usd_per_day: unsigned(row.try_get(9)?),
                budget_nano_usd_per_month: unsigned(row.try_get(10)?),
            },
        }
    }};
}

fn store_error(e: sqlx::Error) -> KeyError {
    KeyError::Store(format!("the key store failed: {e}"))
}

const BUMP: &str = "UPDATE api_keys_version SET version = version + 1 WHERE id = 1";

/// Stores `key` under `digest`; a taken name is [`KeyError::Duplicate`].
pub async fn insert(store: &Store, key: &NewKey, digest: &[u8; 32]) -> Result<(), KeyError> {
    let sql = format!("INSERT INTO api_keys (digest, {ROW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7, $8, $9, $10)");
    let l = &key.limits;
    let result: Result<(), sqlx::Error> = with_pool!(store, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(&sql)
            .bind(hex::encode(digest))
            .bind(key.name.as_str())
            .bind(key.team.as_str())
            .bind(key.created_ms)
            .bind(key.expires_ms)
            .bind(signed(l.requests_per_minute))
            .bind(signed(l.tokens_per_minute))
            .bind(signed(l.max_concurrent))
            .bind(signed(l.budget_nano_usd_per_day))
            .bind(signed(l.budget_nano_usd_per_month))
            .execute(&mut *tx)
            .await?;
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await
    }
    .await);
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => Err(KeyError::Duplicate(format!(
            "a key named `{}` already exists in the store (revoked keys keep their names, so the usage ledger never mixes two people): choose another name",
            key.name
        ))),
        Err(e) => Err(store_error(e)),
    }
}

/// Every key, revoked and expired ones included, oldest first.
pub async fn list(store: &Store) -> Result<Vec<KeyRow>, KeyError> {
    let sql = format!("SELECT {ROW_COLUMNS} FROM api_keys ORDER BY created_ms, name");
    let rows: Result<Vec<KeyRow>, sqlx::Error> = with_pool!(store, pool => async {
        let mut out = Vec::new();
        for row in sqlx::query(&sql).fetch_all(pool).await? {
            out.push(key_row!(row));
        }
        Ok(out)
    }
    .await);
    rows.map_err(store_error)
}

/// The keys that may open the gateway (expired ones included: they are refused with their own message).
pub async fn active(store: &Store) -> Result<Vec<ActiveKey>, KeyError> {
    let sql = format!("SELECT {ROW_COLUMNS}, digest FROM api_keys WHERE revoked_ms IS NULL");
    let rows: Result<Vec<ActiveKey>, sqlx::Error> = with_pool!(store, pool => async {
        let mut out = Vec::new();
        for row in sqlx::query(&sql).fetch_all(pool).await? {
            let digest_hex: String = row.try_get(11)?;
            let mut digest = [0u8; 32];
            if hex::decode_to_slice(digest_hex.as_bytes(), &mut digest).is_err() {
                log::warn!("api_keys: a row's digest is not 64 hex digits: that key is left out");
                continue;
            }
            out.push(ActiveKey { row: key_row!(&row), digest });
        }
        Ok(out)
    }
    .await);
    rows.map_err(store_error)
}

/// Revokes `name` at `now_ms`; an unknown or already revoked name is [`KeyError::NotFound`].
pub async fn revoke(store: &Store, name: &str, now_ms: i64) -> Result<(), KeyError> {
    let sql = "UPDATE api_keys SET revoked_ms = $1 WHERE name = $2 AND revoked_ms IS NULL";
    let changed: Result<u64, sqlx::Error> = with_pool!(store, pool => async {
        let mut tx = pool.begin().await?;
        let changed = sqlx::query(sql).bind(now_ms).bind(name).execute(&mut *tx).await?.rows_affected();
        if changed > 0 {
            sqlx::query(BUMP).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }
    .await);
    match changed.map_err(store_error)? {
        0 => Err(KeyError::NotFound(format!(
            "no active key named `{name}` (keys list shows every key and its status)"
        ))),
        _ => Ok(()),
    }
}

/// The change counter: one row, read every second by every replica.
pub async fn version(store: &Store) -> Result<i64, KeyError> {
    let sql = "SELECT version FROM api_keys_version WHERE id = 1";
    let version: Result<i64, sqlx::Error> = with_pool!(store, pool => async {
        sqlx::query(sql).fetch_one(pool).await?.try_get(0)
    }
    .await);
    version.map_err(store_error)
}

/// Records that these keys were used at `now_ms` (one statement per key, in one transaction; it
/// does not bump the version: last use is not a change any replica has to reload for).
pub async fn touch(store: &Store, names: &[String], now_ms: i64) -> Result<(), KeyError> {
    if names.is_empty() {
        return Ok(());
    }
    let sql = "UPDATE api_keys SET last_used_ms = $1 WHERE name = $2";
    let result: Result<(), sqlx::Error> = with_pool!(store, pool => async {
        let mut tx = pool.begin().await?;
        for name in names {
            sqlx::query(sql).bind(now_ms).bind(name.as_str()).execute(&mut *tx).await?;
        }
        tx.commit().await
    }
    .await);
    result.map_err(store_error)
}
