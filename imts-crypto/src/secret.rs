//! Secret credentials: zeroized on drop, never printed, never serialized.

use std::fmt;

use aes::cipher::KeyInit;
use aes::{Aes256Dec, Aes256Enc};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Length in bytes of a partner key (AES-256).
pub const PARTNER_KEY_LEN: usize = 32;

/// A credential that could not be accepted. The message never contains the credential itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The agent secret was empty.
    #[error("agent secret is empty")]
    EmptyAgentSecret,
    /// The partner key was neither 32 raw bytes, 64 hex characters nor Base64 of 32 bytes.
    #[error(
        "partner key must be 32 raw bytes, 64 hex characters or Base64 of 32 bytes \
         (got {len} bytes that are none of these)"
    )]
    InvalidPartnerKey {
        /// Length of what was given, in bytes.
        len: usize,
    },
}

/// The `agent_secret` issued by IMTS support: the password of Get token and the key of `pg_sig`.
///
/// Zeroized on drop. `Debug` prints a redaction marker; there is no `Display` and no `Serialize`.
#[derive(Clone)]
pub struct AgentSecret(Zeroizing<Vec<u8>>);

impl AgentSecret {
    /// Takes ownership of the secret; the `String`'s buffer is the one later zeroized.
    ///
    /// # Errors
    /// [`KeyError::EmptyAgentSecret`] when the secret is empty.
    pub fn new(secret: impl Into<String>) -> Result<Self, KeyError> {
        let bytes = Zeroizing::new(secret.into().into_bytes());
        if bytes.is_empty() {
            return Err(KeyError::EmptyAgentSecret);
        }
        Ok(Self(bytes))
    }

    /// The secret's bytes, for the few places that must send or key with it.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

// The only field is `Zeroizing`, which wipes the bytes when the secret is dropped.
impl ZeroizeOnDrop for AgentSecret {}

impl fmt::Debug for AgentSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AgentSecret(<redacted>)")
    }
}

/// The 256-bit `partner_key` that encrypts personal data.
///
/// Holds the `aes` crate's key schedules for both directions, computed once; each encryption or
/// decryption runs the `cbc` crate's mode over a copy of them. Zeroized on drop: the raw key and
/// the round keys (the `aes` and `cbc` crates' `zeroize` features). `Debug` is redacted.
#[derive(Clone)]
pub struct PartnerKey {
    raw: Zeroizing<[u8; PARTNER_KEY_LEN]>,
    pub(crate) enc: Aes256Enc,
    pub(crate) dec: Aes256Dec,
}

impl PartnerKey {
    /// Builds the key from exactly 32 raw bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidPartnerKey`] when `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let raw: [u8; PARTNER_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| KeyError::InvalidPartnerKey { len: bytes.len() })?;
        Ok(Self::from_array(raw))
    }

    /// Builds the key from an array of the right length, which cannot fail (keys from a key
    /// management service, or generated ones). The caller's copy is the caller's to wipe.
    #[must_use]
    pub fn from_array(raw: [u8; PARTNER_KEY_LEN]) -> Self {
        let raw = Zeroizing::new(raw);
        let enc = Aes256Enc::new(&(*raw).into());
        let dec = Aes256Dec::new(&(*raw).into());
        Self { raw, enc, dec }
    }

    /// Parses a key in any of the three forms a partner may be handed: 64 hex characters,
    /// Base64 (standard alphabet, padded) of 32 bytes, or 32 raw bytes, tried in that order.
    ///
    /// # Errors
    /// [`KeyError::InvalidPartnerKey`] when the text is none of the three.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let mut decoded = Zeroizing::new([0u8; PARTNER_KEY_LEN]);
        if crate::hex::decode_into(text.as_bytes(), &mut *decoded).is_some() {
            return Self::from_bytes(&*decoded);
        }
        if text.len() == 44 {
            let mut buf = Zeroizing::new([0u8; 33]);
            if let Ok(PARTNER_KEY_LEN) = STANDARD.decode_slice(text, &mut *buf) {
                return Self::from_bytes(&buf[..PARTNER_KEY_LEN]);
            }
        }
        Self::from_bytes(text.as_bytes())
    }

    /// The raw key bytes, for keying the envelope's HMAC.
    pub(crate) fn raw(&self) -> &[u8; PARTNER_KEY_LEN] {
        &self.raw
    }

    /// The key as 64 lowercase hex characters, zeroized when dropped: for handing the key to
    /// another process (a sandbox's `--agent` flag). Never log it.
    #[must_use]
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new([0u8; PARTNER_KEY_LEN * 2]);
        crate::hex::encode_into(&*self.raw, &mut *out);
        let mut text = String::with_capacity(PARTNER_KEY_LEN * 2);
        text.extend(out.iter().map(|&b| char::from(b)));
        out.zeroize();
        Zeroizing::new(text)
    }
}

// `raw` is `Zeroizing`; the AES key schedules wipe themselves (the `aes` crate's `zeroize` feature).
impl ZeroizeOnDrop for PartnerKey {}

impl fmt::Debug for PartnerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PartnerKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";

    #[test]
    fn the_three_key_forms_agree() {
        let from_hex = PartnerKey::parse(HEX).unwrap();
        let from_b64 = PartnerKey::parse("YD3rEBXKcb4rc67whX13gR81LAc7YQjXLZgQowkU3/Q=").unwrap();
        assert_eq!(from_hex.raw(), from_b64.raw());
        let raw = PartnerKey::parse("0123456789abcdef0123456789ABCDEF").unwrap();
        assert_eq!(raw.raw(), b"0123456789abcdef0123456789ABCDEF");
        assert_eq!(from_hex.to_hex().as_str(), HEX);
    }

    #[test]
    fn wrong_lengths_are_refused_without_echo() {
        for bad in [
            "",
            "abc",
            &HEX[..62],
            "YD3rEBXKcb4rc67whX13gR81LAc7YQjXLZgQ",
        ] {
            let err = PartnerKey::parse(bad).unwrap_err();
            assert!(matches!(err, KeyError::InvalidPartnerKey { .. }));
            let text = err.to_string();
            assert!(text.contains("64 hex characters"), "{text}");
            if !bad.is_empty() {
                assert!(!text.contains(bad), "the error must not echo the key");
            }
        }
    }

    #[test]
    fn debug_is_redacted() {
        let secret = AgentSecret::new("top-secret-value").unwrap();
        let key = PartnerKey::parse(HEX).unwrap();
        let shown = format!("{secret:?} {key:?}");
        assert!(!shown.contains("top-secret"));
        assert!(!shown.contains("603deb"));
        assert_eq!(
            AgentSecret::new("").unwrap_err(),
            KeyError::EmptyAgentSecret
        );
    }
}
