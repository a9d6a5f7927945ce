//! Create person, Create business, Get person info, Get business info.

use std::fmt;

use crate::enums::AmlStatus;
use crate::personal::{BusinessData, EncryptedData, PersonData};
use crate::values::{ClientUuid, Country, Phone, Timestamp};
use crate::wire::one_field_constructors;
use crate::wire_object;

/// Create person, as a caller states it: the person in clear, sealed with the partner key when
/// the request is built (into a [`CreatePersonSealed`]).
#[derive(Clone)]
#[non_exhaustive]
pub struct CreatePerson {
    /// The person (encrypted into `encrypted_data`).
    pub person: PersonData,
    /// Country of residence, sent in clear.
    pub country: Country,
    /// Phone, sent in clear.
    pub phone: Phone,
}

impl CreatePerson {
    /// Registers `person`, living in `country`, reachable at `phone` (both sent in clear).
    #[must_use]
    pub fn new(person: PersonData, country: Country, phone: Phone) -> Self {
        Self {
            person,
            country,
            phone,
        }
    }
}

impl fmt::Debug for CreatePerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatePerson")
            .field("person", &self.person)
            .field("country", &self.country)
            .field("phone", &self.phone)
            .finish()
    }
}

/// Create business, as a caller states it: the company in clear, sealed when the request is built
/// (into a [`CreateBusinessSealed`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CreateBusiness {
    /// The company (encrypted into `encrypted_data`).
    pub business: BusinessData,
    /// Country of registration, sent in clear.
    pub country: Country,
}

impl CreateBusiness {
    /// Registers `business`, registered in `country` (sent in clear).
    #[must_use]
    pub fn new(business: BusinessData, country: Country) -> Self {
        Self { business, country }
    }
}

wire_object! {
    /// Create person on the wire, the person already sealed: for callers that encrypt
    /// themselves (most pass a [`CreatePerson`]).
    pub struct CreatePersonSealed {
        /// The person, encrypted.
        pub encrypted_data: EncryptedData,
        /// Country of residence.
        pub country: Country,
        /// Phone number.
        pub phone: Phone,
    }
}

wire_object! {
    /// Create business on the wire, the company already sealed: for callers that encrypt
    /// themselves (most pass a [`CreateBusiness`]).
    pub struct CreateBusinessSealed {
        /// The company, encrypted.
        pub encrypted_data: EncryptedData,
        /// Country of registration.
        pub country: Country,
    }
}

impl CreatePersonSealed {
    /// The wire request from a sealed person and the two clear fields.
    #[must_use]
    pub fn new(encrypted_data: EncryptedData, country: Country, phone: Phone) -> Self {
        Self {
            encrypted_data,
            country,
            phone,
            extra: crate::models::Extra::default(),
        }
    }
}

impl CreateBusinessSealed {
    /// The wire request from a sealed company and its country.
    #[must_use]
    pub fn new(encrypted_data: EncryptedData, country: Country) -> Self {
        Self {
            encrypted_data,
            country,
            extra: crate::models::Extra::default(),
        }
    }
}

wire_object! {
    /// The answer of Create person and Create business.
    pub struct ClientCreated {
        /// The new client's id, used as `client_uuid` of a transfer.
        pub client_uuid: ClientUuid,
        /// The AML screening result.
        pub aml_status: AmlStatus,
    }
}

wire_object! {
    /// Get person info.
    pub struct PersonInfoRequest {
        /// The person's id.
        pub client_uuid: ClientUuid,
    }
}

wire_object! {
    /// Get business info.
    pub struct BusinessInfoRequest {
        /// The company's id.
        pub client_uuid: ClientUuid,
    }
}

one_field_constructors!(client_uuid: ClientUuid => PersonInfoRequest, BusinessInfoRequest);

wire_object! {
    /// The answer of Get person info and Get business info.
    pub struct ClientInfo {
        /// The client's id.
        pub client_uuid: ClientUuid,
        /// The AML screening result.
        pub aml_status: AmlStatus,
        /// The stored profile, encrypted for the partner: open it with `PersonData::open` or
        /// `BusinessData::open`.
        pub encrypted_data: EncryptedData,
        /// When the client was registered.
        pub created_at: Timestamp,
    }
}
