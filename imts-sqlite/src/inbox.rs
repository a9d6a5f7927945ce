//! [`SqliteInbox`]: the callback [`Inbox`] in the journal's SQLite file (table `inbox`).
//! Inserts go through the journal's writer thread, so concurrent deliveries are group-committed
//! with each other and with journal writes.

use imts_core::inbox::{Depth, Inbox, InboxError, InboxRow, InboxState, Stored};
use imts_core::journal::JournalError;
use imts_core::token_store::BoxFuture;
use imts_core::values::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use time::OffsetDateTime;

use crate::journal::{db_error, SqliteJournal};

/// The inbox in a journal's SQLite file: open it with [`SqliteInbox::open`], or take it from an
/// open journal ([`SqliteJournal::inbox`]) to share its connections and writer. WAL mode and
/// `synchronous=FULL`: a delivery is acknowledged only once its row is fsynced.
#[derive(Clone, Debug)]
pub struct SqliteInbox {
    file: SqliteJournal,
}

impl SqliteJournal {
    /// The callback inbox in this journal's file.
    #[must_use]
    pub fn inbox(&self) -> SqliteInbox {
        SqliteInbox { file: self.clone() }
    }
}

impl SqliteInbox {
    /// Opens (creating it if absent) the file at `path` and applies the migrations.
    ///
    /// # Errors
    /// As [`SqliteJournal::open`].
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self, JournalError> {
        Ok(SqliteJournal::open(path)?.inbox())
    }
}

fn nanos(time: Timestamp) -> i64 {
    i64::try_from(time.as_offset_date_time().unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

fn time_of(nanos: i64) -> Result<Timestamp, InboxError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map(Timestamp::new)
        .map_err(|e| InboxError::Corrupt(format!("a stored time {nanos}: {e}")))
}

fn failed(error: rusqlite::Error) -> InboxError {
    InboxError::from(db_error(error))
}

const COLUMNS: &str =
    "notification_id, kind, body, received_at, state, attempts, last_error, next_at, updated_at";

/// A row as read, before its names and times are checked.
type Raw = (
    String,
    String,
    Vec<u8>,
    i64,
    String,
    i64,
    Option<String>,
    i64,
    i64,
);

fn raw(row: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
    ))
}

fn row_of(raw: Raw) -> Result<InboxRow, InboxError> {
    let (notification_id, kind, body, received_at, state, attempts, last_error, next_at, updated) =
        raw;
    let corrupt =
        |what: &str| InboxError::Corrupt(format!("inbox row `{notification_id}`: {what}"));
    Ok(InboxRow {
        state: InboxState::parse(&state).ok_or_else(|| corrupt("unknown state"))?,
        attempts: u32::try_from(attempts).map_err(|_| corrupt("negative attempts"))?,
        received_at: time_of(received_at)?,
        next_at: time_of(next_at)?,
        updated_at: time_of(updated)?,
        notification_id,
        kind,
        body,
        last_error,
    })
}

/// Stores `row` unless its id is there (run by the writer, inside its transaction).
pub(crate) fn insert(connection: &Connection, row: &InboxRow) -> Result<Stored, JournalError> {
    let inserted = connection
        .prepare_cached(
            "INSERT INTO inbox (notification_id, kind, body, received_at, state, attempts,
                                last_error, next_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (notification_id) DO NOTHING",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                row.notification_id,
                row.kind,
                row.body,
                nanos(row.received_at),
                row.state.as_str(),
                i64::from(row.attempts),
                row.last_error,
                nanos(row.next_at),
                nanos(row.updated_at),
            ])
        })
        .map_err(db_error)?;
    Ok(if inserted == 1 {
        Stored::New
    } else {
        Stored::Duplicate
    })
}

fn select(
    connection: &Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<InboxRow>, InboxError> {
    let mut statement = connection
        .prepare(&format!(
            "SELECT {COLUMNS} FROM inbox {filter} ORDER BY received_at, notification_id"
        ))
        .map_err(failed)?;
    let rows = statement.query_map(args, raw).map_err(failed)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row_of(row.map_err(failed)?)?);
    }
    Ok(out)
}

impl Inbox for SqliteInbox {
    fn insert(&self, row: InboxRow) -> BoxFuture<'_, Result<Stored, InboxError>> {
        Box::pin(self.file.writer.submit_inbox(row))
    }

    fn claim_next<'a>(
        &'a self,
        holder: &'a str,
        until: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Option<InboxRow>, InboxError>> {
        let holder = holder.to_owned();
        self.file.run(move |connection: &mut Connection| {
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(failed)?;
            let next = tx
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM inbox
                         WHERE state = 'pending' AND next_at <= ?1
                           AND (lease_until IS NULL OR lease_until <= ?1 OR lease_holder = ?2)
                         ORDER BY received_at, notification_id LIMIT 1"
                    ),
                    params![nanos(now), holder],
                    raw,
                )
                .optional()
                .map_err(failed)?;
            let Some(next) = next else { return Ok(None) };
            let row = row_of(next)?;
            tx.execute(
                "UPDATE inbox SET lease_holder = ?1, lease_until = ?2 WHERE notification_id = ?3",
                params![holder, nanos(until), row.notification_id],
            )
            .map_err(failed)?;
            tx.commit().map_err(failed)?;
            Ok(Some(row))
        })
    }

    fn update(&self, row: InboxRow) -> BoxFuture<'_, Result<(), InboxError>> {
        self.file.run(move |connection: &mut Connection| {
            let changed = connection
                .execute(
                    "UPDATE inbox SET state = ?1, attempts = ?2, last_error = ?3, next_at = ?4,
                                      updated_at = ?5, lease_holder = NULL, lease_until = NULL
                     WHERE notification_id = ?6",
                    params![
                        row.state.as_str(),
                        i64::from(row.attempts),
                        row.last_error,
                        nanos(row.next_at),
                        nanos(row.updated_at),
                        row.notification_id,
                    ],
                )
                .map_err(failed)?;
            if changed == 1 {
                Ok(())
            } else {
                Err(InboxError::NotFound(row.notification_id))
            }
        })
    }

    fn get<'a>(
        &'a self,
        notification_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<InboxRow>, InboxError>> {
        let id = notification_id.to_owned();
        self.file.run(move |connection: &mut Connection| {
            Ok(select(connection, "WHERE notification_id = ?1", &[&id])?
                .into_iter()
                .next())
        })
    }

    fn list(&self, state: Option<InboxState>) -> BoxFuture<'_, Result<Vec<InboxRow>, InboxError>> {
        self.file
            .run(move |connection: &mut Connection| match state {
                Some(state) => select(connection, "WHERE state = ?1", &[&state.as_str()]),
                None => select(connection, "", &[]),
            })
    }

    fn depth(&self) -> BoxFuture<'_, Result<Depth, InboxError>> {
        self.file.run(move |connection: &mut Connection| {
            let (pending, oldest): (i64, Option<i64>) = connection
                .query_row(
                    "SELECT COUNT(*), MIN(received_at) FROM inbox WHERE state = 'pending'",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(failed)?;
            Ok(Depth {
                pending: u64::try_from(pending).unwrap_or(0),
                oldest_received_at: oldest.map(time_of).transpose()?,
            })
        })
    }

    fn purge(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, InboxError>> {
        self.file.run(move |connection: &mut Connection| {
            connection
                .execute(
                    "DELETE FROM inbox WHERE state = 'done' AND received_at < ?1",
                    [nanos(before)],
                )
                .map(|n| n as u64)
                .map_err(failed)
        })
    }
}
