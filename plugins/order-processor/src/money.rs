//! Amounts as payment providers take them: integers in the currency's
//! smallest unit (Stripe's "zero-decimal" currencies have none).

/// ISO 4217 currencies without a minor unit, as Stripe lists them.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Currencies with three decimals; Stripe takes them in thousandths whose
/// last digit is 0.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// `total` (in the currency's major unit, as `order.placed` carries it)
/// in the smallest unit of `currency`.
pub fn minor_units(total: f64, currency: &str) -> Result<i64, String> {
    let currency = currency.to_ascii_uppercase();
    let (scale, step) = if ZERO_DECIMAL.contains(&currency.as_str()) {
        (1.0, 1)
    } else if THREE_DECIMAL.contains(&currency.as_str()) {
        (1000.0, 10)
    } else {
        (100.0, 1)
    };
    let units = (total * scale).round();
    if !units.is_finite() || !(0.0..=99_999_999_999.0).contains(&units) {
        return Err(format!(
            "the total {total} {currency} is not an amount that can be paid"
        ));
    }
    // Whole and in range, so the cast is exact.
    let units = units as i64;
    Ok(units / step * step)
}

#[cfg(test)]
mod tests {
    use super::minor_units;

    #[test]
    fn amounts_are_in_the_smallest_unit_of_their_currency() {
        assert_eq!(minor_units(199.99, "EUR"), Ok(19999));
        assert_eq!(minor_units(0.1 + 0.2, "usd"), Ok(30));
        assert_eq!(minor_units(1500.0, "JPY"), Ok(1500));
        assert_eq!(minor_units(1.234, "KWD"), Ok(1230));
        assert!(minor_units(-1.0, "EUR").is_err());
        assert!(minor_units(f64::NAN, "EUR").is_err());
        assert!(minor_units(1e12, "EUR").is_err());
    }
}
