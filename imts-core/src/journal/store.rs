//! The [`Journal`] trait, the one transition logic every store applies, and [`MemoryJournal`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::enums::TransferStatus;
use crate::token_store::BoxFuture;
use crate::values::Timestamp;

use super::audit::{AuditEntry, AuditFact, AuditHead};
use super::observe::Observation;
use super::record::{body_hash, Event, MoneyOp, Record, RecordKey, State, Tracking};
use super::write::Write;

/// What goes wrong with a journal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The journal cannot be reached or written (the money-moving call is not sent).
    #[error("journal unavailable: {0}")]
    Unavailable(String),
    /// An `order_id` (or other key) already recorded with a different request.
    #[error("`{key}` is already recorded for another request (recorded body {recorded}, this body {new})")]
    KeyReused {
        /// The key.
        key: RecordKey,
        /// The hash of the recorded body.
        recorded: String,
        /// The hash of this body.
        new: String,
    },
    /// A transition the life of a record does not allow (for example out of a final state).
    #[error("record `{key}`: `{event:?}` is not allowed in state `{from}`")]
    BadTransition {
        /// The key.
        key: RecordKey,
        /// Its state.
        from: State,
        /// The event refused.
        event: Event,
    },
    /// No record with this key.
    #[error("no journal record `{0}`")]
    NotFound(RecordKey),
    /// The journal's content cannot be read (a corrupt file, an unknown state name).
    #[error("journal unreadable: {0}")]
    Corrupt(String),
    /// The journal was written by a newer version of this SDK.
    #[error(
        "journal schema version {found} is newer than this SDK's ({supported}); upgrade the SDK"
    )]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest this SDK knows.
        supported: i64,
    },
}

/// A call about to be made: what [`Journal::record`] stores as [`State::Intent`].
#[derive(Clone)]
pub struct Intent {
    /// The key.
    pub key: RecordKey,
    /// The operation.
    pub op: MoneyOp,
    /// The order id, when the operation has one.
    pub order_id: Option<String>,
    /// The transfer id, when known already (transitions).
    pub transfer_id: Option<String>,
    /// The exact body that will be sent.
    pub body: Vec<u8>,
    /// The agent whose credentials send it (for the audit log).
    pub agent: Option<String>,
}

impl std::fmt::Debug for Intent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intent")
            .field("key", &self.key)
            .field("op", &self.op)
            .finish_non_exhaustive()
    }
}

/// What an event carries besides itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// The answer or the error's text.
    pub outcome: Option<String>,
    /// The transfer's status learnt.
    pub status: Option<TransferStatus>,
    /// The transfer's id learnt.
    pub transfer_id: Option<String>,
}

impl Intent {
    /// Whether the intent may be recorded as sent already ([`State::Sent`], in the write that
    /// records it): true when a record of it in that state is resolved by a lookup after a
    /// crash ([`resume_plan`](super::resume::resume_plan)), so a crash before its bytes went
    /// costs one lookup, never a second transfer. Create person and business have nothing to
    /// look up by: their intent is recorded as such, and an unsent one is simply sent.
    #[must_use]
    pub fn sends_at_once(&self) -> bool {
        let mut record = self.to_record(Timestamp::new(time::OffsetDateTime::UNIX_EPOCH));
        record.state = State::Sent;
        super::resume::resume_plan(&record) != super::resume::ResumePlan::NeedsPerson
    }

    /// The record this intent becomes at `now`.
    #[must_use]
    pub fn to_record(&self, now: Timestamp) -> Record {
        Record {
            key: self.key.clone(),
            op: self.op,
            order_id: self.order_id.clone(),
            transfer_id: self.transfer_id.clone(),
            body_hash: body_hash(&self.body),
            body: self.body.clone(),
            state: State::Intent,
            attempts: 0,
            outcome: None,
            status: None,
            created_at: now,
            updated_at: now,
            tracking: Tracking::default(),
            agent: self.agent.clone(),
        }
    }

    /// Decides against an existing record with the same key: the same body is the same request
    /// (its record is kept as it is); a refused record gives way to a new request (a fresh
    /// record, to be written); another body while the key is open or applied is refused.
    /// Answers the record and whether it must be written.
    ///
    /// # Errors
    /// [`JournalError::KeyReused`].
    pub fn against(
        &self,
        existing: Record,
        now: Timestamp,
    ) -> Result<(Record, bool), JournalError> {
        let new = body_hash(&self.body);
        if existing.body_hash == new {
            Ok((existing, false))
        } else if existing.state == State::Refused {
            Ok((self.to_record(now), true))
        } else {
            Err(JournalError::KeyReused {
                key: self.key.clone(),
                recorded: existing.body_hash,
                new,
            })
        }
    }
}

impl Record {
    /// Applies `event` at `now`: the one transition logic every store runs (inside its own
    /// transaction).
    ///
    /// # Errors
    /// [`JournalError::BadTransition`] when the table ([`super::TRANSITIONS`]) has no such move.
    pub fn apply(
        &mut self,
        event: Event,
        update: &Update,
        now: Timestamp,
    ) -> Result<(), JournalError> {
        let next = self
            .state
            .after(event)
            .ok_or_else(|| JournalError::BadTransition {
                key: self.key.clone(),
                from: self.state,
                event,
            })?;
        self.state = next;
        if event == Event::Sending {
            self.attempts = self.attempts.saturating_add(1);
        }
        if let Some(outcome) = &update.outcome {
            self.outcome = Some(outcome.clone());
        }
        if let Some(status) = &update.status {
            if self.status.as_ref() != Some(status) {
                self.tracking.status_at = Some(now);
            }
            self.status = Some(status.clone());
        }
        if let Some(id) = &update.transfer_id {
            self.transfer_id = Some(id.clone());
        }
        self.updated_at = now;
        Ok(())
    }
}

/// Where records are kept. Every call is a future; a durable implementation returns from
/// [`record`](Self::record) and [`advance`](Self::advance) only once the write is durable.
pub trait Journal: Send + Sync {
    /// Applies `write` ([`Write::decide`] against the stored record, in one transaction) and
    /// returns the record as stored. Durable stores group-commit concurrent writes.
    fn write(&self, write: Write) -> BoxFuture<'_, Result<Record, JournalError>>;

    /// Records `intent` at `now` as [`State::Intent`], or returns the record already kept for
    /// the same key and body.
    fn record<'a>(
        &'a self,
        intent: &'a Intent,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Record, JournalError>> {
        self.write(Write::Record {
            intent: intent.clone(),
            now,
            sending: false,
        })
    }

    /// Applies `event` to the record `key` ([`Record::apply`]) and returns it as stored.
    fn advance<'a>(
        &'a self,
        key: &'a RecordKey,
        event: Event,
        update: &'a Update,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Record, JournalError>> {
        self.write(Write::Advance {
            key: key.clone(),
            event,
            update: update.clone(),
            now,
        })
    }

    /// Merges `observation` into the record `key` ([`Record::observe`]) and returns it as
    /// stored.
    fn observe<'a>(
        &'a self,
        key: &'a RecordKey,
        observation: &'a Observation,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Record, JournalError>> {
        self.write(Write::Observe {
            key: key.clone(),
            observation: observation.clone(),
            now,
        })
    }

    /// The record `key`, if any.
    fn get<'a>(&'a self, key: &'a RecordKey)
        -> BoxFuture<'a, Result<Option<Record>, JournalError>>;

    /// Every record, open ones only when `open_only`, oldest first.
    fn list(&self, open_only: bool) -> BoxFuture<'_, Result<Vec<Record>, JournalError>>;

    /// The records the reconciler follows ([`Record::is_tracked`]), oldest first.
    fn tracked(&self) -> BoxFuture<'_, Result<Vec<Record>, JournalError>>;

    /// Claims the record `key` for `holder` until `until` (to resume or poll it); answers
    /// whether `holder` has it. Only a record that [needs work](Record::needs_work) can be
    /// claimed; two instances never hold one record at once.
    fn claim<'a>(
        &'a self,
        key: &'a RecordKey,
        holder: &'a str,
        until: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<bool, JournalError>>;

    /// The audit log, oldest entry first, and its stored head ([`audit`](super::audit)).
    /// Durable stores write it in the transaction of each write it describes; a store that
    /// keeps none answers [`JournalError::Unavailable`].
    fn audit_log(&self) -> BoxFuture<'_, Result<AuditLog, JournalError>> {
        ready(Err(JournalError::Unavailable(
            "this journal keeps no audit log".into(),
        )))
    }
}

/// An audit log as read back: what [`Journal::audit_log`] answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditLog {
    /// Every entry, by `seq`.
    pub entries: Vec<AuditEntry>,
    /// The stored head (`None` when the store has none yet).
    pub head: Option<AuditHead>,
}

/// Records and claims in memory.
type MemoryState = BTreeMap<RecordKey, (Record, Option<(String, Timestamp)>)>;

/// A [`Journal`] in memory: for tests, and to see the model work. Not durable.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    inner: Mutex<MemoryState>,
    audit: Mutex<(Vec<AuditEntry>, AuditHead)>,
}

impl MemoryJournal {
    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn apply(&self, write: &Write) -> Result<Record, JournalError> {
        let mut inner = self.lock();
        let existing = inner.get(write.key()).map(|(record, _)| record.clone());
        let (record, changed) = write.decide(existing)?;
        if let (true, Some(fact)) = (changed, AuditFact::of(write, &record)) {
            let mut audit = self
                .audit
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (entries, head) = &mut *audit;
            entries.push(head.append(fact));
        }
        if changed {
            // A fresh record (a refused one given way) starts without a lease.
            let lease = match write {
                Write::Record { .. } => None,
                Write::Advance { .. } | Write::Observe { .. } => {
                    inner.get(write.key()).and_then(|(_, l)| l.clone())
                }
            };
            inner.insert(write.key().clone(), (record.clone(), lease));
        }
        Ok(record)
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Journal for MemoryJournal {
    fn write(&self, write: Write) -> BoxFuture<'_, Result<Record, JournalError>> {
        ready(self.apply(&write))
    }

    fn get<'a>(
        &'a self,
        key: &'a RecordKey,
    ) -> BoxFuture<'a, Result<Option<Record>, JournalError>> {
        ready(Ok(self.lock().get(key).map(|(r, _)| r.clone())))
    }

    fn list(&self, open_only: bool) -> BoxFuture<'_, Result<Vec<Record>, JournalError>> {
        let mut records: Vec<Record> = self
            .lock()
            .values()
            .map(|(r, _)| r.clone())
            .filter(|r| !open_only || !r.state.is_final())
            .collect();
        records.sort_by(|a, b| (a.created_at, &a.key).cmp(&(b.created_at, &b.key)));
        ready(Ok(records))
    }

    fn tracked(&self) -> BoxFuture<'_, Result<Vec<Record>, JournalError>> {
        let mut records: Vec<Record> = self
            .lock()
            .values()
            .map(|(r, _)| r.clone())
            .filter(Record::is_tracked)
            .collect();
        records.sort_by(|a, b| (a.created_at, &a.key).cmp(&(b.created_at, &b.key)));
        ready(Ok(records))
    }

    fn audit_log(&self) -> BoxFuture<'_, Result<AuditLog, JournalError>> {
        let audit = self
            .audit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ready(Ok(AuditLog {
            entries: audit.0.clone(),
            head: Some(audit.1.clone()),
        }))
    }

    fn claim<'a>(
        &'a self,
        key: &'a RecordKey,
        holder: &'a str,
        until: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<bool, JournalError>> {
        let mut inner = self.lock();
        let result = match inner.get_mut(key) {
            None => Err(JournalError::NotFound(key.clone())),
            Some((record, _)) if !record.needs_work() => Ok(false),
            Some((_, lease)) => match lease {
                Some((other, expires)) if other != holder && *expires > now => Ok(false),
                _ => {
                    *lease = Some((holder.to_owned(), until));
                    Ok(true)
                }
            },
        };
        ready(result)
    }
}
