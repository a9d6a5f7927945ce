//! [`BlockingClient`]: the shell, a transport, and the core's blocking loop.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use imts_core::journal::{Resend, Resolved, ResumeCalls};
use imts_core::models::{StatusRequest, StatusResponse};
use imts_core::shell::{CallRecord, ClientParts};
use imts_core::telemetry::CallOutcome;
use imts_core::token_store::BoxFuture;
use imts_core::transport::BlockingTransport;
use imts_core::values::Timestamp;
use imts_core::{Error, Operation, RawCall, TokenSession};
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::UreqTransport;

/// The blocking IMTS client. Cheap to clone; clones (and threads) share the token session and
/// the settings, which are frozen when the client is built (`imts::ClientBuilder`).
pub struct BlockingClient<T: BlockingTransport = UreqTransport> {
    inner: Arc<ClientParts<T, Mutex<TokenSession>>>,
}

imts_core::client_handle!(BlockingClient, BlockingTransport, Mutex);

impl<T: BlockingTransport> BlockingClient<T> {
    /// Counts of token exchanges so far.
    #[must_use]
    pub fn session_stats(&self) -> imts_core::session::SessionStats {
        self.inner
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .stats()
    }

    /// Obtains a token now (the first call does this by itself).
    ///
    /// # Errors
    /// The exchange's failure.
    pub fn authenticate(&self) -> Result<(), Error> {
        self.inner.blocking_context().ensure_token(None).map(|_| ())
    }

    /// Renews the token pair now with Refresh token (authenticating first if there is none).
    ///
    /// # Errors
    /// The exchange's failure.
    pub fn refresh_token(&self) -> Result<(), Error> {
        self.authenticate()?;
        self.inner
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .expire_now();
        self.authenticate()
    }

    /// Runs any operation to the end.
    ///
    /// # Errors
    /// Whatever the call ends in.
    pub fn call<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        let shell = &self.inner.shell;
        let route = op.route();
        let record = CallRecord::new(Some(&route));
        let span = shell.call_span(Some(&route), &record);
        let _entered = span.enter();
        let started = Instant::now();
        let (result, attempts, http_status) =
            self.inner.blocking_context().run(op, shell.next_seed());
        CallRecord {
            attempts,
            http_status,
            elapsed: started.elapsed(),
            outcome: CallOutcome::of(&result),
            ..record
        }
        .finish(&span);
        result
    }

    /// A call to any path with a JSON object, signed and authenticated like the typed calls.
    ///
    /// # Errors
    /// Whatever the call ends in.
    pub fn raw(&self, call: &RawCall) -> Result<Box<serde_json::value::RawValue>, Error> {
        self.call(call)
    }

    imts_core::endpoint_methods!(blocking);
}

impl<T: BlockingTransport + Send + Sync> BlockingClient<T> {
    /// Resolves every open record of the client's journal after a crash (as the async
    /// client's `resume`, on this thread).
    ///
    /// # Errors
    /// [`Error::Journal`] when the client has no journal or it cannot be read.
    pub fn resume(&self) -> Result<Vec<Resolved>, Error> {
        let shell = &self.inner.shell;
        let journal = shell.require_journal()?;
        let now = || Timestamp::new(OffsetDateTime::now_utc());
        pollster::block_on(imts_core::journal::resume(
            self,
            journal,
            shell.holder(),
            &now,
        ))
    }

    /// One reconciliation pass at `now` (for a loop of the program's own, or cron): polls the
    /// journal's transfers that `mode` takes, as many as the planner's cap allows, merging what
    /// it reads.
    ///
    /// # Errors
    /// [`Error::Journal`] without a journal, or when it cannot be read.
    pub fn reconcile_once(
        &self,
        planner: &mut imts_core::reconcile::Planner,
        now: Timestamp,
        mode: imts_core::reconcile::Mode,
    ) -> Result<imts_core::reconcile::Report, Error> {
        let shell = &self.inner.shell;
        let journal = shell.require_journal()?;
        Ok(pollster::block_on(imts_core::reconcile::run_once(
            journal,
            self,
            planner,
            shell.holder(),
            now,
            mode,
        ))?)
    }
}

/// The blocking calls as ready futures: each runs to its end on this thread when made.
impl<T: BlockingTransport + Send + Sync> ResumeCalls for BlockingClient<T> {
    fn resend<'a>(&'a self, op: &'a Resend) -> BoxFuture<'a, Result<Box<RawValue>, Error>> {
        Box::pin(std::future::ready(self.call(op)))
    }

    fn status<'a>(
        &'a self,
        request: &'a StatusRequest,
    ) -> BoxFuture<'a, Result<StatusResponse, Error>> {
        Box::pin(std::future::ready(self.call(request)))
    }
}
