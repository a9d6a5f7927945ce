//! The machinery of wire objects: every typed request and response keeps the fields it does not
//! know in an [`Extra`](crate::models::Extra) map, with their exact JSON text, so nothing the
//! provider adds is lost.
//!
//! `serde(flatten)` is not used on purpose: it buffers numbers as floats, and money must keep its
//! exact digits. Instead each object is read as a map of raw JSON values, the known fields are
//! decoded from their raw text, and the rest is kept raw.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

#[doc(hidden)]
pub use imts_crypto::SigningMessage;

mod null;
#[doc(hidden)]
pub use null::is_null;

/// A wire object's key as read: borrowed from the input unless it had escapes (internal to the
/// wire macros), so known fields are matched without an allocation.
#[doc(hidden)]
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
            fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// Decodes a known field from its raw text (internal to the wire macros); an error names the
/// field. Decoded from the text rather than in place so that each field type is compiled once
/// for one reader, whatever the object and wherever it is read from.
#[doc(hidden)]
pub fn take_field<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    raw: &RawValue,
    name: &str,
) -> Result<T, E> {
    serde_json::from_str(raw.get()).map_err(|e| E::custom(format_args!("field `{name}`: {e}")))
}

/// A known field's value, or for one that was absent its value from `null` (internal to the
/// wire macros): `Option` fields become `None` and required ones fail, naming the field.
#[doc(hidden)]
pub fn or_missing<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    value: Option<T>,
    name: &str,
) -> Result<T, E> {
    match value {
        Some(value) => Ok(value),
        None => serde_json::from_str("null")
            .map_err(|_| E::custom(format_args!("missing field `{name}`"))),
    }
}

/// The wire name of a field: its identifier without a raw-identifier prefix (`r#type` is `type`).
#[doc(hidden)]
#[must_use]
pub const fn wire_name(ident: &'static str) -> &'static str {
    match ident.as_bytes() {
        [b'r', b'#', ..] => match std::str::from_utf8(ident.as_bytes().split_at(2).1) {
            Ok(name) => name,
            Err(_) => ident,
        },
        _ => ident,
    }
}

/// How one field enters a signature (the fast path that signs a typed request without going
/// through JSON; it renders exactly what the JSON canonicalization would).
#[derive(Clone, Copy)]
pub enum SignText<'a> {
    /// Absent or empty: dropped, like `null` and `""`.
    Skip,
    /// Signed as this text.
    Text(&'a str),
    /// Signed as this value's `Display` (timestamps).
    Display(&'a dyn std::fmt::Display),
    /// Signed as this decimal's exact text (its `Display`), rendered without the formatter.
    Decimal(rust_decimal::Decimal),
    /// Needs the JSON path (a non-empty array).
    Unsupported,
}

/// A field type that knows how it is signed. Sealed.
pub trait SignValue: sealed::Sealed {
    /// This value's part of the signature.
    fn sign_text(&self) -> SignText<'_>;

    /// Pushes this value (and its separator) into `message`, or nothing when it is skipped;
    /// `false` when it can only be signed through the JSON path (the message is then to be
    /// discarded).
    #[inline(always)]
    fn push_signed(&self, message: &mut imts_crypto::SigningMessage<'_>) -> bool {
        push_text(self.sign_text(), message)
    }
}

impl sealed::Sealed for String {}
impl<T: SignValue> sealed::Sealed for Option<T> {}
impl<T> sealed::Sealed for Vec<T> {}

impl SignValue for String {
    fn sign_text(&self) -> SignText<'_> {
        if self.is_empty() {
            SignText::Skip
        } else {
            SignText::Text(self)
        }
    }
}

impl<T: SignValue> SignValue for Option<T> {
    fn sign_text(&self) -> SignText<'_> {
        self.as_ref().map_or(SignText::Skip, SignValue::sign_text)
    }
}

impl<T> SignValue for Vec<T> {
    fn sign_text(&self) -> SignText<'_> {
        if self.is_empty() {
            SignText::Skip
        } else {
            SignText::Unsupported
        }
    }
}

/// Pushes one field's text and its separator (nothing for [`SignText::Skip`]). Plain text, by
/// far the most common, is pushed inline; rendered values out of line. Inlined into each field's
/// pusher, where the field's type settles the `match` at compile time.
#[doc(hidden)]
#[inline(always)]
pub fn push_text(text: SignText<'_>, message: &mut imts_crypto::SigningMessage<'_>) -> bool {
    match text {
        SignText::Text(text) => message.push(text.as_bytes()),
        SignText::Display(value) => push_display(value, message),
        SignText::Decimal(value) => push_decimal(value, message),
        SignText::Skip => {}
        SignText::Unsupported => return false,
    }
    true
}

#[inline(never)]
fn push_display(value: &dyn std::fmt::Display, message: &mut imts_crypto::SigningMessage<'_>) {
    use std::fmt::Write as _;
    // Writing into the message cannot fail.
    let _ = write!(message, "{value}");
    message.end_value();
}

#[inline(never)]
fn push_decimal(value: rust_decimal::Decimal, message: &mut imts_crypto::SigningMessage<'_>) {
    let mut buf = [0u8; 48];
    match decimal_text(&value, &mut buf) {
        Some(text) => message.push(text),
        None => push_display(&value, message),
    }
}

/// A non-negative decimal's `Display` text (digits, and the point when the scale is not 0),
/// written into `buf` without the formatter; `None` for negative values and mantissas beyond
/// `u64` (both rendered by `Display`: 128-bit division by 10 is what made this slow).
#[doc(hidden)]
pub fn decimal_text<'b>(value: &rust_decimal::Decimal, buf: &'b mut [u8; 48]) -> Option<&'b [u8]> {
    if value.is_sign_negative() {
        return None;
    }
    let scale = usize::try_from(value.scale()).ok()?;
    let mantissa = u64::try_from(value.mantissa().unsigned_abs()).ok()?;
    if scale == 0 {
        let start = write_digits(mantissa, buf, buf.len(), 1);
        return Some(&buf[start..]);
    }
    // A scale beyond u64's 19 powers of ten leaves an integer part of 0.
    let (integer, fraction) = match POWERS_OF_TEN.get(scale) {
        Some(power) => (mantissa / power, mantissa % power),
        None => (0, mantissa),
    };
    let point = write_digits(fraction, buf, buf.len(), scale) - 1;
    buf[point] = b'.';
    let start = write_digits(integer, buf, point, 1);
    Some(&buf[start..])
}

/// `10^i` for every `i` whose power fits in a `u64`.
const POWERS_OF_TEN: [u64; 20] = {
    let mut powers = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        powers[i] = powers[i - 1] * 10;
        i += 1;
    }
    powers
};

/// The two digits of every number below 100.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    pairs
};

/// Writes `value`'s decimal digits so that they end at `end`, zero-padded to `min_digits`
/// (at most 28, a decimal's largest scale), two at a time; returns where they start.
fn write_digits(mut value: u64, buf: &mut [u8; 48], end: usize, min_digits: usize) -> usize {
    let mut start = end;
    while value >= 100 {
        start -= 2;
        buf[start..start + 2].copy_from_slice(&DIGIT_PAIRS[(value % 100) as usize]);
        value /= 100;
    }
    if value >= 10 {
        start -= 2;
        buf[start..start + 2].copy_from_slice(&DIGIT_PAIRS[value as usize]);
    } else if value > 0 || start == end {
        start -= 1;
        buf[start] = b'0' + value as u8;
    }
    let padded = end.saturating_sub(min_digits);
    if start > padded {
        buf[padded..start].fill(b'0');
        start = padded;
    }
    start
}

/// The byte-wise order of `names` (`N` must be `names.len()`), computed at compile time.
#[doc(hidden)]
#[must_use]
pub const fn sorted_order<const N: usize>(names: &[&str]) -> [usize; N] {
    let mut order = [0usize; N];
    let mut i = 0;
    while i < N {
        order[i] = i;
        i += 1;
    }
    // Insertion sort: a request has a few dozen fields at most.
    let mut i = 1;
    while i < N {
        let mut j = i;
        while j > 0 && bytes_less(names[order[j]].as_bytes(), names[order[j - 1]].as_bytes()) {
            let swapped = order[j];
            order[j] = order[j - 1];
            order[j - 1] = swapped;
            j -= 1;
        }
        i += 1;
    }
    order
}

/// `a < b`, byte-wise, usable in constants.
const fn bytes_less(a: &[u8], b: &[u8]) -> bool {
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
}

/// Seals the signing traits: only this crate's wire objects and values implement them.
#[doc(hidden)]
pub mod sealed {
    /// Implemented by the wire macros only.
    pub trait Sealed {}
}

/// A wire object that can be signed field by field, without JSON. Sealed.
pub trait SignFields: sealed::Sealed {
    /// Pushes the signed values in canonical order; `false` when the object needs the JSON path
    /// (unknown fields, arrays): the message is then incomplete and must be discarded, as
    /// `Signer::try_sign_with` does.
    fn sign_fields(&self, message: &mut imts_crypto::SigningMessage<'_>) -> bool;
}

/// Marks a wire object `#[non_exhaustive]`: outside this crate it is built by its constructor
/// (requests) or decoded (responses). This crate's `test-util` feature lifts it, for servers
/// and tests that write responses as struct literals. (The feature is read here, where the macro
/// is defined, whatever crate expands it.)
#[cfg(not(feature = "test-util"))]
#[macro_export]
#[doc(hidden)]
macro_rules! non_exhaustive_unless_test_util {
    ($item:item) => {
        #[non_exhaustive]
        $item
    };
}

/// See the other definition: with `test-util`, wire objects are exhaustive.
#[cfg(feature = "test-util")]
#[macro_export]
#[doc(hidden)]
macro_rules! non_exhaustive_unless_test_util {
    ($item:item) => {
        $item
    };
}

/// Declares setters for a request's optional fields: `with_<field>(value) -> Self`, in the style
/// of request builders (required fields go to `new`, optional ones by setter).
macro_rules! optional_setters {
    ($name:ident { $( $(#[$doc:meta])* $setter:ident => $field:ident: $ty:ty; )* }) => {
        impl $name {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $setter(mut self, value: impl Into<$ty>) -> Self {
                    self.$field = Some(value.into());
                    self
                }
            )*
        }
    };
}
pub(crate) use optional_setters;

/// Declares `new(field)` for requests whose one required field is all they carry (`transfer_id`
/// for Confirm and its like, `client_uuid` for the info requests).
macro_rules! one_field_constructors {
    ($field:ident: $ty:ty => $($name:ident),*) => {$(
        impl $name {
            /// The request for this one value.
            #[must_use]
            pub fn new($field: $ty) -> Self {
                Self { $field, extra: crate::models::Extra::default() }
            }
        }
    )*};
}
pub(crate) use one_field_constructors;

/// Declares a wire object: a struct with public documented fields plus `extra: Extra`, and serde
/// impls that keep unknown fields and exact numbers. `Option` fields may be absent; the others
/// are required. Fields serialize in declaration order, `None` left out, unknown fields last.
#[macro_export]
#[doc(hidden)]
macro_rules! wire_object {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            $( $(#[doc = $fdoc:literal])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $crate::non_exhaustive_unless_test_util! {
            $(#[doc = $doc])*
            #[derive(Clone, PartialEq, Debug)]
            pub struct $name {
                $( $(#[doc = $fdoc])* pub $field: $ty, )*
                /// Fields this version does not know, kept with their exact JSON text.
                pub extra: $crate::models::Extra,
            }
        }

        impl $crate::wire::sealed::Sealed for $name {}

        impl $crate::schema::WireSchema for $name {
            fn schema(components: &mut $crate::schema::Components) -> serde_json::Value {
                components.define(stringify!($name), |components| {
                    <Self as $crate::schema::WireSchema>::object_schema(components)
                        .unwrap_or_default()
                })
            }

            fn object_schema(components: &mut $crate::schema::Components) -> Option<serde_json::Value> {
                Some($crate::schema::object(
                    &$crate::schema::doc_text(&[$($doc),*]),
                    vec![$($crate::schema::FieldSchema {
                        name: $crate::wire::wire_name(stringify!($field)),
                        schema: <$ty as $crate::schema::WireSchema>::schema(components),
                        required: <$ty as $crate::schema::WireSchema>::REQUIRED,
                        doc: $crate::schema::doc_text(&[$($fdoc),*]),
                    }),*],
                ))
            }

            fn outside_schema(&self) -> Option<&'static str> {
                $(
                    if $crate::schema::WireSchema::outside_schema(&self.$field).is_some() {
                        return Some($crate::wire::wire_name(stringify!($field)));
                    }
                )*
                None
            }
        }

        impl $crate::wire::SignFields for $name {
            fn sign_fields(&self, message: &mut $crate::wire::SigningMessage<'_>) -> bool {
                type Push = fn(&$name, &mut $crate::wire::SigningMessage<'_>) -> bool;
                const NAMES: &[&str] = &[$($crate::wire::wire_name(stringify!($field))),*];
                // Field indices in byte-wise name order, and one pusher per field: computed at
                // compile time, so signing is a loop of direct pushes.
                const ORDER: [usize; NAMES.len()] = $crate::wire::sorted_order(NAMES);
                const PUSH: &[Push] = &[$(|object, message| $crate::wire::SignValue::push_signed(&object.$field, message)),*];
                if !self.extra.is_empty() {
                    return false;
                }
                // A field that needs the JSON path stops the push; the caller then discards the
                // partial message (`Signer::try_sign_with`).
                ORDER.iter().all(|&index| PUSH[index](self, message))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // One pass over borrowed keys and raw values (no allocation for a known field):
                // each known field decoded from its text, the rest kept raw (a repeated key:
                // the last one counts, as in a JSON map).
                struct Visitor;
                impl<'de> serde::de::Visitor<'de> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        $( let mut $field: Option<$ty> = None; )*
                        let mut extra = std::collections::BTreeMap::new();
                        while let Some($crate::wire::Key(key)) = map.next_key()? {
                            let raw: &'de serde_json::value::RawValue = map.next_value()?;
                            $(
                                if key == const { $crate::wire::wire_name(stringify!($field)) } {
                                    $field = Some($crate::wire::take_field(raw, &key)?);
                                    continue;
                                }
                            )*
                            extra.insert(key.into_owned(), raw.to_owned());
                        }
                        Ok($name {
                            $( $field: $crate::wire::or_missing($field, $crate::wire::wire_name(stringify!($field)))?, )*
                            extra: $crate::models::Extra(extra),
                        })
                    }
                }
                deserializer.deserialize_map(Visitor)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                $(
                    if !$crate::wire::is_null(&self.$field) {
                        map.serialize_entry(
                            $crate::wire::wire_name(stringify!($field)),
                            &self.$field,
                        )?;
                    }
                )*
                for (key, raw) in &self.extra.0 {
                    map.serialize_entry(key, raw)?;
                }
                map.end()
            }
        }
    };
}
