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
    let (words, rest) = bytes.as_chunks::<4>();
    let (word_out, rest_out) = out.split_at_mut(words.len() * 8);
    for (word, hex) in words.iter().zip(word_out.as_chunks_mut::<8>().0) {
        *hex = hex_of_word(u32::from_be_bytes(*word));
    }
    for (byte, pair) in rest.iter().zip(rest_out.chunks_exact_mut(2)) {
        pair.copy_from_slice(&PAIRS[usize::from(*byte)]);
    }
}

/// Writes the lowercase hex of the big-endian bytes of `words` (a SHA-256 digest's state words).
#[inline]
pub(crate) fn encode_words_into(words: &[u32; 8], out: &mut [u8; 64]) {
    for (word, hex) in words.iter().zip(out.as_chunks_mut::<8>().0) {
        *hex = hex_of_word(*word);
    }
}

/// The 8 hex digits of 4 bytes, computed in one 64-bit register (a signature is 8 of these).
/// Spread straight into little-endian byte order, so the digits need no byte swap at the end,
/// and adjusted for letters with shifts rather than a multiplication (neither has a cheap
/// equivalent when the compiler vectorizes this with baseline SSE2).
#[inline]
fn hex_of_word(word: u32) -> [u8; 8] {
    // Byte k of the big-endian word goes to bytes 2k (its high nibble) and 2k + 1 (its low one).
    let mut n = u64::from(word.swap_bytes());
    n = (n | (n << 16)) & 0x0000_ffff_0000_ffff;
    n = (n | (n << 8)) & 0x00ff_00ff_00ff_00ff;
    n = ((n >> 4) & 0x000f_000f_000f_000f) | ((n & 0x000f_000f_000f_000f) << 8);
    // Each byte is now 0..=15; its high bit is set by adding 0x76 where it is 10 or above, and
    // there 'a' - '0' - 10 = 0x27 = 0x20 + 0x08 - 0x01 more is added.
    let letters = (n + 0x7676_7676_7676_7676) & 0x8080_8080_8080_8080;
    (n + 0x3030_3030_3030_3030 + (letters >> 2) + (letters >> 4) - (letters >> 7)).to_le_bytes()
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
    fn every_byte_in_every_position_matches_the_table() {
        for byte in 0..=255u8 {
            for position in 0..5 {
                let mut bytes = [0x5au8; 5];
                bytes[position] = byte;
                let mut out = [0u8; 10];
                encode_into(&bytes, &mut out);
                let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(std::str::from_utf8(&out).unwrap(), expected);
            }
        }
    }

    #[test]
    fn words_render_as_their_big_endian_bytes() {
        let words = [
            0x0123_4567,
            0x89ab_cdef,
            0,
            u32::MAX,
            0xdead_beef,
            0x0a0b_0c0d,
            0x1000_0001,
            0xf0e1_d2c3,
        ];
        let mut bytes = [0u8; 32];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(&words) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        let (mut from_words, mut from_bytes) = ([0u8; 64], [0u8; 64]);
        encode_words_into(&words, &mut from_words);
        encode_into(&bytes, &mut from_bytes);
        assert_eq!(from_words, from_bytes);
        assert!(from_words.starts_with(b"0123456789abcdef00000000ffffffff"));
    }

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
