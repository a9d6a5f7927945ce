//! The fast path of JSON signing: a flat object (no nested objects or arrays, no escapes) is
//! scanned once, its fields sorted on the stack and their values signed straight from the body.
//!
//! Anything else — nesting, escapes, more than [`MAX_FIELDS`] fields, a repeated key, and any
//! text this scanner does not accept — returns `None`, and the general path (`serde_json`) decides,
//! including the exact error. So this scanner only has to be right about what it accepts: it is
//! strict JSON for those, and property-tested and fuzzed against the general path.

use imts_crypto::SigningMessage;

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
    const EMPTY: Self = Self {
        prefix: 0,
        key: &[],
        signed: &[],
    };

    /// Whether this is the top-level `pg_sig`, which is never signed.
    fn is_signature(&self) -> bool {
        const PREFIX: u64 = {
            let name = SIGNATURE_FIELD.as_bytes();
            let mut first = [0u8; 8];
            let mut i = 0;
            while i < name.len() && i < 8 {
                first[i] = name[i];
                i += 1;
            }
            u64::from_be_bytes(first)
        };
        self.prefix == PREFIX && self.key == SIGNATURE_FIELD.as_bytes()
    }

    #[inline]
    fn new(key: &'a [u8], signed: &'a [u8]) -> Self {
        // Zero-padding keeps the byte-wise order: keys hold no control characters, so a key that
        // is a prefix of another sorts first, as it must.
        let mut first = [0u8; 8];
        let len = key.len().min(8);
        first[..len].copy_from_slice(&key[..len]);
        Self {
            prefix: u64::from_be_bytes(first),
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
/// rather than a return value, so the array is never copied).
pub(super) fn with_flat_fields<R>(
    body: &[u8],
    then: impl FnOnce(FlatFields<'_, '_>) -> R,
) -> Option<R> {
    // Strings are taken as they are, so the body must be UTF-8 (as the general path demands).
    std::str::from_utf8(body).ok()?;
    let mut scanner = Scanner { text: body, at: 0 };
    let mut fields = [Field::EMPTY; MAX_FIELDS];
    let mut len = 0;
    scanner.expect(b'{')?;
    scanner.skip_whitespace();
    if scanner.peek() == Some(b'}') {
        scanner.at += 1;
    } else {
        loop {
            let key = scanner.string()?;
            scanner.skip_whitespace();
            scanner.expect(b':')?;
            scanner.skip_whitespace();
            let signed = scanner.value()?;
            if let Some(signed) = signed {
                let field = Field::new(key, signed);
                if !field.is_signature() {
                    *fields.get_mut(len)? = field;
                    len += 1;
                }
            }
            scanner.skip_whitespace();
            match scanner.next()? {
                b',' => scanner.skip_whitespace(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    if scanner.at != body.len() {
        return None;
    }
    let fields = &mut fields[..len];
    fields.sort_unstable_by(|a, b| a.prefix.cmp(&b.prefix).then_with(|| a.key.cmp(b.key)));
    if fields
        .windows(2)
        .any(|pair| pair[0].prefix == pair[1].prefix && pair[0].key == pair[1].key)
    {
        return None;
    }
    Some(then(FlatFields(fields)))
}

/// Where the string starting at `text` ends: the first `"`, `\`, or control character. Eight bytes
/// at a time (the byte-by-byte loop was half of signing a JSON body).
fn string_length(text: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // High bit set in the lowest byte that is zero (bytes above it may be flagged wrongly, so
    // only the lowest flagged byte is used).
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let (words, rest) = text.as_chunks::<8>();
    for (index, word) in words.iter().enumerate() {
        let v = u64::from_le_bytes(*word);
        let found = zero_bytes(v ^ (ONES * u64::from(b'"')))
            | zero_bytes(v ^ (ONES * u64::from(b'\\')))
            | (v.wrapping_sub(ONES * 0x20) & !v & HIGHS);
        if found != 0 {
            return Some(index * 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    let position = rest
        .iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)?;
    Some(words.len() * 8 + position)
}

struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
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

    /// A string without escapes or control characters; its contents.
    #[inline]
    fn string(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.at;
        let length = string_length(&self.text[start..])?;
        self.at = start + length;
        self.expect(b'"')?;
        Some(&self.text[start..start + length])
    }

    /// A scalar value as it is signed (strings and numbers as written, booleans as `1`/`0`);
    /// `Some(None)` when it is not signed (`null`, `""`).
    #[inline]
    fn value(&mut self) -> Option<Option<&'a [u8]>> {
        match self.peek()? {
            b'"' => {
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

    #[test]
    fn string_length_finds_the_first_stop_byte_at_every_position() {
        for stop in [b'"', b'\\', 0x00, 0x1f] {
            for at in 0..40 {
                for filler in [b'a', 0x7f, 0xc3, 0x21, 0x20] {
                    let mut text = vec![filler; 40];
                    text[at] = stop;
                    if at + 3 < 40 {
                        text[at + 3] = b'"';
                    }
                    assert_eq!(string_length(&text), Some(at), "stop {stop:#x} at {at}");
                }
            }
        }
        assert_eq!(string_length(b"no end in sight"), None);
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
