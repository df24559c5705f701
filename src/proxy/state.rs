//! Everything the proxy reads per request, built once from a validated config. A request
//! takes an `Arc` of it at its start, so a config reload can swap it without disturbing
//! requests already under way.

use std::net::SocketAddr;

use crate::config::Config;
use crate::pool::KeyPool;
use crate::upstream::{self, ResolveError, UpstreamProvider};

pub struct GatewayState {
    pub config: Config,
    /// Same indexes as `config.providers`.
    pub upstreams: Vec<UpstreamProvider>,
    /// Key pools, same indexes as `upstreams`. Their cooldowns start afresh with each config load.
    pub pools: Vec<KeyPool>,
}

impl GatewayState {
    pub fn new(config: Config, mock_addr: Option<SocketAddr>) -> Result<Self, ResolveError> {
        let upstreams = config.providers.iter().map(|p| upstream::build(p, mock_addr)).collect::<Result<Vec<_>, _>>()?;
        let pools = config.providers.iter().map(|p| KeyPool::new(&p.keys, p.pool.clone())).collect();
        Ok(GatewayState { config, upstreams, pools })
    }
}
