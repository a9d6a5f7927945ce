//! Two receivers sharing one Redis status store agree on which status update is late, whichever
//! of them saw the newer one; and the stores work from a blocking program (no runtime of its own).

use std::sync::Arc;

use imts_callbacks::{MemoryStatusStore, StatusStore};
use imts_core::enums::TransferStatus;
use imts_redis::test_server::RedisServer;
use imts_redis::RedisStatusStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_agree_that_an_older_status_is_late() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a = RedisStatusStore::open(&redis.url(), "fleet-agent").unwrap();
    let b = RedisStatusStore::open(&redis.url(), "fleet-agent").unwrap();
    let t = "transfer-1";
    assert!(a.apply(t, &TransferStatus::New).await.unwrap());
    assert!(
        b.apply(t, &TransferStatus::Waiting).await.unwrap(),
        "b moves it on"
    );
    assert_eq!(
        a.known(t).await.unwrap(),
        Some(TransferStatus::Waiting),
        "a sees b's update"
    );
    assert!(
        !a.apply(t, &TransferStatus::Process).await.unwrap(),
        "a late `process` is late for a too"
    );
    assert!(
        !b.apply(t, &TransferStatus::Waiting).await.unwrap(),
        "a repeat is late"
    );
    // The same sequence against one in-memory store gives the same verdicts: one merge.
    let memory = MemoryStatusStore::default();
    let verdicts: Vec<bool> = [
        TransferStatus::New,
        TransferStatus::Waiting,
        TransferStatus::Process,
        TransferStatus::Waiting,
    ]
    .iter()
    .map(|s| memory.apply_now(t, s))
    .collect();
    assert_eq!(verdicts, [true, true, false, false]);

    // Many concurrent updates from both instances: the final status is the furthest one, and
    // exactly one update per forward step was applied.
    let (a, b) = (Arc::new(a), Arc::new(b));
    let steps = [
        TransferStatus::New,
        TransferStatus::Process,
        TransferStatus::Waiting,
        TransferStatus::Success,
    ];
    let mut tasks = Vec::new();
    for round in 0..8 {
        for (i, step) in steps.iter().enumerate() {
            let store = if (round + i) % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            let step = step.clone();
            tasks.push(tokio::spawn(async move {
                store.apply("t-2", &step).await.unwrap()
            }));
        }
    }
    let mut applied = 0;
    for task in tasks {
        applied += usize::from(task.await.unwrap());
    }
    assert_eq!(a.known("t-2").await.unwrap(), Some(TransferStatus::Success));
    assert!(
        (1..=4).contains(&applied),
        "{applied} forward moves out of 4 steps"
    );
}

#[test]
fn stores_work_from_a_blocking_program() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // No tokio runtime here: the store runs its commands on a small one of its own.
    let store = RedisStatusStore::open(&redis.url(), "blocking-agent").unwrap();
    assert!(block_on(store.apply("t", &TransferStatus::New)).unwrap());
    assert_eq!(
        block_on(store.known("t")).unwrap(),
        Some(TransferStatus::New)
    );
}

/// Drives a future on this thread, as the blocking client does.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}
