//! The last known status of each transfer, merged through the core's life cycle so a repeated or
//! late notification never moves a transfer backwards. A [`StatusStore`] holds it: in memory for
//! one process, shared (Redis) for a fleet, so that every instance judges "is this update late?"
//! against the same state.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use imts_core::enums::TransferStatus;
use imts_core::lifecycle::{merge, Merge};
use imts_core::token_store::BoxFuture;

use crate::seen::StoreError;

/// Where the last known status of each transfer lives. Every call is a future, bounded by the
/// implementation; a store that cannot answer makes the receiver answer 503 (IMTS delivers
/// again later), so nothing is judged against missing state.
pub trait StatusStore: Send + Sync {
    /// The last known status of `transfer_id`.
    fn known<'a>(
        &'a self,
        transfer_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TransferStatus>, StoreError>>;

    /// Merges `observed` through the life cycle ([`merge`]), atomically for the transfer across
    /// everyone sharing the store; answers whether it moved the transfer forward.
    fn apply<'a>(
        &'a self,
        transfer_id: &'a str,
        observed: &'a TransferStatus,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
}

/// Known statuses in memory, bounded: past `capacity` transfers the oldest is forgotten.
#[derive(Debug)]
pub struct MemoryStatusStore {
    capacity: usize,
    inner: Mutex<(HashMap<String, TransferStatus>, VecDeque<String>)>,
}

impl Default for MemoryStatusStore {
    fn default() -> Self {
        Self::new(1_000_000)
    }
}

impl MemoryStatusStore {
    /// A store holding at most `capacity` transfers.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, (HashMap<String, TransferStatus>, VecDeque<String>)> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// [`StatusStore::apply`], at once.
    pub fn apply_now(&self, transfer_id: &str, observed: &TransferStatus) -> bool {
        let mut inner = self.lock();
        let (map, order) = &mut *inner;
        match merge(map.get(transfer_id), observed) {
            Merge::Applied(status) => {
                if map.insert(transfer_id.to_owned(), status).is_none() {
                    order.push_back(transfer_id.to_owned());
                    while map.len() > self.capacity {
                        if let Some(oldest) = order.pop_front() {
                            map.remove(&oldest);
                        }
                    }
                }
                true
            }
            Merge::Stale => false,
        }
    }

    /// [`StatusStore::known`], at once.
    #[must_use]
    pub fn known_now(&self, transfer_id: &str) -> Option<TransferStatus> {
        self.lock().0.get(transfer_id).cloned()
    }
}

impl StatusStore for MemoryStatusStore {
    fn known<'a>(
        &'a self,
        transfer_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TransferStatus>, StoreError>> {
        Box::pin(std::future::ready(Ok(self.known_now(transfer_id))))
    }

    fn apply<'a>(
        &'a self,
        transfer_id: &'a str,
        observed: &'a TransferStatus,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(std::future::ready(
            Ok(self.apply_now(transfer_id, observed)),
        ))
    }
}
