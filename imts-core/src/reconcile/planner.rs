//! Which transfers to poll now: the schedule applied to the journal's tracked records, capped by
//! a token bucket so reconciling never crowds out live traffic. Sans-IO: the caller gives the
//! records and the time.

use std::time::Duration;

use crate::journal::{Record, RecordKey};
use crate::values::Timestamp;

use super::schedule::{Due, Schedule};

/// Which transfers a pass takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Those the schedule has due.
    Scheduled,
    /// Every tracked transfer not polled since `since`, whatever the schedule (`imts
    /// reconcile --once`: passes with the same `since` poll each transfer once, the cap
    /// spreading them over several passes).
    Every {
        /// The start of the sweep.
        since: Timestamp,
    },
}

/// What to do now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Poll these, in this order (the longest overdue first).
    pub polls: Vec<RecordKey>,
    /// Report these stuck (past the horizon, not final).
    pub stuck: Vec<RecordKey>,
    /// Due now but held back by the cap.
    pub deferred: usize,
    /// When something is next due (`None`: nothing is tracked).
    pub next: Option<Timestamp>,
}

/// The planner: the schedule, the jitter seed and the cap's bucket (in thousandths of a poll,
/// holding at most one second's worth).
#[derive(Debug, Clone)]
pub struct Planner {
    schedule: Schedule,
    seed: u64,
    milli_tokens: u64,
    filled_at: Option<Timestamp>,
}

impl Planner {
    /// A planner for `schedule`; `seed` draws the jitter (give every instance of a fleet the
    /// same one and they agree on when each transfer is due).
    #[must_use]
    pub fn new(schedule: Schedule, seed: u64) -> Self {
        Self {
            milli_tokens: capacity(&schedule),
            schedule,
            seed,
            filled_at: None,
        }
    }

    /// The schedule.
    #[must_use]
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The tracked records among `records` that `mode` takes at `now`, as many as the cap
    /// allows; stuck ones separately.
    pub fn plan(&mut self, records: &[Record], now: Timestamp, mode: Mode) -> Plan {
        let mut due: Vec<(Timestamp, &RecordKey)> = Vec::new();
        let mut plan = Plan::default();
        for record in records.iter().filter(|r| r.is_tracked()) {
            match self.schedule.due(record, self.seed) {
                Due::Stuck(at) if at <= now => plan.stuck.push(record.key.clone()),
                Due::At(at) if wanted(mode, record, at, now) => due.push((at, &record.key)),
                Due::At(at) | Due::Stuck(at) => {
                    plan.next = Some(plan.next.map_or(at, |next| next.min(at)));
                }
            }
        }
        due.sort();
        let allowed = self.take(now, due.len());
        plan.deferred = due.len() - allowed;
        plan.polls = due
            .into_iter()
            .take(allowed)
            .map(|(_, key)| key.clone())
            .collect();
        if plan.deferred > 0 {
            // Tokens come back at the cap's rate.
            let wait =
                Duration::from_millis(1000 / u64::from(self.schedule.max_polls_per_second()));
            let at = Timestamp::new(now.as_offset_date_time() + wait);
            plan.next = Some(plan.next.map_or(at, |next| next.min(at)));
        }
        plan
    }

    /// Takes up to `wanted` polls from the bucket at `now`; answers how many it may make.
    pub fn take(&mut self, now: Timestamp, wanted: usize) -> usize {
        let rate = u64::from(self.schedule.max_polls_per_second());
        if let Some(filled_at) = self.filled_at {
            let elapsed = now.as_offset_date_time() - filled_at.as_offset_date_time();
            let millis = u64::try_from(elapsed.whole_milliseconds()).unwrap_or(0);
            // `rate` polls a second are `rate` thousandths of a poll a millisecond.
            self.milli_tokens = self
                .milli_tokens
                .saturating_add(millis.saturating_mul(rate))
                .min(capacity(&self.schedule));
        }
        self.filled_at = Some(self.filled_at.map_or(now, |at| at.max(now)));
        let whole = usize::try_from(self.milli_tokens / 1000).unwrap_or(usize::MAX);
        let allowed = whole.min(wanted);
        self.milli_tokens -= (allowed as u64) * 1000;
        allowed
    }
}

/// One second's worth of polls, in thousandths.
fn capacity(schedule: &Schedule) -> u64 {
    u64::from(schedule.max_polls_per_second()) * 1000
}

/// Whether `mode` takes `record`, due at `at`, at `now`.
fn wanted(mode: Mode, record: &Record, at: Timestamp, now: Timestamp) -> bool {
    match mode {
        Mode::Scheduled => at <= now,
        Mode::Every { since } => record
            .tracking
            .polled_at
            .is_none_or(|polled| polled < since),
    }
}
