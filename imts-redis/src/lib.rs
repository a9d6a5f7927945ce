//! Shared state in Redis for partners that run several instances on one IMTS credential:
//!
//! * [`RedisTokenStore`]: the current token pair with its generation, replaced only by
//!   compare-and-set, and a refresh lease with expiry (a crashed holder blocks the others for at
//!   most the lease's lifetime). Only one instance refreshes; the others adopt its pair.
//! * [`RedisSeenStore`]: the first delivery of a notification is decided atomically
//!   (`SET NX PX`), so exactly one instance processes it; a handler failure releases the id.
//! * [`RedisStatusStore`]: the last known status of each transfer, merged through the life
//!   cycle by compare-and-set, so every instance agrees on which status update is late.
//!
//! The stores are asynchronous: each command runs on one multiplexed connection as a tokio task
//! bounded by [`COMMAND_TIMEOUT`], so a Redis hiccup never blocks a runtime's worker thread.
//!
//! When Redis cannot be reached the choices differ on purpose: the token store reports an error
//! and the client falls back to its own session (logged as a warning: more token exchanges, no
//! outage), while the seen and status stores fail closed (the receiver answers 503 and IMTS delivers again
//! later: nothing is processed twice and nothing is lost).
//!
//! ```no_run
//! use std::sync::Arc;
//! # fn run(client: imts_core::Config) -> Result<(), Box<dyn std::error::Error>> {
//! let tokens = Arc::new(imts_redis::RedisTokenStore::open("redis://127.0.0.1/", "my-agent-id")?);
//! let seen = Arc::new(imts_redis::RedisSeenStore::open("redis://127.0.0.1/", "my-agent-id")?);
//! let statuses = Arc::new(imts_redis::RedisStatusStore::open("redis://127.0.0.1/", "my-agent-id")?);
//! # let _ = (tokens, seen, statuses, client);
//! # Ok(())
//! # }
//! ```

/// A throwaway `redis-server` for tests (feature `test-util`).
#[cfg(feature = "test-util")]
pub mod test_server;

mod connection;
mod seen;
mod status;
mod tokens;

pub use connection::COMMAND_TIMEOUT;
pub use seen::RedisSeenStore;
pub use status::{RedisStatusStore, STATUS_RETENTION};
pub use tokens::RedisTokenStore;
