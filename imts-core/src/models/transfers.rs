//! Transfers: create, print, confirm, search, payout, payout confirm, cancel, status, info.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::enums::{DestinationType, ErrorCode, TransferStatus};
use crate::personal::{EncryptedData, PersonData};
use crate::values::{
    AgentId, Amount, ClientUuid, Country, Currency, DestinationIdentifier, OrderId, Rate,
    Timestamp, TransferId,
};
use crate::wire_object;

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

/// Payout, as a caller states it: the recipient in clear, sealed when the request is built.
#[derive(Clone)]
pub struct Payout {
    /// The transfer to pay out.
    pub transfer_id: TransferId,
    /// The recipient, encrypted into `encrypted_data`.
    pub recipient: PersonData,
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
    /// Payout on the wire: the recipient's AML check runs; `process` becomes `waiting` (or `error`).
    pub struct PayoutRequest {
        /// The transfer.
        pub transfer_id: TransferId,
        /// The recipient, encrypted.
        pub encrypted_data: EncryptedData,
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

/// Declares the two lookups' constructors by `transfer_id` and by `order_id`.
macro_rules! lookup_constructors {
    ($($name:ident),*) => {$(
        impl $name {
            /// Looks the transfer up by its id.
            #[must_use]
            pub fn by_transfer_id(transfer_id: TransferId) -> Self {
                Self::new(Some(transfer_id), None)
            }

            /// Looks the transfer up by the partner's reference.
            #[must_use]
            pub fn by_order_id(order_id: OrderId) -> Self {
                Self::new(None, Some(order_id))
            }
        }
    )*};
}
lookup_constructors!(StatusRequest, InfoRequest);

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
