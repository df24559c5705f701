//! The admin listener: Prometheus `/metrics`, `/healthz` and `/readyz`, kept off the proxy
//! port so scraping and probes never compete with (or get exposed alongside) client traffic;
//! `GET /admin/usage`, the ledger's grouped totals, and `/admin/keys` (person keys, see
//! `crate::keys::admin`), which need an admin key (`admin.keys`); and `GET /dashboard`, the team
//! cost page (`dashboard/`), for an admin key or a team key.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use http::Response;
use pingora_core::apps::http_app::ServeHttp;
use pingora_core::protocols::http::ServerSession;

use crate::ledger::{now_ms, query, Ledger, Query};
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
    pub ledger: Arc<Ledger>,
    /// Person keys: `/admin/keys` manages them, and they are team keys (403 here, not 401).
    pub keys: Arc<crate::keys::PersonKeys>,
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
            "/admin/usage" => self.usage(session).await,
            p if p == "/admin/keys" || p.starts_with("/admin/keys/") => crate::keys::admin::serve(self, session).await,
            "/dashboard" => {
                let req = session.req_header();
                crate::dashboard::respond(&req.method, &req.uri, &req.headers, &self.state.load().config, &self.keys, &self.ledger).await
            }
            _ => simple_response(404, "application/json", br#"{"error":"not found: try /metrics, /healthz, /readyz or /dashboard"}"#.to_vec()),
        }
    }
}

pub fn admin_error(status: u16, kind: &str, message: &str) -> Response<Vec<u8>> {
    let body = serde_json::json!({ "error": { "type": kind, "message": message } });
    simple_response(status, "application/json", serde_json::to_vec(&body).unwrap_or_default())
}

/// Lets a request with an admin key (`admin.keys`) through; any other gets 401, or 403 for a team key.
/// The refusal is boxed: it is the rare path, and keeps the `Result` small.
pub fn authorize(app: &AdminApp, req: &pingora_http::RequestHeader) -> Result<(), Box<Response<Vec<u8>>>> {
    let state = app.state.load();
    let presented = crate::auth::presented_key(&req.headers).filter(|k| !k.is_empty());
    let Some(presented) = presented else {
        return Err(Box::new(admin_error(401, "authentication_error", "an admin key is required (x-api-key or Authorization: Bearer; see admin.keys)")));
    };
    if state.config.admin_keys.find(presented).is_none() {
        if app.keys.authenticate(&state.config.teams, presented, crate::ledger::now_ms).is_ok() {
            return Err(Box::new(admin_error(403, "permission_error", "a team key does not open admin endpoints: use a key from admin.keys")));
        }
        return Err(Box::new(admin_error(401, "authentication_error", "unknown admin key (see admin.keys)")));
    }
    Ok(())
}

impl AdminApp {
    /// `GET /admin/usage?since=7d&by=team,model[&format=csv]`: the same grouping as `switchyard usage`.
    async fn usage(&self, session: &ServerSession) -> Response<Vec<u8>> {
        let req = session.req_header();
        if req.method != http::Method::GET {
            return admin_error(405, "invalid_request_error", "use GET /admin/usage?since=7d&by=team,model");
        }
        if let Err(refused) = authorize(self, req) {
            return *refused;
        }
        let (mut since, mut by, mut format) = (None, None, "json".to_string());
        for (name, value) in url::form_urlencoded::parse(req.uri.query().unwrap_or("").as_bytes()) {
            match name.as_ref() {
                "since" => since = Some(value.into_owned()),
                "by" => by = Some(value.into_owned()),
                "format" => format = value.into_owned(),
                other => return admin_error(400, "invalid_request_error", &format!("unknown parameter `{other}`: expected since, by and format")),
            }
        }
        if format != "json" && format != "csv" {
            return admin_error(400, "invalid_request_error", &format!("format `{format}` is not valid: expected json or csv"));
        }
        let query = match Query::parse(since.as_deref(), by.as_deref(), now_ms()) {
            Ok(q) => q,
            Err(message) => return admin_error(400, "invalid_request_error", &message),
        };
        match self.ledger.query(query.clone()).await {
            Ok(rows) if format == "csv" => simple_response(200, "text/csv; charset=utf-8", query::to_csv(&query, &rows).into_bytes()),
            Ok(rows) => simple_response(200, "application/json", query::to_json(&query, &rows).into_bytes()),
            Err(message) => admin_error(503, "api_error", &message),
        }
    }
}
