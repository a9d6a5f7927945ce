//! The IMTS SDK's durable journal in PostgreSQL, for fleets: several instances share one
//! journal, and each record is claimed (a lease, taken in one atomic `UPDATE`) before an
//! instance resumes it. A write is committed before the call returns, with the record locked
//! (`SELECT ... FOR UPDATE`) while it changes; concurrent writes are group-committed (one
//! transaction for those that queued while the last one committed, rows locked in key order). The schema is versioned and
//! migrated on connect under an advisory lock; a newer schema is refused, untouched.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! let journal = Arc::new(imts_postgres::PostgresJournal::connect("postgres://imts@db.internal/imts").await?);
//! // imts::ClientBuilder::new(credentials).journal(journal).build()?
//! # let _ = journal;
//! # Ok(())
//! # }
//! ```

mod audit;
mod inbox;
mod journal;
mod journal_batch;
mod pipeline;
/// A throwaway PostgreSQL cluster for tests (feature `test-util`).
#[cfg(feature = "test-util")]
pub mod test_server;
mod writer;

pub use inbox::{PostgresInbox, SendBoxFuture, TransactionalHandler};
pub use journal::{PostgresJournal, SCHEMA_VERSION};
