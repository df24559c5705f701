//! Decimal prices read and written exactly: `"3.75"` USD per million tokens is 3 750 000 micro-USD
//! per million tokens, and a nano-USD amount prints as `0.000123450`. YAML hands prices over as
//! numbers; their shortest decimal form (what Rust's `Display` prints) is what the author wrote.

/// Parses a non-negative decimal with at most six fractional digits into millionths.
pub fn parse_usd(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(format!("`{text}` is not a price: expected a non-negative decimal number of USD per million tokens, such as 3 or 0.30"));
    }
    if fraction.len() > 6 {
        return Err(format!("`{text}` has more than six decimals: prices are kept exact to $0.000001 per million tokens"));
    }
    let scale = 10u64.pow(6 - fraction.len() as u32);
    let whole: u64 = whole
        .parse()
        .map_err(|_| format!("`{text}` is too large to be a price"))?;
    let fraction: u64 = if fraction.is_empty() {
        0
    } else {
        fraction
            .parse()
            .map_err(|_| format!("`{text}` is not a price"))?
    };
    whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(fraction * scale))
        .ok_or_else(|| format!("`{text}` is too large to be a price"))
}

/// A nano-USD amount as a decimal number of USD with nine decimals (exact, no float).
pub fn format_usd(nano: i64) -> String {
    let sign = if nano < 0 { "-" } else { "" };
    let abs = nano.unsigned_abs();
    format!("{sign}{}.{:09}", abs / 1_000_000_000, abs % 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_exactly() {
        assert_eq!(parse_usd("3"), Ok(3_000_000));
        assert_eq!(parse_usd("0.30"), Ok(300_000));
        assert_eq!(parse_usd("3.75"), Ok(3_750_000));
        assert_eq!(parse_usd("0.005"), Ok(5_000));
        assert_eq!(parse_usd("0.000001"), Ok(1));
        assert!(parse_usd("0.0000001").unwrap_err().contains("six decimals"));
        assert!(
            parse_usd("-1").is_err()
                && parse_usd("1e3").is_err()
                && parse_usd("").is_err()
                && parse_usd(".5").is_err()
        );
        // What YAML gives for `0.3` is a float; its shortest form is what was written.
        assert_eq!(parse_usd(&0.3f64.to_string()), Ok(300_000));
        assert_eq!(parse_usd(&22.5f64.to_string()), Ok(22_500_000));
    }

    #[test]
    fn amounts_print_with_nine_decimals() {
        assert_eq!(format_usd(0), "0.000000000");
        assert_eq!(format_usd(300), "0.000000300");
        assert_eq!(format_usd(12_345_678_901), "12.345678901");
        assert_eq!(format_usd(-5), "-0.000000005");
    }
}
