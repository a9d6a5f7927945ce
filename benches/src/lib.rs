//! Shared inputs of the benches and the `ratios` binary: the same requests, bodies and keys.

use imts_core::models::{CreateTransferRequest, NewTransfer};
use imts_core::values::Money;

/// The agent secret of every measurement.
pub const SECRET: &str = "s3cr3t-Agent-Key";

/// The 9-field Create transfer of the vectors (`vectors/pg_sig.json`, "create transfer, every field").
///
/// # Panics
/// Never: the literals are valid.
#[must_use]
pub fn create_transfer() -> CreateTransferRequest {
    let uuid = "0f8fad5b-d9cb-469f-a165-70867728950e"
        .parse()
        .expect("uuid");
    let sample = imts_sandbox::samples::new_transfer(&uuid, "ORD-2026-000001").expect("order");
    CreateTransferRequest::new(NewTransfer {
        target_country: "KAZ".parse().expect("country"),
        amount: Money::new(
            "1000.00".parse().expect("amount"),
            "KZT".parse().expect("currency"),
        ),
        ..sample
    })
}

imts_core::wire_object! {
    /// A 16-field request whose signed message is 184 bytes, the size of the anchors' figures.
    pub struct Wide16 {
        /// Field.
        pub amount_source: imts_core::values::Amount,
        /// Field.
        pub client_uuid: String,
        /// Field.
        pub currency_source: String,
        /// Field.
        pub currency_target: String,
        /// Field.
        pub destination_identifier: String,
        /// Field.
        pub destination_type: String,
        /// Field.
        pub order_id: String,
        /// Field.
        pub target_country: String,
        /// Field.
        pub transfer_purpose: String,
        /// Field.
        pub sender_country: String,
        /// Field.
        pub channel: String,
        /// Field.
        pub branch: String,
        /// Field.
        pub operator: String,
        /// Field.
        pub terminal: String,
        /// Field.
        pub receipt: String,
        /// Field.
        pub comment: String,
    }
}

/// The 16-field request (message: 184 bytes with the secret).
///
/// # Panics
/// Never: the literals are valid.
#[must_use]
pub fn wide16() -> Wide16 {
    let s = |v: &str| v.to_owned();
    Wide16 {
        amount_source: "1000.00".parse().expect("amount"),
        client_uuid: s("0f8fad5b-d9cb-469f-a165-70867728950e"),
        currency_source: s("KZT"),
        currency_target: s("UZS"),
        destination_identifier: s("998901234567"),
        destination_type: s("phone"),
        order_id: s("ORD-2026-000001"),
        target_country: s("UZB"),
        transfer_purpose: s("Family support"),
        sender_country: s("KAZ"),
        channel: s("app"),
        branch: s("ALA-001"),
        operator: s("op-170"),
        terminal: s("T-0042"),
        receipt: s("R-2026-11-22-0001"),
        comment: s("monthly-rent"),
        extra: imts_core::models::Extra::default(),
    }
}

/// The values of a request in signing order (the naive signer's input).
///
/// # Panics
/// When the request does not serialize (never for these types).
#[must_use]
pub fn pairs_of<T: serde::Serialize>(value: &T) -> Vec<(String, String)> {
    let body = serde_json::to_vec(value).expect("serializes");
    imts_core::signature::CanonicalParams::from_json(&body)
        .expect("canonical")
        .pairs()
        .to_vec()
}

/// The exact message bytes signed for these pairs (for the bare-HMAC anchor).
#[must_use]
pub fn message_of(pairs: &[(String, String)]) -> Vec<u8> {
    let mut message = String::new();
    for (_, v) in pairs {
        message.push_str(v);
        message.push(';');
    }
    message.push_str(SECRET);
    message.into_bytes()
}
