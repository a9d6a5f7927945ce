//! A transaction in as few round trips as its statements allow: `BEGIN` goes out with the
//! first statements and `COMMIT` with the last, because statements pipelined on one connection
//! run in the order they are sent (tokio-postgres sends a statement when its future is first
//! polled; `join` polls in argument order). A group-committed batch is then two round trips
//! (locks, then writes), or one when it needs nothing back before it writes (the inbox).
//!
//! Two rules keep the order true, and the batch code follows them:
//! - every statement is prepared before the transaction starts ([`Pipeline::begin_with`]): a
//!   statement prepared inside a stage is sent a round trip later, after statements of the
//!   stage that were meant to follow it (the row locks' key order, or `COMMIT` itself);
//! - the last stage does nothing fallible before it has sent its statements: `COMMIT` is
//!   sent with it whatever it does, so a check that fails there would commit the batch half
//!   written (encoding a parameter is part of sending: a type that does not match its column
//!   is a programming error every batch would meet, and the tests run every statement). A
//!   statement that fails on the server is safe: the server aborts the transaction and answers
//!   `COMMIT` with a rollback, and the stage reports the error.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use deadpool_postgres::{Client, Object};
use futures_util::future::join;
use imts_core::journal::JournalError;

use crate::journal::db_error;

/// The transaction a batch runs in (see the module docs). Its stages are
/// [`begin_with`](Self::begin_with), then [`commit_with`](Self::commit_with) or
/// [`only`](Self::only).
pub(crate) struct Pipeline<'c> {
    client: &'c Client,
    committed: &'c AtomicBool,
}

impl<'c> Pipeline<'c> {
    /// The connection, to build a stage's statements on.
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// Sends `BEGIN` and then `first`'s statements, in one round trip; `first`'s answer.
    ///
    /// # Errors
    /// `BEGIN`'s failure (the connection is gone), else `first`'s.
    pub(crate) async fn begin_with<T>(
        &self,
        first: impl Future<Output = Result<T, JournalError>>,
    ) -> Result<T, JournalError> {
        let (begun, answer) = join(self.client.batch_execute("BEGIN"), first).await;
        begun.map_err(db_error)?;
        answer
    }

    /// Sends `last`'s statements (prepared already, nothing fallible before they are sent) and
    /// then `COMMIT`, in one round trip; `last`'s answer once committed.
    ///
    /// # Errors
    /// `last`'s failure (the transaction was rolled back), else `COMMIT`'s.
    pub(crate) async fn commit_with<T>(
        self,
        last: impl Future<Output = Result<T, JournalError>>,
    ) -> Result<T, JournalError> {
        let (answer, committed) = join(last, self.client.batch_execute("COMMIT")).await;
        let answer = answer?;
        committed.map_err(db_error)?;
        self.committed.store(true, Ordering::Release);
        Ok(answer)
    }

    /// The whole transaction in one round trip: `BEGIN`, `statements` (prepared already),
    /// `COMMIT`.
    ///
    /// # Errors
    /// As [`begin_with`](Self::begin_with) and [`commit_with`](Self::commit_with).
    pub(crate) async fn only<T>(
        self,
        statements: impl Future<Output = Result<T, JournalError>>,
    ) -> Result<T, JournalError> {
        let (begun, answer) = join(
            self.client.batch_execute("BEGIN"),
            self.commit_with(statements),
        )
        .await;
        begun.map_err(db_error)?;
        answer
    }
}

/// A pooled connection lent to one transaction. [`finish`](Self::finish) rolls back a
/// transaction that did not commit; a connection whose state is then unknown (the rollback
/// failed, or the transaction was dropped half way) is closed instead of going back to the
/// pool, where the next batch would run inside the open transaction.
pub(crate) struct Transaction {
    object: Option<Object>,
    committed: AtomicBool,
}

impl Transaction {
    /// A transaction about to start on `object`.
    pub(crate) fn new(object: Object) -> Self {
        Self {
            object: Some(object),
            committed: AtomicBool::new(false),
        }
    }

    /// The handle its stages run through.
    ///
    /// # Errors
    /// [`JournalError::Unavailable`] once the connection was given back.
    pub(crate) fn pipeline(&self) -> Result<Pipeline<'_>, JournalError> {
        let client = self.object.as_ref().ok_or_else(|| {
            JournalError::Unavailable("the transaction's connection was given back".into())
        })?;
        Ok(Pipeline {
            client,
            committed: &self.committed,
        })
    }

    /// Ends the transaction whose stages answered `answer`: rolled back unless it committed,
    /// the connection then given back to the pool (or closed, see the type's docs).
    ///
    /// # Errors
    /// `answer`'s error, or [`JournalError::Unavailable`] when the stages returned without
    /// committing.
    pub(crate) async fn finish<T>(
        mut self,
        answer: Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        let answer = match answer {
            Ok(_) if !self.committed.load(Ordering::Acquire) => Err(JournalError::Unavailable(
                "a batch ended without committing".into(),
            )),
            other => other,
        };
        let Some(object) = self.object.take() else {
            return answer;
        };
        if answer.is_err() && object.batch_execute("ROLLBACK").await.is_err() {
            drop(Object::take(object));
        }
        answer
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if let Some(object) = self.object.take() {
            drop(Object::take(object));
        }
    }
}
