//! Upstream peers, one template per provider, built once at start: the address is resolved
//! here (never on the request path — Pingora's `HttpPeer::new` would resolve synchronously and
//! panic on failure), and the TLS, SNI, ALPN and timeout options come from the provider's config.
//! Pingora keys its connection pool on these fields, so each provider gets its own pool.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use pingora_core::protocols::ALPN;
use pingora_core::upstreams::peer::HttpPeer;

use crate::config::{Provider, Upstream};

/// A provider with its ready-to-clone peer.
#[derive(Debug)]
pub struct UpstreamProvider {
    pub provider: Arc<Provider>,
    pub peer: HttpPeer,
    /// Path prefix of the base URL (`""`, `/v1`, `/api/v1`).
    pub base_path: String,
    /// Value for the `Host` header.
    pub host_header: String,
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
    Ok(UpstreamProvider { provider: provider.clone(), peer, base_path, host_header })
}
