//! The AES-256-CBC envelope of personal data: PKCS#7, a fresh random IV per encryption.
//!
//! Two packings exist (`docs/contract.md`, "Personal data"):
//! * [`Packing::IvCiphertext`] (default): `Base64(IV || ciphertext)`. No integrity: whoever can
//!   change the string in transit can change the plaintext undetected.
//! * [`Packing::JsonMac`]: `Base64({"iv": b64, "value": b64, "mac": hex})` with
//!   `mac = HMAC-SHA256(partner_key, iv_b64 + value_b64)`, checked in constant time before any
//!   decryption.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit};
use aes::{Aes256Dec, Aes256Enc};
use hmac::Mac;

use crate::secret::PartnerKey;
use crate::signer::{keyed_hmac, HmacSha256, TAG_LEN};

/// Length of the CBC initialisation vector, in bytes.
pub const IV_LEN: usize = 16;

/// The AES block size, in bytes.
const BLOCK: usize = 16;

/// The `cbc` crate's mode over the `aes` crate's cipher, started from a key schedule computed once.
type CbcEncrypt = cbc::Encryptor<Aes256Enc>;
type CbcDecrypt = cbc::Decryptor<Aes256Dec>;

/// How the IV and ciphertext are packed into the `encrypted_data` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Packing {
    /// `Base64(IV || ciphertext)`: the project's default reading of the contract.
    #[default]
    IvCiphertext,
    /// `Base64(JSON {"iv", "value", "mac"})` with an HMAC-SHA256 over `iv + value`.
    JsonMac,
}

/// Decryption failed. Deliberately one opaque error: whether the Base64, the length, the MAC or
/// the padding was wrong is not told, so the error cannot serve as a padding oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("encrypted_data could not be decrypted with the partner key")]
pub struct DecryptError;

/// The output buffer given to [`PartnerKey::cbc_encrypt_into`] is too short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the output buffer holds {given} bytes; the padded ciphertext needs {needed}")]
pub struct OutputTooSmall {
    /// Bytes the ciphertext needs: [`padded_len`] of the plaintext's length.
    pub needed: usize,
    /// Bytes the buffer had.
    pub given: usize,
}

/// The length of the AES-CBC ciphertext of `plaintext_len` bytes under PKCS#7: the next multiple
/// of 16 above it (a whole padding block when it is already a multiple).
#[must_use]
pub const fn padded_len(plaintext_len: usize) -> usize {
    (plaintext_len / BLOCK + 1) * BLOCK
}

/// Decrypted bytes, zeroized on drop, redacted in `Debug`.
pub struct Plaintext(Zeroizing<Vec<u8>>);

impl Plaintext {
    /// The decrypted bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

// The only field is `Zeroizing`.
impl zeroize::ZeroizeOnDrop for Plaintext {}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plaintext(<{} bytes redacted>)", self.0.len())
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct MacPacked<'a> {
    #[serde(borrow)]
    iv: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    value: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    mac: std::borrow::Cow<'a, str>,
}

impl PartnerKey {
    /// Encrypts with an IV from the thread-local CSPRNG (user space, reseeded from the OS).
    #[must_use]
    pub fn encrypt(&self, plaintext: &[u8], packing: Packing) -> String {
        self.encrypt_with_rng(plaintext, packing, &mut rand::rng())
    }

    /// Encrypts with an IV drawn from `rng`.
    pub fn encrypt_with_rng<R: RngCore + CryptoRng>(
        &self,
        plaintext: &[u8],
        packing: Packing,
        rng: &mut R,
    ) -> String {
        let mut iv = [0u8; IV_LEN];
        rng.fill_bytes(&mut iv);
        self.encrypt_with_iv(plaintext, &iv, packing)
    }

    /// Encrypts with the given IV. Only for known-answer tests and callers with their own IV
    /// source: reusing an IV with one key leaks which plaintexts share a prefix.
    #[must_use]
    pub fn encrypt_with_iv(&self, plaintext: &[u8], iv: &[u8; IV_LEN], packing: Packing) -> String {
        let mut packed = vec![0u8; IV_LEN + padded_len(plaintext.len())];
        packed[..IV_LEN].copy_from_slice(iv);
        self.encrypt_block_mode(iv, plaintext, &mut packed[IV_LEN..]);
        match packing {
            Packing::IvCiphertext => STANDARD.encode(packed),
            Packing::JsonMac => self.pack_with_mac(iv, &packed[IV_LEN..]),
        }
    }

    fn pack_with_mac(&self, iv: &[u8], ciphertext: &[u8]) -> String {
        let iv_b64 = STANDARD.encode(iv);
        let value_b64 = STANDARD.encode(ciphertext);
        let mac = self
            .envelope_mac(&iv_b64, &value_b64)
            .finalize()
            .into_bytes();
        let mut mac_hex = [0u8; TAG_LEN * 2];
        crate::hex::encode_into(&mac, &mut mac_hex);
        // The spacing matches the reference implementation byte for byte.
        let json = format!(
            r#"{{"iv": "{iv_b64}", "value": "{value_b64}", "mac": "{}"}}"#,
            std::str::from_utf8(&mac_hex).unwrap_or_default()
        );
        STANDARD.encode(json)
    }

    fn envelope_mac(&self, iv_b64: &str, value_b64: &str) -> HmacSha256 {
        let mut mac = keyed_hmac(self.raw());
        mac.update(iv_b64.as_bytes());
        mac.update(value_b64.as_bytes());
        mac
    }

    /// PKCS#7-pads `plaintext` into `out` (exactly [`padded_len`] of it long: callers size it)
    /// and encrypts it there.
    fn encrypt_block_mode(&self, iv: &[u8; IV_LEN], plaintext: &[u8], out: &mut [u8]) {
        let mode = CbcEncrypt::inner_iv_init(self.enc.clone(), iv.into());
        // Cannot fail: `out` has room for the padded plaintext.
        let _ = mode.encrypt_padded_b2b::<Pkcs7>(plaintext, out);
    }

    /// Decrypts `ciphertext` (a whole number of blocks, checked by callers) into `out` (at least
    /// as long) and returns the unpadded length; `None` on bad padding.
    fn decrypt_block_mode(
        &self,
        iv: &[u8; IV_LEN],
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Option<usize> {
        let mode = CbcDecrypt::inner_iv_init(self.dec.clone(), iv.into());
        let out = out.get_mut(..ciphertext.len())?;
        mode.decrypt_padded_b2b::<Pkcs7>(ciphertext, out)
            .ok()
            .map(<[u8]>::len)
    }

    /// Decrypts an envelope in the given packing.
    ///
    /// # Errors
    /// [`DecryptError`] for any failure: bad Base64, input shorter than an IV and one block,
    /// ciphertext not a multiple of 16 bytes, a wrong MAC, bad padding.
    pub fn decrypt(&self, envelope: &str, packing: Packing) -> Result<Plaintext, DecryptError> {
        let envelope = envelope.trim();
        match packing {
            Packing::IvCiphertext => {
                let packed = Zeroizing::new(STANDARD.decode(envelope).map_err(|_| DecryptError)?);
                if packed.len() < IV_LEN {
                    return Err(DecryptError);
                }
                let (iv, ciphertext) = packed.split_at(IV_LEN);
                self.decrypt_raw(iv, ciphertext)
            }
            Packing::JsonMac => {
                let json = Zeroizing::new(STANDARD.decode(envelope).map_err(|_| DecryptError)?);
                let packed: MacPacked<'_> =
                    serde_json::from_slice(&json).map_err(|_| DecryptError)?;
                let mut mac_bytes = [0u8; TAG_LEN];
                crate::hex::decode_into(packed.mac.as_bytes(), &mut mac_bytes)
                    .ok_or(DecryptError)?;
                // Constant time (the `hmac` crate's `verify_slice`), before any decryption.
                self.envelope_mac(&packed.iv, &packed.value)
                    .verify_slice(&mac_bytes)
                    .map_err(|_| DecryptError)?;
                let iv = STANDARD.decode(&*packed.iv).map_err(|_| DecryptError)?;
                let ciphertext = STANDARD.decode(&*packed.value).map_err(|_| DecryptError)?;
                self.decrypt_raw(&iv, &ciphertext)
            }
        }
    }

    /// AES-256-CBC with PKCS#7 alone: `ciphertext` for `plaintext` under `iv`, no packing. For
    /// callers with their own packing, and for measuring the cipher apart from Base64.
    #[must_use]
    pub fn cbc_encrypt(&self, iv: &[u8; IV_LEN], plaintext: &[u8]) -> Vec<u8> {
        let mut ciphertext = vec![0u8; padded_len(plaintext.len())];
        self.encrypt_block_mode(iv, plaintext, &mut ciphertext);
        ciphertext
    }

    /// [`cbc_encrypt`](Self::cbc_encrypt) into a buffer the caller owns (and may reuse): nothing is
    /// allocated or copied besides the ciphertext written into `out`. `out` needs
    /// [`padded_len`]`(plaintext.len())` bytes.
    ///
    /// # Errors
    /// [`OutputTooSmall`] when `out` is shorter than that.
    pub fn cbc_encrypt_into<'o>(
        &self,
        iv: &[u8; IV_LEN],
        plaintext: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o [u8], OutputTooSmall> {
        let needed = padded_len(plaintext.len());
        let given = out.len();
        if given < needed {
            return Err(OutputTooSmall { needed, given });
        }
        let out = &mut out[..needed];
        self.encrypt_block_mode(iv, plaintext, out);
        Ok(out)
    }

    /// AES-256-CBC decryption with PKCS#7 alone (see [`cbc_encrypt`](Self::cbc_encrypt)).
    ///
    /// # Errors
    /// [`DecryptError`] for a bad length or padding.
    pub fn cbc_decrypt(
        &self,
        iv: &[u8; IV_LEN],
        ciphertext: &[u8],
    ) -> Result<Plaintext, DecryptError> {
        self.decrypt_raw(iv, ciphertext)
    }

    /// Decrypts `buffer` in place and returns the plaintext part of it. The caller owns the
    /// buffer and its zeroization (for large payloads, where wiping costs more than decrypting).
    ///
    /// # Errors
    /// [`DecryptError`] for a bad length or padding.
    pub fn cbc_decrypt_in_place<'b>(
        &self,
        iv: &[u8; IV_LEN],
        buffer: &'b mut [u8],
    ) -> Result<&'b [u8], DecryptError> {
        if buffer.is_empty() || !buffer.len().is_multiple_of(BLOCK) {
            return Err(DecryptError);
        }
        let mode = CbcDecrypt::inner_iv_init(self.dec.clone(), iv.into());
        mode.decrypt_padded::<Pkcs7>(buffer)
            .map_err(|_| DecryptError)
    }

    /// Decrypts `ciphertext` into a buffer the caller owns (and may reuse) and returns the
    /// plaintext part of it; `ciphertext` is left as it was. The caller owns the zeroization of
    /// `out`. `out` needs at least `ciphertext.len()` bytes.
    ///
    /// # Errors
    /// [`DecryptError`] for a bad length or padding, or an `out` shorter than `ciphertext`.
    pub fn cbc_decrypt_into<'o>(
        &self,
        iv: &[u8; IV_LEN],
        ciphertext: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o [u8], DecryptError> {
        if ciphertext.is_empty()
            || !ciphertext.len().is_multiple_of(BLOCK)
            || out.len() < ciphertext.len()
        {
            return Err(DecryptError);
        }
        let len = self
            .decrypt_block_mode(iv, ciphertext, out)
            .ok_or(DecryptError)?;
        Ok(&out[..len])
    }

    fn decrypt_raw(&self, iv: &[u8], ciphertext: &[u8]) -> Result<Plaintext, DecryptError> {
        let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| DecryptError)?;
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK) {
            return Err(DecryptError);
        }
        let mut buf = Zeroizing::new(vec![0u8; ciphertext.len()]);
        let len = self
            .decrypt_block_mode(&iv, ciphertext, &mut buf)
            .ok_or(DecryptError)?;
        buf.truncate(len);
        Ok(Plaintext(buf))
    }
}
