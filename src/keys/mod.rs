//! Per-person keys: one key per engineer, created and revoked without touching the YAML file or
//! anyone else's key, kept in the usage store (table `api_keys`, migration 0002) next to the YAML
//! team keys, which keep working as they are.
//!
//! ```text
//!  switchyard keys create|list|revoke ──┐                 ┌── every replica: the key thread
//!  POST|GET|DELETE /admin/keys ─────────┴─▶ store (SQLite │   polls api_keys_version (1 s); on a change
//!                                          or PostgreSQL) ◀┘   reloads the rows into a HashMap by digest
//!                                                              and swaps it in (ArcSwap)
//!  request ── SHA-256(presented) ── HashMap lookup (no I/O) ─▶ TeamKey (team, name, limits)
//! ```
//!
//! Only a key's SHA-256 digest is stored and held; the key is printed once, when it is created.
//! A request never waits on the store: it reads the last swapped-in map. "Last used" is a flag set
//! by the request and written by the key thread at most once a minute per key.

pub mod admin;
pub mod cli;
mod index;
pub mod store;
mod sync;

use crate::config::Config;
use crate::ledger::record::rfc3339_millis;

pub use index::{KeyIndex, PersonKey, PersonKeys, Refused};
pub use sync::spawn;

/// What every generated key starts with, so a leaked one is recognisable (and greppable by scanners).
pub const KEY_PREFIX: &str = "sk-sy-";
/// Random bytes per key (hex-encoded after the prefix).
const KEY_BYTES: usize = 32;

/// A new key: the secret (shown once) and its digest (stored).
pub struct GeneratedKey {
    pub key: crate::secret::Secret,
    pub digest: [u8; 32],
}

/// `sk-sy-` and 32 bytes from the thread's CSPRNG (rand's ChaCha, seeded from the OS), as hex.
pub fn generate() -> GeneratedKey {
    let bytes: [u8; KEY_BYTES] = rand::random();
    let key = format!("{KEY_PREFIX}{}", hex::encode(bytes));
    let digest = crate::auth::digest(&key);
    GeneratedKey {
        key: crate::secret::Secret::new(key),
        digest,
    }
}

/// A key's own limits and budgets, as stored; `None`: none of that kind (its team's still apply).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeyLimits {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u64>,
    #[serde(skip)]
    pub budget_nano_usd_per_day: Option<u64>,
    #[serde(skip)]
    pub budget_nano_usd_per_month: Option<u64>,
}

impl KeyLimits {
    /// The limits as `crate::limits` counts them: rates, concurrency and budgets (nano-USD). A person
    /// key has no warning threshold of its own: it warns where its team's limits do (`warn_ppm`).
    pub fn limit_set(&self, warn_ppm: Option<u32>) -> crate::limits::LimitSet {
        let default = crate::limits::LimitSet::default();
        crate::limits::LimitSet {
            requests_per_minute: self.requests_per_minute,
            tokens_per_minute: self.tokens_per_minute,
            max_concurrent: self.max_concurrent,
            budget_usd_per_day: self.budget_nano_usd_per_day,
            budget_usd_per_month: self.budget_nano_usd_per_month,
            budget_warn_ppm: warn_ppm.unwrap_or(default.budget_warn_ppm),
        }
    }

    /// `field value, …` (budgets in USD), or `none`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let rates = [
            ("requests_per_minute", self.requests_per_minute),
            ("tokens_per_minute", self.tokens_per_minute),
            ("max_concurrent", self.max_concurrent),
        ];
        for (field, value) in rates {
            if let Some(v) = value {
                parts.push(format!("{field} {v}"));
            }
        }
        for (field, value) in [
            ("budget_usd_per_day", self.budget_nano_usd_per_day),
            ("budget_usd_per_month", self.budget_nano_usd_per_month),
        ] {
            if let Some(v) = value {
                parts.push(format!("{field} {}", usd(v)));
            }
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A nano-USD budget as USD with the trailing zeros of its nine decimals cut (`5`, `12.5`).
pub fn usd(nano: u64) -> String {
    let text = crate::pricing::format_usd(i64::try_from(nano).unwrap_or(i64::MAX));
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A key creation as asked for (CLI flags or the admin API's JSON), before validation.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub team: String,
    pub name: String,
    /// How long the key lasts (`90d`, `12h`, `30m`, `2s`, `4w`); absent: until revoked.
    #[serde(default)]
    pub expires: Option<String>,
    #[serde(default)]
    pub limits: LimitsRequest,
}

/// Per-key limits as asked for; budgets in USD as a number or a decimal string.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsRequest {
    pub requests_per_minute: Option<u64>,
    pub tokens_per_minute: Option<u64>,
    pub max_concurrent: Option<u64>,
    pub budget_usd_per_day: Option<serde_json::Value>,
    pub budget_usd_per_month: Option<serde_json::Value>,
}

/// A validated creation: what gets stored, with the key's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub name: String,
    pub team: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub limits: KeyLimits,
}

/// Why a key cannot be created, revoked or listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The request itself is wrong (400).
    #[error("{0}")]
    Invalid(String),
    /// The name is taken (409).
    #[error("{0}")]
    Duplicate(String),
    /// No such key (404).
    #[error("{0}")]
    NotFound(String),
    /// This gateway or config keeps no store (409: its configuration, not the request, is the obstacle).
    #[error("{0}")]
    NoStore(String),
    /// The store failed (503).
    #[error("{0}")]
    Store(String),
}

impl KeyError {
    pub fn status(&self) -> u16 {
        match self {
            KeyError::Invalid(_) => 400,
            KeyError::Duplicate(_) | KeyError::NoStore(_) => 409,
            KeyError::NotFound(_) => 404,
            KeyError::Store(_) => 503,
        }
    }
}

/// What `usage.store: none` answers to every key command.
pub fn no_store_message(source: &str) -> String {
    format!(
        "per-person keys live in the usage store, and {source} keeps none (usage.store: none): set `usage: {{ store: sqlite:///var/lib/switchyard/usage.db }}` (one host) or `usage: {{ store: postgres://… }}` (several replicas share it)"
    )
}

/// Key names: what the ledger and limits know a person's key by.
fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if valid {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid key name: expected 1 to 64 letters, digits, `.`, `_`, `-` or `@` (such as alice or alice@laptop)"))
    }
}

fn check_limit(value: Option<u64>, field: &str) -> Result<Option<u64>, String> {
    match value {
        Some(0) => Err(format!(
            "limits.{field}: expected a whole number of at least 1 (leave it out for none)"
        )),
        other => Ok(other),
    }
}

fn parse_budget(value: Option<&serde_json::Value>, field: &str) -> Result<Option<u64>, String> {
    let text = match value {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(s)) => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(format!(
                "limits.{field}: expected an amount of USD such as 50 or 12.5, got {other}"
            ))
        }
    };
    // `parse_usd` reads exact millionths of a USD; budgets are kept in nano-USD like costs.
    match crate::pricing::parse_usd(&text).ok().and_then(|micro| micro.checked_mul(1_000)) {
        Some(0) => Err(format!("limits.{field}: expected more than 0 USD (leave it out for none)")),
        Some(nano) => Ok(Some(nano)),
        None => Err(format!("limits.{field}: `{text}` is not an amount of USD: expected a non-negative number with at most six decimals, such as 50 or 12.5")),
    }
}

/// `--expires 90d` → when the key expires, from `now_ms`.
pub fn expiry_ms(text: &str, now_ms: i64) -> Result<i64, String> {
    crate::ledger::query::duration_ms(text.trim())
        .map(|span| now_ms.saturating_add(span))
        .map_err(|_| format!("expires: `{text}` is not a duration: expected a number and a unit, such as 90d, 4w, 12h, 30m or 45s"))
}

/// Checks a creation against the config: the team exists, the name is free among the YAML key
/// names (the store's own uniqueness is the store's to enforce), the duration and limits are valid.
pub fn validate(config: &Config, request: &CreateRequest, now_ms: i64) -> Result<NewKey, KeyError> {
    let invalid = KeyError::Invalid;
    let team = request.team.trim();
    let teams = config.teams.all();
    if !teams.iter().any(|t| t.name == team) {
        let names: Vec<&str> = teams.iter().map(|t| t.name.as_str()).collect();
        return Err(invalid(format!(
            "no team `{team}` in {}: the configured teams are {}",
            config.source,
            names.join(", ")
        )));
    }
    let name = request.name.trim();
    check_name(name).map_err(invalid)?;
    if config.teams.has_key_id(name) {
        return Err(KeyError::Duplicate(format!("`{name}` is already the name of a team key in {}: a key name identifies one key in limits and the usage ledger", config.source)));
    }
    let expires_ms = request
        .expires
        .as_deref()
        .map(|e| expiry_ms(e, now_ms))
        .transpose()
        .map_err(invalid)?;
    let l = &request.limits;
    let limits = KeyLimits {
        requests_per_minute: check_limit(l.requests_per_minute, "requests_per_minute")
            .map_err(invalid)?,
        tokens_per_minute: check_limit(l.tokens_per_minute, "tokens_per_minute")
            .map_err(invalid)?,
        max_concurrent: check_limit(l.max_concurrent, "max_concurrent").map_err(invalid)?,
        budget_nano_usd_per_day: parse_budget(l.budget_usd_per_day.as_ref(), "budget_usd_per_day")
            .map_err(invalid)?,
        budget_nano_usd_per_month: parse_budget(
            l.budget_usd_per_month.as_ref(),
            "budget_usd_per_month",
        )
        .map_err(invalid)?,
    };
    Ok(NewKey {
        name: name.to_string(),
        team: team.to_string(),
        created_ms: now_ms,
        expires_ms,
        limits,
    })
}

/// A key's state at `now_ms`.
pub fn status(revoked_ms: Option<i64>, expires_ms: Option<i64>, now_ms: i64) -> &'static str {
    match (revoked_ms, expires_ms) {
        (Some(_), _) => "revoked",
        (None, Some(at)) if at <= now_ms => "expired",
        _ => "active",
    }
}

/// What a client presenting an expired key is told.
pub fn expired_message(name: &str, expires_ms: i64) -> String {
    format!(
        "key `{name}` expired at {}: ask an admin for a new one (switchyard keys create)",
        rfc3339_millis(expires_ms)
    )
}

#[cfg(test)]
mod tests;
