//! SHA-256 of a byte string, for record hashes (the journal's request hash, the audit chain).

use sha2::{Digest, Sha256};

/// SHA-256 of `bytes`, lower-case hex (64 characters).
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = [0u8; 64];
    crate::hex::encode_into(&digest, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_answer() {
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
