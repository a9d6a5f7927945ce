//! The SQLite journal: the trait's rules on a real file, what it refuses at open (locked,
//! corrupt, newer), and records surviving SIGKILL of the process writing them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use imts_core::journal::{Event, Intent, Journal, JournalError, MoneyOp, RecordKey, State, Update};
use imts_core::values::Timestamp;
use imts_sqlite::SqliteJournal;
use pollster::block_on;

fn at(seconds: i64) -> Timestamp {
    Timestamp::new(time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(seconds))
}

fn intent(key: &str, body: &str) -> Intent {
    Intent {
        key: RecordKey(key.into()),
        op: MoneyOp::CreateTransfer,
        order_id: Some(key.into()),
        transfer_id: None,
        body: body.as_bytes().to_vec(),
        agent: Some("agent-1".into()),
    }
}

#[test]
fn records_keep_their_rules_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let journal = SqliteJournal::open(&path).unwrap();
    let first = block_on(journal.record(&intent("ORD-1", "{\"a\":1}"), at(0))).unwrap();
    assert_eq!(first.state, State::Intent);
    assert_eq!(
        block_on(journal.record(&intent("ORD-1", "{\"a\":1}"), at(9))).unwrap(),
        first,
        "the same request is the same record"
    );
    assert!(matches!(
        block_on(journal.record(&intent("ORD-1", "{\"a\":2}"), at(9))),
        Err(JournalError::KeyReused { .. })
    ));
    let key = RecordKey("ORD-1".into());
    block_on(journal.advance(&key, Event::Sending, &Update::default(), at(1))).unwrap();
    let update = Update {
        outcome: Some("{\"transfer_id\":\"T-1\"}".into()),
        status: Some(imts_core::enums::TransferStatus::New),
        transfer_id: Some("T-1".into()),
    };
    block_on(journal.advance(&key, Event::Uncertain, &update, at(2))).unwrap();
    assert!(block_on(journal.claim(&key, "a", at(60), at(3))).unwrap());
    assert!(!block_on(journal.claim(&key, "b", at(60), at(4))).unwrap());
    drop(journal);

    let journal = SqliteJournal::open(&path).unwrap();
    let open = block_on(journal.list(true)).unwrap();
    assert_eq!(open.len(), 1);
    let record = &open[0];
    assert_eq!(
        (record.state, record.attempts, record.transfer_id.as_deref()),
        (State::Unknown, 1, Some("T-1"))
    );
    assert_eq!(record.body, b"{\"a\":1}");
    assert!(
        !block_on(journal.claim(&key, "b", at(60), at(5))).unwrap(),
        "leases persist"
    );
    block_on(journal.advance(&key, Event::Applied, &Update::default(), at(6))).unwrap();
    assert!(block_on(journal.list(true)).unwrap().is_empty());
    assert!(matches!(
        block_on(journal.advance(&key, Event::Sending, &Update::default(), at(7))),
        Err(JournalError::BadTransition { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_a_runtime_writes_run_off_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    let journal = SqliteJournal::open(dir.path().join("j.db")).unwrap();
    let mut tasks = Vec::new();
    for i in 0..32 {
        let journal = journal.clone();
        tasks.push(tokio::spawn(async move {
            journal
                .record(&intent(&format!("ORD-{i}"), "{}"), at(i))
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(journal.list(false).await.unwrap().len(), 32);
}

/// Writes that arrive while a transaction is waiting share the next one: 64 writes queued behind
/// another connection's lock are committed in at most two transactions (the one the writer was
/// already waiting in, and one for the rest), where one transaction per write would be 64.
#[test]
fn concurrent_writes_share_their_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let journal = SqliteJournal::open(&path).unwrap();
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE;").unwrap();
    let before = journal.commits();
    let intents: Vec<Intent> = (0..64).map(|i| intent(&format!("ORD-{i}"), "{}")).collect();
    // Each write is queued when its call is made; none can commit while `holder` has the lock.
    let pending: Vec<_> = intents.iter().map(|i| journal.record(i, at(1))).collect();
    holder.execute_batch("COMMIT;").unwrap();
    for write in pending {
        assert_eq!(block_on(write).unwrap().state, State::Intent);
    }
    let commits = journal.commits() - before;
    assert!(
        (1..=2).contains(&commits),
        "{commits} transactions for 64 writes"
    );
    assert_eq!(block_on(journal.list(false)).unwrap().len(), 64);
    // In one batch, a write refused by the model is answered alone; the others stand.
    let reused = intent("ORD-3", "{\"other\":1}");
    let fresh = intent("ORD-100", "{}");
    let (refused, kept) = (
        journal.record(&reused, at(2)),
        journal.record(&fresh, at(2)),
    );
    assert!(matches!(
        block_on(refused),
        Err(JournalError::KeyReused { .. })
    ));
    assert_eq!(block_on(kept).unwrap().state, State::Intent);
}

#[test]
fn a_corrupt_file_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let garbage = b"this is not a database, and it must stay exactly this".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let error = SqliteJournal::open(&path).unwrap_err();
    assert!(matches!(error, JournalError::Corrupt(_)), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[test]
fn a_newer_schema_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(SqliteJournal::open(&path).unwrap());
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.pragma_update(None, "user_version", 99).unwrap();
    drop(connection);
    let error = SqliteJournal::open(&path).unwrap_err();
    assert_eq!(
        error,
        JournalError::NewerSchema {
            found: 99,
            supported: imts_sqlite::SCHEMA_VERSION
        }
    );
    let connection = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 99, "untouched");
}

#[test]
fn a_locked_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(SqliteJournal::open(&path).unwrap());
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
        .unwrap();
    let error = SqliteJournal::open_with(&path, Duration::from_millis(50)).unwrap_err();
    assert!(error.to_string().contains("locked"), "{error}");
    holder.execute_batch("COMMIT;").unwrap();
}

/// The child's side of the kill test: writes records forever, printing each key once its write
/// has returned (so it is durable by then).
#[test]
fn child_writer() {
    let Ok(path) = std::env::var("IMTS_SQLITE_CHILD_JOURNAL") else {
        return; // only as the child of `committed_records_survive_sigkill`
    };
    let journal = SqliteJournal::open(path).unwrap();
    for i in 0.. {
        let key = format!("ORD-{i}");
        block_on(journal.record(&intent(&key, "{\"x\":1}"), at(i))).unwrap();
        println!("intent {key}");
        block_on(journal.advance(
            &RecordKey(key.clone()),
            Event::Sending,
            &Update::default(),
            at(i),
        ))
        .unwrap();
        println!("sent {key}");
    }
}

#[test]
fn committed_records_survive_sigkill() {
    let seed: u64 = std::env::var("IMTS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    eprintln!("kill test seed {seed} (IMTS_CRASH_SEED to repeat)");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let mut rng = seed;
    for round in 0..5 {
        // Kill after a seeded number of reported writes (1..=40), mid-stream.
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let kill_after = 1 + (rng >> 33) % 40;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
            .env("IMTS_SQLITE_CHILD_JOURNAL", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut reported = Vec::new();
        let stdout = child.stdout.take().unwrap();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("intent ").or(line.strip_prefix("sent ")) {
                reported.push((line.starts_with("sent"), rest.to_owned()));
            }
            if reported.len() as u64 >= kill_after {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
        child.wait().unwrap();
        let journal = SqliteJournal::open(&path)
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): reopen failed: {e}"));
        for (sent, key) in &reported {
            let record = block_on(journal.get(&RecordKey(key.clone())))
                .unwrap()
                .unwrap_or_else(|| panic!("round {round} (seed {seed}): {key} lost"));
            if *sent {
                assert_eq!(
                    record.state,
                    State::Sent,
                    "round {round} (seed {seed}): {key}"
                );
            }
        }
        // Start the next round on a fresh file so the keys begin again at ORD-0.
        drop(journal);
        std::fs::remove_file(&path).ok();
        std::fs::remove_file(path.with_extension("db-wal")).ok();
        std::fs::remove_file(path.with_extension("db-shm")).ok();
    }
}

/// The reconciler's fields on a file: tracked records, an observation's tracking read back
/// after a reopen, and claims only for records with work left.
#[test]
fn tracking_survives_a_reopen_and_final_transfers_are_not_claimed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let journal = SqliteJournal::open(&path).unwrap();
    for (key, status) in [("ORD-P", "process"), ("ORD-S", "success")] {
        block_on(journal.record(&intent(key, "{}"), at(0))).unwrap();
        let update = Update {
            outcome: None,
            status: Some(status.into()),
            transfer_id: Some(format!("T-{key}")),
        };
        block_on(journal.advance(&RecordKey(key.into()), Event::Applied, &update, at(1))).unwrap();
    }
    let key = RecordKey("ORD-P".into());
    let observed = block_on(journal.observe(
        &key,
        &imts_core::journal::Observation::Polled("waiting".into()),
        at(5),
    ))
    .unwrap();
    drop(journal);
    let journal = SqliteJournal::open(&path).unwrap();
    let tracked = block_on(journal.tracked()).unwrap();
    assert_eq!(tracked, vec![observed.clone()]);
    assert_eq!(
        (observed.tracking.polls, observed.tracking.status_at),
        (1, Some(at(5)))
    );
    assert!(block_on(journal.claim(&key, "a", at(60), at(6))).unwrap());
    assert!(!block_on(journal.claim(&key, "b", at(60), at(6))).unwrap());
    assert!(!block_on(journal.claim(&RecordKey("ORD-S".into()), "a", at(60), at(6))).unwrap());
}

/// A journal written by schema version 1 (before tracking) opens migrated, its records intact.
#[test]
fn a_version_1_journal_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let v1 = rusqlite::Connection::open(&path).unwrap();
    v1.execute_batch(
        "CREATE TABLE journal (
            key TEXT PRIMARY KEY NOT NULL, op TEXT NOT NULL, order_id TEXT, transfer_id TEXT,
            body BLOB NOT NULL, body_hash TEXT NOT NULL, state TEXT NOT NULL,
            attempts INTEGER NOT NULL, outcome TEXT, status TEXT, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL, lease_holder TEXT, lease_until TEXT) STRICT;
         INSERT INTO journal VALUES ('ORD-OLD', 'create_transfer', 'ORD-OLD', 'T-9', x'7b7d',
            'h', 'applied', 1, NULL, 'process', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z',
            NULL, NULL);
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(v1);
    let journal = SqliteJournal::open(&path).unwrap();
    let record = block_on(journal.get(&RecordKey("ORD-OLD".into())))
        .unwrap()
        .unwrap();
    assert_eq!(record.tracking, imts_core::journal::Tracking::default());
    assert_eq!(block_on(journal.tracked()).unwrap(), vec![record]);
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, imts_sqlite::SCHEMA_VERSION);
}
