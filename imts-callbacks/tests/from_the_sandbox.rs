//! The sandbox delivering real callbacks into a receiver built on this crate (the hyper service).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use imts::models::*;
use imts::types::TransferStatus;
use imts_callbacks::*;
use imts_sandbox::{AgentConfig, CallbackTarget, Sandbox, SandboxConfig};
use tokio::sync::mpsc;

const KEY: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";

/// Serves `processor` on a free port; returns its URL.
async fn serve<H: Handler + 'static>(processor: Arc<Processor<H>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/imts", listener.local_addr().unwrap());
    let service = CallbackService::new(processor);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
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

#[tokio::test]
async fn a_life_cycle_arrives_once_each_through_a_failing_handler() {
    // The handler fails on its first call; IMTS (the sandbox, time-scaled) retries.
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, String, bool)>();
    let failures = Arc::new(AtomicUsize::new(1));
    let handler = move |d: Delivery| {
        let (tx, failures) = (tx.clone(), Arc::clone(&failures));
        async move {
            if failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(HandlerError("first call fails".into()));
            }
            if let Notification::StatusUpdate(u) = &d.notification {
                let _ = tx.send((u.notification_id.clone(), u.status.to_string(), d.applied));
            }
            Ok(())
        }
    };
    let agent = AgentConfig::parse(&format!("agent-1:cb-secret:{KEY}")).unwrap();
    let processor = Arc::new(Processor::new(
        Verifier::new(agent.agent_secret.clone()),
        handler,
    ));
    let url = serve(Arc::clone(&processor)).await;
    let sandbox = Sandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        callbacks: vec![CallbackTarget::All(url.clone())],
        time_scale: 9000.0,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let credentials =
        imts::Credentials::new("agent-1".parse().unwrap(), agent.agent_secret.clone())
            .with_partner_key(agent.partner_key.clone());
    let client = imts::ClientBuilder::new(credentials)
        .config(imts::Config::new(sandbox.base_url()))
        .build()
        .unwrap();
    let person = imts_sandbox::samples::person("Ivanova").unwrap();
    let sender = client
        .create_person(&imts_sandbox::samples::create_person("Ivanova").unwrap())
        .await
        .unwrap();
    let t = client
        .create_transfer(&CreateTransferRequest::new(imts::models::NewTransfer {
            client_uuid: sender.client_uuid,
            destination: imts::types::Destination::Phone("998901234567".parse().unwrap()),
            target_country: "UZB".parse().unwrap(),
            order_id: "ORD-CB".parse().unwrap(),
            amount: imts::types::Money::new("10.00".parse().unwrap(), "KZT".parse().unwrap()),
            currency_target: "UZS".parse().unwrap(),
            purpose: "Family support".into(),
        }))
        .await
        .unwrap();
    client
        .confirm(&ConfirmRequest::new(t.transfer_id.clone()))
        .await
        .unwrap();
    client
        .payout(&Payout::new(t.transfer_id.clone(), person))
        .await
        .unwrap();
    let done = client
        .payout_confirm(&PayoutConfirmRequest::new(t.transfer_id.clone()))
        .await
        .unwrap();
    assert_eq!(done.status, TransferStatus::Success);

    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (id, status, _applied) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("delivered")
            .unwrap();
        statuses.push((id, status));
    }
    let mut names: Vec<&str> = statuses.iter().map(|(_, s)| s.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        vec!["new", "process", "success", "waiting"],
        "every status change once"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "nothing twice"
    );
    let stats = processor.stats();
    assert_eq!((stats.accepted, stats.handler_failures), (4, 1));
    assert_eq!(
        processor
            .known_status(t.transfer_id.as_str())
            .await
            .unwrap(),
        Some(TransferStatus::Success)
    );

    // A forged callback to the same receiver is refused; a replayed one is a duplicate.
    let client_http: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let forged = format!(
        r#"{{"type":"status_update","notification_id":"forged","transfer_id":"{}","status":"canceled","updated_at":"2026-11-22T10:00:00Z","pg_sig":"{}"}}"#,
        t.transfer_id,
        "0".repeat(64)
    );
    let response = client_http
        .request(
            http::Request::post(&url)
                .body(http_body_util::Full::new(bytes::Bytes::from(forged)))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        processor
            .known_status(t.transfer_id.as_str())
            .await
            .unwrap(),
        Some(TransferStatus::Success)
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn replayed_and_out_of_order_deliveries_are_counted_not_applied_twice() {
    let applied = Arc::new(Mutex::new(Vec::new()));
    let a = Arc::clone(&applied);
    let handler = move |d: Delivery| {
        let a = Arc::clone(&a);
        async move {
            a.lock().unwrap().push(d.applied);
            Ok(())
        }
    };
    let agent = AgentConfig::parse(&format!("agent-1:cb-secret:{KEY}")).unwrap();
    let processor = Arc::new(Processor::new(
        Verifier::new(agent.agent_secret.clone()),
        handler,
    ));
    // Capture two real, signed notifications from the sandbox by sending them to a recorder first.
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let recorder = move |d: Delivery| {
        let tx = tx.clone();
        async move {
            if let Notification::StatusUpdate(u) = &d.notification {
                let _ = tx.send(serde_json::to_vec(u).unwrap());
            }
            Ok(())
        }
    };
    let recorder = Arc::new(Processor::new(
        Verifier::new(agent.agent_secret.clone()),
        recorder,
    ));
    let url = serve(recorder).await;
    let sandbox = Sandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        callbacks: vec![CallbackTarget::All(url)],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let credentials =
        imts::Credentials::new("agent-1".parse().unwrap(), agent.agent_secret.clone())
            .with_partner_key(agent.partner_key.clone());
    let client = imts::ClientBuilder::new(credentials)
        .config(imts::Config::new(sandbox.base_url()))
        .build()
        .unwrap();
    let sender = client
        .create_person(&imts_sandbox::samples::create_person("Ivanova").unwrap())
        .await
        .unwrap();
    let t = client
        .create_transfer(&CreateTransferRequest::new(imts::models::NewTransfer {
            client_uuid: sender.client_uuid,
            destination: imts::types::Destination::Phone("998901234567".parse().unwrap()),
            target_country: "UZB".parse().unwrap(),
            order_id: "ORD-R".parse().unwrap(),
            amount: imts::types::Money::new("10.00".parse().unwrap(), "KZT".parse().unwrap()),
            currency_target: "UZS".parse().unwrap(),
            purpose: "x".into(),
        }))
        .await
        .unwrap();
    let created = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    client
        .confirm(&ConfirmRequest::new(t.transfer_id.clone()))
        .await
        .unwrap();
    let confirmed = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();

    // Deliver to the processor under test: newer first, then the older one, then replays.
    for body in [&confirmed, &created, &confirmed, &created] {
        assert_eq!(
            processor.process(&http::Method::POST, body).await.status,
            200
        );
    }
    assert_eq!(
        *applied.lock().unwrap(),
        vec![true, false],
        "the late `new` is delivered as stale"
    );
    let stats = processor.stats();
    assert_eq!((stats.accepted, stats.duplicates, stats.stale), (2, 2, 1));
    assert_eq!(
        processor
            .known_status(t.transfer_id.as_str())
            .await
            .unwrap(),
        Some(TransferStatus::Process)
    );
    sandbox.shutdown().await;
}
