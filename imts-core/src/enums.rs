//! Enumerations that come from the server. Each has an `Unknown(String)` variant, so a value the
//! provider adds tomorrow is carried, not fatal.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

/// Declares a string enum with an `Unknown(String)` fallback: serde as a string, `as_str`,
/// `Display`, and `From<&str>`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Debug)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this version does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// Every known variant, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant,)*];

            /// The wire text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Unknown(text) => text,
                }
            }
        }

        impl crate::wire::sealed::Sealed for $name {}
        impl crate::wire::SignValue for $name {
            fn sign_text(&self) -> crate::wire::SignText<'_> {
                if self.as_str().is_empty() {
                    crate::wire::SignText::Skip
                } else {
                    crate::wire::SignText::Text(self.as_str())
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => $name::$variant,)*
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok(Self::from(String::deserialize(deserializer)?.as_str()))
            }
        }
    };
}

wire_enum! {
    /// A transfer's status (`docs/contract.md`, "Transfer life cycle").
    pub enum TransferStatus {
        /// Created by Create transfer.
        New = "new",
        /// Confirmed, sender passed AML; available for payout.
        Process = "process",
        /// Payout registered, recipient passed AML; awaiting payout confirm.
        Waiting = "waiting",
        /// Paid out (final).
        Success = "success",
        /// Cancelled (final; the provider spells it with one "l").
        Canceled = "canceled",
        /// An AML check or the confirmation failed (final).
        Error = "error",
    }
}

wire_enum! {
    /// Where a transfer is delivered.
    pub enum DestinationType {
        /// A phone number.
        Phone = "phone",
        /// A bank account (IBAN).
        Iban = "iban",
        /// A card number.
        Pan = "pan",
    }
}

wire_enum! {
    /// Who sends: a person or a business.
    pub enum OriginatorType {
        /// A natural person.
        Person = "person",
        /// A company.
        Business = "business",
    }
}

wire_enum! {
    /// Result of a client's AML screening.
    pub enum AmlStatus {
        /// Not decided yet.
        Pending = "pending",
        /// Passed.
        Approved = "approved",
        /// Failed.
        Rejected = "rejected",
    }
}

wire_enum! {
    /// An identity document's kind.
    pub enum DocumentType {
        /// A passport.
        Passport = "passport",
        /// A national identity card.
        IdCard = "id_card",
        /// A residence permit.
        ResidencePermit = "residence_permit",
    }
}

impl Zeroize for DocumentType {
    fn zeroize(&mut self) {
        if let DocumentType::Unknown(text) = self {
            text.zeroize();
        }
    }
}

wire_enum! {
    /// The provider's error codes (`docs/contract.md`, "Errors").
    pub enum ErrorCode {
        /// 401: missing, expired or unknown token, or wrong credentials.
        Unauthorized = "unauthorized",
        /// 400: a missing or wrong `pg_sig`.
        InvalidSignature = "invalid_signature",
        /// 422: a field failed validation.
        ValidationError = "validation_error",
        /// 404: no such resource (or not visible to this partner).
        NotFound = "not_found",
        /// 409: the operation is not allowed from the transfer's status.
        InvalidStatus = "invalid_status",
        /// 409: an `order_id` reused with different fields.
        DuplicateOrderId = "duplicate_order_id",
        /// An AML check failed (reported on the transfer, not as an HTTP error).
        AmlRejected = "aml_rejected",
        /// 500: the server failed.
        InternalError = "internal_error",
        /// 503: the server is unavailable.
        Unavailable = "unavailable",
    }
}

wire_enum! {
    /// The kind of a callback notification (`docs/contract.md`, "Callbacks").
    pub enum NotificationType {
        /// A transfer's status changed.
        StatusUpdate = "status_update",
        /// A transfer arrived for this partner as receiving agent.
        TransferReceived = "transfer_received",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_round_trip() {
        let s: TransferStatus = serde_json::from_str("\"refunded\"").unwrap();
        assert_eq!(s, TransferStatus::Unknown("refunded".into()));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"refunded\"");
        let known: TransferStatus = serde_json::from_str("\"canceled\"").unwrap();
        assert_eq!(known, TransferStatus::Canceled);
        assert_eq!(
            ErrorCode::from("duplicate_order_id"),
            ErrorCode::DuplicateOrderId
        );
    }
}
