//! Prometheus metrics. Every label value comes from a closed set (endpoint labels, status
//! codes, configured provider names, outcome enums) — never from client input — so a client
//! cannot blow up cardinality and no secret can become a label.

use std::sync::OnceLock;

use prometheus::{
    CounterVec, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, Opts, Registry, TextEncoder,
};

use crate::api::Endpoint;

pub struct Metrics {
    pub registry: Registry,
    /// Requests by endpoint, status code and provider (`none` when no upstream was used).
    pub requests: IntCounterVec,
    /// End-to-end latency by endpoint.
    pub request_duration: HistogramVec,
    /// Upstream attempts by provider and outcome (`ok`, `status_4xx`, `retryable_status`, `connect_error`, `error`).
    pub upstream_attempts: IntCounterVec,
    /// Requests that moved on to a later target after a failure, by the provider that failed.
    pub fallbacks: IntCounterVec,
    /// Requests whose client went away before the response finished.
    pub client_disconnects: IntCounterVec,
    pub in_flight: IntGauge,
    /// Config reloads by result (`ok`, `error`).
    pub config_reloads: IntCounterVec,
    /// Provider key state changes by provider, key index (never the key) and change.
    pub key_state_changes: IntCounterVec,
    /// Tokens by team, model, provider and kind (`input`, `output`, `cache_read`, `cache_write_5m`,
    /// `cache_write_1h`, `reasoning`; reasoning is also counted in output).
    pub tokens: IntCounterVec,
    /// Spend in USD by team, model and provider (exact figures are in the usage store).
    pub cost_usd: CounterVec,
    /// Time from request start to the first response byte sent to the client, by provider.
    pub time_to_first_byte: HistogramVec,
    /// Requests by team and status class (`2xx`, `4xx`, `5xx`, `none` when the client left first).
    pub team_requests: IntCounterVec,
    /// Requests whose model has no price (cost unknown), by provider and model.
    pub unpriced_requests: IntCounterVec,
    /// Responses that did not run to their end (client gone, upstream cut), by provider.
    pub partial_responses: IntCounterVec,
    pub usage_records_written: IntCounter,
    pub usage_records_queued: IntGauge,
    /// Records lost: `queue_full` (store slow or down), `store_unavailable` (given up at shutdown), `writer_stopped`.
    pub usage_records_dropped: IntCounterVec,
    pub usage_store_write_seconds: Histogram,
    pub usage_store_errors: IntCounter,
    pub limits: LimitMetrics,
    /// `request_duration` per endpoint, resolved once (see [`ProviderMetrics`] for why).
    durations: Vec<Histogram>,
}

/// Rate and concurrency limits (`limits/`): what they refused, and how the shared store is doing.
pub struct LimitMetrics {
    /// Refused requests by team, scope (`team`, `key`) and limit (a limit's field, or `store_unavailable`).
    pub rejections: IntCounterVec,
    /// Requests admitted on this replica's own counters because the shared store failed (`fail_open`).
    pub fail_open: IntCounter,
    /// Shared-store failures by operation (`admit`, `release`, `adjust`, `heartbeat`).
    pub store_errors: IntCounterVec,
    /// 1 while the shared store answers, 0 after a failure until it answers again.
    pub store_up: IntGauge,
    /// Time an admission waited for the shared store.
    pub store_seconds: Histogram,
    /// Requests admitted with a budget past its `budget_warn_at`, by team, scope (`team`, `key`) and
    /// the tightest budget (`budget_usd_per_day`, `budget_usd_per_month`).
    pub budget_warnings: IntCounterVec,
}

impl LimitMetrics {
    fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let rejections = IntCounterVec::new(
            Opts::new("switchyard_limit_rejections_total", "Requests refused by a rate or concurrency limit, by team, scope (team or key) and limit."),
            &["team", "scope", "limit"],
        )?;
        let fail_open = IntCounter::new(
            "switchyard_limit_fail_open_total",
            "Requests admitted on this replica's own counters because the shared limit store failed (shared_state.on_error: fail_open).",
        )?;
        let store_errors = IntCounterVec::new(
            Opts::new("switchyard_limit_store_errors_total", "Shared limit store (Redis) failures, by operation: admit, release, adjust, heartbeat, seed."),
            &["operation"],
        )?;
        let store_up = IntGauge::new("switchyard_limit_store_up", "1 while the shared limit store (Redis) answers; 0 from a failure until it answers again.")?;
        let store_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "switchyard_limit_store_seconds",
                "Time an admission waited for the shared limit store (Redis).",
            )
            .buckets(vec![
                0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            ]),
        )?;
        registry.register(Box::new(rejections.clone()))?;
        registry.register(Box::new(fail_open.clone()))?;
        registry.register(Box::new(store_errors.clone()))?;
        registry.register(Box::new(store_up.clone()))?;
        let budget_warnings = IntCounterVec::new(
            Opts::new(
                "switchyard_budget_warnings_total",
                "Requests admitted with a spend budget past its warning threshold (budget_warn_at), by team, scope (team or key) and the tightest budget.",
            ),
            &["team", "scope", "budget"],
        )?;
        registry.register(Box::new(store_seconds.clone()))?;
        registry.register(Box::new(budget_warnings.clone()))?;
        // Every operation is exported from the start (at 0), so a dashboard's error rate has a series to read.
        for operation in ["admit", "release", "adjust", "heartbeat", "seed"] {
            store_errors.with_label_values(&[operation]);
        }
        Ok(LimitMetrics {
            rejections,
            fail_open,
            store_errors,
            store_up,
            store_seconds,
            budget_warnings,
        })
    }
}

/// One provider's hot counters, resolved once per config generation: `with_label_values` hashes
/// every label and takes the vector's read lock on each call, which showed in the profile of a
/// small request. Anything off the common path still goes through the labelled vectors.
pub struct ProviderMetrics {
    /// `upstream_attempts_total{outcome="ok"}`.
    pub attempts_ok: IntCounter,
    /// `requests_total{status="200"}`, by [`Endpoint::index`], for the endpoints a provider serves.
    ok_requests: Vec<Option<IntCounter>>,
}

impl ProviderMetrics {
    pub fn new(provider: &str) -> ProviderMetrics {
        let m = Metrics::global();
        // Exported at 0 from the start: a dashboard's rate of cut responses has a series to read.
        m.partial_responses.with_label_values(&[provider]);
        ProviderMetrics {
            attempts_ok: m.upstream_attempts.with_label_values(&[provider, "ok"]),
            ok_requests: Endpoint::ALL
                .iter()
                .map(|e| {
                    e.is_proxied()
                        .then(|| m.requests.with_label_values(&[e.label(), "200", provider]))
                })
                .collect(),
        }
    }

    pub fn ok_request(&self, endpoint: Endpoint) -> Option<&IntCounter> {
        self.ok_requests
            .get(endpoint.index())
            .and_then(Option::as_ref)
    }
}

impl std::fmt::Debug for ProviderMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderMetrics")
    }
}

impl Metrics {
    fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "switchyard_requests_total",
                "Requests handled, by endpoint, HTTP status and provider.",
            ),
            &["endpoint", "status", "provider"],
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "switchyard_request_duration_seconds",
                "Time from request start to the end of the response, by endpoint.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                60.0, 120.0, 300.0,
            ]),
            &["endpoint"],
        )?;
        let upstream_attempts = IntCounterVec::new(
            Opts::new(
                "switchyard_upstream_attempts_total",
                "Upstream attempts, by provider and outcome.",
            ),
            &["provider", "outcome"],
        )?;
        let fallbacks = IntCounterVec::new(
            Opts::new(
                "switchyard_fallbacks_total",
                "Moves to a later target after a failed attempt, by the provider that failed.",
            ),
            &["provider"],
        )?;
        let client_disconnects = IntCounterVec::new(
            Opts::new(
                "switchyard_client_disconnects_total",
                "Requests whose client went away before the response ended, by endpoint.",
            ),
            &["endpoint"],
        )?;
        let config_reloads = IntCounterVec::new(
            Opts::new(
                "switchyard_config_reloads_total",
                "Config reloads (SIGHUP), by result: ok, or error (the running config stays).",
            ),
            &["result"],
        )?;
        let key_state_changes = IntCounterVec::new(
            Opts::new("switchyard_key_state_changes_total", "Provider key state changes: cooldown (429), circuit_open (repeated failures), disabled (401/403)."),
            &["provider", "key", "change"],
        )?;
        let in_flight = IntGauge::new(
            "switchyard_requests_in_flight",
            "Requests currently being handled.",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_duration.clone()))?;
        registry.register(Box::new(upstream_attempts.clone()))?;
        registry.register(Box::new(fallbacks.clone()))?;
        registry.register(Box::new(client_disconnects.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(config_reloads.clone()))?;
        registry.register(Box::new(key_state_changes.clone()))?;
        let tokens = IntCounterVec::new(
            Opts::new("switchyard_tokens_total", "Tokens by team, model, provider and kind (input, output, cache_read, cache_write_5m, cache_write_1h, reasoning; reasoning is part of output)."),
            &["team", "model", "provider", "kind"],
        )?;
        let cost_usd = CounterVec::new(
            Opts::new(
                "switchyard_cost_usd_total",
                "Spend in USD by team, model and provider, from the price table.",
            ),
            &["team", "model", "provider"],
        )?;
        let time_to_first_byte = HistogramVec::new(
            HistogramOpts::new("switchyard_time_to_first_byte_seconds", "Time from request start to the first response byte sent to the client, by provider.")
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
            &["provider"],
        )?;
        let team_requests = IntCounterVec::new(
            Opts::new("switchyard_team_requests_total", "Requests by team and status class (2xx, 4xx, 5xx; none when the client left before a status)."),
            &["team", "status_class"],
        )?;
        let unpriced_requests = IntCounterVec::new(
            Opts::new(
                "switchyard_unpriced_requests_total",
                "Requests whose upstream model has no price (cost unknown), by provider and model.",
            ),
            &["provider", "model"],
        )?;
        let partial_responses = IntCounterVec::new(
            Opts::new("switchyard_partial_responses_total", "Responses that did not run to their end (client gone or upstream cut), by provider."),
            &["provider"],
        )?;
        let usage_records_written = IntCounter::new(
            "switchyard_usage_records_written_total",
            "Usage records written to the store.",
        )?;
        let usage_records_queued = IntGauge::new(
            "switchyard_usage_records_queued",
            "Usage records waiting for the writer.",
        )?;
        let usage_records_dropped = IntCounterVec::new(
            Opts::new(
                "switchyard_usage_records_dropped_total",
                "Usage records lost, by reason: queue_full, store_unavailable, writer_stopped.",
            ),
            &["reason"],
        )?;
        let usage_store_write_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "switchyard_usage_store_write_seconds",
                "Time to write one batch of usage records to the store.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ]),
        )?;
        let usage_store_errors = IntCounter::new(
            "switchyard_usage_store_errors_total",
            "Failed writes to the usage store (each is retried).",
        )?;
        for c in [
            &tokens,
            &team_requests,
            &unpriced_requests,
            &partial_responses,
            &usage_records_dropped,
        ] {
            registry.register(Box::new(c.clone()))?;
        }
        registry.register(Box::new(cost_usd.clone()))?;
        registry.register(Box::new(time_to_first_byte.clone()))?;
        registry.register(Box::new(usage_records_written.clone()))?;
        registry.register(Box::new(usage_records_queued.clone()))?;
        registry.register(Box::new(usage_store_write_seconds.clone()))?;
        registry.register(Box::new(usage_store_errors.clone()))?;
        // Every drop reason is exported from the start (at 0), so alerts and dashboards see the series.
        for reason in ["queue_full", "store_unavailable", "writer_stopped"] {
            usage_records_dropped.with_label_values(&[reason]);
        }
        let limits = LimitMetrics::new(&registry)?;
        let durations = Endpoint::ALL
            .iter()
            .map(|e| request_duration.with_label_values(&[e.label()]))
            .collect();
        Ok(Metrics {
            registry,
            requests,
            request_duration,
            upstream_attempts,
            fallbacks,
            client_disconnects,
            in_flight,
            config_reloads,
            key_state_changes,
            tokens,
            cost_usd,
            time_to_first_byte,
            team_requests,
            unpriced_requests,
            partial_responses,
            usage_records_written,
            usage_records_queued,
            usage_records_dropped,
            usage_store_write_seconds,
            usage_store_errors,
            limits,
            durations,
        })
    }

    /// The process-wide metrics; created on first use.
    pub fn global() -> &'static Metrics {
        static METRICS: OnceLock<Metrics> = OnceLock::new();
        METRICS.get_or_init(|| match Metrics::new() {
            Ok(m) => m,
            // Only reachable if two metrics above shared a name: a programming error caught by every test run.
            Err(e) => unreachable!("metric definitions are inconsistent: {e}"),
        })
    }

    /// Records a finished request: its status and provider, and how long it took.
    pub fn observe_request(
        &self,
        endpoint: Endpoint,
        status: u16,
        provider: Option<&ProviderMetrics>,
        provider_name: &str,
        elapsed: std::time::Duration,
    ) {
        match provider
            .and_then(|p| p.ok_request(endpoint))
            .filter(|_| status == 200)
        {
            Some(counter) => counter.inc(),
            None => self
                .requests
                .with_label_values(&[endpoint.label(), &status.to_string(), provider_name])
                .inc(),
        }
        match self.durations.get(endpoint.index()) {
            Some(histogram) => histogram.observe(elapsed.as_secs_f64()),
            None => self
                .request_duration
                .with_label_values(&[endpoint.label()])
                .observe(elapsed.as_secs_f64()),
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(e) = encoder.encode(&self.registry.gather(), &mut out) {
            log::error!("encoding metrics failed: {e}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_prefix() {
        let m = Metrics::global();
        m.requests
            .with_label_values(&["messages", "200", "mock"])
            .inc();
        let text = String::from_utf8(m.render()).unwrap();
        assert!(
            text.contains(
                "switchyard_requests_total{endpoint=\"messages\",provider=\"mock\",status=\"200\"}"
            ),
            "{text}"
        );
    }

    #[test]
    fn prebuilt_handles_count_in_the_labelled_series() {
        let m = Metrics::global();
        let p = ProviderMetrics::new("prebuilt-test");
        let series = |endpoint: &str, status: &str| {
            m.requests
                .with_label_values(&[endpoint, status, "prebuilt-test"])
                .get()
        };
        m.observe_request(
            Endpoint::ChatCompletions,
            200,
            Some(&p),
            "prebuilt-test",
            std::time::Duration::from_millis(3),
        );
        m.observe_request(
            Endpoint::ChatCompletions,
            502,
            Some(&p),
            "prebuilt-test",
            std::time::Duration::from_millis(3),
        );
        assert_eq!(
            (
                series("chat_completions", "200"),
                series("chat_completions", "502")
            ),
            (1, 1)
        );
        p.attempts_ok.inc();
        assert_eq!(
            m.upstream_attempts
                .with_label_values(&["prebuilt-test", "ok"])
                .get(),
            1
        );
        assert!(
            m.request_duration
                .with_label_values(&["chat_completions"])
                .get_sample_count()
                >= 2
        );
    }
}
