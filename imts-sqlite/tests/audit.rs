//! The audit log in SQLite: every money-moving step is an entry, chained; an entry edited or
//! deleted directly in the database (past the append-only triggers) is found and named.

use imts_core::journal::audit::verify;
use imts_core::journal::{Event, Intent, Journal, MoneyOp, Observation, RecordKey, State, Update};
use imts_core::values::Timestamp;
use imts_sqlite::SqliteJournal;

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

/// Ten concurrent creates, each intent -> sent -> applied, and a callback merged (no entry):
/// 30 entries, group-committed together.
async fn ten_creates(journal: &SqliteJournal) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        let journal = journal.clone();
        tasks.spawn(async move {
            let intent = intent(&format!("ORD-{i}"));
            journal.record(&intent, at(i)).await.unwrap();
            journal
                .advance(&intent.key, Event::Sending, &Update::default(), at(i))
                .await
                .unwrap();
            let update = Update {
                outcome: Some("new".into()),
                transfer_id: Some(format!("t-{i}")),
                ..Update::default()
            };
            journal
                .advance(&intent.key, Event::Applied, &update, at(i + 1))
                .await
                .unwrap();
            journal
                .observe(
                    &intent.key,
                    &Observation::Callback(imts_core::enums::TransferStatus::Process),
                    at(i + 2),
                )
                .await
                .unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_deletions_are_found_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let journal = SqliteJournal::open(&path).unwrap();
    ten_creates(&journal).await;

    let log = journal.audit_log().await.unwrap();
    assert_eq!(
        log.entries.len(),
        30,
        "intent, sent, applied per create; none per callback"
    );
    let head = verify(&log.entries, log.head.as_ref()).unwrap();
    assert_eq!(head.seq, 30);
    let applied: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.fact.state == State::Applied)
        .collect();
    assert_eq!(applied.len(), 10);
    for entry in applied {
        assert_eq!(entry.fact.agent, "agent-1");
        assert!(entry
            .fact
            .transfer_id
            .as_deref()
            .is_some_and(|t| t.starts_with("t-")));
        assert_eq!(entry.fact.request_hash.len(), 64);
    }

    let raw = rusqlite::Connection::open(&path).unwrap();
    let refused = raw.execute("UPDATE audit_log SET outcome = 'success' WHERE seq = 7", []);
    assert!(
        refused.unwrap_err().to_string().contains("append-only"),
        "the triggers refuse edits"
    );
    assert!(raw
        .execute("DELETE FROM audit_log WHERE seq = 7", [])
        .is_err());

    // Someone with the file drops the triggers and edits an entry: found, and named.
    raw.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    let original: Option<String> = raw
        .query_row("SELECT outcome FROM audit_log WHERE seq = 9", [], |r| {
            r.get(0)
        })
        .unwrap();
    raw.execute("UPDATE audit_log SET outcome = 'refused' WHERE seq = 9", [])
        .unwrap();
    let log = journal.audit_log().await.unwrap();
    let broken = verify(&log.entries, log.head.as_ref()).unwrap_err();
    assert_eq!(broken.seq, 9, "{broken}");
    raw.execute(
        "UPDATE audit_log SET outcome = ?1 WHERE seq = 9",
        [original],
    )
    .unwrap();
    let log = journal.audit_log().await.unwrap();
    assert!(verify(&log.entries, log.head.as_ref()).is_ok(), "restored");

    // A deleted entry in the middle.
    raw.execute("DELETE FROM audit_log WHERE seq = 12", [])
        .unwrap();
    let log = journal.audit_log().await.unwrap();
    assert_eq!(verify(&log.entries, log.head.as_ref()).unwrap_err().seq, 12);

    // The newest entries deleted: the head still says 30.
    raw.execute("DELETE FROM audit_log WHERE seq >= 12", [])
        .unwrap();
    let log = journal.audit_log().await.unwrap();
    assert_eq!(verify(&log.entries, log.head.as_ref()).unwrap_err().seq, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_continues_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    {
        let journal = SqliteJournal::open(&path).unwrap();
        journal.record(&intent("ORD-A"), at(0)).await.unwrap();
    }
    let journal = SqliteJournal::open(&path).unwrap();
    journal.record(&intent("ORD-B"), at(1)).await.unwrap();
    // The same request again is the same record: no entry.
    journal.record(&intent("ORD-B"), at(2)).await.unwrap();
    let log = journal.audit_log().await.unwrap();
    assert_eq!(log.entries.len(), 2);
    assert_eq!(verify(&log.entries, log.head.as_ref()).unwrap().seq, 2);
}
