//! Cryptography of Freedom Pay's IMTS partner API, and nothing else.
//!
//! * [`Signer`] computes and verifies `pg_sig`: HMAC-SHA256 keyed by the agent secret over the
//!   request's values joined by `;` with the secret appended, as lowercase hex. The MAC is
//!   RustCrypto's `hmac` over `sha2`, keyed once per signer; values are fed straight into it, so a
//!   signature allocates nothing.
//! * [`PartnerKey`] encrypts and decrypts personal data in the AES-256-CBC envelope
//!   (`Base64(IV || ciphertext)`, PKCS#7, a fresh IV per call), or in the selectable JSON packing
//!   with an HMAC ([`Packing::JsonMac`]). The cipher is RustCrypto's `cbc` mode over `aes`.
//! * [`AgentSecret`] and [`PartnerKey`] are zeroized on drop and never printed.
//!
//! Which values are signed, and in which order, is the business of `imts-core`'s canonicalization:
//! this crate signs the values it is given.
//!
//! ```
//! use imts_crypto::{AgentSecret, Packing, PartnerKey, Signer};
//!
//! let signer = Signer::new(AgentSecret::new("agent_secret").unwrap());
//! let sig = signer.sign(["100.50", "USD", "ORD123456", "KZ", "Family support", "send"]);
//! assert_eq!(
//!     sig.as_str(),
//!     "ae5432e55ceeb0884928d7ad064df14a43d331b4463c0fef07cfd0108a59a930"
//! );
//! assert!(signer.verify(["100.50", "USD", "ORD123456", "KZ", "Family support", "send"], sig.as_str()));
//!
//! let key = PartnerKey::parse("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4").unwrap();
//! let envelope = key.encrypt(br#"{"first_name":"Aigerim"}"#, Packing::IvCiphertext);
//! let plain = key.decrypt(&envelope, Packing::IvCiphertext).unwrap();
//! assert_eq!(plain.as_bytes(), br#"{"first_name":"Aigerim"}"#);
//! ```

mod digest;
mod envelope;
mod hex;
mod secret;
mod signer;

pub use digest::sha256_hex;
pub use envelope::{padded_len, DecryptError, OutputTooSmall, Packing, Plaintext, IV_LEN};
pub use secret::{AgentSecret, KeyError, PartnerKey, PARTNER_KEY_LEN};
pub use signer::{PgSig, Signer, SigningMessage, SECRET_MASK};
