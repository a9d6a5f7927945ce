//! Group commit: one thread owns the journal's write connection and commits every write that
//! arrived while the previous transaction was being fsynced in one transaction of its own, so
//! 64 concurrent calls share a few fsyncs instead of waiting for one each.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use imts_core::inbox::{InboxError, InboxRow, Stored};
use imts_core::journal::{JournalError, Record, Write, GROUP_COMMIT_MAX};
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use crate::journal::{db_error, load, store};

/// A write waiting for its transaction, and where its answer goes.
enum Job {
    /// A journal write.
    Journal {
        write: Write,
        reply: oneshot::Sender<Result<Record, JournalError>>,
    },
    /// A notification stored in the inbox.
    Inbox {
        row: InboxRow,
        reply: oneshot::Sender<Result<Stored, InboxError>>,
    },
}

/// A job's result inside its transaction.
enum Answer {
    Journal(Box<Result<Record, JournalError>>),
    Inbox(Stored),
}

impl Job {
    /// Sends `answer` (a caller that went away no longer needs it; the write stands).
    fn answer(self, answer: Answer) {
        match (self, answer) {
            (Job::Journal { reply, .. }, Answer::Journal(result)) => {
                let _ = reply.send(*result);
            }
            (Job::Inbox { reply, .. }, Answer::Inbox(stored)) => {
                let _ = reply.send(Ok(stored));
            }
            (job, _) => job.fail(&JournalError::Unavailable("mismatched answer".into())),
        }
    }

    /// Answers that the batch failed with `error`.
    fn fail(self, error: &JournalError) {
        match self {
            Job::Journal { reply, .. } => {
                let _ = reply.send(Err(error.clone()));
            }
            Job::Inbox { reply, .. } => {
                let _ = reply.send(Err(InboxError::Unavailable(error.to_string())));
            }
        }
    }
}

/// The handle to the writer thread; the thread ends when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    commits: Arc<AtomicU64>,
}

const STOPPED: &str = "the journal's writer stopped";

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
        let queued = self.jobs.send(Job::Journal { write, reply });
        async move {
            queued.map_err(|_| JournalError::Unavailable(STOPPED.into()))?;
            answer
                .await
                .map_err(|_| JournalError::Unavailable(STOPPED.into()))?
        }
    }

    /// Queues `row` for the inbox at once and answers once it is durable.
    pub(crate) fn submit_inbox(
        &self,
        row: InboxRow,
    ) -> impl std::future::Future<Output = Result<Stored, InboxError>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let queued = self.jobs.send(Job::Inbox { row, reply });
        async move {
            queued.map_err(|_| InboxError::Unavailable(STOPPED.into()))?;
            answer
                .await
                .map_err(|_| InboxError::Unavailable(STOPPED.into()))?
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
        // Arrival order: SQLite has one write lock, so no order of rows can deadlock, and each
        // key's writes stay in the order they were made.
        match commit(&mut connection, &batch) {
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

/// Runs `batch` in one transaction: each job's answer, and whether anything was committed. A
/// database failure fails the whole batch (nothing of it is kept); a journal write refused by
/// the model (a reused key, a bad transition, a corrupt row) is answered alone.
fn commit(connection: &mut Connection, batch: &[Job]) -> Result<(Vec<Answer>, bool), JournalError> {
    // A batch of outcomes only is committed without waiting for the fsync
    // (`Write::needs_flush`); anything else, inbox rows included, waits for it.
    let flush = batch.iter().any(|job| match job {
        Job::Journal { write, .. } => write.needs_flush(),
        Job::Inbox { .. } => true,
    });
    connection
        .pragma_update(None, "synchronous", if flush { "FULL" } else { "NORMAL" })
        .map_err(db_error)?;
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_error)?;
    let mut answers = Vec::with_capacity(batch.len());
    let mut changed = false;
    let mut audit = crate::audit::Appender::default();
    for job in batch {
        let answer = match job {
            Job::Journal { write, .. } => {
                let existing = load(&tx, &write.key().0)?;
                let answer = existing
                    .transpose()
                    .and_then(|existing| write.decide(existing));
                if let Ok((record, true)) = &answer {
                    store(&tx, record)?;
                    audit.append(&tx, write, record)?;
                    changed = true;
                }
                Answer::Journal(Box::new(answer.map(|(record, _)| record)))
            }
            Job::Inbox { row, .. } => {
                let stored = crate::inbox::insert(&tx, row)?;
                changed |= stored == Stored::New;
                Answer::Inbox(stored)
            }
        };
        answers.push(answer);
    }
    if changed {
        audit.finish(&tx)?;
        tx.commit().map_err(db_error)?;
    }
    Ok((answers, changed))
}
