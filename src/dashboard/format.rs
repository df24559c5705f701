//! How the cost page writes text and numbers: HTML escaping (team, key and model names come from
//! config and from clients, so every one of them goes through [`escape`]), money in USD with the
//! precision a reader needs, and counts with thousands separators.

use std::fmt::Write as _;

/// `text` safe inside an HTML element or a double- or single-quoted attribute (and SVG text).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

const NANO_PER_USD: u64 = 1_000_000_000;

/// Nano-USD as a reader wants it: cents from a dollar up (`$1,234.57`), four decimals below a dollar
/// (`$0.0912`, where agent traffic mostly is; trailing zeros past the cents dropped: `$0.50`), `< $0.0001` for a non-zero crumb, `$0.00` for nothing.
/// Rounded half up; the exact figure goes in a `title` (see [`usd_exact`]).
pub fn usd(nano: i64) -> String {
    let sign = if nano < 0 { "-" } else { "" };
    let abs = nano.unsigned_abs();
    if abs == 0 {
        return "$0.00".into();
    }
    if abs >= NANO_PER_USD {
        let cents = (abs + 5_000_000) / 10_000_000;
        let dollars = i64::try_from(cents / 100).unwrap_or(i64::MAX);
        return format!("{sign}${}.{:02}", thousands(dollars), cents % 100);
    }
    let ten_thousandths = (abs + 50_000) / 100_000;
    if ten_thousandths == 0 {
        return format!("{sign}< $0.0001");
    }
    if ten_thousandths >= 10_000 {
        return format!("{sign}$1.00");
    }
    let mut out = String::new();
    let _ = write!(out, "{sign}$0.{ten_thousandths:04}");
    // Trailing zeros say nothing below a cent: `$0.50`, `$0.005`.
    while out.ends_with('0') && out.len() - out.find('.').unwrap_or(0) > 3 {
        out.pop();
    }
    out
}

/// The exact decimal, as `GET /admin/usage` gives it (`0.001234567`).
pub fn usd_exact(nano: i64) -> String {
    crate::pricing::format_usd(nano)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
        assert_eq!(escape("claude-sonnet-4-5 · ü"), "claude-sonnet-4-5 · ü");
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(21_179), "21,179");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1_234), "-1,234");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn money_has_sensible_precision() {
        assert_eq!(usd(0), "$0.00");
        assert_eq!(usd(1), "< $0.0001");
        assert_eq!(usd(49_999), "< $0.0001");
        assert_eq!(usd(50_000), "$0.0001");
        assert_eq!(usd(22_500), "< $0.0001");
        assert_eq!(usd(364_000), "$0.0004");
        assert_eq!(usd(91_194_450), "$0.0912");
        assert_eq!(usd(999_960_000), "$1.00");
        assert_eq!(usd(10_000_000), "$0.01");
        assert_eq!(usd(5_000_000), "$0.005");
        assert_eq!(usd(500_000_000), "$0.50");
        assert_eq!(usd(2_500_000), "$0.0025");
        assert_eq!(usd(1_000_000_000), "$1.00");
        assert_eq!(usd(1_234_565_000_000), "$1,234.57");
        assert_eq!(usd(12_344_999_999), "$12.34");
        assert_eq!(usd(-2_500_000_000), "-$2.50");
        assert_eq!(usd_exact(1_234_567), "0.001234567");
    }
}
