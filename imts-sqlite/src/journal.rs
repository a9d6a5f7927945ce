//! [`SqliteJournal`]: the [`Journal`] in one SQLite file.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imts_core::enums::TransferStatus;
use imts_core::journal::{
    AuditLog, Journal, JournalError, MoneyOp, Record, RecordKey, State, Tracking, Write,
};
use imts_core::token_store::BoxFuture;
use imts_core::values::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use crate::writer::Writer;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// How long a write waits for another process's lock before the journal counts as unavailable.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A journal in a SQLite file, in WAL mode with `synchronous=FULL`: an intent or a sending mark
/// is on disk (the WAL fsynced) when [`Journal::record`] or [`Journal::advance`] returns, so it
/// survives a process kill and a power loss. A batch of outcomes only is committed with
/// `synchronous=NORMAL` ([`Write::needs_flush`](imts_core::journal::Write::needs_flush)): it
/// survives a process kill; after a power loss the record may be left sent, and resume resolves
/// it by a lookup. Several processes may open one file (SQLite's locks serialize
/// them); a fleet on several machines uses PostgreSQL.
///
/// Writes are group-committed: one writer thread commits every write that arrived while the
/// previous transaction was being fsynced in one transaction of its own, so concurrent calls
/// share fsyncs ([`commits`](Self::commits) counts them). Reads and resume leases use a second
/// connection, on the tokio blocking pool when a runtime is current, else on the calling thread.
#[derive(Clone)]
pub struct SqliteJournal {
    pub(crate) writer: Writer,
    pub(crate) connection: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteJournal")
    }
}

pub(crate) fn db_error(error: rusqlite::Error) -> JournalError {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            JournalError::Corrupt(error.to_string())
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            JournalError::Unavailable(format!("the journal is locked by another process: {error}"))
        }
        _ => JournalError::Unavailable(error.to_string()),
    }
}

pub(crate) fn text(time: Timestamp) -> String {
    time.as_offset_date_time()
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn parse_time(text: &str) -> Result<Timestamp, JournalError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(Timestamp::new)
        .map_err(|e| JournalError::Corrupt(format!("a stored time `{text}`: {e}")))
}

impl SqliteJournal {
    /// Opens (creating it if absent) the journal at `path` and applies the migrations.
    ///
    /// # Errors
    /// [`JournalError::Corrupt`] for a file that is not a SQLite database,
    /// [`JournalError::NewerSchema`] for a journal of a newer SDK, and
    /// [`JournalError::Unavailable`] when it cannot be opened or is locked; the file is left as
    /// it was in each case.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        Self::open_with(path, BUSY_TIMEOUT)
    }

    /// [`open`](Self::open), waiting at most `busy_timeout` for another process's lock.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(path: impl AsRef<Path>, busy_timeout: Duration) -> Result<Self, JournalError> {
        let path = path.as_ref();
        let mut writer = Self::connect(path, busy_timeout)?;
        crate::schema::migrate(&mut writer)?;
        let connection = Self::connect(path, busy_timeout)?;
        Ok(Self {
            writer: Writer::start(writer)?,
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Transactions committed by the writer so far: with concurrent calls, fewer than the
    /// writes they made (each transaction is one fsync).
    #[must_use]
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }

    /// One connection to `path`, checked and set to WAL and `synchronous=FULL`.
    fn connect(path: &Path, busy_timeout: Duration) -> Result<Connection, JournalError> {
        let connection = Connection::open(path).map_err(db_error)?;
        connection.busy_timeout(busy_timeout).map_err(db_error)?;
        // Reading the schema first: a file that is not a database fails here, before any write.
        connection
            .query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))
            .map_err(db_error)?;
        let mode: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(db_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JournalError::Unavailable(format!(
                "the journal cannot use WAL mode (got `{mode}`)"
            )));
        }
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(db_error)?;
        Ok(connection)
    }

    /// Runs `work` on the connection: on the blocking pool inside a runtime, else right here.
    pub(crate) fn run<T, E, F>(&self, work: F) -> BoxFuture<'static, Result<T, E>>
    where
        T: Send + 'static,
        E: From<JournalError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        let job = move || {
            let mut connection = connection
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            work(&mut connection)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let task = handle.spawn_blocking(job);
                Box::pin(async move {
                    task.await.map_err(|e| {
                        E::from(JournalError::Unavailable(format!("journal task: {e}")))
                    })?
                })
            }
            Err(_) => Box::pin(std::future::ready(job())),
        }
    }
}

const COLUMNS: &str = "key, op, order_id, transfer_id, body, body_hash, state, attempts, outcome, \
                       status, created_at, updated_at, status_at, polls, polled_at, stuck, agent";

/// A row as stored, before its names and times are checked.
struct Stored {
    key: String,
    op: String,
    order_id: Option<String>,
    transfer_id: Option<String>,
    body: Vec<u8>,
    body_hash: String,
    state: String,
    attempts: i64,
    outcome: Option<String>,
    status: Option<String>,
    created_at: String,
    updated_at: String,
    status_at: Option<String>,
    polls: i64,
    polled_at: Option<String>,
    stuck: bool,
    agent: Option<String>,
}

fn record_of(row: &Row<'_>) -> rusqlite::Result<Result<Record, JournalError>> {
    let raw = Stored {
        key: row.get(0)?,
        op: row.get(1)?,
        order_id: row.get(2)?,
        transfer_id: row.get(3)?,
        body: row.get(4)?,
        body_hash: row.get(5)?,
        state: row.get(6)?,
        attempts: row.get(7)?,
        outcome: row.get(8)?,
        status: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
        status_at: row.get(12)?,
        polls: row.get(13)?,
        polled_at: row.get(14)?,
        stuck: row.get(15)?,
        agent: row.get(16)?,
    };
    Ok(raw.into_record())
}

impl Stored {
    fn into_record(self) -> Result<Record, JournalError> {
        let corrupt = |what: &str| JournalError::Corrupt(format!("record `{}`: {what}", self.key));
        let op = MoneyOp::parse(&self.op)
            .ok_or_else(|| corrupt(&format!("unknown operation `{}`", self.op)))?;
        let state = State::parse(&self.state)
            .ok_or_else(|| corrupt(&format!("unknown state `{}`", self.state)))?;
        let attempts = u32::try_from(self.attempts).map_err(|_| corrupt("negative attempts"))?;
        let tracking = Tracking {
            status_at: self.status_at.as_deref().map(parse_time).transpose()?,
            polls: u32::try_from(self.polls).map_err(|_| corrupt("negative polls"))?,
            polled_at: self.polled_at.as_deref().map(parse_time).transpose()?,
            stuck: self.stuck,
        };
        Ok(Record {
            tracking,
            created_at: parse_time(&self.created_at)?,
            updated_at: parse_time(&self.updated_at)?,
            status: self.status.as_deref().map(TransferStatus::from),
            key: RecordKey(self.key),
            op,
            order_id: self.order_id,
            transfer_id: self.transfer_id,
            body: self.body,
            body_hash: self.body_hash,
            state,
            attempts,
            outcome: self.outcome,
            agent: self.agent,
        })
    }
}

/// The record `key`: the outer error is the database's, the inner one a row that does not
/// read as a record.
pub(crate) fn load(
    connection: &Connection,
    key: &str,
) -> Result<Option<Result<Record, JournalError>>, JournalError> {
    // Cached: the writer loads and stores every write's record (parsing the SQL each time cost
    // more than the write).
    connection
        .prepare_cached(&format!("SELECT {COLUMNS} FROM journal WHERE key = ?1"))
        .and_then(|mut statement| statement.query_row([key], record_of).optional())
        .map_err(db_error)
}

pub(crate) fn store(connection: &Connection, record: &Record) -> Result<(), JournalError> {
    connection
        .prepare_cached(
            "INSERT INTO journal (key, op, order_id, transfer_id, body, body_hash, state, attempts,
                                  outcome, status, created_at, updated_at, status_at, polls,
                                  polled_at, stuck, agent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT (key) DO UPDATE SET
                op = excluded.op, order_id = excluded.order_id,
                transfer_id = excluded.transfer_id, body = excluded.body,
                body_hash = excluded.body_hash, state = excluded.state,
                attempts = excluded.attempts, outcome = excluded.outcome,
                status = excluded.status, created_at = excluded.created_at,
                updated_at = excluded.updated_at, status_at = excluded.status_at,
                polls = excluded.polls, polled_at = excluded.polled_at, stuck = excluded.stuck,
                agent = excluded.agent",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                record.key.0,
                record.op.as_str(),
                record.order_id,
                record.transfer_id,
                record.body,
                record.body_hash,
                record.state.as_str(),
                i64::from(record.attempts),
                record.outcome,
                record.status.as_ref().map(TransferStatus::as_str),
                text(record.created_at),
                text(record.updated_at),
                record.tracking.status_at.map(text),
                i64::from(record.tracking.polls),
                record.tracking.polled_at.map(text),
                record.tracking.stuck,
                record.agent,
            ])
        })
        .map(drop)
        .map_err(db_error)
}

/// The records `filter` (a `WHERE` clause) selects, oldest first.
fn select(connection: &Connection, filter: &str) -> Result<Vec<Record>, JournalError> {
    let mut statement = connection
        .prepare(&format!(
            "SELECT {COLUMNS} FROM journal {filter} ORDER BY rowid"
        ))
        .map_err(db_error)?;
    let rows = statement.query_map([], record_of).map_err(db_error)?;
    let mut records = Vec::new();
    for row in rows {
        records.push(row.map_err(db_error)??);
    }
    Ok(records)
}

impl Journal for SqliteJournal {
    fn write(&self, write: Write) -> BoxFuture<'_, Result<Record, JournalError>> {
        Box::pin(self.writer.submit(write))
    }

    fn get<'a>(
        &'a self,
        key: &'a RecordKey,
    ) -> BoxFuture<'a, Result<Option<Record>, JournalError>> {
        let key = key.0.clone();
        self.run(move |connection| load(connection, &key)?.transpose())
    }

    fn audit_log(&self) -> BoxFuture<'_, Result<AuditLog, JournalError>> {
        self.run(|connection| {
            // One snapshot for the entries and the head.
            let tx = connection.transaction().map_err(db_error)?;
            crate::audit::read(&tx)
        })
    }

    fn list(&self, open_only: bool) -> BoxFuture<'_, Result<Vec<Record>, JournalError>> {
        let filter = if open_only {
            "WHERE state NOT IN ('applied', 'refused')"
        } else {
            ""
        };
        self.run(move |connection| select(connection, filter))
    }

    fn tracked(&self) -> BoxFuture<'_, Result<Vec<Record>, JournalError>> {
        self.run(move |connection| {
            let mut records = select(
                connection,
                "WHERE op = 'create_transfer' AND state = 'applied' AND stuck = 0",
            )?;
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
        let (key, holder) = (key.0.clone(), holder.to_owned());
        self.run(move |connection| {
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_error)?;
            let Some(record) = load(&tx, &key)? else {
                return Err(JournalError::NotFound(RecordKey(key)));
            };
            if !record?.needs_work() {
                return Ok(false);
            }
            let (lease_holder, lease_until): (Option<String>, Option<String>) = tx
                .query_row(
                    "SELECT lease_holder, lease_until FROM journal WHERE key = ?1",
                    [&key],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(db_error)?;
            if let (Some(other), Some(until_text)) = (lease_holder, lease_until) {
                if other != holder && parse_time(&until_text)? > now {
                    return Ok(false);
                }
            }
            tx.execute(
                "UPDATE journal SET lease_holder = ?1, lease_until = ?2 WHERE key = ?3",
                params![holder, text(until), key],
            )
            .map_err(db_error)?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
    }
}
