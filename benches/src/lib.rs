//! Shared inputs of the benches and the `ratios` binary: the same requests, bodies and keys.

use imts_core::enums::DestinationType;
use imts_core::models::CreateTransferRequest;

/// The agent secret of every measurement.
pub const SECRET: &str = "s3cr3t-Agent-Key";

/// The 9-field Create transfer of the vectors (`vectors/pg_sig.json`, "create transfer, every field").
///
/// # Panics
/// Never: the literals are valid.
#[must_use]
pub fn create_transfer() -> CreateTransferRequest {
    CreateTransferRequest::new(
        "0f8fad5b-d9cb-469f-a165-70867728950e"
            .parse()
            .expect("uuid"),
        DestinationType::Phone,
        "998901234567".parse().expect("destination"),
        None,
        "KAZ".parse().expect("country"),
        "ORD-2026-000001".parse().expect("order"),
        "1000.00".parse().expect("amount"),
        "KZT".parse().expect("currency"),
        "UZS".parse().expect("currency"),
        "Family support".into(),
        None,
    )
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
    Wide16::new(
        "1000.00".parse().expect("amount"),
        s("0f8fad5b-d9cb-469f-a165-70867728950e"),
        s("KZT"),
        s("UZS"),
        s("998901234567"),
        s("phone"),
        s("ORD-2026-000001"),
        s("UZB"),
        s("Family support"),
        s("KAZ"),
        s("app"),
        s("ALA-001"),
        s("op-170"),
        s("T-0042"),
        s("R-2026-11-22-0001"),
        s("monthly-rent"),
    )
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
