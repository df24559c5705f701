//! The admin listener: Prometheus `/metrics`, `/healthz` and `/readyz`, kept off the proxy
//! port so scraping and probes never compete with (or get exposed alongside) client traffic.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use http::Response;
use pingora_core::apps::http_app::ServeHttp;
use pingora_core::protocols::http::ServerSession;

use crate::metrics::Metrics;

/// Whether this instance should receive traffic. Readiness drops before a drain.
#[derive(Debug, Default)]
pub struct Readiness {
    ready: AtomicBool,
}

impl Readiness {
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

pub struct AdminApp {
    pub readiness: Arc<Readiness>,
    pub state: Arc<arc_swap::ArcSwap<crate::proxy::state::GatewayState>>,
}

impl AdminApp {
    /// Ready: not draining, and the running config has at least one enabled provider.
    fn ready(&self) -> bool {
        self.readiness.is_ready() && !self.state.load().upstreams.is_empty()
    }
}

/// A small plain-text or JSON response.
pub fn simple_response(status: u16, content_type: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut response = Response::new(body);
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    let len = response.body().len();
    response.headers_mut().insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    response
}

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let path = session.req_header().uri.path().to_string();
        match path.as_str() {
            "/metrics" => simple_response(200, "text/plain; version=0.0.4; charset=utf-8", Metrics::global().render()),
            "/healthz" => simple_response(200, "application/json", br#"{"status":"ok"}"#.to_vec()),
            "/readyz" if self.ready() => simple_response(200, "application/json", br#"{"status":"ready"}"#.to_vec()),
            "/readyz" => simple_response(503, "application/json", br#"{"status":"not ready"}"#.to_vec()),
            _ => simple_response(404, "application/json", br#"{"error":"not found: try /metrics, /healthz or /readyz"}"#.to_vec()),
        }
    }
}
