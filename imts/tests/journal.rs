//! Clients with a journal write every money-moving call ahead: the intent before the first
//! byte, the outcome after; reads are not journaled; a journal that cannot record stops the
//! call before anything is sent.

use std::sync::Arc;

use imts::journal::{Journal, JournalError, RecordKey, State};
use imts::models::ConfirmRequest;
use imts::stores::SqliteJournal;
use imts::{ClientBuilder, Credentials};
use imts_sandbox::{samples, AgentConfig, Sandbox, SandboxConfig};

fn agent() -> AgentConfig {
    AgentConfig::parse(
        "journal-agent:journal-secret:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
    )
    .unwrap()
}

fn credentials(agent: &AgentConfig) -> Credentials {
    Credentials::new("journal-agent".parse().unwrap(), agent.agent_secret.clone())
        .with_partner_key(agent.partner_key.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_moving_calls_are_written_ahead_and_concluded() {
    let agent = agent();
    let sandbox = Sandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(SqliteJournal::open(dir.path().join("journal.db")).unwrap());
    let client = ClientBuilder::new(credentials(&agent))
        .base_url(sandbox.base_url())
        .journal(journal.clone())
        .build()
        .unwrap();
    let person = client
        .create_person(&samples::create_person("Journaled").unwrap())
        .await
        .unwrap();
    let transfer = client
        .create_transfer(&samples::create_transfer(&person.client_uuid, "ORD-J1").unwrap())
        .await
        .unwrap();
    let confirmed = client
        .confirm(&ConfirmRequest::new(transfer.transfer_id.clone()))
        .await
        .unwrap();
    let records = journal.list(false).await.unwrap();
    let summary: Vec<(String, State, u32)> = records
        .iter()
        .map(|r| (r.op.as_str().to_owned(), r.state, r.attempts))
        .collect();
    assert_eq!(
        summary,
        [
            ("create_person".to_owned(), State::Applied, 1),
            ("create_transfer".to_owned(), State::Applied, 1),
            ("confirm".to_owned(), State::Applied, 1),
        ],
        "three money-moving calls recorded, the reads (tokens) not"
    );
    let create = journal
        .get(&RecordKey("ORD-J1".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(create.order_id.as_deref(), Some("ORD-J1"));
    assert_eq!(
        (create.transfer_id.as_deref(), create.status.as_ref()),
        (Some(transfer.transfer_id.as_str()), Some(&confirmed.status)),
        "the answer's id is recorded with the outcome, and the Confirm's answer moved the \
         transfer's status in its Create record too"
    );
    assert_ne!(transfer.status, confirmed.status);
    let confirm = &records[2];
    assert_eq!(
        confirm.status.as_ref(),
        Some(&confirmed.status),
        "a transition records the status it moved the transfer to"
    );
    let body = String::from_utf8(create.body.clone()).unwrap();
    assert!(
        body.contains("\"order_id\":\"ORD-J1\"") && body.contains("pg_sig"),
        "{body}"
    );
    let person_record = &records[0];
    let person_body = String::from_utf8_lossy(&person_record.body);
    assert!(
        !person_body.contains("Journaled"),
        "personal data is only ever sealed in the journal"
    );
    sandbox.shutdown().await;
}

/// A journal that cannot write.
struct Broken;

impl Journal for Broken {
    fn write(
        &self,
        _: imts::journal::Write,
    ) -> imts::stores::BoxFuture<'_, Result<imts::journal::Record, JournalError>> {
        Box::pin(async { Err(JournalError::Unavailable("disk full".into())) })
    }
    fn get<'a>(
        &'a self,
        _: &'a RecordKey,
    ) -> imts::stores::BoxFuture<'a, Result<Option<imts::journal::Record>, JournalError>> {
        Box::pin(async { Ok(None) })
    }
    fn list(
        &self,
        _: bool,
    ) -> imts::stores::BoxFuture<'_, Result<Vec<imts::journal::Record>, JournalError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn tracked(
        &self,
    ) -> imts::stores::BoxFuture<'_, Result<Vec<imts::journal::Record>, JournalError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn claim<'a>(
        &'a self,
        _: &'a RecordKey,
        _: &'a str,
        _: imts::types::Timestamp,
        _: imts::types::Timestamp,
    ) -> imts::stores::BoxFuture<'a, Result<bool, JournalError>> {
        Box::pin(async { Ok(false) })
    }
}

#[test]
fn nothing_is_sent_that_the_journal_could_not_record() {
    let agent = agent();
    let sandbox = imts_sandbox::BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        ..SandboxConfig::default()
    })
    .unwrap();
    let client = ClientBuilder::new(credentials(&agent))
        .base_url(sandbox.base_url())
        .journal(Arc::new(Broken))
        .build_blocking()
        .unwrap();
    let uuid = "00000000-0000-4000-8000-000000000001".parse().unwrap();
    let error = client
        .create_transfer(&samples::create_transfer(&uuid, "ORD-J2").unwrap())
        .unwrap_err();
    assert!(matches!(error, imts::Error::Journal(_)), "{error}");
    assert!(
        error.report().to_string().contains("disk full"),
        "{}",
        error.report()
    );
    let stats = sandbox.stats();
    assert!(
        !stats.calls.keys().any(|path| path.contains("transfer")),
        "no transfer request reached the sandbox: {:?}",
        stats.calls
    );
    // Reads are not journaled and still work.
    let missing = client
        .status(&imts::models::StatusRequest::new(
            imts::types::Lookup::OrderId("ORD-J2".parse().unwrap()),
        ))
        .unwrap_err();
    assert_eq!(missing.code(), Some(&imts::types::ErrorCode::NotFound));
}
