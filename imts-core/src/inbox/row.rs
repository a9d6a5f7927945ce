//! One stored notification and its life: pending until the handler has run it, done, or dead
//! after too many failures; every move is a row of [`TRANSITIONS`].

use std::fmt;
use std::time::Duration;

use crate::values::Timestamp;

/// Where a stored notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InboxState {
    /// Stored and acknowledged; the handler has not yet succeeded.
    Pending,
    /// The handler succeeded.
    Done,
    /// The handler failed too often; kept with its last error for a person (`replay`,
    /// `discard`).
    Dead,
}

impl InboxState {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Done, Self::Dead]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

impl fmt::Display for InboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxEvent {
    /// The handler succeeded.
    Handled,
    /// The handler failed (or panicked) and attempts remain.
    Failed,
    /// The handler failed for the last allowed time.
    GaveUp,
    /// A person asked to run it again.
    Replay,
    /// A person set it aside for good.
    Discard,
}

/// Every allowed move: (from, event, to).
pub const TRANSITIONS: &[(InboxState, InboxEvent, InboxState)] = &[
    (InboxState::Pending, InboxEvent::Handled, InboxState::Done),
    (InboxState::Pending, InboxEvent::Failed, InboxState::Pending),
    (InboxState::Pending, InboxEvent::GaveUp, InboxState::Dead),
    (InboxState::Dead, InboxEvent::Replay, InboxState::Pending),
    (InboxState::Done, InboxEvent::Replay, InboxState::Pending),
    (InboxState::Pending, InboxEvent::Discard, InboxState::Dead),
    (InboxState::Dead, InboxEvent::Discard, InboxState::Dead),
];

impl InboxState {
    /// The state after `event`, if allowed.
    #[must_use]
    pub fn after(self, event: InboxEvent) -> Option<InboxState> {
        TRANSITIONS
            .iter()
            .find(|(from, on, _)| *from == self && *on == event)
            .map(|(_, _, to)| *to)
    }
}

/// One notification as stored: the raw signed bytes, exactly as received (they are verified
/// again before a replay), and how processing goes. `Debug` never shows the body.
#[derive(Clone, PartialEq, Eq)]
pub struct InboxRow {
    /// The notification's id: unique in an inbox (this is also the de-duplication).
    pub notification_id: String,
    /// `status_update`, `transfer_received`, or what the provider sent.
    pub kind: String,
    /// The body, byte for byte.
    pub body: Vec<u8>,
    /// When it was stored.
    pub received_at: Timestamp,
    /// The state.
    pub state: InboxState,
    /// Handler runs so far.
    pub attempts: u32,
    /// The last failure's text.
    pub last_error: Option<String>,
    /// Not to be run before this (backoff after a failure).
    pub next_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl fmt::Debug for InboxRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxRow")
            .field("notification_id", &self.notification_id)
            .field("kind", &self.kind)
            .field("state", &self.state)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// How failures are retried: exponential backoff from `first` doubling up to `max_delay`, and a
/// dead letter after `max_attempts` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs before a row becomes a dead letter.
    pub max_attempts: u32,
    /// The wait after the first failure.
    pub first: Duration,
    /// The longest wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 8 runs; 1 second, doubling, at most 10 minutes apart.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            first: Duration::from_secs(1),
            max_delay: Duration::from_secs(600),
        }
    }
}

/// The longest wait between runs, whatever a policy says: 30 days (so the next run's time is
/// always a valid date).
pub const MAX_DELAY: Duration = Duration::from_secs(30 * 24 * 3600);

impl RetryPolicy {
    /// The wait after the `attempts`-th failed run (at most [`MAX_DELAY`]).
    #[must_use]
    pub fn delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.first
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
            .min(MAX_DELAY)
    }
}

impl InboxRow {
    /// A row for a notification received at `now`, pending at once.
    #[must_use]
    pub fn received(notification_id: &str, kind: &str, body: &[u8], now: Timestamp) -> Self {
        Self {
            notification_id: notification_id.to_owned(),
            kind: kind.to_owned(),
            body: body.to_vec(),
            received_at: now,
            state: InboxState::Pending,
            attempts: 0,
            last_error: None,
            next_at: now,
            updated_at: now,
        }
    }

    /// Applies a handler run's result at `now` under `policy`: done, pending again after the
    /// backoff, or dead after the last allowed attempt.
    pub fn after_run(&mut self, result: Result<(), String>, policy: &RetryPolicy, now: Timestamp) {
        self.attempts = self.attempts.saturating_add(1);
        let event = match result {
            Ok(()) => InboxEvent::Handled,
            Err(error) => {
                self.last_error = Some(error);
                if self.attempts >= policy.max_attempts {
                    InboxEvent::GaveUp
                } else {
                    self.next_at =
                        Timestamp::new(now.as_offset_date_time() + policy.delay(self.attempts));
                    InboxEvent::Failed
                }
            }
        };
        if let Some(next) = self.state.after(event) {
            self.state = next;
        }
        self.updated_at = now;
    }

    /// Applies a person's `event` ([`InboxEvent::Replay`] or [`InboxEvent::Discard`]); answers
    /// whether it was allowed.
    pub fn operate(&mut self, event: InboxEvent, now: Timestamp) -> bool {
        let Some(next) = self.state.after(event) else {
            return false;
        };
        self.state = next;
        if event == InboxEvent::Replay {
            self.attempts = 0;
            self.next_at = now;
        }
        self.updated_at = now;
        true
    }
}
