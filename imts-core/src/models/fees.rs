//! Fees.

use crate::enums::OriginatorType;
use crate::values::{Amount, Country, Currency, Rate};
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
