//! Callback verification and parsing: arbitrary bodies, and validly signed arbitrary objects.
#![no_main]

use imts_callbacks::{Notification, Verifier};
use imts_core::signature::CanonicalParams;
use imts_crypto::{AgentSecret, Signer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let secret = AgentSecret::new("fuzz-secret").expect("secret");
    let verifier = Verifier::new(secret.clone());
    // As received: almost always refused, never a panic.
    if verifier.verify(data).is_ok() {
        let _ = Notification::parse(data);
    }
    // Signed correctly, so parsing is reached with arbitrary fields.
    if let Ok(params) = CanonicalParams::from_json(data) {
        let sig = params.sign(&Signer::new(secret));
        if let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice::<serde_json::Value>(data) {
            object.insert("pg_sig".into(), sig.to_string().into());
            let body = serde_json::to_vec(&object).expect("serializes");
            if verifier.verify(&body).is_ok() {
                let _ = Notification::parse(&body);
            }
        }
    }
});
