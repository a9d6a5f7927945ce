//! The inbox end to end on loopback: the sandbox delivers into a listener that stores first and
//! answers at once; a worker runs a handler that sleeps past IMTS's 10-second timeout once, fails
//! the first times for some transfers, panics once, and always fails for poisoned ones. Every notification is acknowledged on its
//! first delivery (no retry caused by the handler), every one is handled successfully exactly
//! once except the poisoned ones, which end as dead letters with their last error.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use imts::models::{CancelRequest, ConfirmRequest};
use imts_callbacks::*;
use imts_core::inbox::{Inbox, InboxState, MemoryInbox, RetryPolicy};
use imts_core::values::Timestamp;
use imts_sandbox::{AgentConfig, CallbackTarget, Sandbox, SandboxConfig};

const KEY: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";

/// Serves `processor` on a free port; returns its URL.
async fn serve<H: Handler + 'static>(processor: Arc<Processor<H>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/imts", listener.local_addr().unwrap());
    let service = CallbackService::new(processor);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    url
}

/// Successful handler runs per notification id.
type Effects = Arc<Mutex<BTreeMap<String, u32>>>;

fn order_of(delivery: &Delivery) -> String {
    match &delivery.notification {
        Notification::StatusUpdate(update) => update
            .order_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        _ => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_first_then_process_with_retries_a_panic_and_dead_letters() {
    let effects: Effects = Arc::default();
    let recorded = Arc::clone(&effects);
    let slept = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handler = move |delivery: Delivery| {
        let (effects, slept) = (Arc::clone(&recorded), Arc::clone(&slept));
        async move {
            let order = order_of(&delivery);
            if order == "SLOW" && !slept.swap(true, std::sync::atomic::Ordering::SeqCst) {
                // Longer than IMTS waits for an answer; the acknowledgements must not wait.
                tokio::time::sleep(Duration::from_secs(11)).await;
            }
            if order.starts_with("POISON") {
                return Err(HandlerError("poisoned".into()));
            }
            if order.starts_with("FLAKY") && delivery.attempt < 3 {
                return Err(HandlerError(format!("flaky, attempt {}", delivery.attempt)));
            }
            if order == "PANIC" && delivery.attempt == 1 {
                panic!("the handler panics once");
            }
            let id = delivery.notification.notification_id().to_owned();
            *effects.lock().unwrap().entry(id).or_default() += 1;
            Ok(())
        }
    };
    let agent = AgentConfig::parse(&format!("inbox-agent:inbox-secret:{KEY}")).unwrap();
    let inbox: Arc<dyn Inbox> = Arc::new(MemoryInbox::default());
    let processor = Arc::new(
        Processor::new(Verifier::new(agent.agent_secret.clone()), handler)
            .with_inbox(Arc::clone(&inbox)),
    );
    let url = serve(Arc::clone(&processor)).await;
    let sandbox = Sandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        callbacks: vec![CallbackTarget::All(url)],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let credentials =
        imts::Credentials::new("inbox-agent".parse().unwrap(), agent.agent_secret.clone())
            .with_partner_key(agent.partner_key.clone());
    let client = imts::ClientBuilder::new(credentials)
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    let sender = client
        .create_person(&imts_sandbox::samples::create_person("Inbox").unwrap())
        .await
        .unwrap();
    // The worker runs while the deliveries arrive; the first row it takes is SLOW's.
    let policy = RetryPolicy {
        max_attempts: 4,
        first: Duration::from_secs(1),
        max_delay: Duration::from_secs(8),
    };
    let worker = Arc::new(
        InboxWorker::new(Arc::clone(&processor), Arc::clone(&inbox), "worker-1")
            .with_policy(policy),
    );
    let background = {
        let worker = Arc::clone(&worker);
        tokio::spawn(async move {
            loop {
                worker.run_due(worker.now()).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let orders: Vec<String> = std::iter::once("SLOW".to_owned())
        .chain((0..6).map(|i| format!("OK-{i}")))
        .chain((0..3).map(|i| format!("FLAKY-{i}")))
        .chain([
            "PANIC".to_owned(),
            "POISON-1".to_owned(),
            "POISON-2".to_owned(),
        ])
        .collect();
    for order in &orders {
        let t = client
            .create_transfer(
                &imts_sandbox::samples::create_transfer(&sender.client_uuid, order).unwrap(),
            )
            .await
            .unwrap();
        client
            .confirm(&ConfirmRequest::new(t.transfer_id.clone()))
            .await
            .unwrap();
        client
            .cancel(&CancelRequest::new(t.transfer_id))
            .await
            .unwrap();
    }
    // Three status updates a transfer (created, confirmed, canceled), each stored and answered.
    let expected = (orders.len() * 3) as u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sandbox.stats().callbacks_acknowledged < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            sandbox.stats()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stats = sandbox.stats();
    assert_eq!(
        stats.callbacks_sent, expected,
        "no delivery was retried, though the handler was still asleep on the first"
    );
    assert_eq!(processor.stats().stored, expected);
    assert!(
        effects.lock().unwrap().is_empty(),
        "the worker is still on SLOW"
    );
    // The process "stops" mid-run; the same worker name takes the held row up at once.
    background.abort();
    let _ = background.await;

    // The worker on an injected clock: each pass runs what is due, then time moves on.
    let start = Timestamp::new(time::OffsetDateTime::now_utc());
    for second in 0..60 {
        let now = Timestamp::new(start.as_offset_date_time() + Duration::from_secs(second));
        worker.run_due(now).await.unwrap();
    }
    let rows = inbox.list(None).await.unwrap();
    assert_eq!(rows.len() as u64, expected, "stored once each");
    let dead = inbox.list(Some(InboxState::Dead)).await.unwrap();
    assert_eq!(
        dead.len(),
        6,
        "the two poisoned transfers' three updates each"
    );
    assert!(dead
        .iter()
        .all(|r| r.attempts == 4 && r.last_error.as_deref() == Some("handler failed: poisoned")));
    let done = inbox.list(Some(InboxState::Done)).await.unwrap();
    assert_eq!(done.len() as u64, expected - 6);
    let effects = effects.lock().unwrap().clone();
    assert_eq!(effects.len() as u64, expected - 6);
    assert!(
        effects.values().all(|&n| n == 1),
        "each handled once: {effects:?}"
    );
    let panicked = done
        .iter()
        .filter(|r| r.last_error.as_deref() == Some("the handler panicked"));
    assert_eq!(panicked.count(), 3, "a panic is a failed run, retried");

    // A person replays a dead letter once the cause is fixed (here: it stays poisoned), and
    // discards it.
    let id = dead[0].notification_id.clone();
    let replayed = worker.replay(&id, worker.now()).await.unwrap();
    assert_eq!(
        replayed.state,
        InboxState::Pending,
        "a failed replay waits for its backoff"
    );
    let discarded = worker.discard(&id, worker.now()).await.unwrap();
    assert_eq!(discarded.state, InboxState::Dead);
    sandbox.shutdown().await;
}
