//! Whether a value serializes as JSON `null`, found without serializing it: a wire object
//! leaves such fields out, and used to render each field into a string of its own first to
//! look (two allocations a field, on every request).

use serde::ser::{self, Impossible, Serialize};

/// `true` when `value` serializes as `null` (`None`, `()`, a unit struct, or a newtype or
/// `Some` around one), as serde_json would write it. Raw JSON (`RawValue`) is not looked
/// into: it counts as present, whatever its text.
pub fn is_null<T: Serialize + ?Sized>(value: &T) -> bool {
    value.serialize(Probe).is_ok()
}

/// A serializer that succeeds only for null and stops at the first sign of anything else.
struct Probe;

/// The probe's answer for anything but null (an error, so that serialization stops there).
#[derive(Debug)]
struct NotNull;

impl std::fmt::Display for NotNull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not null")
    }
}

impl std::error::Error for NotNull {}

impl ser::Error for NotNull {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        NotNull
    }
}

/// The methods of values that are never null.
macro_rules! not_null {
    ($($method:ident($($arg:ty),*);)*) => {$(
        fn $method(self, $(_: $arg),*) -> Result<(), NotNull> {
            Err(NotNull)
        }
    )*};
}

impl ser::Serializer for Probe {
    type Ok = ();
    type Error = NotNull;
    type SerializeSeq = Impossible<(), NotNull>;
    type SerializeTuple = Impossible<(), NotNull>;
    type SerializeTupleStruct = Impossible<(), NotNull>;
    type SerializeTupleVariant = Impossible<(), NotNull>;
    type SerializeMap = Impossible<(), NotNull>;
    type SerializeStruct = Impossible<(), NotNull>;
    type SerializeStructVariant = Impossible<(), NotNull>;

    fn serialize_none(self) -> Result<(), NotNull> {
        Ok(())
    }

    fn serialize_unit(self) -> Result<(), NotNull> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), NotNull> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), NotNull> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), NotNull> {
        value.serialize(self)
    }

    not_null! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotNull> {
        Err(NotNull)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotNull> {
        Err(NotNull)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotNull> {
        Err(NotNull)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotNull> {
        Err(NotNull)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotNull> {
        Err(NotNull)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotNull> {
        Err(NotNull)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotNull> {
        Err(NotNull)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotNull> {
        Err(NotNull)
    }
}

#[cfg(test)]
mod tests {
    use super::is_null;

    #[derive(serde::Serialize)]
    struct Unit;

    #[derive(serde::Serialize)]
    struct Wrapper(Option<u8>);

    /// Exactly the values serde_json writes as `null`.
    #[test]
    fn agrees_with_serde_json() {
        fn check<T: serde::Serialize>(value: &T) {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(is_null(value), json == "null", "{json}");
        }
        check(&None::<String>);
        check(&Some("x"));
        check(&Some(None::<u8>));
        check(&());
        check(&Unit);
        check(&Wrapper(None));
        check(&Wrapper(Some(0)));
        check(&"");
        check(&0_u8);
        check(&Vec::<u8>::new());
        check(&std::collections::BTreeMap::<String, u8>::new());
        check(&"10.50".parse::<crate::values::Amount>().unwrap());
        check(&crate::models::StatusRequest::new(
            crate::values::Lookup::OrderId("O-1".parse().unwrap()),
        ));
        check(&serde_json::Value::Null);
        check(&serde_json::value::RawValue::from_string("1".into()).unwrap());
        // Raw JSON is not looked into (no wire field holds any): reported present.
        assert!(!is_null(
            &serde_json::value::RawValue::from_string("null".into()).unwrap()
        ));
    }
}
