//! `imts listen` receiving the sandbox's callbacks: one JSON line per first-seen notification.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use imts::models::*;
use imts_sandbox::{AgentConfig, BackgroundSandbox, CallbackTarget, SandboxConfig};

const KEY: &str = "abababababababababababababababababababababababababababababababab";

fn post(addr: &str, body: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn listen_prints_each_first_seen_notification_once() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_imts"))
        .args(["listen", "--listen", "127.0.0.1:0"])
        .env("IMTS_AGENT_SECRET", "listen-secret")
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
        .trim_end_matches('/')
        .to_owned();
    let addr = url.trim_start_matches("http://").to_owned();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());

    let agent = AgentConfig::parse(&format!("agent-l:listen-secret:{KEY}")).unwrap();
    let sandbox = BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        callbacks: vec![CallbackTarget::All(format!("{url}/imts"))],
        ..SandboxConfig::default()
    })
    .unwrap();
    let credentials =
        imts::Credentials::new("agent-l".parse().unwrap(), agent.agent_secret.clone())
            .with_partner_key(agent.partner_key.clone());
    let client = imts::ClientBuilder::new(credentials)
        .config(imts::Config::new(sandbox.base_url()))
        .build_blocking()
        .expect("a blocking client");
    let sender = client
        .create_person(&imts_sandbox::samples::create_person("Ivanova").unwrap())
        .unwrap();
    let t = client
        .create_transfer(&CreateTransferRequest::new(
            imts_core::models::NewTransfer {
                client_uuid: sender.client_uuid,
                destination: imts_core::values::Destination::Phone("998901234567".parse().unwrap()),
                target_country: "UZB".parse().unwrap(),
                order_id: "ORD-L".parse().unwrap(),
                amount: imts_core::values::Money::new(
                    "10.00".parse().unwrap(),
                    "KZT".parse().unwrap(),
                ),
                currency_target: "UZS".parse().unwrap(),
                purpose: "x".into(),
            },
        ))
        .unwrap();
    client
        .cancel(&CancelRequest::new(t.transfer_id.clone()))
        .unwrap();

    let mut lines = Vec::new();
    for _ in 0..2 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(serde_json::from_str::<serde_json::Value>(&line).unwrap());
    }
    let mut statuses: Vec<String> = lines
        .iter()
        .map(|l| l["status"].as_str().unwrap().to_owned())
        .collect();
    statuses.sort();
    assert_eq!(statuses, vec!["canceled", "new"]);
    let canceled = lines.iter().find(|l| l["status"] == "canceled").unwrap();
    assert_eq!(canceled["applied"], true);
    assert!(canceled.get("pg_sig").is_none());

    // A forged notification is refused and not printed; a replay is acknowledged, not printed.
    let forged = r#"{"type":"status_update","notification_id":"f","transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","status":"success","updated_at":"2026-11-22T10:00:00Z","pg_sig":"00"}"#;
    assert_eq!(post(&addr, forged), 401);
    assert_eq!(post(&addr, "{oops"), 400);
    let mut replay = lines[0].clone();
    replay.as_object_mut().unwrap().remove("applied");
    let sig = imts_core::signature::CanonicalParams::from_json(replay.to_string().as_bytes())
        .unwrap()
        .sign(&imts_crypto::Signer::new(
            imts_crypto::AgentSecret::new("listen-secret").unwrap(),
        ));
    replay["pg_sig"] = sig.to_string().into();
    assert_eq!(post(&addr, &replay.to_string()), 200);

    child.kill().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.trim().is_empty(), "nothing else was printed: {rest}");
    let _ = child.wait();
}

#[test]
fn stalled_clients_do_not_hold_the_listener() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_imts"))
        .args(["listen", "--listen", "127.0.0.1:0"])
        .env("IMTS_AGENT_SECRET", "listen-secret")
        .stdout(Stdio::null())
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
        .trim_end_matches('/')
        .to_owned();
    let addr = url.trim_start_matches("http://").to_owned();
    // Fifty connections that send half a request and stall (slowloris).
    let stalled: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"POST /imts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
                .unwrap();
            s
        })
        .collect();
    // Others are still answered at once, each with its one clear status.
    for _ in 0..20 {
        assert_eq!(post(&addr, "{oops"), 400);
        assert_eq!(post(&addr, &"x".repeat(2 * 1024 * 1024)), 413);
    }
    drop(stalled);
    child.kill().unwrap();
    let _ = child.wait();
}
