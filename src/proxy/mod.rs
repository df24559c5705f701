//! The Pingora `ProxyHttp` implementation. Hooks stay short and delegate to plain modules.
//!
//! ```text
//!  client ──► request_filter ─ local endpoints (health, models) answered here
//!             │  auth (team key) → stage body → peek model → route → limits (errors: caller's format)
//!             ▼
//!            upstream_peer ─ target = route.targets[attempt]; prepare its body
//!             ▼
//!            upstream_request_filter ─ path, Host, provider key, header policy
//!             ▼
//!            request_body_filter ─ swap the retry-buffer tail for the prepared body
//!             ▼
//!            upstream_response_filter ─ 429/5xx/529 with a target left → retryable error
//!             │                          (error_while_proxy → upstream_peer, attempt + 1)
//!             ▼
//!            response_filter ─ x-request-id, x-switchyard-target, x-switchyard-route
//!             ▼
//!            response_body_filter ─ chunk by chunk, never buffered
//!             ▼
//!            logging ─ metrics; usage → settle the request's limits (tokens, concurrency) and the ledger record
//! ```
//! See docs/architecture.md for why each step happens where it does.

mod accounting;
mod body_stage;
pub mod ctx;
pub(crate) mod headers;
mod request_id;
mod respond;
pub mod state;
mod translation;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::Bytes;
use pingora_core::upstreams::peer::HttpPeer;
use pingora_error::{Error, ErrorSource, ErrorType, Result};
use pingora_http::{RequestHeader, ResponseHeader};
use pingora_proxy::{FailToProxy, ProxyHttp, Session};

use crate::admin::Readiness;
use crate::api::{caller_format, ApiFormat, Endpoint};
use crate::auth::credential;
use crate::body;
use crate::config::ProviderKind;
use crate::errors::{ErrorKind, GatewayError};
use crate::ledger::Ledger;
use crate::limits::{Actual, Limiter, Subjects};
use crate::metrics::Metrics;
use crate::pool::{self, Outcome, Pick};
use crate::rules;
use crate::stream_usage::Splice;
use crate::usage::{Fed, UsageExtractor};
use ctx::RequestCtx;
use headers::{UpstreamAuth, X_REQUEST_ID, X_SWITCHYARD_ROUTE};
use state::GatewayState;

pub struct Gateway {
    /// The current config generation; each request takes the one current at its start.
    state: Arc<ArcSwap<GatewayState>>,
    readiness: Arc<Readiness>,
    /// Where each finished request's usage record goes (lives across config reloads).
    ledger: Arc<Ledger>,
    /// Providers' own model lists, kept by the model discovery task (read by `GET /v1/models`).
    discovered: Arc<crate::models::Discovered>,
    /// Rate and concurrency counters; they outlive config reloads (the limits come with each generation).
    limiter: Arc<Limiter>,
    /// Person keys from the store, checked after the config's team keys (lives across config reloads).
    keys: Arc<crate::keys::PersonKeys>,
}

impl Gateway {
    pub fn new(
        state: Arc<ArcSwap<GatewayState>>,
        readiness: Arc<Readiness>,
        ledger: Arc<Ledger>,
        discovered: Arc<crate::models::Discovered>,
        limiter: Arc<Limiter>,
        keys: Arc<crate::keys::PersonKeys>,
    ) -> Self {
        Gateway { state, readiness, ledger, discovered, limiter, keys }
    }
}

/// The end user a request names: `x-switchyard-user`, else `metadata.user_id`, else `user`.
fn who(session: &Session, body: &[u8], metadata: Option<(usize, usize)>, user: Option<(usize, usize)>) -> Option<String> {
    let header = session.req_header().headers.get("x-switchyard-user").map(|v| v.as_bytes());
    let raw = |span: Option<(usize, usize)>| span.map(|(start, end)| &body[start..end]);
    crate::usage::who::end_user(header, raw(metadata), raw(user))
}

/// Upstream statuses that move a request on to its next target.
fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504 | 529)
}

/// Whether an upstream response is a server-sent event stream.
fn is_event_stream(resp: &ResponseHeader) -> bool {
    resp.headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("text/event-stream"))
}

/// Whether an upstream success response has a body an API client can use.
fn is_api_content_type(resp: &ResponseHeader) -> bool {
    match resp.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => resp.status.as_u16() == 204,
        Some(ct) => {
            let ct = ct.trim_start().to_ascii_lowercase();
            ct.starts_with("application/json") || ct.starts_with("text/event-stream") || ct.contains("+json")
        }
    }
}

/// The format a provider is spoken to in, for a client speaking `client`: Responses API clients go
/// natively to providers that serve it, and to every other OpenAI-compatible one as chat completions.
fn wire_format(provider: &crate::config::Provider, client: ApiFormat) -> ApiFormat {
    match provider.kind {
        ProviderKind::Anthropic => ApiFormat::Anthropic,
        ProviderKind::OpenAi if client == ApiFormat::Responses && provider.responses_api => ApiFormat::Responses,
        ProviderKind::OpenAi => ApiFormat::OpenAi,
        ProviderKind::Mock => client,
    }
}

/// `count_tokens` for a provider without one: a local tokenizer estimate (documented as such).
fn count_tokens_estimate(body: &[u8]) -> Result<Vec<u8>, GatewayError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| GatewayError::new(ErrorKind::InvalidRequest, format!("request body is not valid JSON: {e}")))?;
    let tokens = crate::translate::estimate_input_tokens(&value);
    Ok(serde_json::to_vec(&serde_json::json!({ "input_tokens": tokens })).unwrap_or_default())
}

/// The credentials a client presented: its team key, and (when the team key came in
/// `x-switchyard-key`) the provider credential in `x-api-key` / `Authorization: Bearer`.
fn presented_credentials(session: &Session) -> (Option<&str>, Option<&str>) {
    let headers = &session.req_header().headers;
    let key = crate::auth::presented_key(headers);
    match headers.get("x-switchyard-key").and_then(|v| v.to_str().ok()) {
        Some(team_key) => (Some(team_key.trim()), key),
        None => (key, None),
    }
}

impl Gateway {
    /// Admission: local endpoints, auth, body, model, route. `Err` is what the client gets.
    async fn admit(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<Option<(u16, &'static str, Vec<u8>)>, GatewayError> {
        let state = ctx.state.clone();
        match ctx.endpoint {
            Endpoint::Health => return Ok(Some((200, "application/json", br#"{"status":"ok"}"#.to_vec()))),
            Endpoint::Ready if self.readiness.is_ready() && !state.upstreams.is_empty() => return Ok(Some((200, "application/json", br#"{"status":"ready"}"#.to_vec()))),
            Endpoint::Ready => return Ok(Some((503, "application/json", br#"{"status":"not ready"}"#.to_vec()))),
            Endpoint::Hello => return Ok(Some((200, "application/json", Vec::new()))),
            Endpoint::Unknown => {
                let req = session.req_header();
                return Err(GatewayError::new(
                    ErrorKind::NotFound,
                    format!(
                        "no such endpoint: {} {}. switchyard serves POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/chat/completions, POST /v1/responses and GET /v1/models",
                        req.method,
                        req.uri.path()
                    ),
                ));
            }
            Endpoint::Models | Endpoint::Messages | Endpoint::CountTokens | Endpoint::ChatCompletions | Endpoint::Responses => {}
        }
        let (team_key, provider_credential) = presented_credentials(session);
        let key = match team_key.filter(|k| !k.is_empty()) {
            Some(presented) => self.keys.authenticate(&state.config.teams, presented, crate::ledger::now_ms)?,
            None => return Err(crate::keys::Refused::Unknown.into()),
        };
        let team = key.team.clone();
        ctx.key_id = Some(key.id.clone());
        ctx.team = Some(team.clone());
        if let (Some(credential), true) = (provider_credential, team.credential_passthrough) {
            ctx.client_credential = Some(credential::classify(credential).ok_or_else(|| {
                GatewayError::new(
                    ErrorKind::Unauthenticated,
                    "the provider credential in `x-api-key`/`Authorization` has no recognised shape (sk-ant-api…, sk-ant-oat…, sk-or-…, sk-…) and was not forwarded",
                )
            })?);
        }
        if ctx.endpoint == Endpoint::Models {
            let sources = crate::models::Sources { router: &state.config.router, providers: &state.config.providers, discovered: &self.discovered };
            let models = crate::models::usable_models(&sources, team.default_model.as_deref(), |m| team.may_use(m));
            let body = crate::models::body(ctx.format, session.req_header().uri.query(), &models).map_err(|e| GatewayError::new(ErrorKind::InvalidRequest, e))?;
            return Ok(Some((200, "application/json", body)));
        }

        let limits = &state.config.limits;
        // Pingora's timer wheel: no timer is set up at all when the body is already here.
        ctx.body = pingora::time::timeout(limits.body_timeout, body_stage::stage_body(session, limits.max_body_bytes))
            .await
            .map_err(|_| GatewayError::new(ErrorKind::RequestTimeout, format!("the request body did not arrive within {:?} (limits.body_timeout_ms)", limits.body_timeout)))??;
        // The facts the team's routing rules read are found in the same pass, and only then.
        let wants_facts = team.rules.as_deref().is_some_and(|r| r.needs().body());
        let peek = body::peek_with(&ctx.body, wants_facts).map_err(|e| GatewayError::new(ErrorKind::InvalidRequest, e.0))?;
        let facts = peek.facts;
        let model = peek
            .model
            .filter(|m| !m.is_empty())
            .ok_or_else(|| GatewayError::new(ErrorKind::InvalidRequest, "`model` is required: name a model (GET /v1/models lists the ones you may use)"))?;
        crate::routing::check_model_name(&model).map_err(|e| GatewayError::new(ErrorKind::InvalidRequest, e.0))?;
        ctx.stream = peek.stream;
        ctx.user = who(session, &ctx.body, peek.metadata_span, peek.user_span);
        if peek.stream && ctx.format == ApiFormat::OpenAi {
            ctx.usage_splice = crate::stream_usage::include_usage(&ctx.body, peek.stream_options_span);
        }
        let headers = &session.req_header().headers;
        ctx.session = if peek.session.is_empty() {
            // Claude Code's session header, or Codex CLI's.
            headers.get("x-claude-code-session-id").or_else(|| headers.get("session-id")).map(|v| v.as_bytes().to_vec()).unwrap_or_default()
        } else {
            peek.session
        };
        ctx.model_span = peek.model_span;
        if !team.may_use(&model) {
            return Err(GatewayError::new(ErrorKind::Forbidden, format!("team `{}` may not use model `{model}`", team.name)));
        }
        // The request's view (with its header lookup) ends here: it must not live across the limits' await.
        let routed = {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let view = rules::RequestView {
                body: &ctx.body,
                spans: body::FactSpans::or_none(&facts),
                model: &model,
                team: &team.name,
                endpoint: ctx.endpoint,
                format: ctx.format,
                header: &header,
                request_id: ctx.request_id.as_str(),
            };
            rules::route(&state.config.router, &team, &view, &ctx.session)
        };
        let routed = routed.ok_or_else(|| {
            GatewayError::new(
                ErrorKind::NotFound,
                format!("model `{model}` is not served by this gateway: GET /v1/models lists the models you may use, or use `provider/model`"),
            )
        })?;
        let route = routed.route;
        ctx.route_rule = Some(routed.rule);
        if ctx.endpoint == Endpoint::CountTokens {
            let first = route.targets.first().and_then(|t| state.upstreams.get(t.provider));
            if first.is_some_and(|u| u.provider.kind == ProviderKind::OpenAi) {
                return Ok(Some((200, "application/json", count_tokens_estimate(&ctx.body)?)));
            }
        }
        ctx.requested_model = Some(model);
        ctx.route = Some(route);
        if ctx.endpoint != Endpoint::CountTokens {
            // Last, so a request refused for any other reason is never counted (a refused one's usage
            // record still names the model it asked for); `count_tokens` is not counted at all.
            let subjects = Subjects::new(key.limits.as_ref(), team.limits.as_ref());
            ctx.admission = self.limiter.admit(subjects, crate::limits::estimate_tokens(ctx.body.len())).await?;
        }
        Ok(None)
    }

    /// The body for the current target: the client's bytes with `model` spliced if it differs,
    /// or the translated request when the provider speaks the other format.
    fn prepare_body(&self, ctx: &mut RequestCtx, upstream_model: &str, provider: &crate::config::Provider) -> Result<Bytes, GatewayError> {
        ctx.translation_notes.clear();
        if ctx.wire != ctx.format {
            let (body, notes, shape) = translation::request(ctx.format, ctx.wire, &ctx.body, upstream_model, provider, &ctx.session)?;
            ctx.translation_notes = notes;
            ctx.client_shape = shape;
            return Ok(body);
        }
        let model = match (ctx.model_span, ctx.requested_model.as_deref()) {
            (Some((start, end)), Some(requested)) if requested != upstream_model => {
                Some(Splice { start, end, bytes: serde_json::to_vec(upstream_model).unwrap_or_default() })
            }
            _ => None,
        };
        // An OpenAI-format stream always asks for its usage (cut back out for a client that did not).
        let usage = ctx.usage_splice.clone().filter(|_| ctx.wire == ApiFormat::OpenAi);
        match (model, usage) {
            (None, None) => Ok(ctx.body.clone()),
            (model, usage) => Ok(crate::stream_usage::apply(&ctx.body, &mut model.into_iter().chain(usage).collect::<Vec<_>>())),
        }
    }

    /// The provider's path for this request: prebuilt unless the client sent a query string
    /// (Claude Code's `?beta=true`) or the provider is the mock (which gets the client's path).
    fn upstream_uri(&self, ctx: &RequestCtx, session: &Session, upstream: &crate::upstream::UpstreamProvider) -> Result<http::Uri> {
        let uri = &session.req_header().uri;
        let prebuilt = match (ctx.wire, ctx.endpoint) {
            (ApiFormat::Anthropic, Endpoint::CountTokens) => &upstream.paths.count_tokens,
            (ApiFormat::Anthropic, _) => &upstream.paths.messages,
            (ApiFormat::OpenAi, _) => &upstream.paths.chat_completions,
            (ApiFormat::Responses, _) => &upstream.paths.responses,
        };
        // OpenAI-compatible servers get no query string: Claude Code's are Anthropic-only.
        let query = uri.query().filter(|_| ctx.wire == ApiFormat::Anthropic || prebuilt.is_none());
        let path = match (prebuilt, query) {
            (Some(prebuilt), None) => return Ok(prebuilt.clone()),
            (Some(prebuilt), Some(query)) => format!("{}?{query}", prebuilt.path()),
            (None, None) => format!("{}{}", upstream.base_path, uri.path()),
            (None, Some(query)) => format!("{}{}?{query}", upstream.base_path, uri.path()),
        };
        http::Uri::try_from(path).map_err(|_| Error::explain(ErrorType::InternalError, "upstream path is not a valid URI"))
    }

    /// From `ctx.attempt` on, the first target whose provider has a key available (or needs none);
    /// takes the key. Targets whose keys all rest are skipped, counted as fallbacks.
    fn next_target_with_key(&self, ctx: &mut RequestCtx) -> Result<crate::routing::Target, GatewayError> {
        let mut soonest: Option<std::time::Duration> = None;
        let now = std::time::Instant::now();
        while let Some(target) = ctx
            .route
            .as_ref()
            .filter(|r| r.budget.max_attempts.is_none_or(|max| ctx.attempt < max))
            .and_then(|r| r.targets.get(ctx.attempt))
            .cloned()
        {
            let Some(pool) = ctx.state.pools.get(target.provider) else { break };
            match pool.pick((!ctx.session.is_empty()).then_some(ctx.session.as_slice()), now) {
                Pick::Key(key) => {
                    pool.start(key);
                    ctx.key = Some(key);
                    return Ok(target);
                }
                Pick::NoKeys => return Ok(target),
                Pick::Unavailable(wait) => {
                    soonest = match (soonest, wait) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    let name = ctx.state.upstreams.get(target.provider).map_or("none", |u| u.provider.name.as_str());
                    Metrics::global().fallbacks.with_label_values(&[name]).inc();
                    ctx.attempt += 1;
                }
            }
        }
        let mut error = GatewayError::new(
            ErrorKind::RateLimited,
            "every provider key for this model is resting after rate limits or failures; retry after the time in Retry-After",
        );
        error.retry_after = Some(soonest.map_or(30, |d| d.as_secs().max(1)));
        Err(error)
    }

    /// Whether the current provider has a key available other than the current one.
    fn another_key_available(&self, ctx: &RequestCtx) -> bool {
        let (Some(provider), Some(current)) = (ctx.provider, ctx.key) else { return false };
        let Some(pool) = ctx.state.pools.get(provider) else { return false };
        matches!(pool.pick(None, std::time::Instant::now()), Pick::Key(k) if k != current)
    }

    /// Counts a failed attempt and decides whether the next target may take over.
    fn fall_back(&self, session: &Session, ctx: &mut RequestCtx, mut e: Box<Error>) -> Box<Error> {
        let metrics = Metrics::global();
        let untouched = session.response_written().is_none();
        if untouched && std::mem::take(&mut ctx.retry_same_target) {
            // The key's own failure: the same target again, with another key (this one now rests).
            ctx.release_key();
            e.set_retry(true);
        } else if untouched && ctx.has_next_target() && ctx.tries < 16 {
            metrics.fallbacks.with_label_values(&[ctx.provider_name()]).inc();
            ctx.release_key();
            ctx.attempt += 1;
            e.set_retry(true);
        } else if untouched && e.retry() && ctx.tries < 4 {
            // A pooled connection died under us: Pingora retries the same target once more.
        } else {
            e.set_retry(false);
        }
        e
    }
}

#[async_trait]
impl ProxyHttp for Gateway {
    /// Boxed: Pingora keeps the context inline in its per-connection future, where the compiler
    /// lays it out about three times over (≈ 1.5 KiB for a 544-byte context, held for the whole
    /// life of a stream); behind a box it costs one heap copy.
    type CTX = Box<RequestCtx>;

    fn new_ctx(&self) -> Box<RequestCtx> {
        Box::new(RequestCtx::new(self.state.load_full()))
    }

    /// Admission happens here, before any upstream is chosen: local answers, auth, the body.
    async fn request_filter(&self, session: &mut Session, ctx: &mut Self::CTX) -> Result<bool> {
        Metrics::global().in_flight.inc();
        ctx.request_id = request_id::RequestId::from_client_or_new(session.req_header().headers.get(X_REQUEST_ID));
        let req = session.req_header();
        let (endpoint, method_ok) = Endpoint::classify(req.method.as_str(), req.uri.path());
        ctx.endpoint = endpoint;
        ctx.format = caller_format(endpoint, req.headers.contains_key("anthropic-version"));
        if !method_ok {
            let e = GatewayError::new(ErrorKind::MethodNotAllowed, format!("{} is not allowed on {}", req.method, req.uri.path()));
            return respond::send_error(session, ctx, &e).await;
        }
        match self.admit(session, ctx).await {
            Ok(None) => Ok(false),
            Ok(Some((status, content_type, body))) => respond::send(session, ctx, status, content_type, body).await,
            Err(e) => respond::send_error(session, ctx, &e).await,
        }
    }

    /// Picks `route.targets[attempt]`; on a fallback Pingora calls this again with `attempt` advanced.
    async fn upstream_peer(&self, _session: &mut Session, ctx: &mut Self::CTX) -> Result<Box<HttpPeer>> {
        ctx.release_key();
        let target = match self.next_target_with_key(ctx) {
            Ok(target) => target,
            Err(e) => {
                ctx.pending_error = Some(e);
                return Error::e_explain(ErrorType::HTTPStatus(429), "every key of every target is resting");
            }
        };
        let state = ctx.state.clone();
        let upstream = state
            .upstreams
            .get(target.provider)
            .ok_or_else(|| Error::explain(ErrorType::InternalError, "route names an unknown provider"))?;
        ctx.wire = wire_format(&upstream.provider, ctx.format);
        ctx.provider = Some(target.provider);
        ctx.tried.push(target.provider);
        ctx.tries += 1;
        ctx.body_sent = false;
        ctx.upstream_status = None;
        ctx.response_translation = None;
        ctx.usage = None;
        ctx.upstream_body = match self.prepare_body(ctx, &target.upstream_model, &upstream.provider) {
            Ok(body) => body,
            Err(e) => {
                let status = e.kind.status();
                ctx.pending_error = Some(e);
                return Error::e_explain(ErrorType::HTTPStatus(status), "request could not be prepared for the provider");
            }
        };
        let timeouts = &upstream.provider.timeouts;
        ctx.attempt_deadline = std::time::Instant::now().checked_add(timeouts.total);
        let mut peer = Box::new(upstream.peer.clone());
        peer.options.read_timeout = Some(if ctx.stream { timeouts.idle } else { timeouts.first_byte });
        Ok(peer)
    }

    /// Builds the provider's request: path, Host, its key in place of the team key.
    async fn upstream_request_filter(&self, session: &mut Session, req: &mut RequestHeader, ctx: &mut Self::CTX) -> Result<()> {
        let Some(index) = ctx.provider else {
            return Error::e_explain(ErrorType::InternalError, "no provider chosen");
        };
        let state = ctx.state.clone();
        let Some(upstream) = state.upstreams.get(index) else {
            return Error::e_explain(ErrorType::InternalError, "no provider chosen");
        };
        req.set_uri(self.upstream_uri(ctx, session, upstream)?);
        let client_credential = ctx.client_credential.as_ref().filter(|c| upstream.provider.passthrough_family == Some(c.shape.family()));
        let auth = match (client_credential, ctx.key, upstream.provider.kind) {
            (Some(credential), _, _) => UpstreamAuth::Client(credential),
            (None, Some(key), _) => UpstreamAuth::Gateway(key),
            (None, None, ProviderKind::Mock) => UpstreamAuth::BuiltinMock,
            (None, None, _) => UpstreamAuth::None,
        };
        headers::prepare(req, &upstream.headers, &upstream.provider.extra_headers, ctx.wire, auth, ctx.upstream_body.len(), ctx.request_id.header())
    }

    /// Swaps whatever Pingora replays (the retry-buffer tail) for this attempt's prepared body.
    async fn request_body_filter(&self, _session: &mut Session, body: &mut Option<Bytes>, _end: bool, ctx: &mut Self::CTX) -> Result<()> {
        if !ctx.body_sent {
            ctx.body_sent = true;
            *body = Some(ctx.upstream_body.clone());
        } else if body.is_some() {
            *body = Some(Bytes::new());
        }
        Ok(())
    }

    /// A failing status with a target left becomes a retryable error before anything reaches the client.
    async fn upstream_response_filter(&self, session: &mut Session, resp: &mut ResponseHeader, ctx: &mut Self::CTX) -> Result<()> {
        let status = resp.status.as_u16();
        ctx.upstream_status = Some(status);
        ctx.report_key(match status {
            429 => Outcome::RateLimited(pool::retry_after(resp.headers.get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()))),
            401 | 403 => Outcome::Refused,
            408 | 500..=599 => Outcome::Failed,
            _ => Outcome::Success,
        });
        match ctx.provider.and_then(|p| ctx.state.upstreams.get(p)) {
            Some(upstream) if status < 400 => upstream.metrics.attempts_ok.inc(),
            _ => {
                let outcome = if is_retryable_status(status) { "retryable_status" } else if status >= 400 { "status_4xx" } else { "ok" };
                Metrics::global().upstream_attempts.with_label_values(&[ctx.provider_name(), outcome]).inc();
            }
        }
        ctx.retry_same_target = matches!(status, 429 | 401 | 403) && ctx.tries < 8 && self.another_key_available(ctx);
        if (ctx.retry_same_target || (is_retryable_status(status) && ctx.has_next_target())) && session.response_written().is_none() {
            let mut e = Error::explain(ErrorType::HTTPStatus(status), format!("provider `{}` answered {status}", ctx.provider_name()));
            e.set_retry(true);
            return Err(e);
        }
        if status < 400 && !is_api_content_type(resp) {
            // An HTML page (a captive portal, a misrouted proxy) is not an API answer.
            let message = format!("provider `{}` answered {status} with a body that is neither JSON nor an event stream", ctx.provider_name());
            let mut e = Error::explain(ErrorType::HTTPStatus(502), message.clone());
            if ctx.has_next_target() && session.response_written().is_none() {
                e.set_retry(true);
            } else {
                ctx.pending_error = Some(GatewayError::new(ErrorKind::BadGateway, message));
            }
            return Err(e);
        }
        if status < 400 {
            // Usage comes from the upstream's own bytes, before any translation.
            let stream = is_event_stream(resp);
            let strip = stream && ctx.usage_splice.is_some() && ctx.wire == ApiFormat::OpenAi && ctx.format == ApiFormat::OpenAi;
            if strip {
                // The usage chunk is cut out of the body, so a length the provider gave no longer holds.
                resp.remove_header(&http::header::CONTENT_LENGTH);
            }
            ctx.usage = Some(UsageExtractor::new(ctx.wire, stream, strip));
        }
        if ctx.wire != ctx.format {
            let (translation, client_status) = translation::response(ctx.format, ctx.wire, status, ctx.stream, &ctx.client_shape);
            resp.set_status(client_status)?;
            resp.remove_header(&http::header::CONTENT_LENGTH);
            resp.remove_header(&http::header::CONTENT_ENCODING);
            resp.insert_header(http::header::CONTENT_TYPE, translation::content_type(&translation))?;
            ctx.response_translation = Some(translation);
        }
        Ok(())
    }

    /// Tells the client which request, which target and which routing rule served it; notes the
    /// first byte's time.
    async fn response_filter(&self, _session: &mut Session, resp: &mut ResponseHeader, ctx: &mut Self::CTX) -> Result<()> {
        ctx.first_byte = Some(std::time::Instant::now());
        if ctx.body_sent {
            // From here on no other target can be tried: a stream that runs for minutes should
            // not keep the request body (often hundreds of KB from Claude Code) alive with it.
            ctx.body = Bytes::new();
            ctx.upstream_body = Bytes::new();
        }
        resp.insert_header(X_REQUEST_ID, ctx.request_id.header().clone())?;
        if let Some(target) = ctx.route.as_ref().and_then(|r| r.targets.get(ctx.attempt)) {
            resp.insert_header("x-switchyard-target", format!("{}/{}", ctx.provider_name(), target.upstream_model))?;
        }
        if let Some(rule) = &ctx.route_rule {
            resp.insert_header(X_SWITCHYARD_ROUTE, rule.header_value())?;
        }
        if !ctx.translation_notes.is_empty() {
            resp.insert_header("x-switchyard-translation", ctx.translation_notes.as_str())?;
        }
        if let Some(warning) = ctx.admission.as_ref().and_then(|a| a.warning()) {
            resp.insert_header("x-switchyard-budget-remaining", warning.header_value())?;
        }
        Ok(())
    }

    /// Pass-through chunks go on untouched; translated ones through the stream state machine.
    fn response_body_filter(&self, _session: &mut Session, body: &mut Option<Bytes>, end: bool, ctx: &mut Self::CTX) -> Result<Option<Duration>> {
        // The idle timeout bounds silence; this bounds a stream that never stops dripping.
        if !end && ctx.attempt_deadline.is_some_and(|deadline| std::time::Instant::now() > deadline) {
            return Error::e_explain(ErrorType::ReadTimedout, "the provider exceeded timeouts.total_ms");
        }
        if let Some(Fed::Replaced(bytes)) = ctx.usage.as_mut().map(|usage| usage.feed(body.as_ref(), end)) {
            *body = Some(bytes);
        }
        if let Some(translation) = ctx.response_translation.as_mut() {
            *body = Some(translation::body_chunk(ctx.format, translation, &ctx.client_shape, body.as_ref(), end));
        }
        Ok(None)
    }

    fn fail_to_connect(&self, session: &mut Session, _peer: &HttpPeer, ctx: &mut Self::CTX, e: Box<Error>) -> Box<Error> {
        Metrics::global().upstream_attempts.with_label_values(&[ctx.provider_name(), "connect_error"]).inc();
        ctx.report_key(Outcome::Failed);
        let mut e = e;
        e.set_retry(false);
        if ctx.has_next_target() {
            e.set_retry(true);
            return self.fall_back(session, ctx, e);
        }
        e
    }

    fn error_while_proxy(&self, peer: &HttpPeer, session: &mut Session, e: Box<Error>, ctx: &mut Self::CTX, client_reused: bool) -> Box<Error> {
        let mut e = e.more_context(format!("Peer: {peer}"));
        if e.esource() == &ErrorSource::Downstream {
            e.set_retry(false);
            return e;
        }
        if ctx.upstream_status.is_none() {
            Metrics::global().upstream_attempts.with_label_values(&[ctx.provider_name(), "error"]).inc();
            ctx.report_key(Outcome::Failed);
        }
        e.retry.decide_reuse(client_reused);
        self.fall_back(session, ctx, e)
    }

    /// The last word on a failed request: an error in the caller's format, or nothing if the client is gone.
    async fn fail_to_proxy(&self, session: &mut Session, e: &Error, ctx: &mut Self::CTX) -> FailToProxy {
        let downstream_gone = e.esource() == &ErrorSource::Downstream
            && matches!(e.etype(), ErrorType::WriteError | ErrorType::ReadError | ErrorType::ConnectionClosed);
        if downstream_gone {
            ctx.error_kind = Some("client_gone");
            Metrics::global().client_disconnects.with_label_values(&[ctx.endpoint.label()]).inc();
            return FailToProxy { error_code: 0, can_reuse_downstream: false };
        }
        let provider = ctx.provider_name().to_string();
        let error = match e.etype() {
            _ if ctx.pending_error.is_some() => ctx.pending_error.clone().unwrap_or_else(|| GatewayError::new(ErrorKind::Internal, "")),
            ErrorType::ConnectTimedout | ErrorType::ReadTimedout | ErrorType::WriteTimedout | ErrorType::TLSHandshakeTimedout => {
                GatewayError::new(ErrorKind::GatewayTimeout, format!("provider `{provider}` timed out ({}); try again later", e.etype().as_str()))
            }
            _ if e.esource() == &ErrorSource::Upstream || matches!(e.etype(), ErrorType::ConnectRefused | ErrorType::ConnectNoRoute | ErrorType::ConnectError) => {
                GatewayError::new(ErrorKind::BadGateway, format!("provider `{provider}` could not be reached or failed ({}); try again later", e.etype().as_str()))
            }
            _ => GatewayError::new(ErrorKind::Internal, format!("the gateway failed to handle this request ({}); request id {}", e.etype().as_str(), ctx.request_id)),
        };
        let code = error.kind.status();
        if session.response_written().is_none() {
            if let Err(write_error) = respond::send_error(session, ctx, &error).await {
                log::debug!("could not write the error response: {write_error}");
            }
        } else if ctx.stream {
            ctx.error_kind = Some(error.kind.label());
            // Headers are gone: end the stream with an error event the client's SDK understands.
            let event = match ctx.response_translation.as_mut() {
                Some(translation) => translation::stream_failure(translation, &error.message),
                None => Some(respond::stream_error_event(ctx.format, &error)),
            };
            if let Some(event) = event {
                if let Err(write_error) = session.write_response_body(Some(event), true).await {
                    log::debug!("could not write the stream error event: {write_error}");
                }
            }
        }
        FailToProxy { error_code: code, can_reuse_downstream: false }
    }

    /// The request is over: metrics, its usage record handed to the ledger (never awaited), and its
    /// limits settled — tokens from the one reading of the upstream response's usage, spend from the
    /// cost the record carries.
    async fn logging(&self, session: &mut Session, e: Option<&Error>, ctx: &mut Self::CTX) {
        let metrics = Metrics::global();
        metrics.in_flight.dec();
        ctx.release_key();
        let usage = ctx.usage.as_ref().map(UsageExtractor::result);
        let mut actual = Actual::from_usage(usage.as_ref());
        let status = session.response_written().map_or(0, |r| r.status.as_u16());
        let provider = ctx.provider.and_then(|p| ctx.state.upstreams.get(p)).map(|u| &u.metrics);
        metrics.observe_request(ctx.endpoint, status, provider, ctx.provider_name(), ctx.started.elapsed());
        let client_gone = e.is_some_and(|e| e.esource() == &ErrorSource::Downstream);
        actual.cost_nano_usd = accounting::finish(&self.ledger, ctx, usage, status, client_gone);
        if let Some(admission) = ctx.admission.take() {
            self.limiter.settle(admission, actual);
        }
    }
}
