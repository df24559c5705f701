//! bare-pingora: the smallest Pingora 0.9 HTTP proxy there is. Every request goes to one fixed
//! upstream peer, built once at start and cloned per request (as switchyard clones its prebuilt
//! provider peers). No request/response filters, no body handling, no metrics, no logging.
//!
//! Environment:
//!   BASELINE_LISTEN      listener address          (default 127.0.0.1:18400)
//!   BASELINE_UPSTREAM    upstream host:port        (default 127.0.0.1:19001)
//!   BASELINE_THREADS     Pingora worker threads    (default 1)
//!   BASELINE_POOL_SIZE   upstream keepalive pool   (default: Pingora's)
//! SIGINT or SIGTERM stops it within about a second.

use std::net::{SocketAddr, ToSocketAddrs};

use async_trait::async_trait;
use pingora::prelude::*;
use pingora::server::configuration::ServerConf;

struct Bare {
    peer: HttpPeer,
}

#[async_trait]
impl ProxyHttp for Bare {
    type CTX = ();
    fn new_ctx(&self) -> Self::CTX {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(self.peer.clone()))
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string())
}

fn main() {
    let listen = env_or("BASELINE_LISTEN", "127.0.0.1:18400");
    let upstream = env_or("BASELINE_UPSTREAM", "127.0.0.1:19001");
    let threads: usize = env_or("BASELINE_THREADS", "1").parse().expect("BASELINE_THREADS: a number");
    let addr: SocketAddr = upstream
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("BASELINE_UPSTREAM={upstream}: not a resolvable host:port"));

    let mut conf = ServerConf {
        threads,
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(1),
        ..ServerConf::default()
    };
    if let Ok(size) = std::env::var("BASELINE_POOL_SIZE") {
        conf.upstream_keepalive_pool_size = size.parse().expect("BASELINE_POOL_SIZE: a number");
    }
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();

    let peer = HttpPeer::new(addr, false, String::new());
    let mut proxy = http_proxy_service(&server.configuration, Bare { peer });
    proxy.add_tcp(&listen);
    server.add_service(proxy);
    println!("bare-pingora listening on http://{listen} -> http://{addr} ({threads} thread(s))");
    server.run_forever();
}
