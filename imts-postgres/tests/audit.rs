//! The audit log in PostgreSQL, on a real cluster: 32 concurrent creates through the four
//! group-committing writers form one unbroken chain; an entry edited or deleted directly in the
//! database (past the append-only trigger) is found and named; a batch whose writes fail in
//! its last round trip (sent together with `COMMIT`) leaves nothing behind, and its connection
//! serves the next batch.

use imts_core::journal::audit::verify;
use imts_core::journal::{Event, Intent, Journal, JournalError, MoneyOp, RecordKey, State, Update};
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

/// The writers send a batch's stores and audit entries with `COMMIT` in one round trip: a
/// store the server refuses there must roll the whole batch back (no record, no placeholder,
/// no audit entry, the head unmoved), and the connection must not stay inside the failed
/// transaction for the next batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_failing_with_its_commit_leaves_nothing() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let journal = PostgresJournal::connect(&server.url()).await.unwrap();
    journal.record(&intent("ORD-BEFORE"), at(0)).await.unwrap();
    let (raw, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    // Placeholders (no order id) pass; the stored record of `DOOMED` does not.
    raw.batch_execute(
        "ALTER TABLE imts_journal ADD CONSTRAINT refuse_doomed
             CHECK (order_id IS DISTINCT FROM 'DOOMED')",
    )
    .await
    .unwrap();
    let before = journal.audit_log().await.unwrap();
    for attempt in 0..8 {
        let refused = journal.record(&intent("DOOMED"), at(attempt)).await;
        assert!(
            matches!(refused, Err(JournalError::Unavailable(ref m)) if m.contains("refuse_doomed")),
            "attempt {attempt}: {refused:?}"
        );
    }
    let after = journal.audit_log().await.unwrap();
    assert_eq!(
        after.entries, before.entries,
        "no audit entry of a rolled-back batch"
    );
    assert_eq!(after.head, before.head, "the head did not move");
    assert!(journal
        .list(false)
        .await
        .unwrap()
        .iter()
        .all(|r| r.key.0 != "DOOMED"));
    let placeholders = raw
        .query_one(
            "SELECT count(*) FROM imts_journal WHERE key = 'DOOMED'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        placeholders.get::<_, i64>(0),
        0,
        "the placeholder rolled back"
    );

    // Every writer's connection served a failed batch above; each still commits.
    for i in 0..8 {
        let intent = intent(&format!("ORD-AFTER-{i}"));
        assert_eq!(
            journal.record(&intent, at(10 + i)).await.unwrap().state,
            State::Intent
        );
    }
    let log = journal.audit_log().await.unwrap();
    assert_eq!(log.entries.len(), before.entries.len() + 8);
    assert!(verify(&log.entries, log.head.as_ref()).is_ok());
    server.stop();
}
