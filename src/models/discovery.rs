//! Model discovery: what each `any_model` provider's own `GET /v1/models` lists, so the gateway's list can
//! show the models such a provider serves (every OpenRouter model, what an Ollama server has pulled).
//!
//! One background task owns it: a Pingora background service, started with the server and stopped by its
//! shutdown signal. It fetches every provider's list at start, again every [`REFRESH_EVERY`], and at once
//! after a config reload. Each fetch is bounded — [`FETCH_TIMEOUT`] end to end, [`MAX_BODY_BYTES`] of body,
//! [`MAX_MODELS`] names, every name held to the model-name rule — and never happens on a request's path:
//! requests read the last good lists from [`Discovered`]. A provider that fails keeps its last good list
//! (none at first), so `/v1/models` still lists everything configured.
//!
//! The request goes out as the provider's requests do (its Host, its first key the provider's way, its
//! extra headers, its TLS settings and timeouts) with the user agent `switchyard-model-discovery/<version>`,
//! on a connection of its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::BytesMut;
use http::HeaderValue;
use pingora_core::connectors::http::Connector;
use pingora_core::server::ShutdownWatch;
use pingora_core::services::background::BackgroundService;
use pingora_http::RequestHeader;
use serde_json::Value;

use crate::api::ApiFormat;
use crate::config::ProviderKind;
use crate::proxy::headers::{self, UpstreamAuth};
use crate::proxy::state::GatewayState;
use crate::upstream::UpstreamProvider;

/// How often every list is fetched again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(600);
/// Longest one provider's fetch may take, connect to last byte.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest list body read.
pub const MAX_BODY_BYTES: usize = 4 << 20;
/// Most names kept per provider.
pub const MAX_MODELS: usize = 2000;
/// The user agent of discovery requests, so providers (and tests) can tell them from proxied ones.
pub const USER_AGENT: &str = concat!("switchyard-model-discovery/", env!("CARGO_PKG_VERSION"));

/// The last good list of each provider, by provider name.
#[derive(Default)]
pub struct Discovered {
    lists: ArcSwap<HashMap<String, Arc<[String]>>>,
    config_changed: tokio::sync::Notify,
}

impl Discovered {
    /// The models `provider`'s own list named at the last successful fetch.
    pub fn models(&self, provider: &str) -> Option<Arc<[String]>> {
        self.lists.load().get(provider).cloned()
    }

    /// Asks the discovery task to fetch again now (a reload may have added providers).
    pub fn config_changed(&self) {
        self.config_changed.notify_one();
    }

    pub(super) fn set(&self, provider: &str, models: Arc<[String]>) {
        self.lists.rcu(|lists| {
            let mut lists = HashMap::clone(lists);
            lists.insert(provider.to_string(), models.clone());
            lists
        });
    }
}

/// The background task that keeps [`Discovered`] up to date.
pub struct DiscoveryService {
    state: Arc<ArcSwap<GatewayState>>,
    discovered: Arc<Discovered>,
    connector: Connector,
}

impl DiscoveryService {
    pub fn new(
        state: Arc<ArcSwap<GatewayState>>,
        discovered: Arc<Discovered>,
        connector: Connector,
    ) -> Self {
        DiscoveryService {
            state,
            discovered,
            connector,
        }
    }

    /// Fetches every discoverable provider's list once, one after the other.
    async fn refresh(&self) {
        let state = self.state.load_full();
        for upstream in state
            .upstreams
            .iter()
            .filter(|u| u.provider.any_model && u.provider.kind != ProviderKind::Mock)
        {
            let name = &upstream.provider.name;
            match pingora::time::timeout(FETCH_TIMEOUT, fetch(&self.connector, upstream)).await {
                Ok(Ok(models)) => {
                    log::debug!("model discovery: provider `{name}` lists {} model(s)", models.len());
                    self.discovered.set(name, models.into());
                }
                Ok(Err(why)) => log::warn!("model discovery: provider `{name}`: {why}; GET /v1/models lists its configured models only"),
                Err(_) => log::warn!("model discovery: provider `{name}` did not answer within {FETCH_TIMEOUT:?}; GET /v1/models lists its configured models only"),
            }
        }
    }
}

#[async_trait]
impl BackgroundService for DiscoveryService {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = self.refresh() => {}
            }
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tokio::time::sleep(REFRESH_EVERY) => {}
                _ = self.discovered.config_changed.notified() => {}
            }
        }
    }
}

/// One provider's list: `GET {base}/models` (OpenAI-compatible) or `GET {base}/v1/models?limit=1000`
/// (Anthropic).
async fn fetch(connector: &Connector, upstream: &UpstreamProvider) -> Result<Vec<String>, String> {
    let provider = &upstream.provider;
    let (path, wire) = match provider.kind {
        ProviderKind::Anthropic => (
            format!("{}/v1/models?limit=1000", upstream.base_path),
            ApiFormat::Anthropic,
        ),
        ProviderKind::OpenAi => (format!("{}/models", upstream.base_path), ApiFormat::OpenAi),
        ProviderKind::Mock => return Err("the built-in mock lists its models itself".into()),
    };
    let failed =
        |what: &str, e: pingora_error::BError| format!("{what} failed ({})", e.etype().as_str());
    let mut req = RequestHeader::build("GET", path.as_bytes(), None)
        .map_err(|e| failed("building the request", e))?;
    let auth = if provider.keys.is_empty() {
        UpstreamAuth::None
    } else {
        UpstreamAuth::Gateway(0)
    };
    let request_id = HeaderValue::from_static("switchyard-model-discovery");
    headers::prepare(
        &mut req,
        &upstream.headers,
        &provider.extra_headers,
        wire,
        auth,
        0,
        &request_id,
    )
    .map_err(|e| failed("building the request", e))?;
    req.insert_header(http::header::USER_AGENT, USER_AGENT)
        .map_err(|e| failed("building the request", e))?;
    req.insert_header(http::header::ACCEPT, "application/json")
        .map_err(|e| failed("building the request", e))?;

    let mut peer = upstream.peer.clone();
    peer.options.read_timeout = Some(FETCH_TIMEOUT);
    let (mut session, _) = connector
        .get_http_session(&peer)
        .await
        .map_err(|e| failed("connecting", e))?;
    let result = async {
        session
            .write_request_header(Box::new(req))
            .await
            .map_err(|e| failed("sending the request", e))?;
        session
            .finish_request_body()
            .await
            .map_err(|e| failed("sending the request", e))?;
        session
            .read_response_header()
            .await
            .map_err(|e| failed("reading the response", e))?;
        let status = session.response_header().map_or(0, |h| h.status.as_u16());
        if status != 200 {
            return Err(format!("answered {status}"));
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = session
            .read_response_body()
            .await
            .map_err(|e| failed("reading the response", e))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(format!("the list is larger than {MAX_BODY_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        parse_list(&body)
    }
    .await;
    session.shutdown().await;
    result
}

/// The model ids of an OpenAI or Anthropic list body (`{"data": [{"id": …}, …]}`): names that break the
/// model-name rule are skipped, duplicates dropped, at most [`MAX_MODELS`] kept.
pub fn parse_list(body: &[u8]) -> Result<Vec<String>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the list is not JSON ({e})"))?;
    let data = value
        .get("data")
        .and_then(Value::as_array)
        .ok_or("the list has no `data` array")?;
    let mut models: Vec<String> = Vec::new();
    for id in data
        .iter()
        .filter_map(|m| m.get("id").and_then(Value::as_str))
    {
        if models.len() == MAX_MODELS {
            break;
        }
        if !id.trim().is_empty()
            && crate::routing::check_model_name(id).is_ok()
            && !models.iter().any(|m| m == id)
        {
            models.push(id.to_string());
        }
    }
    Ok(models)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_either_shape_are_read_and_bounded() {
        let openai = br#"{"object":"list","data":[{"id":"gpt-4o","object":"model"},{"id":"gpt-4o"},{"id":"bad\nname"},{"id":""},{"id":7},{"x":1}]}"#;
        assert_eq!(parse_list(openai), Ok(vec!["gpt-4o".to_string()]));
        let anthropic = br#"{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5"}],"has_more":false}"#;
        assert_eq!(
            parse_list(anthropic),
            Ok(vec!["claude-sonnet-4-5".to_string()])
        );
        let many = serde_json::json!({ "data": (0..5000).map(|i| serde_json::json!({ "id": format!("m{i}") })).collect::<Vec<_>>() });
        assert_eq!(
            parse_list(&serde_json::to_vec(&many).unwrap())
                .unwrap()
                .len(),
            MAX_MODELS
        );
        assert!(parse_list(b"<html>").unwrap_err().contains("not JSON"));
        assert!(parse_list(b"{}").unwrap_err().contains("no `data`"));
    }

    #[test]
    fn a_new_list_replaces_only_its_providers() {
        let d = Discovered::default();
        d.set("a", vec!["x".to_string()].into());
        d.set("b", vec!["y".to_string()].into());
        d.set("a", vec!["z".to_string()].into());
        assert_eq!(d.models("a").as_deref(), Some(&["z".to_string()][..]));
        assert_eq!(d.models("b").as_deref(), Some(&["y".to_string()][..]));
        assert!(d.models("c").is_none());
    }
}
