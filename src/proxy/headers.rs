//! The upstream request's header policy: what the client sent that must not travel on
//! (its team key, cookies, hop-by-hop headers), and what the provider needs instead (its own
//! key, its Host, the exact body length, `x-request-id`).
//!
//! Everything that depends only on the provider — its Host, its keys as ready header values
//! (its extra headers are typed by the config loader) — is built once per config generation ([`ProviderHeaders`]): per request
//! the gateway clones prebuilt values instead of formatting and re-validating them, and drops
//! the client's unwanted headers in one pass over what the client actually sent.

use http::{HeaderName, HeaderValue};
use pingora_error::{ErrorType, OrErr, Result};
use pingora_http::RequestHeader;

use crate::api::ApiFormat;
use crate::auth::credential::{ClientCredential, Shape, OAUTH_BETA};
use crate::config::Provider;
use crate::secret::Secret;

/// Client headers never forwarded: credentials, and hop-by-hop headers of this connection.
fn is_stripped(name: &str) -> bool {
    matches!(
        name,
        "x-api-key"
            | "x-switchyard-key"
            // A routing hint is for the gateway's rules, not for the provider.
            | "x-switchyard-route-hint"
            | "authorization"
            | "proxy-authorization"
            | "cookie"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "expect"
            // The gateway reads (and will account) response bodies, so they must arrive uncompressed.
            | "accept-encoding"
            | "content-length"
            | "host"
    )
}

/// Headers of the other API family, which a provider of `wire` must not see.
fn is_foreign(name: &str, wire: ApiFormat) -> bool {
    match wire {
        ApiFormat::Anthropic => matches!(name, "openai-organization" | "openai-project"),
        ApiFormat::OpenAi | ApiFormat::Responses => name.starts_with("anthropic-"),
    }
}

pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The key the built-in mock provider is sent when its config lists none.
const BUILTIN_MOCK_KEY: &str = "sk-switchyard-builtin-mock";

// Non-standard names go to Pingora as `&'static str`: a `HeaderName` would be copied into a
// fresh case-preserving name on every insert, a static string is not.
const X_API_KEY: &str = "x-api-key";
pub(super) const X_REQUEST_ID: &str = "x-request-id";
/// Which routing rule chose the target (`default`: none; `explicit`: the client named provider/model).
pub(super) const X_SWITCHYARD_ROUTE: &str = "x-switchyard-route";
const ANTHROPIC_VERSION_HEADER: &str = "anthropic-version";

/// One key, as the two header values either API family sends it in; marked sensitive so
/// that `http`'s `Debug` never prints it.
struct KeyHeaders {
    x_api_key: HeaderValue,
    bearer: HeaderValue,
}

impl KeyHeaders {
    fn new(key: &Secret) -> Option<KeyHeaders> {
        let mut x_api_key = HeaderValue::from_str(key.expose()).ok()?;
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", key.expose())).ok()?;
        x_api_key.set_sensitive(true);
        bearer.set_sensitive(true);
        Some(KeyHeaders { x_api_key, bearer })
    }

    fn insert(&self, req: &mut RequestHeader, wire: ApiFormat) -> Result<()> {
        match wire {
            ApiFormat::Anthropic => req.insert_header(X_API_KEY, self.x_api_key.clone()),
            ApiFormat::OpenAi | ApiFormat::Responses => req.insert_header(http::header::AUTHORIZATION, self.bearer.clone()),
        }
    }
}

/// A provider's header edits, built once when its config is loaded.
pub struct ProviderHeaders {
    host: HeaderValue,
    anthropic_version: HeaderValue,
    /// Same order as the provider's keys (and its key pool).
    keys: Vec<KeyHeaders>,
    builtin_mock_key: KeyHeaders,
}

impl std::fmt::Debug for ProviderHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderHeaders").field("host", &self.host).field("keys", &self.keys.len()).finish_non_exhaustive()
    }
}

impl ProviderHeaders {
    /// Fails with a message naming the provider and the offending field, never a key's value.
    pub fn new(provider: &Provider, host_header: &str) -> Result<ProviderHeaders, String> {
        let name = &provider.name;
        let host = HeaderValue::from_str(host_header).map_err(|_| format!("provider `{name}`: base_url host `{host_header}` is not a valid Host header"))?;
        let keys = provider
            .keys
            .iter()
            .enumerate()
            .map(|(i, key)| KeyHeaders::new(key).ok_or_else(|| format!("provider `{name}`: keys[{i}] contains characters not allowed in an HTTP header")))
            .collect::<Result<Vec<_>, _>>()?;
        let builtin_mock_key = KeyHeaders::new(&Secret::new(BUILTIN_MOCK_KEY)).ok_or_else(|| "built-in mock key is not a header value".to_string())?;
        Ok(ProviderHeaders { host, anthropic_version: HeaderValue::from_static(ANTHROPIC_VERSION), keys, builtin_mock_key })
    }
}

/// Whose credential the upstream request carries.
pub enum UpstreamAuth<'a> {
    /// The gateway's key for this provider: an index into its keys.
    Gateway(usize),
    /// The built-in mock's fixed key (a mock provider configured without keys).
    BuiltinMock,
    /// The client's own provider credential (explicit pass-through policy).
    Client(&'a ClientCredential),
    /// None (e.g. a local server that needs no key).
    None,
}

/// Rewrites `req` in place for a provider with `headers`, which speaks `wire`.
/// `extra` is the provider's own headers, validated with its config.
pub fn prepare(
    req: &mut RequestHeader,
    headers: &ProviderHeaders,
    extra: &[(HeaderName, HeaderValue)],
    wire: ApiFormat,
    auth: UpstreamAuth<'_>,
    body_len: usize,
    request_id: &HeaderValue,
) -> Result<()> {
    let unwanted: Vec<HeaderName> = req.headers.keys().filter(|name| is_stripped(name.as_str()) || is_foreign(name.as_str(), wire)).cloned().collect();
    for name in &unwanted {
        req.remove_header(name);
    }
    req.insert_header(http::header::HOST, headers.host.clone())?;
    req.insert_header(http::header::CONTENT_LENGTH, HeaderValue::from(body_len))?;
    req.insert_header(X_REQUEST_ID, request_id.clone())?;
    match auth {
        UpstreamAuth::Gateway(index) => {
            let Some(key) = headers.keys.get(index) else {
                return pingora_error::Error::e_explain(ErrorType::InternalError, "key index outside the provider's keys");
            };
            key.insert(req, wire)?;
        }
        UpstreamAuth::BuiltinMock => headers.builtin_mock_key.insert(req, wire)?,
        UpstreamAuth::Client(credential) => insert_client_credential(req, credential)?,
        UpstreamAuth::None => {}
    }
    if wire == ApiFormat::Anthropic && !req.headers.contains_key(ANTHROPIC_VERSION_HEADER) {
        req.insert_header(ANTHROPIC_VERSION_HEADER, headers.anthropic_version.clone())?;
    }
    for (name, value) in extra {
        req.insert_header(name.clone(), value.clone())?;
    }
    Ok(())
}

/// The client's own credential, in the header its shape belongs in.
fn insert_client_credential(req: &mut RequestHeader, credential: &ClientCredential) -> Result<()> {
    let secret = credential.value.expose();
    match credential.shape {
        Shape::AnthropicApiKey => req.insert_header(X_API_KEY, sensitive(secret.to_string())?),
        Shape::AnthropicOAuth => {
            req.insert_header(http::header::AUTHORIZATION, sensitive(format!("Bearer {secret}"))?)?;
            ensure_beta(req, OAUTH_BETA)
        }
        Shape::OpenRouter | Shape::OpenAi => req.insert_header(http::header::AUTHORIZATION, sensitive(format!("Bearer {secret}"))?),
    }
}

fn sensitive(value: String) -> Result<HeaderValue> {
    let mut value = HeaderValue::try_from(value).or_err(ErrorType::InvalidHTTPHeader, "credential is not a valid header value")?;
    value.set_sensitive(true);
    Ok(value)
}

/// Adds `flag` to `anthropic-beta` unless the client already listed it.
fn ensure_beta(req: &mut RequestHeader, flag: &str) -> Result<()> {
    let current = req.headers.get("anthropic-beta").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    if current.split(',').any(|f| f.trim() == flag) {
        return Ok(());
    }
    let value = if current.trim().is_empty() { flag.to_string() } else { format!("{current},{flag}") };
    req.insert_header("anthropic-beta", value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider as the config loader builds it; keys are set afterwards so that values the
    /// YAML layer would refuse can be tried too.
    fn provider(keys: &[&str]) -> Provider {
        let yaml = "providers:\n  acme: { kind: anthropic, base_url: 'http://127.0.0.1:1', keys: [k] }\nmodels:\n  - { name: m, targets: [acme/x] }\nteams:\n  - { name: t, keys: [{ env: T }] }\n";
        let env: std::collections::HashMap<String, String> = [("T".to_string(), "team".to_string())].into();
        let config = crate::config::parse(yaml, "test.yaml", &env).unwrap();
        let mut p = std::sync::Arc::try_unwrap(config.providers.into_iter().next().unwrap()).unwrap();
        p.keys = keys.iter().map(|k| Secret::new(*k)).collect();
        p
    }

    fn extra(pairs: &[(&'static str, &'static str)]) -> Vec<(HeaderName, HeaderValue)> {
        pairs.iter().map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v))).collect()
    }

    fn request(headers: &[(&str, &str)]) -> RequestHeader {
        let mut req = RequestHeader::build("POST", b"/v1/messages", None).unwrap();
        for (n, v) in headers {
            req.append_header(n.to_string(), *v).unwrap();
        }
        req
    }

    fn names(req: &RequestHeader) -> Vec<String> {
        let mut names: Vec<String> = req.headers.keys().map(|n| n.as_str().to_string()).collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn drops_client_credentials_and_hop_by_hop_headers_and_sets_the_providers() {
        let headers = ProviderHeaders::new(&provider(&["sk-ant-1", "sk-ant-2"]), "api.example.com").unwrap();
        let mut req = request(&[
            ("X-Api-Key", "team-key"),
            ("Authorization", "Bearer team"),
            ("Cookie", "c=1"),
            ("Connection", "keep-alive"),
            ("Accept-Encoding", "gzip"),
            ("Content-Length", "5"),
            ("Host", "gateway"),
            ("OpenAI-Organization", "org"),
            ("anthropic-beta", "x"),
            ("user-agent", "claude-cli"),
        ]);
        let id = HeaderValue::from_static("req_1");
        prepare(&mut req, &headers, &extra(&[("x-extra", "1")]), ApiFormat::Anthropic, UpstreamAuth::Gateway(1), 42, &id).unwrap();
        assert_eq!(names(&req), ["anthropic-beta", "anthropic-version", "content-length", "host", "user-agent", "x-api-key", "x-extra", "x-request-id"]);
        assert_eq!(req.headers["x-api-key"], "sk-ant-2");
        assert!(req.headers["x-api-key"].is_sensitive());
        assert_eq!(req.headers["host"], "api.example.com");
        assert_eq!(req.headers["content-length"], "42");
        assert_eq!(req.headers["anthropic-version"], ANTHROPIC_VERSION);
    }

    #[test]
    fn openai_wire_gets_a_bearer_key_and_no_anthropic_headers() {
        let headers = ProviderHeaders::new(&provider(&["sk-oai"]), "api.openai.com").unwrap();
        let mut req = request(&[("anthropic-version", "2023-06-01"), ("anthropic-beta", "a"), ("x-api-key", "team")]);
        prepare(&mut req, &headers, &[], ApiFormat::OpenAi, UpstreamAuth::Gateway(0), 0, &HeaderValue::from_static("r")).unwrap();
        assert_eq!(names(&req), ["authorization", "content-length", "host", "x-request-id"]);
        assert_eq!(req.headers["authorization"], "Bearer sk-oai");
    }

    #[test]
    fn keeps_the_clients_anthropic_version_and_adds_the_oauth_beta_once() {
        let headers = ProviderHeaders::new(&provider(&[]), "h").unwrap();
        let credential = crate::auth::credential::classify("sk-ant-oat01-abc").unwrap();
        let mut req = request(&[("anthropic-version", "2024-01-01"), ("anthropic-beta", "tools")]);
        prepare(&mut req, &headers, &[], ApiFormat::Anthropic, UpstreamAuth::Client(&credential), 0, &HeaderValue::from_static("r")).unwrap();
        assert_eq!(req.headers["anthropic-version"], "2024-01-01");
        assert_eq!(req.headers["authorization"], "Bearer sk-ant-oat01-abc");
        assert_eq!(req.headers["anthropic-beta"], format!("tools,{OAUTH_BETA}"));
    }

    #[test]
    fn a_key_that_cannot_be_a_header_is_refused_at_load_without_its_value() {
        let err = ProviderHeaders::new(&provider(&["ok", "bad\nkey"]), "h").unwrap_err();
        assert_eq!(err, "provider `acme`: keys[1] contains characters not allowed in an HTTP header");
        assert!(!format!("{:?}", ProviderHeaders::new(&provider(&["sk-secret"]), "h").unwrap()).contains("sk-secret"));
    }
}
