//! Three `imts listen --redis` instances behind a round-robin forwarder that also replays every
//! delivery to the next instance (a retry landing elsewhere): every notification is printed
//! exactly once across the fleet. Then Redis is stopped mid-run: the instances fail closed (503),
//! the sandbox retries, and once Redis is back the notification is processed, once.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use imts::models::*;
use imts_redis::test_server::RedisServer;
use imts_sandbox::{AgentConfig, BackgroundSandbox, CallbackTarget, SandboxConfig};

const KEY: &str = "abababababababababababababababababababababababababababababababab";

struct Listener {
    child: Child,
    url: String,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listener(redis: &str, lines: mpsc::Sender<String>) -> Listener {
    let mut child = Command::new(env!("CARGO_BIN_EXE_imts"))
        .args(["listen", "--listen", "127.0.0.1:0", "--redis", redis])
        .env("IMTS_AGENT_SECRET", "fleet-secret")
        .env("IMTS_AGENT_ID", "fleet-agent")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    Listener { child, url }
}

/// Forwards each delivery to one instance, round robin, then replays it to the next one; answers
/// with the first instance's answer. Reports every first answer's status.
fn forwarder(targets: Vec<String>, statuses: mpsc::Sender<u16>) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}/", listener.local_addr().unwrap()))
                .unwrap();
            let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
            let next = Arc::new(AtomicUsize::new(0));
            let targets = Arc::new(targets);
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (client, next, targets, statuses) = (
                    client.clone(),
                    Arc::clone(&next),
                    Arc::clone(&targets),
                    statuses.clone(),
                );
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: http::Request<hyper::body::Incoming>| {
                            let (client, next, targets, statuses) = (
                                client.clone(),
                                Arc::clone(&next),
                                Arc::clone(&targets),
                                statuses.clone(),
                            );
                            async move {
                                let body = request.into_body().collect().await.unwrap().to_bytes();
                                let first = next.fetch_add(1, Ordering::SeqCst) % targets.len();
                                let mut answer = (502u16, Bytes::new());
                                for (n, index) in
                                    [first, (first + 1) % targets.len()].into_iter().enumerate()
                                {
                                    let request = http::Request::post(&targets[index])
                                        .body(Full::new(body.clone()))
                                        .unwrap();
                                    if let Ok(response) = client.request(request).await {
                                        let status = response.status().as_u16();
                                        let bytes = response
                                            .into_body()
                                            .collect()
                                            .await
                                            .unwrap()
                                            .to_bytes();
                                        if n == 0 {
                                            let _ = statuses.send(status);
                                            answer = (status, bytes);
                                        }
                                    }
                                }
                                let mut response = http::Response::new(Full::new(answer.1));
                                *response.status_mut() =
                                    http::StatusCode::from_u16(answer.0).unwrap();
                                Ok::<_, std::convert::Infallible>(response)
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

fn next_line(lines: &mpsc::Receiver<String>) -> serde_json::Value {
    serde_json::from_str(
        &lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a notification was printed"),
    )
    .unwrap()
}

#[test]
fn a_fleet_prints_each_notification_once_and_survives_a_redis_outage() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (line_tx, lines) = mpsc::channel();
    let fleet: Vec<Listener> = (0..3)
        .map(|_| listener(&redis.url(), line_tx.clone()))
        .collect();
    let (status_tx, statuses) = mpsc::channel();
    let forward = forwarder(fleet.iter().map(|l| l.url.clone()).collect(), status_tx);

    let agent = AgentConfig::parse(&format!("fleet-agent:fleet-secret:{KEY}")).unwrap();
    let sandbox = BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        callbacks: vec![CallbackTarget::All(forward)],
        time_scale: 3000.0, // retries every 300 ms
        ..SandboxConfig::default()
    })
    .unwrap();
    let credentials =
        imts::Credentials::new("fleet-agent".parse().unwrap(), agent.agent_secret.clone())
            .with_partner_key(agent.partner_key.clone());
    let client = imts::ClientBuilder::new(credentials)
        .config(imts::Config::new(sandbox.base_url()))
        .build_blocking()
        .expect("a blocking client");
    let sender = client
        .create_person(&imts_sandbox::samples::create_person("Ivanova").unwrap())
        .unwrap();
    let create = |order: &str| {
        client
            .create_transfer(&CreateTransferRequest::new(imts::models::NewTransfer {
                client_uuid: sender.client_uuid.clone(),
                destination: imts::types::Destination::Phone("998901234567".parse().unwrap()),
                target_country: "UZB".parse().unwrap(),
                order_id: order.parse().unwrap(),
                amount: imts::types::Money::new("10.00".parse().unwrap(), "KZT".parse().unwrap()),
                currency_target: "UZS".parse().unwrap(),
                purpose: "x".into(),
            }))
            .unwrap()
    };

    let first = create("FLEET-1");
    client
        .confirm(&ConfirmRequest::new(first.transfer_id.clone()))
        .unwrap();
    client
        .cancel(&CancelRequest::new(first.transfer_id.clone()))
        .unwrap();
    let mut printed: Vec<serde_json::Value> = (0..3).map(|_| next_line(&lines)).collect();

    // Outage: the next notification is refused (503) until Redis is back, then processed once.
    redis.stop();
    create("FLEET-2");
    let refused = statuses.iter().find(|&s| s == 503);
    assert_eq!(
        refused,
        Some(503),
        "an instance failed closed while Redis was down"
    );
    redis.restart();
    printed.push(next_line(&lines));

    // Nothing more arrives: every delivery and replay after the first was a duplicate.
    assert!(
        lines.recv_timeout(Duration::from_millis(1500)).is_err(),
        "a notification was printed twice"
    );
    let mut ids: Vec<String> = printed
        .iter()
        .map(|p| p["notification_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        4,
        "four notifications, each printed once: {printed:?}"
    );
    let mut kinds: Vec<String> = printed
        .iter()
        .map(|p| {
            format!(
                "{}:{}",
                p["order_id"].as_str().unwrap(),
                p["status"].as_str().unwrap()
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            "FLEET-1:canceled",
            "FLEET-1:new",
            "FLEET-1:process",
            "FLEET-2:new"
        ]
    );
    println!(
        "fleet: 3 instances, {} notifications, each processed once, through a Redis outage",
        ids.len()
    );
    drop(fleet);
}
