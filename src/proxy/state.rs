//! Everything the proxy reads per request, built once from a validated config. A request
//! takes an `Arc` of it at its start, so a config reload can swap it without disturbing
//! requests already under way.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::Config;
use crate::secret::Secret;
use crate::upstream::{self, ResolveError, UpstreamProvider};

pub struct GatewayState {
    pub config: Config,
    /// Same indexes as `config.providers`.
    pub upstreams: Vec<UpstreamProvider>,
    key_cursors: Vec<AtomicUsize>,
}

impl GatewayState {
    pub fn new(config: Config, mock_addr: Option<SocketAddr>) -> Result<Self, ResolveError> {
        let upstreams = config.providers.iter().map(|p| upstream::build(p, mock_addr)).collect::<Result<Vec<_>, _>>()?;
        let key_cursors = upstreams.iter().map(|_| AtomicUsize::new(0)).collect();
        Ok(GatewayState { config, upstreams, key_cursors })
    }

    /// The next key of provider `index`, round robin.
    pub fn next_key(&self, index: usize) -> Option<&Secret> {
        let keys = &self.upstreams.get(index)?.provider.keys;
        if keys.is_empty() {
            return None;
        }
        let n = self.key_cursors.get(index)?.fetch_add(1, Ordering::Relaxed);
        keys.get(n % keys.len())
    }
}
