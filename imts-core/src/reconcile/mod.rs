//! The reconciler's model: IMTS retries a callback 3 times, 15 minutes apart, then never again,
//! and keeps no event log to replay, so polling is the safety net and callbacks only the fast
//! path. The journal's created transfers that are not final are polled on a per-status
//! [`Schedule`] (full jitter, a global cap), a transfer changed by a callback in time is not
//! polled, and one still not final after the horizon is reported once as stuck
//! ([`ReconcileEvent::Stuck`]). Polls and callbacks merge into the journal through the one
//! monotonic life-cycle merge ([`Observation`](crate::journal::Observation)).
//!
//! ```
//! use imts_core::reconcile::{Planner, Schedule};
//! use std::time::Duration;
//!
//! let schedule = Schedule::default()
//!     .with_horizon(Duration::from_secs(24 * 3600))
//!     .with_max_polls_per_second(2);
//! // One poll per window: the bound on polls while a transfer stays `process`.
//! let bound = schedule.max_polls(Some(&imts_core::enums::TransferStatus::Process));
//! assert!(bound > 0 && bound < 60);
//! let _planner = Planner::new(schedule, 7);
//! ```

mod planner;
mod runner;
mod schedule;

pub use planner::{Mode, Plan, Planner};
pub use runner::{run_once, ReconcileEvent, Report, POLL_LEASE};
pub use schedule::{Cadence, Due, Schedule, Step, MAX_HORIZON};
