//! The processor with a fake clock: acknowledgement, duplicates, forgeries, rotation, handler
//! failures, late updates, slow handlers, unknown types, and arbitrary bytes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imts_callbacks::*;
use imts_core::signature::CanonicalParams;
use imts_core::transport::Clock;
use imts_crypto::{AgentSecret, Signer};
use proptest::prelude::*;
use time::OffsetDateTime;

const SECRET: &str = "partner-secret";
const TRANSFER: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

/// Wall time from `START`, monotonic time from the instant the clock was made, moved together.
struct FakeClock(Mutex<OffsetDateTime>, std::time::Instant);
const START: OffsetDateTime = time::macros::datetime!(2026-11-22 10:00 UTC);
impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
    fn monotonic(&self) -> std::time::Instant {
        self.1 + Duration::try_from(self.now() - START).unwrap()
    }
    fn sleep(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}
fn clock() -> FakeClock {
    FakeClock(Mutex::new(START), std::time::Instant::now())
}

fn sign(fields: &str, secret: &str) -> Vec<u8> {
    let body = format!("{{{fields}}}");
    let sig = CanonicalParams::from_json(body.as_bytes())
        .unwrap()
        .sign(&Signer::new(AgentSecret::new(secret).unwrap()));
    format!("{{{fields},\"pg_sig\":\"{sig}\"}}").into_bytes()
}

fn update(id: &str, status: &str, previous: Option<&str>) -> Vec<u8> {
    let previous = previous
        .map(|p| format!(",\"previous_status\":\"{p}\""))
        .unwrap_or_default();
    sign(
        &format!(
            r#""type":"status_update","notification_id":"{id}","transfer_id":"{TRANSFER}","order_id":"ORD-1","status":"{status}"{previous},"updated_at":"2026-11-22T10:00:00.000000Z""#
        ),
        SECRET,
    )
}

type Log = Arc<Mutex<Vec<(String, bool)>>>;

fn recording(fail_first: usize) -> (Log, impl Handler) {
    let log: Log = Arc::default();
    let failures = Arc::new(AtomicUsize::new(fail_first));
    let handler_log = Arc::clone(&log);
    let handler = move |d: Delivery| {
        let (log, failures) = (Arc::clone(&handler_log), Arc::clone(&failures));
        async move {
            if failures.load(Ordering::SeqCst) > 0 {
                failures.fetch_sub(1, Ordering::SeqCst);
                return Err(HandlerError("database down".into()));
            }
            log.lock()
                .unwrap()
                .push((d.notification.notification_id().to_owned(), d.applied));
            Ok(())
        }
    };
    (log, handler)
}

fn verifier() -> Verifier {
    Verifier::new(AgentSecret::new(SECRET).unwrap())
}

#[tokio::test]
async fn acknowledges_once_and_deduplicates() {
    let (log, handler) = recording(0);
    let p = Processor::new(verifier(), handler).with_clock(clock());
    let body = update("n-1", "new", None);
    let first = p.process(&http::Method::POST, &body).await;
    assert_eq!((first.status, first.body.as_slice()), (200, ACK_BODY));
    let again = p.process(&http::Method::POST, &body).await;
    assert_eq!((again.status, again.body.as_slice()), (200, ACK_BODY));
    assert_eq!(*log.lock().unwrap(), vec![("n-1".to_owned(), true)]);
    assert_eq!((p.stats().accepted, p.stats().duplicates), (1, 1));
}

#[tokio::test]
async fn forged_malformed_and_wrong_method_are_refused_unhandled() {
    let (log, handler) = recording(0);
    let p = Processor::new(verifier(), handler).with_clock(clock());
    let forged = sign(
        r#""type":"status_update","notification_id":"n-2","transfer_id":"x","status":"success""#,
        "attacker",
    );
    assert_eq!(p.process(&http::Method::POST, &forged).await.status, 401);
    let mut tampered = update("n-3", "new", None);
    let at = tampered.windows(5).position(|w| w == b"ORD-1").unwrap();
    tampered[at + 4] = b'2';
    assert_eq!(p.process(&http::Method::POST, &tampered).await.status, 401);
    let unsigned = br#"{"type":"status_update","notification_id":"n-4"}"#;
    assert_eq!(p.process(&http::Method::POST, unsigned).await.status, 401);
    assert_eq!(
        p.process(&http::Method::POST, b"{not json").await.status,
        400
    );
    let no_id = sign(r#""type":"status_update","transfer_id":"x""#, SECRET);
    assert_eq!(p.process(&http::Method::POST, &no_id).await.status, 400);
    let bad_fields = sign(
        r#""type":"status_update","notification_id":"n-5","transfer_id":"not-a-uuid","status":"new","updated_at":"x""#,
        SECRET,
    );
    assert_eq!(
        p.process(&http::Method::POST, &bad_fields).await.status,
        400
    );
    assert_eq!(
        p.process(&http::Method::GET, &update("n-6", "new", None))
            .await
            .status,
        405
    );
    assert!(log.lock().unwrap().is_empty());
    assert_eq!(p.stats().refused, 6);
    // The mismatch keeps the expected message for logs, but does not print it by default.
    match verifier().verify(&forged) {
        Err(CallbackError::BadSignature(m)) => {
            assert!(m.expected_message().ends_with(";***"));
            assert_eq!(m.to_string(), "pg_sig does not match");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn several_secrets_during_a_rotation() {
    let (log, handler) = recording(0);
    let rotating = Verifier::new(AgentSecret::new("old-secret").unwrap())
        .also_accept(AgentSecret::new(SECRET).unwrap());
    let p = Processor::new(rotating, handler).with_clock(clock());
    assert_eq!(
        p.process(&http::Method::POST, &update("n-7", "new", None))
            .await
            .status,
        200
    );
    let old = sign(
        r#""type":"status_update","notification_id":"n-8","transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","status":"process","updated_at":"2026-11-22T10:00:00Z""#,
        "old-secret",
    );
    assert_eq!(p.process(&http::Method::POST, &old).await.status, 200);
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_failed_handler_is_retried_and_then_processed_once() {
    let (log, handler) = recording(1);
    let p = Processor::new(verifier(), handler).with_clock(clock());
    let body = update("n-9", "process", Some("new"));
    assert_eq!(p.process(&http::Method::POST, &body).await.status, 500);
    assert_eq!(p.process(&http::Method::POST, &body).await.status, 200);
    assert_eq!(p.process(&http::Method::POST, &body).await.status, 200);
    assert_eq!(log.lock().unwrap().len(), 1);
    let s = p.stats();
    assert_eq!((s.handler_failures, s.accepted, s.duplicates), (1, 1, 1));
}

#[tokio::test]
async fn late_updates_never_move_a_transfer_backwards() {
    let (log, handler) = recording(0);
    let p = Processor::new(verifier(), handler).with_clock(clock());
    p.process(
        &http::Method::POST,
        &update("u-3", "waiting", Some("process")),
    )
    .await;
    p.process(&http::Method::POST, &update("u-1", "new", None))
        .await;
    p.process(&http::Method::POST, &update("u-2", "process", Some("new")))
        .await;
    p.process(
        &http::Method::POST,
        &update("u-4", "success", Some("waiting")),
    )
    .await;
    let seen: Vec<(String, bool)> = log.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            ("u-3".into(), true),
            ("u-1".into(), false),
            ("u-2".into(), false),
            ("u-4".into(), true)
        ]
    );
    assert_eq!(
        p.known_status(TRANSFER).await.unwrap(),
        Some(imts_core::enums::TransferStatus::Success)
    );
    assert_eq!(p.stats().stale, 2);
}

#[tokio::test]
async fn a_slow_handler_is_neither_doubled_nor_lost() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let (g, c) = (Arc::clone(&gate), Arc::clone(&calls));
    let handler = move |_d: Delivery| {
        let (gate, calls) = (Arc::clone(&g), Arc::clone(&c));
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            gate.notified().await; // longer than IMTS's 10 s answer timeout, as far as IMTS knows
            Ok(())
        }
    };
    let p = Arc::new(Processor::new(verifier(), handler).with_clock(clock()));
    let body = update("slow-1", "new", None);
    let first = tokio::spawn({
        let (p, body) = (Arc::clone(&p), body.clone());
        async move { p.process(&http::Method::POST, &body).await }
    });
    while calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    // IMTS gave up on the first delivery and retries: not processed, not acknowledged.
    assert_eq!(p.process(&http::Method::POST, &body).await.status, 503);
    gate.notify_one();
    assert_eq!(first.await.unwrap().status, 200);
    // The next retry finds it done.
    assert_eq!(p.process(&http::Method::POST, &body).await.status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!((p.stats().in_flight, p.stats().duplicates), (1, 1));
}

#[tokio::test]
async fn unknown_types_are_kept_whole() {
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    let handler = move |d: Delivery| {
        let s = Arc::clone(&s);
        async move {
            *s.lock().unwrap() = Some(d.notification);
            Ok(())
        }
    };
    let p = Processor::new(verifier(), handler).with_clock(clock());
    let body = sign(
        r#""type":"refund_issued","notification_id":"r-1","amount":10.50"#,
        SECRET,
    );
    assert_eq!(p.process(&http::Method::POST, &body).await.status, 200);
    let taken = seen.lock().unwrap().take().unwrap();
    match taken {
        Notification::Unknown { kind, raw, .. } => {
            assert_eq!(kind, "refund_issued");
            assert!(raw.get().contains("10.50"));
        }
        other => panic!("{other:?}"),
    }
}

proptest! {
    #[test]
    fn arbitrary_bodies_never_panic_and_are_never_handled(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (log, handler) = recording(0);
        let p = Processor::new(verifier(), handler).with_clock(clock());
        let answer = runtime.block_on(p.process(&http::Method::POST, &bytes));
        prop_assert!(answer.status == 400 || answer.status == 401);
        prop_assert!(log.lock().unwrap().is_empty());
    }

    #[test]
    fn signed_json_with_random_fields_never_panics(fields in proptest::collection::btree_map("[a-z_]{1,8}", "[ -~]{0,12}", 0..8)) {
        let inner: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{}", serde_json::json!(k), serde_json::json!(v))).collect();
        let body = sign(&inner.join(","), SECRET);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (_log, handler) = recording(0);
        let p = Processor::new(verifier(), handler).with_clock(clock());
        let answer = runtime.block_on(p.process(&http::Method::POST, &body));
        prop_assert!(answer.status == 200 || answer.status == 400);
    }
}
