//! JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) of every wire type, written from the
//! same declarations that decode them: a wire object's schema comes from its field list, a value
//! type's from the rule that validates it. `openapi/imts.yaml` is generated from these, so the
//! document cannot drift from the models.
//!
//! A schema states exactly what the decoder accepts, no more and no less: a schema-driven fuzzer
//! sends values just outside it and expects them refused, and values inside it and expects no
//! validation error the schema did not announce.
//!
//! ```
//! use imts_core::models::StatusResponse;
//! use imts_core::schema::{Components, WireSchema};
//!
//! let mut components = Components::default();
//! let reference = StatusResponse::schema(&mut components);
//! assert_eq!(reference["$ref"], "#/components/schemas/StatusResponse");
//! let object = &components.schemas()["StatusResponse"];
//! assert_eq!(object["required"][0], "transfer_id");
//! ```

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::enums::{
    AmlStatus, DestinationType, DocumentType, ErrorCode, NotificationType, OriginatorType,
    TransferStatus,
};
use crate::models::auth::Token;
use crate::personal::EncryptedData;
use crate::values::{
    AgentId, Amount, ClientUuid, Country, Currency, DestinationIdentifier, OrderId, Phone, Rate,
    Timestamp, TransferId, AMOUNT_MAX_INTEGER_DIGITS, AMOUNT_MAX_SCALE,
};

/// The named schemas a document refers to (`#/components/schemas/NAME`), filled as wire objects
/// describe themselves.
#[derive(Debug, Clone, Default)]
pub struct Components {
    schemas: BTreeMap<String, Value>,
}

impl Components {
    /// The schemas collected so far, by name.
    #[must_use]
    pub fn schemas(&self) -> &BTreeMap<String, Value> {
        &self.schemas
    }

    /// Adds a named schema (once; `build` runs only the first time) and returns a reference
    /// to it.
    pub fn define(&mut self, name: &str, build: impl FnOnce(&mut Self) -> Value) -> Value {
        if !self.schemas.contains_key(name) {
            // A placeholder first, so that a type that contains itself terminates.
            self.schemas.insert(name.to_owned(), Value::Null);
            let schema = build(self);
            self.schemas.insert(name.to_owned(), schema);
        }
        json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    /// Takes the collected schemas.
    #[must_use]
    pub fn into_schemas(self) -> BTreeMap<String, Value> {
        self.schemas
    }
}

/// A type with a JSON Schema. Implemented by every wire object (by its declaration) and by
/// the value types they are made of.
pub trait WireSchema {
    /// Whether a field of this type must be present (`Option` fields may be absent or `null`).
    const REQUIRED: bool = true;

    /// The schema of a value of this type: inline, or a reference into `components`.
    fn schema(components: &mut Components) -> Value;

    /// The object schema itself, for a wire object (its [`schema`](Self::schema) is a
    /// reference); `None` for every other type.
    fn object_schema(components: &mut Components) -> Option<Value> {
        let _ = components;
        None
    }

    /// Where this value lies outside its schema: the wire name of the first such field (the
    /// type's own name for a bare value), or `None` when it conforms. Only an enumeration's
    /// `Unknown` value can: the decoder keeps a value the provider adds to an answer, but a
    /// server refuses it in a request.
    fn outside_schema(&self) -> Option<&'static str> {
        None
    }
}

/// One field of a wire object, as its declaration gives it.
#[derive(Debug, Clone)]
pub struct FieldSchema {
    /// The wire name.
    pub name: &'static str,
    /// Its schema.
    pub schema: Value,
    /// Whether it must be present.
    pub required: bool,
    /// Its rustdoc, lines joined ([`doc_text`]).
    pub doc: String,
}

/// The object schema of a wire object from its documentation and fields (used by the
/// declaration macro). Unknown fields are allowed, as the decoder keeps them.
#[doc(hidden)]
#[must_use]
pub fn object(doc: &str, fields: Vec<FieldSchema>) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields {
        let mut schema = field.schema;
        if !field.doc.is_empty() {
            schema = with_description(schema, &field.doc);
        }
        if field.required {
            required.push(Value::from(field.name));
        }
        properties.insert(field.name.to_owned(), schema);
    }
    let mut object = Map::new();
    object.insert("type".into(), "object".into());
    if !doc.trim().is_empty() {
        object.insert("description".into(), doc.trim().into());
    }
    if !required.is_empty() {
        object.insert("required".into(), required.into());
    }
    object.insert("properties".into(), properties.into());
    Value::Object(object)
}

/// `schema` with a description: added to an inline schema, or beside a reference (OpenAPI 3.1
/// allows `description` next to `$ref`).
fn with_description(schema: Value, doc: &str) -> Value {
    match schema {
        Value::Object(mut map) => {
            // The field's own words first, then what its type says of every such value.
            let text = match map.get("description").and_then(Value::as_str) {
                Some(general) => format!("{doc} ({general})"),
                None => doc.to_owned(),
            };
            map.insert("description".into(), text.into());
            Value::Object(map)
        }
        other => json!({ "allOf": [other], "description": doc }),
    }
}

/// Joins the lines of a rustdoc comment, one per `#[doc]` attribute (used by the declaration
/// macro).
#[doc(hidden)]
#[must_use]
pub fn doc_text(lines: &[&'static str]) -> String {
    let mut text = String::new();
    let mut paragraph_ends = false;
    for line in lines {
        let line = line.strip_prefix(' ').unwrap_or(line).trim_end();
        if line.is_empty() {
            paragraph_ends = !text.is_empty();
            continue;
        }
        if paragraph_ends {
            text.push('\n');
        } else if !text.is_empty() {
            text.push(' ');
        }
        paragraph_ends = false;
        text.push_str(line);
    }
    text
}

impl WireSchema for String {
    fn schema(_: &mut Components) -> Value {
        json!({ "type": "string" })
    }
}

impl<T: WireSchema> WireSchema for Option<T> {
    const REQUIRED: bool = false;
    fn schema(components: &mut Components) -> Value {
        // The decoder reads an explicit `null` as absent.
        json!({ "anyOf": [T::schema(components), { "type": "null" }] })
    }
    fn outside_schema(&self) -> Option<&'static str> {
        self.as_ref().and_then(T::outside_schema)
    }
}

impl<T: WireSchema> WireSchema for Vec<T> {
    fn schema(components: &mut Components) -> Value {
        json!({ "type": "array", "items": T::schema(components) })
    }
    fn outside_schema(&self) -> Option<&'static str> {
        self.iter().find_map(T::outside_schema)
    }
}

/// A character the reference types refuse: Unicode's control characters (`char::is_control`).
const NO_CONTROL: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// A UUID as `uuid::Uuid::try_parse` reads it within 36 characters: hyphenated or simple, any case.
const UUID_PATTERN: &str = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$";

fn reference(max: usize) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": max, "pattern": NO_CONTROL })
}

/// Declares the schemas of value types. Each restates the rule its type checks when it is built
/// (`values`, `personal`); the schemathesis run against the sandbox (`scripts/schemathesis.sh`)
/// sends values on both sides of every one of them.
macro_rules! value_schemas {
    ($($ty:ty => $schema:expr;)*) => {$(
        impl WireSchema for $ty {
            fn schema(_: &mut Components) -> Value {
                $schema
            }
        }
    )*};
}

value_schemas! {
    Currency => json!({ "type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217, upper case" });
    Country => json!({ "type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 3166-1 alpha-3, upper case" });
    OrderId => reference(64);
    AgentId => reference(64);
    DestinationIdentifier => reference(100);
    Phone => json!({ "type": "string", "pattern": "^[0-9]{10,15}$" });
    ClientUuid => json!({ "type": "string", "pattern": UUID_PATTERN });
    TransferId => json!({ "type": "string", "pattern": UUID_PATTERN });
    Timestamp => json!({ "type": "string", "format": "date-time" });
    Token => json!({ "type": "string", "minLength": 1 });
    EncryptedData => json!({
        "type": "string",
        "minLength": 1,
        "contentEncoding": "base64",
        "x-imts-encrypted": "AES-256-CBC with the partner key: Base64(IV || ciphertext)",
    });
    Amount => json!({
        "type": "number",
        "minimum": 0,
        // 10^11: at most 11 digits before the point, exactly as `Amount::new` checks.
        "exclusiveMaximum": 10u64.pow(AMOUNT_MAX_INTEGER_DIGITS),
        "x-imts-scale": AMOUNT_MAX_SCALE,
        "description": "decimal(15,4): a JSON number with at most 4 digits after the point, never a string, never exponent notation",
    });
    Rate => json!({
        "type": "number",
        "exclusiveMinimum": 0,
        "description": "an exact decimal, written with its digits",
    });
}

/// Declares the schemas of the enumerations from their `KNOWN` lists: the strict form, every
/// value the contract names and nothing else.
macro_rules! enum_schemas {
    ($($ty:ty),*) => {$(
        impl WireSchema for $ty {
            fn schema(_: &mut Components) -> Value {
                let values: Vec<Value> = <$ty>::KNOWN.iter().map(|v| Value::from(v.as_str())).collect();
                json!({ "type": "string", "enum": values })
            }
            fn outside_schema(&self) -> Option<&'static str> {
                matches!(self, Self::Unknown(_)).then_some(stringify!($ty))
            }
        }
    )*};
}

enum_schemas!(
    TransferStatus,
    DestinationType,
    OriginatorType,
    AmlStatus,
    DocumentType,
    ErrorCode,
    NotificationType
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{CreateTransferRequest, Transfer};

    #[test]
    fn an_object_lists_its_fields_and_requires_the_non_optional_ones() {
        let mut components = Components::default();
        let schema = CreateTransferRequest::object_schema(&mut components).unwrap();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(required.contains(&"order_id"));
        assert!(!required.contains(&"target_agent_id"));
        assert!(schema["properties"]["receiver_encrypted_data"]["anyOf"].is_array());
        assert_eq!(
            schema["properties"]["destination_type"]["enum"],
            json!(["phone", "iban", "pan"])
        );
        assert!(schema["properties"]["order_id"]["description"]
            .as_str()
            .unwrap()
            .contains("unique per partner"));
    }

    #[test]
    fn nested_objects_are_references() {
        let mut components = Components::default();
        let schema = crate::models::SearchResponse::schema(&mut components);
        assert_eq!(schema["$ref"], "#/components/schemas/SearchResponse");
        let search = &components.schemas()["SearchResponse"];
        assert_eq!(
            search["properties"]["transfers"]["items"]["$ref"],
            "#/components/schemas/Transfer"
        );
        assert!(components.schemas().contains_key("Transfer"));
        let _ = Transfer::schema(&mut components);
        assert_eq!(components.schemas().len(), 2);
    }

    #[test]
    fn an_unknown_enumeration_value_is_outside_the_schema_and_named_by_its_field() {
        let mut request = crate::models::GetAgentsRequest::default();
        assert_eq!(request.outside_schema(), None);
        request.destination_type = Some(DestinationType::from("fax"));
        assert_eq!(request.outside_schema(), Some("destination_type"));
        request.destination_type = Some(DestinationType::Iban);
        assert_eq!(request.outside_schema(), None);
    }

    #[test]
    fn doc_lines_join_into_paragraphs() {
        assert_eq!(
            doc_text(&[" One", " two.", "", " Three."]),
            "One two.\nThree."
        );
    }
}
