//! Group commit: a few writer tasks take the jobs queued while their last transaction was
//! committing and commit them together, one transaction (one WAL flush) for the batch. What a
//! batch does is its kind's ([`Batched`]): the journal's writes (`journal_batch`), the inbox's
//! inserts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use deadpool_postgres::Pool;
use imts_core::journal::{JournalError, GROUP_COMMIT_MAX};
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::journal::db_error;
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

/// The handle to the writer tasks of one kind of job; they end when the last handle is
/// dropped.
pub(crate) struct Writer<J: Batched = crate::journal_batch::Job> {
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
