//! Magic values (`docs/contract.md`, "Magic values"): inputs that make the sandbox answer a
//! chosen way, so a test can reach a branch on demand. They add to the AML convention
//! (`AML-REJECT`); they change nothing else.

use std::time::Duration;

use rust_decimal::Decimal;

use crate::failure::Failure;

/// One documented magic value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MagicValue {
    /// The field it is read from.
    pub field: &'static str,
    /// What the value looks like.
    pub value: &'static str,
    /// What the sandbox does.
    pub effect: &'static str,
}

/// Every magic value, as `docs/contract.md` lists them.
pub const MAGIC_VALUES: &[MagicValue] = &[
    MagicValue {
        field: "amount_source (Fees, Create transfer)",
        value: "cents of .13 (100.13)",
        effect: "422 validation_error on amount_source",
    },
    MagicValue {
        field: "transfer_purpose (Create transfer)",
        value: "starts with DELAY-<ms> (DELAY-1500)",
        effect: "the answer waits that long (at most 30 s), then the transfer is created",
    },
    MagicValue {
        field: "destination_identifier",
        value: "starts with 998000",
        effect: "Search never finds the transfer (it can still be paid out by id)",
    },
];

/// The cents that make an amount refused.
const REFUSED_CENTS: u32 = 13;
/// The prefix of a purpose that delays the call.
pub const DELAY_PREFIX: &str = "DELAY-";
/// The longest delay a purpose can ask for.
const MAX_DELAY: Duration = Duration::from_secs(30);
/// Destinations Search never finds.
pub const UNSEARCHABLE_PREFIX: &str = "998000";

/// The refusal for an amount whose cents are `.13`.
#[must_use]
pub fn refused_amount(amount: Decimal) -> Option<Failure> {
    let cents = (amount.fract().abs() * Decimal::ONE_HUNDRED).trunc();
    (cents == Decimal::from(REFUSED_CENTS)).then(|| {
        Failure::validation(
            "amount_source",
            "the sandbox refuses amounts with .13 cents (a magic value)",
        )
    })
}

/// The delay a Create transfer body asks for with a `DELAY-<ms>` purpose.
#[must_use]
pub fn delay(create_body: &[u8]) -> Option<Duration> {
    #[derive(serde::Deserialize)]
    struct Purpose<'a> {
        #[serde(borrow)]
        transfer_purpose: Option<std::borrow::Cow<'a, str>>,
    }
    let purpose = serde_json::from_slice::<Purpose<'_>>(create_body)
        .ok()?
        .transfer_purpose?;
    let digits: String = purpose
        .strip_prefix(DELAY_PREFIX)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let millis: u64 = digits.parse().ok()?;
    Some(Duration::from_millis(millis).min(MAX_DELAY))
}

/// Whether Search hides a destination.
#[must_use]
pub fn unsearchable(destination_identifier: &str) -> bool {
    destination_identifier.starts_with(UNSEARCHABLE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_values_are_magic() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert!(refused_amount(d("100.13")).is_some());
        assert!(refused_amount(d("0.13")).is_some());
        assert!(refused_amount(d("100.130")).is_some());
        assert!(refused_amount(d("100.12")).is_none());
        assert!(refused_amount(d("13")).is_none());
        assert!(refused_amount(d("100.135")).is_some(), "cents, truncated");
        assert_eq!(
            delay(br#"{"transfer_purpose":"DELAY-250 family"}"#),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            delay(br#"{"transfer_purpose":"DELAY-99999999"}"#),
            Some(MAX_DELAY)
        );
        assert_eq!(delay(br#"{"transfer_purpose":"Family DELAY-250"}"#), None);
        assert_eq!(delay(br#"{"transfer_purpose":"DELAY-"}"#), None);
        assert_eq!(delay(b"not json"), None);
        assert!(unsearchable("998000123456") && !unsearchable("998901234567"));
    }
}
