//! Display formatting (presentation only).

/// Dollars with thousands separators and cents, e.g. `$1,234.56` or `−$3.10`.
pub fn usd(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let cents = (x.abs() * 100.0).round() as u64;
    let (whole, frac) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if x < 0.0 && cents > 0 { "−" } else { "" };
    format!("{sign}${grouped}.{frac:02}")
}

/// A number of shares: whole shares with thousands separators, a fraction to at most four
/// decimals (trailing zeros dropped), e.g. `1,200` or `443.9137`.
pub fn shares(q: f64) -> String {
    if !q.is_finite() {
        return "—".into();
    }
    let r = (q * 1e4).round() / 1e4;
    let whole = usd(r.trunc().abs());
    let digits = whole.trim_start_matches('$').trim_end_matches(".00");
    let frac = format!("{:.4}", r.abs().fract());
    let frac = frac
        .trim_start_matches('0')
        .trim_end_matches('0')
        .trim_end_matches('.');
    let sign = if r < 0.0 { "−" } else { "" };
    format!("{sign}{digits}{frac}")
}

#[cfg(test)]
mod tests {
    use super::{shares, usd};

    #[test]
    fn formats_shares() {
        assert_eq!(shares(1200.0), "1,200");
        assert_eq!(shares(443.913_682_078_272_3), "443.9137");
        assert_eq!(shares(0.5), "0.5");
        assert_eq!(shares(0.000_01), "0");
        assert_eq!(shares(-2.25), "−2.25");
    }

    #[test]
    fn formats_dollars() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(3.1), "$3.10");
        assert_eq!(usd(1234567.891), "$1,234,567.89");
        assert_eq!(usd(-0.004), "$0.00");
        assert_eq!(usd(-12.5), "−$12.50");
        assert_eq!(usd(f64::NAN), "—");
    }
}
