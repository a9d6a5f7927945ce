//! [`PostgresJournal`]: the [`Journal`] in PostgreSQL, shared by every instance of a fleet.

use std::sync::Arc;

use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use imts_core::enums::TransferStatus;
use imts_core::journal::{
    AuditLog, Journal, JournalError, MoneyOp, Record, RecordKey, State, Tracking, Write,
};
use imts_core::token_store::BoxFuture;
use imts_core::values::Timestamp;
use time::OffsetDateTime;
use tokio_postgres::{NoTls, Row};

use crate::writer::{Writer, WRITERS};

/// The newest schema version this crate knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Each migration's SQL, in order.
const MIGRATIONS: &[&str] = &[
    // 1: the journal.
    "CREATE TABLE imts_journal (
        key          TEXT PRIMARY KEY,
        op           TEXT NOT NULL,
        order_id     TEXT,
        transfer_id  TEXT,
        body         BYTEA NOT NULL,
        body_hash    TEXT NOT NULL,
        state        TEXT NOT NULL,
        attempts     BIGINT NOT NULL,
        outcome      TEXT,
        status       TEXT,
        created_at   TIMESTAMPTZ NOT NULL,
        updated_at   TIMESTAMPTZ NOT NULL,
        lease_holder TEXT,
        lease_until  TIMESTAMPTZ,
        seq          BIGSERIAL
    );
    CREATE INDEX imts_journal_open ON imts_journal (seq) WHERE state NOT IN ('applied', 'refused');",
    // 2: what the reconciler follows of each created transfer.
    "ALTER TABLE imts_journal ADD COLUMN status_at TIMESTAMPTZ;
    ALTER TABLE imts_journal ADD COLUMN polls BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE imts_journal ADD COLUMN polled_at TIMESTAMPTZ;
    ALTER TABLE imts_journal ADD COLUMN stuck BOOLEAN NOT NULL DEFAULT FALSE;
    CREATE INDEX imts_journal_tracked ON imts_journal (seq)
        WHERE op = 'create_transfer' AND state = 'applied' AND NOT stuck;",
    // 3: the callback inbox.
    "CREATE TABLE imts_inbox (
        notification_id TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        body            BYTEA NOT NULL,
        received_at     TIMESTAMPTZ NOT NULL,
        state           TEXT NOT NULL,
        attempts        BIGINT NOT NULL,
        last_error      TEXT,
        next_at         TIMESTAMPTZ NOT NULL,
        updated_at      TIMESTAMPTZ NOT NULL,
        lease_holder    TEXT,
        lease_until     TIMESTAMPTZ
    );
    CREATE INDEX imts_inbox_due ON imts_inbox (next_at) WHERE state = 'pending';",
    // 4: the audit log (hash-chained, append-only) and who made each call.
    "ALTER TABLE imts_journal ADD COLUMN agent TEXT;
    CREATE TABLE audit_log (
        seq          BIGINT PRIMARY KEY,
        at           TIMESTAMPTZ NOT NULL,
        agent        TEXT NOT NULL,
        operation    TEXT NOT NULL,
        order_id     TEXT,
        transfer_id  TEXT,
        request_hash TEXT NOT NULL,
        state        TEXT NOT NULL,
        outcome      TEXT,
        prev_hash    TEXT NOT NULL,
        hash         TEXT NOT NULL
    );
    CREATE TABLE audit_head (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        seq  BIGINT NOT NULL,
        hash TEXT NOT NULL
    );
    INSERT INTO audit_head (id, seq, hash)
        VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();",
];

/// Pool size: the writers' connections and as many again for reads and leases.
const POOL_SIZE: usize = 2 * WRITERS;

/// A journal in PostgreSQL. A write is committed (with PostgreSQL's default
/// `synchronous_commit=on`, so durable) before the call returns; a batch of outcomes only with
/// `synchronous_commit=off` ([`Write::needs_flush`](imts_core::journal::Write::needs_flush):
/// committed and visible at once, flushed within PostgreSQL's `wal_writer_delay`, so a server
/// crash may leave the record sent, which resume looks up); concurrent writes are
/// group-committed, those queued while a transaction commits sharing the next one
/// ([`commits`](Self::commits) counts them); a record is locked
/// (`SELECT ... FOR UPDATE`) while it changes, and claimed with a lease before it is resumed,
/// so two instances never resume one record at once. Calls run as tasks on the runtime it was
/// connected in.
#[derive(Clone)]
pub struct PostgresJournal {
    pub(crate) pool: Pool,
    writer: Writer,
    pub(crate) inbox_writer: Writer<crate::inbox::InsertJob>,
    runtime: tokio::runtime::Handle,
    /// A runtime of its own, for programs without one ([`open_blocking`](Self::open_blocking)).
    owned: Option<Arc<OwnedRuntime>>,
}

/// A runtime shut down without blocking when the last journal clone goes.
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for PostgresJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresJournal")
    }
}

/// A database failure as [`JournalError::Unavailable`]: the server's message and SQLSTATE when
/// it sent one (tokio-postgres alone says only "db error"), never its `DETAIL`, which can quote
/// a row's values, personal data included.
pub(crate) fn db_error<E: std::fmt::Display + 'static>(error: E) -> JournalError {
    JournalError::Unavailable(db_message(&error))
}

/// The text of [`db_error`].
pub(crate) fn db_message<E: std::fmt::Display + 'static>(error: &E) -> String {
    let any: &dyn std::any::Any = error;
    match any
        .downcast_ref::<tokio_postgres::Error>()
        .and_then(tokio_postgres::Error::as_db_error)
    {
        Some(db) => format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        ),
        None => error.to_string(),
    }
}

pub(crate) const COLUMNS: &str =
    "key, op, order_id, transfer_id, body, body_hash, state, attempts, outcome, status, \
     created_at, updated_at, status_at, polls, polled_at, stuck, agent";

pub(crate) fn record_of(row: &Row) -> Result<Record, JournalError> {
    let key: String = row.try_get(0).map_err(db_error)?;
    let corrupt = |what: String| JournalError::Corrupt(format!("record `{key}`: {what}"));
    let op: String = row.try_get(1).map_err(db_error)?;
    let state: String = row.try_get(6).map_err(db_error)?;
    let attempts: i64 = row.try_get(7).map_err(db_error)?;
    let status: Option<String> = row.try_get(9).map_err(db_error)?;
    let created: OffsetDateTime = row.try_get(10).map_err(db_error)?;
    let updated: OffsetDateTime = row.try_get(11).map_err(db_error)?;
    let status_at: Option<OffsetDateTime> = row.try_get(12).map_err(db_error)?;
    let polls: i64 = row.try_get(13).map_err(db_error)?;
    let polled_at: Option<OffsetDateTime> = row.try_get(14).map_err(db_error)?;
    let tracking = Tracking {
        status_at: status_at.map(Timestamp::new),
        polls: u32::try_from(polls).map_err(|_| corrupt("bad polls".into()))?,
        polled_at: polled_at.map(Timestamp::new),
        stuck: row.try_get(15).map_err(db_error)?,
    };
    Ok(Record {
        tracking,
        op: MoneyOp::parse(&op).ok_or_else(|| corrupt(format!("unknown operation `{op}`")))?,
        state: State::parse(&state).ok_or_else(|| corrupt(format!("unknown state `{state}`")))?,
        attempts: u32::try_from(attempts).map_err(|_| corrupt("bad attempts".into()))?,
        order_id: row.try_get(2).map_err(db_error)?,
        transfer_id: row.try_get(3).map_err(db_error)?,
        body: row.try_get(4).map_err(db_error)?,
        body_hash: row.try_get(5).map_err(db_error)?,
        outcome: row.try_get(8).map_err(db_error)?,
        status: status.as_deref().map(TransferStatus::from),
        created_at: Timestamp::new(created),
        updated_at: Timestamp::new(updated),
        agent: row.try_get(16).map_err(db_error)?,
        key: RecordKey(key),
    })
}

/// The record `key` (locked for the transaction when `lock`): the outer error is the
/// database's, the inner one a row that does not read as a record.
pub(crate) async fn load(
    client: &impl GenericClient,
    key: &str,
    lock: bool,
) -> Result<Option<Result<Record, JournalError>>, JournalError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM imts_journal WHERE key = $1{lock}"),
            &[&key],
        )
        .await
        .map_err(db_error)?;
    Ok(row.as_ref().map(record_of))
}

impl PostgresJournal {
    /// Connects to `url` (`postgres://user@host:port/db`) and applies the migrations (under an
    /// advisory lock, so instances starting together migrate once). Must be called inside a
    /// tokio runtime; the journal's calls run on it.
    ///
    /// # Errors
    /// [`JournalError::Unavailable`] when the database cannot be reached,
    /// [`JournalError::NewerSchema`] for a journal of a newer SDK (left untouched).
    pub async fn connect(url: &str) -> Result<Self, JournalError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| JournalError::Unavailable(format!("the journal URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(db_error)?;
        let runtime = tokio::runtime::Handle::current();
        let journal = Self {
            writer: Writer::start(&pool, &runtime),
            inbox_writer: Writer::start(&pool, &runtime),
            pool,
            runtime,
            owned: None,
        };
        journal.migrate().await?;
        Ok(journal)
    }

    /// [`connect`](Self::connect) for a program without a tokio runtime (the blocking client,
    /// the CLI): the journal runs on a small runtime of its own.
    ///
    /// # Errors
    /// As [`connect`](Self::connect); [`JournalError::Unavailable`] when called inside a runtime
    /// (use `connect` there).
    pub fn open_blocking(url: &str) -> Result<Self, JournalError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(JournalError::Unavailable(
                "open_blocking called inside a tokio runtime: use connect".into(),
            ));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("imts-postgres")
            .enable_all()
            .build()
            .map_err(db_error)?;
        let mut journal = runtime.block_on(Self::connect(url))?;
        journal.owned = Some(Arc::new(OwnedRuntime(Some(runtime))));
        Ok(journal)
    }

    /// Transactions the writers committed so far: with concurrent calls, fewer than the
    /// writes they made.
    #[must_use]
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }

    async fn migrate(&self) -> Result<(), JournalError> {
        let mut client = self.pool.get().await.map_err(db_error)?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.execute("SELECT pg_advisory_xact_lock(7597938453451)", &[])
            .await
            .map_err(db_error)?;
        tx.execute(
            "CREATE TABLE IF NOT EXISTS imts_schema (version BIGINT NOT NULL)",
            &[],
        )
        .await
        .map_err(db_error)?;
        let found: i64 = tx
            .query_opt("SELECT version FROM imts_schema", &[])
            .await
            .map_err(db_error)?
            .map_or(Ok(0), |row| row.try_get(0))
            .map_err(db_error)?;
        if found > SCHEMA_VERSION {
            return Err(JournalError::NewerSchema {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for sql in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
            tx.batch_execute(sql).await.map_err(db_error)?;
        }
        tx.execute("DELETE FROM imts_schema", &[])
            .await
            .map_err(db_error)?;
        tx.execute(
            "INSERT INTO imts_schema (version) VALUES ($1)",
            &[&SCHEMA_VERSION],
        )
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    /// Runs `work` with a pooled connection, as a task on the journal's runtime (so its futures
    /// can be awaited from any executor).
    pub(crate) fn run<T, E, F, Fut>(&self, work: F) -> BoxFuture<'static, Result<T, E>>
    where
        T: Send + 'static,
        E: From<JournalError> + Send + 'static,
        F: FnOnce(Pool) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, E>> + Send + 'static,
    {
        let task = self.runtime.spawn(work(self.pool.clone()));
        Box::pin(async move {
            task.await
                .map_err(|e| E::from(JournalError::Unavailable(format!("journal task: {e}"))))?
        })
    }
}

impl Journal for PostgresJournal {
    fn write(&self, write: Write) -> BoxFuture<'_, Result<Record, JournalError>> {
        Box::pin(self.writer.submit(write))
    }

    fn get<'a>(
        &'a self,
        key: &'a RecordKey,
    ) -> BoxFuture<'a, Result<Option<Record>, JournalError>> {
        let key = key.0.clone();
        self.run(move |pool| async move {
            let client = pool.get().await.map_err(db_error)?;
            load(&client, &key, false).await?.transpose()
        })
    }

    fn audit_log(&self) -> BoxFuture<'_, Result<AuditLog, JournalError>> {
        self.run(move |pool| async move {
            let mut client = pool.get().await.map_err(db_error)?;
            // One snapshot for the entries and the head, so a concurrent append cannot look
            // like a cut tail.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(db_error)?;
            let log = crate::audit::read(&tx).await?;
            tx.commit().await.map_err(db_error)?;
            Ok(log)
        })
    }

    fn list(&self, open_only: bool) -> BoxFuture<'_, Result<Vec<Record>, JournalError>> {
        let filter = if open_only {
            "WHERE state NOT IN ('applied', 'refused')"
        } else {
            ""
        };
        self.run(move |pool| select(pool, filter))
    }

    fn tracked(&self) -> BoxFuture<'_, Result<Vec<Record>, JournalError>> {
        self.run(move |pool| async move {
            let mut records = select(
                pool,
                "WHERE op = 'create_transfer' AND state = 'applied' AND NOT stuck",
            )
            .await?;
            records.retain(Record::is_tracked);
            Ok(records)
        })
    }

    fn claim<'a>(
        &'a self,
        key: &'a RecordKey,
        holder: &'a str,
        until: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<bool, JournalError>> {
        let (key, holder) = (key.0.clone(), Arc::<str>::from(holder));
        self.run(move |pool| async move {
            let mut client = pool.get().await.map_err(db_error)?;
            let tx = client.transaction().await.map_err(db_error)?;
            // The row lock makes the check and the lease one step between instances.
            let Some(record) = load(&tx, &key, true).await? else {
                return Err(JournalError::NotFound(RecordKey(key)));
            };
            if !record?.needs_work() {
                return Ok(false);
            }
            let claimed = tx
                .execute(
                    "UPDATE imts_journal SET lease_holder = $1, lease_until = $2
                     WHERE key = $3
                       AND (lease_holder IS NULL OR lease_holder = $1 OR lease_until <= $4)",
                    &[
                        &&*holder,
                        &until.as_offset_date_time(),
                        &key,
                        &now.as_offset_date_time(),
                    ],
                )
                .await
                .map_err(db_error)?;
            tx.commit().await.map_err(db_error)?;
            Ok(claimed == 1)
        })
    }
}

/// The records `filter` (a `WHERE` clause) selects, oldest first.
async fn select(pool: Pool, filter: &str) -> Result<Vec<Record>, JournalError> {
    let client = pool.get().await.map_err(db_error)?;
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM imts_journal {filter} ORDER BY seq"),
            &[],
        )
        .await
        .map_err(db_error)?;
    rows.iter().map(record_of).collect()
}
