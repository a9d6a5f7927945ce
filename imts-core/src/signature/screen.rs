//! One pass over a JSON body, before the flat-object fast path takes it, for the bytes that
//! change how its strings can be read: a backslash (an escape: the general path's job), control
//! characters (invalid inside strings) and bytes above ASCII (the body must then be valid UTF-8).
//!
//! With no backslash anywhere, every `"` starts or ends a string, so the scanner finds a string's
//! end by looking for quotes alone. The pass is word-wise, with no branch per word.

/// What the screen found in a body without backslashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Screen {
    /// A byte below 0x20 (whitespace between tokens, or a string the fast path must refuse).
    pub(super) controls: bool,
    /// A byte above ASCII.
    pub(super) non_ascii: bool,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = ONES * 0x80;
const BACKSLASHES: u64 = ONES * b'\\' as u64;
const SPACES: u64 = ONES * b' ' as u64;

/// Screens `body`; `None` when it holds a backslash.
pub(super) fn screen(body: &[u8]) -> Option<Screen> {
    let (words, tail) = body.as_chunks::<8>();
    let mut last = [b' '; 8];
    last[..tail.len()].copy_from_slice(tail);
    // Per word, a high bit is set in `below_space` if some byte is below 0x20, and in
    // `backslash` if some byte is a backslash: exact as yes/no answers for the word (bytes above
    // a hit may be flagged too, which does not matter here).
    let (mut below_space, mut backslash, mut any) = (0u64, 0u64, 0u64);
    let mut add = |word: u64| {
        below_space |= word.wrapping_sub(SPACES) & !word;
        let xored = word ^ BACKSLASHES;
        backslash |= xored.wrapping_sub(ONES) & !xored;
        any |= word;
    };
    for word in words {
        add(u64::from_le_bytes(*word));
    }
    add(u64::from_le_bytes(last));
    (backslash & HIGHS == 0).then_some(Screen {
        controls: below_space & HIGHS != 0,
        non_ascii: any & HIGHS != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_in_every_position_of_every_length() {
        for len in [1, 7, 8, 9, 16, 23, 64, 65] {
            for position in 0..len {
                for byte in 0..=255u8 {
                    let mut body = vec![b'a'; len];
                    body[position] = byte;
                    let expected = (byte != b'\\').then_some(Screen {
                        controls: byte < 0x20,
                        non_ascii: byte >= 0x80,
                    });
                    assert_eq!(
                        screen(&body),
                        expected,
                        "byte {byte:#x} at {position} of {len}"
                    );
                }
            }
        }
        let nothing = Screen {
            controls: false,
            non_ascii: false,
        };
        assert_eq!(screen(b""), Some(nothing));
    }

    #[test]
    fn a_hit_is_not_hidden_by_its_neighbours() {
        // A borrow out of a lower byte must neither mask a hit above it nor invent one.
        let body = [0x00, b'\\', 0xff, 0x1f, 0x20, 0x21, 0x5b, 0x5d];
        assert_eq!(screen(&body), None);
        let body = [0x00, b'\\' + 1, 0xff, 0x1f, 0x20, 0x21, 0x5b, 0x5d];
        let both = Screen {
            controls: true,
            non_ascii: true,
        };
        assert_eq!(screen(&body), Some(both));
        let body = [0x21, b'\\' - 1, 0x7f, 0x20, 0x20, 0x21, 0x5b, 0x5d];
        let neither = Screen {
            controls: false,
            non_ascii: false,
        };
        assert_eq!(screen(&body), Some(neither));
    }
}
