//! The accounting sections of the config — `usage:` (the ledger's store), `pricing:`, `admin:` and
//! `log:` — checked into the internal model. Kept apart from `validate.rs`, which routes requests;
//! every error names its field.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::file::{AdminFile, LogFile, UsageFile};
use super::internal::{Provider, RequestLog, StoreLocation, UsageSettings};
use super::interpolate::{interpolate, Env};
use super::validate::FieldError;
use crate::pricing::{PriceSpec, PriceTable};
use crate::routing::Router;
use crate::secret::Secret;

/// The store a config without `usage.store` writes to: a SQLite file under `SWITCHYARD_DATA_DIR`.
pub const DEFAULT_STORE: &str = "sqlite://${SWITCHYARD_DATA_DIR:-./switchyard-data}/usage.db";

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError {
        path: path.into(),
        message: message.into(),
    })
}

pub fn usage(file: Option<UsageFile>, env: &dyn Env) -> Result<UsageSettings, FieldError> {
    let UsageFile {
        store,
        batch_size,
        flush_interval_ms,
        queue_size,
    } = file.unwrap_or_default();
    let store = match store.filter(|s| !s.trim().is_empty()) {
        Some(s) => store_location(s.trim(), "usage.store")?,
        None => {
            let default = interpolate(DEFAULT_STORE, env).map_err(|message| FieldError {
                path: "usage.store".into(),
                message,
            })?;
            store_location(&default, "usage.store")?
        }
    };
    let batch_size = match batch_size {
        Some(n @ 1..=1000) => n,
        Some(n) => {
            return err(
                "usage.batch_size",
                format!("{n} is out of range: expected 1 to 1000 records per write (default 256)"),
            )
        }
        None => 256,
    };
    let flush_interval = match flush_interval_ms {
        Some(0) => {
            return err(
                "usage.flush_interval_ms",
                "must be greater than 0 (milliseconds; default 1000)",
            )
        }
        Some(ms) => Duration::from_millis(ms),
        None => Duration::from_secs(1),
    };
    let queue_size = match queue_size {
        Some(n) if n < batch_size => return err("usage.queue_size", format!("{n} is smaller than usage.batch_size ({batch_size}): the queue must hold at least one batch")),
        Some(n) => n,
        None => 10_000.max(batch_size),
    };
    Ok(UsageSettings {
        store,
        batch_size,
        flush_interval,
        queue_size,
    })
}

fn store_location(url: &str, path: &str) -> Result<StoreLocation, FieldError> {
    let expected = "expected `sqlite://PATH` (e.g. sqlite:///var/lib/switchyard/usage.db or sqlite://./usage.db), `postgres://USER:PASSWORD@HOST:PORT/DB`, or `none`";
    if url == "none" {
        return Ok(StoreLocation::None);
    }
    if let Some(file) = url.strip_prefix("sqlite://") {
        let file = file.split('?').next().unwrap_or("");
        if file.is_empty() || file.ends_with('/') {
            return err(path, format!("`{url}` names no file: {expected}"));
        }
        return Ok(StoreLocation::Sqlite(PathBuf::from(file)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let shown = StoreLocation::Postgres(Secret::new(url)).describe();
        return match url::Url::parse(url) {
            Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => {
                Ok(StoreLocation::Postgres(Secret::new(url)))
            }
            _ => err(
                path,
                format!("`{shown}` is not a PostgreSQL URL with a host: {expected}"),
            ),
        };
    }
    let scheme = url.split("://").next().unwrap_or(url);
    err(
        path,
        format!("`{scheme}` is not a supported store: {expected}"),
    )
}

pub fn request_log(file: LogFile) -> Result<RequestLog, FieldError> {
    let LogFile { requests } = file;
    Ok(match requests.as_deref().map(str::trim) {
        None | Some("") | Some("off") => RequestLog::Off,
        Some("stdout") => RequestLog::Stdout,
        Some(path) if path.ends_with('/') => {
            return err("log.requests", format!("`{path}` is a directory: expected stdout, off, or a file path for the JSON-lines request log"))
        }
        Some(path) => RequestLog::File(PathBuf::from(path)),
    })
}

/// The shipped price table with the config's rows over it.
pub fn pricing(
    rows: BTreeMap<String, PriceSpec>,
    providers: &[Arc<Provider>],
) -> Result<PriceTable, FieldError> {
    let shipped = crate::pricing::table::shipped().map_err(|message| FieldError {
        path: "pricing".into(),
        message,
    })?;
    let mut all: Vec<(String, Arc<crate::pricing::Price>)> = shipped;
    for (name, spec) in rows {
        if name.trim().is_empty() {
            return err("pricing", "a model name must not be empty");
        }
        let price = spec.to_price().map_err(|e| FieldError {
            path: format!("pricing.{name}.{}", e.path),
            message: e.message,
        })?;
        all.push((name, Arc::new(price)));
    }
    let names: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
    Ok(PriceTable::new(
        all.iter().map(|(n, p)| (n.as_str(), p.clone())),
        &names,
    ))
}

/// Model names allowed as metric labels: fixed target models, listed models and priced names.
pub fn model_labels(
    router: &Router,
    providers: &[Arc<Provider>],
    pricing: &PriceTable,
) -> HashSet<String> {
    let mut labels: HashSet<String> = router.fixed_models().into_iter().collect();
    for p in providers {
        labels.extend(p.listed_models.iter().cloned());
    }
    labels.extend(pricing.names().map(str::to_string));
    labels
}

/// Admin keys, in the forms team keys take (`env:` or `sha256:`, optional `name:`).
pub fn admin_keys(
    file: AdminFile,
    env: &dyn Env,
    team_digests: &HashSet<[u8; 32]>,
) -> Result<crate::auth::Keyring<Arc<str>>, FieldError> {
    let mut keys = crate::auth::Keyring::default();
    for (i, key) in file.keys.into_iter().enumerate() {
        let path = format!("admin.keys[{i}]");
        if key.generate_if_unset {
            return err(
                format!("{path}.generate_if_unset"),
                "admin keys cannot be generated: set the variable, or use `sha256:`",
            );
        }
        let name = key.name.clone();
        let digest = super::validate::key_digest(key, &path, env)?;
        if team_digests.contains(&digest) {
            return err(
                path,
                "this key is also a team key: an admin key must be a key of its own",
            );
        }
        keys.add(digest, crate::auth::key_id(name.as_deref(), &digest));
    }
    Ok(keys)
}
