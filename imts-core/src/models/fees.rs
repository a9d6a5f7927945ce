//! Fees.

use crate::enums::OriginatorType;
use crate::values::{Amount, Country, Currency, Money, Rate};
use crate::wire_object;

wire_object! {
    /// Fees: what a transfer would cost.
    pub struct FeesRequest {
        /// A person or a business sends.
        pub originator_type: OriginatorType,
        /// Destination country.
        pub target_country: Country,
        /// Amount sent, in `currency_source`.
        pub amount_source: Amount,
        /// The sender's currency.
        pub currency_source: Currency,
        /// The recipient's currency.
        pub currency_target: Currency,
    }
}

impl FeesRequest {
    /// What sending `amount` (in the sender's currency) to `target_country` would cost, paid out
    /// in `currency_target`.
    #[must_use]
    pub fn new(
        originator_type: OriginatorType,
        target_country: Country,
        amount: Money,
        currency_target: Currency,
    ) -> Self {
        Self {
            originator_type,
            target_country,
            amount_source: amount.value,
            currency_source: amount.currency,
            currency_target,
            extra: crate::models::Extra::default(),
        }
    }
}

wire_object! {
    /// The answer of Fees.
    pub struct FeesResponse {
        /// Amount sent.
        pub amount_source: Amount,
        /// The sender's currency.
        pub currency_source: Currency,
        /// The fee, in `currency_source`.
        pub fee: Amount,
        /// `amount_source + fee`, in `currency_source`.
        pub total_amount: Amount,
        /// Units of `currency_target` per unit of `currency_source`.
        pub rate: Rate,
        /// What the recipient gets.
        pub amount_target: Amount,
        /// The recipient's currency.
        pub currency_target: Currency,
    }
}
