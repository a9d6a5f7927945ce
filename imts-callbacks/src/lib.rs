//! Receive IMTS callback notifications safely: verify the signature over the raw body first
//! (constant time, several secrets during a rotation), de-duplicate by `notification_id` for the
//! provider's whole retry window, merge status updates through the transfer life cycle so a late
//! or repeated one never moves a transfer backwards, hand the first-seen notification to your
//! handler, and acknowledge with exactly what IMTS expects (`200 {"status":"ok"}`). A handler
//! error answers 500 and releases the id, so IMTS's retry is processed.
//!
//! ```
//! use imts_callbacks::{Delivery, HandlerError, Processor, Verifier};
//! use imts_crypto::AgentSecret;
//!
//! # async fn run(body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! let processor = Processor::new(
//!     Verifier::new(AgentSecret::new("agent-secret")?),
//!     |delivery: Delivery| async move {
//!         if delivery.applied {
//!             println!("{} {}", delivery.notification.kind(), delivery.notification.notification_id());
//!         }
//!         Ok::<(), HandlerError>(())
//!     },
//! );
//! // In any web framework: method and raw body in, status and body out.
//! let answer = processor.process(&http::Method::POST, body).await;
//! assert!(answer.status == 200 || answer.status >= 400);
//! # Ok(())
//! # }
//! ```
//!
//! With axum, hand the raw body bytes to [`Processor::process`]:
//!
//! ```ignore
//! async fn imts_callback(State(p): State<Arc<Processor<MyHandler>>>, method: Method, body: Bytes) -> impl IntoResponse {
//!     let answer = p.process(&method, &body).await;
//!     (StatusCode::from_u16(answer.status).unwrap(), answer.body)
//! }
//! ```

mod error;
mod inbox;
mod notification;
mod ordering;
mod processor;
mod seen;
#[cfg(feature = "hyper")]
mod service;
mod verify;

pub use error::{CallbackError, SignatureMismatch};
/// The wall clock the processor reads by default (the SDK's one `SystemClock`).
pub use imts_core::transport::SystemClock;
pub use inbox::{InboxWorker, Ran, RUN_LEASE};
pub use notification::Notification;
pub use ordering::{MemoryStatusStore, StatusStore};
pub use processor::{
    CallbackResponse, Delivery, Handler, HandlerError, Processor, ProcessorStats, ACK_BODY,
};
pub use seen::{
    Claim, MemorySeenStore, SeenStore, StoreError, PROVIDER_RETRY_WINDOW, RETENTION_MARGIN,
};
#[cfg(feature = "hyper")]
pub use service::{CallbackService, BODY_DEADLINE, HEADER_DEADLINE, MAX_BODY};
pub use verify::Verifier;
