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

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use imts_core::transport::{Clock, SystemClock};

use crate::error::CallbackError;
use crate::notification::Notification;
use crate::ordering::StatusBook;
use crate::seen::{Claim, MemorySeenStore, SeenStore};
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
}

#[derive(Debug, Default)]
struct Counters([AtomicU64; 7]);

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

/// Processes notifications for one partner.
#[derive(Debug)]
pub struct Processor<H, S = MemorySeenStore, C = SystemClock> {
    verifier: Verifier,
    seen: S,
    book: StatusBook,
    handler: H,
    clock: C,
    counters: Counters,
}

impl<H: Handler> Processor<H> {
    /// A processor with the in-memory seen store and the system clock.
    pub fn new(verifier: Verifier, handler: H) -> Self {
        Self::with_parts(verifier, handler, MemorySeenStore::default(), SystemClock)
    }
}

impl<H: Handler, S: SeenStore, C: Clock + Send + Sync> Processor<H, S, C> {
    /// A processor with its store and clock chosen.
    pub fn with_parts(verifier: Verifier, handler: H, seen: S, clock: C) -> Self {
        Self {
            verifier,
            seen,
            book: StatusBook::default(),
            handler,
            clock,
            counters: Counters::default(),
        }
    }

    /// What it did so far.
    pub fn stats(&self) -> ProcessorStats {
        self.counters.snapshot()
    }

    /// The last known status of a transfer, from the notifications processed.
    pub fn known_status(&self, transfer_id: &str) -> Option<imts_core::enums::TransferStatus> {
        self.book.get(transfer_id)
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
        let id = notification.notification_id().to_owned();
        match self.seen.claim(&id, self.clock.now()) {
            Ok(Claim::First) => {}
            Ok(Claim::Duplicate) => {
                self.counters.bump(DUPLICATES);
                return CallbackResponse::ack();
            }
            Ok(Claim::InFlight) => {
                self.counters.bump(IN_FLIGHT);
                return CallbackResponse::error(503, "this notification is being processed");
            }
            Err(_) => {
                self.counters.bump(STORE_UNAVAILABLE);
                return CallbackResponse::error(503, "seen store unavailable");
            }
        }
        let status_change = match &notification {
            Notification::StatusUpdate(update) => {
                Some((update.transfer_id.to_string(), update.status.clone()))
            }
            _ => None,
        };
        let applied = status_change
            .as_ref()
            .is_none_or(|(transfer, status)| self.book.would_apply(transfer, status));
        match self
            .handler
            .handle(Delivery {
                notification,
                applied,
            })
            .await
        {
            Ok(()) => {
                if let Some((transfer, status)) = &status_change {
                    if !self.book.apply(transfer, status) {
                        self.counters.bump(STALE);
                    }
                }
                self.counters.bump(ACCEPTED);
                if self.seen.complete(&id, self.clock.now()).is_err() {
                    // Handled but not marked: a retry may be handled again; say so by status.
                    self.counters.bump(STORE_UNAVAILABLE);
                }
                CallbackResponse::ack()
            }
            Err(error) => {
                self.counters.bump(HANDLER_FAILURES);
                let _ = self.seen.release(&id);
                CallbackResponse::error(500, &error.to_string())
            }
        }
    }

    fn refuse(&self, error: &CallbackError) -> CallbackResponse {
        self.counters.bump(REFUSED);
        CallbackResponse::error(error.http_status(), &error.to_string())
    }
}
