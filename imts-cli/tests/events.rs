//! `imts trigger` and `imts events list|resend` against a sandbox whose callbacks go to
//! `imts listen`.

mod common;

use std::process::{Command, Output};

use common::{start, url_in, SECRET};
use imts_sandbox::{AgentConfig, BackgroundSandbox, CallbackTarget, SandboxConfig};

const KEY: &str = "abababababababababababababababababababababababababababababababab";

fn imts(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imts"))
        .args(args)
        .env_remove("IMTS_BASE_URL")
        .output()
        .unwrap()
}

fn events(base_url: &str) -> Vec<serde_json::Value> {
    let list = imts(&["events", "list", "--base-url", base_url, "--output", "json"]);
    assert_eq!(list.status.code(), Some(0), "{list:?}");
    String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn trigger_emits_and_events_lists_and_resends() {
    let (_listen, lines) = start(
        &["listen", "--listen", "127.0.0.1:0"],
        &["accepting notifications"],
    );
    let agent = AgentConfig::parse(&format!("agent-e:{SECRET}:{KEY}")).unwrap();
    let sandbox = BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        callbacks: vec![CallbackTarget::All(format!("{}/imts", url_in(&lines[0])))],
        ..SandboxConfig::default()
    })
    .unwrap();
    let client = imts::ClientBuilder::new(
        imts::Credentials::new("agent-e".parse().unwrap(), agent.agent_secret.clone())
            .with_partner_key(agent.partner_key.clone()),
    )
    .base_url(sandbox.base_url())
    .build_blocking()
    .unwrap();
    let person = client
        .create_person(&imts_sandbox::samples::create_person("Ivanova").unwrap())
        .unwrap();
    let transfer = client
        .create_transfer(
            &imts_sandbox::samples::create_transfer(&person.client_uuid, "ORD-EVENTS-1").unwrap(),
        )
        .unwrap();
    let id = transfer.transfer_id.to_string();

    let triggered = imts(&[
        "trigger",
        "status_update",
        "--transfer",
        &id,
        "--base-url",
        sandbox.base_url(),
        "--output",
        "json",
    ]);
    assert_eq!(triggered.status.code(), Some(0), "{triggered:?}");
    let emitted: serde_json::Value = serde_json::from_slice(&triggered.stdout).unwrap();
    let emitted = emitted["notification_id"].as_str().unwrap().to_owned();

    // The creation's update and the triggered one, both acknowledged by `imts listen`.
    let mut log = events(sandbox.base_url());
    for _ in 0..200 {
        if log.len() == 2 && log.iter().all(|e| e["state"] == "acknowledged") {
            break;
        }
        log = events(sandbox.base_url());
    }
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log.iter().all(|e| e["state"] == "acknowledged"), "{log:?}");
    assert_eq!(log[1]["notification_id"], emitted.as_str());
    assert_eq!(log[1]["payload"]["status"], "new");

    let resent = imts(&[
        "events",
        "resend",
        &emitted,
        "--base-url",
        sandbox.base_url(),
    ]);
    assert_eq!(resent.status.code(), Some(0), "{resent:?}");
    let unknown = imts(&["events", "resend", "nope", "--base-url", sandbox.base_url()]);
    assert_eq!(unknown.status.code(), Some(3), "{unknown:?}");
    let wrong = imts(&[
        "trigger",
        "transfer_received",
        "--transfer",
        &id,
        "--base-url",
        sandbox.base_url(),
    ]);
    assert_eq!(
        wrong.status.code(),
        Some(3),
        "a new transfer is not receivable yet"
    );
    let unreachable = imts(&["events", "list", "--base-url", "http://127.0.0.1:9"]);
    assert_eq!(unreachable.status.code(), Some(4));
}
