//! Versioned migrations, applied on open inside one transaction; the version is SQLite's
//! `user_version`. A journal of a newer version is refused, untouched.

use rusqlite::{Connection, TransactionBehavior};

use imts_core::journal::JournalError;

use crate::journal::db_error;

/// Each migration's SQL, in order; the schema version is how many have been applied.
const MIGRATIONS: &[&str] = &[
    // 1: the journal.
    "CREATE TABLE journal (
        key          TEXT PRIMARY KEY NOT NULL,
        op           TEXT NOT NULL,
        order_id     TEXT,
        transfer_id  TEXT,
        body         BLOB NOT NULL,
        body_hash    TEXT NOT NULL,
        state        TEXT NOT NULL,
        attempts     INTEGER NOT NULL,
        outcome      TEXT,
        status       TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        lease_holder TEXT,
        lease_until  TEXT
    ) STRICT;
    CREATE INDEX journal_open ON journal (state) WHERE state NOT IN ('applied', 'refused');",
    // 2: what the reconciler follows of each created transfer.
    "ALTER TABLE journal ADD COLUMN status_at TEXT;
    ALTER TABLE journal ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE journal ADD COLUMN polled_at TEXT;
    ALTER TABLE journal ADD COLUMN stuck INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX journal_tracked ON journal (op) WHERE state = 'applied' AND stuck = 0;",
    // 3: the callback inbox (times in Unix nanoseconds, so SQL compares them).
    "CREATE TABLE inbox (
        notification_id TEXT PRIMARY KEY NOT NULL,
        kind            TEXT NOT NULL,
        body            BLOB NOT NULL,
        received_at     INTEGER NOT NULL,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL,
        last_error      TEXT,
        next_at         INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        lease_holder    TEXT,
        lease_until     INTEGER
    ) STRICT;
    CREATE INDEX inbox_due ON inbox (next_at) WHERE state = 'pending';",
    // 4: the audit log (hash-chained, append-only) and who made each call.
    "ALTER TABLE journal ADD COLUMN agent TEXT;
    CREATE TABLE audit_log (
        seq          INTEGER PRIMARY KEY NOT NULL,
        at           TEXT NOT NULL,
        agent        TEXT NOT NULL,
        operation    TEXT NOT NULL,
        order_id     TEXT,
        transfer_id  TEXT,
        request_hash TEXT NOT NULL,
        state        TEXT NOT NULL,
        outcome      TEXT,
        prev_hash    TEXT NOT NULL,
        hash         TEXT NOT NULL
    ) STRICT;
    CREATE TABLE audit_head (
        id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
        seq  INTEGER NOT NULL,
        hash TEXT NOT NULL
    ) STRICT;
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
];

/// The newest schema version this crate knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema to [`SCHEMA_VERSION`].
pub(crate) fn migrate(connection: &mut Connection) -> Result<(), JournalError> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let found: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(db_error)?;
    if found > SCHEMA_VERSION {
        return Err(JournalError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let start = usize::try_from(found).unwrap_or(0);
    for sql in MIGRATIONS.iter().skip(start) {
        tx.execute_batch(sql).map_err(db_error)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(db_error)?;
    tx.commit().map_err(db_error)
}
