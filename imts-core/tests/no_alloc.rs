//! Signing a typed request allocates nothing once the signer exists: counted per thread by the
//! `allocation-counter` crate's global allocator.

use imts_core::signature::sign_json;
use imts_core::wire::SignFields;
use imts_crypto::{AgentSecret, Signer};

/// Allocations made by `f` on this thread (the `allocation-counter` crate's global allocator).
fn allocations(f: impl FnOnce()) -> u64 {
    allocation_counter::measure(f).count_total
}

const BODY: &[u8] = br#"{"client_uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","destination_type":"phone","destination_identifier":"998901234567","target_country":"KAZ","order_id":"ORD-2026-000001","amount_source":1000.00,"currency_source":"KZT","currency_target":"UZS","transfer_purpose":"Family support","is_test":false}"#;

#[test]
fn the_counter_counts_here() {
    // A control: JSON signing parses into a vector of leaves, so it allocates.
    let signer = Signer::new(AgentSecret::new("s3cr3t-Agent-Key").unwrap());
    assert!(
        allocations(|| {
            sign_json(BODY, &signer).unwrap();
        }) > 0
    );
}

#[test]
fn typed_requests_sign_without_allocating() {
    let signer = Signer::new(AgentSecret::new("s3cr3t-Agent-Key").unwrap());
    // Without the unknown `is_test` field, which a typed request signs through the JSON path.
    let body = String::from_utf8(BODY.to_vec())
        .unwrap()
        .replace(r#","is_test":false"#, "");
    let request: imts_core::models::CreateTransferRequest = serde_json::from_str(&body).unwrap();
    let expected = signer
        .try_sign_with(|message| request.sign_fields(message))
        .expect("signed field by field");
    assert_eq!(expected, sign_json(body.as_bytes(), &signer).unwrap());
    let counted = allocations(|| {
        for _ in 0..100 {
            let signature = signer.try_sign_with(|message| request.sign_fields(message));
            assert_eq!(signature, Some(expected));
        }
    });
    assert_eq!(counted, 0);
}
