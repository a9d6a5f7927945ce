//! The [`Inbox`] trait and [`MemoryInbox`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::token_store::BoxFuture;
use crate::values::Timestamp;

use super::row::{InboxRow, InboxState};

/// What goes wrong with an inbox.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InboxError {
    /// The inbox cannot be reached or written (the delivery is answered 503: IMTS sends it
    /// again).
    #[error("inbox unavailable: {0}")]
    Unavailable(String),
    /// The inbox's content cannot be read.
    #[error("inbox unreadable: {0}")]
    Corrupt(String),
    /// No row with this id.
    #[error("no inbox row `{0}`")]
    NotFound(String),
    /// The row's state does not allow what was asked (discarding a done row).
    #[error("inbox row `{id}` is {state}: {event:?} is not allowed")]
    NotAllowed {
        /// The row.
        id: String,
        /// Its state.
        state: super::row::InboxState,
        /// What was asked.
        event: super::row::InboxEvent,
    },
}

/// An inbox kept in a journal's database reports the database's failures as the journal's.
impl From<crate::journal::JournalError> for InboxError {
    fn from(error: crate::journal::JournalError) -> Self {
        match error {
            crate::journal::JournalError::Corrupt(text) => InboxError::Corrupt(text),
            other => InboxError::Unavailable(other.to_string()),
        }
    }
}

/// Whether an insert stored a new row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored now.
    New,
    /// A row with this `notification_id` was already there (a retry of IMTS's): nothing stored.
    Duplicate,
}

/// Where notifications wait for the handler. A durable implementation returns from
/// [`insert`](Self::insert) only once the row is durable, and hands each pending row to one
/// worker at a time ([`claim_next`](Self::claim_next)).
pub trait Inbox: Send + Sync {
    /// Stores `row` unless one with its `notification_id` exists.
    fn insert(&self, row: InboxRow) -> BoxFuture<'_, Result<Stored, InboxError>>;

    /// The oldest pending row due at `now` that no other worker holds, claimed for `holder`
    /// until `until`. A row `holder` itself holds is handed back (a worker restarted under the
    /// same name takes up at once what it held when it died).
    fn claim_next<'a>(
        &'a self,
        holder: &'a str,
        until: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Option<InboxRow>, InboxError>>;

    /// Stores a row's new processing state (after a run, a replay or a discard) and releases
    /// its claim.
    fn update(&self, row: InboxRow) -> BoxFuture<'_, Result<(), InboxError>>;

    /// The row `notification_id`, if any.
    fn get<'a>(
        &'a self,
        notification_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<InboxRow>, InboxError>>;

    /// Every row (in `state` only, when given), oldest first.
    fn list(&self, state: Option<InboxState>) -> BoxFuture<'_, Result<Vec<InboxRow>, InboxError>>;

    /// Removes done rows received before `before` (their id no longer de-duplicates: keep
    /// them far longer than IMTS's 45-minute retry window); answers how many.
    fn purge(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, InboxError>>;

    /// How many rows wait for the handler, and when the oldest arrived. Durable stores answer
    /// it with one aggregate query; this default reads the pending rows.
    fn depth(&self) -> BoxFuture<'_, Result<Depth, InboxError>> {
        Box::pin(async move {
            let rows = self.list(Some(InboxState::Pending)).await?;
            Ok(Depth {
                pending: rows.len() as u64,
                oldest_received_at: rows.iter().map(|row| row.received_at).min(),
            })
        })
    }
}

/// The backlog of an inbox ([`Inbox::depth`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depth {
    /// Rows pending (stored and acknowledged, not yet handled).
    pub pending: u64,
    /// When the oldest pending row was received.
    pub oldest_received_at: Option<Timestamp>,
}

impl Depth {
    /// The age of the oldest pending row at `now` (zero when none).
    #[must_use]
    pub fn oldest_age(&self, now: Timestamp) -> std::time::Duration {
        self.oldest_received_at
            .map_or(std::time::Duration::ZERO, |oldest| {
                (now.as_offset_date_time() - oldest.as_offset_date_time())
                    .try_into()
                    .unwrap_or(std::time::Duration::ZERO)
            })
    }
}

type Rows = BTreeMap<String, (InboxRow, Option<(String, Timestamp)>)>;

/// An [`Inbox`] in memory: for tests, and to see the model work. Not durable.
#[derive(Debug, Default)]
pub struct MemoryInbox {
    rows: Mutex<Rows>,
}

impl MemoryInbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Rows> {
        self.rows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

/// Oldest first, then by id: the order every store lists and claims in.
fn order(rows: &mut [InboxRow]) {
    rows.sort_by(|a, b| {
        (a.received_at, &a.notification_id).cmp(&(b.received_at, &b.notification_id))
    });
}

impl Inbox for MemoryInbox {
    fn insert(&self, row: InboxRow) -> BoxFuture<'_, Result<Stored, InboxError>> {
        let mut rows = self.lock();
        let stored = if rows.contains_key(&row.notification_id) {
            Stored::Duplicate
        } else {
            rows.insert(row.notification_id.clone(), (row, None));
            Stored::New
        };
        ready(Ok(stored))
    }

    fn claim_next<'a>(
        &'a self,
        holder: &'a str,
        until: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Option<InboxRow>, InboxError>> {
        let mut rows = self.lock();
        let mut due: Vec<InboxRow> = rows
            .values()
            .filter(|(row, lease)| {
                row.state == InboxState::Pending
                    && row.next_at <= now
                    && lease
                        .as_ref()
                        .is_none_or(|(other, expires)| *expires <= now || other == holder)
            })
            .map(|(row, _)| row.clone())
            .collect();
        order(&mut due);
        let claimed = due.into_iter().next();
        if let Some(row) = &claimed {
            if let Some((_, lease)) = rows.get_mut(&row.notification_id) {
                *lease = Some((holder.to_owned(), until));
            }
        }
        ready(Ok(claimed))
    }

    fn update(&self, row: InboxRow) -> BoxFuture<'_, Result<(), InboxError>> {
        let mut rows = self.lock();
        let result = match rows.get_mut(&row.notification_id) {
            Some(stored) => {
                *stored = (row, None);
                Ok(())
            }
            None => Err(InboxError::NotFound(row.notification_id)),
        };
        ready(result)
    }

    fn get<'a>(
        &'a self,
        notification_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<InboxRow>, InboxError>> {
        ready(Ok(self.lock().get(notification_id).map(|(r, _)| r.clone())))
    }

    fn list(&self, state: Option<InboxState>) -> BoxFuture<'_, Result<Vec<InboxRow>, InboxError>> {
        let mut rows: Vec<InboxRow> = self
            .lock()
            .values()
            .map(|(r, _)| r.clone())
            .filter(|r| state.is_none_or(|s| r.state == s))
            .collect();
        order(&mut rows);
        ready(Ok(rows))
    }

    fn purge(&self, before: Timestamp) -> BoxFuture<'_, Result<u64, InboxError>> {
        let mut rows = self.lock();
        let old = rows.len();
        rows.retain(|_, (row, _)| !(row.state == InboxState::Done && row.received_at < before));
        ready(Ok((old - rows.len()) as u64))
    }
}
