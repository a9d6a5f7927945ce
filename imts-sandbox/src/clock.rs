//! The sandbox's clock: the system time plus an offset tests can move forward, so token expiry
//! and the callback retry schedule are tested without waiting.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

/// System time plus a shared, adjustable offset.
#[derive(Clone, Debug, Default)]
pub struct SandboxClock {
    /// Set in deterministic mode: the time stands here (plus the offset).
    frozen: Option<OffsetDateTime>,
    offset_ms: Arc<AtomicI64>,
    /// Woken on every move forward.
    advanced: Arc<tokio::sync::Notify>,
}

impl SandboxClock {
    /// The sandbox's current time.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.frozen.unwrap_or_else(OffsetDateTime::now_utc)
            + time::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }

    /// A clock that stands at `at` and moves only by [`SandboxClock::advance`].
    #[must_use]
    pub fn frozen_at(at: OffsetDateTime) -> Self {
        Self {
            frozen: Some(at),
            ..Self::default()
        }
    }

    /// Moves the sandbox's time forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
        self.advanced.notify_waiters();
    }

    /// Returns once the sandbox's time reaches `at` by a move forward, or once `real` has
    /// passed on the wall clock, whichever comes first (`real` is the wait scaled by
    /// `--time-scale`).
    pub async fn wait_until(&self, at: OffsetDateTime, real: Duration) {
        let reached = async {
            loop {
                let advanced = self.advanced.notified();
                tokio::pin!(advanced);
                // Registered before the check, so a move between the two is not missed.
                advanced.as_mut().enable();
                if self.now() >= at {
                    return;
                }
                advanced.await;
            }
        };
        tokio::select! {
            () = reached => {}
            () = tokio::time::sleep(real) => {}
        }
    }
}
