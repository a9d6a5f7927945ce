//! The audit log's tables: a batch's entries are appended in its own transaction, after its
//! records, with the chain's head locked (`FOR UPDATE`) until the commit. The head is the last
//! lock a batch takes, after its records in key order, so batches still never deadlock; they
//! serialize only for the appends ([`imts_core::journal::audit`] has the model and the check).

use deadpool_postgres::GenericClient;
use imts_core::journal::audit::{AuditEntry, AuditFact, AuditHead};
use imts_core::journal::{AuditLog, JournalError, MoneyOp, State};
use imts_core::values::Timestamp;
use time::OffsetDateTime;
use tokio_postgres::Row;

use crate::journal::db_error;

const INSERT: &str = "INSERT INTO audit_log (seq, at, agent, operation, order_id, transfer_id,
        request_hash, state, outcome, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

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

/// Appends `facts` to the chain inside `tx` (nothing, and no lock, when there are none).
pub(crate) async fn append(
    tx: &deadpool_postgres::Transaction<'_>,
    facts: Vec<AuditFact>,
) -> Result<(), JournalError> {
    if facts.is_empty() {
        return Ok(());
    }
    // Prepared once per connection: a statement given as text is parsed on every batch, one
    // more round trip.
    let select = tx
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
        .await
        .map_err(db_error)?;
    let row = tx.query_one(&select, &[]).await.map_err(db_error)?;
    let mut head = head_of(&row)?;
    let entries: Vec<AuditEntry> = facts.into_iter().map(|fact| head.append(fact)).collect();
    let insert = tx.prepare_cached(INSERT).await.map_err(db_error)?;
    let mut params = Vec::with_capacity(entries.len());
    for entry in &entries {
        params.push((seq_value(entry.seq)?, entry));
    }
    let insert = &insert;
    let inserts = params.iter().map(|(seq, entry)| {
        let fact = &entry.fact;
        let at = fact.at.as_offset_date_time();
        let operation = fact.operation.as_str();
        let state = fact.state.as_str();
        async move {
            tx.execute(
                insert,
                &[
                    seq,
                    &at,
                    &fact.agent,
                    &operation,
                    &fact.order_id,
                    &fact.transfer_id,
                    &fact.request_hash,
                    &state,
                    &fact.outcome,
                    &entry.prev_hash,
                    &entry.hash,
                ],
            )
            .await
        }
    });
    let head_seq = seq_value(head.seq)?;
    let (inserted, moved) = futures_util::future::join(
        futures_util::future::join_all(inserts),
        tx.execute(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
            &[&head_seq, &head.hash],
        ),
    )
    .await;
    for result in inserted {
        result.map_err(db_error)?;
    }
    moved.map_err(db_error)?;
    Ok(())
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
