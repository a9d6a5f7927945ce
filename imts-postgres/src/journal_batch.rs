//! One group-committed batch of journal writes: two round trips and one statement per kind of
//! work, whatever the batch's size (each row a statement of its own cost the server ~80 us of
//! CPU per write in a burst; as arrays, the per-row work is the executor's alone).
//!
//! 1. `BEGIN`; the batch's settings (generic plans; `synchronous_commit=off` for a batch of
//!    outcomes only); placeholders inserted for the keys an intent may create; every row locked
//!    in key order; the audit head locked last, so batches of this instance or of others never
//!    deadlock;
//! 2. every changed record stored, the audit entries and the new head, `COMMIT`.
//!
//! Keys are locked in byte order (`COLLATE "C"`, Rust's order of `str`) in both statements,
//! whatever the database's collation.

use std::collections::BTreeMap;

use deadpool_postgres::Client;
use imts_core::enums::TransferStatus;
use imts_core::journal::audit::AuditFact;
use imts_core::journal::{batch_order, JournalError, Record, Write};
use imts_core::values::Timestamp;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio_postgres::types::ToSql;
use tokio_postgres::Statement;

use crate::journal::{db_error, record_of, COLUMNS};
use crate::pipeline::Pipeline;
use crate::writer::{BatchRun, Batched, Writer};

/// A journal write waiting for its transaction, and where its answer goes.
pub(crate) struct Job {
    write: Write,
    reply: oneshot::Sender<Result<Record, JournalError>>,
}

impl Batched for Job {
    type Answer = Result<Record, JournalError>;

    fn order(batch: &mut [Self]) {
        batch_order(batch, |job| &job.write);
    }

    fn run<'a>(tx: Pipeline<'a>, batch: &'a [Self]) -> BatchRun<'a, Self::Answer> {
        Box::pin(commit(tx, batch))
    }

    fn answer(self, answer: Self::Answer) {
        let _ = self.reply.send(answer);
    }

    fn fail(self, error: &JournalError) {
        let _ = self.reply.send(Err(error.clone()));
    }
}

impl Writer<Job> {
    /// Queues a journal write; answers once its transaction is committed.
    pub(crate) fn submit(
        &self,
        write: Write,
    ) -> impl std::future::Future<Output = Result<Record, JournalError>> + Send + 'static {
        self.queue(|reply| Job { write, reply })
    }
}

/// Empty rows for keys that have none (in the order given, the batch's key order); always
/// overwritten in the same transaction (an intent for a new key is never refused), so none is
/// ever committed. Two instances recording one key wait on each other here.
const INSERT_PLACEHOLDERS: &str = "INSERT INTO imts_journal (key, op, order_id, transfer_id,
        body, body_hash, state, attempts, created_at, updated_at)
     SELECT unnest($1::text[]), '', NULL, NULL, ''::bytea, '', 'intent', 0, now(), now()
     ON CONFLICT (key) DO NOTHING";

/// Whole records from one array per column, replacing those that exist. The arrays are
/// unnested in the select list, in step (a `FROM unnest(...)` of 17 arrays materializes each
/// one first: ~100 us for one row, against ~20 us).
const STORE_ALL: &str = "INSERT INTO imts_journal (key, op, order_id, transfer_id, body,
        body_hash, state, attempts, outcome, status, created_at, updated_at, status_at, polls,
        polled_at, stuck, agent)
     SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]),
        unnest($5::bytea[]), unnest($6::text[]), unnest($7::text[]), unnest($8::int8[]),
        unnest($9::text[]), unnest($10::text[]), unnest($11::timestamptz[]),
        unnest($12::timestamptz[]), unnest($13::timestamptz[]), unnest($14::int8[]),
        unnest($15::timestamptz[]), unnest($16::bool[]), unnest($17::text[])
     ON CONFLICT (key) DO UPDATE SET
        op = excluded.op, order_id = excluded.order_id,
        transfer_id = excluded.transfer_id, body = excluded.body,
        body_hash = excluded.body_hash, state = excluded.state,
        attempts = excluded.attempts, outcome = excluded.outcome,
        status = excluded.status, created_at = excluded.created_at,
        updated_at = excluded.updated_at, status_at = excluded.status_at,
        polls = excluded.polls, polled_at = excluded.polled_at, stuck = excluded.stuck,
        agent = excluded.agent";

/// A batch's settings. Generic plans: each statement's plan is made once per connection;
/// otherwise the server plans an array statement again on every run (a plan for the actual
/// arrays always looks cheaper than the generic one), ~50-70 us a statement for one row.
const SETTINGS: &str = "SET LOCAL plan_cache_mode TO force_generic_plan";
/// The settings of a batch of outcomes only: also committed without waiting for the WAL
/// flush (`Write::needs_flush`).
const SETTINGS_LAZY: &str = "SET LOCAL plan_cache_mode TO force_generic_plan;
     SET LOCAL synchronous_commit TO OFF";

/// Every key's row, locked in byte order (the text made once: it names [`COLUMNS`]).
static LOCK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM imts_journal WHERE key = ANY($1::text[])
         ORDER BY key COLLATE \"C\" FOR UPDATE"
    )
});

/// The statements of a batch, prepared on the connection before its transaction starts (the
/// [`Pipeline`] rules), cached by the pool after the connection's first batch.
struct Statements {
    placeholders: Statement,
    lock: Statement,
    store: Statement,
    audit: crate::audit::Statements,
}

impl Statements {
    async fn prepare(client: &Client) -> Result<Self, JournalError> {
        let (placeholders, lock, store, audit) = futures_util::future::join4(
            client.prepare_cached(INSERT_PLACEHOLDERS),
            client.prepare_cached(&LOCK),
            client.prepare_cached(STORE_ALL),
            crate::audit::Statements::prepare(client),
        )
        .await;
        Ok(Self {
            placeholders: placeholders.map_err(db_error)?,
            lock: lock.map_err(db_error)?,
            store: store.map_err(db_error)?,
            audit: audit?,
        })
    }
}

/// Runs `batch` in one transaction: each write's answer, and whether anything was committed.
/// A database failure fails the whole batch (nothing of it is kept); a write refused by the
/// model (a reused key, a bad transition, a corrupt row) is answered alone.
async fn commit(
    tx: Pipeline<'_>,
    batch: &[Job],
) -> Result<(Vec<Result<Record, JournalError>>, bool), JournalError> {
    let client = tx.client();
    let statements = Statements::prepare(client).await?;
    let lazy = !batch.iter().any(|job| job.write.needs_flush());
    let (set, (locked, head)) = tx
        .begin_with(async {
            Ok(futures_util::future::join(
                async {
                    client
                        .batch_execute(if lazy { SETTINGS_LAZY } else { SETTINGS })
                        .await
                        .map_err(db_error)
                },
                futures_util::future::join(
                    lock_rows(client, &statements, batch),
                    crate::audit::lock_head(client, &statements.audit),
                ),
            )
            .await)
        })
        .await?;
    set?;
    let mut current = locked?;
    let mut head = head?;
    let mut answers = Vec::with_capacity(batch.len());
    let mut changed: Vec<&str> = Vec::new();
    let mut facts = Vec::new();
    for job in batch {
        let key = job.write.key().0.as_str();
        let slot = current
            .get_mut(key)
            .ok_or_else(|| JournalError::Unavailable(format!("record `{key}` was not locked")))?;
        let answer = slot.clone().and_then(|existing| job.write.decide(existing));
        if let Ok((record, true)) = &answer {
            *slot = Ok(Some(record.clone()));
            facts.extend(AuditFact::of(&job.write, record));
            if changed.last() != Some(&key) {
                changed.push(key);
            }
        }
        answers.push(answer.map(|(record, _)| record));
    }
    // Everything fallible is done before the last stage (the `Pipeline` rules).
    let appended = crate::audit::Appended::new(&mut head, facts)?;
    let columns = Columns::of(changed.iter().filter_map(|key| match current.get(key) {
        Some(Ok(Some(record))) => Some(record),
        _ => None,
    }));
    tx.commit_with(async {
        let (stored, appended) = futures_util::future::join(
            columns.store(client, &statements.store),
            appended.write(client, &statements.audit),
        )
        .await;
        stored?;
        appended
    })
    .await?;
    Ok((answers, !changed.is_empty()))
}

/// Locks the rows of every key in `batch` (sorted by key) for the transaction, inserting
/// placeholders first where an intent may create one, and answers each key's record as
/// stored: `None` for none (or a placeholder), an error for a row that does not read as a
/// record. Both statements are sent on the first poll, placeholders first.
async fn lock_rows<'k>(
    client: &Client,
    statements: &Statements,
    batch: &'k [Job],
) -> Result<BTreeMap<&'k str, Result<Option<Record>, JournalError>>, JournalError> {
    let mut keys: Vec<&str> = Vec::new();
    let mut creating: Vec<&str> = Vec::new();
    for job in batch {
        let key = job.write.key().0.as_str();
        if keys.last() != Some(&key) {
            keys.push(key);
        }
        if matches!(job.write, Write::Record { .. }) && creating.last() != Some(&key) {
            creating.push(key);
        }
    }
    let (inserted, rows) = futures_util::future::join(
        async {
            if creating.is_empty() {
                Ok(0)
            } else {
                client.execute(&statements.placeholders, &[&creating]).await
            }
        },
        client.query(&statements.lock, &[&keys]),
    )
    .await;
    inserted.map_err(db_error)?;
    let mut current: BTreeMap<&str, Result<Option<Record>, JournalError>> =
        keys.iter().map(|key| (*key, Ok(None))).collect();
    for row in rows.map_err(db_error)? {
        let key: &str = row.try_get(0).map_err(db_error)?;
        let Some(slot) = current.get_mut(key) else {
            continue;
        };
        if !is_placeholder(&row) {
            *slot = record_of(&row).map(Some);
        }
    }
    Ok(current)
}

fn is_placeholder(row: &tokio_postgres::Row) -> bool {
    row.try_get::<_, &str>(1).is_ok_and(str::is_empty)
}

/// Records as one array per column, [`STORE_ALL`]'s parameters.
#[derive(Default)]
struct Columns<'r> {
    key: Vec<&'r str>,
    op: Vec<&'static str>,
    order_id: Vec<Option<&'r str>>,
    transfer_id: Vec<Option<&'r str>>,
    body: Vec<&'r [u8]>,
    body_hash: Vec<&'r str>,
    state: Vec<&'static str>,
    attempts: Vec<i64>,
    outcome: Vec<Option<&'r str>>,
    status: Vec<Option<&'r str>>,
    created_at: Vec<OffsetDateTime>,
    updated_at: Vec<OffsetDateTime>,
    status_at: Vec<Option<OffsetDateTime>>,
    polls: Vec<i64>,
    polled_at: Vec<Option<OffsetDateTime>>,
    stuck: Vec<bool>,
    agent: Vec<Option<&'r str>>,
}

impl<'r> Columns<'r> {
    fn of(records: impl Iterator<Item = &'r Record>) -> Self {
        let mut columns = Self::default();
        for record in records {
            columns.key.push(&record.key.0);
            columns.op.push(record.op.as_str());
            columns.order_id.push(record.order_id.as_deref());
            columns.transfer_id.push(record.transfer_id.as_deref());
            columns.body.push(&record.body);
            columns.body_hash.push(&record.body_hash);
            columns.state.push(record.state.as_str());
            columns.attempts.push(i64::from(record.attempts));
            columns.outcome.push(record.outcome.as_deref());
            columns
                .status
                .push(record.status.as_ref().map(TransferStatus::as_str));
            columns
                .created_at
                .push(record.created_at.as_offset_date_time());
            columns
                .updated_at
                .push(record.updated_at.as_offset_date_time());
            let tracking = &record.tracking;
            columns.status_at.push(
                tracking
                    .status_at
                    .as_ref()
                    .map(Timestamp::as_offset_date_time),
            );
            columns.polls.push(i64::from(tracking.polls));
            columns.polled_at.push(
                tracking
                    .polled_at
                    .as_ref()
                    .map(Timestamp::as_offset_date_time),
            );
            columns.stuck.push(tracking.stuck);
            columns.agent.push(record.agent.as_deref());
        }
        columns
    }

    /// Stores them in one statement (nothing when there are none).
    async fn store(&self, client: &Client, statement: &Statement) -> Result<(), JournalError> {
        if self.key.is_empty() {
            return Ok(());
        }
        let params: [&(dyn ToSql + Sync); 17] = [
            &self.key,
            &self.op,
            &self.order_id,
            &self.transfer_id,
            &self.body,
            &self.body_hash,
            &self.state,
            &self.attempts,
            &self.outcome,
            &self.status,
            &self.created_at,
            &self.updated_at,
            &self.status_at,
            &self.polls,
            &self.polled_at,
            &self.stuck,
            &self.agent,
        ];
        client
            .execute(statement, &params)
            .await
            .map(drop)
            .map_err(db_error)
    }
}
