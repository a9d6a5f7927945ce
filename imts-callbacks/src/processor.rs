//! `verify -> de-duplicate -> handle -> acknowledge`, framework-neutral: method and body bytes
//! in, status and body out.
//!
//! What happens when a handler is slower than IMTS's 10-second answer timeout: IMTS counts the
//! delivery as failed and delivers again 15 minutes later. Meanwhile the first delivery's claim
//! stays in flight: a retry arriving while it still runs is answered 503 (not processed, not
//! marked), so IMTS tries again. When the handler finishes, the id is marked processed (retries
//! are then acknowledged as duplicates) or, if it failed, released (the next retry is processed).
//! A notification is therefore never handled twice at once and never dropped while IMTS still
//! has retries left.

use imts_core::telemetry::{self, CallbackResult};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use imts_core::inbox::{Inbox, InboxRow, Stored};
use imts_core::journal::{Journal, JournalError, Observation, RecordKey};
use imts_core::values::Timestamp;

use imts_core::lifecycle::{merge, Merge};
use imts_core::transport::{Clock, SystemClock};

use crate::error::CallbackError;
use crate::notification::Notification;
use crate::ordering::{MemoryStatusStore, StatusStore};
use crate::seen::{Claim, MemorySeenStore, SeenStore, StoreError};
use crate::verify::Verifier;

/// The exact acknowledgement IMTS expects.
pub const ACK_BODY: &[u8] = br#"{"status":"ok"}"#;

/// A first-seen, verified notification handed to the handler.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The notification.
    pub notification: Notification,
    /// For a status update: whether it moves the transfer forward (`false`: repeated or late,
    /// an older status than one already seen). Always `true` for other notifications.
    pub applied: bool,
    /// Which run of the handler this is for the notification (1 the first; an inbox retries
    /// with backoff): with `notification_id`, what makes a handler's effects idempotent.
    pub attempt: u32,
    /// The body exactly as received, the bytes `pg_sig` was verified over (to forward or
    /// archive them unchanged).
    pub raw: std::sync::Arc<[u8]>,
}

/// Why a delivery did not complete.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A store (the journal, the status store) could not be used.
    Store,
    /// The handler failed.
    Handler(HandlerError),
}

/// A handler's failure: the delivery is answered 500 and IMTS retries it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("handler failed: {0}")]
pub struct HandlerError(pub String);

/// What the application does with a delivery.
pub trait Handler: Send + Sync {
    /// Handles one first-seen delivery.
    fn handle(&self, delivery: Delivery) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

impl<F, Fut> Handler for F
where
    F: Fn(Delivery) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), HandlerError>> + Send,
{
    fn handle(&self, delivery: Delivery) -> impl Future<Output = Result<(), HandlerError>> + Send {
        self(delivery)
    }
}

/// The answer to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Vec<u8>,
}

impl CallbackResponse {
    fn ack() -> Self {
        Self {
            status: 200,
            body: ACK_BODY.to_vec(),
        }
    }

    fn error(status: u16, message: &str) -> Self {
        Self {
            status,
            body: serde_json::json!({"status": "error", "error": message})
                .to_string()
                .into_bytes(),
        }
    }
}

/// Counters of what the processor did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProcessorStats {
    /// First-seen notifications handled successfully.
    pub accepted: u64,
    /// Deliveries of an id already processed (acknowledged, not handled).
    pub duplicates: u64,
    /// Accepted status updates that were older than the known status.
    pub stale: u64,
    /// Refused as forged or malformed.
    pub refused: u64,
    /// Handler failures (answered 500, id released).
    pub handler_failures: u64,
    /// Deliveries that arrived while the same id was in flight (answered 503).
    pub in_flight: u64,
    /// Deliveries refused because the seen store was unavailable (answered 503).
    pub store_unavailable: u64,
    /// Notifications stored in the inbox (acknowledged; the handler runs from there).
    pub stored: u64,
}

#[derive(Debug, Default)]
struct Counters([AtomicU64; 8]);

impl Counters {
    fn bump(&self, index: usize) {
        self.0[index].fetch_add(1, Ordering::Relaxed);
    }
    fn snapshot(&self) -> ProcessorStats {
        let v = |i: usize| self.0[i].load(Ordering::Relaxed);
        ProcessorStats {
            accepted: v(0),
            duplicates: v(1),
            stale: v(2),
            refused: v(3),
            handler_failures: v(4),
            in_flight: v(5),
            store_unavailable: v(6),
            stored: v(7),
        }
    }
}

const ACCEPTED: usize = 0;
const DUPLICATES: usize = 1;
const STALE: usize = 2;
const REFUSED: usize = 3;
const HANDLER_FAILURES: usize = 4;
const IN_FLIGHT: usize = 5;
const STORE_UNAVAILABLE: usize = 6;
const STORED: usize = 7;

/// Processes notifications for one partner.
pub struct Processor<H, C = SystemClock> {
    verifier: Verifier,
    seen: Arc<dyn SeenStore>,
    statuses: Arc<dyn StatusStore>,
    journal: Option<Arc<dyn Journal>>,
    inbox: Option<Arc<dyn Inbox>>,
    handler: H,
    clock: C,
    counters: Counters,
}

impl<H, C> std::fmt::Debug for Processor<H, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processor")
            .field("stats", &self.counters.snapshot())
            .finish_non_exhaustive()
    }
}

impl<H: Handler> Processor<H> {
    /// A processor with in-memory seen and status stores (one process) and the system clock.
    /// A fleet sets shared stores with [`with_seen_store`](Self::with_seen_store) and
    /// [`with_status_store`](Self::with_status_store).
    pub fn new(verifier: Verifier, handler: H) -> Self {
        Self {
            verifier,
            seen: Arc::new(MemorySeenStore::default()),
            statuses: Arc::new(MemoryStatusStore::default()),
            journal: None,
            inbox: None,
            handler,
            clock: SystemClock,
            counters: Counters::default(),
        }
    }
}

impl<H: Handler, C: Clock + Send + Sync> Processor<H, C> {
    /// Decides first deliveries with `store` (shared by a fleet: each notification is handled by
    /// one instance).
    #[must_use]
    pub fn with_seen_store(self, store: Arc<dyn SeenStore>) -> Self {
        Self {
            seen: store,
            ..self
        }
    }

    /// Judges status updates against `store` (shared by a fleet: every instance agrees on which
    /// update is late).
    #[must_use]
    pub fn with_status_store(self, store: Arc<dyn StatusStore>) -> Self {
        Self {
            statuses: store,
            ..self
        }
    }

    /// Merges every status update into `journal` too (the transfer's record, found by its
    /// `order_id`), through the same monotonic merge as the reconciler's polls, so a transfer
    /// whose callback arrived in time is not polled. An update the journal cannot store is
    /// answered 503 before the handler runs (IMTS delivers it again); one for a transfer the
    /// journal does not hold is handled as usual.
    #[must_use]
    pub fn with_journal(self, journal: Arc<dyn Journal>) -> Self {
        Self {
            journal: Some(journal),
            ..self
        }
    }

    /// Stores every verified notification in `inbox` and answers as soon as the row is durable
    /// (a duplicate is acknowledged, not stored twice; an inbox that cannot store is answered
    /// 503, so IMTS delivers again). The handler then runs from the inbox
    /// ([`InboxWorker`](crate::InboxWorker)), however slow or failing, without IMTS waiting.
    #[must_use]
    pub fn with_inbox(self, inbox: Arc<dyn Inbox>) -> Self {
        Self {
            inbox: Some(inbox),
            ..self
        }
    }

    /// The verifier (the inbox worker checks stored bytes again before running them).
    pub(crate) fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The current time on the processor's clock.
    pub(crate) fn now(&self) -> Timestamp {
        Timestamp::new(self.clock.now())
    }

    /// Reads time from `clock` (tests inject a fixed one).
    pub fn with_clock<C2: Clock + Send + Sync>(self, clock: C2) -> Processor<H, C2> {
        Processor {
            verifier: self.verifier,
            seen: self.seen,
            statuses: self.statuses,
            journal: self.journal,
            inbox: self.inbox,
            handler: self.handler,
            clock,
            counters: self.counters,
        }
    }

    /// What it did so far.
    pub fn stats(&self) -> ProcessorStats {
        self.counters.snapshot()
    }

    /// The last known status of a transfer, from the notifications processed (by this instance
    /// or, with a shared status store, by any).
    ///
    /// # Errors
    /// When the status store cannot be reached.
    pub async fn known_status(
        &self,
        transfer_id: &str,
    ) -> Result<Option<imts_core::enums::TransferStatus>, StoreError> {
        self.statuses.known(transfer_id).await
    }

    /// Processes one delivery: `POST` with the raw body bytes.
    pub async fn process(&self, method: &http::Method, body: &[u8]) -> CallbackResponse {
        if method != http::Method::POST {
            return CallbackResponse::error(405, "use POST");
        }
        let notification = match self
            .verifier
            .verify(body)
            .and_then(|_| Notification::parse(body))
        {
            Ok(n) => n,
            Err(error) => return self.refuse(&error),
        };
        if let Some(inbox) = &self.inbox {
            let row = InboxRow::received(
                notification.notification_id(),
                notification.kind(),
                body,
                self.now(),
            );
            return match inbox.insert(row).await {
                Ok(Stored::New) => {
                    self.counters.bump(STORED);
                    telemetry::callback_received(CallbackResult::Accepted);
                    CallbackResponse::ack()
                }
                Ok(Stored::Duplicate) => {
                    self.counters.bump(DUPLICATES);
                    telemetry::callback_received(CallbackResult::Duplicate);
                    CallbackResponse::ack()
                }
                Err(_) => self.store_unavailable(),
            };
        }
        let id = notification.notification_id().to_owned();
        match self.seen.claim(&id, self.clock.now()).await {
            Ok(Claim::First) => {}
            Ok(Claim::Duplicate) => {
                self.counters.bump(DUPLICATES);
                telemetry::callback_received(CallbackResult::Duplicate);
                return CallbackResponse::ack();
            }
            Ok(Claim::InFlight) => {
                self.counters.bump(IN_FLIGHT);
                telemetry::callback_received(CallbackResult::InFlight);
                return CallbackResponse::error(503, "this notification is being processed");
            }
            Err(_) => return self.store_unavailable(),
        }
        match self.deliver(notification, body, 1).await {
            Ok(()) => {
                if self.seen.complete(&id, self.clock.now()).await.is_err() {
                    // Handled but not marked: a retry may be handled again; say so by status.
                    self.counters.bump(STORE_UNAVAILABLE);
                }
                telemetry::callback_received(CallbackResult::Accepted);
                CallbackResponse::ack()
            }
            Err(failure) => {
                let _ = self.seen.release(&id).await;
                match failure {
                    Failure::Store => self.store_unavailable(),
                    Failure::Handler(error) => {
                        telemetry::callback_received(CallbackResult::HandlerFailed);
                        CallbackResponse::error(500, &error.to_string())
                    }
                }
            }
        }
    }

    /// Runs a verified, first-seen notification through the journal (when set), the status
    /// merge and the handler (told this is its `attempt`-th run).
    pub(crate) async fn deliver(
        &self,
        notification: Notification,
        raw: &[u8],
        attempt: u32,
    ) -> Result<(), Failure> {
        let status_change = match &notification {
            Notification::StatusUpdate(update) => {
                Some((update.transfer_id.to_string(), update.status.clone()))
            }
            _ => None,
        };
        if let (Some(journal), Notification::StatusUpdate(update)) = (&self.journal, &notification)
        {
            if let Some(order_id) = &update.order_id {
                let key = RecordKey(order_id.to_string());
                let observation = Observation::Callback(update.status.clone());
                let now = Timestamp::new(self.clock.now());
                match journal.observe(&key, &observation, now).await {
                    Ok(_) | Err(JournalError::NotFound(_)) => {}
                    Err(_) => return Err(Failure::Store),
                }
            }
        }
        let applied = match &status_change {
            None => true,
            // Not judged against missing state: the delivery is retried.
            Some((transfer, status)) => match self.statuses.known(transfer).await {
                Ok(known) => matches!(merge(known.as_ref(), status), Merge::Applied(_)),
                Err(_) => return Err(Failure::Store),
            },
        };
        let delivery = Delivery {
            notification,
            applied,
            attempt,
            raw: raw.into(),
        };
        if let Err(error) = self.handler.handle(delivery).await {
            self.counters.bump(HANDLER_FAILURES);
            return Err(Failure::Handler(error));
        }
        if let Some((transfer, status)) = &status_change {
            match self.statuses.apply(transfer, status).await {
                Ok(true) => {}
                Ok(false) => self.counters.bump(STALE),
                Err(_) => self.counters.bump(STORE_UNAVAILABLE),
            }
        }
        self.counters.bump(ACCEPTED);
        Ok(())
    }

    fn store_unavailable(&self) -> CallbackResponse {
        self.counters.bump(STORE_UNAVAILABLE);
        telemetry::callback_received(CallbackResult::Unavailable);
        CallbackResponse::error(503, "store unavailable")
    }

    fn refuse(&self, error: &CallbackError) -> CallbackResponse {
        self.counters.bump(REFUSED);
        telemetry::callback_received(match error {
            CallbackError::MissingSignature | CallbackError::BadSignature(_) => {
                CallbackResult::Forged
            }
            _ => CallbackResult::Malformed,
        });
        CallbackResponse::error(error.http_status(), &error.to_string())
    }
}
