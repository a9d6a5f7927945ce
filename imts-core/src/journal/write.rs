//! One write to a journal as data, decided against the stored record the same way by every
//! store. Durable stores commit the writes that arrive together in one transaction (group
//! commit: one fsync for many calls); the order and size of such a batch are set here.

use crate::values::Timestamp;

use super::observe::Observation;
use super::record::{Event, Record, RecordKey};
use super::store::{Intent, JournalError, Update};

/// A write: what [`Journal::record`](super::Journal::record),
/// [`Journal::advance`](super::Journal::advance) and [`Journal::observe`](super::Journal::observe)
/// ask of a store.
#[derive(Debug, Clone)]
pub enum Write {
    /// Record an intent ([`Intent::to_record`], or the record kept for the same request).
    Record {
        /// The call about to be made.
        intent: Intent,
        /// When.
        now: Timestamp,
        /// Also mark its first attempt as sending ([`Event::Sending`], in the same write): a
        /// client about to send it saves one durable write per call. Only for a record that
        /// a lookup resolves once sent (see [`Intent::sends_at_once`]).
        sending: bool,
    },
    /// Apply an event to a record ([`Record::apply`]).
    Advance {
        /// The record.
        key: RecordKey,
        /// The event.
        event: Event,
        /// What it carries.
        update: Update,
        /// When.
        now: Timestamp,
    },
    /// Merge what was learnt of a transfer into its record ([`Record::observe`]).
    Observe {
        /// The record.
        key: RecordKey,
        /// What was learnt.
        observation: Observation,
        /// When.
        now: Timestamp,
    },
}

impl Write {
    /// The record this write is about.
    #[must_use]
    pub fn key(&self) -> &RecordKey {
        match self {
            Self::Record { intent, .. } => &intent.key,
            Self::Advance { key, .. } | Self::Observe { key, .. } => key,
        }
    }

    /// Whether the write must be on disk before it is answered. An intent and a sending mark
    /// must: they make a crash safe (nothing is sent unless its record is durable, and a record
    /// that may have been sent is looked up, never sent blindly). An outcome need not: durable
    /// stores commit a batch of outcomes without waiting for the disk's flush (SQLite
    /// `synchronous=NORMAL` for that transaction, PostgreSQL `synchronous_commit=off`). A
    /// crash of the process loses nothing committed either way; a crash of the machine may lose
    /// the last outcomes, and their records, left sent or unknown, are resolved by
    /// [`resume`](super::resume()) with a lookup, as after any crash mid-call. What is learnt
    /// of a transfer later (callbacks, polls) is flushed, as before.
    #[must_use]
    pub fn needs_flush(&self) -> bool {
        match self {
            Self::Advance { event, .. } => *event == Event::Sending,
            Self::Record { .. } | Self::Observe { .. } => true,
        }
    }

    /// Decides this write against the record stored under its key (`None`: no record): the
    /// record as it must be stored afterwards, and whether it changed (must be written).
    ///
    /// # Errors
    /// [`JournalError::KeyReused`] (an intent whose key holds another request),
    /// [`JournalError::NotFound`] (an event for no record) and
    /// [`JournalError::BadTransition`].
    pub fn decide(&self, existing: Option<Record>) -> Result<(Record, bool), JournalError> {
        match (self, existing) {
            (
                Self::Record {
                    intent,
                    now,
                    sending,
                },
                existing,
            ) => {
                let (mut record, changed) = match existing {
                    Some(existing) => intent.against(existing, *now)?,
                    None => (intent.to_record(*now), true),
                };
                if *sending {
                    record.apply(Event::Sending, &Update::default(), *now)?;
                }
                Ok((record, changed || *sending))
            }
            (Self::Advance { key, .. } | Self::Observe { key, .. }, None) => {
                Err(JournalError::NotFound(key.clone()))
            }
            (
                Self::Observe {
                    observation, now, ..
                },
                Some(mut record),
            ) => {
                let changed = record.observe(observation, *now);
                Ok((record, changed))
            }
            (
                Self::Advance {
                    event, update, now, ..
                },
                Some(mut record),
            ) => {
                record.apply(*event, update, *now)?;
                Ok((record, true))
            }
        }
    }
}

/// At most this many writes share one transaction.
pub const GROUP_COMMIT_MAX: usize = 128;

/// Orders a batch of writes for one transaction: by key, each key's writes kept in the order
/// they arrived. Every batch, in every instance, then locks its rows in the same order, so two
/// batches never deadlock on each other.
pub fn batch_order<T>(batch: &mut [T], write: impl Fn(&T) -> &Write) {
    batch.sort_by(|a, b| write(a).key().cmp(write(b).key()));
}
