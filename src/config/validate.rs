//! File model → internal model. Every check lives here, once, and every failure names the
//! field path and what would have been valid; the caller adds the file name.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use globset::{Glob, GlobSetBuilder};

use super::file::{FileConfig, ModelFile, ProviderFile, TeamFile, TeamKeyFile};
use super::internal::*;
use super::accounting;
use super::interpolate::Env;
use super::limits::LimitSpec;
use crate::auth::credential::Family;
use crate::limits::{Scope, ScopeKind};
use crate::pool::{PoolSettings, Strategy};
use crate::auth::{digest, key_id, Team, TeamKey, Teams};
use crate::routing::{Budget, Destination, ProviderEntry, Router, TargetModel, TargetSpec};
use crate::secret::Secret;

/// A validation failure at a field path.
#[derive(Debug)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError { path: path.into(), message: message.into() })
}

pub const DEFAULT_PROXY_LISTEN: &str = "127.0.0.1:8317";
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9317";
pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;
const PROVIDER_KINDS: &str = "anthropic, openai, mock";

pub fn validate(file: FileConfig, source: &str, env: &dyn Env) -> Result<Config, FieldError> {
    let FileConfig { listen, server, limits, providers, models, default_model, teams, credential_passthrough, groups, default_limits, shared_state, rules, usage, pricing, admin, log } = file;

    let listen = Listen {
        proxy: listen_addr(listen.proxy, DEFAULT_PROXY_LISTEN, "listen.proxy")?,
        admin: listen_addr(listen.admin, DEFAULT_ADMIN_LISTEN, "listen.admin")?,
        proxy_tls: super::limits::proxy_tls(listen.proxy_tls)?,
    };
    if listen.proxy == listen.admin {
        return err("listen.admin", format!("`{}` is also listen.proxy: the admin/metrics listener needs its own address", listen.admin));
    }

    let threads = match server.threads {
        Some(0) => return err("server.threads", "must be at least 1 (omit it to use one thread per CPU)"),
        Some(n) => n,
        None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
    };
    let server = ServerSettings {
        threads,
        grace_period_seconds: server.grace_period_seconds.unwrap_or(30),
        drain_delay_seconds: server.drain_delay_seconds.unwrap_or(0),
        upstream_keepalive_pool_size: server.upstream_keepalive_pool_size.unwrap_or(128),
        upgrade_sock: server.upgrade_sock.filter(|s| !s.is_empty()).unwrap_or_else(|| "/tmp/switchyard_upgrade.sock".to_string()),
        ca_file: match server.ca_file.filter(|s| !s.is_empty()) {
            Some(path) if !std::path::Path::new(&path).is_file() => {
                return err("server.ca_file", format!("`{path}` is not a readable file: expected a PEM bundle of CA certificates"));
            }
            other => other,
        },
    };

    let max_body_bytes = limits.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
    if max_body_bytes < 1024 {
        return err("limits.max_body_bytes", format!("{max_body_bytes} is too small: expected at least 1024 bytes (default {DEFAULT_MAX_BODY_BYTES})"));
    }
    if limits.body_timeout_ms == Some(0) {
        return err("limits.body_timeout_ms", "must be greater than 0 (milliseconds; default 60000)");
    }
    let limits = Limits {
        max_body_bytes: usize::try_from(max_body_bytes).unwrap_or(usize::MAX),
        body_timeout: Duration::from_millis(limits.body_timeout_ms.unwrap_or(60_000)),
    };

    let (providers, disabled) = build_providers(providers)?;
    let mut router = Router::default();
    for (index, p) in providers.iter().enumerate() {
        router.add_provider(&p.name, ProviderEntry { index, any_model: p.any_model, listed_models: p.listed_models.clone() });
    }
    let mut disabled = disabled;
    // What a disabled provider switched off: shown by `check` and summed up in one line at start.
    let mut skipped = Vec::new();
    for (name, group) in groups {
        let path = format!("groups.{name}");
        if name.is_empty() || name.contains(|c: char| c == '/' || c.is_whitespace() || c.is_control()) {
            return err(path, "a group name must be non-empty, without `/` or spaces (it is the prefix in `name/model`)");
        }
        if router.provider(&name).is_some() || disabled.contains(&name) {
            return err(path, format!("`{name}` is also a provider name: a group needs a name of its own"));
        }
        if group.members.is_empty() {
            return err(format!("{path}.members"), "needs at least one provider name");
        }
        let mut members = Vec::new();
        for (j, member) in group.members.iter().enumerate() {
            match router.provider(member) {
                Some(entry) => members.push(entry.index),
                None if disabled.contains(member) => skipped.push(format!("{path}.members[{j}]: provider `{member}` is disabled (no key set)")),
                None => return err(format!("{path}.members[{j}]"), format!("no provider named `{member}`")),
            }
        }
        if members.is_empty() {
            disabled.insert(name);
        } else {
            router.add_group(&name, members);
        }
    }
    for (i, model) in models.into_iter().enumerate() {
        add_model_rule(&mut router, model, i, &disabled, &mut skipped)?;
    }
    let default_model = default_model.filter(|m| !m.trim().is_empty());
    if let Some(model) = &default_model {
        model_name(model, "default_model")?;
        check_resolves(&router, model, "default_model", &providers, &mut skipped)?;
    }
    router.set_default_model(default_model);

    let rules_context = super::rules::Context { router: &router, disabled: &disabled, enabled_providers: providers.iter().map(|p| p.name.as_str()).collect() };
    let global_rules = super::rules::build(rules, "rules", &rules_context, &mut skipped)?;
    let team_defaults = TeamDefaults {
        passthrough: credential_passthrough.unwrap_or(false),
        limits: LimitSpec::parse(default_limits, "default_limits")?,
        rules: &global_rules,
        rules_context: &rules_context,
    };
    let (teams, generated_team_key, team_digests) = build_teams(teams, env, &router, &providers, &team_defaults, &mut skipped)?;
    for line in &skipped {
        log::debug!("{line}");
    }
    let shared_state = super::limits::shared_state(shared_state)?;
    let usage = accounting::usage(usage, env)?;
    let pricing = accounting::pricing(pricing, &providers)?;
    let model_labels = accounting::model_labels(&router, &providers, &pricing);
    let admin_keys = accounting::admin_keys(admin, env, &team_digests)?;
    let request_log = accounting::request_log(log)?;

    Ok(Config {
        source: source.to_string(),
        listen,
        server,
        limits,
        providers,
        router,
        rules: global_rules,
        teams,
        generated_team_key,
        skipped,
        shared_state,
        usage,
        pricing,
        admin_keys,
        request_log,
        model_labels,
    })
}

/// A model name from the config, held to the rule client names are (see `routing::check_model_name`):
/// every name the router can produce must fit in a response header.
fn model_name(name: &str, path: &str) -> Result<(), FieldError> {
    crate::routing::check_model_name(name).or_else(|e| err(path, e.0.replacen("`model`", &format!("`{}`", name.escape_debug()), 1)))
}

fn listen_addr(value: Option<String>, default: &str, path: &str) -> Result<String, FieldError> {
    let value = value.filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string());
    match value.parse::<SocketAddr>() {
        Ok(_) => Ok(value),
        Err(_) => err(path, format!("`{value}` is not an address: expected IP:PORT such as `{default}` or `0.0.0.0:8317`")),
    }
}

#[derive(PartialEq)]
enum Enabled {
    Auto,
    Yes,
    No,
}

fn parse_enabled(value: Option<serde_yaml::Value>, path: &str) -> Result<Enabled, FieldError> {
    use serde_yaml::Value;
    match value {
        None => Ok(Enabled::Auto),
        Some(Value::Bool(true)) => Ok(Enabled::Yes),
        Some(Value::Bool(false)) => Ok(Enabled::No),
        Some(Value::String(s)) => match s.trim() {
            "" | "auto" => Ok(Enabled::Auto),
            "true" | "yes" | "1" => Ok(Enabled::Yes),
            "false" | "no" | "0" => Ok(Enabled::No),
            other => err(path, format!("`{other}` is not valid: expected auto, true or false")),
        },
        Some(_) => err(path, "expected auto, true or false"),
    }
}

/// Builds the enabled providers; returns the names of configured-but-disabled ones too,
/// so model rules may mention them without being an error.
fn build_providers(files: BTreeMap<String, ProviderFile>) -> Result<(Vec<Arc<Provider>>, HashSet<String>), FieldError> {
    let mut enabled = Vec::new();
    let mut disabled = HashSet::new();
    let mut mocks = Vec::new();
    for (name, file) in files {
        let path = format!("providers.{name}");
        if name.is_empty() || name.contains('/') || name.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return err(path, "a provider name must be non-empty, without `/` or spaces (it is the prefix in `name/model`)");
        }
        let on = parse_enabled(file.enabled.clone(), &format!("{path}.enabled"))?;
        let provider = build_provider(&name, file, &path)?;
        let wanted = match (provider.kind, &on) {
            (_, Enabled::Yes) => true,
            (_, Enabled::No) => false,
            (ProviderKind::Mock, Enabled::Auto) => {
                mocks.push(provider);
                continue;
            }
            (_, Enabled::Auto) => !provider.keys.is_empty(),
        };
        if wanted {
            enabled.push(Arc::new(provider));
        } else {
            disabled.insert(name);
        }
    }
    // `auto` mocks serve only when nothing real is configured: the newcomer's out-of-the-box path.
    let nothing_real = enabled.iter().all(|p| p.kind == ProviderKind::Mock);
    for mock in mocks {
        if nothing_real {
            enabled.push(Arc::new(mock));
        } else {
            disabled.insert(mock.name.clone());
        }
    }
    Ok((enabled, disabled))
}

fn build_provider(name: &str, file: ProviderFile, path: &str) -> Result<Provider, FieldError> {
    let ProviderFile { kind, enabled: _, base_url, keys, headers, timeouts, pool, tls, any_model, models, translation, passthrough_family, responses_api } = file;
    let kind = match kind.as_str() {
        "anthropic" => ProviderKind::Anthropic,
        "openai" => ProviderKind::OpenAi,
        "mock" => ProviderKind::Mock,
        other => return err(format!("{path}.kind"), format!("unknown kind `{other}`: expected one of {PROVIDER_KINDS}")),
    };
    let base_url = base_url.filter(|u| !u.trim().is_empty());
    let upstream = match (kind, base_url) {
        (ProviderKind::Mock, None) => Upstream::BuiltinMock,
        (ProviderKind::Anthropic, None) => parse_base_url("https://api.anthropic.com", tls.sni.clone(), &format!("{path}.base_url"))?,
        (ProviderKind::OpenAi, None) => parse_base_url("https://api.openai.com/v1", tls.sni.clone(), &format!("{path}.base_url"))?,
        (_, Some(url)) => parse_base_url(&url, tls.sni.clone(), &format!("{path}.base_url"))?,
    };
    let mut extra_headers = Vec::new();
    for (header, value) in headers {
        let hpath = format!("{path}.headers.{header}");
        let Ok(name) = http::HeaderName::from_bytes(header.as_bytes()) else {
            return err(hpath, "not a valid HTTP header name");
        };
        let Ok(value) = http::HeaderValue::from_str(&value) else {
            return err(hpath, "not a valid HTTP header value (visible ASCII only)");
        };
        extra_headers.push((name, value));
    }
    let ms = |v: Option<u64>, default: u64, field: &str| -> Result<Duration, FieldError> {
        match v {
            Some(0) => err(format!("{path}.timeouts.{field}"), "must be greater than 0 (milliseconds)"),
            Some(n) => Ok(Duration::from_millis(n)),
            None => Ok(Duration::from_millis(default)),
        }
    };
    let timeouts = Timeouts {
        connect: ms(timeouts.connect_ms, 5_000, "connect_ms")?,
        total_connect: ms(timeouts.total_connect_ms, 10_000, "total_connect_ms")?,
        first_byte: ms(timeouts.first_byte_ms, 600_000, "first_byte_ms")?,
        idle: ms(timeouts.idle_ms, 300_000, "idle_ms")?,
        total: ms(timeouts.total_ms, 3_600_000, "total_ms")?,
        write: ms(timeouts.write_ms, 60_000, "write_ms")?,
    };
    for (i, model) in models.iter().enumerate() {
        model_name(model, &format!("{path}.models[{i}]"))?;
    }
    let pool_settings = pool_settings(&pool, keys.iter().filter(|k| !k.trim().is_empty()).count(), path)?;
    let passthrough_family = match passthrough_family {
        Some(f) => match Family::parse(f.trim()) {
            Some(family) => family,
            None => return err(format!("{path}.passthrough_family"), format!("`{f}` is not valid: expected anthropic, openrouter, openai or none")),
        },
        None => default_family(kind, &upstream),
    };
    // Hosted services whose caching the translator knows: OpenRouter honours `cache_control` on content
    // parts, OpenAI routes by `prompt_cache_key`.
    let openrouter = kind == ProviderKind::OpenAi && host_is(&upstream, "openrouter.ai");
    let openai = kind == ProviderKind::OpenAi && host_is(&upstream, "api.openai.com");
    let responses_api = match (kind, responses_api) {
        (ProviderKind::OpenAi, Some(on)) => on,
        (ProviderKind::OpenAi, None) => openai,
        (ProviderKind::Mock, None) => true,
        (_, Some(_)) => {
            return err(
                format!("{path}.responses_api"),
                format!("only applies to kind openai (a server of OpenAI's Responses API); kind {} is answered {}", kind.as_str(), if kind == ProviderKind::Mock { "natively by the mock" } else { "by translation" }),
            )
        }
        (ProviderKind::Anthropic, None) => false,
    };
    Ok(Provider {
        name: name.to_string(),
        kind,
        upstream,
        keys: keys.into_iter().filter(|k| !k.trim().is_empty()).map(|k| Secret::new(k.trim())).collect(),
        extra_headers,
        timeouts,
        http2: pool.http2.unwrap_or(false),
        verify_tls: tls.verify.unwrap_or(true),
        pool_idle_timeout: Duration::from_secs(pool.idle_timeout_seconds.unwrap_or(90)),
        any_model: any_model.unwrap_or(true),
        listed_models: models,
        translation: TranslationSettings {
            reasoning_effort: translation.reasoning_effort.unwrap_or(false),
            max_output_tokens: match translation.max_output_tokens {
                Some(0) => return err(format!("{path}.translation.max_output_tokens"), "must be greater than 0 (omit it for no cap)"),
                other => other,
            },
            cache_control: translation.cache_control.unwrap_or(openrouter),
            prompt_cache_key: translation.prompt_cache_key.unwrap_or(openai),
        },
        passthrough_family,
        pool: pool_settings,
        responses_api,
    })
}

fn pool_settings(pool: &super::file::PoolFile, key_count: usize, path: &str) -> Result<PoolSettings, FieldError> {
    let defaults = PoolSettings::default();
    let strategy = match pool.strategy.as_deref().map(str::trim) {
        None | Some("") | Some("round_robin") => Strategy::RoundRobin,
        Some("random") => Strategy::Random,
        Some("least_in_flight") => Strategy::LeastInFlight,
        Some(other) => return err(format!("{path}.pool.strategy"), format!("`{other}` is not valid: expected round_robin, random or least_in_flight")),
    };
    let weights = pool.weights.clone().unwrap_or_default();
    if !weights.is_empty() && weights.len() != key_count {
        return err(format!("{path}.pool.weights"), format!("has {} weights for {key_count} keys: give one weight per key, in order", weights.len()));
    }
    if weights.contains(&0) {
        return err(format!("{path}.pool.weights"), "weights must be at least 1 (remove a key to stop using it)");
    }
    if pool.circuit_failures == Some(0) {
        return err(format!("{path}.pool.circuit_failures"), "must be at least 1");
    }
    Ok(PoolSettings {
        strategy,
        affinity: pool.affinity.unwrap_or(defaults.affinity),
        cooldown: pool.cooldown_seconds.map_or(defaults.cooldown, Duration::from_secs),
        circuit_failures: pool.circuit_failures.unwrap_or(defaults.circuit_failures),
        circuit_open: pool.circuit_open_seconds.map_or(defaults.circuit_open, Duration::from_secs),
        weights,
    })
}

/// Whether the provider's base URL host is `host`: the hosted services whose behaviour sets defaults.
fn host_is(upstream: &Upstream, host: &str) -> bool {
    matches!(upstream, Upstream::Url(u) if u.host.eq_ignore_ascii_case(host))
}

/// Which client credentials a provider can take by default: Anthropic's for Anthropic, and the
/// two hosted OpenAI-compatible services by host; anything else only when configured.
fn default_family(kind: ProviderKind, upstream: &Upstream) -> Option<Family> {
    let host = match upstream {
        Upstream::Url(u) => u.host.as_str(),
        Upstream::BuiltinMock => return None,
    };
    match kind {
        ProviderKind::Anthropic => Some(Family::Anthropic),
        ProviderKind::OpenAi if host == "openrouter.ai" => Some(Family::OpenRouter),
        ProviderKind::OpenAi if host == "api.openai.com" => Some(Family::OpenAi),
        _ => None,
    }
}

fn parse_base_url(raw: &str, sni: Option<String>, path: &str) -> Result<Upstream, FieldError> {
    let expected = "expected an http:// or https:// URL such as `https://api.anthropic.com` or `http://127.0.0.1:11434/v1`";
    let url = match url::Url::parse(raw) {
        Ok(url) => url,
        Err(e) => return err(path, format!("`{raw}` is not a URL ({e}): {expected}")),
    };
    let tls = match url.scheme() {
        "https" => true,
        "http" => false,
        other => return err(path, format!("scheme `{other}` is not supported: {expected}")),
    };
    let Some(host) = url.host_str() else {
        return err(path, format!("`{raw}` has no host: {expected}"));
    };
    if url.query().is_some() || url.fragment().is_some() {
        return err(path, format!("`{raw}` must not carry a query or fragment: {expected}"));
    }
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
    let base_path = url.path().trim_end_matches('/').to_string();
    let sni = sni.filter(|s| !s.is_empty()).unwrap_or_else(|| host.clone());
    Ok(Upstream::Url(UpstreamUrl { tls, host, port, base_path, sni }))
}

fn add_model_rule(router: &mut Router, model: ModelFile, i: usize, disabled: &HashSet<String>, skipped: &mut Vec<String>) -> Result<(), FieldError> {
    let path = format!("models[{i}]");
    let ModelFile { name, targets, max_attempts, fallback_deadline_ms } = model;
    if max_attempts == Some(0) {
        return err(format!("{path}.max_attempts"), "must be at least 1 (omit it to allow every target)");
    }
    let budget = Budget { max_attempts, deadline: fallback_deadline_ms.map(Duration::from_millis) };
    if name.trim().is_empty() {
        return err(format!("{path}.name"), "must not be empty");
    }
    model_name(&name, &format!("{path}.name"))?;
    if targets.is_empty() {
        return err(format!("{path}.targets"), "needs at least one target `provider/upstream-model`");
    }
    let mut specs = Vec::new();
    for (j, target) in targets.iter().enumerate() {
        let tpath = format!("{path}.targets[{j}]");
        let Some((provider, upstream_model)) = target.split_once('/') else {
            return err(tpath, format!("`{target}` is not `provider/upstream-model` (use `provider/*` to forward the requested name)"));
        };
        if upstream_model.is_empty() {
            return err(tpath, format!("`{target}` has no model after `/` (use `{provider}/*` to forward the requested name)"));
        }
        model_name(target, &tpath)?;
        let dest = match (router.provider(provider), router.group(provider)) {
            (Some(entry), _) => Destination::Provider(entry.index),
            (None, Some(group)) => Destination::Group(group),
            (None, None) if disabled.contains(provider) => {
                skipped.push(format!("{tpath}: provider `{provider}` is disabled (no key set); target skipped"));
                continue;
            }
            (None, None) => return err(tpath, format!("no provider or group named `{provider}`: define it under `providers:` or `groups:`")),
        };
        let model = if upstream_model == "*" { TargetModel::Requested } else { TargetModel::Fixed(upstream_model.to_string()) };
        specs.push(TargetSpec { dest, model });
    }
    if specs.is_empty() {
        skipped.push(format!("{path} (`{name}`): every target's provider is disabled; rule skipped"));
        router.add_disabled_name(&name);
        return Ok(());
    }
    router
        .add_rule(&name, specs, budget)
        .or_else(|e| err(format!("{path}.name"), format!("`{name}` is not a valid glob: {}", e.0)))
}

fn check_resolves(router: &Router, model: &str, path: &str, providers: &[Arc<Provider>], skipped: &mut Vec<String>) -> Result<(), FieldError> {
    if router.resolve_direct(model).is_some() {
        return Ok(());
    }
    if router.is_disabled_name(model) {
        // A real rule whose providers have no keys yet (e.g. the example on a fresh machine): not a typo.
        skipped.push(format!("{path}: `{model}` has no enabled provider right now; requests falling back to it get 404 until one is enabled"));
        return Ok(());
    }
    let enabled: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
    err(
        path,
        format!(
            "`{model}` matches no model rule and no enabled provider; enabled providers: {} (a provider is enabled when its keys are set)",
            if enabled.is_empty() { "none".to_string() } else { enabled.join(", ") }
        ),
    )
}

/// What a team gets when it does not say otherwise.
struct TeamDefaults<'a> {
    passthrough: bool,
    limits: LimitSpec,
    rules: &'a Option<Arc<crate::rules::RuleSet>>,
    rules_context: &'a super::rules::Context<'a>,
}

/// The teams, the key generated at this start (if any), and every team key's digest (so an admin
/// key can be refused for being a team key too).
type BuiltTeams = (Teams, Option<GeneratedKey>, HashSet<[u8; 32]>);

fn build_teams(
    files: Vec<TeamFile>,
    env: &dyn Env,
    router: &Router,
    providers: &[Arc<Provider>],
    defaults: &TeamDefaults<'_>,
    skipped: &mut Vec<String>,
) -> Result<BuiltTeams, FieldError> {
    if files.is_empty() {
        return err("teams", "at least one team is required: clients authenticate with a team key");
    }
    let mut teams = Teams::default();
    let mut generated = None;
    let mut names = HashSet::new();
    let mut digests = HashSet::new();
    // Key names, each with where it was first given: a name identifies one key everywhere.
    let mut key_names: BTreeMap<String, String> = BTreeMap::new();
    for (i, file) in files.into_iter().enumerate() {
        let path = format!("teams[{i}]");
        let TeamFile { name, keys, models, default_model, credential_passthrough, limits, rules } = file;
        if name.trim().is_empty() {
            return err(format!("{path}.name"), "must not be empty");
        }
        if !names.insert(name.clone()) {
            return err(format!("{path}.name"), format!("team `{name}` is defined twice"));
        }
        if keys.is_empty() {
            return err(format!("{path}.keys"), "needs at least one key (`env: VAR` or `sha256: <hex digest>`)");
        }
        let allowed_models = match models {
            None => None,
            Some(globs) => {
                let mut builder = GlobSetBuilder::new();
                for (j, g) in globs.iter().enumerate() {
                    let glob = Glob::new(g).or_else(|e| err(format!("{path}.models[{j}]"), format!("`{g}` is not a valid glob: {}", e.kind())))?;
                    builder.add(glob);
                }
                Some(builder.build().or_else(|e| err(format!("{path}.models"), e.to_string()))?)
            }
        };
        let default_model = default_model.filter(|m| !m.trim().is_empty());
        if let Some(m) = &default_model {
            model_name(m, &format!("{path}.default_model"))?;
            check_resolves(router, m, &format!("{path}.default_model"), providers, skipped)?;
        }
        let team_limits = LimitSpec::parse(limits, &format!("{path}.limits"))?.over(defaults.limits);
        let rules = super::rules::for_team(rules, &format!("{path}.rules"), defaults.rules, defaults.rules_context, skipped)?;
        let team = Arc::new(Team {
            name: name.clone(),
            allowed_models,
            default_model,
            credential_passthrough: credential_passthrough.unwrap_or(defaults.passthrough),
            limits: Scope::new(ScopeKind::Team, &name, &name, team_limits),
            rules,
        });
        for (j, mut key) in keys.into_iter().enumerate() {
            let kpath = format!("{path}.keys[{j}]");
            let key_name = key.name.take().map(|n| n.trim().to_string());
            if let Some(key_name) = &key_name {
                if key_name.is_empty() {
                    return err(format!("{kpath}.name"), "must not be empty (leave it out to be known by the key's digest prefix)");
                }
                if let Some(first) = key_names.insert(key_name.clone(), kpath.clone()) {
                    return err(format!("{kpath}.name"), format!("`{key_name}` is already the name of {first}: a key name identifies one key in limits and logs"));
                }
            }
            let key_limits = LimitSpec::parse(key.limits.take(), &format!("{kpath}.limits"))?.over(LimitSpec::default());
            let key_digest = match team_key_digest(key, &kpath, env, &name, &mut generated)? {
                Some(d) => d,
                None => continue,
            };
            if !digests.insert(key_digest) {
                return err(kpath, "this key is already used by another entry: each key must identify one team");
            }
            let id = key_id(key_name.as_deref(), &key_digest);
            let limits = Scope::new(ScopeKind::Key, &id, &name, key_limits);
            teams.add(key_digest, TeamKey { team: team.clone(), id, limits });
        }
    }
    Ok((teams, generated, digests))
}

/// The digest of a key given as `env:` or `sha256:` (no generation), for admin keys.
pub(super) fn key_digest(key: TeamKeyFile, path: &str, env: &dyn Env) -> Result<[u8; 32], FieldError> {
    let mut generated = None;
    match team_key_digest(key, path, env, "", &mut generated)? {
        Some(d) => Ok(d),
        None => err(path, "expected `env: VAR` (a variable holding the key) or `sha256: <hex digest>`"),
    }
}

fn team_key_digest(
    key: TeamKeyFile,
    path: &str,
    env: &dyn Env,
    team: &str,
    generated: &mut Option<GeneratedKey>,
) -> Result<Option<[u8; 32]>, FieldError> {
    let TeamKeyFile { env: var, sha256, generate_if_unset, name: _, limits: _ } = key;
    match (var, sha256) {
        (Some(var), None) => match env.var(&var).filter(|v| !v.trim().is_empty()) {
            Some(value) => Ok(Some(digest(value.trim()))),
            None if generate_if_unset => {
                if generated.is_some() {
                    return err(path, "only one key per config may use generate_if_unset");
                }
                let key = generate_key();
                let d = digest(&key);
                *generated = Some(GeneratedKey { team: team.to_string(), env: var, key: Secret::new(key) });
                Ok(Some(d))
            }
            None => err(format!("{path}.env"), format!("environment variable {var} is not set (or empty); set it to the key, or use `sha256:` with the key's digest")),
        },
        (None, Some(hex_digest)) => {
            let bytes = hex::decode(hex_digest.trim()).ok().filter(|b| b.len() == 32);
            match bytes {
                Some(b) => {
                    let mut d = [0u8; 32];
                    d.copy_from_slice(&b);
                    Ok(Some(d))
                }
                None => err(format!("{path}.sha256"), "expected 64 hex characters: the SHA-256 of the key (`printf %s KEY | sha256sum`)"),
            }
        }
        (Some(_), Some(_)) => err(path, "give either `env` or `sha256`, not both"),
        (None, None) => err(path, "expected `env: VAR` (a variable holding the key) or `sha256: <hex digest>`"),
    }
}

/// A fresh team key, made like a person key (`crate::keys::generate`: `sk-sy-` and 32 random bytes).
fn generate_key() -> String {
    crate::keys::generate().key.expose().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_follow_sdk_conventions() {
        let Upstream::Url(u) = parse_base_url("http://127.0.0.1:11434/v1/", None, "p").unwrap() else { panic!() };
        assert_eq!((u.tls, u.host.as_str(), u.port, u.base_path.as_str()), (false, "127.0.0.1", 11434, "/v1"));
        let Upstream::Url(u) = parse_base_url("https://api.anthropic.com", None, "p").unwrap() else { panic!() };
        assert_eq!((u.tls, u.port, u.base_path.as_str(), u.sni.as_str()), (true, 443, "", "api.anthropic.com"));
        assert!(parse_base_url("ftp://x", None, "p").unwrap_err().message.contains("scheme `ftp`"));
        assert!(parse_base_url("nonsense", None, "p").unwrap_err().message.contains("not a URL"));
    }

    #[test]
    fn generated_keys_are_long_and_distinct() {
        let (a, b) = (generate_key(), generate_key());
        assert_ne!(a, b);
        assert_eq!(a.len(), 70);
    }
}
