//! The machinery of wire objects: every typed request and response keeps the fields it does not
//! know in an [`Extra`] map, with their exact JSON text, so nothing the provider adds is lost.
//!
//! `serde(flatten)` is not used on purpose: it buffers numbers as floats, and money must keep its
//! exact digits. Instead each object is read as a map of raw JSON values, the known fields are
//! decoded from their raw text, and the rest is kept raw.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Fields of a wire object that this version does not know, kept as their exact JSON text.
#[derive(Clone, Default)]
pub struct Extra(pub BTreeMap<String, Box<RawValue>>);

impl Extra {
    /// Whether there are no unknown fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw JSON text of an unknown field.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|raw| raw.get())
    }

    /// Adds (or replaces) an unknown field from its JSON text.
    ///
    /// # Errors
    /// When `json` is not valid JSON.
    pub fn insert(&mut self, key: impl Into<String>, json: &str) -> Result<(), serde_json::Error> {
        self.0
            .insert(key.into(), RawValue::from_string(json.to_owned())?);
        Ok(())
    }
}

impl PartialEq for Extra {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|((ka, va), (kb, vb))| ka == kb && va.get() == vb.get())
    }
}

impl fmt::Debug for Extra {
    // Unknown fields may hold anything, personal data included: only their names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Reads a JSON object as raw values (internal to the wire macros).
#[doc(hidden)]
pub fn read_object<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Box<RawValue>>, D::Error> {
    BTreeMap::<String, Box<RawValue>>::deserialize(deserializer)
}

/// Decodes one known field from its raw text (internal to the wire macros). A missing field is
/// decoded from `null`, so `Option` fields become `None` and required ones fail, naming the field.
#[doc(hidden)]
pub fn take_field<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    map: &mut BTreeMap<String, Box<RawValue>>,
    name: &str,
) -> Result<T, E> {
    match map.remove(name) {
        Some(raw) => serde_json::from_str(raw.get())
            .map_err(|e| E::custom(format_args!("field `{name}`: {e}"))),
        None => serde_json::from_str("null")
            .map_err(|_| E::custom(format_args!("missing field `{name}`"))),
    }
}

/// The wire name of a field: its identifier without a raw-identifier prefix (`r#type` is `type`).
#[doc(hidden)]
#[must_use]
pub fn wire_name(ident: &'static str) -> &'static str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// Serializes one field to raw JSON, or `None` when it serializes to `null` (internal).
#[doc(hidden)]
pub fn raw_field<T: Serialize, E: serde::ser::Error>(
    value: &T,
) -> Result<Option<Box<RawValue>>, E> {
    let raw = serde_json::value::to_raw_value(value).map_err(E::custom)?;
    Ok((raw.get() != "null").then_some(raw))
}

/// Declares a wire object: a struct with public documented fields plus `extra: Extra`, and serde
/// impls that keep unknown fields and exact numbers. `Option` fields may be absent; the others
/// are required. Fields serialize in declaration order, `None` left out, unknown fields last.
#[macro_export]
#[doc(hidden)]
macro_rules! wire_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Debug)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            /// Fields this version does not know, kept with their exact JSON text.
            pub extra: $crate::wire::Extra,
        }

        impl $name {
            /// Builds the object from every field, in declaration order (`None` for absent
            /// optional fields), with no unknown fields.
            #[allow(clippy::too_many_arguments)]
            #[must_use]
            pub fn new($($field: $ty),*) -> Self {
                Self { $($field,)* extra: $crate::wire::Extra::default() }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let mut map = $crate::wire::read_object(deserializer)?;
                $( let $field = $crate::wire::take_field::<$ty, D::Error>(&mut map, $crate::wire::wire_name(stringify!($field)))?; )*
                Ok(Self { $($field,)* extra: $crate::wire::Extra(map) })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(None)?;
                $(
                    if let Some(raw) = $crate::wire::raw_field::<_, S::Error>(&self.$field)? {
                        map.serialize_entry($crate::wire::wire_name(stringify!($field)), &raw)?;
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
