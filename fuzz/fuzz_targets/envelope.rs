//! Envelope decryption in both packings: any text gives plaintext or the one error; anything
//! encrypted decrypts back; raw CBC decryption of any bytes gives the same answer on the VAES-512
//! path (where this CPU has it) and the portable one.
#![no_main]

use imts_crypto::{Packing, PartnerKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = PartnerKey::from_bytes(&[0x5a; 32]).expect("key");
    let portable = key.clone().without_acceleration();
    if let Ok(text) = std::str::from_utf8(data) {
        for packing in [Packing::IvCiphertext, Packing::JsonMac] {
            let fast = key.decrypt(text, packing).map(|p| p.as_bytes().to_vec());
            let slow = portable.decrypt(text, packing).map(|p| p.as_bytes().to_vec());
            assert_eq!(fast, slow);
        }
    }
    let iv = [7u8; 16];
    let fast = key.cbc_decrypt(&iv, data).map(|p| p.as_bytes().to_vec());
    let slow = portable.cbc_decrypt(&iv, data).map(|p| p.as_bytes().to_vec());
    assert_eq!(fast, slow);
    for packing in [Packing::IvCiphertext, Packing::JsonMac] {
        let sealed = key.encrypt(data, packing);
        assert_eq!(key.decrypt(&sealed, packing).expect("round trip").as_bytes(), data);
    }
});
