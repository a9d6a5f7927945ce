//! Lowercase hex without allocation: signatures are rendered into stack arrays.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Both hex digits of every byte, built at compile time: one lookup per byte.
const PAIRS: [[u8; 2]; 256] = {
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0x0f]];
        i += 1;
    }
    table
};

/// Writes the lowercase hex of `bytes` into `out`, which must be twice as long.
#[inline]
pub(crate) fn encode_into(bytes: &[u8], out: &mut [u8]) {
    debug_assert_eq!(out.len(), bytes.len() * 2);
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair.copy_from_slice(&PAIRS[usize::from(*byte)]);
    }
}

/// Decodes hex of either case into `out`; `None` unless `text` is exactly `2 * out.len()` hex digits.
pub(crate) fn decode_into(text: &[u8], out: &mut [u8]) -> Option<()> {
    if text.len() != out.len() * 2 {
        return None;
    }
    for (pair, byte) in text.chunks_exact(2).zip(out.iter_mut()) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(())
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let mut out = [0u8; 6];
        encode_into(&[0x00, 0xab, 0xff], &mut out);
        assert_eq!(&out, b"00abff");
        let mut back = [0u8; 3];
        decode_into(b"00ABff", &mut back).unwrap();
        assert_eq!(back, [0x00, 0xab, 0xff]);
        assert!(decode_into(b"00abf", &mut back).is_none());
        assert!(decode_into(b"00abfg", &mut back).is_none());
    }
}
