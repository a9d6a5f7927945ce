//! Personal data: the identity of a person or a company.
//!
//! These types have no `Serialize`: the only way onto the wire is [`PersonData::seal`] /
//! [`BusinessData::seal`], which encrypt with the partner key into [`EncryptedData`]. Their
//! `Debug` is redacted and every field is zeroized on drop.

use std::fmt;

use imts_crypto::{Packing, PartnerKey};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::enums::DocumentType;
use crate::values::{Country, Phone, ValueError};

/// An `encrypted_data` envelope as it travels: Base64 text, opaque without the partner key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EncryptedData(String);

impl EncryptedData {
    /// Wraps envelope text received from elsewhere.
    #[must_use]
    pub fn new(envelope: impl Into<String>) -> Self {
        Self(envelope.into())
    }

    /// The envelope text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl crate::wire::sealed::Sealed for EncryptedData {}
impl crate::wire::SignValue for EncryptedData {
    fn sign_text(&self) -> crate::wire::SignText<'_> {
        self.0.sign_text()
    }
}

impl fmt::Debug for EncryptedData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedData(<{} characters>)", self.0.len())
    }
}

/// Why personal data could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The envelope did not decrypt with the partner key.
    #[error(transparent)]
    Decrypt(#[from] imts_crypto::DecryptError),
    /// It decrypted, but is not the expected JSON (the message names the field, never a value).
    #[error("decrypted personal data is not valid: {0}")]
    Invalid(String),
}

fn require_text(field: &'static str, value: &str) -> Result<(), ValueError> {
    if value.trim().is_empty() {
        Err(ValueError::new(field, "must not be empty"))
    } else {
        Ok(())
    }
}

fn require_date(field: &'static str, value: &str) -> Result<(), ValueError> {
    let invalid = || ValueError::new(field, "must be a date YYYY-MM-DD");
    // Parsed at run time: `time`'s compile-time macro is a proc-macro crate in every build.
    let format = time::format_description::parse_borrowed::<2>("[year]-[month]-[day]")
        .map_err(|_| invalid())?;
    time::Date::parse(value, &format)
        .map(|_| ())
        .map_err(|_| invalid())
}

fn seal_json(
    write: impl FnOnce(&mut serde_json::Serializer<&mut Vec<u8>>) -> Result<(), serde_json::Error>,
    key: &PartnerKey,
    packing: Packing,
) -> Result<EncryptedData, ValueError> {
    let mut json = Zeroizing::new(Vec::new());
    write(&mut serde_json::Serializer::new(&mut *json))
        .map_err(|e| ValueError::new("encrypted_data", e.to_string()))?;
    Ok(EncryptedData(key.encrypt(&json, packing)))
}

fn open_json<T>(
    data: &EncryptedData,
    key: &PartnerKey,
    packing: Packing,
    read: impl FnOnce(
        &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
    ) -> Result<T, serde_json::Error>,
) -> Result<T, OpenError> {
    let plain = key.decrypt(&data.0, packing)?;
    // serde_json's messages name fields and positions, never the values.
    read(&mut serde_json::Deserializer::from_slice(plain.as_bytes()))
        .map_err(|e| OpenError::Invalid(e.to_string()))
}

/// `Zeroize` for a struct of zeroizable fields and a `Drop` that calls it: what zeroize's derive
/// generates, without its proc-macro crate in every user's build. The struct is destructured
/// without `..`, so a field added to it and not listed here does not compile.
macro_rules! zeroize_fields {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl Zeroize for $name {
            fn zeroize(&mut self) {
                let Self { $($field),* } = self;
                $($field.zeroize();)*
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.zeroize();
            }
        }

        impl ZeroizeOnDrop for $name {}
    };
}

zeroize_fields!(PersonData {
    first_name,
    last_name,
    middle_name,
    birth_date,
    citizenship,
    document_type,
    document_number,
    document_issued_at,
    document_expires_at,
    phone,
    address,
});
zeroize_fields!(Representative {
    first_name,
    last_name,
    document_type,
    document_number
});
zeroize_fields!(BusinessData {
    company_name,
    registration_number,
    country,
    address,
    representative
});

/// A natural person: sender, or recipient of a payout.
#[derive(Clone, PartialEq)]
pub struct PersonData {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Patronymic or middle name.
    pub middle_name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Citizenship, ISO 3166-1 alpha-3.
    pub citizenship: Country,
    /// Identity document kind.
    pub document_type: DocumentType,
    /// Identity document number.
    pub document_number: String,
    /// Issue date of the document, `YYYY-MM-DD`.
    pub document_issued_at: String,
    /// Expiry date of the document, `YYYY-MM-DD`.
    pub document_expires_at: Option<String>,
    /// Phone number.
    pub phone: Phone,
    /// Postal address.
    pub address: Option<String>,
}

impl PersonData {
    /// Checks the fields the contract constrains, naming the first that fails.
    ///
    /// # Errors
    /// A [`ValueError`] naming the field.
    pub fn validate(&self) -> Result<(), ValueError> {
        require_text("first_name", &self.first_name)?;
        require_text("last_name", &self.last_name)?;
        require_date("birth_date", &self.birth_date)?;
        require_text("document_number", &self.document_number)?;
        require_date("document_issued_at", &self.document_issued_at)?;
        if let Some(expires) = &self.document_expires_at {
            require_date("document_expires_at", expires)?;
        }
        Ok(())
    }

    /// Validates and encrypts into `encrypted_data`.
    ///
    /// # Errors
    /// A [`ValueError`] naming an invalid field.
    pub fn seal(&self, key: &PartnerKey, packing: Packing) -> Result<EncryptedData, ValueError> {
        self.validate()?;
        seal_json(|s| clear::PersonJson::serialize(self, s), key, packing)
    }

    /// Decrypts `encrypted_data` back into a person.
    ///
    /// # Errors
    /// [`OpenError`] when it does not decrypt or is not a person.
    pub fn open(
        data: &EncryptedData,
        key: &PartnerKey,
        packing: Packing,
    ) -> Result<Self, OpenError> {
        open_json(data, key, packing, |d| clear::PersonJson::deserialize(d))
    }
}

impl fmt::Debug for PersonData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonData(<redacted>)")
    }
}

/// The representative who acts for a company.
#[derive(Clone, PartialEq)]
pub struct Representative {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Identity document kind.
    pub document_type: DocumentType,
    /// Identity document number.
    pub document_number: String,
}

impl fmt::Debug for Representative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Representative(<redacted>)")
    }
}

/// A company that sends money.
#[derive(Clone, PartialEq)]
pub struct BusinessData {
    /// Registered name.
    pub company_name: String,
    /// Registration number.
    pub registration_number: String,
    /// Country of registration, ISO 3166-1 alpha-3.
    pub country: Country,
    /// Registered address.
    pub address: String,
    /// Who acts for the company.
    pub representative: Representative,
}

impl BusinessData {
    /// Checks the fields the contract constrains, naming the first that fails.
    ///
    /// # Errors
    /// A [`ValueError`] naming the field.
    pub fn validate(&self) -> Result<(), ValueError> {
        require_text("company_name", &self.company_name)?;
        require_text("registration_number", &self.registration_number)?;
        require_text("address", &self.address)?;
        require_text("representative.first_name", &self.representative.first_name)?;
        require_text("representative.last_name", &self.representative.last_name)?;
        require_text(
            "representative.document_number",
            &self.representative.document_number,
        )
    }

    /// Validates and encrypts into `encrypted_data`.
    ///
    /// # Errors
    /// A [`ValueError`] naming an invalid field.
    pub fn seal(&self, key: &PartnerKey, packing: Packing) -> Result<EncryptedData, ValueError> {
        self.validate()?;
        seal_json(|s| clear::BusinessJson::serialize(self, s), key, packing)
    }

    /// Decrypts `encrypted_data` back into a company.
    ///
    /// # Errors
    /// [`OpenError`] when it does not decrypt or is not a company.
    pub fn open(
        data: &EncryptedData,
        key: &PartnerKey,
        packing: Packing,
    ) -> Result<Self, OpenError> {
        open_json(data, key, packing, |d| clear::BusinessJson::deserialize(d))
    }
}

impl fmt::Debug for BusinessData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BusinessData(<redacted>)")
    }
}

/// The clear JSON shapes, reachable only from `seal` and `open`: serde's remote derives give
/// (de)serialization functions without making the public types serializable.
mod clear {
    use serde::{Deserialize, Serialize};

    use super::{BusinessData, PersonData, Representative};
    use crate::enums::DocumentType;
    use crate::values::{Country, Phone};

    #[derive(Serialize, Deserialize)]
    #[serde(remote = "PersonData")]
    pub(super) struct PersonJson {
        first_name: String,
        last_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        middle_name: Option<String>,
        birth_date: String,
        citizenship: Country,
        document_type: DocumentType,
        document_number: String,
        document_issued_at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        document_expires_at: Option<String>,
        phone: Phone,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(remote = "Representative")]
    struct RepresentativeJson {
        first_name: String,
        last_name: String,
        document_type: DocumentType,
        document_number: String,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(remote = "BusinessData")]
    pub(super) struct BusinessJson {
        company_name: String,
        registration_number: String,
        country: Country,
        address: String,
        #[serde(with = "RepresentativeJson")]
        representative: Representative,
    }
}

#[cfg(test)]
mod tests {
    use zeroize::Zeroize;

    #[test]
    fn zeroize_clears_every_field_it_can_see() {
        let mut person = crate::samples::person("Wiped").unwrap();
        person.middle_name = Some("Middle".into());
        person.zeroize();
        assert!(person.first_name.is_empty() && person.last_name.is_empty());
        assert!(person.birth_date.is_empty() && person.document_number.is_empty());
        assert!(person.document_issued_at.is_empty());
        assert_eq!(person.middle_name, None, "an Option is wiped, then emptied");
        assert!(person.citizenship.as_str().is_empty() && person.phone.as_str().is_empty());

        let mut business = crate::samples::business("Wiped LLP").unwrap();
        business.zeroize();
        assert!(business.company_name.is_empty() && business.registration_number.is_empty());
        assert!(business.address.is_empty() && business.country.as_str().is_empty());
        assert!(business.representative.document_number.is_empty());
    }
}
