//! Every notification the sandbox made, its recipient, payload and delivery attempts, for the
//! control API (`GET /sandbox/v1/callbacks`). Bounded: the oldest entries go first.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Entries kept; older ones are forgotten.
pub const LOG_LIMIT: usize = 10_000;

/// Where a notification's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Being delivered (or waiting for a retry).
    Pending,
    /// Answered `200 {"status":"ok"}`.
    Acknowledged,
    /// Every attempt failed.
    Abandoned,
    /// Dropped by `--callback-loss` before any attempt.
    Lost,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The receiver's HTTP status; `None` when it could not be reached, did not answer in
    /// time, or deliveries were refused by `--callback-outage`.
    pub status: Option<u16>,
    /// Whether the answer acknowledged the notification.
    pub acknowledged: bool,
}

/// A notification and its deliveries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoggedCallback {
    /// Its `notification_id`.
    pub notification_id: String,
    /// `status_update` or `transfer_received`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The transfer it is about.
    pub transfer_id: String,
    /// The recipient's callback URL.
    pub recipient: String,
    /// The recipient partner's agent id.
    pub agent_id: String,
    /// The signed body, as sent.
    pub payload: Box<serde_json::value::RawValue>,
    /// Each attempt, in order (resends add to them).
    pub attempts: Vec<Attempt>,
    /// Where delivery stands.
    pub state: DeliveryState,
}

/// The log.
#[derive(Debug, Default)]
pub struct CallbackLog {
    entries: VecDeque<LoggedCallback>,
}

impl CallbackLog {
    /// Records a new notification (pending).
    pub fn push(&mut self, entry: LoggedCallback) {
        if self.entries.len() == LOG_LIMIT {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// The entry for `notification_id`.
    pub fn get_mut(&mut self, notification_id: &str) -> Option<&mut LoggedCallback> {
        self.entries
            .iter_mut()
            .rev()
            .find(|e| e.notification_id == notification_id)
    }

    /// The entry for `notification_id`.
    #[must_use]
    pub fn get(&self, notification_id: &str) -> Option<&LoggedCallback> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.notification_id == notification_id)
    }

    /// Every entry, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &LoggedCallback> {
        self.entries.iter()
    }
}
