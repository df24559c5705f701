//! The per-request context. It carries everything a later hook or a fallback attempt needs:
//! the staged request body (so any target can be sent it again), the route, which attempt this
//! is, and the accounting seams (team, model, provider) that usage and budgets will read.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::state::GatewayState;
use super::translation::{ClientShape, ResponseTranslation};
use crate::api::{ApiFormat, Endpoint};
use crate::auth::Team;
use crate::routing::Route;

pub struct RequestCtx {
    /// The config generation this request started on; it keeps it to the end.
    pub state: Arc<GatewayState>,
    pub request_id: super::request_id::RequestId,
    pub started: Instant,
    pub endpoint: Endpoint,
    /// The format the client speaks: decides the shape of every error it gets.
    pub format: ApiFormat,
    pub team: Option<Arc<Team>>,
    /// The model name the client asked for.
    pub requested_model: Option<String>,
    pub stream: bool,
    /// The whole client request body, as received.
    pub body: Bytes,
    /// Where `model` sits in `body`, for splicing in the upstream name.
    pub model_span: Option<(usize, usize)>,
    pub route: Option<Route>,
    /// The routing rule that chose `route` (`x-switchyard-route`; the usage ledger's `rule`).
    pub route_rule: Option<crate::rules::RuleName>,
    /// Index into `route.targets` of the current attempt.
    pub attempt: usize,
    /// When the current attempt must be over (`timeouts.total_ms` from its start).
    pub attempt_deadline: Option<Instant>,
    /// Upstream connections tried so far, including same-target retries of dead pooled connections.
    pub tries: usize,
    /// Provider index of the current attempt.
    pub provider: Option<usize>,
    /// The body prepared for the current target.
    pub upstream_body: Bytes,
    /// Whether `upstream_body` went out in this attempt.
    pub body_sent: bool,
    pub upstream_status: Option<u16>,
    /// The format the current target is spoken to in; differs from `format` when translating.
    pub wire: ApiFormat,
    /// What translation dropped or degraded for the current target (`x-switchyard-translation`).
    pub translation_notes: String,
    pub client_shape: ClientShape,
    pub response_translation: Option<ResponseTranslation>,
    /// The client's own provider credential, when its team's pass-through policy allows it.
    pub client_credential: Option<crate::auth::credential::ClientCredential>,
    /// Conversation identity for key affinity (see `body::Peek::session`).
    pub session: Vec<u8>,
    /// The key of the current attempt, as an index into its provider's pool.
    pub key: Option<usize>,
    /// The failure was the key's own (429, 401/403) and another key can take the same target.
    pub retry_same_target: bool,
    /// An error found while preparing an attempt, for `fail_to_proxy` to send as it is.
    pub pending_error: Option<crate::errors::GatewayError>,
    /// The request's place in its key's and team's limits, settled in `logging`; `None`: it has none.
    pub admission: Option<crate::limits::Admission>,
    /// The team key's non-secret id (its configured name or a digest prefix).
    pub key_id: Option<Arc<str>>,
    /// The end user the client named (header, `metadata.user_id` or `user`), cleaned and bounded.
    pub user: Option<String>,
    /// For an OpenAI-format stream whose client did not ask for usage: the splice that asks the
    /// provider for it (the usage chunk is then cut out of the response).
    pub usage_splice: Option<crate::stream_usage::Splice>,
    /// Reads the current attempt's upstream response for its token counts.
    pub usage: Option<crate::usage::UsageExtractor>,
    /// When the first response byte went to the client.
    pub first_byte: Option<Instant>,
    /// Providers tried, in order (indexes into the config's providers).
    pub tried: Tried,
    /// What went wrong, for the usage record (`ErrorKind::label`, `upstream_status`, `client_gone`).
    pub error_kind: Option<&'static str>,
}

/// Provider indexes tried by one request, in order, without allocating (the first eight are kept;
/// fallback chains are shorter, and same-target retries are not repeated).
#[derive(Debug, Default, Clone, Copy)]
pub struct Tried {
    ids: [u16; 8],
    len: u8,
}

impl Tried {
    pub fn push(&mut self, provider: usize) {
        let id = u16::try_from(provider).unwrap_or(u16::MAX);
        let len = usize::from(self.len);
        if len < self.ids.len() && (len == 0 || self.ids[len - 1] != id) {
            self.ids[len] = id;
            self.len += 1;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.ids[..usize::from(self.len)].iter().map(|&i| usize::from(i))
    }
}

impl RequestCtx {
    pub fn new(state: Arc<GatewayState>) -> Self {
        RequestCtx {
            state,
            request_id: Default::default(),
            started: Instant::now(),
            endpoint: Endpoint::Unknown,
            format: ApiFormat::OpenAi,
            team: None,
            requested_model: None,
            stream: false,
            body: Bytes::new(),
            model_span: None,
            route: None,
            route_rule: None,
            attempt: 0,
            tries: 0,
            attempt_deadline: None,
            provider: None,
            upstream_body: Bytes::new(),
            body_sent: false,
            upstream_status: None,
            wire: ApiFormat::OpenAi,
            translation_notes: String::new(),
            client_shape: ClientShape::default(),
            response_translation: None,
            pending_error: None,
            session: Vec::new(),
            key: None,
            retry_same_target: false,
            client_credential: None,
            admission: None,
            key_id: None,
            user: None,
            usage_splice: None,
            usage: None,
            first_byte: None,
            tried: Tried::default(),
            error_kind: None,
        }
    }

    /// Whether another target remains after the current one, within the route's budget.
    pub fn has_next_target(&self) -> bool {
        self.route.as_ref().is_some_and(|r| {
            let within_attempts = r.budget.max_attempts.is_none_or(|max| self.attempt + 1 < max);
            let within_deadline = r.budget.deadline.is_none_or(|d| self.started.elapsed() < d);
            self.attempt + 1 < r.targets.len() && within_attempts && within_deadline
        })
    }

    /// Ends the current attempt's hold on its key (in-flight count).
    pub fn release_key(&mut self) {
        if let (Some(provider), Some(key)) = (self.provider, self.key.take()) {
            if let Some(pool) = self.state.pools.get(provider) {
                pool.finish(key);
            }
        }
    }

    /// Tells the current key's pool how the attempt went; counts and logs a state change.
    pub fn report_key(&self, outcome: crate::pool::Outcome) {
        let (Some(provider), Some(key)) = (self.provider, self.key) else { return };
        let Some(pool) = self.state.pools.get(provider) else { return };
        if let Some(change) = pool.report(key, outcome, std::time::Instant::now()) {
            let name = self.provider_name();
            crate::metrics::Metrics::global().key_state_changes.with_label_values(&[name, &key.to_string(), change.label()]).inc();
            match change {
                crate::pool::Change::CoolingDown(d) => log::warn!("provider `{name}` key #{key}: rate limited, resting {d:?}"),
                crate::pool::Change::CircuitOpened(d) => log::warn!("provider `{name}` key #{key}: failing repeatedly, circuit open for {d:?}"),
                crate::pool::Change::Disabled => log::error!("provider `{name}` key #{key}: refused by the provider (401/403), disabled until the next config load"),
            }
        }
    }

    /// The configured name of the current provider, for headers and metric labels.
    pub fn provider_name(&self) -> &str {
        match self.provider {
            Some(i) => self.state.upstreams.get(i).map_or("none", |u| u.provider.name.as_str()),
            None => "none",
        }
    }
}
