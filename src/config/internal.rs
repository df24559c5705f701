//! The validated internal model. It is never deserialised directly: the file model
//! (`file.rs`) is converted into it once by `validate.rs`, so every value here has
//! already been checked and the running proxy never re-validates or re-parses config.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Teams;
use crate::routing::Router;
use crate::secret::Secret;

#[derive(Debug)]
pub struct Config {
    /// The file this came from, or `(embedded default)`.
    pub source: String,
    pub listen: Listen,
    pub server: ServerSettings,
    pub limits: Limits,
    /// Enabled providers only; routes refer to them by index.
    pub providers: Vec<Arc<Provider>>,
    pub router: Router,
    /// The global routing rules (a team may have its own or none: see `Team::rules`).
    pub rules: Option<Arc<crate::rules::RuleSet>>,
    pub teams: Teams,
    /// A team key generated at this start because its variable was unset: shown once, never logged.
    pub generated_team_key: Option<GeneratedKey>,
    /// Rules, targets and group members left out because their provider is disabled (no key set),
    /// each as `field.path: why`. Not errors: the embedded default names every provider it knows.
    pub skipped: Vec<String>,
    /// Limit counters shared through Redis by every replica; `None`: each replica counts alone.
    pub shared_state: Option<crate::limits::SharedSettings>,
    pub usage: UsageSettings,
    /// Shipped prices with the config's `pricing:` over them.
    pub pricing: crate::pricing::PriceTable,
    /// Admin keys (`admin.keys`), each with its id; empty: the admin endpoints answer 401.
    pub admin_keys: crate::auth::Keyring<Arc<str>>,
    pub request_log: RequestLog,
    /// Model names that may appear as a metric label (targets, listed models, priced names); any
    /// other is `other`, so a client cannot grow a label set.
    pub model_labels: std::collections::HashSet<String>,
}

/// The usage ledger's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSettings {
    pub store: StoreLocation,
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub queue_size: usize,
}

/// Where usage records are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    None,
    Sqlite(std::path::PathBuf),
    /// A `postgres://` URL; it may hold a password.
    Postgres(Secret),
}

impl StoreLocation {
    /// For logs and errors: the URL without any password.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::None => "none".into(),
            StoreLocation::Sqlite(path) => format!("sqlite://{}", path.display()),
            StoreLocation::Postgres(url) => match url::Url::parse(url.expose()) {
                Ok(mut u) => {
                    let _ = u.set_password(None);
                    u.to_string()
                }
                Err(_) => "postgres://(unparsable)".into(),
            },
        }
    }
}

/// The JSON-lines request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestLog {
    Off,
    Stdout,
    File(std::path::PathBuf),
}

#[derive(Debug)]
pub struct GeneratedKey {
    pub team: String,
    pub env: String,
    pub key: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub proxy: String,
    pub admin: String,
    /// HTTPS on the proxy listener.
    pub proxy_tls: Option<ProxyTls>,
}

/// The proxy listener's certificate: the paths it is re-read from on reload, and what they held.
#[derive(Debug, Clone)]
pub struct ProxyTls {
    pub cert: String,
    pub key: String,
    pub certified: Arc<pingora_core::tls::sign::CertifiedKey>,
}

/// Two listener settings are the same when they read the same files; what the files hold may change
/// (that is what a reload swaps in).
impl PartialEq for ProxyTls {
    fn eq(&self, other: &Self) -> bool {
        self.cert == other.cert && self.key == other.key
    }
}

impl Eq for ProxyTls {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    pub threads: usize,
    /// After the listener closes on SIGTERM: how long open requests and streams may take to finish.
    pub grace_period_seconds: u64,
    /// After SIGTERM, before the listener closes: keep serving while readiness fails, so load balancers notice.
    pub drain_delay_seconds: u64,
    pub upstream_keepalive_pool_size: usize,
    pub upgrade_sock: String,
    pub ca_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub body_timeout: Duration,
}

/// Which wire format an upstream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Anthropic,
    /// Any OpenAI-compatible chat-completions server (OpenAI, OpenRouter, Ollama, vLLM, ...).
    OpenAi,
    /// The built-in mock, which speaks every format natively.
    Mock,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::OpenAi => "openai",
            ProviderKind::Mock => "mock",
        }
    }
}

#[derive(Debug)]
pub struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    pub upstream: Upstream,
    pub keys: Vec<Secret>,
    /// Extra headers sent with every request (e.g. OpenRouter's `HTTP-Referer`).
    pub extra_headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub timeouts: Timeouts,
    pub http2: bool,
    pub verify_tls: bool,
    pub pool_idle_timeout: Duration,
    /// Whether `name/anything` routes to this provider for any upstream model.
    pub any_model: bool,
    /// Upstream model names listed in `/v1/models` as `name/model`.
    pub listed_models: Vec<String>,
    pub translation: TranslationSettings,
    /// The client-credential family this provider accepts under pass-through, if any.
    pub passthrough_family: Option<crate::auth::credential::Family>,
    pub pool: crate::pool::PoolSettings,
    /// Serves OpenAI's Responses API natively (OpenAI itself, the mock, or a server configured so):
    /// Responses clients are passed through to it instead of translated.
    pub responses_api: bool,
}

/// How requests in the other API format are translated for a provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TranslationSettings {
    pub reasoning_effort: bool,
    pub max_output_tokens: Option<u64>,
    /// Keep Anthropic-style `cache_control` on content parts and tools (OpenRouter passes it to Anthropic
    /// and Gemini models); otherwise markers are dropped.
    pub cache_control: bool,
    /// Send OpenAI's `prompt_cache_key`: a hash of the conversation identity, or a Responses client's own key.
    pub prompt_cache_key: bool,
}

/// Where a provider lives. For the built-in mock, `address` is filled in when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    Url(UpstreamUrl),
    BuiltinMock,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path of the base URL without a trailing slash (`""`, `/v1`, `/api/v1`).
    pub base_path: String,
    pub sni: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub total_connect: Duration,
    /// Non-streaming: longest wait for the response. Streaming: see `idle`.
    pub first_byte: Duration,
    /// Streaming: longest silence before the first event and between events.
    pub idle: Duration,
    /// Longest time one attempt may take from connect to the last byte.
    pub total: Duration,
    pub write: Duration,
}
