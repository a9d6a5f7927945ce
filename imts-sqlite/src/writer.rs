//! Group commit: one thread owns the journal's write connection and commits every write that
//! arrived while the previous transaction was being fsynced in one transaction of its own, so
//! 64 concurrent calls share a few fsyncs instead of waiting for one each.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use imts_core::journal::{batch_order, JournalError, Record, Write, GROUP_COMMIT_MAX};
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use crate::journal::{db_error, load, store};

/// A write waiting for its transaction, and where its answer goes.
struct Job {
    write: Write,
    reply: oneshot::Sender<Result<Record, JournalError>>,
}

/// The handle to the writer thread; the thread ends when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer thread on `connection`.
    pub(crate) fn start(connection: Connection) -> Result<Self, JournalError> {
        let (jobs, queue) = mpsc::unbounded_channel();
        let commits = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&commits);
        std::thread::Builder::new()
            .name("imts-sqlite-writer".into())
            .spawn(move || run(connection, queue, &counted))
            .map_err(|e| JournalError::Unavailable(format!("the journal's writer thread: {e}")))?;
        Ok(Self { jobs, commits })
    }

    /// Queues `write` at once (before the returned future is first polled) and answers once
    /// its transaction is durable.
    pub(crate) fn submit(
        &self,
        write: Write,
    ) -> impl std::future::Future<Output = Result<Record, JournalError>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let queued = self.jobs.send(Job { write, reply });
        async move {
            queued.map_err(|_| JournalError::Unavailable("the journal's writer stopped".into()))?;
            answer
                .await
                .map_err(|_| JournalError::Unavailable("the journal's writer stopped".into()))?
        }
    }

    /// Transactions committed so far.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

fn run(mut connection: Connection, mut queue: mpsc::UnboundedReceiver<Job>, commits: &AtomicU64) {
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < GROUP_COMMIT_MAX {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch_order(&mut batch, |job| &job.write);
        let answers = match commit(&mut connection, &batch) {
            Ok((answers, committed)) => {
                if committed {
                    commits.fetch_add(1, Ordering::Relaxed);
                }
                answers
            }
            Err(error) => batch.iter().map(|_| Err(error.clone())).collect(),
        };
        for (job, answer) in batch.into_iter().zip(answers) {
            // A caller that went away no longer needs its answer; the write stands.
            let _ = job.reply.send(answer);
        }
    }
}

/// Runs `batch` in one transaction: each write's answer, and whether anything was committed.
/// A database failure fails the whole batch (nothing of it is kept); a write refused by the
/// model (a reused key, a bad transition, a corrupt row) is answered alone.
fn commit(
    connection: &mut Connection,
    batch: &[Job],
) -> Result<(Vec<Result<Record, JournalError>>, bool), JournalError> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let mut answers = Vec::with_capacity(batch.len());
    let mut changed = false;
    for job in batch {
        let existing = load(&tx, &job.write.key().0)?;
        let answer = existing
            .transpose()
            .and_then(|existing| job.write.decide(existing));
        if let Ok((record, true)) = &answer {
            store(&tx, record)?;
            changed = true;
        }
        answers.push(answer.map(|(record, _)| record));
    }
    if changed {
        tx.commit().map_err(db_error)?;
    }
    Ok((answers, changed))
}
