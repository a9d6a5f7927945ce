//! `resume`: resolving every open record after a crash, written once for both clients over the
//! two calls it needs ([`ResumeCalls`]).

use std::time::Duration;

use serde_json::value::RawValue;

use crate::error::Error;
use crate::models::{StatusRequest, StatusResponse};
use crate::token_store::BoxFuture;
use crate::values::{Lookup, Timestamp};

use super::record::{Event, MoneyOp, Record, RecordKey, State};
use super::resend::Resend;
use super::resume::{judge, resume_plan, Judgement, ResumePlan};
use super::store::{Journal, JournalError, Update};

/// How long an instance holds a record it resumes (another instance takes it over after that).
pub const RESUME_LEASE: Duration = Duration::from_secs(5 * 60);

/// The calls resuming needs from a client (with the same journal configured, so a resend is
/// itself journaled).
pub trait ResumeCalls: Send + Sync {
    /// Sends a recorded body again.
    fn resend<'a>(&'a self, op: &'a Resend) -> BoxFuture<'a, Result<Box<RawValue>, Error>>;
    /// Reads a transfer's status.
    fn status<'a>(
        &'a self,
        request: &'a StatusRequest,
    ) -> BoxFuture<'a, Result<StatusResponse, Error>>;
}

/// How one record was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolution {
    /// The API has it applied (found by a lookup): the record is now applied.
    Adopted,
    /// Sent again with the recorded body; the record's state afterwards.
    Resent(State),
    /// It can no longer apply (the transfer ended elsewhere): the record is now refused.
    Refused(String),
    /// No key to look it up by (Create person/business): a person resolves it; never resent.
    NeedsPerson,
    /// Another instance is resuming it.
    Claimed,
    /// Not resolved now (the API or the journal failed, or the record is unreadable); it stays
    /// open.
    Failed(String),
}

impl Resolution {
    /// Whether the record is still open after this.
    #[must_use]
    pub fn left_open(&self) -> bool {
        match self {
            Resolution::Adopted | Resolution::Refused(_) => false,
            Resolution::Resent(state) => !state.is_final(),
            _ => true,
        }
    }
}

/// One record resolved (or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The record.
    pub key: RecordKey,
    /// Its operation.
    pub op: MoneyOp,
    /// What resuming did.
    pub resolution: Resolution,
}

/// Resolves every open record of `journal`, claiming each for `holder` first; `now` is the wall
/// clock. Running it again when nothing is open does nothing.
///
/// # Errors
/// When the journal cannot be listed or claimed in.
pub async fn resume(
    calls: &dyn ResumeCalls,
    journal: &dyn Journal,
    holder: &str,
    now: &(dyn Fn() -> Timestamp + Sync),
) -> Result<Vec<Resolved>, Error> {
    let mut resolved = Vec::new();
    for record in journal.list(true).await? {
        let at = now();
        let until = Timestamp::new(at.as_offset_date_time() + RESUME_LEASE);
        let resolution = if journal.claim(&record.key, holder, until, at).await? {
            resolve(calls, journal, &record, now).await
        } else {
            Resolution::Claimed
        };
        resolved.push(Resolved {
            key: record.key.clone(),
            op: record.op,
            resolution,
        });
    }
    Ok(resolved)
}

async fn resolve(
    calls: &dyn ResumeCalls,
    journal: &dyn Journal,
    record: &Record,
    now: &(dyn Fn() -> Timestamp + Sync),
) -> Resolution {
    let lookup = match resume_plan(record) {
        ResumePlan::Nothing => return Resolution::Adopted,
        ResumePlan::NeedsPerson => return Resolution::NeedsPerson,
        ResumePlan::Send => return resend(calls, journal, record).await,
        ResumePlan::LookUpOrder(order) => match order.parse() {
            Ok(order) => (Lookup::OrderId(order), None),
            Err(_) => {
                return Resolution::Failed(format!("record `{}`: invalid order id", record.key))
            }
        },
        ResumePlan::ReadTransfer {
            transfer_id,
            applied_at,
        } => match transfer_id.parse() {
            Ok(id) => (Lookup::TransferId(id), Some(applied_at)),
            Err(_) => {
                return Resolution::Failed(format!("record `{}`: invalid transfer id", record.key))
            }
        },
    };
    let (lookup, applied_at) = lookup;
    let read = match calls.status(&StatusRequest::new(lookup)).await {
        Ok(read) => read,
        Err(error)
            if applied_at.is_none() && error.code() == Some(&crate::enums::ErrorCode::NotFound) =>
        {
            // A Create never applied: send the same body again.
            return resend(calls, journal, record).await;
        }
        Err(error) => return Resolution::Failed(error.to_string()),
    };
    let judgement = applied_at.map_or(Judgement::Applied, |at| judge(&read.status, &at));
    let update = Update {
        outcome: Some(format!("resumed: transfer is {}", read.status)),
        status: Some(read.status.clone()),
        transfer_id: Some(read.transfer_id.to_string()),
    };
    let (event, resolution) = match judgement {
        Judgement::Applied => (Event::Applied, Resolution::Adopted),
        Judgement::Refused => (
            Event::Refused,
            Resolution::Refused(format!("the transfer is {}", read.status)),
        ),
        Judgement::Resend => return resend(calls, journal, record).await,
        Judgement::Unclear => {
            return Resolution::Failed(format!("the transfer is {}: not judged", read.status))
        }
    };
    match journal.advance(&record.key, event, &update, now()).await {
        Ok(_) => resolution,
        Err(error) => Resolution::Failed(error.to_string()),
    }
}

async fn resend(calls: &dyn ResumeCalls, journal: &dyn Journal, record: &Record) -> Resolution {
    let op = match Resend::of(record) {
        Ok(op) => op,
        Err(error) => return Resolution::Failed(error.to_string()),
    };
    // The client's own journal hook records the attempt and its outcome.
    let sent = calls.resend(&op).await;
    match journal.get(&record.key).await {
        Ok(Some(after)) => Resolution::Resent(after.state),
        Ok(None) => Resolution::Failed(JournalError::NotFound(record.key.clone()).to_string()),
        Err(error) => Resolution::Failed(format!(
            "{error} (the resend {})",
            if sent.is_ok() { "succeeded" } else { "failed" }
        )),
    }
}
