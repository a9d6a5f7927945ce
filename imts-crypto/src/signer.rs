//! `pg_sig`: HMAC-SHA256 keyed by the agent secret over `v1;v2;...;vn;secret`, lowercase hex.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::secret::AgentSecret;

type HmacSha256 = Hmac<Sha256>;

/// What stands for the agent secret wherever a signed message is shown to a person.
pub const SECRET_MASK: &str = "***";

/// Signs and verifies `pg_sig` for one agent secret.
///
/// The HMAC key schedule (the inner and outer padded key blocks) is computed once here; every
/// signature clones that state, so signing costs the compressions of the message and nothing else.
#[derive(Clone)]
pub struct Signer {
    secret: AgentSecret,
    keyed: HmacSha256,
}

impl Signer {
    /// A signer for `secret`.
    #[must_use]
    pub fn new(secret: AgentSecret) -> Self {
        // HMAC accepts keys of any length, so this cannot fail; the fallback keeps it panic-free.
        let keyed = <HmacSha256 as KeyInit>::new_from_slice(secret.expose_secret())
            .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
        Self { secret, keyed }
    }

    /// The secret this signer uses.
    #[must_use]
    pub fn secret(&self) -> &AgentSecret {
        &self.secret
    }

    /// Starts a message; push the values in canonical order, then [`SigningMessage::finish`].
    #[must_use]
    pub fn message(&self) -> SigningMessage<'_> {
        SigningMessage {
            mac: self.keyed.clone(),
            secret: &self.secret,
            buf: [0u8; BUFFER],
            len: 0,
        }
    }

    /// Signs values that are already in canonical order.
    pub fn sign<I>(&self, values: I) -> PgSig
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut message = self.message();
        for value in values {
            message.push(value.as_ref());
        }
        message.finish()
    }

    /// Checks `signature` (hex, either case) against values in canonical order, in constant time.
    pub fn verify<I>(&self, values: I, signature: &str) -> bool
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut message = self.message();
        for value in values {
            message.push(value.as_ref());
        }
        message.verify(signature)
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

/// Bytes gathered before they are fed to the MAC: a typical message fits, so the MAC sees one
/// update instead of two per value (small updates cost more than the copy).
const BUFFER: usize = 256;

/// A message being signed: each pushed value is followed by `;`, and the secret closes it.
/// Values are gathered in a stack buffer and fed to the MAC in large pieces; nothing is allocated.
/// The buffer never holds the secret, which goes straight into the MAC.
pub struct SigningMessage<'s> {
    mac: HmacSha256,
    secret: &'s AgentSecret,
    buf: [u8; BUFFER],
    len: usize,
}

impl SigningMessage<'_> {
    /// Appends one value and its `;` separator.
    pub fn push(&mut self, value: &[u8]) {
        self.push_part(value);
        self.push_part(b";");
    }

    /// Appends bytes to the current value (no separator): for values rendered in pieces.
    pub fn push_part(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() > BUFFER {
            self.flush();
            if bytes.len() > BUFFER {
                self.mac.update(bytes);
                return;
            }
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Ends the current value with its `;` separator (after [`push_part`](Self::push_part)).
    pub fn end_value(&mut self) {
        self.push_part(b";");
    }

    fn flush(&mut self) {
        self.mac.update(&self.buf[..self.len]);
        self.len = 0;
    }

    fn close(&mut self) {
        self.flush();
        self.mac.update(self.secret.expose_secret());
    }

    /// Appends the secret and returns the signature.
    #[must_use]
    pub fn finish(mut self) -> PgSig {
        self.close();
        let tag = self.mac.finalize().into_bytes();
        let mut hex = [0u8; 64];
        crate::hex::encode_into(&tag, &mut hex);
        PgSig(hex)
    }

    /// Appends the secret and compares with `signature` (64 hex digits, either case) in constant
    /// time. A signature that is not 64 hex digits never matches.
    #[must_use]
    pub fn verify(mut self, signature: &str) -> bool {
        let mut expected = [0u8; 32];
        if crate::hex::decode_into(signature.as_bytes(), &mut expected).is_none() {
            return false;
        }
        self.close();
        self.mac.verify_slice(&expected).is_ok()
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
