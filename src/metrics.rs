//! Prometheus metrics. Every label value comes from a closed set (endpoint labels, status
//! codes, configured provider names, outcome enums) — never from client input — so a client
//! cannot blow up cardinality and no secret can become a label.

use std::sync::OnceLock;

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

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
}

impl Metrics {
    fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("switchyard_requests_total", "Requests handled, by endpoint, HTTP status and provider."),
            &["endpoint", "status", "provider"],
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new("switchyard_request_duration_seconds", "Time from request start to the end of the response, by endpoint.")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0]),
            &["endpoint"],
        )?;
        let upstream_attempts = IntCounterVec::new(
            Opts::new("switchyard_upstream_attempts_total", "Upstream attempts, by provider and outcome."),
            &["provider", "outcome"],
        )?;
        let fallbacks = IntCounterVec::new(
            Opts::new("switchyard_fallbacks_total", "Moves to a later target after a failed attempt, by the provider that failed."),
            &["provider"],
        )?;
        let client_disconnects = IntCounterVec::new(
            Opts::new("switchyard_client_disconnects_total", "Requests whose client went away before the response ended, by endpoint."),
            &["endpoint"],
        )?;
        let config_reloads = IntCounterVec::new(
            Opts::new("switchyard_config_reloads_total", "Config reloads (SIGHUP), by result: ok, or error (the running config stays)."),
            &["result"],
        )?;
        let key_state_changes = IntCounterVec::new(
            Opts::new("switchyard_key_state_changes_total", "Provider key state changes: cooldown (429), circuit_open (repeated failures), disabled (401/403)."),
            &["provider", "key", "change"],
        )?;
        let in_flight = IntGauge::new("switchyard_requests_in_flight", "Requests currently being handled.")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_duration.clone()))?;
        registry.register(Box::new(upstream_attempts.clone()))?;
        registry.register(Box::new(fallbacks.clone()))?;
        registry.register(Box::new(client_disconnects.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(config_reloads.clone()))?;
        registry.register(Box::new(key_state_changes.clone()))?;
        Ok(Metrics { registry, requests, request_duration, upstream_attempts, fallbacks, client_disconnects, in_flight, config_reloads, key_state_changes })
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
        m.requests.with_label_values(&["messages", "200", "mock"]).inc();
        let text = String::from_utf8(m.render()).unwrap();
        assert!(text.contains("switchyard_requests_total{endpoint=\"messages\",provider=\"mock\",status=\"200\"}"), "{text}");
    }
}
