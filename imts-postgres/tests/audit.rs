//! The audit log in PostgreSQL, on a real cluster: 32 concurrent creates through the four
//! group-committing writers form one unbroken chain; an entry edited or deleted directly in the
//! database (past the append-only trigger) is found and named.

use imts_core::journal::audit::verify;
use imts_core::journal::{Event, Intent, Journal, MoneyOp, RecordKey, State, Update};
use imts_core::values::Timestamp;
use imts_postgres::test_server::PostgresServer;
use imts_postgres::PostgresJournal;

fn at(seconds: i64) -> Timestamp {
    Timestamp::new(time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(seconds))
}

fn intent(key: &str) -> Intent {
    Intent {
        key: RecordKey(key.into()),
        op: MoneyOp::CreateTransfer,
        order_id: Some(key.into()),
        transfer_id: None,
        body: format!("{{\"order_id\":\"{key}\"}}").into_bytes(),
        agent: Some("agent-1".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_chain_and_tampering_is_named() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let journal = PostgresJournal::connect(&server.url()).await.unwrap();
    // A second instance on the same database: both append to one chain.
    let other = PostgresJournal::connect(&server.url()).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let journal = if i % 2 == 0 {
            journal.clone()
        } else {
            other.clone()
        };
        tasks.spawn(async move {
            let intent = intent(&format!("ORD-{i}"));
            journal.record(&intent, at(i)).await.unwrap();
            journal
                .advance(&intent.key, Event::Sending, &Update::default(), at(i))
                .await
                .unwrap();
            let outcome = Update {
                outcome: Some("error 4001".into()),
                ..Update::default()
            };
            journal
                .advance(&intent.key, Event::Refused, &outcome, at(i + 1))
                .await
                .unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let log = journal.audit_log().await.unwrap();
    assert_eq!(log.entries.len(), 96);
    assert_eq!(verify(&log.entries, log.head.as_ref()).unwrap().seq, 96);
    assert!(log
        .entries
        .iter()
        .filter(|e| e.fact.state == State::Refused)
        .all(|e| e.fact.outcome.as_deref() == Some("error 4001") && e.fact.agent == "agent-1"));

    let (raw, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let refused = raw
        .execute("UPDATE audit_log SET outcome = 'x' WHERE seq = 5", &[])
        .await
        .unwrap_err();
    assert!(
        format!("{refused:?}").contains("append-only"),
        "{refused:?}"
    );

    raw.batch_execute("DROP TRIGGER audit_log_append_only ON audit_log")
        .await
        .unwrap();
    raw.execute("UPDATE audit_log SET agent = 'someone' WHERE seq = 40", &[])
        .await
        .unwrap();
    let log = journal.audit_log().await.unwrap();
    assert_eq!(verify(&log.entries, log.head.as_ref()).unwrap_err().seq, 40);
    raw.execute("UPDATE audit_log SET agent = 'agent-1' WHERE seq = 40", &[])
        .await
        .unwrap();
    let log = journal.audit_log().await.unwrap();
    assert!(verify(&log.entries, log.head.as_ref()).is_ok(), "restored");

    raw.execute("DELETE FROM audit_log WHERE seq = 61", &[])
        .await
        .unwrap();
    let log = journal.audit_log().await.unwrap();
    assert_eq!(verify(&log.entries, log.head.as_ref()).unwrap_err().seq, 61);

    raw.execute("DELETE FROM audit_log WHERE seq >= 61", &[])
        .await
        .unwrap();
    let log = journal.audit_log().await.unwrap();
    assert_eq!(verify(&log.entries, log.head.as_ref()).unwrap_err().seq, 61);
    server.stop();
}
