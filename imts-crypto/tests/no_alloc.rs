//! Signing allocates nothing once the signer exists: counted per thread by the
//! `allocation-counter` crate's global allocator.

use imts_crypto::{AgentSecret, Signer};

#[test]
fn signing_and_verifying_allocate_nothing() {
    let signer = Signer::new(AgentSecret::new("s3cr3t-Agent-Key").unwrap());
    let values = [
        "1000.00",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "KZT",
        "UZS",
        "phone",
        "998901234567",
        "ORD-2026-000001",
        "KAZ",
        "Family support",
    ];
    let first = signer.sign(values);
    let counted = allocation_counter::measure(|| {
        for _ in 0..1000 {
            let sig = signer.sign(values);
            assert!(signer.verify(values, sig.as_str()));
        }
    });
    assert_eq!(
        counted.count_total, 0,
        "allocations during 1000 sign+verify"
    );
    // A control: the counter sees this thread's allocations.
    assert!(allocation_counter::measure(|| drop(signer.sign(values).to_string())).count_total > 0);
    assert!(signer.verify(values, first.as_str()));
}
