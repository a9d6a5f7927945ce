//! HMAC-SHA256 (RFC 2104) built on SHA-256's compression function alone.
//!
//! Why not the `hmac` crate's cloned state: a signature is a few hundred bytes, and at that size
//! the generic buffering around the compressions cost as much as the compressions themselves
//! (issue 8 measured 1.7x a bare HMAC). Here the key's two padded blocks are compressed once per
//! key; a message carries 32 bytes of chaining state and a 256-byte buffer that a typical signed
//! message fits whole, compressed in one call to `sha2`'s (SHA-NI when present) `compress256`.
//! Equality with the `hmac` crate is property-tested (`tests/properties.rs`).

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

const BLOCK: usize = 64;
/// Length of the tag, in bytes.
pub(crate) const TAG_LEN: usize = 32;

/// SHA-256's initial chaining value (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The key, as the chaining values after its inner (`0x36`) and outer (`0x5c`) padded blocks.
/// Both are as good as the key to an attacker, so they are wiped on drop.
#[derive(Clone)]
pub(crate) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    /// Prepares `key` (any length; longer than a block is hashed first, as RFC 2104 says).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..TAG_LEN].copy_from_slice(Sha256::digest(key).as_slice());
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut inner = SHA256_IV;
        let mut outer = SHA256_IV;
        let mut pad = [0u8; BLOCK];
        for (p, k) in pad.iter_mut().zip(&block) {
            *p = k ^ 0x36;
        }
        compress256(&mut inner, &[pad]);
        for (p, k) in pad.iter_mut().zip(&block) {
            *p = k ^ 0x5c;
        }
        compress256(&mut outer, &[pad]);
        block.zeroize();
        pad.zeroize();
        Self { inner, outer }
    }

    /// Starts a message.
    #[inline(always)]
    pub(crate) fn start(&self) -> HmacStream {
        let mut stream = HmacStream::zeroed();
        self.restart(&mut stream);
        stream
    }

    /// Starts a message in `stream`, which must be fresh from [`HmacStream::zeroed`]. Starting
    /// from an all-zero value lets the compiler build the ~300-byte stream where it lives: a stream
    /// built with the key's state in it was built aside and then copied (a `memcpy` call per
    /// signature).
    #[inline(always)]
    pub(crate) fn restart(&self, stream: &mut HmacStream) {
        stream.state = self.inner;
        // The inner padded key block is already in `state`.
        stream.compressed_blocks = 1;
    }
}

impl Drop for HmacKey {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

/// Bytes gathered before they are compressed: a typical signed message (with its padding) fits,
/// so all of its blocks go through one compression call. Compressing each 64-byte block as soon as
/// it fills made every call load a block just written by many small stores, which the CPU cannot
/// forward (measured: +30 ns per signature).
const BUFFERED: usize = 4 * BLOCK;

/// `to.copy_from_slice(from)`, with values of up to 64 bytes (a request's, UUIDs included) copied
/// inline as two overlapping halves rather than through a `memcpy` call.
#[inline(always)]
fn copy_short(from: &[u8], to: &mut [u8]) {
    let len = from.len();
    if len > 16 {
        match (from.first_chunk::<32>(), from.last_chunk::<32>()) {
            (Some(head), Some(tail)) if len <= 64 => {
                to[..32].copy_from_slice(head);
                to[len - 32..].copy_from_slice(tail);
            }
            _ => match (from.first_chunk::<16>(), from.last_chunk::<16>()) {
                (Some(head), Some(tail)) if len < 32 => {
                    to[..16].copy_from_slice(head);
                    to[len - 16..].copy_from_slice(tail);
                }
                _ => to.copy_from_slice(from),
            },
        }
        return;
    }
    match (from.first_chunk::<8>(), from.last_chunk::<8>()) {
        (Some(head), Some(tail)) => {
            to[..8].copy_from_slice(head);
            to[len - 8..].copy_from_slice(tail);
        }
        _ => match (from.first_chunk::<4>(), from.last_chunk::<4>()) {
            (Some(head), Some(tail)) => {
                to[..4].copy_from_slice(head);
                to[len - 4..].copy_from_slice(tail);
            }
            // One to three bytes (currency and country codes): first, middle and last.
            _ if len > 0 => {
                to[0] = from[0];
                to[len / 2] = from[len / 2];
                to[len - 1] = from[len - 1];
            }
            _ => {}
        },
    }
}

/// The tag's bytes: the big-endian bytes of SHA-256's final state words.
#[inline]
pub(crate) fn tag_bytes(words: &[u32; 8]) -> [u8; TAG_LEN] {
    let mut tag = [0u8; TAG_LEN];
    for (bytes, word) in tag.chunks_exact_mut(4).zip(words) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    tag
}

/// A message being authenticated: the chaining state and the bytes not yet compressed. For
/// `pg_sig` the tail of the message is the secret, appended with [`HmacStream::update_secret`]
/// and wiped on drop.
pub(crate) struct HmacStream {
    state: [u32; 8],
    buf: [u8; BUFFERED],
    filled: usize,
    compressed_blocks: u64,
    /// Where the secret lies in `buf`, wiped on drop...
    wipe_from: usize,
    wipe_to: usize,
    /// ...or the whole buffer, when the secret may have been moved or overwritten in part.
    wipe_whole: bool,
}

impl HmacStream {
    /// An all-zero stream, not yet keyed: see [`HmacKey::restart`].
    #[inline(always)]
    pub(crate) const fn zeroed() -> Self {
        Self {
            state: [0; 8],
            buf: [0u8; BUFFERED],
            filled: 0,
            compressed_blocks: 0,
            wipe_from: 0,
            wipe_to: 0,
            wipe_whole: false,
        }
    }

    /// Appends `bytes`.
    #[inline]
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let end = self.filled + bytes.len();
        if end <= BUFFERED {
            copy_short(bytes, &mut self.buf[self.filled..end]);
            self.filled = end;
        } else {
            self.update_past_buffer(bytes);
        }
    }

    /// Appends `bytes` and then `separator` (one bounds check for both: this is every value of a
    /// signed message).
    #[inline(always)]
    pub(crate) fn update_then(&mut self, bytes: &[u8], separator: u8) {
        let end = self.filled + bytes.len();
        if end < BUFFERED {
            copy_short(bytes, &mut self.buf[self.filled..end]);
            self.buf[end] = separator;
            self.filled = end + 1;
        } else {
            self.update_past_buffer(bytes);
            self.update(&[separator]);
        }
    }

    /// Appends `secret`, whose bytes are wiped from the buffer on drop (only those: the values
    /// before it are sent in clear, and wiping bytes one volatile write at a time is not free).
    #[inline]
    pub(crate) fn update_secret(&mut self, secret: &[u8]) {
        let compressed_before = self.compressed_blocks;
        self.wipe_from = self.filled;
        self.update(secret);
        self.wipe_to = self.filled;
        // A secret that spilled past the buffer left bytes wherever it was compressed from.
        self.wipe_whole |= self.compressed_blocks != compressed_before;
    }

    #[inline(never)]
    fn update_past_buffer(&mut self, bytes: &[u8]) {
        let (head, rest) = bytes.split_at(BUFFERED - self.filled);
        self.buf[self.filled..].copy_from_slice(head);
        let (whole, _) = self.buf.as_chunks::<BLOCK>();
        compress256(&mut self.state, whole);
        self.compressed_blocks += (BUFFERED / BLOCK) as u64;
        let (whole, tail) = rest.as_chunks::<BLOCK>();
        if !whole.is_empty() {
            compress256(&mut self.state, whole);
            self.compressed_blocks += whole.len() as u64;
        }
        self.buf[..tail.len()].copy_from_slice(tail);
        self.filled = tail.len();
    }

    /// The tag. `key` must be the key this stream was started from. Takes `&mut self` rather than
    /// `self` so the 300-byte stream is not moved (a `memmove` call) on the way; the stream must
    /// not be used afterwards, which its callers guarantee by dropping it right away.
    #[inline]
    pub(crate) fn finish(&mut self, key: &HmacKey) -> [u8; TAG_LEN] {
        tag_bytes(&self.finish_words(key))
    }

    /// The tag as SHA-256's eight state words (the tag is their big-endian bytes): hex can be
    /// rendered from the words directly, without a round trip through memory.
    #[inline]
    pub(crate) fn finish_words(&mut self, key: &HmacKey) -> [u32; 8] {
        let bits = (self.compressed_blocks * BLOCK as u64 + self.filled as u64) * 8;
        // Nothing compressed from the buffer yet: past `filled` it still holds its initial zeros.
        let mut zeros_past_filled = self.compressed_blocks == 1;
        // The padding (0x80, zeros, the 8-byte length) must fit in the buffer.
        if self.filled + 9 > BUFFERED {
            let whole_blocks = self.filled / BLOCK;
            let (whole, _) = self.buf[..whole_blocks * BLOCK].as_chunks::<BLOCK>();
            compress256(&mut self.state, whole);
            self.buf.copy_within(whole_blocks * BLOCK..self.filled, 0);
            self.filled -= whole_blocks * BLOCK;
            zeros_past_filled = false;
            // The secret's tail now lies both here and where it was.
            self.wipe_whole |= self.wipe_from < self.wipe_to;
        }
        let end = (self.filled + 9).div_ceil(BLOCK) * BLOCK;
        self.buf[self.filled] = 0x80;
        if !zeros_past_filled {
            self.buf[self.filled + 1..end - 8].fill(0);
        }
        self.buf[end - 8..end].copy_from_slice(&bits.to_be_bytes());
        self.filled = end;
        let (blocks, _) = self.buf[..end].as_chunks::<BLOCK>();
        compress256(&mut self.state, blocks);

        // The outer hash: the inner digest, padded, after the outer key block.
        let mut outer_block = [0u8; BLOCK];
        for (bytes, word) in outer_block.chunks_exact_mut(4).zip(&self.state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        outer_block[TAG_LEN] = 0x80;
        outer_block[BLOCK - 8..].copy_from_slice(&(((BLOCK + TAG_LEN) * 8) as u64).to_be_bytes());
        let mut outer = key.outer;
        compress256(&mut outer, &[outer_block]);
        outer
    }
}

impl Drop for HmacStream {
    fn drop(&mut self) {
        if self.wipe_whole {
            self.buf.zeroize();
        } else if self.wipe_from < self.wipe_to {
            self.buf[self.wipe_from..self.wipe_to].zeroize();
        }
        self.state.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};

    impl HmacKey {
        fn tag(&self, message: &[u8]) -> [u8; TAG_LEN] {
            let mut stream = self.start();
            stream.update(message);
            stream.finish(self)
        }
    }

    fn reference(key: &[u8], message: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn rfc_4231_case_2() {
        let tag = HmacKey::new(b"Jefe").tag(b"what do ya want for nothing?");
        let mut hex = [0u8; 64];
        crate::hex::encode_into(&tag, &mut hex);
        assert_eq!(
            &hex,
            b"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn every_length_around_the_block_edges_matches_the_hmac_crate() {
        let data: Vec<u8> = (0..300u16).map(|i| (i * 7 + 3) as u8).collect();
        for key_len in [0, 1, 16, 63, 64, 65, 200] {
            let key = &data[..key_len];
            let prepared = HmacKey::new(key);
            for len in 0..=200 {
                assert_eq!(
                    prepared.tag(&data[..len]),
                    reference(key, &data[..len]),
                    "key {key_len} B, message {len} B"
                );
            }
        }
    }

    #[test]
    fn short_copies_copy_exactly_every_length() {
        let from: Vec<u8> = (1..=100).collect();
        for len in 0..=100 {
            let mut to = [0u8; 108];
            copy_short(&from[..len], &mut to[..len]);
            assert_eq!(&to[..len], &from[..len], "length {len}");
            assert!(to[len..].iter().all(|&b| b == 0), "length {len}");
        }
    }

    #[test]
    fn values_and_separators_in_one_update_match_the_hmac_crate() {
        let key = HmacKey::new(b"k");
        let values: Vec<Vec<u8>> = (0..=70u8).map(|n| (0..n).collect()).collect();
        let mut stream = key.start();
        let mut joined = Vec::new();
        for value in values.iter().chain(values.iter().rev()) {
            stream.update_then(value, b';');
            joined.extend_from_slice(value);
            joined.push(b';');
        }
        assert_eq!(stream.finish(&key), reference(b"k", &joined));
    }

    #[test]
    fn pieces_give_the_whole_message_tag() {
        let data: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        let key = HmacKey::new(b"k");
        for piece in [1, 3, 17, 63, 64, 65, 130] {
            let mut stream = key.start();
            for chunk in data.chunks(piece) {
                stream.update(chunk);
            }
            assert_eq!(
                stream.finish(&key),
                reference(b"k", &data),
                "pieces of {piece}"
            );
        }
    }
}
