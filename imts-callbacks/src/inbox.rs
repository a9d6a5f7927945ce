//! Processing from the inbox: [`InboxWorker`] takes the next due row, verifies its stored bytes
//! again, runs the partner's handler (a panic counts as a failure, not a dead process), and
//! records the result: done, pending again after the backoff, or a dead letter after the last
//! attempt. In a fleet sharing one inbox each row is claimed by one worker at a time.

use imts_core::telemetry::{self, InboxRun};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use imts_core::inbox::{Depth, Inbox, InboxError, InboxEvent, InboxRow, InboxState, RetryPolicy};
use imts_core::transport::Clock;
use imts_core::values::Timestamp;

use crate::notification::Notification;
use crate::processor::{Failure, Handler, Processor};

/// How long a worker holds a row it runs (another worker takes it over after that).
pub const RUN_LEASE: Duration = Duration::from_secs(5 * 60);

/// Runs the handler of a [`Processor`] over the rows of an [`Inbox`].
pub struct InboxWorker<H, C> {
    processor: Arc<Processor<H, C>>,
    inbox: Arc<dyn Inbox>,
    policy: RetryPolicy,
    holder: String,
}

impl<H, C> std::fmt::Debug for InboxWorker<H, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxWorker")
            .field("policy", &self.policy)
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

/// One row's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    /// The notification.
    pub notification_id: String,
    /// Its state afterwards.
    pub state: InboxState,
    /// The run's failure, if it failed.
    pub error: Option<String>,
}

impl<H: Handler, C: Clock + Send + Sync> InboxWorker<H, C> {
    /// A worker running `processor`'s handler over `inbox` with the default [`RetryPolicy`],
    /// as `holder` (this instance's name in a shared inbox's claims).
    pub fn new(processor: Arc<Processor<H, C>>, inbox: Arc<dyn Inbox>, holder: &str) -> Self {
        Self {
            processor,
            inbox,
            policy: RetryPolicy::default(),
            holder: holder.to_owned(),
        }
    }

    /// Sets how failures are retried and when a row becomes a dead letter.
    #[must_use]
    pub fn with_policy(self, policy: RetryPolicy) -> Self {
        Self { policy, ..self }
    }

    /// Runs the next row due at `now`, if any.
    ///
    /// # Errors
    /// [`InboxError`] when the inbox cannot be read or written (the row stays pending).
    pub async fn run_next(&self, now: Timestamp) -> Result<Option<Ran>, InboxError> {
        let until = Timestamp::new(now.as_offset_date_time() + RUN_LEASE);
        let Some(row) = self.inbox.claim_next(&self.holder, until, now).await? else {
            return Ok(None);
        };
        self.run(row, now).await.map(Some)
    }

    /// Runs every row due at `now`, one after another; answers each run.
    ///
    /// # Errors
    /// As [`run_next`](Self::run_next).
    pub async fn run_due(&self, now: Timestamp) -> Result<Vec<Ran>, InboxError> {
        let mut runs = Vec::new();
        while let Some(ran) = self.run_next(now).await? {
            runs.push(ran);
        }
        self.measure(now).await?;
        Ok(runs)
    }

    /// Reads the inbox's backlog and sets the `imts_inbox_depth` and
    /// `imts_inbox_oldest_age_seconds` gauges ([`run_due`](Self::run_due) does this after each
    /// pass).
    ///
    /// # Errors
    /// [`InboxError`] when the inbox cannot be read.
    pub async fn measure(&self, now: Timestamp) -> Result<Depth, InboxError> {
        let depth = self.inbox.depth().await?;
        telemetry::inbox_depth(depth.pending, depth.oldest_age(now));
        Ok(depth)
    }

    /// Runs `notification_id` again now, whatever its state (its stored bytes are verified
    /// again first).
    ///
    /// # Errors
    /// [`InboxError::NotFound`], or the inbox's failure.
    pub async fn replay(&self, notification_id: &str, now: Timestamp) -> Result<Ran, InboxError> {
        let mut row = self.found(notification_id).await?;
        allowed(&mut row, InboxEvent::Replay, now)?;
        self.run(row, now).await
    }

    /// Sets `notification_id` aside for good (a dead letter that is never run).
    ///
    /// # Errors
    /// [`InboxError::NotFound`], [`InboxError::NotAllowed`] for a done row, or the inbox's
    /// failure.
    pub async fn discard(&self, notification_id: &str, now: Timestamp) -> Result<Ran, InboxError> {
        let mut row = self.found(notification_id).await?;
        allowed(&mut row, InboxEvent::Discard, now)?;
        if row.state == InboxState::Dead && row.last_error.is_none() {
            row.last_error = Some("discarded".into());
        }
        self.inbox.update(row.clone()).await?;
        Ok(Ran {
            notification_id: row.notification_id,
            state: row.state,
            error: None,
        })
    }

    async fn found(&self, notification_id: &str) -> Result<InboxRow, InboxError> {
        self.inbox
            .get(notification_id)
            .await?
            .ok_or_else(|| InboxError::NotFound(notification_id.to_owned()))
    }

    /// Verifies, runs and records one row.
    async fn run(&self, mut row: InboxRow, now: Timestamp) -> Result<Ran, InboxError> {
        let (result, policy) = match self.checked(&row.body) {
            // A stored body that no longer verifies is never run: straight to the dead letters.
            Err(error) => (
                Err(error),
                RetryPolicy {
                    max_attempts: 1,
                    ..self.policy
                },
            ),
            Ok(notification) => {
                let attempt = row.attempts.saturating_add(1);
                let run =
                    AssertUnwindSafe(self.processor.deliver(notification, &row.body, attempt));
                let result = match run.catch_unwind().await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(Failure::Handler(error))) => Err(error.to_string()),
                    Ok(Err(Failure::Store)) => Err("a store was unavailable".to_owned()),
                    Err(_) => Err("the handler panicked".to_owned()),
                };
                (result, self.policy)
            }
        };
        let error = result.clone().err();
        row.after_run(result, &policy, now);
        telemetry::inbox_run(match row.state {
            InboxState::Done => InboxRun::Done,
            InboxState::Dead => InboxRun::Dead,
            InboxState::Pending => InboxRun::Retry,
        });
        self.inbox.update(row.clone()).await?;
        Ok(Ran {
            notification_id: row.notification_id,
            state: row.state,
            error,
        })
    }

    fn checked(&self, body: &[u8]) -> Result<Notification, String> {
        self.processor
            .verifier()
            .verify(body)
            .and_then(|_| Notification::parse(body))
            .map_err(|e| format!("stored bytes no longer verify: {e}"))
    }
}

/// Applies a person's `event` to `row`, or says it is not allowed.
fn allowed(row: &mut InboxRow, event: InboxEvent, now: Timestamp) -> Result<(), InboxError> {
    if row.operate(event, now) {
        Ok(())
    } else {
        Err(InboxError::NotAllowed {
            id: row.notification_id.clone(),
            state: row.state,
            event,
        })
    }
}

/// The processor's clock, for callers that run a worker on it.
impl<H: Handler, C: Clock + Send + Sync> InboxWorker<H, C> {
    /// The current time on the processor's clock.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.processor.now()
    }
}
