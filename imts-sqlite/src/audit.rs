//! The audit log's tables: each journal write that moves money appends an entry in the write's
//! own transaction ([`Appender`]), and the chain's head is stored beside it
//! ([`imts_core::journal::audit`] has the model and the check).

use imts_core::journal::audit::{AuditEntry, AuditFact, AuditHead};
use imts_core::journal::{AuditLog, JournalError, MoneyOp, Record, State, Write};
use rusqlite::{params, Connection, OptionalExtension};

use crate::journal::{db_error, parse_time, text};

/// The entries one transaction appends: the head is read once, at the first entry, and stored
/// at the end ([`finish`](Self::finish)).
#[derive(Default)]
pub(crate) struct Appender {
    head: Option<AuditHead>,
}

impl Appender {
    /// Appends what `write`, having changed `record`, adds to the log (if anything).
    pub(crate) fn append(
        &mut self,
        connection: &Connection,
        write: &Write,
        record: &Record,
    ) -> Result<(), JournalError> {
        let Some(fact) = AuditFact::of(write, record) else {
            return Ok(());
        };
        let head = match &mut self.head {
            Some(head) => head,
            None => self.head.insert(head(connection)?.unwrap_or_default()),
        };
        insert(connection, &head.append(fact))
    }

    /// Stores the head, when entries were appended.
    pub(crate) fn finish(self, connection: &Connection) -> Result<(), JournalError> {
        let Some(head) = self.head else {
            return Ok(());
        };
        let seq = seq_value(head.seq)?;
        connection
            .prepare_cached(
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            )
            .and_then(|mut statement| statement.execute(params![seq, head.hash]))
            .map(drop)
            .map_err(db_error)
    }
}

fn seq_value(seq: u64) -> Result<i64, JournalError> {
    i64::try_from(seq).map_err(|_| JournalError::Corrupt(format!("audit seq {seq} overflows")))
}

fn head(connection: &Connection) -> Result<Option<AuditHead>, JournalError> {
    connection
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")
        .and_then(|mut statement| {
            statement
                .query_row([], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                })
                .optional()
        })
        .map_err(db_error)?
        .map(|(seq, hash)| {
            Ok(AuditHead {
                seq: u64::try_from(seq)
                    .map_err(|_| JournalError::Corrupt(format!("audit head seq {seq}")))?,
                hash,
            })
        })
        .transpose()
}

fn insert(connection: &Connection, entry: &AuditEntry) -> Result<(), JournalError> {
    let fact = &entry.fact;
    let seq = seq_value(entry.seq)?;
    connection
        .prepare_cached(
            "INSERT INTO audit_log (seq, at, agent, operation, order_id, transfer_id, request_hash,
                                    state, outcome, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                seq,
                text(fact.at),
                fact.agent,
                fact.operation.as_str(),
                fact.order_id,
                fact.transfer_id,
                fact.request_hash,
                fact.state.as_str(),
                fact.outcome,
                entry.prev_hash,
                entry.hash,
            ])
        })
        .map(drop)
        .map_err(db_error)
}

/// Every entry by `seq`, and the stored head. A row whose names do not parse is reported as
/// corrupt (it cannot be an entry this SDK wrote).
pub(crate) fn read(connection: &Connection) -> Result<AuditLog, JournalError> {
    let mut statement = connection
        .prepare(
            "SELECT seq, at, agent, operation, order_id, transfer_id, request_hash, state,
                    outcome, prev_hash, hash
             FROM audit_log ORDER BY seq",
        )
        .map_err(db_error)?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, Option<String>>(8)?,
                row.get::<_, String>(9)?,
                row.get::<_, String>(10)?,
            ))
        })
        .map_err(db_error)?;
    let mut entries = Vec::new();
    for row in rows {
        let (
            seq,
            at,
            agent,
            operation,
            order_id,
            transfer_id,
            request_hash,
            state,
            outcome,
            prev,
            hash,
        ) = row.map_err(db_error)?;
        let corrupt = |what: String| JournalError::Corrupt(format!("audit entry {seq}: {what}"));
        entries.push(AuditEntry {
            seq: u64::try_from(seq).map_err(|_| corrupt("negative seq".into()))?,
            fact: AuditFact {
                at: parse_time(&at)?,
                agent,
                operation: MoneyOp::parse(&operation)
                    .ok_or_else(|| corrupt(format!("unknown operation `{operation}`")))?,
                order_id,
                transfer_id,
                request_hash,
                state: State::parse(&state)
                    .ok_or_else(|| corrupt(format!("unknown state `{state}`")))?,
                outcome,
            },
            prev_hash: prev,
            hash,
        });
    }
    Ok(AuditLog {
        entries,
        head: head(connection)?,
    })
}
