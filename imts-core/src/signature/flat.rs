//! The fast path of JSON signing: a flat object (no nested objects or arrays, no escapes) is
//! scanned once, its fields sorted on the stack and their values signed straight from the body.
//! A [screen](super::screen) first rules out backslashes and indexes the quotes, so a string ends
//! at the next quote of the index.
//!
//! Anything else — nesting, escapes, more than [`MAX_FIELDS`] fields, a repeated key, and any
//! text this scanner does not accept — returns `None`, and the general path (`serde_json`) decides,
//! including the exact error. So this scanner only has to be right about what it accepts: it is
//! strict JSON for those, and property-tested and fuzzed against the general path.

use imts_crypto::SigningMessage;

use super::screen::{screen, QuoteIndex};
use super::{SIGNATURE_FIELD, SIGNED_FALSE, SIGNED_TRUE};

/// Most fields the fast path sorts on the stack; requests have about a dozen.
pub(super) const MAX_FIELDS: usize = 32;

/// One field: its key, the key's first 8 bytes as a big-endian number (most keys differ there, so
/// sorting compares integers rather than calling `memcmp`), and the text its value is signed as.
#[derive(Clone, Copy)]
struct Field<'a> {
    prefix: u64,
    key: &'a [u8],
    signed: &'a [u8],
}

impl<'a> Field<'a> {
    /// Whether this is the top-level `pg_sig`, which is never signed.
    fn is_signature(&self) -> bool {
        const PREFIX: u64 = padded_prefix(SIGNATURE_FIELD.as_bytes());
        self.prefix == PREFIX && self.key == SIGNATURE_FIELD.as_bytes()
    }

    /// A field whose key starts with the 8 bytes `prefix` (see [`Scanner::key`]).
    #[inline(always)]
    fn new(prefix: u64, key: &'a [u8], signed: &'a [u8]) -> Self {
        Self {
            prefix,
            key,
            signed,
        }
    }
}

/// The signed values of a flat object, in key order.
pub(super) struct FlatFields<'f, 'a>(&'f [Field<'a>]);

impl FlatFields<'_, '_> {
    /// Pushes the values in key order.
    pub(super) fn push_into(&self, message: &mut SigningMessage<'_>) {
        for field in self.0 {
            message.push(field.signed);
        }
    }
}

/// Scans `body` (already trimmed, starting with `{`) and hands its sorted fields to `then`, or
/// returns `None` for the general path. The fields stay in this function's frame (a closure
/// rather than a return value, so the array is never copied), in an `ArrayVec`, which unlike an
/// array is not initialized up front.
pub(super) fn with_flat_fields<R>(
    body: &[u8],
    then: impl FnOnce(FlatFields<'_, '_>) -> R,
) -> Option<R> {
    let mut quotes = QuoteIndex::new();
    let screen = screen(body, &mut quotes)?;
    // Strings are taken as they are, so the body must be UTF-8 (as the general path demands).
    if screen.non_ascii {
        std::str::from_utf8(body).ok()?;
    }
    let mut fields = arrayvec::ArrayVec::<Field<'_>, MAX_FIELDS>::new();
    if screen.controls {
        scan::<true>(body, &quotes, &mut fields)?;
    } else {
        scan::<false>(body, &quotes, &mut fields)?;
    }
    Some(then(FlatFields(&fields)))
}

/// Scans the fields of `body` into `fields`, each put in its place by key as it is read (the
/// insertion overlaps the scan of the next field); `None` for the general path. `CONTROLS` says
/// whether the body has control characters at all (then each string is checked for them);
/// compiled twice so that the common case carries no check.
#[inline(never)]
fn scan<'a, const CONTROLS: bool>(
    body: &'a [u8],
    quotes: &[u64],
    fields: &mut arrayvec::ArrayVec<Field<'a>, MAX_FIELDS>,
) -> Option<()> {
    let mut scanner = Scanner::<CONTROLS> {
        text: body,
        at: 0,
        quotes,
    };
    scanner.expect(b'{')?;
    scanner.skip_whitespace();
    if scanner.peek() == Some(b'}') {
        scanner.at += 1;
    } else {
        scanner.expect(b'"')?;
        loop {
            let (key, prefix) = scanner.key()?;
            // Compact JSON: `:` and the value come next; anything else takes the general steps.
            let first = match body.get(scanner.at..scanner.at + 2) {
                Some(&[b':', first]) if first > b' ' => {
                    scanner.at += 1;
                    first
                }
                _ => {
                    scanner.punctuation(b':')?;
                    scanner.peek()?
                }
            };
            let signed = scanner.value(first)?;
            if let Some(signed) = signed {
                let field = Field::new(prefix, key, signed);
                if !field.is_signature() {
                    insert_sorted(fields, field)?;
                }
            }
            // Compact JSON: `,` and the next key's quote.
            if let Some(&[b',', b'"']) = body.get(scanner.at..scanner.at + 2) {
                scanner.at += 2;
                continue;
            }
            match scanner.after_value()? {
                b',' => scanner.expect(b'"')?,
                b'}' => break,
                _ => return None,
            }
        }
    }
    (scanner.at == body.len()).then_some(())
}

/// Adds `field` to `fields` (sorted by key) in its place: an insertion sort, one field at a
/// time, comparing prefixes, and further bytes only for keys that share one. `None` if the key
/// is there already (the general path reports the repeat) or there is no room.
#[inline(always)]
fn insert_sorted<'a>(
    fields: &mut arrayvec::ArrayVec<Field<'a>, MAX_FIELDS>,
    field: Field<'a>,
) -> Option<()> {
    fields.try_push(field).ok()?;
    let fields = fields.as_mut_slice();
    let mut at = fields.len() - 1;
    while at > 0 {
        let before = &fields[at - 1];
        if before.prefix < field.prefix {
            break;
        }
        if before.prefix == field.prefix {
            match past_prefix(before.key, field.key) {
                std::cmp::Ordering::Less => break,
                std::cmp::Ordering::Equal => return None,
                std::cmp::Ordering::Greater => {}
            }
        }
        fields[at] = fields[at - 1];
        at -= 1;
    }
    fields[at] = field;
    Some(())
}

/// The byte-wise order of two keys whose first 8 bytes are equal, by their next 8 bytes as
/// numbers before any `memcmp` (which, called through the C library for the likes of
/// `currency_source` and `currency_target`, cost more than the rest of the sort).
#[inline(never)]
fn past_prefix(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    second_word(a).cmp(&second_word(b)).then_with(|| a.cmp(b))
}

/// A key's bytes 8 to 16 as a big-endian number, zero-padded like the prefix.
#[inline(always)]
fn second_word(key: &[u8]) -> u64 {
    match (
        key.get(8..).and_then(<[u8]>::first_chunk::<8>),
        key.last_chunk::<8>(),
    ) {
        (Some(second), _) => u64::from_be_bytes(*second),
        // 9 to 15 bytes: the last 8, shifted so that byte 8 comes first.
        (None, Some(last)) if key.len() > 8 => u64::from_be_bytes(*last) << (8 * (16 - key.len())),
        _ => 0,
    }
}

/// The first 8 bytes of `key` as a big-endian number, zero-padded: a field's sort prefix, byte by
/// byte (for constants, and for keys too near the body's end for one 8-byte load).
const fn padded_prefix(key: &[u8]) -> u64 {
    let mut first = [0u8; 8];
    let mut i = 0;
    while i < key.len() && i < 8 {
        first[i] = key[i];
        i += 1;
    }
    u64::from_be_bytes(first)
}

/// `KEEP[n]`: ones over the first `n` bytes of a big-endian `u64`.
const KEEP: [u64; 9] = {
    let mut keep = [u64::MAX; 9];
    let mut n = 0;
    while n < 8 {
        keep[n] = !(u64::MAX >> (n * 8));
        n += 1;
    }
    keep
};

/// A position in a screened body and its quote index.
struct Scanner<'a, 'q, const CONTROLS: bool> {
    text: &'a [u8],
    at: usize,
    quotes: &'q [u64],
}

impl<'a, const CONTROLS: bool> Scanner<'a, '_, CONTROLS> {
    /// The offset of the first quote at or after `from`, from the index.
    #[inline(always)]
    fn quote_from(&self, from: usize) -> Option<usize> {
        let mut word = from / 64;
        let bits = self.quotes.get(word)? >> (from % 64);
        if bits != 0 {
            return Some(from + bits.trailing_zeros() as usize);
        }
        loop {
            word += 1;
            let bits = *self.quotes.get(word)?;
            if bits != 0 {
                return Some(word * 64 + bits.trailing_zeros() as usize);
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// `byte` with any whitespace around it. Whitespace is checked for only where a byte at or
    /// below space shows up: compact JSON, the common case, has none.
    #[inline(always)]
    fn punctuation(&mut self, byte: u8) -> Option<()> {
        if self.peek()? > b' ' {
            self.expect(byte)?;
        } else {
            self.skip_whitespace();
            self.expect(byte)?;
        }
        if self.peek()? <= b' ' {
            self.skip_whitespace();
        }
        Some(())
    }

    /// The byte after a value (`,` or `}` in valid JSON) with the whitespace around it.
    #[inline(always)]
    fn after_value(&mut self) -> Option<u8> {
        let mut byte = self.next()?;
        if byte <= b' ' {
            self.at -= 1;
            self.skip_whitespace();
            byte = self.next()?;
        }
        if byte == b',' && self.peek()? <= b' ' {
            self.skip_whitespace();
        }
        Some(byte)
    }

    /// A key, from after its opening quote: its contents (as for [`string`](Self::string)) and
    /// its first 8 bytes as a big-endian number, zero-padded. Zero-padding keeps the byte-wise
    /// order, since keys hold no control characters: a key that is a prefix of another sorts
    /// first, as it must. One 8-byte load, masked to the key's length (copying a key's few bytes
    /// called `memcpy`).
    #[inline(always)]
    fn key(&mut self) -> Option<(&'a [u8], u64)> {
        let start = self.at;
        let contents = self.string()?;
        let prefix = match self.text.get(start..).and_then(<[u8]>::first_chunk::<8>) {
            Some(first) => u64::from_be_bytes(*first) & KEEP[contents.len().min(8)],
            None => padded_prefix(contents),
        };
        Some((contents, prefix))
    }

    /// A string without escapes or control characters, from after its opening quote; its
    /// contents. With no backslash in the body, its end is the next quote of the index.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        let end = self.quote_from(start)?;
        let contents = self.text.get(start..end)?;
        if CONTROLS && contents.iter().any(|&byte| byte < 0x20) {
            return None;
        }
        self.at = end + 1;
        Some(contents)
    }

    /// A scalar value as it is signed (strings and numbers as written, booleans as `1`/`0`);
    /// `Some(None)` when it is not signed (`null`, `""`). `first` is the byte at `at`.
    #[inline(always)]
    fn value(&mut self, first: u8) -> Option<Option<&'a [u8]>> {
        match first {
            b'"' => {
                self.at += 1;
                let text = self.string()?;
                Some((!text.is_empty()).then_some(text))
            }
            b't' => self.literal(b"true").map(|()| Some(SIGNED_TRUE.as_bytes())),
            b'f' => self
                .literal(b"false")
                .map(|()| Some(SIGNED_FALSE.as_bytes())),
            b'n' => self.literal(b"null").map(|()| None),
            b'-' | b'0'..=b'9' => self.number().map(Some),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.text.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A number in strict JSON grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            (self.digits() > 0).then_some(())?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            (self.digits() > 0).then_some(())?;
        }
        Some(&self.text[start..self.at])
    }

    /// Skips digits and says how many there were.
    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Keys that share their first 8 bytes are ordered as byte strings are.
        #[test]
        fn keys_past_a_shared_prefix_order_as_bytes(
            prefix in "[ -~]{8}",
            a in "[ -~]{0,12}",
            b in "[ -~]{0,12}",
        ) {
            let (a, b) = (format!("{prefix}{a}"), format!("{prefix}{b}"));
            prop_assert_eq!(past_prefix(a.as_bytes(), b.as_bytes()), a.as_bytes().cmp(b.as_bytes()));
        }

        /// The fast path must not quietly hand its work to the general path: every flat object
        /// without escapes, as a serializer writes it (compact or pretty), is taken, and its
        /// values come out as the general path signs them.
        #[test]
        fn flat_objects_without_escapes_take_the_fast_path(
            fields in proptest::collection::btree_map(
                "[a-z_]{1,24}",
                prop_oneof![
                    "[^\"\\\\\\p{C}]{0,70}".prop_map(serde_json::Value::from),
                    any::<i64>().prop_map(serde_json::Value::from),
                    any::<bool>().prop_map(serde_json::Value::from),
                    Just(serde_json::Value::Null),
                ],
                0..MAX_FIELDS,
            ),
            pretty in any::<bool>(),
        ) {
            let object = serde_json::Value::Object(fields.into_iter().collect());
            let body = if pretty {
                serde_json::to_vec_pretty(&object).unwrap()
            } else {
                serde_json::to_vec(&object).unwrap()
            };
            let fast = with_flat_fields(&body, |fields| {
                fields.0.iter().map(|f| f.signed.to_vec()).collect::<Vec<_>>()
            });
            let general: Vec<Vec<u8>> = super::super::sorted_leaves(&body)
                .unwrap()
                .into_iter()
                .map(|(_, v)| v.as_bytes().to_vec())
                .collect();
            prop_assert_eq!(fast, Some(general), "{}", String::from_utf8_lossy(&body));
        }
    }

    #[test]
    fn the_next_quote_is_found_from_every_offset_across_blocks() {
        let quotes_at = [0usize, 5, 63, 64, 100, 191, 192, 200];
        let mut body = vec![b'x'; 210];
        for &at in &quotes_at {
            body[at] = b'"';
        }
        let mut quotes = QuoteIndex::new();
        screen(&body, &mut quotes).unwrap();
        let scanner = Scanner::<false> {
            text: &body,
            at: 0,
            quotes: &quotes,
        };
        for from in 0..body.len() {
            let expected = quotes_at.iter().copied().find(|&at| at >= from);
            assert_eq!(scanner.quote_from(from), expected, "from {from}");
        }
        assert_eq!(scanner.quote_from(body.len()), None);
        assert_eq!(scanner.quote_from(10_000), None);
    }

    #[test]
    fn whitespace_around_any_token_stays_on_the_fast_path() {
        let values = |body: &[u8]| {
            with_flat_fields(body, |fields| {
                fields
                    .0
                    .iter()
                    .map(|f| f.signed.to_vec())
                    .collect::<Vec<_>>()
            })
        };
        let compact = values(br#"{"a":"x","b":1,"c":true}"#).unwrap();
        for ws in [" ", "\t", "\n", "\r", " \r\n\t "] {
            for at in 0..9 {
                let gap = |n: usize| if n == at { ws } else { "" };
                let body = format!(
                    "{{{}\"a\"{}:{}\"x\"{},{}\"b\"{}:{}1{},\"c\":true{}}}",
                    gap(0),
                    gap(1),
                    gap(2),
                    gap(3),
                    gap(4),
                    gap(5),
                    gap(6),
                    gap(7),
                    gap(8)
                );
                assert_eq!(values(body.as_bytes()).as_ref(), Some(&compact), "{body:?}");
            }
        }
    }

    #[test]
    fn flat_objects_take_the_fast_path_and_the_rest_does_not() {
        for body in [
            &br#"{}"#[..],
            br#"{"a":"x","b":1.50,"c":true,"d":null,"pg_sig":"f00"}"#,
            b"{ \"a\" :\t-0.5e+3 }",
        ] {
            assert!(with_flat_fields(body, |_| ()).is_some(), "{body:?}");
        }
        for body in [
            &br#"{"a":{"b":1}}"#[..],
            br#"{"a":[1]}"#,
            br#"{"a":"\n"}"#,
            br#"{"a":1,"a":2}"#,
            br#"{"a":01}"#,
            br#"{"a":1} x"#,
        ] {
            assert!(with_flat_fields(body, |_| ()).is_none(), "{body:?}");
        }
    }
}
