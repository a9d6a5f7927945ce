//! One reconciliation pass, written once for both clients: plan, claim each due transfer (so
//! one instance of a fleet polls it at a time), read its status, merge it into the journal;
//! report what changed and what is stuck.

use std::time::Duration;

use crate::enums::TransferStatus;
use crate::journal::{Journal, JournalError, Observation, Record, RecordKey, ResumeCalls};
use crate::models::StatusRequest;
use crate::telemetry::{self, PollResult};
use crate::values::{Lookup, Timestamp};

use super::planner::{Mode, Plan, Planner};

/// How long an instance holds a transfer it polls.
pub const POLL_LEASE: Duration = Duration::from_secs(60);

/// Something a pass found, for the partner's own alerting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReconcileEvent {
    /// A poll found the transfer further along than the journal knew.
    Changed {
        /// The record (the `order_id`).
        key: RecordKey,
        /// The transfer.
        transfer_id: String,
        /// What the journal knew.
        from: Option<TransferStatus>,
        /// What the poll read.
        to: TransferStatus,
    },
    /// Not final after the schedule's horizon: reported once, then no longer polled.
    Stuck {
        /// The record (the `order_id`).
        key: RecordKey,
        /// The transfer.
        transfer_id: String,
        /// Where it stands.
        status: Option<TransferStatus>,
        /// When its status last changed.
        since: Timestamp,
    },
    /// A poll failed; the transfer is polled again in its next window.
    PollFailed {
        /// The record (the `order_id`).
        key: RecordKey,
        /// Why (no personal data: an error code or a transport failure).
        reason: String,
    },
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Polls made.
    pub polled: usize,
    /// Due transfers another instance held.
    pub held_elsewhere: usize,
    /// Due transfers held back by the cap.
    pub deferred: usize,
    /// What was found.
    pub events: Vec<ReconcileEvent>,
    /// When the next pass is worth making.
    pub next: Option<Timestamp>,
}

/// Runs one pass at `now` as `holder`: the transfers `mode` takes.
///
/// # Errors
/// [`JournalError`] when the journal cannot be read; a failure on one transfer is an event.
pub async fn run_once(
    journal: &dyn Journal,
    calls: &dyn ResumeCalls,
    planner: &mut Planner,
    holder: &str,
    now: Timestamp,
    mode: Mode,
) -> Result<Report, JournalError> {
    let records = journal.tracked().await?;
    let Plan {
        polls,
        stuck,
        deferred,
        next,
    } = planner.plan(&records, now, mode);
    let find = |key: &RecordKey| records.iter().find(|r| &r.key == key);
    let until = Timestamp::new(now.as_offset_date_time() + POLL_LEASE);
    let mut report = Report {
        deferred,
        next,
        ..Report::default()
    };
    for key in &stuck {
        let Some(record) = find(key) else { continue };
        if !journal.claim(key, holder, until, now).await? {
            report.held_elsewhere += 1;
            continue;
        }
        journal.observe(key, &Observation::Stuck, now).await?;
        telemetry::reconciler_stuck();
        report.events.push(ReconcileEvent::Stuck {
            key: key.clone(),
            transfer_id: record.transfer_id.clone().unwrap_or_default(),
            status: record.status.clone(),
            since: record.tracking.status_at.unwrap_or(record.updated_at),
        });
    }
    for key in &polls {
        let Some(record) = find(key) else { continue };
        if !journal.claim(key, holder, until, now).await? {
            report.held_elsewhere += 1;
            continue;
        }
        report.polled += 1;
        let event = poll(journal, calls, record, now).await?;
        telemetry::reconciler_poll(match &event {
            None => PollResult::Unchanged,
            Some(ReconcileEvent::Changed { .. }) => PollResult::Changed,
            Some(_) => PollResult::Failed,
        });
        report.events.extend(event);
    }
    Ok(report)
}

/// Polls one claimed record and merges what it read.
async fn poll(
    journal: &dyn Journal,
    calls: &dyn ResumeCalls,
    record: &Record,
    now: Timestamp,
) -> Result<Option<ReconcileEvent>, JournalError> {
    let key = &record.key;
    let transfer_id = record.transfer_id.clone().unwrap_or_default();
    let failed = |reason: String| ReconcileEvent::PollFailed {
        key: key.clone(),
        reason,
    };
    let Ok(id) = transfer_id.parse() else {
        journal.observe(key, &Observation::PollFailed, now).await?;
        return Ok(Some(failed(format!(
            "invalid transfer id in record `{key}`"
        ))));
    };
    match calls
        .status(&StatusRequest::new(Lookup::TransferId(id)))
        .await
    {
        Ok(read) => {
            let before = record.status.clone();
            let after = journal
                .observe(key, &Observation::Polled(read.status.clone()), now)
                .await?;
            Ok((after.status != before).then(|| ReconcileEvent::Changed {
                key: key.clone(),
                transfer_id,
                from: before,
                to: read.status,
            }))
        }
        Err(error) => {
            journal.observe(key, &Observation::PollFailed, now).await?;
            let reason = error
                .code()
                .map_or_else(|| "no answer".to_owned(), |code| format!("error {code}"));
            Ok(Some(failed(reason)))
        }
    }
}
