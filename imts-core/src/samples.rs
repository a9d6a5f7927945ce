//! Sample requests the sandbox accepts, defined once for tests, examples, benches and demos
//! (feature `test-util`): a valid person, a valid company, their registrations, and an
//! on-demand transfer. The data is fictional.
//!
//! ```
//! use imts_core::samples;
//!
//! let sender = samples::create_person("Nurlanovna")?;
//! assert_eq!(sender.person.first_name, "Aigerim");
//! let transfer = samples::create_transfer(&"7c9e6679-7425-40de-944b-e07fc1f90ae7".parse()?, "ORD-1")?;
//! assert_eq!(transfer.amount_source.to_string(), "10.00");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::enums::DocumentType;
use crate::models::{CreateBusiness, CreatePerson, CreateTransferRequest, NewTransfer};
use crate::personal::{BusinessData, PersonData, Representative};
use crate::values::{ClientUuid, Destination, Money, OrderId, ValueError};

/// A valid person with this family name (start it with `AML-REJECT` to fail the sandbox's AML).
///
/// # Errors
/// Never for the fixed values; kept fallible so nothing here can panic.
pub fn person(last_name: &str) -> Result<PersonData, ValueError> {
    Ok(PersonData {
        first_name: "Aigerim".into(),
        last_name: last_name.into(),
        middle_name: Some("Serikovna".into()),
        birth_date: "1990-04-12".into(),
        citizenship: "KAZ".parse()?,
        document_type: DocumentType::Passport,
        document_number: "N1234567".into(),
        document_issued_at: "2020-01-15".into(),
        document_expires_at: Some("2030-01-15".into()),
        phone: "77011234567".parse()?,
        address: Some("Almaty, Abay 1".into()),
    })
}

/// A valid company with this name (start it with `AML-REJECT` to fail the sandbox's AML).
///
/// # Errors
/// Never for the fixed values.
pub fn business(company_name: &str) -> Result<BusinessData, ValueError> {
    Ok(BusinessData {
        company_name: company_name.into(),
        registration_number: "123456789012".into(),
        country: "KAZ".parse()?,
        address: "Almaty, Abai ave 1".into(),
        representative: Representative {
            first_name: "Daulet".into(),
            last_name: "Seitkali".into(),
            document_type: DocumentType::IdCard,
            document_number: "ID778899".into(),
        },
    })
}

/// Create person for [`person`], resident in Kazakhstan.
///
/// # Errors
/// Never for the fixed values.
pub fn create_person(last_name: &str) -> Result<CreatePerson, ValueError> {
    Ok(CreatePerson::new(
        person(last_name)?,
        "KAZ".parse()?,
        "77011234567".parse()?,
    ))
}

/// Create business for [`business`], registered in Kazakhstan.
///
/// # Errors
/// Never for the fixed values.
pub fn create_business(company_name: &str) -> Result<CreateBusiness, ValueError> {
    Ok(CreateBusiness::new(business(company_name)?, "KAZ".parse()?))
}

/// The required fields of an on-demand transfer of 10.00 KZT to a phone in Uzbekistan, paid out
/// in UZS. Change a field with struct update syntax (`NewTransfer { amount, ..sample }`).
///
/// # Errors
/// When `order_id` is not a valid order id.
pub fn new_transfer(client_uuid: &ClientUuid, order_id: &str) -> Result<NewTransfer, ValueError> {
    Ok(NewTransfer {
        client_uuid: client_uuid.clone(),
        destination: Destination::Phone("998901234567".parse()?),
        target_country: "UZB".parse()?,
        order_id: order_id.parse::<OrderId>()?,
        amount: Money::new("10.00".parse()?, "KZT".parse()?),
        currency_target: "UZS".parse()?,
        purpose: "Family support".into(),
    })
}

/// The Create transfer of [`new_transfer`].
///
/// # Errors
/// When `order_id` is not a valid order id.
pub fn create_transfer(
    client_uuid: &ClientUuid,
    order_id: &str,
) -> Result<CreateTransferRequest, ValueError> {
    new_transfer(client_uuid, order_id).map(CreateTransferRequest::new)
}
