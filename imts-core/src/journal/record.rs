//! Records, their states, and the transitions between them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::endpoint::Endpoint;
use crate::enums::TransferStatus;
use crate::values::Timestamp;

/// A money-moving operation: what the journal records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoneyOp {
    /// Create transfer (idempotent by `order_id`).
    CreateTransfer,
    /// Confirm transfer.
    Confirm,
    /// Payout.
    Payout,
    /// Payout confirm.
    PayoutConfirm,
    /// Cancel.
    Cancel,
    /// Create person (no idempotency key: never resent).
    CreatePerson,
    /// Create business (no idempotency key: never resent).
    CreateBusiness,
}

impl MoneyOp {
    /// The operation an endpoint is, if it moves money (or registers a client).
    #[must_use]
    pub fn of(endpoint: Endpoint) -> Option<Self> {
        Some(match endpoint {
            Endpoint::CreateTransfer => MoneyOp::CreateTransfer,
            Endpoint::Confirm => MoneyOp::Confirm,
            Endpoint::Payout => MoneyOp::Payout,
            Endpoint::PayoutConfirm => MoneyOp::PayoutConfirm,
            Endpoint::Cancel => MoneyOp::Cancel,
            Endpoint::CreatePerson => MoneyOp::CreatePerson,
            Endpoint::CreateBusiness => MoneyOp::CreateBusiness,
            _ => return None,
        })
    }

    /// The operation a route is (a raw call to a money-moving path counts too).
    #[must_use]
    pub fn of_route(route: &crate::endpoint::Route) -> Option<Self> {
        Self::ALL.into_iter().find(|op| {
            let own = op.endpoint().route();
            own.path == route.path && own.method == route.method
        })
    }

    /// The endpoint.
    #[must_use]
    pub fn endpoint(self) -> Endpoint {
        match self {
            MoneyOp::CreateTransfer => Endpoint::CreateTransfer,
            MoneyOp::Confirm => Endpoint::Confirm,
            MoneyOp::Payout => Endpoint::Payout,
            MoneyOp::PayoutConfirm => Endpoint::PayoutConfirm,
            MoneyOp::Cancel => Endpoint::Cancel,
            MoneyOp::CreatePerson => Endpoint::CreatePerson,
            MoneyOp::CreateBusiness => Endpoint::CreateBusiness,
        }
    }

    /// The transfer status a successful call of this operation leads to, for a transition:
    /// reading the transfer at (or past) it means the call was applied.
    #[must_use]
    pub fn leads_to(self) -> Option<TransferStatus> {
        match self {
            MoneyOp::CreateTransfer => Some(TransferStatus::New),
            MoneyOp::Confirm => Some(TransferStatus::Process),
            MoneyOp::Payout => Some(TransferStatus::Waiting),
            MoneyOp::PayoutConfirm => Some(TransferStatus::Success),
            MoneyOp::Cancel => Some(TransferStatus::Canceled),
            MoneyOp::CreatePerson | MoneyOp::CreateBusiness => None,
        }
    }

    /// The stable name stored in the journal.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MoneyOp::CreateTransfer => "create_transfer",
            MoneyOp::Confirm => "confirm",
            MoneyOp::Payout => "payout",
            MoneyOp::PayoutConfirm => "payout_confirm",
            MoneyOp::Cancel => "cancel",
            MoneyOp::CreatePerson => "create_person",
            MoneyOp::CreateBusiness => "create_business",
        }
    }

    /// Every operation.
    pub const ALL: [MoneyOp; 7] = [
        MoneyOp::CreateTransfer,
        MoneyOp::Confirm,
        MoneyOp::Payout,
        MoneyOp::PayoutConfirm,
        MoneyOp::Cancel,
        MoneyOp::CreatePerson,
        MoneyOp::CreateBusiness,
    ];

    /// The operation of a stored name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == name)
    }
}

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Recorded; nothing sent yet (resume sends it). Only operations without a lookup (Create
    /// person and business) are recorded in this state by a client; the others are recorded
    /// [`Sent`](Self::Sent) at once ([`Intent::sends_at_once`](super::Intent::sends_at_once)).
    Intent,
    /// Bytes may be on the wire; no definite answer yet (resume looks it up before sending).
    Sent,
    /// The API applied it (final).
    Applied,
    /// The API refused it, or it was never sent (final).
    Refused,
    /// The call ended without a definite answer: resume resolves it.
    Unknown,
}

impl State {
    /// Whether nothing may change it any more.
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(self, State::Applied | State::Refused)
    }

    /// The stable name stored in the journal.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            State::Intent => "intent",
            State::Sent => "sent",
            State::Applied => "applied",
            State::Refused => "refused",
            State::Unknown => "unknown",
        }
    }

    /// Every state.
    pub const ALL: [State; 5] = [
        State::Intent,
        State::Sent,
        State::Applied,
        State::Refused,
        State::Unknown,
    ];

    /// The state of a stored name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// An attempt is about to send bytes.
    Sending,
    /// A definite success answer (or, on resume, the transfer found where the call leads).
    Applied,
    /// A definite refusal (or nothing was ever sent).
    Refused,
    /// The call ended without a definite answer.
    Uncertain,
}

/// Every allowed transition, `(from, event, to)`; anything else is refused. Nothing leaves a
/// final state.
pub const TRANSITIONS: &[(State, Event, State)] = &[
    (State::Intent, Event::Sending, State::Sent),
    (State::Intent, Event::Refused, State::Refused),
    (State::Intent, Event::Applied, State::Applied), // resume found it applied (sent before a crash)
    (State::Intent, Event::Uncertain, State::Unknown),
    (State::Sent, Event::Sending, State::Sent), // a retry of the same body
    (State::Sent, Event::Applied, State::Applied),
    (State::Sent, Event::Refused, State::Refused),
    (State::Sent, Event::Uncertain, State::Unknown),
    (State::Unknown, Event::Sending, State::Sent), // resume resends the recorded body
    (State::Unknown, Event::Applied, State::Applied),
    (State::Unknown, Event::Refused, State::Refused),
    (State::Unknown, Event::Uncertain, State::Unknown),
];

impl State {
    /// The state after `event`, if the transition is allowed.
    #[must_use]
    pub fn after(self, event: Event) -> Option<State> {
        TRANSITIONS
            .iter()
            .find(|(from, on, _)| *from == self && *on == event)
            .map(|(_, _, to)| *to)
    }
}

/// A record's key: for a Create transfer its `order_id`, otherwise the operation and the
/// transfer id (`confirm:T-1`), or a client-made id for Create person/business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordKey(pub String);

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One journaled call. The body is exactly what is (or was) sent: personal data in it is only
/// ever the sealed envelope. `Debug` shows neither body nor outcome.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    /// The key (unique in a journal).
    pub key: RecordKey,
    /// The operation.
    pub op: MoneyOp,
    /// The partner's order id, when the operation has one.
    pub order_id: Option<String>,
    /// The transfer's id, once known.
    pub transfer_id: Option<String>,
    /// The request body, signed, exactly as sent.
    pub body: Vec<u8>,
    /// SHA-256 of `body`, lower-case hex.
    pub body_hash: String,
    /// The state.
    pub state: State,
    /// Attempts marked as sending ([`Event::Sending`]), each before its bytes. A call that
    /// failed before any byte went (on its token, say) counts the one marked with its intent
    /// ([`Intent::sends_at_once`](super::Intent::sends_at_once)); its outcome says `not sent`.
    pub attempts: u32,
    /// The answer (the response JSON) or the error's text, once there is one.
    pub outcome: Option<String>,
    /// The transfer's last known status.
    pub status: Option<TransferStatus>,
    /// When the intent was recorded.
    pub created_at: Timestamp,
    /// When the record last changed.
    pub updated_at: Timestamp,
    /// What the reconciler knows of the transfer since (Create transfer records).
    pub tracking: Tracking,
    /// The agent whose credentials made the call (`None` for records older than the audit
    /// log).
    pub agent: Option<String>,
}

/// A created transfer as the reconciler follows it: when its status last changed, how often it
/// was polled, and whether it was reported stuck (once, then never polled again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    /// When [`Record::status`] last changed (an answer, a callback or a poll).
    pub status_at: Option<Timestamp>,
    /// Polls so far.
    pub polls: u32,
    /// When it was last polled.
    pub polled_at: Option<Timestamp>,
    /// Reported stuck: not final after the schedule's horizon.
    pub stuck: bool,
}

impl Record {
    /// Whether the reconciler follows this record: a Create transfer that was applied, whose
    /// transfer is known and not final, and that was not reported stuck.
    #[must_use]
    pub fn is_tracked(&self) -> bool {
        self.op == MoneyOp::CreateTransfer
            && self.state == State::Applied
            && self.transfer_id.is_some()
            && !self.status.as_ref().is_some_and(crate::lifecycle::is_final)
            && !self.tracking.stuck
    }

    /// Whether anything is left to do: an open record to resume or a tracked one to poll. Only
    /// such records can be claimed.
    #[must_use]
    pub fn needs_work(&self) -> bool {
        !self.state.is_final() || self.is_tracked()
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("key", &self.key)
            .field("op", &self.op)
            .field("state", &self.state)
            .field("attempts", &self.attempts)
            .field("status", &self.status)
            .field("body_hash", &self.body_hash)
            .field("tracking", &self.tracking)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a request body, lower-case hex: how a journal tells a resend of the same request
/// from a different request reusing an `order_id`.
#[must_use]
pub fn body_hash(body: &[u8]) -> String {
    imts_crypto::sha256_hex(body)
}
