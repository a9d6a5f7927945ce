//! Faults of each kind, 100 concurrent identical creates, and callbacks with retries.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use imts_core::models::*;
use imts_core::signature::CanonicalParams;
use imts_crypto::Signer;
use imts_sandbox::{CallbackTarget, FaultRule, SandboxConfig};
use tokio::sync::mpsc;

async fn client(partner: &Partner) -> String {
    let op = CreatePerson::new(
        person("Ivanova"),
        "KAZ".parse().unwrap(),
        "77011234567".parse().unwrap(),
    );
    partner.ok(&op).await.client_uuid.to_string()
}

#[tokio::test]
async fn each_fault_kind() {
    let config = SandboxConfig {
        faults: vec![
            FaultRule::parse("fees:503:1").unwrap(),
            FaultRule::parse("create:drop-after:1").unwrap(),
            FaultRule::parse("confirm:drop-before:1").unwrap(),
            FaultRule::parse("agents:delay-200:1").unwrap(),
        ],
        ..SandboxConfig::default()
    };
    let sandbox = start(config).await;
    let partner = Partner::login(&sandbox, 0).await;

    let a = partner
        .call(&FeesRequest::new(
            imts_core::enums::OriginatorType::Person,
            "UZB".parse().unwrap(),
            imts_core::values::Money::new("1.00".parse().unwrap(), "KZT".parse().unwrap()),
            "UZS".parse().unwrap(),
        ))
        .await;
    assert_eq!((a.status, a.code()), (503, "unavailable".into()));
    assert_eq!(a.headers["retry-after"], "0");

    let uuid = client(&partner).await;
    assert!(
        send(partner.request(&create_transfer(&uuid, "ORD-F-1", None)))
            .await
            .is_none(),
        "drop-after: no answer"
    );
    let t = partner
        .ok(&StatusRequest::new(imts_core::values::Lookup::OrderId(
            "ORD-F-1".parse().unwrap(),
        )))
        .await;
    assert_eq!(
        t.status,
        imts_core::enums::TransferStatus::New,
        "drop-after applied the create"
    );

    assert!(
        send(partner.request(&ConfirmRequest::new(t.transfer_id.clone())))
            .await
            .is_none(),
        "drop-before: no answer"
    );
    let after = partner
        .ok(&StatusRequest::new(imts_core::values::Lookup::TransferId(
            t.transfer_id.clone(),
        )))
        .await;
    assert_eq!(
        after.status,
        imts_core::enums::TransferStatus::New,
        "drop-before applied nothing"
    );

    let started = std::time::Instant::now();
    partner.ok(&GetAgentsRequest::new()).await;
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "delay fault waits"
    );

    let stats = sandbox.stats();
    assert_eq!(stats.faults["503"], 1);
    assert_eq!(stats.faults["drop-after"], 1);
    assert_eq!(stats.faults["drop-before"], 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_hundred_identical_creates_make_one_transfer() {
    let sandbox = start(SandboxConfig::default()).await;
    let partner = Arc::new(Partner::login(&sandbox, 0).await);
    let uuid = client(&partner).await;
    let request = create_transfer(&uuid, "ORD-CONCURRENT", None);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let req = partner.request(&request);
        tasks.push(tokio::spawn(send(req)));
    }
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let answer = task.await.unwrap().unwrap();
        assert_eq!(answer.status, 200);
        ids.insert(answer.json()["transfer_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(sandbox.stats().transfers_per_order_id["ORD-CONCURRENT"], 1);
    sandbox.shutdown().await;
}

/// A callback receiver: answers 500 to the first `failures` deliveries, then `{"status":"ok"}`;
/// every body it receives goes to the channel.
async fn receiver(failures: usize) -> (String, mpsc::UnboundedReceiver<(u16, Vec<u8>)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/imts/callback", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (tx, seen) = (tx.clone(), Arc::clone(&seen));
            tokio::spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let (tx, seen) = (tx.clone(), Arc::clone(&seen));
                    async move {
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .unwrap()
                            .to_bytes()
                            .to_vec();
                        let n = seen.fetch_add(1, Ordering::SeqCst);
                        let (status, answer) = if n < failures {
                            (500, "{}")
                        } else {
                            (200, r#"{"status":"ok"}"#)
                        };
                        let _ = tx.send((status, body));
                        let mut response = http::Response::new(Full::new(Bytes::from(answer)));
                        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(u16, Vec<u8>)>) -> (u16, serde_json::Value) {
    let (status, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a delivery in time")
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

/// Polls `condition` for up to 5 s (a deadline, not a guess at how long something takes).
async fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    condition()
}

fn verify(notification: &serde_json::Value, secret_text: &str) {
    let body = serde_json::to_vec(notification).unwrap();
    let params = CanonicalParams::from_json(&body).unwrap();
    params
        .verify(
            &Signer::new(secret(secret_text)),
            notification["pg_sig"].as_str().unwrap(),
        )
        .expect("the notification is signed with the receiving partner's secret");
}

#[tokio::test]
async fn callbacks_are_signed_delivered_and_retried() {
    let (url_1, mut rx_1) = receiver(1).await;
    let (url_2, mut rx_2) = receiver(0).await;
    let config = SandboxConfig {
        callbacks: vec![
            CallbackTarget::parse(&format!("agent-1={url_1}")).unwrap(),
            CallbackTarget::parse(&format!("agent-2={url_2}")).unwrap(),
        ],
        time_scale: 9000.0, // 15 minutes become 100 ms
        ..SandboxConfig::default()
    };
    let sandbox = start(config).await;
    let partner = Partner::login(&sandbox, 0).await;
    let uuid = client(&partner).await;
    let t = partner.ok(&create_transfer(&uuid, "ORD-CB-1", None)).await;

    // Creation: first delivery refused with 500, the retry carries the same notification.
    let (status, first) = next(&mut rx_1).await;
    assert_eq!(status, 500);
    let (status, retry) = next(&mut rx_1).await;
    assert_eq!(status, 200);
    assert_eq!(first["notification_id"], retry["notification_id"]);
    assert_eq!(retry["type"], "status_update");
    assert_eq!(retry["status"], "new");
    assert!(retry.get("previous_status").is_none());
    verify(&retry, SECRET_1);

    partner
        .ok(&ConfirmRequest::new(t.transfer_id.clone()))
        .await;
    let (_, update) = next(&mut rx_1).await;
    assert_eq!(
        (
            update["status"].as_str(),
            update["previous_status"].as_str()
        ),
        (Some("process"), Some("new"))
    );
    verify(&update, SECRET_1);

    // On demand: the other partner hears of it, signed with its own secret, identifier masked.
    let (_, received) = next(&mut rx_2).await;
    assert_eq!(received["type"], "transfer_received");
    assert_eq!(received["transfer_id"], t.transfer_id.as_str());
    assert_eq!(received["destination_identifier"], "********4567");
    assert_eq!(received["amount_target"].to_string(), "2447.18");
    verify(&received, SECRET_2);

    // The receiver reports before it answers: wait (bounded) for the sandbox to count the answers.
    let counted = eventually(|| sandbox.stats().callbacks_acknowledged == 3).await;
    assert!(counted, "{:?}", sandbox.stats());
    assert_eq!(sandbox.stats().callbacks_sent, 4);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried_three_times_then_abandoned() {
    let (url, mut rx) = receiver(usize::MAX).await;
    let config = SandboxConfig {
        callbacks: vec![CallbackTarget::parse(&url).unwrap()],
        time_scale: 9000.0,
        ..SandboxConfig::default()
    };
    let sandbox = start(config).await;
    let partner = Partner::login(&sandbox, 0).await;
    let uuid = client(&partner).await;
    partner.ok(&create_transfer(&uuid, "ORD-CB-2", None)).await;
    let mut ids = std::collections::BTreeSet::new();
    for _ in 0..4 {
        let (status, n) = next(&mut rx).await;
        assert_eq!(status, 500);
        ids.insert(n["notification_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "one notification, four deliveries");
    assert!(
        tokio::time::timeout(Duration::from_millis(400), rx.recv())
            .await
            .is_err(),
        "no fifth delivery"
    );
    assert!(eventually(|| sandbox.stats().callbacks_abandoned == 1).await);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_outage_refuses_every_delivery_until_it_ends_on_the_sandbox_clock() {
    let (url, mut rx) = receiver(0).await;
    let config = SandboxConfig {
        callbacks: vec![CallbackTarget::parse(&url).unwrap()],
        time_scale: 9000.0,
        callback_outage: Duration::from_secs(3600),
        // The token outlives the clock's jump past the outage.
        access_ttl: Duration::from_secs(24 * 3600),
        ..SandboxConfig::default()
    };
    let sandbox = start(config).await;
    let partner = Partner::login(&sandbox, 0).await;
    let uuid = client(&partner).await;
    partner.ok(&create_transfer(&uuid, "ORD-OUT-1", None)).await;
    assert!(eventually(|| sandbox.stats().callbacks_abandoned == 1).await);
    let stats = sandbox.stats();
    assert_eq!(
        (stats.callbacks_refused_outage, stats.callbacks_sent),
        (4, 0)
    );
    assert!(rx.try_recv().is_err(), "nothing reached the receiver");
    // After the outage (the sandbox's clock moved past it), deliveries go through.
    sandbox.advance_clock(Duration::from_secs(3601));
    partner.ok(&create_transfer(&uuid, "ORD-OUT-2", None)).await;
    let (status, _) = next(&mut rx).await;
    assert_eq!(status, 200);
    assert!(eventually(|| sandbox.stats().callbacks_acknowledged == 1).await);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_lost_notification_is_never_delivered_and_losses_follow_the_seed() {
    let mut counts = Vec::new();
    for _ in 0..2 {
        let (url, mut rx) = receiver(0).await;
        let sandbox = start(SandboxConfig {
            callbacks: vec![CallbackTarget::parse(&url).unwrap()],
            callback_loss: 0.5,
            seed: 77,
            ..SandboxConfig::default()
        })
        .await;
        let partner = Partner::login(&sandbox, 0).await;
        let uuid = client(&partner).await;
        for i in 0..20 {
            partner
                .ok(&create_transfer(&uuid, &format!("ORD-LOSS-{i}"), None))
                .await;
        }
        let lost = sandbox.stats().callbacks_lost;
        assert!(lost > 0 && lost < 20, "about half of 20 lost: {lost}");
        for _ in 0..(20 - lost) {
            assert_eq!(next(&mut rx).await.0, 200);
        }
        assert!(eventually(|| sandbox.stats().callbacks_acknowledged == 20 - lost).await);
        assert_eq!(
            sandbox.stats().callbacks_sent,
            20 - lost,
            "no retries of a lost one"
        );
        counts.push(lost);
        sandbox.shutdown().await;
    }
    assert_eq!(
        counts[0], counts[1],
        "the same seed loses the same notifications"
    );
}
