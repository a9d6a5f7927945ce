//! What the journal learns of a transfer outside the calls that moved it: a callback, a poll,
//! a poll that failed, a report that it is stuck. Every source goes through the one monotonic
//! merge of the life cycle ([`crate::lifecycle::merge`]), so a late callback and a poll never
//! disagree and a status never moves backwards.

use crate::enums::TransferStatus;
use crate::lifecycle::{merge, Merge};
use crate::values::Timestamp;

use super::record::Record;

/// One observation of a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// A signed callback, or the answer to a call that moved the transfer, said it is in
    /// `status`.
    Callback(TransferStatus),
    /// A poll read `status`.
    Polled(TransferStatus),
    /// A poll was made and failed (it counts towards the transfer's polls).
    PollFailed,
    /// Not final after the schedule's horizon: reported once, never polled again.
    Stuck,
}

impl Record {
    /// Applies `observation` at `now`; answers whether the record changed.
    pub fn observe(&mut self, observation: &Observation, now: Timestamp) -> bool {
        let tracking = &mut self.tracking;
        let changed = match observation {
            Observation::Callback(status) | Observation::Polled(status) => {
                let polled = matches!(observation, Observation::Polled(_));
                if polled {
                    tracking.polls = tracking.polls.saturating_add(1);
                    tracking.polled_at = Some(now);
                }
                match merge(self.status.as_ref(), status) {
                    Merge::Applied(status) => {
                        self.status = Some(status);
                        tracking.status_at = Some(now);
                        true
                    }
                    Merge::Stale => polled,
                }
            }
            Observation::PollFailed => {
                tracking.polls = tracking.polls.saturating_add(1);
                tracking.polled_at = Some(now);
                true
            }
            Observation::Stuck => !std::mem::replace(&mut tracking.stuck, true),
        };
        if changed {
            self.updated_at = now;
        }
        changed
    }
}
