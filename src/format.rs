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

#[cfg(test)]
mod tests {
    use super::usd;

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
