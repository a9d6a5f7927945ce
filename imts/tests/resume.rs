//! `resume` after a crash, with the crash's leftovers made by hand in a real SQLite journal:
//! an intent never sent, a Create sent and applied whose answer was lost, a Create "sent" that
//! never reached the API, a Confirm applied whose answer was lost, and a Create person with an
//! unknown outcome. Each is resolved as the contract says, no transfer is created twice, and a
//! second resume has nothing to do.

use std::sync::Arc;
use std::time::Instant;

use imts::journal::{Event, Intent, Journal, Resolution, State, Update};
use imts::models::ConfirmRequest;
use imts::protocol::{Call, Operation};
use imts::stores::SqliteJournal;
use imts::types::Timestamp;
use imts::{ClientBuilder, Config, Credentials};
use imts_sandbox::{samples, AgentConfig, BackgroundSandbox, SandboxConfig};

fn agent() -> AgentConfig {
    AgentConfig::parse(
        "resume-agent:resume-secret:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
    )
    .unwrap()
}

fn credentials(agent: &AgentConfig) -> Credentials {
    Credentials::new("resume-agent".parse().unwrap(), agent.agent_secret.clone())
        .with_partner_key(agent.partner_key.clone())
}

fn now() -> Timestamp {
    Timestamp::new(time::OffsetDateTime::now_utc())
}

/// The intent a journaled client would record for `op` (the exact signed body).
fn intent_of<O: Operation>(op: &O, agent: &AgentConfig, base_url: &str, seed: u64) -> Intent {
    let credentials = credentials(agent);
    Call::new(
        op,
        &credentials,
        &Config::new(base_url),
        Instant::now(),
        seed,
    )
    .journal_intent(&credentials)
    .expect("a money-moving call")
}

/// Leaves `intent` in the journal as a crash at `state` would.
fn leave(journal: &SqliteJournal, intent: &Intent, state: State) {
    pollster::block_on(journal.record(intent, now())).unwrap();
    let events: &[Event] = match state {
        State::Intent => &[],
        State::Sent => &[Event::Sending],
        State::Unknown => &[Event::Sending, Event::Uncertain],
        _ => unreachable!("a crash leaves open records"),
    };
    for event in events {
        let update = Update::default();
        pollster::block_on(journal.advance(&intent.key, *event, &update, now())).unwrap();
    }
}

#[test]
fn resume_resolves_every_open_record_once() {
    let agent = agent();
    let sandbox = BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        ..SandboxConfig::default()
    })
    .unwrap();
    let base = sandbox.base_url();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(SqliteJournal::open(dir.path().join("journal.db")).unwrap());
    // An unjournaled client plays the part of the process before the crash.
    let before = ClientBuilder::new(credentials(&agent))
        .base_url(base)
        .build_blocking()
        .unwrap();
    let person = before
        .create_person(&samples::create_person("Resumed").unwrap())
        .unwrap();
    let uuid = &person.client_uuid;

    // 1. Intent recorded, crash before any byte.
    let never_sent = samples::create_transfer(uuid, "ORD-R1").unwrap();
    leave(
        &journal,
        &intent_of(&never_sent, &agent, base, 1),
        State::Intent,
    );
    // 2. Sent and applied; the answer was lost with the process.
    let applied = samples::create_transfer(uuid, "ORD-R2").unwrap();
    let applied_intent = intent_of(&applied, &agent, base, 2);
    leave(&journal, &applied_intent, State::Sent);
    let created = before.create_transfer(&applied).unwrap();
    // 3. Marked sent, but the bytes never reached the API.
    let lost = samples::create_transfer(uuid, "ORD-R3").unwrap();
    leave(&journal, &intent_of(&lost, &agent, base, 3), State::Unknown);
    // 4. A Confirm applied whose answer was lost.
    let confirm = ConfirmRequest::new(created.transfer_id.clone());
    leave(&journal, &intent_of(&confirm, &agent, base, 4), State::Sent);
    before.confirm(&confirm).unwrap();
    // 5. A Create person with an unknown outcome: no key to look it up by.
    let someone = samples::create_person("Unknown").unwrap();
    leave(
        &journal,
        &intent_of(&someone, &agent, base, 5),
        State::Unknown,
    );

    let after = ClientBuilder::new(credentials(&agent))
        .base_url(base)
        .journal(journal.clone())
        .build_blocking()
        .unwrap();
    let resolved = after.resume().unwrap();
    let by_key = |key: &str| {
        resolved
            .iter()
            .find(|r| r.key.0 == key)
            .map(|r| r.resolution.clone())
            .unwrap_or_else(|| panic!("{key} not resumed: {resolved:?}"))
    };
    assert_eq!(by_key("ORD-R1"), Resolution::Resent(State::Applied));
    assert_eq!(by_key("ORD-R2"), Resolution::Adopted);
    assert_eq!(by_key("ORD-R3"), Resolution::Resent(State::Applied));
    assert_eq!(
        by_key(&format!("confirm:{}", created.transfer_id)),
        Resolution::Adopted
    );
    let person_record = resolved
        .iter()
        .find(|r| r.op == imts::journal::MoneyOp::CreatePerson)
        .unwrap();
    assert_eq!(person_record.resolution, Resolution::NeedsPerson);

    let per_order = sandbox.stats().transfers_per_order_id;
    for order in ["ORD-R1", "ORD-R2", "ORD-R3"] {
        assert_eq!(
            per_order.get(order),
            Some(&1),
            "{order}: exactly one transfer"
        );
    }
    // Resuming again: only the record a person must resolve is still open.
    let again = after.resume().unwrap();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].resolution, Resolution::NeedsPerson);
    assert_eq!(
        sandbox.stats().transfers_per_order_id,
        per_order,
        "nothing sent twice"
    );
}

#[tokio::test]
async fn the_async_client_resumes_too() {
    let agent = agent();
    let sandbox = imts_sandbox::Sandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let base = sandbox.base_url();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(SqliteJournal::open(dir.path().join("journal.db")).unwrap());
    let uuid = "00000000-0000-4000-8000-0000000000aa".parse().unwrap();
    let op = samples::create_transfer(&uuid, "ORD-A1").unwrap();
    let intent = intent_of(&op, &agent, base, 9);
    journal.record(&intent, now()).await.unwrap();
    let client = ClientBuilder::new(credentials(&agent))
        .base_url(base)
        .journal(journal.clone())
        .build()
        .unwrap();
    let resolved = client.resume().await.unwrap();
    assert_eq!(resolved.len(), 1);
    // The sandbox refuses an unknown client: a definite refusal, recorded as such.
    let record = journal.get(&intent.key).await.unwrap().unwrap();
    assert_eq!(resolved[0].resolution, Resolution::Resent(record.state));
    assert!(record.state.is_final(), "{record:?}");
    assert!(
        client.resume().await.unwrap().is_empty(),
        "resume twice is a no-op"
    );
    sandbox.shutdown().await;
}
