//! Envelope decryption in both packings: any text gives plaintext or the one error; anything
//! encrypted decrypts back; raw CBC decryption of any bytes gives what the `cbc` crate, keyed
//! from scratch, gives.
#![no_main]

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use imts_crypto::{Packing, PartnerKey};
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 32] = [0x5a; 32];

fuzz_target!(|data: &[u8]| {
    let key = PartnerKey::from_bytes(&KEY).expect("key");
    if let Ok(text) = std::str::from_utf8(data) {
        for packing in [Packing::IvCiphertext, Packing::JsonMac] {
            let _ = key.decrypt(text, packing);
        }
    }
    let iv = [7u8; 16];
    let ours = key.cbc_decrypt(&iv, data).map(|p| p.as_bytes().to_vec()).ok();
    let reference = if data.is_empty() || data.len() % 16 != 0 {
        None
    } else {
        cbc::Decryptor::<aes::Aes256Dec>::new(&KEY.into(), &iv.into())
            .decrypt_padded_vec::<Pkcs7>(data)
            .ok()
    };
    assert_eq!(ours, reference);
    for packing in [Packing::IvCiphertext, Packing::JsonMac] {
        let sealed = key.encrypt(data, packing);
        assert_eq!(key.decrypt(&sealed, packing).expect("round trip").as_bytes(), data);
    }
});
