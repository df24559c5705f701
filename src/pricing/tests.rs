use std::sync::Arc;

use super::table::shipped;
use super::*;

fn shipped_table(providers: &[&str]) -> PriceTable {
    let rows = shipped().expect("conf/prices.yaml parses");
    PriceTable::new(rows.iter().map(|(n, p)| (n.as_str(), p.clone())), providers)
}

fn usage(input: u64, output: u64, read: u64, write_5m: u64, write_1h: u64) -> TokenUsage {
    TokenUsage {
        input_tokens: input,
        output_tokens: output,
        cache_read_input_tokens: read,
        cache_creation_input_tokens: write_5m + write_1h,
        cache_creation_1h_input_tokens: write_1h,
        reasoning_tokens: 0,
        reported: true,
    }
}

#[test]
fn sonnet_4_5_is_priced_as_anthropic_publishes_it() {
    let table = shipped_table(&["anthropic"]);
    let price = table
        .lookup("anthropic", "claude-sonnet-4-5")
        .expect("priced");
    assert_eq!(
        price.base,
        Rates {
            input: 3_000_000,
            output: 15_000_000,
            cache_write_5m: 3_750_000,
            cache_write_1h: 6_000_000,
            cache_read: 300_000
        }
    );
    // 100K input and 1M output: $0.30 + $15.
    assert_eq!(
        price.cost_nano_usd(&usage(100_000, 1_000_000, 0, 0, 0)),
        15_300_000_000
    );
    assert_eq!(
        price.cost_nano_usd(&usage(0, 0, 1, 0, 0)),
        300,
        "one cache-read token is 300 nano-USD, not truncated away"
    );
    assert_eq!(
        price.cost_nano_usd(&usage(100_000, 0, 50_000, 20_000, 10_000)),
        300_000_000 + 15_000_000 + 75_000_000 + 60_000_000
    );
    // Claude Code's dated names find the same row.
    assert!(Arc::ptr_eq(
        table
            .lookup("anthropic", "claude-sonnet-4-5-20250929")
            .unwrap(),
        price
    ));
}

#[test]
fn long_context_tier_prices_the_whole_request() {
    let table = shipped_table(&[]);
    let price = table.lookup("anthropic", "claude-sonnet-4-5").unwrap();
    // 200 000 input tokens is not above the threshold; 200 001 (counting cache reads) is.
    assert_eq!(
        price.cost_nano_usd(&usage(200_000, 1_000, 0, 0, 0)),
        600_000_000 + 15_000_000
    );
    assert_eq!(
        price.cost_nano_usd(&usage(200_000, 1_000, 1, 0, 0)),
        1_200_000_000 + 22_500_000 + 600
    );
}

#[test]
fn provider_qualified_names_win() {
    let mut rows: Vec<(String, Arc<Price>)> = shipped().unwrap();
    let special = Arc::new(Price {
        base: Rates {
            input: 1,
            output: 2,
            cache_write_5m: 1,
            cache_write_1h: 1,
            cache_read: 1,
        },
        tiers: vec![],
    });
    rows.push(("openrouter/z-ai/glm-4.5-air".into(), special.clone()));
    let table = PriceTable::new(
        rows.iter().map(|(n, p)| (n.as_str(), p.clone())),
        &["openrouter", "mock"],
    );
    assert!(Arc::ptr_eq(
        table.lookup("openrouter", "z-ai/glm-4.5-air").unwrap(),
        &special
    ));
    let plain = table.lookup("other", "z-ai/glm-4.5-air").unwrap();
    assert_eq!(plain.base.input, 200_000);
    // The last segment, and a mock imitating a model, find the model's own row.
    assert!(Arc::ptr_eq(
        table.lookup("mock", "glm-4.5-air").unwrap(),
        plain
    ));
    assert!(Arc::ptr_eq(
        table.lookup("vllm", "somewhere/glm-4.5-air").unwrap(),
        plain
    ));
    assert_eq!(
        table
            .lookup("mock", "claude-opus-4-1-20250805")
            .unwrap()
            .base
            .output,
        75_000_000
    );
    assert!(table.lookup("mock", "my-own-model").is_none());
}

#[test]
fn dates_are_recognised_only_at_the_end() {
    assert_eq!(
        without_date("claude-sonnet-4-5-20250929"),
        Some("claude-sonnet-4-5")
    );
    assert_eq!(without_date("gpt-4o-2024-08-06"), Some("gpt-4o"));
    assert_eq!(without_date("claude-sonnet-4-5"), None);
    assert_eq!(without_date("model-12345678"), None);
}

#[test]
fn every_shipped_row_has_a_source_and_sane_rates() {
    let text = SHIPPED;
    let rows = shipped().unwrap();
    assert!(rows.len() > 30, "{}", rows.len());
    for (name, price) in &rows {
        assert!(price.base.output >= price.base.input / 10, "{name}");
        assert!(price.base.cache_read <= price.base.input, "{name}");
    }
    assert_eq!(
        text.matches("source:").count(),
        text.matches("names:").count()
    );
}

#[test]
fn spec_errors_name_the_field() {
    let spec: PriceSpec = serde_yaml::from_str("{ input: 1, output: abc }").unwrap();
    let e = spec.to_price().unwrap_err();
    assert_eq!(e.path, "output");
    let spec: PriceSpec = serde_yaml::from_str("{ input: 1, output: 2, tiers: [{ above_input_tokens: 10, input: 1, output: 1 }, { above_input_tokens: 5, input: 1, output: 1 }] }").unwrap();
    assert_eq!(
        spec.to_price().unwrap_err().path,
        "tiers[1].above_input_tokens"
    );
    let spec: PriceSpec = serde_yaml::from_str("{ input: 0.5, output: 2 }").unwrap();
    assert_eq!(
        spec.to_price().unwrap().base.cache_read,
        500_000,
        "cache rates default to input"
    );
}
