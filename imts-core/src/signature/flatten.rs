//! A JSON object body into its sorted, checked leaves, in one pass over the text.
//!
//! The body is parsed once: each field's value is taken as its raw text (so numbers keep their
//! exact digits and strings without escapes are borrowed), scalars become leaves at once, and
//! nested objects and arrays go on a work list and are parsed in turn, their keys prefixed
//! (`parent.child`, `parent.0`). Leaves are then sorted by key and repeats found in one linear
//! pass, whatever the number of fields. Nesting is bounded by [`MAX_DEPTH`].

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{CanonicalError, MAX_DEPTH, SIGNATURE_FIELD, SIGNED_FALSE, SIGNED_TRUE};

/// A flattened parameter, borrowed from the body where no unescaping was needed.
pub(super) struct Leaf<'a> {
    /// The key's first 8 bytes as a big-endian number, zero-padded: most keys differ there, so
    /// sorting compares one number instead of calling `memcmp` (equal prefixes compare in full).
    order: u64,
    pub(super) key: Cow<'a, str>,
    pub(super) value: Cow<'a, str>,
}

impl<'a> Leaf<'a> {
    fn new(key: Cow<'a, str>, value: Cow<'a, str>) -> Self {
        let head = &key.as_bytes()[..key.len().min(8)];
        let word = head
            .iter()
            .fold(0u64, |word, &byte| (word << 8) | u64::from(byte));
        // Left-aligned: a key of n < 8 bytes is followed by 8 - n zero bytes (none for n = 0).
        let padding = u32::try_from(8 * (8 - head.len())).unwrap_or(0);
        let order = word.checked_shl(padding).unwrap_or(0);
        Self { order, key, value }
    }

    /// Byte-wise order of the keys. Zero padding keeps the prefix a faithful first step: where
    /// two padded prefixes differ, the keys differ at that byte, or the shorter one ended there.
    fn cmp_keys(&self, other: &Self) -> std::cmp::Ordering {
        self.order
            .cmp(&other.order)
            .then_with(|| self.key.as_bytes().cmp(other.key.as_bytes()))
    }
}

/// A nested object or array still to be flattened: its key, its raw text, its depth.
type Pending<'a> = (Cow<'a, str>, &'a RawValue, usize);

/// The sorted, checked leaves of a JSON object body (borrowed from it).
pub(super) fn sorted_leaves(body: &[u8]) -> Result<Vec<Leaf<'_>>, CanonicalError> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    if trimmed.first() != Some(&b'{') {
        return Err(CanonicalError::NotAnObject(describe_start(trimmed)));
    }
    let text = std::str::from_utf8(trimmed)
        .map_err(|e| CanonicalError::InvalidJson(format!("not UTF-8: {e}")))?;
    let mut out = Out {
        leaves: Vec::with_capacity(16),
        pending: Vec::new(),
        too_deep: false,
    };
    let mut result = flatten_level(text, None, 0, &mut out);
    while result.is_ok() {
        let Some((key, raw, depth)) = out.pending.pop() else {
            break;
        };
        result = flatten_level(raw.get(), Some(&key), depth, &mut out);
    }
    if let Err(error) = result {
        return Err(if out.too_deep {
            CanonicalError::TooDeep
        } else {
            CanonicalError::InvalidJson(error.to_string())
        });
    }
    let mut leaves = out.leaves;
    leaves.sort_unstable_by(Leaf::cmp_keys);
    if let Some(w) = leaves.windows(2).find(|w| w[0].key == w[1].key) {
        return Err(CanonicalError::DuplicateKey(w[0].key.to_string()));
    }
    Ok(leaves)
}

/// What flattening has found so far.
struct Out<'a> {
    leaves: Vec<Leaf<'a>>,
    pending: Vec<Pending<'a>>,
    /// Set when nesting went past [`MAX_DEPTH`] (the parse then stops with an error).
    too_deep: bool,
}

/// Parses one object or array (`text`, at `depth`, its keys under `prefix`): scalars become
/// leaves, nested values go to the work list.
fn flatten_level<'a>(
    text: &'a str,
    prefix: Option<&str>,
    depth: usize,
    out: &mut Out<'a>,
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    Level { prefix, depth, out }.deserialize(&mut de)?;
    de.end()
}

/// One object or array being read.
struct Level<'p, 'o, 'a> {
    prefix: Option<&'p str>,
    depth: usize,
    out: &'o mut Out<'a>,
}

impl<'a> Level<'_, '_, 'a> {
    /// Takes one field's value (its raw text) under `key`.
    fn take<E: de::Error>(&mut self, key: Cow<'a, str>, raw: &'a RawValue) -> Result<(), E> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            self.out.too_deep = true;
            return Err(E::custom("nested too deep"));
        }
        let text = raw.get();
        let value = match text.as_bytes().first() {
            Some(b'{' | b'[') => {
                self.out.pending.push((key, raw, depth));
                return Ok(());
            }
            Some(b'"') => {
                let inner = &text[1..text.len() - 1];
                if inner.contains('\\') {
                    Cow::Owned(serde_json::from_str::<String>(text).map_err(E::custom)?)
                } else {
                    Cow::Borrowed(inner)
                }
            }
            Some(b't') => Cow::Borrowed(SIGNED_TRUE),
            Some(b'f') => Cow::Borrowed(SIGNED_FALSE),
            Some(b'n') => return Ok(()),
            // A number: its exact written digits.
            _ => Cow::Borrowed(text),
        };
        if !value.is_empty() {
            self.out.leaves.push(Leaf::new(key, value));
        }
        Ok(())
    }

    fn key(&self, name: Cow<'a, str>) -> Cow<'a, str> {
        match self.prefix {
            Some(prefix) => Cow::Owned(format!("{prefix}.{name}")),
            None => name,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Level<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Level<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let top = self.prefix.is_none();
        while let Some(Key(name)) = map.next_key::<Key<'de>>()? {
            let raw: &'de RawValue = map.next_value()?;
            if top && name == SIGNATURE_FIELD {
                continue;
            }
            let key = self.key(name);
            self.take(key, raw)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            let key = self.key(Cow::Owned(index.to_string()));
            self.take(key, raw)?;
            index += 1;
        }
        Ok(())
    }
}

/// A key, borrowed from the input unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// What a body that is not an object starts as, for the error.
fn describe_start(text: &[u8]) -> String {
    match text.first() {
        Some(b'[') => "an array".into(),
        Some(b'"') => "a string".into(),
        Some(b't' | b'f') => "a boolean".into(),
        Some(b'n') => "null".into(),
        _ => "a number or invalid text".into(),
    }
}
