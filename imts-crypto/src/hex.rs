//! Hex through RustCrypto's `base16ct` (constant time, no allocation): signatures, MAC tags and
//! partner keys are rendered into and read from fixed-size arrays.

/// Writes the lowercase hex of `bytes` into `out`, which is exactly twice as long (callers pass
/// arrays sized for it; a mismatch writes nothing and leaves `out` as it was).
pub(crate) fn encode_into(bytes: &[u8], out: &mut [u8]) {
    if out.len() == bytes.len() * 2 {
        // Infallible here: `out` has exactly the room the encoding needs.
        let _ = base16ct::lower::encode(bytes, out);
    }
}

/// Decodes hex of either case into `out`; `None` unless `text` is exactly `2 * out.len()` hex
/// digits.
pub(crate) fn decode_into(text: &[u8], out: &mut [u8]) -> Option<()> {
    if text.len() != out.len() * 2 {
        return None;
    }
    base16ct::mixed::decode(text, out).ok().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_either_case_and_rejects() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut hex = vec![0u8; 512];
        encode_into(&bytes, &mut hex);
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected.as_bytes());
        let mut back = vec![0u8; 256];
        decode_into(&hex, &mut back).unwrap();
        assert_eq!(back, bytes);
        decode_into(expected.to_uppercase().as_bytes(), &mut back).unwrap();
        assert_eq!(back, bytes);
        let mut two = [0u8; 2];
        assert!(decode_into(b"abc", &mut two).is_none());
        assert!(decode_into(b"abcdef", &mut two).is_none());
        assert!(decode_into(b"zz00", &mut two).is_none());
        assert!(decode_into(b"0g00", &mut two).is_none());
    }
}
