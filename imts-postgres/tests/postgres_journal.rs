//! The PostgreSQL journal on a real cluster started by the test (`initdb`, `pg_ctl`): the
//! trait's rules, persistence across reconnects, a newer schema refused untouched, and two
//! instances racing to claim the same records: each record goes to exactly one.

use imts_core::journal::{
    Event, Intent, Journal, JournalError, MoneyOp, Observation, RecordKey, State, Update,
};
use imts_core::values::Timestamp;
use imts_postgres::test_server::PostgresServer;
use imts_postgres::PostgresJournal;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_claims_and_schema_on_a_real_cluster() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let journal = PostgresJournal::connect(&server.url()).await.unwrap();
    let first = journal
        .record(&intent("ORD-1", "{\"a\":1}"), at(0))
        .await
        .unwrap();
    assert_eq!(first.state, State::Intent);
    assert_eq!(
        journal
            .record(&intent("ORD-1", "{\"a\":1}"), at(5))
            .await
            .unwrap(),
        first,
        "the same request is the same record"
    );
    assert!(matches!(
        journal.record(&intent("ORD-1", "{\"a\":2}"), at(5)).await,
        Err(JournalError::KeyReused { .. })
    ));
    let key = RecordKey("ORD-1".into());
    journal
        .advance(&key, Event::Sending, &Update::default(), at(1))
        .await
        .unwrap();

    // A second instance (its own pool) sees the same journal.
    let other = PostgresJournal::connect(&server.url()).await.unwrap();
    let open = other.list(true).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].state, open[0].attempts), (State::Sent, 1));
    assert_eq!(open[0].body, b"{\"a\":1}");
    assert!(journal.claim(&key, "a", at(60), at(2)).await.unwrap());
    assert!(
        !other.claim(&key, "b", at(60), at(3)).await.unwrap(),
        "a holds it"
    );
    assert!(
        other.claim(&key, "b", at(200), at(61)).await.unwrap(),
        "a's lease expired"
    );
    other
        .advance(&key, Event::Applied, &Update::default(), at(62))
        .await
        .unwrap();
    assert!(journal.list(true).await.unwrap().is_empty());
    assert!(matches!(
        journal
            .advance(&key, Event::Sending, &Update::default(), at(63))
            .await,
        Err(JournalError::BadTransition { .. })
    ));

    // Racing claims: 40 open records, two instances claiming all at once.
    for i in 0..40 {
        journal
            .record(&intent(&format!("RACE-{i}"), "{}"), at(100))
            .await
            .unwrap();
    }
    let (a, b) = (
        race(&journal, "a", 0..40, 101),
        race(&other, "b", 0..40, 101),
    );
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(
        a.len() + b.len(),
        40,
        "every record claimed once: {a:?} {b:?}"
    );
    assert!(a.iter().all(|i| !b.contains(i)), "no record claimed twice");

    // The reconciler's records: applied creates whose transfer is not final are claimed once
    // each by a fleet polling them; final ones never; tracking survives the round trip.
    for i in 0..15 {
        let status = if i < 10 { "process" } else { "success" };
        let update = Update {
            outcome: None,
            status: Some(status.into()),
            transfer_id: Some(format!("T-{i}")),
        };
        journal
            .advance(
                &RecordKey(format!("RACE-{i}")),
                Event::Applied,
                &update,
                at(1500),
            )
            .await
            .unwrap();
    }
    let tracked = other.tracked().await.unwrap();
    assert_eq!(tracked.len(), 10, "{tracked:?}");
    let polled = journal
        .observe(
            &RecordKey("RACE-0".into()),
            &Observation::Polled("waiting".into()),
            at(1600),
        )
        .await
        .unwrap();
    let stored = other.get(&polled.key).await.unwrap().unwrap();
    assert_eq!(stored, polled);
    assert_eq!(
        (
            stored.tracking.polls,
            stored.tracking.polled_at,
            stored.tracking.status_at
        ),
        (1, Some(at(1600)), Some(at(1600)))
    );
    let (a, b) = (
        race(&journal, "a", 0..15, 2001),
        race(&other, "b", 0..15, 2001),
    );
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let mut won: Vec<u32> = a.iter().chain(&b).copied().collect();
    won.sort_unstable();
    assert_eq!(
        won,
        (0..10).collect::<Vec<_>>(),
        "tracked ones once each, final ones never"
    );
}

/// Claims `RACE-{i}` for every `i` of `range` as `holder` at `now`, in a task; answers the
/// ones won.
fn race(
    journal: &PostgresJournal,
    holder: &'static str,
    range: std::ops::Range<u32>,
    now: i64,
) -> tokio::task::JoinHandle<Vec<u32>> {
    let journal = journal.clone();
    tokio::spawn(async move {
        let mut won = Vec::new();
        for i in range {
            let key = RecordKey(format!("RACE-{i}"));
            if journal
                .claim(&key, holder, at(now + 900), at(now))
                .await
                .unwrap()
            {
                won.push(i);
            }
        }
        won
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused_untouched() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    drop(PostgresJournal::connect(&server.url()).await.unwrap());
    let (client, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute("UPDATE imts_schema SET version = 99", &[])
        .await
        .unwrap();
    let error = PostgresJournal::connect(&server.url()).await.unwrap_err();
    assert_eq!(
        error,
        JournalError::NewerSchema {
            found: 99,
            supported: imts_postgres::SCHEMA_VERSION
        }
    );
    let row = client
        .query_one("SELECT version FROM imts_schema", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 99, "untouched");
}

/// Group commit on a real cluster: writes queued while the table is locked share a handful of
/// transactions (at most one per writer task already waiting, and one for the rest), and two
/// instances committing big batches over the same records in opposite orders never deadlock
/// (each batch locks its rows in key order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits_and_never_deadlock() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let (a, b) = (
        PostgresJournal::connect(&server.url()).await.unwrap(),
        PostgresJournal::connect(&server.url()).await.unwrap(),
    );
    let (holder, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let lock = "BEGIN; LOCK TABLE imts_journal IN EXCLUSIVE MODE;";

    holder.batch_execute(lock).await.unwrap();
    let before = a.commits();
    let intents: Vec<Intent> = (0..64).map(|i| intent(&format!("K{i:02}"), "{}")).collect();
    let pending: Vec<_> = intents.iter().map(|i| a.record(i, at(1))).collect();
    holder.batch_execute("COMMIT").await.unwrap();
    for write in futures_join(pending).await {
        assert_eq!(write.unwrap().state, State::Intent);
    }
    let commits = a.commits() - before;
    assert!(
        (1..=5).contains(&commits),
        "{commits} transactions for 64 writes (4 writer tasks)"
    );

    holder.batch_execute(lock).await.unwrap();
    let keys: Vec<RecordKey> = intents.iter().map(|i| i.key.clone()).collect();
    let update = Update::default();
    let forward = keys
        .iter()
        .map(|key| a.advance(key, Event::Sending, &update, at(2)));
    let backward = keys
        .iter()
        .rev()
        .map(|key| b.advance(key, Event::Sending, &update, at(2)));
    let pending: Vec<_> = forward.chain(backward).collect();
    holder.batch_execute("COMMIT").await.unwrap();
    for write in futures_join(pending).await {
        assert_eq!(
            write.unwrap().state,
            State::Sent,
            "no batch was lost to a deadlock"
        );
    }
    let records = a.list(false).await.unwrap();
    assert_eq!(records.len(), 64);
    assert!(
        records.iter().all(|r| r.attempts == 2),
        "both instances' marks applied"
    );
}

/// Awaits every future, in order.
async fn futures_join<T>(futures: Vec<impl std::future::Future<Output = T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(futures.len());
    for future in futures {
        out.push(future.await);
    }
    out
}
