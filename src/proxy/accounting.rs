//! Glue between the proxy and the usage ledger: in `logging`, one call turns the finished
//! request's context into a [`UsageRecord`] — tokens from the usage extractor, cost from the price
//! table, who and where from the context — counts it in the metrics, and hands it to the ledger's
//! queue. Nothing here waits on anything.

use std::time::Instant;

use super::ctx::RequestCtx;
use crate::api::Endpoint;
use crate::ledger::{now_ms, Ledger, UsageRecord};
use crate::metrics::Metrics;
use crate::usage::{Extracted, TokenUsage};

/// What the label of an unconfigured model (or team, or provider) becomes.
const OTHER: &str = "other";

/// Records the finished request: metrics now, the usage record through the ledger's queue.
/// `usage` is the usage extractor's result (`None`: no response was read — the limits settle from
/// the same value); `status` is what the client got (0: nothing); `client_gone` that it left before the end.
/// Returns the cost the record carries (nano-USD; `None`: none was recorded, or no price), which the
/// request's budgets are charged.
pub fn finish(
    ledger: &Ledger,
    ctx: &mut RequestCtx,
    usage: Option<Extracted>,
    status: u16,
    client_gone: bool,
) -> Option<u64> {
    if !matches!(
        ctx.endpoint,
        Endpoint::Messages | Endpoint::ChatCompletions | Endpoint::Responses
    ) {
        return None;
    }
    let team = ctx.team.clone()?;
    let state = ctx.state.clone();
    let metrics = Metrics::global();
    let read = usage.is_some();
    let extracted = usage.unwrap_or(Extracted {
        usage: TokenUsage::default(),
        partial: false,
    });
    let (provider, upstream_model) = match (
        ctx.provider.and_then(|p| state.upstreams.get(p)),
        ctx.route.as_ref().and_then(|r| r.targets.get(ctx.attempt)),
    ) {
        (Some(upstream), Some(target)) => (
            upstream.provider.name.as_str(),
            target.upstream_model.as_str(),
        ),
        (Some(upstream), None) => (upstream.provider.name.as_str(), ""),
        _ => ("", ""),
    };
    let tokens = extracted.usage;
    let cost = if provider.is_empty() {
        Some(0)
    } else {
        state
            .config
            .pricing
            .lookup(provider, upstream_model)
            .map(|p| p.cost_nano_usd(&tokens))
    };
    let error_kind = match ctx.error_kind {
        Some(kind) => Some(kind),
        None if client_gone => Some("client_gone"),
        None if status >= 400 => Some("upstream_status"),
        None if extracted.partial && read => Some("upstream_cut"),
        None => None,
    };

    // Metrics: label values from the config, anything else `other`.
    let model_label = if state.config.model_labels.contains(upstream_model) {
        upstream_model
    } else {
        OTHER
    };
    let provider_label = if provider.is_empty() {
        "none"
    } else {
        provider
    };
    let status_class = match status {
        0 => "none",
        100..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics
        .team_requests
        .with_label_values(&[&team.name, status_class])
        .inc();
    if let Some(first) = ctx.first_byte {
        metrics
            .time_to_first_byte
            .with_label_values(&[provider_label])
            .observe(first.saturating_duration_since(ctx.started).as_secs_f64());
    }
    if !provider.is_empty() {
        let kinds = [
            ("input", tokens.input_tokens),
            ("output", tokens.output_tokens),
            ("cache_read", tokens.cache_read_input_tokens),
            ("cache_write_5m", tokens.cache_creation_5m_input_tokens()),
            ("cache_write_1h", tokens.cache_creation_1h_input_tokens),
            ("reasoning", tokens.reasoning_tokens),
        ];
        for (kind, n) in kinds.into_iter().filter(|(_, n)| *n > 0) {
            metrics
                .tokens
                .with_label_values(&[&team.name, model_label, provider, kind])
                .inc_by(n);
        }
        match cost {
            Some(nano) if nano > 0 => metrics
                .cost_usd
                .with_label_values(&[&team.name, model_label, provider])
                .inc_by(nano as f64 / 1e9),
            Some(_) => {}
            None => metrics
                .unpriced_requests
                .with_label_values(&[provider, model_label])
                .inc(),
        }
        if extracted.partial && read {
            metrics
                .partial_responses
                .with_label_values(&[provider])
                .inc();
        }
    }

    let mut providers_tried = String::new();
    for index in ctx.tried.iter() {
        if let Some(upstream) = state.upstreams.get(index) {
            if !providers_tried.is_empty() {
                providers_tried.push(',');
            }
            providers_tried.push_str(&upstream.provider.name);
        }
    }
    let now = Instant::now();
    let record = UsageRecord {
        time_ms: now_ms(),
        request_id: ctx.request_id.as_str().to_string(),
        team: team.name.clone(),
        key_id: ctx.key_id.as_deref().unwrap_or("").to_string(),
        user: ctx.user.take(),
        endpoint: ctx.endpoint.label(),
        client_format: ctx.format.label(),
        requested_model: ctx.requested_model.take().unwrap_or_default(),
        // As `x-switchyard-route` says it (`default`, `explicit`, or the rule's name); empty only
        // for a request refused before a route was found.
        rule: ctx
            .route_rule
            .as_ref()
            .map_or_else(String::new, |r| r.as_str().to_string()),
        provider: provider.to_string(),
        upstream_model: upstream_model.to_string(),
        attempts: u32::try_from(ctx.tries).unwrap_or(u32::MAX),
        providers_tried,
        status,
        error_kind,
        tokens,
        cost_nano_usd: cost,
        latency_ms: millis(now.saturating_duration_since(ctx.started)),
        ttfb_ms: ctx
            .first_byte
            .map(|f| millis(f.saturating_duration_since(ctx.started))),
        stream: ctx.stream,
        partial: extracted.partial && read,
    };
    ledger.submit(record);
    cost
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
