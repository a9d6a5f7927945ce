//! The audit log's tables: a batch's entries are appended in its own transaction, with its
//! records, the chain's head locked (`FOR UPDATE`) until the commit. The head is the last lock
//! a batch takes, after its records in key order, so batches never deadlock; they serialize
//! on the head ([`imts_core::journal::audit`] has the model and the check).

use deadpool_postgres::{Client, GenericClient};
use imts_core::journal::audit::{AuditEntry, AuditFact, AuditHead};
use imts_core::journal::{AuditLog, JournalError, MoneyOp, State};
use imts_core::values::Timestamp;
use time::OffsetDateTime;
use tokio_postgres::{Row, Statement};

use crate::journal::db_error;

/// A batch's entries, one array per column, unnested in step in the select list (the
/// `NOT NULL` columns' arrays hold no nulls).
const INSERT: &str = "INSERT INTO audit_log (seq, at, agent, operation, order_id, transfer_id,
        request_hash, state, outcome, prev_hash, hash)
     SELECT unnest($1::int8[]), unnest($2::timestamptz[]), unnest($3::text[]),
        unnest($4::text[]), unnest($5::text[]), unnest($6::text[]), unnest($7::text[]),
        unnest($8::text[]), unnest($9::text[]), unnest($10::text[]), unnest($11::text[])";

fn seq_value(seq: u64) -> Result<i64, JournalError> {
    i64::try_from(seq).map_err(|_| JournalError::Corrupt(format!("audit seq {seq} overflows")))
}

fn head_of(row: &Row) -> Result<AuditHead, JournalError> {
    let seq: i64 = row.try_get(0).map_err(db_error)?;
    Ok(AuditHead {
        seq: u64::try_from(seq)
            .map_err(|_| JournalError::Corrupt(format!("audit head seq {seq}")))?,
        hash: row.try_get(1).map_err(db_error)?,
    })
}

/// The statements of an append, prepared once per connection (a statement given as text is
/// parsed on every batch, one more round trip).
pub(crate) struct Statements {
    head: Statement,
    insert: Statement,
    update: Statement,
}

impl Statements {
    /// Prepares them on `client` (from its cache after the first time).
    pub(crate) async fn prepare(client: &Client) -> Result<Self, JournalError> {
        let (head, insert, update) = futures_util::future::join3(
            client.prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"),
            client.prepare_cached(INSERT),
            client.prepare_cached("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1"),
        )
        .await;
        Ok(Self {
            head: head.map_err(db_error)?,
            insert: insert.map_err(db_error)?,
            update: update.map_err(db_error)?,
        })
    }
}

/// Locks the chain's head for the transaction (`FOR UPDATE`, until the commit) and reads it.
pub(crate) async fn lock_head(
    client: &Client,
    statements: &Statements,
) -> Result<AuditHead, JournalError> {
    let row = client
        .query_one(&statements.head, &[])
        .await
        .map_err(db_error)?;
    head_of(&row)
}

/// A batch's entries, chained onto the locked head and ready to write: everything fallible is
/// done when this exists, so they can go out with `COMMIT`.
pub(crate) struct Appended {
    entries: Vec<(i64, AuditEntry)>,
    head: Option<(i64, String)>,
}

impl Appended {
    /// Chains `facts` onto `head` (which moves to the last of them).
    ///
    /// # Errors
    /// [`JournalError::Corrupt`] when a sequence number does not fit the column.
    pub(crate) fn new(head: &mut AuditHead, facts: Vec<AuditFact>) -> Result<Self, JournalError> {
        let mut entries = Vec::with_capacity(facts.len());
        for fact in facts {
            let entry = head.append(fact);
            entries.push((seq_value(entry.seq)?, entry));
        }
        let head = if entries.is_empty() {
            None
        } else {
            Some((seq_value(head.seq)?, head.hash.clone()))
        };
        Ok(Self { entries, head })
    }

    /// Writes the entries (one statement) and the new head, pipelined (nothing when there are
    /// none).
    pub(crate) async fn write(
        &self,
        client: &Client,
        statements: &Statements,
    ) -> Result<(), JournalError> {
        let Some((head_seq, head_hash)) = &self.head else {
            return Ok(());
        };
        let column = |f: fn(&(i64, AuditEntry)) -> Option<&str>| -> Vec<Option<&str>> {
            self.entries.iter().map(f).collect()
        };
        let seq: Vec<i64> = self.entries.iter().map(|(seq, _)| *seq).collect();
        let at: Vec<OffsetDateTime> = self
            .entries
            .iter()
            .map(|(_, e)| e.fact.at.as_offset_date_time())
            .collect();
        let agent = column(|(_, e)| Some(&e.fact.agent));
        let operation = column(|(_, e)| Some(e.fact.operation.as_str()));
        let order_id = column(|(_, e)| e.fact.order_id.as_deref());
        let transfer_id = column(|(_, e)| e.fact.transfer_id.as_deref());
        let request_hash = column(|(_, e)| Some(&e.fact.request_hash));
        let state = column(|(_, e)| Some(e.fact.state.as_str()));
        let outcome = column(|(_, e)| e.fact.outcome.as_deref());
        let prev_hash = column(|(_, e)| Some(&e.prev_hash));
        let hash = column(|(_, e)| Some(&e.hash));
        let (inserted, moved) = futures_util::future::join(
            client.execute(
                &statements.insert,
                &[
                    &seq,
                    &at,
                    &agent,
                    &operation,
                    &order_id,
                    &transfer_id,
                    &request_hash,
                    &state,
                    &outcome,
                    &prev_hash,
                    &hash,
                ],
            ),
            client.execute(&statements.update, &[head_seq, head_hash]),
        )
        .await;
        inserted.map_err(db_error)?;
        moved.map_err(db_error)?;
        Ok(())
    }
}

/// Every entry by `seq`, and the stored head.
pub(crate) async fn read(client: &impl GenericClient) -> Result<AuditLog, JournalError> {
    let rows = client
        .query(
            "SELECT seq, at, agent, operation, order_id, transfer_id, request_hash, state,
                    outcome, prev_hash, hash
             FROM audit_log ORDER BY seq",
            &[],
        )
        .await
        .map_err(db_error)?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        let seq: i64 = row.try_get(0).map_err(db_error)?;
        let corrupt = |what: String| JournalError::Corrupt(format!("audit entry {seq}: {what}"));
        let operation: String = row.try_get(3).map_err(db_error)?;
        let state: String = row.try_get(7).map_err(db_error)?;
        let at: OffsetDateTime = row.try_get(1).map_err(db_error)?;
        entries.push(AuditEntry {
            seq: u64::try_from(seq).map_err(|_| corrupt("negative seq".into()))?,
            fact: AuditFact {
                at: Timestamp::new(at),
                agent: row.try_get(2).map_err(db_error)?,
                operation: MoneyOp::parse(&operation)
                    .ok_or_else(|| corrupt(format!("unknown operation `{operation}`")))?,
                order_id: row.try_get(4).map_err(db_error)?,
                transfer_id: row.try_get(5).map_err(db_error)?,
                request_hash: row.try_get(6).map_err(db_error)?,
                state: State::parse(&state)
                    .ok_or_else(|| corrupt(format!("unknown state `{state}`")))?,
                outcome: row.try_get(8).map_err(db_error)?,
            },
            prev_hash: row.try_get(9).map_err(db_error)?,
            hash: row.try_get(10).map_err(db_error)?,
        });
    }
    let head = client
        .query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
        .await
        .map_err(db_error)?
        .as_ref()
        .map(head_of)
        .transpose()?;
    Ok(AuditLog { entries, head })
}
