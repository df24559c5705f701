//! Validation of rate and concurrency limits (`default_limits`, `teams[].limits`,
//! `teams[].keys[].limits`), `shared_state` and `listen.proxy_tls`. Kept apart from `validate.rs`,
//! which calls it, so each stays one screenful of concerns.

use std::time::Duration;

use super::file::{ProxyTlsFile, RateLimitsFile, SharedStateFile};
use super::internal::ProxyTls;
use super::validate::FieldError;
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

/// A `limits:` block as written, before defaults apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct LimitSpec([Setting; 3]);

fn index(kind: LimitKind) -> usize {
    match kind {
        LimitKind::RequestsPerMinute => 0,
        LimitKind::TokensPerMinute => 1,
        LimitKind::MaxConcurrent => 2,
    }
}

impl LimitSpec {
    /// Parses a `limits:` block at `path`.
    pub(super) fn parse(file: Option<RateLimitsFile>, path: &str) -> Result<LimitSpec, FieldError> {
        let Some(RateLimitsFile {
            requests_per_minute,
            tokens_per_minute,
            max_concurrent,
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
            spec.0[index(kind)] = setting(value, &format!("{path}.{}", kind.field()))?;
        }
        Ok(spec)
    }

    /// The limits in force: each field this block sets, else the default's (`unlimited` lifts it).
    pub(super) fn over(self, default: LimitSpec) -> LimitSet {
        let value = |kind: LimitKind| match (self.0[index(kind)], default.0[index(kind)]) {
            (Setting::Limit(n), _) | (Setting::Unset, Setting::Limit(n)) => Some(n),
            _ => None,
        };
        LimitSet {
            requests_per_minute: value(LimitKind::RequestsPerMinute),
            tokens_per_minute: value(LimitKind::TokensPerMinute),
            max_concurrent: value(LimitKind::MaxConcurrent),
        }
    }
}

fn setting(value: Option<serde_yaml::Value>, path: &str) -> Result<Setting, FieldError> {
    use serde_yaml::Value;
    let expected = "expected a whole number of at least 1, or `unlimited`";
    let text = match value {
        None | Some(Value::Null) => return Ok(Setting::Unset),
        Some(Value::Number(n)) => n.to_string(),
        // `${VAR}` interpolation yields strings.
        Some(Value::String(s)) => s.trim().to_string(),
        Some(other) => {
            return err(
                path,
                format!(
                    "{expected}, got {}",
                    serde_yaml::to_string(&other).unwrap_or_default().trim()
                ),
            )
        }
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
