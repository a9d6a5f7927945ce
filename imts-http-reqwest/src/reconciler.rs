//! The reconciler on the async client: one pass ([`AsyncClient::reconcile_once`]) or a task
//! that runs the schedule until stopped ([`AsyncClient::reconciler`]).

use std::time::Duration;

use imts_core::reconcile::{run_once, Mode, Planner, ReconcileEvent, Report};
use imts_core::transport::AsyncTransport;
use imts_core::values::Timestamp;
use imts_core::Error;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};

use crate::AsyncClient;

/// The longest the task sleeps between passes (a transfer recorded meanwhile is planned then).
pub const MAX_IDLE: Duration = Duration::from_secs(60);
/// How long the task waits after a pass failed (the journal unreachable).
pub const AFTER_FAILURE: Duration = Duration::from_secs(30);
/// Events kept for [`ReconcilerHandle::next_event`] before new ones are dropped (and logged).
pub const EVENT_BUFFER: usize = 1024;

impl<T: AsyncTransport + 'static> AsyncClient<T> {
    /// One reconciliation pass at `now`: polls the journal's transfers that `mode` takes, as
    /// many as the planner's cap allows, merging what it reads.
    ///
    /// # Errors
    /// [`Error::Journal`] without a journal, or when it cannot be read.
    pub async fn reconcile_once(
        &self,
        planner: &mut Planner,
        now: Timestamp,
        mode: Mode,
    ) -> Result<Report, Error> {
        let shell = &self.inner.shell;
        let journal = shell.require_journal()?;
        Ok(run_once(journal, self, planner, shell.holder(), now, mode).await?)
    }

    /// Starts the reconciler as a task on the current tokio runtime: passes on the wall clock,
    /// each when the schedule next has something due (at least once a minute), until the
    /// handle is stopped or dropped.
    ///
    /// # Errors
    /// [`Error::Journal`] without a journal.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn`).
    pub fn reconciler(&self, mut planner: Planner) -> Result<ReconcilerHandle, Error> {
        self.inner.shell.require_journal()?;
        let (stop, mut stopped) = watch::channel(false);
        let (events, receiver) = mpsc::channel(EVENT_BUFFER);
        let client = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let now = Timestamp::new(OffsetDateTime::now_utc());
                let pause = match client
                    .reconcile_once(&mut planner, now, Mode::Scheduled)
                    .await
                {
                    Ok(report) => {
                        for event in report.events {
                            if events.try_send(event).is_err() {
                                tracing::warn!(
                                    "reconciler event dropped: the handle's buffer is full or gone"
                                );
                            }
                        }
                        until(report.next, now)
                    }
                    Err(error) => {
                        tracing::warn!(%error, "reconciliation pass failed; retrying");
                        AFTER_FAILURE
                    }
                };
                // Asleep until the pause ends or the handle stops it (or is dropped).
                if tokio::time::timeout(pause, stopped.changed()).await.is_ok() {
                    return;
                }
            }
        });
        Ok(ReconcilerHandle {
            stop,
            events: receiver,
            task,
        })
    }
}

/// How long to sleep before `next`, between a tenth of a second and [`MAX_IDLE`].
fn until(next: Option<Timestamp>, now: Timestamp) -> Duration {
    next.map_or(MAX_IDLE, |next| {
        let gap = next.as_offset_date_time() - now.as_offset_date_time();
        Duration::try_from(gap).unwrap_or(Duration::ZERO)
    })
    .clamp(Duration::from_millis(100), MAX_IDLE)
}

/// A running reconciler: its events, and the way to stop it (dropping it stops it too).
#[derive(Debug)]
pub struct ReconcilerHandle {
    stop: watch::Sender<bool>,
    events: mpsc::Receiver<ReconcileEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl ReconcilerHandle {
    /// The next event (a change found, a transfer stuck, a poll failed); `None` once stopped.
    pub async fn next_event(&mut self) -> Option<ReconcileEvent> {
        self.events.recv().await
    }

    /// Stops the task and waits for it (a pass under way finishes first).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let _ = (&mut self.task).await;
    }
}

impl Drop for ReconcilerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
