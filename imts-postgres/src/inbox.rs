//! [`PostgresInbox`]: the callback [`Inbox`] in the journal's database (table `imts_inbox`),
//! shared by a fleet. Inserts are group-committed by the writer tasks; each worker claims the
//! next due row with `FOR UPDATE SKIP LOCKED`, so one instance runs a row at a time and none
//! waits for another's.

use deadpool_postgres::{GenericClient, Transaction};
use imts_core::inbox::{Depth, Inbox, InboxError, InboxRow, InboxState, Stored};
use imts_core::journal::JournalError;
use imts_core::token_store::BoxFuture;
use imts_core::values::Timestamp;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::journal::{db_error, PostgresJournal};
use crate::pipeline::Pipeline;
use crate::writer::{BatchRun, Batched};

/// The inbox in a fleet's PostgreSQL database: take it from a connected journal
/// ([`PostgresJournal::inbox`]), sharing its pool, writers and runtime.
#[derive(Clone, Debug)]
pub struct PostgresInbox {
    database: PostgresJournal,
}

impl PostgresJournal {
    /// The callback inbox in this journal's database.
    #[must_use]
    pub fn inbox(&self) -> PostgresInbox {
        PostgresInbox {
            database: self.clone(),
        }
    }
}

/// A notification waiting for its insert's transaction.
pub(crate) struct InsertJob {
    row: InboxRow,
    reply: oneshot::Sender<Result<Stored, InboxError>>,
}

const INSERT: &str = "INSERT INTO imts_inbox (notification_id, kind, body, received_at, state,
        attempts, last_error, next_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (notification_id) DO NOTHING";

impl Batched for InsertJob {
    type Answer = Stored;

    fn order(batch: &mut [Self]) {
        // Unique-index entries are locked as rows are: one order for every batch.
        batch.sort_by(|a, b| a.row.notification_id.cmp(&b.row.notification_id));
    }

    fn run<'a>(tx: Pipeline<'a>, batch: &'a [Self]) -> BatchRun<'a, Stored> {
        Box::pin(async move {
            let client = tx.client();
            let insert = client.prepare_cached(INSERT).await.map_err(db_error)?;
            let (states, times): (Vec<&str>, Vec<[OffsetDateTime; 3]>) = batch
                .iter()
                .map(|job| {
                    let row = &job.row;
                    (
                        row.state.as_str(),
                        [
                            row.received_at.as_offset_date_time(),
                            row.next_at.as_offset_date_time(),
                            row.updated_at.as_offset_date_time(),
                        ],
                    )
                })
                .unzip();
            let attempts: Vec<i64> = batch.iter().map(|j| i64::from(j.row.attempts)).collect();
            let params: Vec<[&(dyn ToSql + Sync); 9]> = batch
                .iter()
                .enumerate()
                .map(|(i, job)| {
                    let row = &job.row;
                    [
                        &row.notification_id as &(dyn ToSql + Sync),
                        &row.kind,
                        &row.body,
                        &times[i][0],
                        &states[i],
                        &attempts[i],
                        &row.last_error,
                        &times[i][1],
                        &times[i][2],
                    ]
                })
                .collect();
            // One round trip for the batch: BEGIN, the inserts, COMMIT.
            let inserts = params.iter().map(|params| client.execute(&insert, params));
            let inserted = tx
                .only(async {
                    futures_util::future::join_all(inserts)
                        .await
                        .into_iter()
                        .collect::<Result<Vec<u64>, _>>()
                        .map_err(db_error)
                })
                .await?;
            let answers: Vec<Stored> = inserted
                .into_iter()
                .map(|rows| {
                    if rows == 1 {
                        Stored::New
                    } else {
                        Stored::Duplicate
                    }
                })
                .collect();
            let changed = answers.contains(&Stored::New);
            Ok((answers, changed))
        })
    }

    fn answer(self, answer: Stored) {
        let _ = self.reply.send(Ok(answer));
    }

    fn fail(self, error: &JournalError) {
        let _ = self.reply.send(Err(InboxError::from(error.clone())));
    }
}

const COLUMNS: &str =
    "notification_id, kind, body, received_at, state, attempts, last_error, next_at, updated_at";

fn row_of(row: &Row) -> Result<InboxRow, InboxError> {
    let failed = |e: tokio_postgres::Error| InboxError::Corrupt(e.to_string());
    let id: String = row.try_get(0).map_err(failed)?;
    let state: String = row.try_get(4).map_err(failed)?;
    let attempts: i64 = row.try_get(5).map_err(failed)?;
    let time = |i: usize| row.try_get::<_, OffsetDateTime>(i).map(Timestamp::new);
    Ok(InboxRow {
        kind: row.try_get(1).map_err(failed)?,
        body: row.try_get(2).map_err(failed)?,
        received_at: time(3).map_err(failed)?,
        state: InboxState::parse(&state)
            .ok_or_else(|| InboxError::Corrupt(format!("inbox row `{id}`: unknown state")))?,
        attempts: u32::try_from(attempts)
            .map_err(|_| InboxError::Corrupt(format!("inbox row `{id}`: bad attempts")))?,
        last_error: row.try_get(6).map_err(failed)?,
        next_at: time(7).map_err(failed)?,
        updated_at: time(8).map_err(failed)?,
        notification_id: id,
    })
}

fn unavailable<E: std::fmt::Display + 'static>(error: E) -> InboxError {
    InboxError::Unavailable(crate::journal::db_message(&error))
}

async fn select(
    client: &impl GenericClient,
    filter: &str,
    args: &[&(dyn ToSql + Sync)],
) -> Result<Vec<InboxRow>, InboxError> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM imts_inbox {filter} ORDER BY received_at, notification_id"
            ),
            args,
        )
        .await
        .map_err(unavailable)?;
    rows.iter().map(row_of).collect()
}

impl Inbox for PostgresInbox {
    fn insert(&self, row: InboxRow) -> BoxFuture<'_, Result<Stored, InboxError>> {
        Box::pin(
            self.database
                .inbox_writer
                .queue(|reply| InsertJob { row, reply }),
        )
    }

    fn claim_next<'a>(
        &'a self,
        holder: &'a str,
        until: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Option<InboxRow>, InboxError>> {
        let holder = holder.to_owned();
        self.database.run(move |pool| async move {
            let client = pool.get().await.map_err(unavailable)?;
            // One statement: the row is chosen, skipped if another worker has it locked, and
            // leased, atomically between instances.
            let row = client
                .query_opt(
                    &format!(
                        "UPDATE imts_inbox SET lease_holder = $1, lease_until = $2
                         WHERE notification_id = (
                             SELECT notification_id FROM imts_inbox
                             WHERE state = 'pending' AND next_at <= $3
                               AND (lease_until IS NULL OR lease_until <= $3
                                    OR lease_holder = $1)
                             ORDER BY received_at, notification_id
                             LIMIT 1 FOR UPDATE SKIP LOCKED)
                         RETURNING {COLUMNS}"
                    ),
                    &[
                        &holder,
                        &until.as_offset_date_time(),
                        &now.as_offset_date_time(),
                    ],
                )
                .await
                .map_err(unavailable)?;
            row.as_ref().map(row_of).transpose()
        })
    }

    fn update(&self, row: InboxRow) -> BoxFuture<'_, Result<(), InboxError>> {
        self.database.run(move |pool| async move {
            let client = pool.get().await.map_err(unavailable)?;
            if mark(&client, &row).await? == 1 {
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
        self.database.run(move |pool| async move {
            let client = pool.get().await.map_err(unavailable)?;
            Ok(select(&client, "WHERE notification_id = $1", &[&id])
                .await?
                .into_iter()
                .next())
        })
    }

    fn list(&self, state: Option<InboxState>) -> BoxFuture<'_, Result<Vec<InboxRow>, InboxError>> {
        self.database.run(move |pool| async move {
            let client = pool.get().await.map_err(unavailable)?;
            match state {
                Some(state) => select(&client, "WHERE state = $1", &[&state.as_str()]).await,
                None => select(&client, "", &[]).await,
            }
        })
    }

    fn depth(&self) -> BoxFuture<'_, Result<Depth, InboxError>> {
        self.database.run(move |pool| async move {
            let client = pool.get().await.map_err(unavailable)?;
            let row = client
                .query_one(
                    "SELECT COUNT(*), MIN(received_at) FROM imts_inbox WHERE state = 'pending'",
                    &[],
                )
                .await
                .map_err(unavailable)?;
            let pending: i64 = row.try_get(0).map_err(unavailable)?;
            let oldest: Option<time::OffsetDateTime> = row.try_get(1).map_err(unavailable)?;
            Ok(Depth {
                pending: u64::try_from(pending).unwrap_or(0),
                oldest_received_at: oldest.map(Timestamp::new),
            })
        })
    }

    fn purge(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, InboxError>> {
        self.database.run(move |pool| async move {
            let client = pool.get().await.map_err(unavailable)?;
            client
                .execute(
                    "DELETE FROM imts_inbox WHERE state = 'done' AND received_at < $1",
                    &[&before.as_offset_date_time()],
                )
                .await
                .map_err(unavailable)
        })
    }
}

/// A handler whose own writes go into the inbox's transaction: they commit together with the
/// row's "done" mark, or neither does (effects exactly once). It receives the row as stored
/// (verify its bytes with `imts_callbacks::Verifier` before acting on them).
pub trait TransactionalHandler: Send + Sync {
    /// Handles `row` inside `tx`; an error (or a panic) rolls back everything it wrote.
    fn handle<'a>(
        &'a self,
        tx: &'a Transaction<'a>,
        row: &'a InboxRow,
    ) -> SendBoxFuture<'a, Result<(), String>>;
}

/// A boxed future that is `Send`.
pub type SendBoxFuture<'a, T> = futures_util::future::BoxFuture<'a, T>;

impl PostgresInbox {
    /// Claims the next row due at `now` (`FOR UPDATE SKIP LOCKED`: no other instance waits for
    /// it or gets it), runs `handler` in the same transaction and marks the row done in it.
    /// When the handler fails or panics its writes are rolled back and the failed attempt is
    /// recorded under `policy` (backoff, then a dead letter). Answers the row's id and state
    /// afterwards, or `None` when nothing is due.
    ///
    /// # Errors
    /// [`InboxError::Unavailable`] when the database fails (the row stays pending).
    pub async fn run_next_in_transaction(
        &self,
        handler: &dyn TransactionalHandler,
        policy: &imts_core::inbox::RetryPolicy,
        now: Timestamp,
    ) -> Result<Option<(String, InboxState)>, InboxError> {
        use futures_util::FutureExt;
        let mut client = self.database.pool.get().await.map_err(unavailable)?;
        let tx = client.transaction().await.map_err(unavailable)?;
        let next = tx
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM imts_inbox
                     WHERE state = 'pending' AND next_at <= $1
                       AND (lease_until IS NULL OR lease_until <= $1)
                     ORDER BY received_at, notification_id
                     LIMIT 1 FOR UPDATE SKIP LOCKED"
                ),
                &[&now.as_offset_date_time()],
            )
            .await
            .map_err(unavailable)?;
        let Some(next) = next else {
            return Ok(None);
        };
        let mut row = row_of(&next)?;
        let run = std::panic::AssertUnwindSafe(handler.handle(&tx, &row)).catch_unwind();
        let result = match run.await {
            Ok(result) => result,
            Err(_) => Err("the handler panicked".to_owned()),
        };
        let handled = result.is_ok();
        row.after_run(result, policy, now);
        if handled {
            mark(&tx, &row).await?;
            tx.commit().await.map_err(unavailable)?;
        } else {
            // The handler's writes go; the failed attempt is recorded on its own.
            tx.rollback().await.map_err(unavailable)?;
            mark(&client, &row).await?;
        }
        Ok(Some((row.notification_id, row.state)))
    }
}

/// Stores a row's processing state; answers the rows changed.
async fn mark(client: &impl GenericClient, row: &InboxRow) -> Result<u64, InboxError> {
    client
        .execute(
            "UPDATE imts_inbox SET state = $1, attempts = $2, last_error = $3, next_at = $4,
                 updated_at = $5, lease_holder = NULL, lease_until = NULL
             WHERE notification_id = $6",
            &[
                &row.state.as_str(),
                &i64::from(row.attempts),
                &row.last_error,
                &row.next_at.as_offset_date_time(),
                &row.updated_at.as_offset_date_time(),
                &row.notification_id,
            ],
        )
        .await
        .map_err(unavailable)
}
