//! The SQLite inbox on a real file: de-duplication by id, group-committed inserts, claims that
//! hand each due row to one worker, updates, listing by state, purge, and rows surviving a
//! reopen and a journal in the same file.

use imts_core::inbox::{Inbox, InboxRow, InboxState, RetryPolicy, Stored};
use imts_core::values::Timestamp;
use imts_sqlite::{SqliteInbox, SqliteJournal};
use pollster::block_on;

fn at(seconds: i64) -> Timestamp {
    Timestamp::new(
        time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_800_000_000 + seconds),
    )
}

#[test]
fn rows_are_stored_once_claimed_once_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imts.db");
    let journal = SqliteJournal::open(&path).unwrap();
    let inbox = journal.inbox();
    // Deliveries arriving while a transaction waits share the next one: 50 queued behind
    // another connection's lock take at most two transactions.
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE;").unwrap();
    let before = journal.commits();
    let rows: Vec<InboxRow> = (0..50)
        .map(|i| InboxRow::received(&format!("n-{i:02}"), "status_update", b"{\"a\":1}", at(i)))
        .collect();
    let pending: Vec<_> = rows.iter().map(|row| inbox.insert(row.clone())).collect();
    holder.execute_batch("COMMIT;").unwrap();
    for insert in pending {
        assert_eq!(block_on(insert).unwrap(), Stored::New);
    }
    let commits = journal.commits() - before;
    assert!(
        (1..=2).contains(&commits),
        "{commits} transactions for 50 deliveries"
    );
    assert_eq!(
        block_on(inbox.insert(rows[3].clone())).unwrap(),
        Stored::Duplicate,
        "a retry of IMTS's is not stored twice"
    );

    // Claims: oldest due first, one holder at a time, until the lease ends.
    let first = block_on(inbox.claim_next("a", at(100), at(60)))
        .unwrap()
        .unwrap();
    assert_eq!(first.notification_id, "n-00");
    let second = block_on(inbox.claim_next("b", at(100), at(60)))
        .unwrap()
        .unwrap();
    assert_eq!(second.notification_id, "n-01", "n-00 is held by a");
    let policy = RetryPolicy::default();
    let mut done = first.clone();
    done.after_run(Ok(()), &policy, at(61));
    block_on(inbox.update(done)).unwrap();
    let mut failed = second.clone();
    failed.after_run(Err("boom".into()), &policy, at(61));
    block_on(inbox.update(failed.clone())).unwrap();
    assert!(failed.next_at > at(61), "backoff");
    assert_eq!(
        block_on(inbox.list(Some(InboxState::Done))).unwrap().len(),
        1
    );
    drop((inbox, journal));

    let inbox = SqliteInbox::open(&path).unwrap();
    let stored = block_on(inbox.get("n-01")).unwrap().unwrap();
    assert_eq!(stored, failed, "byte for byte after a reopen");
    assert_eq!(stored.body, b"{\"a\":1}");
    assert_eq!(block_on(inbox.list(None)).unwrap().len(), 50);
    // After a's lease ends nobody holds n-02..; n-01 waits for its backoff.
    let next = block_on(inbox.claim_next("c", at(200), at(61)))
        .unwrap()
        .unwrap();
    assert_eq!(next.notification_id, "n-02");
    assert_eq!(
        block_on(inbox.purge(at(1000))).unwrap(),
        1,
        "only done rows go"
    );
    assert!(block_on(inbox.get("n-00")).unwrap().is_none());
}
