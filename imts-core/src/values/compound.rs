//! Values made of two parts that must agree: an amount and its currency, a destination and its
//! kind, a transfer looked up by one of its two keys.

use crate::enums::DestinationType;
use crate::values::{Amount, Currency, DestinationIdentifier, OrderId, TransferId};

/// An amount in a currency: the two travel together, so they cannot be swapped with another
/// currency argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// The exact amount.
    pub value: Amount,
    /// Its currency.
    pub currency: Currency,
}

impl Money {
    /// `value` in `currency`.
    #[must_use]
    pub fn new(value: Amount, currency: Currency) -> Self {
        Self { value, currency }
    }
}

/// Where a transfer is paid out: the kind of destination and its number, which cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Destination {
    /// A phone number.
    Phone(DestinationIdentifier),
    /// A bank account (IBAN).
    Iban(DestinationIdentifier),
    /// A card number.
    Pan(DestinationIdentifier),
}

impl Destination {
    /// The wire's `destination_type`.
    #[must_use]
    pub fn kind(&self) -> DestinationType {
        match self {
            Destination::Phone(_) => DestinationType::Phone,
            Destination::Iban(_) => DestinationType::Iban,
            Destination::Pan(_) => DestinationType::Pan,
        }
    }

    /// The wire's `destination_identifier`.
    #[must_use]
    pub fn identifier(&self) -> &DestinationIdentifier {
        match self {
            Destination::Phone(id) | Destination::Iban(id) | Destination::Pan(id) => id,
        }
    }
}

/// How Status and Info find a transfer: by its id or by the partner's `order_id`. Exactly one,
/// so a lookup by neither cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// By the transfer's id.
    TransferId(TransferId),
    /// By the partner's reference.
    OrderId(OrderId),
}

impl Lookup {
    /// The two wire fields, one of them set.
    #[must_use]
    pub fn into_parts(self) -> (Option<TransferId>, Option<OrderId>) {
        match self {
            Lookup::TransferId(id) => (Some(id), None),
            Lookup::OrderId(id) => (None, Some(id)),
        }
    }
}

impl From<TransferId> for Lookup {
    fn from(id: TransferId) -> Self {
        Lookup::TransferId(id)
    }
}

impl From<OrderId> for Lookup {
    fn from(id: OrderId) -> Self {
        Lookup::OrderId(id)
    }
}

impl std::fmt::Display for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lookup::TransferId(id) => write!(f, "transfer_id {id}"),
            Lookup::OrderId(id) => write!(f, "order_id {id}"),
        }
    }
}
