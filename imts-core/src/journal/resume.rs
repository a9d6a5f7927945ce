//! What resuming an open record means, decided from the record alone.

use crate::enums::TransferStatus;

use super::record::{MoneyOp, Record, State};

/// What to do to resolve a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumePlan {
    /// Final already: nothing (so resuming twice is a no-op).
    Nothing,
    /// Nothing was sent: send the recorded body.
    Send,
    /// A Create transfer that may have been applied: look it up by `order_id`; found, adopt it;
    /// not found, resend the same recorded body.
    LookUpOrder(String),
    /// A transition that may have been applied: read the transfer; at or past `applied_at`, it
    /// was; otherwise resend the recorded body.
    ReadTransfer {
        /// The transfer.
        transfer_id: String,
        /// The status the operation leads to.
        applied_at: TransferStatus,
    },
    /// No key to look it up by (Create person/business), or nothing to look up with: a person
    /// resolves it; never resent.
    NeedsPerson,
}

/// The plan for `record`.
#[must_use]
pub fn resume_plan(record: &Record) -> ResumePlan {
    if record.state.is_final() {
        return ResumePlan::Nothing;
    }
    if record.state == State::Intent {
        return ResumePlan::Send;
    }
    match (record.op, record.op.leads_to()) {
        (MoneyOp::CreateTransfer, _) => match &record.order_id {
            Some(order_id) => ResumePlan::LookUpOrder(order_id.clone()),
            None => ResumePlan::NeedsPerson,
        },
        (_, Some(applied_at)) => match &record.transfer_id {
            Some(transfer_id) => ResumePlan::ReadTransfer {
                transfer_id: transfer_id.clone(),
                applied_at,
            },
            None => ResumePlan::NeedsPerson,
        },
        (_, None) => ResumePlan::NeedsPerson,
    }
}

/// What reading a transfer says about a transition that leads to `applied_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// The transfer is there or past it: the call was applied.
    Applied,
    /// The transfer is before it: the call was not applied; send it again.
    Resend,
    /// The transfer ended elsewhere (cancelled, failed): the call can no longer apply.
    Refused,
    /// A status this SDK does not know: leave the record open.
    Unclear,
}

/// Judges a transition by the transfer's status read after a crash.
#[must_use]
pub fn judge(read: &TransferStatus, applied_at: &TransferStatus) -> Judgement {
    use crate::lifecycle::stage;
    if read == applied_at {
        return Judgement::Applied;
    }
    let ended_elsewhere = matches!(read, TransferStatus::Canceled | TransferStatus::Error);
    match (stage(read), stage(applied_at)) {
        _ if ended_elsewhere => Judgement::Refused,
        (Some(r), Some(a)) if r > a => Judgement::Applied,
        (Some(r), Some(a)) if r < a => Judgement::Resend,
        (Some(_), Some(_)) => Judgement::Refused, // the same stage, another status
        _ => Judgement::Unclear,
    }
}
