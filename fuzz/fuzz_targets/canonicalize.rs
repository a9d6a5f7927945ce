//! JSON canonicalization: never panics; signing what it accepts is deterministic and verifies;
//! the flat-object fast path of `sign_json`/`verify_json` agrees with the general path on every
//! input (same signature, or the same error).
#![no_main]

use imts_core::signature::{sign_json, sign_json_general, verify_json, CanonicalParams};
use imts_crypto::{AgentSecret, Signer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let signer = Signer::new(AgentSecret::new("k").expect("secret"));
    let fast = sign_json(data, &signer);
    assert_eq!(fast, sign_json_general(data, &signer));
    if let Ok(params) = CanonicalParams::from_json(data) {
        let sig = params.sign(&signer);
        assert_eq!(fast.as_ref().ok(), Some(&sig));
        assert!(params.verify(&signer, sig.as_str()).is_ok());
        assert!(verify_json(data, &signer, sig.as_str()).is_ok());
        assert!(params.pairs().windows(2).all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
        assert!(params.pairs().iter().all(|(k, v)| k != "pg_sig" && !v.is_empty()));
    }
    if let Ok(query) = std::str::from_utf8(data) {
        let _ = CanonicalParams::from_query(query);
    }
});
