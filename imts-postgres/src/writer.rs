//! Group commit: a few writer tasks take the writes queued while their last transaction was
//! committing and commit them together, one transaction (one WAL flush) for the batch. Each
//! batch locks its rows in key order, so batches of this instance or of others never deadlock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use std::collections::BTreeMap;

use deadpool_postgres::{Client, GenericClient, Pool};
use imts_core::journal::audit::AuditFact;
use imts_core::journal::{batch_order, JournalError, Record, Write, GROUP_COMMIT_MAX};
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio_postgres::types::ToSql;
use tokio_postgres::Statement;

use crate::journal::{db_error, record_of, store_with, COLUMNS, STORE};
use crate::pipeline::{Pipeline, Transaction};

/// Batches committing at once (each on its own pooled connection).
pub(crate) const WRITERS: usize = 4;

/// What a batch's run answers: each job's answer, and whether anything was written.
pub(crate) type BatchRun<'a, A> =
    futures_util::future::BoxFuture<'a, Result<(Vec<A>, bool), JournalError>>;

/// A kind of job the writer tasks commit in batches: how a batch is ordered, run inside one
/// transaction, and answered.
pub(crate) trait Batched: Send + Sync + Sized + 'static {
    /// One job's answer inside a committed batch.
    type Answer: Send;
    /// Orders a batch before it runs (row locks in one order across instances).
    fn order(batch: &mut [Self]);
    /// Runs `batch` as the transaction `tx` (begun with its first statements, committed with
    /// its last: [`Pipeline`]): each job's answer, and whether anything was written. A
    /// database failure fails the whole batch.
    fn run<'a>(tx: Pipeline<'a>, batch: &'a [Self]) -> BatchRun<'a, Self::Answer>;
    /// Sends the answer (a caller that went away no longer needs it; the write stands).
    fn answer(self, answer: Self::Answer);
    /// Answers that the batch failed.
    fn fail(self, error: &JournalError);
}

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

/// The handle to the writer tasks of one kind of job; they end when the last handle is
/// dropped.
pub(crate) struct Writer<J: Batched = Job> {
    jobs: mpsc::UnboundedSender<J>,
    commits: Arc<AtomicU64>,
}

impl<J: Batched> Clone for Writer<J> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
            commits: Arc::clone(&self.commits),
        }
    }
}

const STOPPED: &str = "the journal's writers stopped";

impl<J: Batched> Writer<J> {
    /// Starts [`WRITERS`] tasks on `runtime`, writing through `pool`.
    pub(crate) fn start(pool: &Pool, runtime: &tokio::runtime::Handle) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        let queue = Arc::new(Mutex::new(queue));
        let commits = Arc::new(AtomicU64::new(0));
        for _ in 0..WRITERS {
            runtime.spawn(run(pool.clone(), Arc::clone(&queue), Arc::clone(&commits)));
        }
        Self { jobs, commits }
    }

    /// Queues the job `make` builds around its reply channel at once (before the returned
    /// future is first polled); answers once its transaction is committed.
    pub(crate) fn queue<T: Send + 'static, E: From<JournalError> + Send + 'static>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, E>>) -> J,
    ) -> impl std::future::Future<Output = Result<T, E>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let queued = self.jobs.send(make(reply));
        async move {
            queued.map_err(|_| E::from(JournalError::Unavailable(STOPPED.into())))?;
            answer
                .await
                .map_err(|_| E::from(JournalError::Unavailable(STOPPED.into())))?
        }
    }

    /// Transactions committed so far.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
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

async fn run<J: Batched>(
    pool: Pool,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<J>>>,
    commits: Arc<AtomicU64>,
) {
    loop {
        let mut batch = Vec::new();
        {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            batch.push(first);
            while batch.len() < GROUP_COMMIT_MAX {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        J::order(&mut batch);
        match in_transaction(&pool, &batch).await {
            Ok((answers, committed)) => {
                if committed {
                    commits.fetch_add(1, Ordering::Relaxed);
                }
                for (job, answer) in batch.into_iter().zip(answers) {
                    job.answer(answer);
                }
            }
            Err(error) => batch.into_iter().for_each(|job| job.fail(&error)),
        }
    }
}

/// Runs `batch` in one transaction on a pooled connection and commits it.
async fn in_transaction<J: Batched>(
    pool: &Pool,
    batch: &[J],
) -> Result<(Vec<J::Answer>, bool), JournalError> {
    let tx = Transaction::new(pool.get().await.map_err(db_error)?);
    let answers = match tx.pipeline() {
        Ok(pipeline) => J::run(pipeline, batch).await,
        Err(error) => Err(error),
    };
    tx.finish(answers).await
}

/// The statements of a batch, prepared on the connection before its transaction starts (the
/// [`Pipeline`] rules), cached by the pool after the connection's first batch.
struct Statements {
    insert_placeholder: Statement,
    lock: Statement,
    store: Statement,
    audit: crate::audit::Statements,
}

impl Statements {
    async fn prepare(client: &Client) -> Result<Self, JournalError> {
        let lock = format!("SELECT {COLUMNS} FROM imts_journal WHERE key = $1 FOR UPDATE");
        let (insert_placeholder, lock, store, audit) = futures_util::future::join4(
            client.prepare_cached(INSERT_PLACEHOLDER),
            client.prepare_cached(&lock),
            client.prepare_cached(STORE),
            crate::audit::Statements::prepare(client),
        )
        .await;
        Ok(Self {
            insert_placeholder: insert_placeholder.map_err(db_error)?,
            lock: lock.map_err(db_error)?,
            store: store.map_err(db_error)?,
            audit: audit?,
        })
    }
}

/// Runs `batch` in one transaction: each write's answer, and whether anything was committed.
/// A database failure fails the whole batch (nothing of it is kept); a write refused by the
/// model (a reused key, a bad transition, a corrupt row) is answered alone.
///
/// Two round trips whatever the batch's size: `BEGIN`, every row locked in key order (a batch
/// of outcomes only sets `synchronous_commit=off` there too) and then the audit head; every
/// changed record stored, the audit entries and the head, `COMMIT`. The head is the last lock,
/// so batches of this instance or of others never deadlock.
async fn commit(
    mut tx: Pipeline<'_>,
    batch: &[Job],
) -> Result<(Vec<Result<Record, JournalError>>, bool), JournalError> {
    let client = tx.client();
    let statements = Statements::prepare(client).await?;
    // Outcomes only: committed without waiting for the WAL flush (`Write::needs_flush`).
    let lazy = !batch.iter().any(|job| job.write.needs_flush());
    let (set, (locked, head)) = tx
        .begin_with(async {
            Ok(futures_util::future::join(
                async {
                    if lazy {
                        client
                            .batch_execute("SET LOCAL synchronous_commit TO OFF")
                            .await
                            .map_err(db_error)
                    } else {
                        Ok(())
                    }
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
    let stored: Vec<&Record> = changed
        .iter()
        .filter_map(|key| match current.get(key) {
            Some(Ok(Some(record))) => Some(record),
            _ => None,
        })
        .collect();
    tx.commit_with(async {
        let stores = stored
            .iter()
            .map(|record| store_with(client, &statements.store, record));
        let (stored, appended) = futures_util::future::join(
            futures_util::future::join_all(stores),
            appended.write(client, &statements.audit),
        )
        .await;
        stored.into_iter().collect::<Result<Vec<()>, _>>()?;
        appended
    })
    .await?;
    Ok((answers, !changed.is_empty()))
}

/// Locks the rows of every key in `batch` (sorted by key) for the transaction, inserting a
/// placeholder first where an intent may create one (two instances recording one key wait on
/// each other there), and answers each key's record as stored: `None` for none (or a
/// placeholder), an error for a row that does not read as a record. Every statement is sent
/// on the first poll, in key order.
async fn lock_rows<'k>(
    client: &Client,
    statements: &Statements,
    batch: &'k [Job],
) -> Result<BTreeMap<&'k str, Result<Option<Record>, JournalError>>, JournalError> {
    let mut keys: Vec<(&str, bool)> = Vec::new();
    for job in batch {
        let key = job.write.key().0.as_str();
        let creates = matches!(job.write, Write::Record { .. });
        match keys.last_mut() {
            Some((last, any_creates)) if *last == key => *any_creates |= creates,
            _ => keys.push((key, creates)),
        }
    }
    let params: Vec<[&(dyn ToSql + Sync); 1]> = keys.iter().map(|(key, _)| [key as _]).collect();
    let statements = keys.iter().zip(&params).flat_map(|((_, creates), params)| {
        let insert = creates.then(|| client.query_opt(&statements.insert_placeholder, params));
        insert
            .into_iter()
            .chain([client.query_opt(&statements.lock, params)])
    });
    let mut rows = futures_util::future::join_all(statements).await.into_iter();
    let mut current = BTreeMap::new();
    for (key, creates) in keys {
        if creates {
            rows.next().transpose().map_err(db_error)?;
        }
        let row = rows.next().transpose().map_err(db_error)?.flatten();
        let stored = match row {
            Some(row) if is_placeholder(&row) => Ok(None),
            Some(row) => record_of(&row).map(Some),
            None => Ok(None),
        };
        current.insert(key, stored);
    }
    Ok(current)
}
/// An empty row for a key, unless one exists; always overwritten in the same transaction
/// (an intent for a new key is never refused), so none is ever committed.
const INSERT_PLACEHOLDER: &str = "INSERT INTO imts_journal (key, op, order_id, transfer_id, body,
        body_hash, state, attempts, created_at, updated_at)
     VALUES ($1, '', NULL, NULL, ''::bytea, '', 'intent', 0, now(), now())
     ON CONFLICT (key) DO NOTHING
     RETURNING 1";

fn is_placeholder(row: &tokio_postgres::Row) -> bool {
    row.try_get::<_, &str>(1).is_ok_and(str::is_empty)
}
