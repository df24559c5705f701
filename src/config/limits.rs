//! Validation of rate and concurrency limits and spend budgets (`default_limits`, `teams[].limits`,
//! `teams[].keys[].limits`), `shared_state` and `listen.proxy_tls`. Kept apart from `validate.rs`,
//! which calls it, so each stays one screenful of concerns.

use std::time::Duration;

use super::file::{ProxyTlsFile, RateLimitsFile, SharedStateFile};
use super::internal::ProxyTls;
use super::validate::FieldError;
use crate::limits::budget::{usd_to_nano, DEFAULT_WARN_PPM};
use crate::limits::{LimitKind, LimitSet, OnError, SharedSettings};
use crate::listener_tls::{self, Part};
use crate::secret::Secret;

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError {
        path: path.into(),
        message: message.into(),
    })
}

/// One limit as written: left out, explicitly `unlimited`, or a value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Setting {
    #[default]
    Unset,
    Unlimited,
    Limit(u64),
}

/// A `limits:` block as written, before defaults apply: one setting per [`LimitKind::ALL`], and
/// `budget_warn_at` in millionths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct LimitSpec {
    settings: [Setting; LimitKind::ALL.len()],
    warn_ppm: Option<u32>,
}

fn index(kind: LimitKind) -> usize {
    LimitKind::ALL.iter().position(|&k| k == kind).unwrap_or(0)
}

impl LimitSpec {
    /// Parses a `limits:` block at `path`.
    pub(super) fn parse(file: Option<RateLimitsFile>, path: &str) -> Result<LimitSpec, FieldError> {
        let Some(RateLimitsFile {
            requests_per_minute,
            tokens_per_minute,
            max_concurrent,
            budget_usd_per_day,
            budget_usd_per_month,
            budget_warn_at,
        }) = file
        else {
            return Ok(LimitSpec::default());
        };
        let mut spec = LimitSpec::default();
        for (kind, value) in [
            (LimitKind::RequestsPerMinute, requests_per_minute),
            (LimitKind::TokensPerMinute, tokens_per_minute),
            (LimitKind::MaxConcurrent, max_concurrent),
        ] {
            spec.settings[index(kind)] = setting(value, &format!("{path}.{}", kind.field()))?;
        }
        for (kind, value) in [
            (LimitKind::BudgetPerDay, budget_usd_per_day),
            (LimitKind::BudgetPerMonth, budget_usd_per_month),
        ] {
            spec.settings[index(kind)] = budget(value, &format!("{path}.{}", kind.field()))?;
        }
        spec.warn_ppm = warn_at(budget_warn_at, &format!("{path}.budget_warn_at"))?;
        Ok(spec)
    }

    /// The limits in force: each field this block sets, else the default's (`unlimited` lifts it).
    pub(super) fn over(self, default: LimitSpec) -> LimitSet {
        let value =
            |kind: LimitKind| match (self.settings[index(kind)], default.settings[index(kind)]) {
                (Setting::Limit(n), _) | (Setting::Unset, Setting::Limit(n)) => Some(n),
                _ => None,
            };
        LimitSet {
            requests_per_minute: value(LimitKind::RequestsPerMinute),
            tokens_per_minute: value(LimitKind::TokensPerMinute),
            max_concurrent: value(LimitKind::MaxConcurrent),
            budget_usd_per_day: value(LimitKind::BudgetPerDay),
            budget_usd_per_month: value(LimitKind::BudgetPerMonth),
            budget_warn_ppm: self
                .warn_ppm
                .or(default.warn_ppm)
                .unwrap_or(DEFAULT_WARN_PPM),
        }
    }
}

/// A YAML scalar as text (`${VAR}` interpolation yields strings); `None` when left out.
fn scalar(
    value: Option<serde_yaml::Value>,
    path: &str,
    expected: &str,
) -> Result<Option<String>, FieldError> {
    use serde_yaml::Value;
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => err(
            path,
            format!(
                "{expected}, got {}",
                serde_yaml::to_string(&other).unwrap_or_default().trim()
            ),
        ),
    }
}

fn setting(value: Option<serde_yaml::Value>, path: &str) -> Result<Setting, FieldError> {
    let expected = "expected a whole number of at least 1, or `unlimited`";
    let Some(text) = scalar(value, path, expected)? else {
        return Ok(Setting::Unset);
    };
    if text == "unlimited" {
        return Ok(Setting::Unlimited);
    }
    match text.parse::<u64>() {
        Ok(0) => err(
            path,
            format!("0 would refuse every request: {expected} (leave the field out for no limit)"),
        ),
        Ok(n) => Ok(Setting::Limit(n)),
        Err(_) => err(path, format!("`{text}` is not valid: {expected}")),
    }
}

/// A budget in USD, held as nano-USD.
fn budget(value: Option<serde_yaml::Value>, path: &str) -> Result<Setting, FieldError> {
    let expected = "expected an amount of USD greater than 0, such as 50 or 0.25, or `unlimited`";
    let Some(text) = scalar(value, path, expected)? else {
        return Ok(Setting::Unset);
    };
    if text == "unlimited" {
        return Ok(Setting::Unlimited);
    }
    let usd: f64 = text.parse().map_err(|_| FieldError {
        path: path.into(),
        message: format!("`{text}` is not valid: {expected}"),
    })?;
    usd_to_nano(usd).map(Setting::Limit).or_else(|e| {
        err(
            path,
            format!("{e} (leave the field out, or write `unlimited`, for no budget)"),
        )
    })
}

/// `budget_warn_at`: a fraction of a budget, 0 < x ≤ 1, in millionths.
fn warn_at(value: Option<serde_yaml::Value>, path: &str) -> Result<Option<u32>, FieldError> {
    let expected =
        "expected a fraction of the budget greater than 0 and at most 1, such as 0.8 (the default)";
    let Some(text) = scalar(value, path, expected)? else {
        return Ok(None);
    };
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 1.0 => Ok(Some((x * 1e6).round() as u32)),
        _ => err(path, format!("`{text}` is not valid: {expected}")),
    }
}

pub(super) const DEFAULT_STORE_TIMEOUT_MS: u64 = 100;

pub(super) fn shared_state(
    file: Option<SharedStateFile>,
) -> Result<Option<SharedSettings>, FieldError> {
    let Some(SharedStateFile {
        redis_url,
        on_error,
        timeout_ms,
        key_prefix,
    }) = file
    else {
        return Ok(None);
    };
    let redis_url = redis_url.trim();
    let expected = "expected redis://[user:password@]host[:port][/db]";
    let url = match url::Url::parse(redis_url) {
        Ok(url) => url,
        Err(e) => {
            return err(
                "shared_state.redis_url",
                format!("not a URL ({e}): {expected}"),
            )
        }
    };
    let mut location = url.clone();
    let _ = location.set_password(None);
    let location = location.to_string();
    if url.scheme() != "redis" {
        return err(
            "shared_state.redis_url",
            format!(
                "`{location}`: scheme `{}` is not supported: {expected}",
                url.scheme()
            ),
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        return err(
            "shared_state.redis_url",
            format!("`{location}` has no host: {expected}"),
        );
    }
    if let Err(e) = redis::Client::open(redis_url) {
        return err(
            "shared_state.redis_url",
            format!("`{location}` is not a Redis URL ({e}): {expected}"),
        );
    }
    let on_error = match on_error.as_deref().map(str::trim) {
        None | Some("") | Some("fail_open") => OnError::FailOpen,
        Some("fail_closed") => OnError::FailClosed,
        Some(other) => return err("shared_state.on_error", format!("`{other}` is not valid: expected fail_open (count on each replica's own counters while Redis is unreachable) or fail_closed (refuse requests that have limits)")),
    };
    let timeout = match timeout_ms {
        Some(0) => return err("shared_state.timeout_ms", format!("must be at least 1 (milliseconds an admission waits for Redis; default {DEFAULT_STORE_TIMEOUT_MS})")),
        Some(ms) if ms > 10_000 => return err("shared_state.timeout_ms", format!("{ms} ms would hold every request that long while Redis hangs: expected at most 10000 (default {DEFAULT_STORE_TIMEOUT_MS})")),
        Some(ms) => Duration::from_millis(ms),
        None => Duration::from_millis(DEFAULT_STORE_TIMEOUT_MS),
    };
    let key_prefix = key_prefix
        .map(|p| p.trim().to_string())
        .unwrap_or_else(|| "switchyard".into());
    if key_prefix.is_empty() || key_prefix.contains(char::is_whitespace) {
        return err("shared_state.key_prefix", "expected a non-empty word without spaces, such as `switchyard` or `switchyard-staging`");
    }
    Ok(Some(SharedSettings {
        redis_url: Secret::new(redis_url),
        location,
        on_error,
        timeout,
        key_prefix,
    }))
}

pub(super) fn proxy_tls(file: Option<ProxyTlsFile>) -> Result<Option<ProxyTls>, FieldError> {
    let Some(ProxyTlsFile { cert, key }) = file else {
        return Ok(None);
    };
    match listener_tls::load(&cert, &key) {
        Ok(certified) => Ok(Some(ProxyTls {
            cert,
            key,
            certified,
        })),
        Err(e) => err(
            if e.part == Part::Cert {
                "listen.proxy_tls.cert"
            } else {
                "listen.proxy_tls.key"
            },
            e.message,
        ),
    }
}
