//! The price rows as written: the shipped `conf/prices.yaml` and the config's `pricing:` entries use
//! the same fields ([`PriceSpec`]), checked here into [`Price`] with errors that name the field.

use std::sync::Arc;

use serde::{Deserialize, Deserializer};

use super::{parse_usd, Price, Rates};

/// The shipped price table (see the file for its format and sources).
pub const SHIPPED: &str = include_str!("../../conf/prices.yaml");

/// A price in USD per million tokens, as its decimal text (YAML numbers and strings both accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount(pub String);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Float(f64),
            Text(String),
        }
        Ok(Amount(match Raw::deserialize(d)? {
            Raw::Int(n) => n.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Text(s) => s,
        }))
    }
}

/// One model's prices as written. Cache rates left out default to the input rate (never under-counts).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSpec {
    pub input: Amount,
    pub output: Amount,
    #[serde(default)]
    pub cache_write_5m: Option<Amount>,
    #[serde(default)]
    pub cache_write_1h: Option<Amount>,
    #[serde(default)]
    pub cache_read: Option<Amount>,
    /// Rates for a whole request whose input is above a threshold.
    #[serde(default)]
    pub tiers: Vec<TierSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// The tier applies when input (uncached + cache read + cache write) is above this many tokens.
    pub above_input_tokens: u64,
    pub input: Amount,
    pub output: Amount,
    #[serde(default)]
    pub cache_write_5m: Option<Amount>,
    #[serde(default)]
    pub cache_write_1h: Option<Amount>,
    #[serde(default)]
    pub cache_read: Option<Amount>,
}

/// A rate that failed to parse, at `path` (relative to the row).
#[derive(Debug, PartialEq, Eq)]
pub struct SpecError {
    pub path: String,
    pub message: String,
}

fn rates(
    input: &Amount,
    output: &Amount,
    w5: &Option<Amount>,
    w1: &Option<Amount>,
    read: &Option<Amount>,
    path: &str,
) -> Result<Rates, SpecError> {
    let parse = |a: &Amount, field: &str| {
        parse_usd(&a.0).map_err(|message| SpecError {
            path: format!("{path}{field}"),
            message,
        })
    };
    let input_rate = parse(input, "input")?;
    let or_input =
        |a: &Option<Amount>, field: &str| a.as_ref().map_or(Ok(input_rate), |a| parse(a, field));
    Ok(Rates {
        input: input_rate,
        output: parse(output, "output")?,
        cache_write_5m: or_input(w5, "cache_write_5m")?,
        cache_write_1h: or_input(w1, "cache_write_1h")?,
        cache_read: or_input(read, "cache_read")?,
    })
}

impl PriceSpec {
    pub fn to_price(&self) -> Result<Price, SpecError> {
        let base = rates(
            &self.input,
            &self.output,
            &self.cache_write_5m,
            &self.cache_write_1h,
            &self.cache_read,
            "",
        )?;
        let mut tiers = Vec::with_capacity(self.tiers.len());
        let mut previous = 0;
        for (i, t) in self.tiers.iter().enumerate() {
            let path = format!("tiers[{i}].");
            if t.above_input_tokens <= previous {
                return Err(SpecError {
                    path: format!("{path}above_input_tokens"),
                    message: format!("{} must be greater than 0 and than the tier before it (tiers go in ascending order)", t.above_input_tokens),
                });
            }
            previous = t.above_input_tokens;
            tiers.push((
                t.above_input_tokens,
                rates(
                    &t.input,
                    &t.output,
                    &t.cache_write_5m,
                    &t.cache_write_1h,
                    &t.cache_read,
                    &path,
                )?,
            ));
        }
        Ok(Price { base, tiers })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShippedFile {
    models: Vec<ShippedRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShippedRow {
    names: Vec<String>,
    input: Amount,
    output: Amount,
    #[serde(default)]
    cache_write_5m: Option<Amount>,
    #[serde(default)]
    cache_write_1h: Option<Amount>,
    #[serde(default)]
    cache_read: Option<Amount>,
    #[serde(default)]
    tiers: Vec<TierSpec>,
    /// When the price was read from its source (YYYY-MM-DD).
    date: String,
    /// Where the price comes from, and whether it was verified.
    source: String,
}

/// The shipped rows, one per name. An error here is a broken `conf/prices.yaml` (a unit test reads it).
pub fn shipped() -> Result<Vec<(String, Arc<Price>)>, String> {
    let file: ShippedFile =
        serde_yaml::from_str(SHIPPED).map_err(|e| format!("conf/prices.yaml: {e}"))?;
    let mut rows = Vec::new();
    for (i, row) in file.models.into_iter().enumerate() {
        let ShippedRow {
            names,
            input,
            output,
            cache_write_5m,
            cache_write_1h,
            cache_read,
            tiers,
            date,
            source,
        } = row;
        if names.is_empty() || date.trim().is_empty() || source.trim().is_empty() {
            return Err(format!(
                "conf/prices.yaml: models[{i}]: every row needs names, a date and a source"
            ));
        }
        let spec = PriceSpec {
            input,
            output,
            cache_write_5m,
            cache_write_1h,
            cache_read,
            tiers,
        };
        let price = Arc::new(
            spec.to_price()
                .map_err(|e| format!("conf/prices.yaml: models[{i}].{}: {}", e.path, e.message))?,
        );
        rows.extend(names.into_iter().map(|n| (n, price.clone())));
    }
    Ok(rows)
}
