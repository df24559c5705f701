//! `switchyard keys create|list|revoke`: the same operations as the admin API, run against the
//! configured store directly (no gateway needs to be running), and the renderings both share.

use super::store::{self, KeyRow};
use super::{generate, no_store_message, status, usd, validate, CreateRequest, KeyError};
use crate::config::{Config, StoreLocation};
use crate::ledger::now_ms;
use crate::ledger::record::rfc3339_millis;
use crate::ledger::store::{Open, Store};

/// Opens the configured store (creating and migrating it for `create`).
async fn open(config: &Config, open: Open) -> Result<Store, KeyError> {
    if config.usage.store == StoreLocation::None {
        return Err(KeyError::NoStore(no_store_message(&config.source)));
    }
    let store = Store::open(&config.usage.store, open)
        .await
        .map_err(KeyError::Store)?;
    let store = store.ok_or_else(|| KeyError::NoStore(no_store_message(&config.source)))?;
    store.migrate().await.map_err(|e| {
        KeyError::Store(format!(
            "cannot migrate the store {}: {e}",
            config.usage.store.describe()
        ))
    })?;
    Ok(store)
}

/// Creates a key; returns the lines to print (the key itself among them, once).
pub async fn create(config: &Config, request: &CreateRequest) -> Result<String, KeyError> {
    let now = now_ms();
    let key = validate(config, request, now)?;
    let store = open(config, Open::Create).await?;
    let generated = generate();
    let result = store::insert(&store, &key, &generated.digest).await;
    store.close().await;
    result?;
    let expires = key
        .expires_ms
        .map_or_else(|| "never".to_string(), rfc3339_millis);
    Ok(format!(
        "created key `{}` for team `{}` (expires: {expires}; limits: {})\n{}\nThis is the only time the key is shown: only its SHA-256 digest is stored. Every gateway using {} accepts it within 5 seconds.\n",
        key.name,
        key.team,
        key.limits.describe(),
        generated.key.expose(),
        config.usage.store.describe()
    ))
}

/// Every key as a table or JSON.
pub async fn list(config: &Config, json: bool) -> Result<String, KeyError> {
    let store = open(config, Open::Existing).await?;
    let rows = store::list(&store).await;
    store.close().await;
    let rows = rows?;
    Ok(if json {
        to_json(&rows, now_ms())
    } else {
        to_table(&rows, now_ms())
    })
}

pub async fn revoke(config: &Config, name: &str) -> Result<String, KeyError> {
    let store = open(config, Open::Existing).await?;
    let result = store::revoke(&store, name, now_ms()).await;
    store.close().await;
    result?;
    Ok(format!(
        "revoked key `{name}`: every gateway using {} refuses it within 5 seconds\n",
        config.usage.store.describe()
    ))
}

/// One key as JSON: never its digest, never the key.
pub fn row_json(row: &KeyRow, now_ms: i64) -> serde_json::Value {
    let time = |ms: Option<i64>| ms.map(rfc3339_millis);
    let mut limits = serde_json::to_value(row.limits).unwrap_or_default();
    if let Some(object) = limits.as_object_mut() {
        for (field, value) in [
            ("budget_usd_per_day", row.limits.budget_nano_usd_per_day),
            ("budget_usd_per_month", row.limits.budget_nano_usd_per_month),
        ] {
            if let Some(nano) = value {
                object.insert(field.into(), serde_json::Value::String(usd(nano)));
            }
        }
    }
    serde_json::json!({
        "name": row.name,
        "team": row.team,
        "status": status(row.revoked_ms, row.expires_ms, now_ms),
        "created": rfc3339_millis(row.created_ms),
        "last_used": time(row.last_used_ms),
        "expires": time(row.expires_ms),
        "revoked": time(row.revoked_ms),
        "limits": limits,
    })
}

pub fn to_json(rows: &[KeyRow], now_ms: i64) -> String {
    let keys: Vec<serde_json::Value> = rows.iter().map(|r| row_json(r, now_ms)).collect();
    let mut text =
        serde_json::to_string_pretty(&serde_json::json!({ "keys": keys })).unwrap_or_default();
    text.push('\n');
    text
}

pub fn to_table(rows: &[KeyRow], now_ms: i64) -> String {
    let header = [
        "NAME",
        "TEAM",
        "STATUS",
        "CREATED",
        "LAST USED",
        "EXPIRES",
        "LIMITS",
    ]
    .map(String::from);
    let minute = |ms: Option<i64>| {
        ms.map_or_else(
            || "-".to_string(),
            |ms| {
                rfc3339_millis(ms)
                    .get(..16)
                    .unwrap_or_default()
                    .replace('T', " ")
            },
        )
    };
    let mut lines = vec![header];
    for row in rows {
        lines.push([
            row.name.clone(),
            row.team.clone(),
            status(row.revoked_ms, row.expires_ms, now_ms).to_string(),
            minute(Some(row.created_ms)),
            minute(row.last_used_ms),
            row.expires_ms
                .map_or_else(|| "never".to_string(), |ms| minute(Some(ms))),
            row.limits.describe(),
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no keys: switchyard keys create --team TEAM --name NAME)\n");
    }
    out
}
