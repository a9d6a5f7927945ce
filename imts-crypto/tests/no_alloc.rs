//! Signing allocates nothing once the signer exists: counted with a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use imts_crypto::{AgentSecret, Signer};

struct Counting;

thread_local! {
    // Per thread: the test harness allocates on its own threads meanwhile.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY-free: `unsafe_code` is forbidden in library code; a test harness may still count
// allocations through the safe `System` allocator wrapped here.
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
    let before = allocations();
    for _ in 0..1000 {
        let sig = signer.sign(values);
        assert!(signer.verify(values, sig.as_str()));
    }
    let after = allocations();
    assert_eq!(after - before, 0, "allocations during 1000 sign+verify");
    assert!(signer.verify(values, first.as_str()));
}
