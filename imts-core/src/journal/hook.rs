//! What a client does with its journal around one call, written once for both clients: record
//! the intent before anything is sent, mark each attempt of the operation before its bytes, and
//! record the outcome. The async client awaits these futures; the blocking one drives them on
//! its thread.

use crate::error::Error;
use crate::values::Timestamp;

use super::learnt::Learnt;
use super::observe::Observation;
use super::record::{Event, RecordKey};
use super::store::{Intent, Journal, JournalError, Update};
use super::write::Write;

/// One journaled call.
pub struct JournalHook<'a> {
    journal: &'a dyn Journal,
    intent: Intent,
    sent: bool,
    /// The first attempt was marked with the intent ([`Intent::sends_at_once`]).
    first_marked: bool,
}

impl std::fmt::Debug for JournalHook<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalHook")
            .field("intent", &self.intent)
            .field("sent", &self.sent)
            .field("first_marked", &self.first_marked)
            .finish()
    }
}

impl<'a> JournalHook<'a> {
    /// Records `intent` durably; nothing may be sent unless this succeeds. An intent that a
    /// lookup resolves ([`Intent::sends_at_once`]) is recorded with its first attempt marked,
    /// in the same write: a call then waits for two durable writes (this one and the outcome),
    /// not three.
    ///
    /// # Errors
    /// [`Error::Journal`]: the journal is unavailable, or the key is held by another request.
    pub async fn begin(
        journal: &'a dyn Journal,
        intent: Intent,
        now: Timestamp,
    ) -> Result<JournalHook<'a>, Error> {
        let sending = intent.sends_at_once();
        journal
            .write(Write::Record {
                intent: intent.clone(),
                now,
                sending,
            })
            .await?;
        Ok(Self {
            journal,
            intent,
            sent: false,
            first_marked: sending,
        })
    }

    /// Marks an attempt of the operation as about to send; its bytes may go only if this
    /// succeeds. (The first attempt of an intent recorded as sending is marked already.)
    ///
    /// # Errors
    /// [`Error::Journal`] when the mark could not be recorded.
    pub async fn before_send(&mut self, now: Timestamp) -> Result<(), Error> {
        if !std::mem::take(&mut self.first_marked) {
            self.journal
                .advance(&self.intent.key, Event::Sending, &Update::default(), now)
                .await?;
        }
        self.sent = true;
        Ok(())
    }

    /// Records how the call ended. A failure to record is logged, not returned: the record then
    /// stays open and `resume` resolves it. (The result is judged here, at once, so the future
    /// does not hold it.)
    pub fn finish<T: Learnt>(
        self,
        result: &Result<T, Error>,
        now: Timestamp,
    ) -> impl std::future::Future<Output = ()> + Send + 'a {
        let (event, update) = conclusion(result, self.sent);
        // A transition's answer also tells the transfer's own record (its Create, keyed by the
        // order id) where the transfer now stands, so the reconciler does not poll for it.
        let created = match (result, &update.status) {
            (Ok(answer), Some(status)) => answer
                .order_id()
                .map(RecordKey)
                .filter(|key| *key != self.intent.key)
                .map(|key| (key, Observation::Callback(status.clone()))),
            _ => None,
        };
        async move {
            if let Err(error) = self
                .journal
                .advance(&self.intent.key, event, &update, now)
                .await
            {
                tracing::warn!(%error, key = %self.intent.key, "the outcome of a journaled call could not be recorded; resume will resolve it");
            }
            if let Some((key, observation)) = created {
                match self.journal.observe(&key, &observation, now).await {
                    Ok(_) | Err(JournalError::NotFound(_)) => {}
                    Err(error) => {
                        tracing::warn!(%error, %key, "a transfer's new status could not be merged into its record; a poll will");
                    }
                }
            }
        }
    }
}

/// The event a call's result is for its record: a success is applied; a definite refusal, or a
/// failure before any byte of the operation was sent, is refused; anything else is unknown.
fn conclusion<T: Learnt>(result: &Result<T, Error>, sent: bool) -> (Event, Update) {
    let error = match result {
        Ok(answer) => return (Event::Applied, answer.learnt()),
        Err(error) => error,
    };
    let refused = !sent
        || match error {
            Error::Api { error, .. } => !error.is_transient(),
            Error::GaveUp { last, .. } => {
                matches!(&**last, Error::Api { error, .. } if !error.is_transient())
            }
            _ => false,
        };
    let outcome = match error.code() {
        Some(code) => format!("error {code}"),
        None if !sent => "not sent".to_owned(),
        None => "no definite answer".to_owned(),
    };
    let event = if refused {
        Event::Refused
    } else {
        Event::Uncertain
    };
    (
        event,
        Update {
            outcome: Some(outcome),
            ..Update::default()
        },
    )
}
