//! The fast path of JSON signing: a flat object (no nested objects or arrays, no escapes) is
//! scanned once, its fields sorted on the stack and their values signed straight from the body.
//!
//! Anything else — nesting, escapes, more than [`MAX_FIELDS`] fields, a repeated key, and any
//! text this scanner does not accept — returns `None`, and the general path (`serde_json`) decides,
//! including the exact error. So this scanner only has to be right about what it accepts: it is
//! strict JSON for those, and property-tested and fuzzed against the general path.

use imts_crypto::SigningMessage;

use super::SIGNATURE_FIELD;

/// Most fields the fast path sorts on the stack; requests have about a dozen.
pub(super) const MAX_FIELDS: usize = 32;

/// One field's value as it is signed.
#[derive(Clone, Copy)]
enum Value<'a> {
    /// A string's or a number's exact text.
    Text(&'a [u8]),
    /// A boolean, signed as `1` or `0`.
    Bool(bool),
}

/// The signed fields of a flat object, in key order.
pub(super) struct FlatFields<'a> {
    fields: [(&'a [u8], Value<'a>); MAX_FIELDS],
    len: usize,
}

impl<'a> FlatFields<'a> {
    /// Scans `body` (already trimmed, starting with `{`), or `None` for the general path.
    pub(super) fn scan(body: &'a [u8]) -> Option<Self> {
        // Strings are taken as they are, so the body must be UTF-8 (as the general path demands).
        std::str::from_utf8(body).ok()?;
        let mut scanner = Scanner { text: body, at: 0 };
        let mut flat = Self {
            fields: [(&[][..], Value::Bool(false)); MAX_FIELDS],
            len: 0,
        };
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
                let value = scanner.value()?;
                if key != SIGNATURE_FIELD.as_bytes() {
                    if let Some(value) = value {
                        *flat.fields.get_mut(flat.len)? = (key, value);
                        flat.len += 1;
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
        let fields = &mut flat.fields[..flat.len];
        fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
        if fields.windows(2).any(|pair| pair[0].0 == pair[1].0) {
            return None;
        }
        Some(flat)
    }

    /// Pushes the values in key order.
    pub(super) fn push_into(&self, message: &mut SigningMessage<'_>) {
        for (_, value) in &self.fields[..self.len] {
            match value {
                Value::Text(text) => message.push(text),
                Value::Bool(true) => message.push(b"1"),
                Value::Bool(false) => message.push(b"0"),
            }
        }
    }
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
    fn string(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.at;
        let length = self.text[start..]
            .iter()
            .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)?;
        self.at = start + length;
        self.expect(b'"')?;
        Some(&self.text[start..start + length])
    }

    /// A scalar value; `Some(None)` when it is not signed (`null`, `""`).
    fn value(&mut self) -> Option<Option<Value<'a>>> {
        match self.peek()? {
            b'"' => {
                let text = self.string()?;
                Some((!text.is_empty()).then_some(Value::Text(text)))
            }
            b't' => self.literal(b"true").map(|()| Some(Value::Bool(true))),
            b'f' => self.literal(b"false").map(|()| Some(Value::Bool(false))),
            b'n' => self.literal(b"null").map(|()| None),
            b'-' | b'0'..=b'9' => self.number().map(|text| Some(Value::Text(text))),
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
    fn flat_objects_take_the_fast_path_and_the_rest_does_not() {
        for body in [
            &br#"{}"#[..],
            br#"{"a":"x","b":1.50,"c":true,"d":null,"pg_sig":"f00"}"#,
            b"{ \"a\" :\t-0.5e+3 }",
        ] {
            assert!(FlatFields::scan(body).is_some(), "{body:?}");
        }
        for body in [
            &br#"{"a":{"b":1}}"#[..],
            br#"{"a":[1]}"#,
            br#"{"a":"\n"}"#,
            br#"{"a":1,"a":2}"#,
            br#"{"a":01}"#,
            br#"{"a":1} x"#,
        ] {
            assert!(FlatFields::scan(body).is_none(), "{body:?}");
        }
    }
}
