//! The transfer journal's model, sans-IO: a record per money-moving call, its states and the
//! transitions between them as data, and what resuming an open record means.
//!
//! A record is written (state [`State::Intent`]) **before the first byte** of the request is
//! sent, with the exact body that will be sent (personal data only as the sealed envelope);
//! [`State::Sent`] once bytes may be on the wire; then one of the final states
//! ([`State::Applied`], [`State::Refused`]) or [`State::Unknown`] when the call ended without a
//! definite answer. A process killed at any point leaves a record that says what to do:
//! [`resume_plan`].
//!
//! Storage is behind [`Journal`] (memory here; SQLite and PostgreSQL in their own crates).

pub mod audit;
mod hook;
mod learnt;
mod observe;
mod record;
mod resend;
mod resume;
mod resumer;
mod store;
mod write;

pub use hook::JournalHook;
pub use learnt::Learnt;
pub use observe::Observation;
pub use record::{body_hash, Event, MoneyOp, Record, RecordKey, State, Tracking, TRANSITIONS};
pub use resend::Resend;
pub use resume::{judge, resume_plan, Judgement, ResumePlan};
pub use resumer::{resume, Resolution, Resolved, ResumeCalls, RESUME_LEASE};
pub use store::{AuditLog, Intent, Journal, JournalError, MemoryJournal, Update};
pub use write::{batch_order, Write, GROUP_COMMIT_MAX};
