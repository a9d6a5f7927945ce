//! JSON canonicalization: never panics; signing what it accepts is deterministic and verifies.
#![no_main]

use imts_core::signature::CanonicalParams;
use imts_crypto::{AgentSecret, Signer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(params) = CanonicalParams::from_json(data) {
        let signer = Signer::new(AgentSecret::new("k").expect("secret"));
        let sig = params.sign(&signer);
        assert!(params.verify(&signer, sig.as_str()).is_ok());
        assert!(params.pairs().windows(2).all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
        assert!(params.pairs().iter().all(|(k, v)| k != "pg_sig" && !v.is_empty()));
    }
    if let Ok(query) = std::str::from_utf8(data) {
        let _ = CanonicalParams::from_query(query);
    }
});
