//! Retry policy: capped, fully jittered exponential backoff honouring `Retry-After`, within an
//! attempt budget and a time budget. Randomness comes from a seeded generator, never a clock.

use std::time::Duration;

use rand::{Rng as _, SeedableRng as _};

use crate::endpoint::Retry;
use rand_chacha::ChaCha8Rng;

/// When and how often a call is repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Most HTTP requests one call may send (lookups included; token exchanges excluded).
    pub max_attempts: u32,
    /// The first backoff ceiling; each retry doubles it.
    pub base_delay: Duration,
    /// No single wait is longer than this, `Retry-After` included.
    pub max_delay: Duration,
    /// A call gives up when this much time has passed since it started.
    pub total_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            total_budget: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0 for the first retry): `Retry-After` when the server
    /// sent one, else a uniform draw in `[0, min(max_delay, base_delay * 2^retry)]`; never more
    /// than `max_delay`.
    #[must_use]
    pub fn backoff(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        rng: &mut JitterRng,
    ) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max_delay);
        }
        let ceiling = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.below(nanos.saturating_add(1)))
    }
}

/// The seeded generator behind every jitter draw: ChaCha8 from the `rand` family, so the same seed
/// gives the same waits on every platform (and in a test that prints its seed). Not for secrets.
#[derive(Debug, Clone)]
pub struct JitterRng(ChaCha8Rng);

impl JitterRng {
    /// A generator from a seed: the core reads no clock and no OS entropy; its caller picks it.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.random()
    }

    /// A number drawn uniformly from `[0, bound)` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        self.0.random_range(0..bound)
    }
}

/// What happened to one attempt that did not produce a usable answer, as far as repeating it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The transport failed before any answer; `maybe_sent` when the request may have reached
    /// the server (anything but a refused connection).
    TransportFailed {
        /// Whether the request may have left.
        maybe_sent: bool,
    },
    /// HTTP 429 or 503: the server says it did not process the request.
    NotProcessed,
    /// Another 5xx: the request may have been applied.
    ServerError,
}

/// What the call does next after an [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Back off, then send the same signed request again.
    Retry,
    /// Back off, then look the transfer up: the write may have been applied.
    LookUp,
    /// Stop and hand the answer to the caller (it becomes the call's error).
    Return,
    /// Stop: the write may have been applied and cannot be looked up (`OutcomeUnknown`).
    GiveUp,
}

/// The one decision of what follows a failed attempt of a call of class `class`, by outcome.
/// The driver calls nothing else; the table is tested whole below.
#[must_use]
pub fn classify(class: Retry, outcome: Outcome) -> Action {
    use Outcome::{NotProcessed, ServerError, TransportFailed};
    match (class, outcome) {
        // Nothing left the machine, or the server refused it unprocessed: the same request
        // again is always safe.
        (_, TransportFailed { maybe_sent: false }) => Action::Retry,
        (Retry::Read | Retry::Token, _) => Action::Retry,
        (Retry::Create | Retry::Never, NotProcessed) => Action::Retry,
        // It may have been applied: a write with a key is looked up before anything is resent.
        (Retry::Create | Retry::Transition(_), _) => Action::LookUp,
        // No key and no way to look it up.
        (Retry::Never, ServerError) => Action::Return,
        (Retry::Never, TransportFailed { maybe_sent: true }) => Action::GiveUp,
    }
}

/// Reads a `Retry-After` header given in seconds (the HTTP-date form is not honoured).
#[must_use]
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_generator_draws_varied_bits_and_repeats_them_for_a_seed() {
        let draws: Vec<u64> = {
            let mut rng = JitterRng::new(42);
            (0..4).map(|_| rng.next_u64()).collect()
        };
        let mut again = JitterRng::new(42);
        assert_eq!(draws, (0..4).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert!(draws.windows(2).all(|pair| pair[0] != pair[1]), "{draws:?}");
        assert!(draws.iter().all(|&draw| draw > 1), "{draws:?}");
    }

    proptest! {
        #[test]
        fn backoff_stays_within_the_ceiling(seed in any::<u64>(), retry in 0u32..40) {
            let policy = RetryPolicy::default();
            let mut rng = JitterRng::new(seed);
            let ceiling = policy.base_delay.saturating_mul(1u32 << retry.min(31)).min(policy.max_delay);
            let d = policy.backoff(retry, None, &mut rng);
            prop_assert!(d <= ceiling, "seed {seed}: {d:?} > {ceiling:?}");
        }
    }

    #[test]
    fn every_class_and_outcome_has_its_action() {
        use crate::lifecycle::TransferOperation as Op;
        use Action::{GiveUp, LookUp, Retry as Again, Return};
        let sent = Outcome::TransportFailed { maybe_sent: true };
        let unsent = Outcome::TransportFailed { maybe_sent: false };
        let (busy, failed) = (Outcome::NotProcessed, Outcome::ServerError);
        // (class, [unsent, sent, 429/503, other 5xx])
        let table = [
            (Retry::Token, [Again, Again, Again, Again]),
            (Retry::Read, [Again, Again, Again, Again]),
            (Retry::Create, [Again, LookUp, Again, LookUp]),
            (
                Retry::Transition(Op::Confirm),
                [Again, LookUp, LookUp, LookUp],
            ),
            (
                Retry::Transition(Op::Cancel),
                [Again, LookUp, LookUp, LookUp],
            ),
            (Retry::Never, [Again, GiveUp, Again, Return]),
        ];
        for (class, actions) in table {
            for (outcome, action) in [unsent, sent, busy, failed].into_iter().zip(actions) {
                assert_eq!(
                    classify(class, outcome),
                    action,
                    "{class:?} after {outcome:?}"
                );
            }
        }
    }

    #[test]
    fn jitter_is_spread_over_the_whole_range() {
        // Fails for a constant generator, a constant wait, or a draw stuck in part of the range.
        let policy = RetryPolicy::default();
        let seed = 0x1d5_2026;
        let mut rng = JitterRng::new(seed);
        let ceiling = policy.base_delay.saturating_mul(8); // retry 3
        let waits: Vec<Duration> = (0..400)
            .map(|_| policy.backoff(3, None, &mut rng))
            .collect();
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(
            distinct.len() > 390,
            "seed {seed}: {} distinct waits",
            distinct.len()
        );
        let low = waits.iter().filter(|w| **w < ceiling / 4).count();
        let high = waits.iter().filter(|w| **w > ceiling * 3 / 4).count();
        assert!(
            (60..140).contains(&low),
            "seed {seed}: {low} waits in the lowest quarter"
        );
        assert!(
            (60..140).contains(&high),
            "seed {seed}: {high} waits in the highest quarter"
        );
        // The same seed gives the same waits; another seed gives others.
        let again: Vec<Duration> = {
            let mut rng = JitterRng::new(seed);
            (0..400)
                .map(|_| policy.backoff(3, None, &mut rng))
                .collect()
        };
        assert_eq!(waits, again);
        let mut other = JitterRng::new(seed + 1);
        assert_ne!(
            waits[..8],
            (0..8)
                .map(|_| policy.backoff(3, None, &mut other))
                .collect::<Vec<_>>()[..]
        );
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let policy = RetryPolicy::default();
        let mut rng = JitterRng::new(1);
        assert_eq!(
            policy.backoff(0, Some(Duration::ZERO), &mut rng),
            Duration::ZERO
        );
        assert_eq!(
            policy.backoff(0, Some(Duration::from_secs(2)), &mut rng),
            Duration::from_secs(2)
        );
        assert_eq!(
            policy.backoff(0, Some(Duration::from_secs(3600)), &mut rng),
            policy.max_delay
        );
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("3"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
    }
}
