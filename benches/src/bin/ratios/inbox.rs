//! Acknowledging callbacks with an inbox: distinct signed notifications posted by 32 concurrent
//! senders to a loopback receiver (the hyper service around the processor) that stores each in
//! the inbox before answering. Per backend: acknowledgements per second and their p50/p99.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use imts_callbacks::{CallbackService, Delivery, HandlerError, Processor, Verifier};
use imts_core::inbox::{Inbox, MemoryInbox};
use imts_core::signature::CanonicalParams;
use imts_crypto::{AgentSecret, Signer};

const SECRET: &str = "inbox-bench-secret";
/// Notifications per backend.
const COUNT: usize = 4000;
/// Concurrent senders.
const SENDERS: usize = 32;

/// Adds the rows and ratios of the inbox's acknowledgement figures.
pub fn cost(rows: &mut Vec<(String, f64, String)>, ratios: &mut Vec<(&'static str, f64)>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("imts-ratios-inbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let memory: Arc<dyn Inbox> = Arc::new(MemoryInbox::default());
    let sqlite: Arc<dyn Inbox> =
        Arc::new(imts_sqlite::SqliteInbox::open(dir.join("inbox.db")).unwrap());
    let mut backends = vec![
        ("memory", memory, "not durable"),
        ("SQLite", sqlite, "WAL, synchronous=FULL"),
    ];
    let server = imts_postgres::test_server::PostgresServer::start();
    if let Some(server) = &server {
        let postgres = runtime
            .block_on(imts_postgres::PostgresJournal::connect(&server.url()))
            .unwrap();
        backends.push((
            "PostgreSQL",
            Arc::new(postgres.inbox()),
            "synchronous_commit=on",
        ));
    }
    let mut rates = Vec::new();
    for (name, inbox, durability) in backends {
        let (rate, p50, p99) = runtime.block_on(measure(inbox, name));
        rows.push((
            format!("inbox ack, {name}, {SENDERS} senders: p50"),
            p50.as_nanos() as f64,
            format!("{rate:.0} acks/s, {durability}"),
        ));
        rows.push((
            format!("inbox ack, {name}, {SENDERS} senders: p99"),
            p99.as_nanos() as f64,
            String::new(),
        ));
        rates.push((name, rate));
    }
    let memory_rate = rates[0].1;
    for (name, rate) in &rates[1..] {
        let key = match *name {
            "SQLite" => "inbox_ack_rate_sqlite_vs_memory",
            _ => "inbox_ack_rate_postgres_vs_memory",
        };
        ratios.push((key, rate / memory_rate));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Posts [`COUNT`] distinct notifications; answers acknowledgements per second, p50 and p99.
async fn measure(inbox: Arc<dyn Inbox>, tag: &str) -> (f64, Duration, Duration) {
    let handler = |_: Delivery| async { Ok::<(), HandlerError>(()) };
    let processor = Arc::new(
        Processor::new(Verifier::new(AgentSecret::new(SECRET).unwrap()), handler).with_inbox(inbox),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/imts", listener.local_addr().unwrap());
    let service = CallbackService::new(processor);
    let accept = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let signer = Signer::new(AgentSecret::new(SECRET).unwrap());
    let bodies: Vec<Vec<u8>> = (0..COUNT).map(|i| notification(&signer, tag, i)).collect();
    let bodies = Arc::new(bodies);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for sender in 0..SENDERS {
        let (client, url, bodies) = (client.clone(), url.clone(), Arc::clone(&bodies));
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            for body in bodies.iter().skip(sender).step_by(SENDERS) {
                let sent = Instant::now();
                let answer = client.post(&url).body(body.clone()).send().await.unwrap();
                assert_eq!(answer.status(), 200);
                latencies.push(sent.elapsed());
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(COUNT);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.unwrap());
    }
    let elapsed = started.elapsed();
    accept.abort();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (COUNT as f64 / elapsed.as_secs_f64(), at(0.50), at(0.99))
}

/// A signed `status_update` with its own id.
fn notification(signer: &Signer, tag: &str, i: usize) -> Vec<u8> {
    let mut value = serde_json::json!({
        "type": "status_update",
        "notification_id": format!("{tag}-{i}"),
        "transfer_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "order_id": format!("ORD-{i}"),
        "status": "process",
        "previous_status": "new",
        "updated_at": "2026-12-01T10:00:00.000000Z",
    });
    let unsigned = serde_json::to_vec(&value).unwrap();
    let sig = CanonicalParams::from_json(&unsigned).unwrap().sign(signer);
    value["pg_sig"] = sig.to_string().into();
    serde_json::to_vec(&value).unwrap()
}
