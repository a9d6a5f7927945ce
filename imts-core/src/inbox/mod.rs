//! The callback inbox's model: store first, answer at once, process from the store. IMTS keeps
//! no event log a partner could replay from, so the partner's own inbox is the only one there
//! is. A row holds the raw signed body as received; its `notification_id` is unique (the
//! de-duplication, kept far longer than IMTS's 45-minute retry window); a handler that fails is
//! retried with backoff ([`RetryPolicy`]) and becomes a dead letter after the last attempt. The
//! states and moves are data ([`TRANSITIONS`]).
//!
//! ```
//! use imts_core::inbox::{InboxRow, InboxState, RetryPolicy};
//! use imts_core::values::Timestamp;
//!
//! let now = Timestamp::new(time::OffsetDateTime::UNIX_EPOCH);
//! let mut row = InboxRow::received("n-1", "status_update", b"{}", now);
//! let policy = RetryPolicy { max_attempts: 2, ..RetryPolicy::default() };
//! row.after_run(Err("handler failed".into()), &policy, now);
//! assert_eq!(row.state, InboxState::Pending); // again after the backoff
//! row.after_run(Err("handler failed".into()), &policy, now);
//! assert_eq!(row.state, InboxState::Dead);
//! // Whatever a policy says, the next run stays a valid date.
//! let endless = RetryPolicy { max_delay: std::time::Duration::MAX, first: std::time::Duration::MAX, ..policy };
//! assert_eq!(endless.delay(9), imts_core::inbox::MAX_DELAY);
//! ```

mod row;
mod store;

pub use row::{InboxEvent, InboxRow, InboxState, RetryPolicy, MAX_DELAY, TRANSITIONS};
pub use store::{Depth, Inbox, InboxError, MemoryInbox, Stored};
