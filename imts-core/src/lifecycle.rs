//! The transfer life cycle (`docs/contract.md`, "Transfer life cycle") as data: which operation is allowed from
//! which status, where it leads, and how observed statuses merge without moving backwards.

use crate::enums::TransferStatus;

/// The operations that move a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferOperation {
    /// `new` to `process` (or `error` when the sender fails AML).
    Confirm,
    /// `process` to `waiting` (or `error` when the recipient fails AML).
    Payout,
    /// `waiting` to `success`.
    PayoutConfirm,
    /// `new`, `process` or `waiting` to `canceled`.
    Cancel,
}

/// One row of the transition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The operation.
    pub operation: TransferOperation,
    /// Statuses it is allowed from.
    pub from: &'static [TransferStatus],
    /// Where it leads when it succeeds.
    pub to: TransferStatus,
    /// Where it leads when an AML check rejects.
    pub on_reject: Option<TransferStatus>,
}

use TransferStatus as S;

/// The transition table.
pub static TRANSITIONS: [Transition; 4] = [
    Transition {
        operation: TransferOperation::Confirm,
        from: &[S::New],
        to: S::Process,
        on_reject: Some(S::Error),
    },
    Transition {
        operation: TransferOperation::Payout,
        from: &[S::Process],
        to: S::Waiting,
        on_reject: Some(S::Error),
    },
    Transition {
        operation: TransferOperation::PayoutConfirm,
        from: &[S::Waiting],
        to: S::Success,
        on_reject: None,
    },
    Transition {
        operation: TransferOperation::Cancel,
        from: &[S::New, S::Process, S::Waiting],
        to: S::Canceled,
        on_reject: None,
    },
];

impl TransferOperation {
    /// This operation's row.
    #[must_use]
    pub fn transition(self) -> &'static Transition {
        TRANSITIONS
            .iter()
            .find(|t| t.operation == self)
            .unwrap_or(&TRANSITIONS[0])
    }

    /// Whether the operation is allowed from `status`.
    #[must_use]
    pub fn allowed_from(self, status: &TransferStatus) -> bool {
        self.transition().from.contains(status)
    }

    /// Whether `status` is where this operation leads (success or AML rejection): after an
    /// uncertain failure, finding the transfer there means the operation took effect.
    #[must_use]
    pub fn reached(self, status: &TransferStatus) -> bool {
        let t = self.transition();
        t.to == *status || t.on_reject.as_ref() == Some(status)
    }
}

/// How far along the life cycle a status is; `None` for a status this version does not know.
#[must_use]
pub fn stage(status: &TransferStatus) -> Option<u8> {
    match status {
        S::New => Some(0),
        S::Process => Some(1),
        S::Waiting => Some(2),
        S::Success | S::Canceled | S::Error => Some(3),
        _ => None,
    }
}

/// Whether a status is final.
#[must_use]
pub fn is_final(status: &TransferStatus) -> bool {
    stage(status) == Some(3)
}

/// The outcome of merging an observed status into a known one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merge {
    /// The observed status is newer: it replaces the known one.
    Applied(TransferStatus),
    /// The observed status is older, equal, or contradicts a final status: the known one stays.
    Stale,
}

/// Merges `observed` into `known` so a transfer never moves backwards: a later stage replaces an
/// earlier one; nothing replaces a final status; an unknown status is carried (applied) unless
/// the known status is final.
#[must_use]
pub fn merge(known: Option<&TransferStatus>, observed: &TransferStatus) -> Merge {
    let Some(known) = known else {
        return Merge::Applied(observed.clone());
    };
    if known == observed || is_final(known) {
        return Merge::Stale;
    }
    match (stage(known), stage(observed)) {
        (Some(k), Some(o)) if o <= k => Merge::Stale,
        _ => Merge::Applied(observed.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_status_has_its_stage_and_an_unknown_one_none() {
        let stages: Vec<Option<u8>> = TransferStatus::KNOWN.iter().map(stage).collect();
        assert_eq!(
            stages,
            [Some(0), Some(1), Some(2), Some(3), Some(3), Some(3)]
        );
        assert_eq!(stage(&S::from("paused")), None);
        assert!(!is_final(&S::New));
    }

    #[test]
    fn table_answers() {
        assert!(TransferOperation::Confirm.allowed_from(&S::New));
        assert!(!TransferOperation::Confirm.allowed_from(&S::Process));
        assert!(TransferOperation::Cancel.allowed_from(&S::Waiting));
        assert!(!TransferOperation::Cancel.allowed_from(&S::Success));
        assert!(TransferOperation::Payout.reached(&S::Error));
        assert!(!TransferOperation::PayoutConfirm.reached(&S::Waiting));
    }

    #[test]
    fn merge_never_moves_backwards() {
        assert_eq!(
            merge(Some(&S::New), &S::Process),
            Merge::Applied(S::Process)
        );
        assert_eq!(merge(Some(&S::Waiting), &S::Process), Merge::Stale);
        assert_eq!(merge(Some(&S::Success), &S::Canceled), Merge::Stale);
        assert_eq!(merge(Some(&S::Process), &S::Process), Merge::Stale);
        let odd = S::Unknown("on_hold".into());
        assert_eq!(merge(Some(&S::Process), &odd), Merge::Applied(odd.clone()));
        assert_eq!(merge(Some(&odd), &S::Waiting), Merge::Applied(S::Waiting));
        assert_eq!(merge(Some(&S::Canceled), &odd), Merge::Stale);
        assert_eq!(merge(None, &S::New), Merge::Applied(S::New));
    }
}
