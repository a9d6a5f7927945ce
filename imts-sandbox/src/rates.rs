//! Fees and the fixed rate table (printed by `imts-sandbox --help`).

use rust_decimal::{Decimal, RoundingStrategy};

/// `(from, to, rate)`: units of `to` per unit of `from`.
pub const RATES: &[(&str, &str, &str)] = &[
    ("KZT", "UZS", "24.3500"),
    ("KZT", "KGS", "0.1700"),
    ("KZT", "TJS", "0.0210"),
    ("KZT", "KZT", "1"),
    ("USD", "UZS", "12850.00"),
    ("USD", "KGS", "87.45"),
    ("USD", "TJS", "10.95"),
    ("USD", "KZT", "498.50"),
    ("RUB", "UZS", "140.20"),
    ("RUB", "KGS", "0.95"),
    ("RUB", "TJS", "0.12"),
    ("RUB", "KZT", "5.45"),
    ("EUR", "UZS", "13950.00"),
    ("EUR", "KGS", "95.10"),
    ("EUR", "TJS", "11.90"),
    ("EUR", "KZT", "540.20"),
];

/// The rate table as text, for `--help`.
#[must_use]
pub fn table_text() -> String {
    let mut out = String::from("Fixed rates (units of target per unit of source):\n");
    for (from, to, rate) in RATES {
        out.push_str(&format!("  {from} -> {to}: {rate}\n"));
    }
    out.push_str("Fee: 1% of amount_source, rounded half-even to 2 decimals.");
    out
}

/// The rate from `from` to `to`, if the table has one.
#[must_use]
pub fn rate(from: &str, to: &str) -> Option<Decimal> {
    RATES
        .iter()
        .find(|(f, t, _)| *f == from && *t == to)
        .and_then(|(_, _, r)| r.parse().ok())
}

/// What a transfer of `amount` costs at `rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// 1 % of the amount, half-even to 2 decimals.
    pub fee: Decimal,
    /// `amount + fee`.
    pub total: Decimal,
    /// `amount * rate`, half-even to 2 decimals.
    pub amount_target: Decimal,
}

/// Prices a transfer.
#[must_use]
pub fn quote(amount: Decimal, rate: Decimal) -> Quote {
    let fee = (amount * Decimal::new(1, 2))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    Quote {
        fee,
        total: amount + fee,
        amount_target: (amount * rate)
            .round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_even_rounding() {
        let q = quote("100.50".parse().unwrap(), "24.3500".parse().unwrap());
        assert_eq!(q.fee.to_string(), "1.00"); // 1.005 -> 1.00 (half-even)
        assert_eq!(q.total.to_string(), "101.50");
        assert_eq!(q.amount_target.to_string(), "2447.18"); // 2447.175 -> 2447.18
        assert_eq!(
            quote("101.50".parse().unwrap(), Decimal::ONE)
                .fee
                .to_string(),
            "1.02"
        ); // 1.015 -> 1.02
        assert!(rate("KZT", "UZS").is_some());
        assert!(rate("UZS", "KZT").is_none());
    }
}
