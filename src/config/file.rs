//! The config *file* model: exactly what a user writes in YAML, deserialised with
//! `deny_unknown_fields` so a typo is an error, never a silently ignored setting.
//! Nothing outside `config/` sees these types: `validate.rs` turns them into the
//! internal model once, and the running proxy only ever reads that.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub listen: ListenFile,
    #[serde(default)]
    pub server: ServerFile,
    #[serde(default)]
    pub limits: LimitsFile,
    /// Provider entries by name; the name is what `provider/model` targets refer to.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderFile>,
    #[serde(default)]
    pub models: Vec<ModelFile>,
    /// Where requests for a model no rule serves go (a model name, routed like any other).
    #[serde(default)]
    pub default_model: Option<String>,
    #[serde(default)]
    pub teams: Vec<TeamFile>,
    /// Default for every team's `credential_passthrough` (off unless set).
    #[serde(default)]
    pub credential_passthrough: Option<bool>,
    /// Several provider entries (accounts, regions) behind one name, balanced per request.
    #[serde(default)]
    pub groups: BTreeMap<String, GroupFile>,
    /// Rate and concurrency limits of every team that sets none of its own (field by field).
    #[serde(default)]
    pub default_limits: Option<RateLimitsFile>,
    /// Where limit counters are shared by every replica (Redis); without it each replica counts alone.
    #[serde(default)]
    pub shared_state: Option<SharedStateFile>,
    /// Routing rules for every team without its own: first match picks the model.
    #[serde(default)]
    pub rules: Vec<super::rules::RuleFile>,
    /// The usage ledger: where every request's tokens and cost are stored (absent: the default SQLite file).
    #[serde(default)]
    pub usage: Option<UsageFile>,
    /// Prices per model name (USD per million tokens), over the shipped table.
    #[serde(default)]
    pub pricing: BTreeMap<String, crate::pricing::PriceSpec>,
    /// Who may use the admin endpoints (`/admin/usage`).
    #[serde(default)]
    pub admin: AdminFile,
    #[serde(default)]
    pub log: LogFile,
}

/// `limits:` of a team or a key, and `default_limits:`. Each value is a whole number ≥ 1 or `unlimited`
/// (which lifts a default for one team); absent: the default's (for a team), or none (for a key).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsFile {
    #[serde(default)]
    pub requests_per_minute: Option<serde_yaml::Value>,
    /// Input + output tokens per minute.
    #[serde(default)]
    pub tokens_per_minute: Option<serde_yaml::Value>,
    /// Requests under way at once (a stream counts until it ends).
    #[serde(default)]
    pub max_concurrent: Option<serde_yaml::Value>,
    /// USD per UTC day (a number, such as 50 or 0.25).
    #[serde(default)]
    pub budget_usd_per_day: Option<serde_yaml::Value>,
    /// USD per UTC month.
    #[serde(default)]
    pub budget_usd_per_month: Option<serde_yaml::Value>,
    /// The share of a budget (0 < x ≤ 1, default 0.8) from which an admitted request carries
    /// `x-switchyard-budget-remaining`.
    #[serde(default)]
    pub budget_warn_at: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedStateFile {
    /// `redis://[user:password@]host[:port][/db]`.
    pub redis_url: String,
    /// When Redis cannot be reached in time: `fail_open` (count locally, default) or `fail_closed` (refuse).
    #[serde(default)]
    pub on_error: Option<String>,
    /// Longest an admission waits for Redis.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Start of every key this gateway writes (default `switchyard`).
    #[serde(default)]
    pub key_prefix: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UsageFile {
    /// `sqlite://PATH`, `postgres://…`, or `none`.
    pub store: Option<String>,
    /// Records written per statement.
    pub batch_size: Option<usize>,
    /// Longest a finished request's record waits before it is written.
    pub flush_interval_ms: Option<u64>,
    /// Records waiting for the store (or the request log) at most; beyond this they are dropped and counted.
    pub queue_size: Option<usize>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AdminFile {
    /// Admin keys, in the same forms as team keys.
    #[serde(default)]
    pub keys: Vec<TeamKeyFile>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LogFile {
    /// The JSON-lines request log: `stdout`, a file path, or `off` (default).
    pub requests: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupFile {
    /// Provider names; each keeps its own base URL, keys and pool.
    pub members: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListenFile {
    pub proxy: Option<String>,
    pub admin: Option<String>,
    /// Serve HTTPS on the proxy listener with this certificate and key (re-read on SIGHUP).
    pub proxy_tls: Option<ProxyTlsFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyTlsFile {
    /// PEM file with the certificate chain, leaf first.
    pub cert: String,
    /// PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    pub threads: Option<usize>,
    pub grace_period_seconds: Option<u64>,
    pub drain_delay_seconds: Option<u64>,
    pub upstream_keepalive_pool_size: Option<usize>,
    /// Unix socket over which a new process takes the listening sockets from an old one (`run --upgrade`).
    pub upgrade_sock: Option<String>,
    /// PEM bundle of CAs trusted for upstream TLS instead of the system store (private CAs, TLS-inspecting proxies).
    pub ca_file: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    pub max_body_bytes: Option<u64>,
    /// Longest time a client may take to send its request body.
    pub body_timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    pub kind: String,
    /// `auto` (default): enabled when its keys are set; for `mock`, when no other provider is.
    #[serde(default)]
    pub enabled: Option<serde_yaml::Value>,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub timeouts: TimeoutsFile,
    #[serde(default)]
    pub pool: PoolFile,
    #[serde(default)]
    pub tls: TlsFile,
    /// Whether `provider/anything` may name any upstream model (default true).
    #[serde(default)]
    pub any_model: Option<bool>,
    /// Upstream models this provider lists in `/v1/models` under `provider/model`.
    #[serde(default)]
    pub models: Vec<String>,
    /// How requests in the other API format are translated for this provider.
    #[serde(default)]
    pub translation: TranslationFile,
    /// Which clients' own credentials this provider may receive under pass-through:
    /// anthropic | openrouter | openai | none (default: from kind and host).
    #[serde(default)]
    pub passthrough_family: Option<String>,
    /// The server also speaks OpenAI's Responses API (`POST <base_url>/responses`): Responses clients
    /// (Codex CLI) are passed through natively instead of translated to chat completions.
    /// kind openai only; default true for api.openai.com.
    #[serde(default)]
    pub responses_api: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TranslationFile {
    /// The upstream accepts OpenAI's `reasoning_effort` (thinking requests map to it; otherwise dropped).
    pub reasoning_effort: Option<bool>,
    /// Cap on `max_tokens` sent upstream (Claude Code asks for up to 128000).
    pub max_output_tokens: Option<u64>,
    /// Keep Anthropic `cache_control` markers on content parts and tools (default: on for openrouter.ai).
    pub cache_control: Option<bool>,
    /// Send OpenAI's `prompt_cache_key`, derived from the conversation (default: on for api.openai.com).
    pub prompt_cache_key: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsFile {
    pub connect_ms: Option<u64>,
    pub total_connect_ms: Option<u64>,
    /// Non-streaming requests: longest wait for the response (the whole generation).
    pub first_byte_ms: Option<u64>,
    /// Streaming requests: longest silence before the first event and between two events.
    pub idle_ms: Option<u64>,
    pub write_ms: Option<u64>,
    /// Longest time one attempt may take, first byte to last (long streams included).
    pub total_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PoolFile {
    pub idle_timeout_seconds: Option<u64>,
    pub http2: Option<bool>,
    /// How keys are chosen: round_robin (weighted), random (weighted), least_in_flight.
    pub strategy: Option<String>,
    /// Keep a conversation on one key so the provider's prompt cache stays warm (default true).
    pub affinity: Option<bool>,
    /// Rest after a 429 that carries no Retry-After.
    pub cooldown_seconds: Option<u64>,
    /// Consecutive 5xx/connect failures that open a key's circuit, and for how long.
    pub circuit_failures: Option<u32>,
    pub circuit_open_seconds: Option<u64>,
    /// Relative weight per key, in `keys` order.
    pub weights: Option<Vec<usize>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    pub verify: Option<bool>,
    pub sni: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Public name clients send; may be a glob (`claude-*`).
    pub name: String,
    /// Ordered targets `provider/upstream-model`; `provider/*` forwards the requested name.
    pub targets: Vec<String>,
    /// Most targets one request may try (default: all).
    #[serde(default)]
    pub max_attempts: Option<usize>,
    /// No fallback starts later than this after the request arrived.
    #[serde(default)]
    pub fallback_deadline_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamFile {
    pub name: String,
    pub keys: Vec<TeamKeyFile>,
    /// Globs of public model names this team may use (default: all).
    #[serde(default)]
    pub models: Option<Vec<String>>,
    #[serde(default)]
    pub default_model: Option<String>,
    /// Forward a client's own provider credential instead of the gateway's key.
    #[serde(default)]
    pub credential_passthrough: Option<bool>,
    /// This team's rate and concurrency limits (fields it leaves out come from `default_limits`).
    #[serde(default)]
    pub limits: Option<RateLimitsFile>,
    /// `false` (no routing rules), `true` (the global ones, the default) or this team's own list.
    #[serde(default)]
    pub rules: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamKeyFile {
    /// Name of an environment variable holding the key.
    #[serde(default)]
    pub env: Option<String>,
    /// Hex SHA-256 digest of the key, so a config in git holds no secret.
    #[serde(default)]
    pub sha256: Option<String>,
    /// With `env`: when the variable is unset, generate a key and show it once on start.
    #[serde(default)]
    pub generate_if_unset: bool,
    /// The key's id in usage records, limit messages and logs (default: `sha256:` and the digest's
    /// first 8 hex digits).
    #[serde(default)]
    pub name: Option<String>,
    /// This key's own limits, counted on top of its team's.
    #[serde(default)]
    pub limits: Option<RateLimitsFile>,
}
