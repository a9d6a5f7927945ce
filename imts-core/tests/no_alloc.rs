//! Signing a typed request and signing or verifying a flat JSON body allocate nothing once the
//! signer exists: counted with a global allocator (per thread).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use imts_core::signature::{sign_json, verify_json};
use imts_core::wire::SignFields;
use imts_crypto::{AgentSecret, Signer};

struct Counting;

thread_local! {
    // Per thread: the test harness allocates on its own threads meanwhile.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// A test harness may count allocations through the safe `System` allocator wrapped here.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const BODY: &[u8] = br#"{"client_uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","destination_type":"phone","destination_identifier":"998901234567","target_country":"KAZ","order_id":"ORD-2026-000001","amount_source":1000.00,"currency_source":"KZT","currency_target":"UZS","transfer_purpose":"Family support","is_test":false}"#;

#[test]
fn flat_json_bodies_sign_and_verify_without_allocating() {
    let signer = Signer::new(AgentSecret::new("s3cr3t-Agent-Key").unwrap());
    let signature = sign_json(BODY, &signer).unwrap();
    let before = allocations();
    for _ in 0..100 {
        assert_eq!(sign_json(BODY, &signer).unwrap(), signature);
        assert!(verify_json(BODY, &signer, signature.as_str()).is_ok());
    }
    assert_eq!(allocations() - before, 0);
    // A control: the general path (a nested object) does allocate, so the counter works here.
    let nested = br#"{"a":{"b":"c"}}"#;
    let before = allocations();
    sign_json(nested, &signer).unwrap();
    assert!(allocations() > before);
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
    let before = allocations();
    for _ in 0..100 {
        let signature = signer.try_sign_with(|message| request.sign_fields(message));
        assert_eq!(signature, Some(expected));
    }
    assert_eq!(allocations() - before, 0);
}
