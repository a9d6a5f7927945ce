//! Envelope decryption in both packings: any text gives plaintext or the one error; anything
//! encrypted decrypts back.
#![no_main]

use imts_crypto::{Packing, PartnerKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = PartnerKey::from_bytes(&[0x5a; 32]).expect("key");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = key.decrypt(text, Packing::IvCiphertext);
        let _ = key.decrypt(text, Packing::JsonMac);
    }
    for packing in [Packing::IvCiphertext, Packing::JsonMac] {
        let sealed = key.encrypt(data, packing);
        assert_eq!(key.decrypt(&sealed, packing).expect("round trip").as_bytes(), data);
    }
});
