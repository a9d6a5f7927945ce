//! Sample requests the sandbox accepts, for demos and for tests of code built on the SDK: a valid
//! person, its registration, and an on-demand transfer. The data is fictional.

use imts_core::enums::{DestinationType, DocumentType};
use imts_core::models::{CreatePerson, CreateTransferRequest};
use imts_core::personal::PersonData;
use imts_core::values::{ClientUuid, OrderId, ValueError};

/// A valid person with this family name (start it with `AML-REJECT` to fail AML).
///
/// # Errors
/// Never for the fixed values; kept fallible so nothing here can panic.
pub fn person(last_name: &str) -> Result<PersonData, ValueError> {
    Ok(PersonData {
        first_name: "Aigerim".into(),
        last_name: last_name.into(),
        middle_name: None,
        birth_date: "1990-04-12".into(),
        citizenship: "KAZ".parse()?,
        document_type: DocumentType::Passport,
        document_number: "N1234567".into(),
        document_issued_at: "2020-01-15".into(),
        document_expires_at: None,
        phone: "77011234567".parse()?,
        address: None,
    })
}

/// Create person for [`person`].
///
/// # Errors
/// Never for the fixed values.
pub fn create_person(last_name: &str) -> Result<CreatePerson, ValueError> {
    Ok(CreatePerson {
        person: person(last_name)?,
        country: "KAZ".parse()?,
        phone: "77011234567".parse()?,
    })
}

/// An on-demand transfer of 10.00 KZT to a phone in Uzbekistan.
///
/// # Errors
/// When `order_id` is not a valid order id.
pub fn create_transfer(
    client_uuid: &ClientUuid,
    order_id: &str,
) -> Result<CreateTransferRequest, ValueError> {
    Ok(CreateTransferRequest::new(
        client_uuid.clone(),
        DestinationType::Phone,
        "998901234567".parse()?,
        None,
        "UZB".parse()?,
        order_id.parse::<OrderId>()?,
        "10.00".parse()?,
        "KZT".parse()?,
        "UZS".parse()?,
        "Family support".into(),
        None,
    ))
}
