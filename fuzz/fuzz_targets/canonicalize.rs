//! JSON canonicalization: never panics; what it accepts is signed as the `hmac` crate's
//! HMAC-SHA256 of the canonical values joined by `;` with the secret appended, and verifies.
#![no_main]

use hmac::{Hmac, KeyInit, Mac};
use imts_core::signature::{sign_json, verify_json, CanonicalParams};
use imts_crypto::{AgentSecret, Signer};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

fuzz_target!(|data: &[u8]| {
    let signer = Signer::new(AgentSecret::new("k").expect("secret"));
    let signed = sign_json(data, &signer);
    let params = CanonicalParams::from_json(data);
    assert_eq!(signed.is_ok(), params.is_ok());
    if let (Ok(sig), Ok(params)) = (signed, params) {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"k").expect("key");
        for value in params.values() {
            mac.update(value.as_bytes());
            mac.update(b";");
        }
        mac.update(b"k");
        let reference: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sig.as_str(), reference);
        assert!(params.verify(&signer, sig.as_str()).is_ok());
        assert!(verify_json(data, &signer, sig.as_str()).is_ok());
        assert!(params.pairs().windows(2).all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
        assert!(params.pairs().iter().all(|(k, v)| k != "pg_sig" && !v.is_empty()));
    }
    if let Ok(query) = std::str::from_utf8(data) {
        let _ = CanonicalParams::from_query(query);
    }
});
