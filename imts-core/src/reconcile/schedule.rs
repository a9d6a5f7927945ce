//! When to poll a transfer: a cadence per status, as data, measured from the status's last
//! change, up to a horizon. Each cadence cuts the time after a change into windows; a transfer
//! is polled once per window, at a point drawn with full jitter inside it (stable for a given
//! seed, record and window, so every instance and every restart agrees), which bounds its polls.

use std::time::Duration;

use crate::enums::TransferStatus;
use crate::journal::Record;
use crate::retry::JitterRng;
use crate::values::Timestamp;

/// One stretch of a cadence: poll every `every` until `until` after the status changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Up to this long after the change.
    pub until: Duration,
    /// One poll per this long.
    pub every: Duration,
}

/// How one status is polled: the first window opens `first` after the change; then the steps,
/// in order; the last step's interval runs on to the horizon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cadence {
    /// When the first window opens.
    pub first: Duration,
    /// The stretches after it.
    pub steps: Vec<Step>,
}

const MINUTE: Duration = Duration::from_secs(60);

/// The longest horizon a schedule takes: 90 days (a transfer not final by then is stuck by any
/// measure, and the bound keeps every window computable).
pub const MAX_HORIZON: Duration = Duration::from_secs(90 * 24 * 3600);

impl Cadence {
    /// The default \[I\]: IMTS's first callback should have come within a few minutes, so the
    /// first poll is 3 minutes after the change, then every 5 minutes for half an hour (IMTS
    /// retries a callback every 15 minutes for 45), then every 30 minutes.
    #[must_use]
    pub fn standard() -> Self {
        Self {
            first: 3 * MINUTE,
            steps: vec![
                Step {
                    until: 30 * MINUTE,
                    every: 5 * MINUTE,
                },
                Step {
                    until: Duration::MAX,
                    every: 30 * MINUTE,
                },
            ],
        }
    }

    /// A `new` transfer waits for the partner's own Confirm, which tells the journal itself; a
    /// poll only catches an expiry or a desk's action \[I\]: every 15 minutes for an hour, then
    /// hourly.
    #[must_use]
    pub fn unconfirmed() -> Self {
        Self {
            first: 15 * MINUTE,
            steps: vec![
                Step {
                    until: 60 * MINUTE,
                    every: 15 * MINUTE,
                },
                Step {
                    until: Duration::MAX,
                    every: 60 * MINUTE,
                },
            ],
        }
    }

    fn every_at(&self, offset: Duration) -> Duration {
        let step = self
            .steps
            .iter()
            .find(|step| offset < step.until)
            .or(self.steps.last());
        // A zero interval would never advance; a second is the least a window lasts.
        step.map_or(30 * MINUTE, |step| step.every)
            .max(Duration::from_secs(1))
    }
}

/// When a transfer is next to be polled, or that it is past its horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Poll at this time (or later).
    At(Timestamp),
    /// Not final at this time, the horizon: report it stuck.
    Stuck(Timestamp),
}

/// The whole polling policy: cadences per status, the horizon and the global cap.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    cadences: Vec<(TransferStatus, Cadence)>,
    default: Cadence,
    horizon: Duration,
    max_polls_per_second: u32,
}

impl Default for Schedule {
    /// [`Cadence::unconfirmed`] for `new`, [`Cadence::standard`] otherwise, a 72-hour horizon
    /// \[I\] and at most 5 polls a second.
    fn default() -> Self {
        Self {
            cadences: vec![(TransferStatus::New, Cadence::unconfirmed())],
            default: Cadence::standard(),
            horizon: 72 * 60 * MINUTE,
            max_polls_per_second: 5,
        }
    }
}

impl Schedule {
    /// Sets how long after its last change a transfer is polled before it is reported stuck
    /// (at most [`MAX_HORIZON`]: a longer one is cut to it).
    #[must_use]
    pub fn with_horizon(mut self, horizon: Duration) -> Self {
        self.horizon = horizon.min(MAX_HORIZON);
        self
    }

    /// Sets the cadence of `status` (replacing any).
    #[must_use]
    pub fn with_cadence(mut self, status: TransferStatus, cadence: Cadence) -> Self {
        self.cadences.retain(|(s, _)| *s != status);
        self.cadences.push((status, cadence));
        self
    }

    /// Sets the cadence of every status without one of its own.
    #[must_use]
    pub fn with_default_cadence(mut self, cadence: Cadence) -> Self {
        self.default = cadence;
        self
    }

    /// Caps polls across all transfers, so reconciling never crowds out live traffic (at least
    /// one a second, whatever is asked).
    #[must_use]
    pub fn with_max_polls_per_second(mut self, polls: u32) -> Self {
        self.max_polls_per_second = polls.max(1);
        self
    }

    /// The horizon.
    #[must_use]
    pub fn horizon(&self) -> Duration {
        self.horizon
    }

    /// The cap on polls per second.
    #[must_use]
    pub fn max_polls_per_second(&self) -> u32 {
        self.max_polls_per_second
    }

    /// The cadence of `status` (`None`: not known yet).
    #[must_use]
    pub fn cadence(&self, status: Option<&TransferStatus>) -> &Cadence {
        status
            .and_then(|status| self.cadences.iter().find(|(s, _)| s == status))
            .map_or(&self.default, |(_, cadence)| cadence)
    }

    /// The polling windows after a change to `status`, as (start, length) from the change.
    pub fn windows(
        &self,
        status: Option<&TransferStatus>,
    ) -> impl Iterator<Item = (Duration, Duration)> + '_ {
        let cadence = self.cadence(status);
        let horizon = self.horizon;
        let mut start = cadence.first;
        std::iter::from_fn(move || {
            if start >= horizon {
                return None;
            }
            let length = cadence.every_at(start).min(horizon - start);
            let window = (start, length);
            start += length;
            Some(window)
        })
    }

    /// The most polls a transfer gets while it stays in `status`: one per window.
    #[must_use]
    pub fn max_polls(&self, status: Option<&TransferStatus>) -> usize {
        self.windows(status).count()
    }

    /// When `record` is next due, with jitter drawn from `seed`: the first window that opens
    /// after its last poll (since its last change), or [`Due::Stuck`] past the last window.
    #[must_use]
    pub fn due(&self, record: &Record, seed: u64) -> Due {
        let changed = record.tracking.status_at.unwrap_or(record.updated_at);
        let base = changed.as_offset_date_time();
        let polled = record
            .tracking
            .polled_at
            .filter(|at| *at >= changed)
            .map(|at| at.as_offset_date_time() - base);
        let next = self
            .windows(record.status.as_ref())
            .enumerate()
            .find(|(_, (start, _))| {
                polled.is_none_or(|p| time::Duration::try_from(*start).is_ok_and(|s| s > p))
            });
        match next {
            Some((index, (start, length))) => {
                let jitter = jitter(seed, &record.key.0, index, length);
                Due::At(Timestamp::new(base + (start + jitter)))
            }
            None => Due::Stuck(Timestamp::new(base + self.horizon)),
        }
    }
}

/// A point in `[0, length)`, the same for the same seed, key and window.
fn jitter(seed: u64, key: &str, window: usize, length: Duration) -> Duration {
    // FNV-1a: stable across builds and instances, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = JitterRng::new(seed ^ hash ^ (window as u64).rotate_left(32));
    let millis = u64::try_from(length.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(rng.below(millis))
}
