//! Upstream peers, one template per provider, built once at start: the address is resolved
//! here (never on the request path — Pingora's `HttpPeer::new` would resolve synchronously and
//! panic on failure), and the TLS, SNI, ALPN and timeout options come from the provider's config.
//! Pingora keys its connection pool on these fields, so each provider gets its own pool.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use pingora_core::protocols::ALPN;
use pingora_core::upstreams::peer::HttpPeer;

use crate::config::{Provider, ProviderKind, Upstream};
use crate::proxy::headers::ProviderHeaders;

/// A provider with its ready-to-clone peer.
#[derive(Debug)]
pub struct UpstreamProvider {
    pub provider: Arc<Provider>,
    pub peer: HttpPeer,
    /// Path prefix of the base URL (`""`, `/v1`, `/api/v1`).
    pub base_path: String,
    /// Header edits for this provider's requests, prebuilt.
    pub headers: ProviderHeaders,
    /// Upstream paths for requests without a query string, prebuilt (see [`ProviderPaths`]).
    pub paths: ProviderPaths,
    pub metrics: crate::metrics::ProviderMetrics,
}

/// The provider's endpoint URIs, parsed once: most requests have no query string and go to one
/// of these unchanged. `None` for the built-in mock, which is sent the client's own path.
#[derive(Debug, Default)]
pub struct ProviderPaths {
    pub messages: Option<http::Uri>,
    pub count_tokens: Option<http::Uri>,
    pub chat_completions: Option<http::Uri>,
    /// `<base_url>/responses`, for providers that serve OpenAI's Responses API.
    pub responses: Option<http::Uri>,
}

impl ProviderPaths {
    fn new(kind: ProviderKind, responses_api: bool, base_path: &str) -> Result<ProviderPaths, String> {
        let uri = |suffix: &str| http::Uri::try_from(format!("{base_path}{suffix}")).map(Some).map_err(|_| format!("base path `{base_path}` does not form a valid URI path"));
        Ok(match kind {
            ProviderKind::Mock => ProviderPaths::default(),
            ProviderKind::Anthropic => ProviderPaths { messages: uri("/v1/messages")?, count_tokens: uri("/v1/messages/count_tokens")?, ..ProviderPaths::default() },
            ProviderKind::OpenAi => ProviderPaths {
                chat_completions: uri("/chat/completions")?,
                responses: if responses_api { uri("/responses")? } else { None },
                ..ProviderPaths::default()
            },
        })
    }
}

/// Why a provider cannot be reached at start-up.
#[derive(Debug)]
pub struct ResolveError(pub String);

/// Builds the peer for `provider`. `mock_addr` is where the built-in mock listens, if started.
pub fn build(provider: &Arc<Provider>, mock_addr: Option<SocketAddr>) -> Result<UpstreamProvider, ResolveError> {
    let (addr, tls, sni, base_path, host_header) = match &provider.upstream {
        Upstream::BuiltinMock => {
            let addr = mock_addr.ok_or_else(|| ResolveError(format!("provider `{}`: the built-in mock is not running", provider.name)))?;
            (addr, false, String::new(), String::new(), addr.to_string())
        }
        Upstream::Url(url) => {
            let addr = (url.host.as_str(), url.port)
                .to_socket_addrs()
                .map_err(|e| ResolveError(format!("provider `{}`: cannot resolve {}:{}: {e}", provider.name, url.host, url.port)))?
                .next()
                .ok_or_else(|| ResolveError(format!("provider `{}`: {} resolved to no address", provider.name, url.host)))?;
            let default_port = if url.tls { 443 } else { 80 };
            let host_header = if url.port == default_port { url.host.clone() } else { format!("{}:{}", url.host, url.port) };
            (addr, url.tls, url.sni.clone(), url.base_path.clone(), host_header)
        }
    };
    let mut peer = HttpPeer::new(addr, tls, sni);
    let t = &provider.timeouts;
    peer.options.connection_timeout = Some(t.connect);
    peer.options.total_connection_timeout = Some(t.total_connect);
    // Per request, `proxy::upstream_peer` sets the read timeout to `first_byte` or `idle`.
    peer.options.read_timeout = Some(t.first_byte);
    peer.options.write_timeout = Some(t.write);
    peer.options.idle_timeout = Some(provider.pool_idle_timeout);
    peer.options.verify_cert = provider.verify_tls;
    peer.options.verify_hostname = provider.verify_tls;
    peer.options.alpn = if provider.http2 && tls { ALPN::H2H1 } else { ALPN::H1 };
    let headers = ProviderHeaders::new(provider, &host_header).map_err(ResolveError)?;
    let paths = ProviderPaths::new(provider.kind, provider.responses_api, &base_path).map_err(|e| ResolveError(format!("provider `{}`: {e}", provider.name)))?;
    let metrics = crate::metrics::ProviderMetrics::new(&provider.name);
    Ok(UpstreamProvider { provider: provider.clone(), peer, base_path, headers, paths, metrics })
}
