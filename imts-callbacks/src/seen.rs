//! De-duplication by `notification_id`: a [`SeenStore`] decides which delivery is the first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use imts_core::token_store::BoxFuture;
use time::OffsetDateTime;

/// IMTS retries 3 times, 15 minutes apart: ids are kept at least this long (45 minutes) plus
/// [`RETENTION_MARGIN`].
pub const PROVIDER_RETRY_WINDOW: Duration = Duration::from_secs(45 * 60);
/// Slack on top of the retry window, for clock skew and slow deliveries.
pub const RETENTION_MARGIN: Duration = Duration::from_secs(15 * 60);

/// The verdict on a delivery's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Never seen: process it (then `complete` or `release`).
    First,
    /// Processed already: acknowledge without processing again.
    Duplicate,
    /// Another delivery of the same id is being processed right now: answer non-200 so IMTS
    /// delivers again later.
    InFlight,
}

/// A store that cannot be reached (a shared store's outage). The processor fails closed: it
/// answers non-200 so IMTS retries later, and nothing is lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seen store unavailable: {0}")]
pub struct StoreError(pub String);

/// Where seen ids live. The in-memory default serves one process; a shared implementation
/// (Redis) serves a fleet. Every call is a future, so a store over the network never blocks the
/// receiver's runtime; an implementation bounds each call (an unanswered call is an outage: the
/// receiver answers 503 and IMTS delivers again).
pub trait SeenStore: Send + Sync {
    /// Atomically claims `id` for processing.
    fn claim<'a>(
        &'a self,
        id: &'a str,
        now: OffsetDateTime,
    ) -> BoxFuture<'a, Result<Claim, StoreError>>;
    /// Marks `id` processed: later deliveries are duplicates.
    fn complete<'a>(
        &'a self,
        id: &'a str,
        now: OffsetDateTime,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Forgets a claim whose processing failed, so the retry is processed.
    fn release<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    InFlight,
    Done,
}

#[derive(Debug, Default)]
struct Entries {
    marks: HashMap<String, (Mark, OffsetDateTime)>,
    order: VecDeque<(String, OffsetDateTime)>,
}

/// The in-memory [`SeenStore`]: ids are kept for `retention` (default: the provider's retry
/// window plus margin) and at most `capacity` of them; past that the oldest are forgotten first,
/// so memory stays bounded under a flood of ids.
#[derive(Debug)]
pub struct MemorySeenStore {
    retention: Duration,
    capacity: usize,
    entries: Mutex<Entries>,
}

impl Default for MemorySeenStore {
    fn default() -> Self {
        Self::new(PROVIDER_RETRY_WINDOW + RETENTION_MARGIN, 1_000_000)
    }
}

impl MemorySeenStore {
    /// A store keeping ids for `retention`, at most `capacity` of them.
    #[must_use]
    pub fn new(retention: Duration, capacity: usize) -> Self {
        Self {
            retention,
            capacity: capacity.max(1),
            entries: Mutex::new(Entries::default()),
        }
    }

    /// How many ids are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().marks.len()
    }

    /// Whether no id is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn prune(&self, entries: &mut Entries, now: OffsetDateTime) {
        while let Some(&(_, at)) = entries.order.front() {
            let expired = now - at >= self.retention;
            let over = entries.marks.len() > self.capacity;
            if !expired && !over {
                break;
            }
            let Some((id, at)) = entries.order.pop_front() else {
                break;
            };
            // Only the newest record of an id decides; older queue entries are skipped.
            if entries.marks.get(&id).is_some_and(|(_, t)| *t == at) {
                entries.marks.remove(&id);
            }
        }
    }
}

impl MemorySeenStore {
    /// [`SeenStore::claim`], at once.
    pub fn claim_now(&self, id: &str, now: OffsetDateTime) -> Claim {
        let mut entries = self.lock();
        self.prune(&mut entries, now);
        match entries.marks.get(id) {
            Some((Mark::Done, _)) => Claim::Duplicate,
            Some((Mark::InFlight, _)) => Claim::InFlight,
            None => {
                entries.marks.insert(id.to_owned(), (Mark::InFlight, now));
                entries.order.push_back((id.to_owned(), now));
                self.prune(&mut entries, now);
                Claim::First
            }
        }
    }

    /// [`SeenStore::complete`], at once.
    pub fn complete_now(&self, id: &str, now: OffsetDateTime) {
        let mut entries = self.lock();
        entries.marks.insert(id.to_owned(), (Mark::Done, now));
        entries.order.push_back((id.to_owned(), now));
        self.prune(&mut entries, now);
    }

    /// [`SeenStore::release`], at once.
    pub fn release_now(&self, id: &str) {
        self.lock().marks.remove(id);
    }
}

impl SeenStore for MemorySeenStore {
    fn claim<'a>(
        &'a self,
        id: &'a str,
        now: OffsetDateTime,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(std::future::ready(Ok(self.claim_now(id, now))))
    }

    fn complete<'a>(
        &'a self,
        id: &'a str,
        now: OffsetDateTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.complete_now(id, now);
        Box::pin(std::future::ready(Ok(())))
    }

    fn release<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.release_now(id);
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minutes)
    }

    #[test]
    fn capacity_is_exact_and_the_oldest_id_goes_first() {
        let store = MemorySeenStore::new(Duration::from_secs(3600), 3);
        assert!(store.is_empty());
        for id in ["a", "b", "c"] {
            assert_eq!(store.claim_now(id, t(0)), Claim::First);
        }
        assert_eq!(store.len(), 3);
        assert!(!store.is_empty());
        assert_eq!(
            store.claim_now("a", t(1)),
            Claim::InFlight,
            "all three are kept"
        );
        assert_eq!(store.claim_now("d", t(1)), Claim::First);
        assert_eq!(store.len(), 3);
        assert_eq!(store.claim_now("b", t(1)), Claim::InFlight);
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn first_duplicate_in_flight_release() {
        let store = MemorySeenStore::default();
        assert_eq!(store.claim_now("a", t(0)), Claim::First);
        assert_eq!(store.claim_now("a", t(1)), Claim::InFlight);
        store.release_now("a");
        assert_eq!(store.claim_now("a", t(15)), Claim::First);
        store.complete_now("a", t(15));
        assert_eq!(store.claim_now("a", t(30)), Claim::Duplicate);
        // Kept through the whole retry window (45 min after the last delivery) plus margin.
        assert_eq!(store.claim_now("a", t(15 + 59)), Claim::Duplicate);
        assert_eq!(store.claim_now("a", t(15 + 61)), Claim::First);
    }

    #[test]
    fn a_flood_of_ids_stays_bounded() {
        let store = MemorySeenStore::new(Duration::from_secs(3600), 1000);
        for i in 0..50_000 {
            let id = format!("n-{i}");
            assert_eq!(store.claim_now(&id, t(0)), Claim::First);
            store.complete_now(&id, t(0));
        }
        assert!(store.len() <= 1000, "{}", store.len());
        assert_eq!(
            store.claim_now("n-49999", t(0)),
            Claim::Duplicate,
            "the newest ids are kept"
        );
    }
}
