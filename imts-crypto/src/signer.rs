//! `pg_sig`: HMAC-SHA256 keyed by the agent secret over `v1;v2;...;vn;secret`, lowercase hex.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::AgentSecret;

/// HMAC-SHA256 from RustCrypto's `hmac` and `sha2` crates; with their `zeroize` features its
/// key-derived state and buffered message bytes are wiped on drop.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 keyed by `key`. HMAC takes keys of any length (longer ones are hashed first), so
/// keying cannot fail; the `expect` states that invariant of the `hmac` crate.
pub(crate) fn keyed_hmac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC accepts a key of any length")
}

/// HMAC-SHA256's tag length in bytes; `pg_sig` is its lowercase hex.
pub(crate) const TAG_LEN: usize = 32;

/// What stands for the agent secret wherever a signed message is shown to a person.
pub const SECRET_MASK: &str = "***";

/// Signs and verifies `pg_sig` for one agent secret.
///
/// The HMAC is keyed once here (its inner and outer padded key blocks compressed); each message
/// starts from a clone of that keyed state, so a signature costs the compressions of its message
/// and one more, and allocates nothing.
#[derive(Clone)]
pub struct Signer {
    secret: AgentSecret,
    keyed: HmacSha256,
}

impl Signer {
    /// A signer for `secret`.
    #[must_use]
    pub fn new(secret: AgentSecret) -> Self {
        let keyed = keyed_hmac(secret.expose_secret());
        Self { secret, keyed }
    }

    /// The secret this signer uses.
    #[must_use]
    pub fn secret(&self) -> &AgentSecret {
        &self.secret
    }

    /// Starts a message; push the values in canonical order, then [`SigningMessage::finish`].
    #[must_use]
    #[inline(always)]
    pub fn message(&self) -> SigningMessage<'_> {
        SigningMessage {
            mac: self.keyed.clone(),
            pending: [0; PENDING],
            pending_len: 0,
            signer: self,
        }
    }

    /// Signs the values `push` appends (in canonical order) to the message it is lent.
    ///
    /// ```
    /// use imts_crypto::{AgentSecret, Signer};
    ///
    /// let signer = Signer::new(AgentSecret::new("s3cr3t").unwrap());
    /// let signature = signer.sign_with(|message| {
    ///     message.push(b"1000.00");
    ///     message.push(b"KZT");
    /// });
    /// assert_eq!(signature, signer.sign(["1000.00", "KZT"]));
    /// ```
    #[inline(always)]
    pub fn sign_with(&self, push: impl FnOnce(&mut SigningMessage<'_>)) -> PgSig {
        let mut message = self.message();
        push(&mut message);
        message.finish()
    }

    /// Like [`sign_with`](Self::sign_with) for a `push` that may decline (returning `false`,
    /// having pushed nothing): then there is no signature.
    #[inline(always)]
    pub fn try_sign_with(
        &self,
        push: impl FnOnce(&mut SigningMessage<'_>) -> bool,
    ) -> Option<PgSig> {
        let mut message = self.message();
        // Not `bool::then`: its closure would take the ~300-byte message by a copy.
        if push(&mut message) {
            Some(message.finish())
        } else {
            None
        }
    }

    /// Checks `signature` (hex, either case) against the values `push` appends, in constant
    /// time.
    #[inline(always)]
    pub fn verify_with(&self, push: impl FnOnce(&mut SigningMessage<'_>), signature: &str) -> bool {
        let mut message = self.message();
        push(&mut message);
        message.verify(signature)
    }

    /// Signs values that are already in canonical order.
    pub fn sign<I>(&self, values: I) -> PgSig
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.sign_with(|message| {
            for value in values {
                message.push(value.as_ref());
            }
        })
    }

    /// Checks `signature` (hex, either case) against values in canonical order, in constant time.
    pub fn verify<I>(&self, values: I, signature: &str) -> bool
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        self.verify_with(
            |message| {
                for value in values {
                    message.push(value.as_ref());
                }
            },
            signature,
        )
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

/// Copies `src` into `dst` (of the same length). A signature's values are a few bytes each, and
/// a `memcpy` call per value cost more than the copy itself (measured with the `ratios` binary):
/// short lengths are moved as two overlapping fixed-size pieces instead, the usual small-copy
/// technique (for 4 to 7 bytes, say, bytes 0..4 and len-4..len).
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    fn overlapping<const N: usize>(dst: &mut [u8], src: &[u8]) {
        let n = src.len();
        let (head, tail) = (
            src[..N].as_chunks::<N>().0[0],
            src[n - N..].as_chunks::<N>().0[0],
        );
        dst[..N].copy_from_slice(&head);
        dst[n - N..].copy_from_slice(&tail);
    }
    match src.len() {
        0 => {}
        1..=3 => {
            let n = src.len();
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
        4..=7 => overlapping::<4>(dst, src),
        8..=15 => overlapping::<8>(dst, src),
        16..=31 => overlapping::<16>(dst, src),
        32..=64 => overlapping::<32>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// Message bytes gathered before they are handed to the MAC: a signature's values are short,
/// and one `update` per few values costs less than two per value.
const PENDING: usize = 128;

/// A message being signed: each pushed value is followed by `;`, and the secret closes it.
/// Values are gathered in a small buffer and handed to the MAC a block or more at a time; the
/// MAC state (which holds the secret's bytes at the end) is wiped when the message is dropped or
/// finished; nothing is allocated.
pub struct SigningMessage<'s> {
    mac: HmacSha256,
    /// Bytes not yet given to the MAC: the request's values, never the secret (which goes to
    /// the MAC directly). Not wiped: the same values are in the request body being sent.
    pending: [u8; PENDING],
    pending_len: usize,
    signer: &'s Signer,
}

impl SigningMessage<'_> {
    /// Appends bytes of the message.
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) {
        let end = self.pending_len + bytes.len();
        if end <= PENDING {
            copy_short(&mut self.pending[self.pending_len..end], bytes);
            self.pending_len = end;
        } else {
            self.flush();
            if bytes.len() < PENDING {
                self.pending[..bytes.len()].copy_from_slice(bytes);
                self.pending_len = bytes.len();
            } else {
                self.mac.update(bytes);
            }
        }
    }

    /// Hands the gathered bytes to the MAC.
    #[inline(always)]
    fn flush(&mut self) {
        self.mac.update(&self.pending[..self.pending_len]);
        self.pending_len = 0;
    }

    /// Appends one value and its `;` separator.
    #[inline(always)]
    pub fn push(&mut self, value: &[u8]) {
        let end = self.pending_len + value.len();
        if end < PENDING {
            // The common case: value and separator into the buffer under one bounds check.
            copy_short(&mut self.pending[self.pending_len..end], value);
            self.pending[end] = b';';
            self.pending_len = end + 1;
        } else {
            self.write(value);
            self.write(b";");
        }
    }

    /// Appends bytes to the current value (no separator): for values rendered in pieces.
    #[inline(always)]
    pub fn push_part(&mut self, bytes: &[u8]) {
        self.write(bytes);
    }

    /// Ends the current value with its `;` separator (after [`push_part`](Self::push_part)).
    #[inline(always)]
    pub fn end_value(&mut self) {
        self.write(b";");
    }

    /// Appends the secret and computes the tag (consuming the MAC where it lies, so its state is
    /// not moved on the way).
    #[inline(always)]
    fn tag(mut self) -> hmac::digest::Output<HmacSha256> {
        self.flush();
        self.mac.update(self.signer.secret.expose_secret());
        self.mac.finalize().into_bytes()
    }

    /// Appends the secret and returns the signature.
    #[must_use]
    #[inline(always)]
    pub fn finish(self) -> PgSig {
        let tag = self.tag();
        let mut hex = [0u8; TAG_LEN * 2];
        crate::hex::encode_into(&tag, &mut hex);
        PgSig(hex)
    }

    /// Appends the secret and compares with `signature` (64 hex digits, either case) in constant
    /// time (`subtle`). A signature that is not 64 hex digits never matches.
    #[must_use]
    #[inline(always)]
    pub fn verify(self, signature: &str) -> bool {
        let mut expected = [0u8; TAG_LEN];
        if crate::hex::decode_into(signature.as_bytes(), &mut expected).is_none() {
            return false;
        }
        let tag = self.tag();
        bool::from(tag.as_slice().ct_eq(&expected))
    }
}

impl fmt::Write for SigningMessage<'_> {
    /// Renders a value piece by piece (`write!(message, "{amount}")`), then
    /// [`end_value`](SigningMessage::end_value).
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_part(s.as_bytes());
        Ok(())
    }
}

impl fmt::Debug for SigningMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningMessage").finish_non_exhaustive()
    }
}

/// A `pg_sig` value: 64 lowercase hex characters, kept on the stack.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PgSig([u8; 64]);

impl PgSig {
    /// The signature as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into the array.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for PgSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PgSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgSig({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The MAC state holds key-derived state and, at the end, the secret's bytes. Its hash
    /// states are wiped on drop (the `sha2` core's `ZeroizeOnDrop`, checked here at compile
    /// time); its block buffer wipes itself in `Drop` under `block-buffer`'s `zeroize` feature,
    /// which `digest/zeroize` turns on (no marker trait to check there).
    #[test]
    fn the_mac_state_is_zeroized_on_drop() {
        fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        zeroized_on_drop::<sha2::block_api::Sha256VarCore>();
    }

    #[test]
    fn matches_a_plain_hmac_of_the_joined_message() {
        let signer = Signer::new(AgentSecret::new("k").unwrap());
        let sig = signer.sign(["0", "1", "n"]);
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(b"k").unwrap();
        mac.update(b"0;1;n;k");
        let mut hex = [0u8; 64];
        crate::hex::encode_into(&mac.finalize().into_bytes(), &mut hex);
        assert_eq!(sig.as_str().as_bytes(), &hex);
        assert_eq!(
            sig.as_str(),
            "25b886faccae5f28265e2ae664e8a0db966e355d3a8cf05291b1187e620c7be0"
        );
    }

    #[test]
    fn long_values_and_pieces_give_the_same_signature() {
        let signer = Signer::new(AgentSecret::new("k").unwrap());
        let long = "x".repeat(1000);
        let values = ["a", long.as_str(), "b", &long[..250], "c"];
        let whole = signer.sign(values);
        let mut pieces = signer.message();
        for value in values {
            for chunk in value.as_bytes().chunks(7) {
                pieces.push_part(chunk);
            }
            pieces.end_value();
        }
        assert_eq!(pieces.finish(), whole);
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(b"k").unwrap();
        mac.update(format!("{};k", values.join(";")).as_bytes());
        let mut hex = [0u8; 64];
        crate::hex::encode_into(&mac.finalize().into_bytes(), &mut hex);
        assert_eq!(whole.as_str().as_bytes(), &hex);
    }

    #[test]
    fn short_copies_copy_every_length_exactly() {
        let src: Vec<u8> = (1..=100).collect();
        for len in 0..=100 {
            let mut dst = vec![0u8; len];
            copy_short(&mut dst, &src[..len]);
            assert_eq!(dst, &src[..len], "length {len}");
        }
    }

    #[test]
    fn every_value_length_across_the_buffer_signs_as_the_hmac_crate() {
        let signer = Signer::new(AgentSecret::new("k").unwrap());
        let long: String = (0..300)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        for len in 0..=300 {
            let values = ["x", &long[..len], "y", &long[..len / 3]];
            let mut mac = <HmacSha256 as KeyInit>::new_from_slice(b"k").unwrap();
            mac.update(format!("{};k", values.join(";")).as_bytes());
            let mut hex = [0u8; 64];
            crate::hex::encode_into(&mac.finalize().into_bytes(), &mut hex);
            assert_eq!(
                signer.sign(values).as_str().as_bytes(),
                &hex,
                "length {len}"
            );
        }
    }

    #[test]
    fn verify_accepts_upper_case_and_refuses_garbage() {
        let signer = Signer::new(AgentSecret::new("k").unwrap());
        let sig = signer.sign(["a"]);
        assert!(signer.verify(["a"], &sig.as_str().to_uppercase()));
        assert!(!signer.verify(["b"], sig.as_str()));
        assert!(!signer.verify(["a"], &sig.as_str()[..63]));
        assert!(!signer.verify(["a"], ""));
        assert!(!signer.verify(["a"], &"z".repeat(64)));
    }
}
