//! The last known status of each transfer, merged through the core's life cycle so a repeated or
//! late notification never moves a transfer backwards.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use imts_core::enums::TransferStatus;
use imts_core::lifecycle::{merge, Merge};

/// Known statuses, bounded: past `capacity` transfers the oldest is forgotten.
#[derive(Debug)]
pub struct StatusBook {
    capacity: usize,
    inner: Mutex<(HashMap<String, TransferStatus>, VecDeque<String>)>,
}

impl Default for StatusBook {
    fn default() -> Self {
        Self::new(1_000_000)
    }
}

impl StatusBook {
    /// A book holding at most `capacity` transfers.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// Whether `observed` would move `transfer_id` forward.
    #[must_use]
    pub fn would_apply(&self, transfer_id: &str, observed: &TransferStatus) -> bool {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        matches!(merge(inner.0.get(transfer_id), observed), Merge::Applied(_))
    }

    /// Merges `observed`; returns whether it moved the transfer forward.
    pub fn apply(&self, transfer_id: &str, observed: &TransferStatus) -> bool {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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

    /// The known status of a transfer.
    #[must_use]
    pub fn get(&self, transfer_id: &str) -> Option<TransferStatus> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.0.get(transfer_id).cloned()
    }
}
