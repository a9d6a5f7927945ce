//! Transfers: create, print, confirm, search, payout, payout confirm, cancel, status, info.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::enums::{DestinationType, ErrorCode, TransferStatus};
use crate::personal::{EncryptedData, PersonData};
use crate::values::{
    AgentId, Amount, ClientUuid, Country, Currency, Destination, DestinationIdentifier, Lookup,
    Money, OrderId, Rate, Timestamp, TransferId,
};
use crate::wire::{one_field_constructors, optional_setters};
use crate::wire_object;

/// The required fields of Create transfer, by name: build a [`CreateTransferRequest`] from it.
///
/// ```
/// use imts_core::models::{CreateTransferRequest, NewTransfer};
/// use imts_core::values::{Destination, Money};
///
/// let request = CreateTransferRequest::new(NewTransfer {
///     client_uuid: "7c9e6679-7425-40de-944b-e07fc1f90ae7".parse()?,
///     destination: Destination::Phone("998901234567".parse()?),
///     target_country: "UZB".parse()?,
///     order_id: "ORD-2026-000001".parse()?,
///     amount: Money::new("100.50".parse()?, "KZT".parse()?),
///     currency_target: "UZS".parse()?,
///     purpose: "Family support".into(),
/// })
/// .with_target_agent_id("2b1c4f5e-0d4a-4a8e-9c3b-6f1e2d3c4b5a".parse::<imts_core::values::AgentId>()?);
/// assert_eq!(request.currency_source.as_str(), "KZT");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransfer {
    /// The sender (a person or business created before).
    pub client_uuid: ClientUuid,
    /// Where the money goes: the kind of destination with its number.
    pub destination: Destination,
    /// Destination country.
    pub target_country: Country,
    /// Your own reference, unique per partner: the idempotency key. Reuse it on retry.
    pub order_id: OrderId,
    /// The amount sent, in the sender's currency.
    pub amount: Money,
    /// The recipient's currency.
    pub currency_target: Currency,
    /// Purpose of the transfer, free text up to 255 characters.
    pub purpose: String,
}

wire_object! {
    /// Create transfer. `order_id` is the idempotency key: a retry reuses it, and a second
    /// Create with the same `order_id` and fields returns the existing transfer.
    pub struct CreateTransferRequest {
        /// The sender (a person or business created before).
        pub client_uuid: ClientUuid,
        /// What `destination_identifier` is.
        pub destination_type: DestinationType,
        /// The recipient's phone, IBAN or card number.
        pub destination_identifier: DestinationIdentifier,
        /// A receiving agent; absent for an on-demand transfer collectable at any agent.
        pub target_agent_id: Option<AgentId>,
        /// Destination country.
        pub target_country: Country,
        /// The partner's own reference, unique per partner.
        pub order_id: OrderId,
        /// Amount sent.
        pub amount_source: Amount,
        /// The sender's currency.
        pub currency_source: Currency,
        /// The recipient's currency.
        pub currency_target: Currency,
        /// Purpose of the transfer, free text up to 255 characters.
        pub transfer_purpose: String,
        /// The recipient's name, encrypted.
        pub receiver_encrypted_data: Option<EncryptedData>,
    }
}

impl CreateTransferRequest {
    /// An on-demand transfer (collectable at any receiving agent) from the required fields;
    /// direct it to one agent with [`with_target_agent_id`](Self::with_target_agent_id).
    #[must_use]
    pub fn new(transfer: NewTransfer) -> Self {
        let NewTransfer {
            client_uuid,
            destination,
            target_country,
            order_id,
            amount,
            currency_target,
            purpose,
        } = transfer;
        Self {
            client_uuid,
            destination_type: destination.kind(),
            destination_identifier: destination.identifier().clone(),
            target_agent_id: None,
            target_country,
            order_id,
            amount_source: amount.value,
            currency_source: amount.currency,
            currency_target,
            transfer_purpose: purpose,
            receiver_encrypted_data: None,
            extra: crate::models::Extra::default(),
        }
    }
}

impl From<NewTransfer> for CreateTransferRequest {
    fn from(transfer: NewTransfer) -> Self {
        Self::new(transfer)
    }
}

optional_setters! {
    CreateTransferRequest {
        /// Directs the transfer to one receiving agent (absent: on demand, any agent).
        with_target_agent_id => target_agent_id: AgentId;
        /// The recipient's name, already encrypted with the partner key.
        with_receiver_encrypted_data => receiver_encrypted_data: EncryptedData;
    }
}

wire_object! {
    /// A transfer as the server reports it. Create returns a subset of these fields; Info,
    /// Confirm, Payout, Payout confirm and Cancel return all of them.
    pub struct Transfer {
        /// The transfer's id.
        pub transfer_id: TransferId,
        /// The partner's reference.
        pub order_id: Option<OrderId>,
        /// Where it stands.
        pub status: TransferStatus,
        /// The sender.
        pub client_uuid: Option<ClientUuid>,
        /// What `destination_identifier` is.
        pub destination_type: Option<DestinationType>,
        /// Masked: only the last 4 characters are visible.
        pub destination_identifier: Option<String>,
        /// The receiving agent, if directed.
        pub target_agent_id: Option<AgentId>,
        /// Destination country.
        pub target_country: Option<Country>,
        /// Amount sent.
        pub amount_source: Option<Amount>,
        /// The sender's currency.
        pub currency_source: Option<Currency>,
        /// The fee.
        pub fee: Option<Amount>,
        /// `amount_source + fee`.
        pub total_amount: Option<Amount>,
        /// What the recipient gets.
        pub amount_target: Option<Amount>,
        /// The recipient's currency.
        pub currency_target: Option<Currency>,
        /// The exchange rate applied.
        pub rate: Option<Rate>,
        /// The code a recipient quotes at an agent for an on-demand transfer.
        pub transfer_code: Option<String>,
        /// When it was created.
        pub created_at: Option<Timestamp>,
        /// When its status last changed.
        pub updated_at: Option<Timestamp>,
        /// Why it failed, when `status` is `error`.
        pub error_code: Option<ErrorCode>,
        /// The provider's explanation of `error_code`.
        pub error_description: Option<String>,
    }
}

wire_object! {
    /// Print application: the PDF the sender signs.
    pub struct PrintApplicationRequest {
        /// The transfer.
        pub transfer_id: TransferId,
    }
}

wire_object! {
    /// The answer of Print application.
    pub struct PrintedApplication {
        /// `application/pdf`.
        pub content_type: String,
        /// The document, Base64.
        pub document: String,
    }
}

impl PrintedApplication {
    /// The decoded document bytes.
    ///
    /// # Errors
    /// When `document` is not valid Base64.
    pub fn document_bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        STANDARD.decode(self.document.trim())
    }
}

wire_object! {
    /// Confirm: the sender's AML check runs; `new` becomes `process` (or `error`).
    pub struct ConfirmRequest {
        /// The transfer.
        pub transfer_id: TransferId,
    }
}

wire_object! {
    /// Search, as receiving agent: transfers in `process` this agent may pay out.
    pub struct SearchRequest {
        /// What `destination_identifier` is.
        pub destination_type: DestinationType,
        /// The recipient's phone, IBAN or card number.
        pub destination_identifier: DestinationIdentifier,
        /// The code the recipient quoted, narrowing the search.
        pub transfer_code: Option<String>,
    }
}

wire_object! {
    /// The answer of Search.
    pub struct SearchResponse {
        /// Matching transfers.
        pub transfers: Vec<Transfer>,
    }
}

/// Payout, as a caller states it: the recipient in clear, sealed with the partner key when the
/// request is built (into a [`PayoutSealed`]).
#[derive(Clone)]
#[non_exhaustive]
pub struct Payout {
    /// The transfer to pay out.
    pub transfer_id: TransferId,
    /// The recipient, encrypted into `encrypted_data`.
    pub recipient: PersonData,
}

impl Payout {
    /// Pays `transfer_id` out to `recipient`.
    #[must_use]
    pub fn new(transfer_id: TransferId, recipient: PersonData) -> Self {
        Self {
            transfer_id,
            recipient,
        }
    }
}

impl fmt::Debug for Payout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payout")
            .field("transfer_id", &self.transfer_id)
            .field("recipient", &self.recipient)
            .finish()
    }
}

wire_object! {
    /// Payout on the wire, the recipient already sealed: for callers that encrypt themselves
    /// (most pass a [`Payout`]). The recipient's AML check runs; `process` becomes `waiting`
    /// (or `error`).
    pub struct PayoutSealed {
        /// The transfer.
        pub transfer_id: TransferId,
        /// The recipient, encrypted.
        pub encrypted_data: EncryptedData,
    }
}

impl PayoutSealed {
    /// Pays `transfer_id` out to the recipient sealed in `encrypted_data`.
    #[must_use]
    pub fn new(transfer_id: TransferId, encrypted_data: EncryptedData) -> Self {
        Self {
            transfer_id,
            encrypted_data,
            extra: crate::models::Extra::default(),
        }
    }
}

wire_object! {
    /// Payout confirm: `waiting` becomes `success`.
    pub struct PayoutConfirmRequest {
        /// The transfer.
        pub transfer_id: TransferId,
    }
}

wire_object! {
    /// Cancel: from `new`, `process` or `waiting` to `canceled`.
    pub struct CancelRequest {
        /// The transfer.
        pub transfer_id: TransferId,
        /// Why.
        pub reason: Option<String>,
    }
}

wire_object! {
    /// Status: a transfer's status by `transfer_id` or `order_id` (a signed query).
    pub struct StatusRequest {
        /// The transfer's id.
        pub transfer_id: Option<TransferId>,
        /// The partner's reference.
        pub order_id: Option<OrderId>,
    }
}

wire_object! {
    /// Info: the full transfer by `transfer_id` or `order_id` (a signed query).
    pub struct InfoRequest {
        /// The transfer's id.
        pub transfer_id: Option<TransferId>,
        /// The partner's reference.
        pub order_id: Option<OrderId>,
    }
}

one_field_constructors!(transfer_id: TransferId => PrintApplicationRequest, ConfirmRequest, PayoutConfirmRequest);

/// Declares `new(lookup)` for Status and Info: by `transfer_id` or by `order_id`, exactly one.
macro_rules! lookup_constructors {
    ($($name:ident),*) => {$(
        impl $name {
            /// Looks the transfer up by its id or by your `order_id`
            /// (`Lookup::OrderId(order_id)`, or `order_id.into()`).
            #[must_use]
            pub fn new(lookup: impl Into<Lookup>) -> Self {
                let (transfer_id, order_id) = lookup.into().into_parts();
                Self { transfer_id, order_id, extra: crate::models::Extra::default() }
            }
        }
    )*};
}
lookup_constructors!(StatusRequest, InfoRequest);

impl SearchRequest {
    /// Transfers collectable at this destination.
    #[must_use]
    pub fn new(destination: Destination) -> Self {
        Self {
            destination_type: destination.kind(),
            destination_identifier: destination.identifier().clone(),
            transfer_code: None,
            extra: crate::models::Extra::default(),
        }
    }
}

optional_setters! {
    SearchRequest {
        /// Narrows the search to the code the recipient quoted.
        with_transfer_code => transfer_code: String;
    }
}

impl CancelRequest {
    /// Cancels this transfer; give a reason with [`with_reason`](Self::with_reason).
    #[must_use]
    pub fn new(transfer_id: TransferId) -> Self {
        Self {
            transfer_id,
            reason: None,
            extra: crate::models::Extra::default(),
        }
    }
}

optional_setters! {
    CancelRequest {
        /// Why the transfer is cancelled.
        with_reason => reason: String;
    }
}

wire_object! {
    /// The answer of Status.
    pub struct StatusResponse {
        /// The transfer's id.
        pub transfer_id: TransferId,
        /// The partner's reference.
        pub order_id: Option<OrderId>,
        /// Where it stands.
        pub status: TransferStatus,
        /// When its status last changed.
        pub updated_at: Option<Timestamp>,
    }
}
