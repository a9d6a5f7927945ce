//! The IMTS SDK's durable journal in one SQLite file: the embedded default, no server.
//!
//! SQLite is bundled into the build. The file is in WAL mode with `synchronous=FULL`, so every
//! intent is fsynced before its call sends anything (exactly once survives a process kill and a
//! power loss); outcomes are committed without waiting for the fsync (a power loss may leave a
//! record sent, which resume looks up). The schema is versioned (`PRAGMA user_version`) and migrated on open; a
//! file that is locked, corrupt or of a newer version is refused with a clear error and left as
//! it was.
//!
//! ```
//! use imts_core::journal::{Intent, Journal, MoneyOp, RecordKey, State};
//! use imts_core::values::Timestamp;
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("imts-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let journal = imts_sqlite::SqliteJournal::open(dir.join("journal.db"))?;
//! let intent = Intent {
//!     key: RecordKey("ORD-1".into()),
//!     op: MoneyOp::CreateTransfer,
//!     order_id: Some("ORD-1".into()),
//!     transfer_id: None,
//!     body: br#"{"order_id":"ORD-1"}"#.to_vec(),
//!     agent: Some("agent-1".into()),
//! };
//! let now = Timestamp::new(time::OffsetDateTime::now_utc());
//! // No runtime here: the call runs on this thread.
//! let record = pollster::block_on(journal.record(&intent, now))?;
//! assert_eq!(record.state, State::Intent);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! # run().unwrap();
//! ```

mod audit;
mod inbox;
mod journal;
mod schema;
mod writer;

pub use inbox::SqliteInbox;
pub use journal::{SqliteJournal, BUSY_TIMEOUT};
pub use schema::SCHEMA_VERSION;
