//! The sandbox's control API through `imts_sandbox::Control`, against a real receiver: each
//! documented transition and its callbacks, a refused edge, the callback log, resend, emit, a
//! forced failure, and the control token. The IMTS side is unchanged: Status shows what the
//! control API did.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use imts::models::StatusRequest;
use imts::types::{Lookup, TransferStatus};
use imts::{ClientBuilder, Credentials};
use imts_sandbox::callback_log::DeliveryState;
use imts_sandbox::delivery::DeliveryControls;
use imts_sandbox::{AgentConfig, CallbackTarget, Control, ControlError, Sandbox, SandboxConfig};

const AGENT: &str =
    "control-agent:control-secret:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";

/// A receiver that answers 500 to the first `refuse` deliveries, acknowledges the rest, and hands
/// over each body.
fn receiver(refuse: usize) -> (String, mpsc::Receiver<serde_json::Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/imts", listener.local_addr().unwrap());
    let (bodies, received) = mpsc::channel();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let ack = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{\"status\":\"ok\"}";
            let refused = "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            let answer = if n < refuse { refused } else { ack };
            let _ = reader.get_mut().write_all(answer.as_bytes());
            if let Ok(value) = serde_json::from_slice(&body) {
                let _ = bodies.send(value);
            }
        }
    });
    (url, received)
}

fn next(bodies: &mpsc::Receiver<serde_json::Value>) -> serde_json::Value {
    bodies
        .recv_timeout(Duration::from_secs(30))
        .expect("a notification")
}

/// A sandbox whose callbacks go to a receiver, a client on it, its control client, and a
/// registered sender.
struct Bench {
    sandbox: Sandbox,
    client: imts::AsyncClient,
    control: Control,
    bodies: mpsc::Receiver<serde_json::Value>,
    sender: imts::types::ClientUuid,
}

impl Bench {
    async fn start(refuse: usize) -> Self {
        let (url, bodies) = receiver(refuse);
        let agent = AgentConfig::parse(AGENT).unwrap();
        let sandbox = Sandbox::start(SandboxConfig {
            agents: vec![agent.clone()],
            callbacks: vec![CallbackTarget::All(url)],
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let client = ClientBuilder::new(
            Credentials::new("control-agent".parse().unwrap(), agent.agent_secret.clone())
                .with_partner_key(agent.partner_key.clone()),
        )
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
        let control = Control::new(sandbox.base_url());
        let person = client
            .create_person(&imts_sandbox::samples::create_person("Ivanova").unwrap())
            .await
            .unwrap();
        Self {
            sandbox,
            client,
            control,
            bodies,
            sender: person.client_uuid,
        }
    }

    /// A new transfer; its id.
    async fn create(&self, order_id: &str) -> String {
        let request = imts_sandbox::samples::create_transfer(&self.sender, order_id).unwrap();
        let created = self.client.create_transfer(&request).await.unwrap();
        created.transfer_id.to_string()
    }

    /// A new transfer (its `new` update received); its id.
    async fn transfer(&self, order_id: &str) -> imts::types::TransferId {
        let id = self.create(order_id).await;
        assert_eq!(next(&self.bodies)["status"], "new");
        id.parse().unwrap()
    }

    /// Sets the delivery controls of the bench's agent.
    async fn deliver(&self, controls: DeliveryControls) {
        self.control
            .set_delivery("control-agent", &controls)
            .await
            .unwrap();
    }

    /// The transfer id of the next notification.
    fn next_transfer(&self) -> String {
        next(&self.bodies)["transfer_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_is_an_edge_from_new_process_and_waiting() {
    let bench = Bench::start(0).await;
    let path: [&[TransferStatus]; 3] = [
        &[],
        &[TransferStatus::Process],
        &[TransferStatus::Process, TransferStatus::Waiting],
    ];
    for (n, before) in path.into_iter().enumerate() {
        let id = bench.transfer(&format!("ORD-CANCEL-{n}")).await.to_string();
        for status in before {
            bench.control.advance(&id, status.clone()).await.unwrap();
            assert_eq!(next(&bench.bodies)["status"], status.as_str());
        }
        let canceled = bench
            .control
            .advance(&id, TransferStatus::Canceled)
            .await
            .unwrap();
        assert_eq!(canceled.status, TransferStatus::Canceled);
        let update = next(&bench.bodies);
        assert_eq!(update["status"], "canceled");
        let refused = bench.control.advance(&id, TransferStatus::Process).await;
        assert!(
            matches!(refused, Err(ControlError::Refused { status: 409, .. })),
            "canceled is final"
        );
    }
    drop(bench.sandbox);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_moves_transfers_and_replays_callbacks() {
    let bench = Bench::start(0).await;
    let (client, control, bodies) = (&bench.client, &bench.control, &bench.bodies);
    let transfer_id = bench.transfer("ORD-CONTROL-1").await;
    let id = transfer_id.to_string();

    // No edge from new to success: 409, nothing sent.
    let refused = control.advance(&id, TransferStatus::Success).await;
    assert!(
        matches!(&refused, Err(ControlError::Refused { status: 409, body }) if body.contains("invalid_status")),
        "{refused:?}"
    );
    // Along the life cycle: new -> process -> waiting -> success, one status update each.
    for (to, wire) in [
        (TransferStatus::Process, "process"),
        (TransferStatus::Waiting, "waiting"),
        (TransferStatus::Success, "success"),
    ] {
        let moved = control.advance(&id, to.clone()).await.unwrap();
        assert_eq!(moved.status, to.clone());
        let update = next(bodies);
        assert_eq!(
            (update["transfer_id"].as_str(), update["status"].as_str()),
            (Some(id.as_str()), Some(wire))
        );
        let status = client
            .status(&StatusRequest::new(Lookup::TransferId(transfer_id.clone())))
            .await
            .unwrap();
        assert_eq!(
            status.status, to,
            "IMTS's Status shows the control API's move"
        );
    }
    let final_refused = control.fail(&id, imts::types::ErrorCode::AmlRejected).await;
    assert!(
        matches!(
            final_refused,
            Err(ControlError::Refused { status: 409, .. })
        ),
        "a final transfer cannot be failed"
    );

    // The log: four notifications, each acknowledged once delivered.
    let mut log = control.callbacks().await.unwrap();
    for _ in 0..1000 {
        if log.iter().all(|c| c.state == DeliveryState::Acknowledged) {
            break;
        }
        tokio::task::yield_now().await;
        log = control.callbacks().await.unwrap();
    }
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(
        log.iter()
            .all(|c| c.state == DeliveryState::Acknowledged && c.attempts.len() == 1),
        "{log:?}"
    );
    let first = &log[0];
    assert_eq!(first.kind, "status_update");

    // Resend: the same notification, the same bytes.
    control.resend(&first.notification_id).await.unwrap();
    let again = next(bodies);
    let logged: serde_json::Value = serde_json::from_str(first.payload.get()).unwrap();
    assert_eq!(again, logged);
    assert!(matches!(
        control.resend("no-such-id").await,
        Err(ControlError::Refused { status: 404, .. })
    ));

    // Emit: a new status update of the status as it is.
    let emitted = control.emit(&id, "status_update").await.unwrap();
    assert_eq!(emitted.len(), 1);
    let update = next(bodies);
    assert_eq!(
        update["notification_id"].as_str(),
        Some(emitted[0].as_str())
    );
    assert_eq!(update["status"], "success");
    assert!(matches!(
        control.emit(&id, "transfer_received").await,
        Err(ControlError::Refused { status: 409, .. })
    ));
    assert!(matches!(
        control.emit(&id, "other").await,
        Err(ControlError::Refused { status: 422, .. })
    ));

    // A forced failure from process.
    let second_id = bench.transfer("ORD-CONTROL-2").await.to_string();
    control
        .advance(&second_id, TransferStatus::Process)
        .await
        .unwrap();
    assert_eq!(next(bodies)["status"], "process");
    let failed = control
        .fail(&second_id, imts::types::ErrorCode::AmlRejected)
        .await
        .unwrap();
    assert_eq!(failed.status, TransferStatus::Error);
    assert_eq!(failed.error_code, Some(imts::types::ErrorCode::AmlRejected));
    let update = next(bodies);
    assert_eq!(
        (
            update["status"].as_str(),
            update["previous_status"].as_str()
        ),
        (Some("error"), Some("process"))
    );
    assert!(matches!(
        control
            .advance(
                "0f8fad5b-d9cb-469f-a165-70867728950e",
                TransferStatus::Process
            )
            .await,
        Err(ControlError::Refused { status: 404, .. })
    ));
}

#[tokio::test]
async fn a_control_token_is_required_when_set() {
    let sandbox = Sandbox::start(SandboxConfig {
        agents: vec![AgentConfig::parse(AGENT).unwrap()],
        control_token: Some("let-me-in".into()),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let without = Control::new(sandbox.base_url()).callbacks().await;
    assert!(
        matches!(without, Err(ControlError::Refused { status: 401, .. })),
        "{without:?}"
    );
    let wrong = Control::new(sandbox.base_url())
        .with_token("let-me-out")
        .callbacks()
        .await;
    assert!(matches!(
        wrong,
        Err(ControlError::Refused { status: 401, .. })
    ));
    let with = Control::new(sandbox.base_url())
        .with_token("let-me-in")
        .callbacks()
        .await;
    assert!(with.unwrap().is_empty());
    let shown = format!(
        "{:?} {:?}",
        Control::new(sandbox.base_url()).with_token("let-me-in"),
        SandboxConfig {
            control_token: Some("let-me-in".into()),
            ..SandboxConfig::default()
        }
    );
    assert!(!shown.contains("let-me-in"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_advance_brings_the_retry_and_token_expiry_forward() {
    let bench = Bench::start(1).await;
    let id = bench.transfer("ORD-CLOCK-1").await.to_string();
    // The first delivery was refused; the retry is 15 minutes away on the sandbox's clock.
    let logged = |log: &[imts_sandbox::callback_log::LoggedCallback]| log[0].attempts.len();
    let mut log = bench.control.callbacks().await.unwrap();
    for _ in 0..1000 {
        if logged(&log) == 1 {
            break;
        }
        tokio::task::yield_now().await;
        log = bench.control.callbacks().await.unwrap();
    }
    assert_eq!(log[0].attempts[0].status, Some(500), "{log:?}");
    bench
        .control
        .advance_clock(Duration::from_secs(15 * 60))
        .await
        .unwrap();
    let retry = next(&bench.bodies);
    assert_eq!(
        (retry["transfer_id"].as_str(), retry["status"].as_str()),
        (Some(id.as_str()), Some("new"))
    );
    for _ in 0..1000 {
        log = bench.control.callbacks().await.unwrap();
        if log[0].state == DeliveryState::Acknowledged {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(log[0].attempts.len(), 2, "{log:?}");
    assert_eq!(log[0].state, DeliveryState::Acknowledged);

    // Past the access token's hour: the next call refreshes (the sandbox's clock, not ours).
    let refreshes = |stats: &imts_sandbox::Stats| stats.refresh + stats.auth;
    let before = refreshes(&bench.sandbox.stats());
    bench
        .control
        .advance_clock(Duration::from_secs(3601))
        .await
        .unwrap();
    bench
        .client
        .status(&StatusRequest::new(Lookup::TransferId(id.parse().unwrap())))
        .await
        .unwrap();
    assert_eq!(
        refreshes(&bench.sandbox.stats()),
        before + 1,
        "one token exchange"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_next_loses_that_many_notifications() {
    let bench = Bench::start(0).await;
    bench
        .deliver(DeliveryControls {
            drop_next: 1,
            ..DeliveryControls::default()
        })
        .await;
    let dropped = bench.create("ORD-DROP-1").await;
    let delivered = bench.create("ORD-DROP-2").await;
    assert_eq!(bench.next_transfer(), delivered);
    let log = bench.control.callbacks().await.unwrap();
    assert_eq!(
        (log[0].transfer_id.as_str(), log[0].state),
        (dropped.as_str(), DeliveryState::Lost)
    );
    assert!(log[0].attempts.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_holds_notifications_and_unpause_sends_them_in_order() {
    let bench = Bench::start(0).await;
    bench
        .deliver(DeliveryControls {
            paused: true,
            ..DeliveryControls::default()
        })
        .await;
    let first = bench.create("ORD-PAUSE-1").await;
    let second = bench.create("ORD-PAUSE-2").await;
    let log = bench.control.callbacks().await.unwrap();
    assert!(
        log.iter()
            .all(|c| c.state == DeliveryState::Pending && c.attempts.is_empty()),
        "{log:?}"
    );
    bench.deliver(DeliveryControls::default()).await;
    assert_eq!(
        [bench.next_transfer(), bench.next_transfer()],
        [first, second]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_delivers_the_same_notification_twice() {
    let bench = Bench::start(0).await;
    bench
        .deliver(DeliveryControls {
            duplicate: true,
            ..DeliveryControls::default()
        })
        .await;
    bench.create("ORD-DUP-1").await;
    let (once, twice) = (next(&bench.bodies), next(&bench.bodies));
    assert_eq!(once, twice, "the same id, the same bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_holds_the_first_attempt_back() {
    let bench = Bench::start(0).await;
    bench
        .deliver(DeliveryControls {
            delay_ms: 300,
            ..DeliveryControls::default()
        })
        .await;
    let started = std::time::Instant::now();
    bench.create("ORD-DELAY-1").await;
    next(&bench.bodies);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_delivers_the_newer_first() {
    let bench = Bench::start(0).await;
    bench
        .deliver(DeliveryControls {
            out_of_order: true,
            ..DeliveryControls::default()
        })
        .await;
    let older = bench.create("ORD-OOO-1").await;
    let newer = bench.create("ORD-OOO-2").await;
    assert_eq!(
        [bench.next_transfer(), bench.next_transfer()],
        [newer, older]
    );
    let too_long = DeliveryControls {
        delay_ms: 600_001,
        ..DeliveryControls::default()
    };
    let refused = bench.control.set_delivery("control-agent", &too_long).await;
    assert!(
        matches!(refused, Err(ControlError::Refused { status: 422, .. })),
        "{refused:?}"
    );
    let unknown = bench
        .control
        .set_delivery("nobody", &DeliveryControls::default())
        .await;
    assert!(matches!(
        unknown,
        Err(ControlError::Refused { status: 404, .. })
    ));
}
