//! `imts listen --inbox` killed with SIGKILL in the middle of a stream of callbacks and started
//! again on the same port: every notification the sandbox delivered is stored once, none is
//! lost (those sent while it was down are retried by the sandbox, as IMTS does), and after the
//! restart every row is processed (printed). `IMTS_INBOX_KILL_SEED` picks the kill point.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use imts::models::{CancelRequest, ConfirmRequest};
use imts_core::inbox::{Inbox, InboxState};
use imts_sandbox::{AgentConfig, BackgroundSandbox, CallbackTarget, SandboxConfig};

const KEY: &str = "abababababababababababababababababababababababababababababababab";

/// A listener process and the notification ids it printed (read on a thread).
struct Listener {
    child: Child,
    printed: mpsc::Receiver<String>,
}

fn listen(port: u16, inbox: &str) -> Listener {
    let mut child = Command::new(env!("CARGO_BIN_EXE_imts"))
        .args([
            "listen",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--inbox",
            inbox,
        ])
        .env("IMTS_AGENT_SECRET", "inbox-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    assert!(banner.contains("accepting"), "{banner}");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, printed) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            let _ = tx.send(value["notification_id"].as_str().unwrap().to_owned());
        }
    });
    Listener { child, printed }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_listener_killed_mid_stream_loses_nothing() {
    let seed: usize = std::env::var("IMTS_INBOX_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    eprintln!("IMTS_INBOX_KILL_SEED={seed}");
    let transfers = 12;
    let kill_after = 2 + seed % (transfers - 4);
    let dir = tempfile::tempdir().unwrap();
    let inbox_url = format!("sqlite:{}", dir.path().join("inbox.db").display());
    let port = free_port();
    let mut listener = listen(port, &inbox_url);

    let agent = AgentConfig::parse(&format!("agent-i:inbox-secret:{KEY}")).unwrap();
    let sandbox = BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        callbacks: vec![CallbackTarget::All(format!("http://127.0.0.1:{port}/imts"))],
        time_scale: 9000.0, // a retry 100 ms after a refused delivery
        ..SandboxConfig::default()
    })
    .unwrap();
    let credentials =
        imts::Credentials::new("agent-i".parse().unwrap(), agent.agent_secret.clone())
            .with_partner_key(agent.partner_key.clone());
    let client = imts::ClientBuilder::new(credentials)
        .base_url(sandbox.base_url())
        .build_blocking()
        .unwrap();
    let sender = client
        .create_person(&imts_sandbox::samples::create_person("Inbox").unwrap())
        .unwrap();
    let mut printed = BTreeSet::new();
    for i in 0..transfers {
        if i == kill_after {
            // SIGKILL: no chance to finish a run or a write in flight.
            listener.child.kill().unwrap();
            listener.child.wait().unwrap();
            printed.extend(listener.printed.try_iter());
            listener = listen(port, &inbox_url);
        }
        let request =
            imts_sandbox::samples::create_transfer(&sender.client_uuid, &format!("IN-{i}"))
                .unwrap();
        let t = client.create_transfer(&request).unwrap();
        client
            .confirm(&ConfirmRequest::new(t.transfer_id.clone()))
            .unwrap();
        client.cancel(&CancelRequest::new(t.transfer_id)).unwrap();
    }
    // Three status updates a transfer; each acknowledged once it was stored.
    let expected = (transfers * 3) as u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while sandbox.stats().callbacks_acknowledged < expected {
        assert!(
            Instant::now() < deadline,
            "seed {seed}: {:?}",
            sandbox.stats()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(sandbox.stats().callbacks_abandoned, 0, "seed {seed}");
    let inbox = imts::stores::SqliteInbox::open(dir.path().join("inbox.db")).unwrap();
    let all = loop {
        let rows = pollster::block_on(inbox.list(None)).unwrap();
        printed.extend(listener.printed.try_iter());
        if rows.iter().all(|r| r.state == InboxState::Done) {
            break rows;
        }
        assert!(Instant::now() < deadline, "seed {seed}: rows left pending");
        std::thread::sleep(Duration::from_millis(10));
    };
    listener.child.kill().unwrap();
    listener.child.wait().unwrap();
    printed.extend(listener.printed.try_iter());
    assert_eq!(
        all.len() as u64,
        expected,
        "seed {seed}: stored once each, none lost"
    );
    let stored: BTreeSet<String> = all.iter().map(|r| r.notification_id.clone()).collect();
    assert_eq!(stored.len() as u64, expected);
    assert!(
        stored.is_subset(&printed),
        "seed {seed}: every stored notification was processed: {:?}",
        stored.difference(&printed).collect::<Vec<_>>()
    );

    // `imts inbox`: list by state, show, discard, replay.
    let imts = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_imts"))
            .args(args)
            .env("IMTS_AGENT_SECRET", "inbox-secret")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, done) = imts(&["inbox", "list", "--inbox", &inbox_url, "--state", "done"]);
    assert_eq!((code, done.lines().count() as u64), (Some(0), expected));
    let id = all[0].notification_id.clone();
    let (code, shown) = imts(&["inbox", "show", "--inbox", &inbox_url, &id]);
    assert_eq!(code, Some(0));
    let shown: serde_json::Value = serde_json::from_str(shown.trim()).unwrap();
    assert_eq!(
        shown["body"]["notification_id"],
        id.as_str(),
        "the stored notification"
    );
    let (code, replayed) = imts(&["inbox", "replay", "--inbox", &inbox_url, &id]);
    assert_eq!(code, Some(0));
    assert!(replayed.contains(&id), "the handler ran again: {replayed}");
    assert_ne!(
        imts(&["inbox", "discard", "--inbox", &inbox_url, &id]).0,
        Some(0),
        "a done row is not discarded"
    );
    let (_, dead) = imts(&["inbox", "list", "--inbox", &inbox_url, "--state", "dead"]);
    assert_eq!(dead, "");
    let (code, _) = imts(&["inbox", "show", "--inbox", &inbox_url, "no-such-id"]);
    assert_ne!(code, Some(0));
}
