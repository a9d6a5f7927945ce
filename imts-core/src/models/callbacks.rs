//! Callback notifications (`docs/contract.md`, "Callbacks").

use crate::enums::{DestinationType, NotificationType, TransferStatus};
use crate::values::{Amount, Currency, OrderId, Timestamp, TransferId};
use crate::wire_object;

wire_object! {
    /// A transfer's status changed (sent to the partner that created it, creation included).
    pub struct StatusUpdate {
        /// `status_update`.
        pub r#type: NotificationType,
        /// The same on every retry of one notification.
        pub notification_id: String,
        /// The transfer.
        pub transfer_id: TransferId,
        /// The partner's reference.
        pub order_id: Option<OrderId>,
        /// The new status.
        pub status: TransferStatus,
        /// The status before; absent on creation.
        pub previous_status: Option<TransferStatus>,
        /// When it changed.
        pub updated_at: Timestamp,
        /// Signature over every other field, with the receiving partner's secret.
        pub pg_sig: Option<String>,
    }
}

wire_object! {
    /// A transfer became collectable for this partner as receiving agent.
    pub struct TransferReceived {
        /// `transfer_received`.
        pub r#type: NotificationType,
        /// The same on every retry of one notification.
        pub notification_id: String,
        /// The transfer.
        pub transfer_id: TransferId,
        /// What `destination_identifier` is.
        pub destination_type: DestinationType,
        /// Masked: only the last 4 characters are visible.
        pub destination_identifier: String,
        /// What the recipient gets.
        pub amount_target: Amount,
        /// The recipient's currency.
        pub currency_target: Currency,
        /// The code the recipient quotes.
        pub transfer_code: Option<String>,
        /// When the transfer was created.
        pub created_at: Timestamp,
        /// Signature over every other field, with the receiving partner's secret.
        pub pg_sig: Option<String>,
    }
}
