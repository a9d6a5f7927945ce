//! The PostgreSQL inbox on a real cluster: de-duplication, two instances' workers taking every
//! row exactly once between them (`FOR UPDATE SKIP LOCKED`), and a server restarted mid-stream:
//! inserts fail (503 to IMTS) while it is down, nothing that was acknowledged is lost, and
//! inserts work again once it is back.

use std::collections::BTreeSet;

use imts_core::inbox::{Inbox, InboxError, InboxRow, InboxState, RetryPolicy, Stored};
use imts_core::values::Timestamp;
use imts_postgres::test_server::PostgresServer;
use imts_postgres::PostgresJournal;

fn at(seconds: i64) -> Timestamp {
    Timestamp::new(
        time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_800_000_000 + seconds),
    )
}

fn row(i: usize) -> InboxRow {
    InboxRow::received(&format!("n-{i:03}"), "status_update", b"{}", at(i as i64))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_stored_once_and_run_once_across_instances_and_a_restart() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let (a, b) = (
        PostgresJournal::connect(&server.url()).await.unwrap(),
        PostgresJournal::connect(&server.url()).await.unwrap(),
    );
    let (inbox_a, inbox_b) = (a.inbox(), b.inbox());
    let pending: Vec<_> = (0..60).map(|i| inbox_a.insert(row(i))).collect();
    for insert in pending {
        assert_eq!(insert.await.unwrap(), Stored::New);
    }
    assert_eq!(inbox_b.insert(row(7)).await.unwrap(), Stored::Duplicate);

    // Two instances' workers drain it at once: every row to exactly one.
    let drain = |inbox: imts_postgres::PostgresInbox, holder: &'static str| {
        tokio::spawn(async move {
            let mut won = Vec::new();
            while let Some(mut row) = inbox.claim_next(holder, at(900), at(100)).await.unwrap() {
                row.after_run(Ok(()), &RetryPolicy::default(), at(101));
                inbox.update(row.clone()).await.unwrap();
                won.push(row.notification_id);
            }
            won
        })
    };
    let (won_a, won_b) = (drain(inbox_a.clone(), "a"), drain(inbox_b.clone(), "b"));
    let (won_a, won_b) = (won_a.await.unwrap(), won_b.await.unwrap());
    let all: BTreeSet<_> = won_a.iter().chain(&won_b).cloned().collect();
    assert_eq!(won_a.len() + won_b.len(), 60, "no row run twice");
    assert_eq!(all.len(), 60, "every row run");
    assert_eq!(
        inbox_b.list(Some(InboxState::Done)).await.unwrap().len(),
        60
    );

    // The server goes away mid-stream: what could not be stored says so (IMTS delivers it
    // again); what was stored stays.
    inbox_a.insert(row(100)).await.unwrap();
    server.stop();
    let refused = inbox_a.insert(row(101)).await;
    assert!(
        matches!(refused, Err(InboxError::Unavailable(_))),
        "{refused:?}"
    );
    server.launch();
    let mut back = None;
    for _ in 0..50 {
        // The pool replaces its broken connections as they fail.
        match inbox_a.insert(row(101)).await {
            Ok(stored) => {
                back = Some(stored);
                break;
            }
            Err(_) => tokio::task::yield_now().await,
        }
    }
    assert_eq!(back, Some(Stored::New), "stored once the server is back");
    let ids: BTreeSet<String> = inbox_b
        .list(None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.notification_id)
        .collect();
    assert!(ids.contains("n-100") && ids.contains("n-101"));
    assert_eq!(ids.len(), 62);
}

/// The transactional handler writes an effect row in the inbox's transaction: a run that fails
/// after writing, or panics after writing, leaves no effect; the run that succeeds leaves
/// exactly one, committed with the "done" mark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transactional_handler_has_its_effects_exactly_once() {
    use imts_postgres::{SendBoxFuture, TransactionalHandler};
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Effects {
        runs: AtomicU32,
    }
    impl TransactionalHandler for Effects {
        fn handle<'a>(
            &'a self,
            tx: &'a deadpool_postgres::Transaction<'a>,
            row: &'a InboxRow,
        ) -> SendBoxFuture<'a, Result<(), String>> {
            Box::pin(async move {
                tx.execute(
                    "INSERT INTO effects (notification_id) VALUES ($1)",
                    &[&row.notification_id],
                )
                .await
                .map_err(|e| e.to_string())?;
                match self.runs.fetch_add(1, Ordering::SeqCst) {
                    0 => Err("fails after writing".into()),
                    1 => panic!("panics after writing"),
                    _ => Ok(()),
                }
            })
        }
    }

    let Some(server) = PostgresServer::start() else {
        return;
    };
    let journal = PostgresJournal::connect(&server.url()).await.unwrap();
    let (client, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute("CREATE TABLE effects (notification_id TEXT NOT NULL)")
        .await
        .unwrap();
    let inbox = journal.inbox();
    inbox.insert(row(1)).await.unwrap();
    let handler = Effects {
        runs: AtomicU32::new(0),
    };
    let policy = RetryPolicy {
        max_attempts: 5,
        first: std::time::Duration::from_secs(1),
        max_delay: std::time::Duration::from_secs(1),
    };
    let mut states = Vec::new();
    for second in [10, 20, 30, 40] {
        if let Some((_, state)) = inbox
            .run_next_in_transaction(&handler, &policy, at(second))
            .await
            .unwrap()
        {
            states.push(state);
        }
    }
    assert_eq!(
        states,
        [InboxState::Pending, InboxState::Pending, InboxState::Done],
        "failed, panicked, done; then nothing due"
    );
    let effects: i64 = client
        .query_one("SELECT count(*) FROM effects", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        effects, 1,
        "exactly one effect, committed with the done mark"
    );
    let stored = inbox.get("n-001").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.attempts), (InboxState::Done, 3));
}
