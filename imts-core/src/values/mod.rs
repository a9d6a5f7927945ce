//! Validated value types of the wire: money, codes, identifiers, timestamps.
//!
//! Each refuses an invalid value when it is built, with a [`ValueError`] that names the field.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use zeroize::Zeroize;

mod compound;
pub use compound::{Destination, Lookup, Money};

/// A value that breaks the contract's format rules. Names the field and says what was wrong; it
/// never repeats a personal-data value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValueError {
    /// The field (or type) that was refused.
    pub field: &'static str,
    /// What was wrong.
    pub problem: String,
}

impl ValueError {
    /// A new error for `field`.
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }
}

/// Most digits an [`Amount`] may have after the point (`decimal(15,4)`).
pub const AMOUNT_MAX_SCALE: u32 = 4;
/// Most digits an [`Amount`] may have before the point (`decimal(15,4)`: 15 - 4).
pub const AMOUNT_MAX_INTEGER_DIGITS: u32 = 11;

fn decimal_from_json(raw: &RawValue, field: &'static str) -> Result<Decimal, ValueError> {
    let text = raw.get();
    if text.starts_with('"') {
        return Err(ValueError::new(
            field,
            "must be a JSON number, not a string",
        ));
    }
    parse_decimal(text, field)
}

fn parse_decimal(text: &str, field: &'static str) -> Result<Decimal, ValueError> {
    if text.contains(['e', 'E']) {
        return Err(ValueError::new(field, "exponent notation is not accepted"));
    }
    Decimal::from_str_exact(text)
        .map_err(|_| ValueError::new(field, format!("`{text}` is not a decimal number")))
}

fn serialize_decimal<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    // A raw JSON number carries exactly the digits of the decimal: never through a float.
    let raw = RawValue::from_string(value.to_string()).map_err(serde::ser::Error::custom)?;
    raw.serialize(serializer)
}

/// An amount of money: an exact decimal of at most 11 digits before the point and 4 after,
/// not negative. Written to JSON as a number with exactly its digits (`100.50` stays `100.50`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(Decimal);

impl Amount {
    /// Validates a decimal.
    ///
    /// # Errors
    /// When negative, or beyond `decimal(15,4)`.
    pub fn new(value: Decimal) -> Result<Self, ValueError> {
        Self::checked(value, "amount")
    }

    fn checked(value: Decimal, field: &'static str) -> Result<Self, ValueError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(ValueError::new(field, "must not be negative"));
        }
        if value.scale() > AMOUNT_MAX_SCALE {
            return Err(ValueError::new(
                field,
                format!("at most {AMOUNT_MAX_SCALE} digits after the point (decimal(15,4))"),
            ));
        }
        // Decimal digits of the mantissa (0 has one).
        let digits = value
            .mantissa()
            .unsigned_abs()
            .checked_ilog10()
            .map_or(1, |log| log + 1);
        let integer_digits = digits.saturating_sub(value.scale());
        if integer_digits > AMOUNT_MAX_INTEGER_DIGITS {
            return Err(ValueError::new(
                field,
                format!(
                    "at most {AMOUNT_MAX_INTEGER_DIGITS} digits before the point (decimal(15,4))"
                ),
            ));
        }
        Ok(Self(value))
    }

    /// The exact decimal.
    #[must_use]
    pub fn as_decimal(&self) -> Decimal {
        self.0
    }
}

impl FromStr for Amount {
    type Err = ValueError;
    fn from_str(text: &str) -> Result<Self, ValueError> {
        Self::checked(parse_decimal(text, "amount")?, "amount")
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({})", self.0)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_decimal(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let value = decimal_from_json(&raw, "amount").map_err(D::Error::custom)?;
        Self::checked(value, "amount").map_err(D::Error::custom)
    }
}

/// An exchange rate: an exact, positive decimal of any scale, written with exactly its digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(Decimal);

impl Rate {
    /// Validates a rate.
    ///
    /// # Errors
    /// When zero or negative.
    pub fn new(value: Decimal) -> Result<Self, ValueError> {
        if value <= Decimal::ZERO {
            return Err(ValueError::new("rate", "must be positive"));
        }
        Ok(Self(value))
    }

    /// The exact decimal.
    #[must_use]
    pub fn as_decimal(&self) -> Decimal {
        self.0
    }
}

impl FromStr for Rate {
    type Err = ValueError;
    fn from_str(text: &str) -> Result<Self, ValueError> {
        Self::new(parse_decimal(text, "rate")?)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rate({})", self.0)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_decimal(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let value = decimal_from_json(&raw, "rate").map_err(D::Error::custom)?;
        Self::new(value).map_err(D::Error::custom)
    }
}

/// Declares a string newtype validated by `$check`, with serde, `Display`, `FromStr`, `as_str`.
macro_rules! string_value {
    ($(#[$meta:meta])* $name:ident, $field:literal, $check:expr) => {
        string_value!($(#[$meta])* $name, $field, $check, plain);
    };
    ($(#[$meta:meta])* $name:ident, $field:literal, $check:expr, $debug:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl Zeroize for $name {
            fn zeroize(&mut self) {
                self.0.zeroize();
            }
        }

        impl $name {
            /// Validates and wraps the value.
            ///
            /// # Errors
            /// A [`ValueError`] naming the field when the value breaks the format rule.
            pub fn new(value: impl Into<String>) -> Result<Self, ValueError> {
                let value = value.into();
                let check: fn(&str) -> Result<(), String> = $check;
                check(&value).map_err(|problem| ValueError::new($field, problem))?;
                Ok(Self(value))
            }

            /// The value as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(text: &str) -> Result<Self, ValueError> {
                Self::new(text)
            }
        }

        impl crate::wire::sealed::Sealed for $name {}
        impl crate::wire::SignValue for $name {
            fn sign_text(&self) -> crate::wire::SignText<'_> {
                crate::wire::SignText::Text(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), debug_text(stringify!($debug), &self.0))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Self::new(String::deserialize(deserializer)?).map_err(D::Error::custom)
            }
        }
    };
}

/// How a value appears in `Debug`: as it is, or masked like the provider masks identifiers.
fn debug_text(style: &str, value: &str) -> String {
    if style == "masked" {
        mask_identifier(value)
    } else {
        format!("{value:?}")
    }
}

/// Masks an identifier as the provider does in responses: every character but the last 4
/// becomes `*`; a value of 4 characters or fewer is all `*`.
#[must_use]
pub fn mask_identifier(value: &str) -> String {
    let count = value.chars().count();
    if count <= 4 {
        return "*".repeat(count);
    }
    let mut out = "*".repeat(count - 4);
    out.extend(value.chars().skip(count - 4));
    out
}

fn three_upper(value: &str) -> Result<(), String> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err("must be 3 upper-case letters".into())
    }
}

fn uuid_text(value: &str) -> Result<(), String> {
    if value.len() <= 36 && uuid::Uuid::try_parse(value).is_ok() {
        Ok(())
    } else {
        Err("must be a UUID (at most 36 characters)".into())
    }
}

fn reference(max: usize) -> impl Fn(&str) -> Result<(), String> {
    move |value| {
        let chars = value.chars().count();
        if chars == 0 || chars > max {
            Err(format!("must be 1 to {max} characters"))
        } else if value.chars().any(char::is_control) {
            Err("must not contain control characters".into())
        } else {
            Ok(())
        }
    }
}

string_value!(
    /// ISO 4217 currency code: 3 upper-case letters (`KZT`, `UZS`, `USD`). Lower case is refused.
    Currency, "currency", three_upper
);
string_value!(
    /// ISO 3166-1 alpha-3 country code: 3 upper-case letters (`KAZ`, `UZB`).
    Country, "country", three_upper
);
string_value!(
    /// The partner's own reference of a transfer, 1 to 64 characters: the idempotency key of
    /// Create transfer.
    OrderId, "order_id", |v| reference(64)(v)
);
string_value!(
    /// A phone number: digits only, country code first, 10 to 15 digits.
    Phone, "phone", |v| {
        if (10..=15).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err("must be 10 to 15 digits, country code first".into())
        }
    },
    masked
);
string_value!(
    /// Where a transfer is delivered (a phone number, an IBAN or a card number), up to 100
    /// characters. Its `Debug` is masked like the provider masks it: `********4567`.
    DestinationIdentifier, "destination_identifier", |v| reference(100)(v),
    masked
);
string_value!(
    /// A client (person or business) registered with IMTS: a UUID.
    ClientUuid, "client_uuid", uuid_text
);
string_value!(
    /// A transfer's id: a UUID.
    TransferId, "transfer_id", uuid_text
);
string_value!(
    /// An agent's id: a UUID for receiving agents; a registered partner's id may be any
    /// reference of 1 to 64 characters.
    AgentId, "agent_id", |v| reference(64)(v)
);

/// A point in time on the wire: RFC 3339 in UTC with microseconds
/// (`2026-11-22T10:00:00.000000Z`). Parsed leniently: the fraction is optional, any offset is
/// converted to UTC, and `YYYY-MM-DD HH:MM:SS` is read as UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Wraps a time, converted to UTC.
    #[must_use]
    pub fn new(time: OffsetDateTime) -> Self {
        Self(time.to_offset(UtcOffset::UTC))
    }

    /// The time.
    #[must_use]
    pub fn as_offset_date_time(&self) -> OffsetDateTime {
        self.0
    }
}

impl FromStr for Timestamp {
    type Err = ValueError;
    fn from_str(text: &str) -> Result<Self, ValueError> {
        if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
            return Ok(Self::new(t));
        }
        let invalid = || ValueError::new("timestamp", format!("`{text}` is not an RFC 3339 time"));
        // Parsed at run time: `time`'s compile-time macro is a proc-macro crate in every build.
        let plain = time::format_description::parse_borrowed::<2>(
            "[year]-[month]-[day] [hour]:[minute]:[second]",
        )
        .map_err(|_| invalid())?;
        PrimitiveDateTime::parse(text, &plain)
            .map(|t| Self(t.assume_utc()))
            .map_err(|_| invalid())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(D::Error::custom)
    }
}

impl crate::wire::sealed::Sealed for Amount {}
impl crate::wire::SignValue for Amount {
    fn sign_text(&self) -> crate::wire::SignText<'_> {
        crate::wire::SignText::Decimal(self.0)
    }
}

impl crate::wire::sealed::Sealed for Rate {}
impl crate::wire::SignValue for Rate {
    fn sign_text(&self) -> crate::wire::SignText<'_> {
        crate::wire::SignText::Decimal(self.0)
    }
}

impl crate::wire::sealed::Sealed for Timestamp {}
impl crate::wire::SignValue for Timestamp {
    fn sign_text(&self) -> crate::wire::SignText<'_> {
        crate::wire::SignText::Display(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_decimal_15_4() {
        assert_eq!("100.50".parse::<Amount>().unwrap().to_string(), "100.50");
        assert_eq!(
            "99999999999.9999".parse::<Amount>().unwrap().to_string(),
            "99999999999.9999"
        );
        assert!("999999999999".parse::<Amount>().is_err());
        assert!("1.23456".parse::<Amount>().is_err());
        assert!("-1".parse::<Amount>().is_err());
        assert!("1e3".parse::<Amount>().is_err());
        assert!(serde_json::from_str::<Amount>("\"100.50\"").is_err());
        let a: Amount = serde_json::from_str("100.50").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "100.50");
    }

    proptest::proptest! {
        #[test]
        fn decimal_text_matches_display(mantissa in proptest::prelude::any::<i64>(), scale in 0u32..=20) {
            let value = Decimal::new(mantissa, scale.min(28));
            let mut buf = [0u8; 48];
            if let Some(text) = crate::wire::decimal_text(&value, &mut buf) {
                proptest::prop_assert_eq!(std::str::from_utf8(text).unwrap(), value.to_string());
            } else {
                proptest::prop_assert!(value.is_sign_negative());
            }
        }

        #[test]
        fn decimal_text_matches_display_for_every_u64_and_scale(
            mantissa in proptest::prop_oneof![0u64..1000, proptest::prelude::any::<u64>()],
            scale in 0u32..=28,
        ) {
            let value = Decimal::from_i128_with_scale(i128::from(mantissa), scale);
            let mut buf = [0u8; 48];
            let text = crate::wire::decimal_text(&value, &mut buf).expect("non-negative u64");
            proptest::prop_assert_eq!(std::str::from_utf8(text).unwrap(), value.to_string());
        }
    }

    #[test]
    fn decimal_text_edges() {
        for (mantissa, scale) in [
            (0u64, 0u32),
            (0, 2),
            (5, 2),
            (10, 1),
            (100_000, 2),
            (99, 0),
            (100, 0),
            (u64::MAX, 0),
            (u64::MAX, 19),
            (u64::MAX, 20),
            (u64::MAX, 28),
            (1, 28),
            (10_u64.pow(19), 19),
        ] {
            let value = Decimal::from_i128_with_scale(i128::from(mantissa), scale);
            let mut buf = [0u8; 48];
            let text = crate::wire::decimal_text(&value, &mut buf).unwrap();
            assert_eq!(std::str::from_utf8(text).unwrap(), value.to_string());
        }
    }

    #[test]
    fn codes_and_ids() {
        assert!(Currency::new("KZT").is_ok());
        let err = Currency::new("kzt").unwrap_err();
        assert_eq!(err.field, "currency");
        assert!(Country::new("KZ").is_err());
        assert!(Phone::new("998901234567").is_ok());
        assert!(Phone::new("+998901234567").is_err());
        assert!(OrderId::new("").is_err());
        assert!(OrderId::new("x".repeat(65)).is_err());
        assert!(TransferId::new("0f8fad5b-d9cb-469f-a165-70867728950e").is_ok());
        assert!(TransferId::new("nope").is_err());
        assert_eq!(
            format!("{:?}", Phone::new("998901234567").unwrap()),
            "Phone(********4567)"
        );
        assert_eq!(mask_identifier("1234"), "****");
    }

    #[test]
    fn timestamps_parse_leniently_and_print_microseconds() {
        for text in [
            "2024-10-02T10:52:21.000000Z",
            "2024-10-02T10:52:21Z",
            "2024-10-02T15:52:21+05:00",
            "2024-10-02 10:52:21",
        ] {
            let t: Timestamp = text.parse().unwrap();
            assert_eq!(t.to_string(), "2024-10-02T10:52:21.000000Z", "{text}");
        }
        assert!("yesterday".parse::<Timestamp>().is_err());
    }
}
