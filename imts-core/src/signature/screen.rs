//! One pass over a JSON body, before the flat-object fast path takes it: it finds the bytes that
//! change how strings can be read — a backslash (an escape: the general path's job), control
//! characters (invalid inside strings) and bytes above ASCII (the body must then be valid UTF-8) —
//! and records where every quote is.
//!
//! With no backslash anywhere, every `"` starts or ends a string, so the scanner finds a string's
//! end by the next bit of the quote index. The pass compares 16 bytes at a time (SSE2 through
//! `wide`, portable elsewhere), with no branch per block.

use arrayvec::ArrayVec;
use wide::u8x16;

/// Most 64-byte blocks of the quote index: bodies of up to 16 KiB (longer ones take the general
/// path, as they did before there was an index: the limit only bounds the stack).
pub(super) const MAX_BLOCKS: usize = 256;

/// One bit per byte of a body, set where the byte is a quote; bit `i % 64` of word `i / 64`.
pub(super) type QuoteIndex = ArrayVec<u64, MAX_BLOCKS>;

/// What the screen found in a body without backslashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Screen {
    /// A byte below 0x20 (whitespace between tokens, or a string the fast path must refuse).
    pub(super) controls: bool,
    /// A byte above ASCII.
    pub(super) non_ascii: bool,
}

/// Screens `body` and fills `quotes` (which must be empty); `None` when the body holds a
/// backslash or is too long for the index.
pub(super) fn screen(body: &[u8], quotes: &mut QuoteIndex) -> Option<Screen> {
    let mut seen = Seen::default();
    let (blocks, tail) = body.as_chunks::<64>();
    for block in blocks {
        quotes.try_push(seen.block(block)).ok()?;
    }
    // The tail, padded with spaces: neither quotes nor anything the screen looks for.
    let mut last = [b' '; 64];
    last[..tail.len()].copy_from_slice(tail);
    quotes.try_push(seen.block(&last)).ok()?;
    (!seen.backslash.any()).then_some(Screen {
        controls: seen.controls.any(),
        non_ascii: seen.any.move_mask() != 0,
    })
}

/// Lanes where each kind of byte was seen, over the blocks so far.
#[derive(Default)]
struct Seen {
    backslash: u8x16,
    controls: u8x16,
    any: u8x16,
}

impl Seen {
    /// Takes in one 64-byte block and returns its quote bits.
    #[inline(always)]
    fn block(&mut self, block: &[u8; 64]) -> u64 {
        let (sixteens, _) = block.as_chunks::<16>();
        let mut quotes = 0u64;
        for (index, sixteen) in sixteens.iter().enumerate() {
            let bytes = u8x16::new(*sixteen);
            let hits = bytes.cmp_eq(u8x16::splat(b'"')).move_mask();
            // `move_mask` sets the low 16 bits only.
            quotes |= u64::from(hits as u16) << (16 * index);
            self.backslash |= bytes.cmp_eq(u8x16::splat(b'\\'));
            // At most 0x1f exactly where the minimum with 0x1f is the byte itself.
            let low = u8x16::splat(0x1f);
            self.controls |= bytes.min(low).cmp_eq(bytes);
            self.any |= bytes;
        }
        quotes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screened(body: &[u8]) -> (Option<Screen>, QuoteIndex) {
        let mut quotes = QuoteIndex::new();
        (screen(body, &mut quotes), quotes)
    }

    #[test]
    fn every_byte_in_every_position_of_every_length() {
        for len in [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 130] {
            for position in 0..len {
                for byte in 0..=255u8 {
                    let mut body = vec![b'a'; len];
                    body[position] = byte;
                    let expected = (byte != b'\\').then_some(Screen {
                        controls: byte < 0x20,
                        non_ascii: byte >= 0x80,
                    });
                    let (found, quotes) = screened(&body);
                    assert_eq!(found, expected, "byte {byte:#x} at {position} of {len}");
                    let bits: Vec<usize> = (0..quotes.len() * 64)
                        .filter(|i| quotes[i / 64] >> (i % 64) & 1 == 1)
                        .collect();
                    let want: Vec<usize> = (byte == b'"').then_some(position).into_iter().collect();
                    assert_eq!(bits, want, "quotes for {byte:#x} at {position} of {len}");
                }
            }
        }
        let nothing = Screen {
            controls: false,
            non_ascii: false,
        };
        assert_eq!(screened(b"").0, Some(nothing));
    }

    #[test]
    fn every_quote_is_indexed() {
        let body: Vec<u8> = (0..300)
            .map(|i| {
                if i % 7 == 0 || i % 11 == 3 {
                    b'"'
                } else {
                    b'x'
                }
            })
            .collect();
        let (_, quotes) = screened(&body);
        assert_eq!(quotes.len(), 300 / 64 + 1);
        for (i, byte) in body.iter().enumerate() {
            assert_eq!(
                quotes[i / 64] >> (i % 64) & 1 == 1,
                *byte == b'"',
                "byte {i}"
            );
        }
    }

    #[test]
    fn bodies_beyond_the_index_are_refused() {
        let mut quotes = QuoteIndex::new();
        assert!(screen(&vec![b'a'; MAX_BLOCKS * 64 - 1], &mut quotes).is_some());
        let mut quotes = QuoteIndex::new();
        assert!(screen(&vec![b'a'; MAX_BLOCKS * 64], &mut quotes).is_none());
    }
}
