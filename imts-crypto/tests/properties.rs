//! Property tests: the envelope round-trips, signatures agree with verification and with order.

use imts_crypto::{AgentSecret, Packing, PartnerKey, Signer};
use proptest::prelude::*;

fn key(bytes: [u8; 32]) -> PartnerKey {
    PartnerKey::from_bytes(&bytes).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn envelope_round_trips_any_plaintext(
        key_bytes in any::<[u8; 32]>(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..=65_536),
        mac in any::<bool>(),
    ) {
        let packing = if mac { Packing::JsonMac } else { Packing::IvCiphertext };
        let key = key(key_bytes);
        let sealed = key.encrypt(&plaintext, packing);
        let opened = key.decrypt(&sealed, packing).unwrap();
        prop_assert_eq!(opened.as_bytes(), &plaintext[..]);
    }

    #[test]
    fn decrypting_garbage_never_panics(key_bytes in any::<[u8; 32]>(), text in ".{0,200}") {
        let key = key(key_bytes);
        let _ = key.decrypt(&text, Packing::IvCiphertext);
        let _ = key.decrypt(&text, Packing::JsonMac);
    }
}

proptest! {
    #[test]
    fn sign_and_verify_agree(secret in "[ -~]{1,40}", values in proptest::collection::vec(".{0,30}", 0..12)) {
        let signer = Signer::new(AgentSecret::new(secret).unwrap());
        let sig = signer.sign(&values);
        prop_assert!(signer.verify(&values, sig.as_str()));
    }

    #[test]
    fn changing_any_value_changes_the_signature(
        values in proptest::collection::vec("[a-z0-9]{1,12}", 1..10),
        index in any::<prop::sample::Index>(),
        suffix in "[a-z0-9]{1,3}",
    ) {
        let signer = Signer::new(AgentSecret::new("k").unwrap());
        let sig = signer.sign(&values);
        let mut changed = values.clone();
        changed[index.index(values.len())].push_str(&suffix);
        prop_assert!(!signer.verify(&changed, sig.as_str()));
    }
}

proptest! {
    /// The signer's own HMAC against the `hmac` crate over the joined message: any secret
    /// (including longer than a SHA-256 block), any values, pushed in arbitrary pieces.
    #[test]
    fn signatures_equal_the_hmac_crate_over_the_joined_message(
        secret in "[ -~]{1,150}",
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..150), 0..8),
        piece in 1usize..70,
    ) {
        use hmac::{Hmac, KeyInit, Mac};
        let signer = Signer::new(AgentSecret::new(secret.clone()).unwrap());
        let mut message = signer.message();
        let mut joined = Vec::new();
        for value in &values {
            for chunk in value.chunks(piece) {
                message.push_part(chunk);
            }
            message.end_value();
            joined.extend_from_slice(value);
            joined.push(b';');
        }
        joined.extend_from_slice(secret.as_bytes());
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&joined);
        let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let signature = message.finish();
        prop_assert_eq!(signature.as_str(), expected.as_str());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The envelope's cipher against the `cbc` crate keyed from scratch: the same ciphertext for
    /// any plaintext length, and every decryption entry point gives the plaintext back.
    #[test]
    fn cbc_equals_the_cbc_crate(
        key_bytes in any::<[u8; 32]>(),
        iv in any::<[u8; 16]>(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..=3000),
    ) {
        use aes::cipher::block_padding::Pkcs7;
        use aes::cipher::{BlockModeEncrypt, KeyIvInit};
        let key = key(key_bytes);
        let mut reference = vec![0u8; imts_crypto::padded_len(plaintext.len())];
        reference[..plaintext.len()].copy_from_slice(&plaintext);
        let len = cbc::Encryptor::<aes::Aes256Enc>::new(&key_bytes.into(), &iv.into())
            .encrypt_padded::<Pkcs7>(&mut reference, plaintext.len())
            .unwrap()
            .len();
        prop_assert_eq!(len, reference.len());
        let ciphertext = key.cbc_encrypt(&iv, &plaintext);
        prop_assert_eq!(&ciphertext, &reference);

        let mut out = vec![0u8; imts_crypto::padded_len(plaintext.len())];
        prop_assert_eq!(key.cbc_encrypt_into(&iv, &plaintext, &mut out).unwrap(), &reference[..]);
        {
            let decrypted = key.cbc_decrypt(&iv, &ciphertext).unwrap();
            prop_assert_eq!(decrypted.as_bytes(), &plaintext[..]);
            let mut into = vec![0u8; ciphertext.len() + 5];
            prop_assert_eq!(key.cbc_decrypt_into(&iv, &ciphertext, &mut into).unwrap(), &plaintext[..]);
            let mut in_place = ciphertext.clone();
            prop_assert_eq!(key.cbc_decrypt_in_place(&iv, &mut in_place).unwrap(), &plaintext[..]);
        }
    }
}

#[test]
fn buffers_too_small_are_refused_with_the_sizes() {
    let key = key([1; 32]);
    let mut out = [0u8; 31];
    let err = key
        .cbc_encrypt_into(&[0; 16], &[7; 16], &mut out)
        .unwrap_err();
    assert_eq!((err.needed, err.given), (32, 31));
    let ciphertext = key.cbc_encrypt(&[0; 16], &[7; 16]);
    assert!(key
        .cbc_decrypt_into(&[0; 16], &ciphertext, &mut out)
        .is_err());
}

#[test]
fn decryption_entry_points_agree_and_refuse_bad_padding() {
    let key = key([9; 32]);
    let iv = [3u8; 16];
    for len in 0..300 {
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let ciphertext = key.cbc_encrypt(&iv, &plaintext);
        let mut buffer = ciphertext.clone();
        assert_eq!(
            key.cbc_decrypt_in_place(&iv, &mut buffer).unwrap(),
            &plaintext[..],
            "length {len}"
        );
        // The last byte's padding made invalid (0 is never a PKCS#7 pad length): every entry
        // point refuses it with the one opaque error.
        // CBC: flipping a byte of the previous block (or of the IV) flips the same byte of the
        // last plaintext block.
        let mut reference = ciphertext.clone();
        let mut iv_t = iv;
        let flip = key_pad_flip(&key, &iv, &ciphertext);
        match reference.len().checked_sub(17) {
            Some(at) => reference[at] ^= flip,
            None => iv_t[15] ^= flip,
        }
        let refused = [
            key.cbc_decrypt(&iv_t, &reference).is_err(),
            key.cbc_decrypt_into(&iv_t, &reference, &mut vec![0u8; reference.len()])
                .is_err(),
            key.cbc_decrypt_in_place(&iv_t, &mut reference.clone())
                .is_err(),
        ];
        assert_eq!(refused, [true; 3], "length {len}");
    }
}

/// The XOR that turns the last plaintext byte (a pad length 1..=16) into 0, an invalid pad.
fn key_pad_flip(key: &PartnerKey, iv: &[u8; 16], ciphertext: &[u8]) -> u8 {
    let mut copy = ciphertext.to_vec();
    let plain_len = key.cbc_decrypt_in_place(iv, &mut copy).unwrap().len();
    (ciphertext.len() - plain_len) as u8
}

#[test]
fn from_array_is_from_bytes_without_the_length_check() {
    let bytes = [0x42u8; 32];
    let plain = b"{\"first_name\":\"Aigerim\"}";
    let from_array = PartnerKey::from_array(bytes);
    let sealed = from_array.cbc_encrypt(&[1; 16], plain);
    assert_eq!(key(bytes).cbc_encrypt(&[1; 16], plain), sealed);
    assert_eq!(
        key(bytes)
            .cbc_decrypt(&[1; 16], &sealed)
            .unwrap()
            .as_bytes(),
        plain
    );
}
