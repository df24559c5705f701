//! Prices: what one exchange cost, in exact integer arithmetic. Pure (no Pingora types).
//!
//! A price is five rates per million tokens — input, output, cache write 5 m, cache write 1 h,
//! cache read — plus optional tiers that replace them for a whole request whose input is above a
//! threshold (Sonnet 4/4.5 above 200K input tokens). Rates are held as integer **micro-USD per
//! million tokens**, which is the same number as pico-USD per token, so `tokens × rate` is an exact
//! pico-USD amount; a request's cost is summed in pico-USD and stored as **nano-USD** (rounded
//! down once per request, so the error is below $0.000000001 per request). No float is summed
//! anywhere; a price in the table may have up to six decimals in USD per million tokens.
//!
//! The shipped table is `conf/prices.yaml` (compiled in, every row with its date and source); the
//! config's `pricing:` section overrides and adds rows. See [`PriceTable::lookup`] for how a
//! provider and upstream model name find their row.

mod decimal;
pub mod table;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use crate::usage::TokenUsage;
pub use decimal::{format_usd, parse_usd};
pub use table::{PriceSpec, TierSpec, SHIPPED};

/// Rates in micro-USD per million tokens (= pico-USD per token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rates {
    pub input: u64,
    pub output: u64,
    pub cache_write_5m: u64,
    pub cache_write_1h: u64,
    pub cache_read: u64,
}

/// One model's price: base rates, and tiers by input size (ascending thresholds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub base: Rates,
    /// `(above_input_tokens, rates)`: the last tier whose threshold the input exceeds applies.
    pub tiers: Vec<(u64, Rates)>,
}

impl Price {
    /// The rates for a request with `input_tokens` of input (uncached + cache read + cache write).
    pub fn rates_for(&self, input_tokens: u64) -> &Rates {
        self.tiers
            .iter()
            .rev()
            .find(|(above, _)| input_tokens > *above)
            .map_or(&self.base, |(_, r)| r)
    }

    /// The cost of `usage` in nano-USD (exact; rounded down once).
    pub fn cost_nano_usd(&self, usage: &TokenUsage) -> u64 {
        let r = self.rates_for(usage.prompt_tokens());
        let pico = u128::from(usage.input_tokens) * u128::from(r.input)
            + u128::from(usage.output_tokens) * u128::from(r.output)
            + u128::from(usage.cache_creation_5m_input_tokens()) * u128::from(r.cache_write_5m)
            + u128::from(usage.cache_creation_1h_input_tokens) * u128::from(r.cache_write_1h)
            + u128::from(usage.cache_read_input_tokens) * u128::from(r.cache_read);
        u64::try_from(pico / 1000).unwrap_or(u64::MAX)
    }
}

/// Prices by model name, with provider-qualified names indexed per provider so that a lookup
/// allocates nothing.
#[derive(Debug, Default, Clone)]
pub struct PriceTable {
    /// Every name as written (`claude-sonnet-4-5`, `z-ai/glm-4.5-air`, `openrouter/z-ai/glm-4.5-air`).
    by_name: HashMap<String, Arc<Price>>,
    /// Names whose first segment is a configured provider: provider → rest of the name → price.
    by_provider: HashMap<String, HashMap<String, Arc<Price>>>,
}

impl PriceTable {
    /// Builds the table from rows in order; a later row with the same name replaces an earlier one
    /// (the config's rows come after the shipped ones). `providers` are the configured provider
    /// names, so `openrouter/z-ai/glm-4.5-air` is known as provider `openrouter`'s `z-ai/glm-4.5-air`.
    pub fn new<'a>(
        rows: impl IntoIterator<Item = (&'a str, Arc<Price>)>,
        providers: &[&str],
    ) -> PriceTable {
        let mut table = PriceTable::default();
        for (name, price) in rows {
            if let Some((provider, rest)) =
                name.split_once('/').filter(|(p, _)| providers.contains(p))
            {
                table
                    .by_provider
                    .entry(provider.to_string())
                    .or_default()
                    .insert(rest.to_string(), price.clone());
            }
            table.by_name.insert(name.to_string(), price);
        }
        table
    }

    /// The price for `model` as sent to `provider`. The first of these that has a row wins:
    /// 1. `provider/model` (a row naming this provider);
    /// 2. `model` as sent upstream (`z-ai/glm-4.5-air`);
    /// 3. its last segment after `/` (`glm-4.5-air`);
    /// 4. the same three with a trailing date removed (`-20250929`, `-2025-04-14`).
    pub fn lookup(&self, provider: &str, model: &str) -> Option<&Arc<Price>> {
        self.lookup_exact(provider, model)
            .or_else(|| without_date(model).and_then(|m| self.lookup_exact(provider, m)))
    }

    fn lookup_exact(&self, provider: &str, model: &str) -> Option<&Arc<Price>> {
        self.by_provider
            .get(provider)
            .and_then(|names| names.get(model))
            .or_else(|| self.by_name.get(model))
            .or_else(|| {
                model
                    .rsplit_once('/')
                    .and_then(|(_, last)| self.by_name.get(last))
            })
    }

    /// Every name with a row, for bounded metric labels.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

/// `model` without a trailing `-YYYYMMDD` or `-YYYY-MM-DD`, if it has one.
fn without_date(model: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((head, tail)) = model.rsplit_once('-') {
        if tail.len() == 8 && digits(tail) && tail.starts_with("20") {
            return Some(head);
        }
    }
    let bytes = model.as_bytes();
    if bytes.len() > 11 && bytes[bytes.len() - 11] == b'-' {
        let tail = &model[model.len() - 10..];
        let parts: Vec<&str> = tail.split('-').collect();
        if parts.len() == 3
            && parts[0].len() == 4
            && parts[1].len() == 2
            && parts[2].len() == 2
            && parts.iter().all(|p| digits(p))
        {
            return Some(&model[..model.len() - 11]);
        }
    }
    None
}
