//! [`AsyncClient`]: the shell, a transport, and the async loop that drives a call.

use std::sync::Arc;
use std::time::Instant;

use imts_core::acquire::{StoreAnswer, TokenAcquirer, TokenStep, LEASE_TTL};
use imts_core::journal::{JournalHook, Resend, Resolved, ResumeCalls};
use imts_core::models::auth::Token;
use imts_core::models::{StatusRequest, StatusResponse};
use imts_core::shell::{CallRecord, ClientParts};
use imts_core::telemetry::CallOutcome;
use imts_core::token_store::BoxFuture;
use imts_core::token_store::STORE_TIMEOUT;
use imts_core::transport::AsyncTransport;
use imts_core::values::Timestamp;
use imts_core::{Call, Error, Operation, RawCall, Step, TokenSession};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use tracing::Instrument;

use crate::ReqwestTransport;

/// The async IMTS client. Cheap to clone; clones share the token session and the settings,
/// which are frozen when the client is built (`imts::ClientBuilder`).
pub struct AsyncClient<T: AsyncTransport = ReqwestTransport> {
    pub(crate) inner: Arc<ClientParts<T, tokio::sync::Mutex<TokenSession>>>,
}

imts_core::client_handle!(AsyncClient, AsyncTransport, tokio::sync::Mutex);

impl<T: AsyncTransport> AsyncClient<T> {
    /// Counts of token exchanges so far.
    pub async fn session_stats(&self) -> imts_core::session::SessionStats {
        self.inner.session.lock().await.stats()
    }

    /// Obtains a token now (the first call does this by itself).
    ///
    /// # Errors
    /// The exchange's failure.
    pub async fn authenticate(&self) -> Result<(), Error> {
        self.ensure_token(None).await.map(|_| ())
    }

    /// Renews the token pair now with Refresh token (authenticating first if there is none).
    ///
    /// # Errors
    /// The exchange's failure.
    pub async fn refresh_token(&self) -> Result<(), Error> {
        self.authenticate().await?;
        self.inner.session.lock().await.expire_now();
        self.authenticate().await
    }

    async fn ensure_token(&self, stale: Option<u64>) -> Result<(Token, u64), Error> {
        let inner = &self.inner;
        let mut session = inner.session.lock().await;
        if let Some(generation) = stale {
            session.invalidate(generation);
        }
        let shell = &inner.shell;
        let per_attempt = shell.settings().timeouts.per_attempt;
        let mut acquirer = TokenAcquirer::new(&mut session, shell.token_store(), shell.holder());
        let deadline = Instant::now() + LEASE_TTL + per_attempt;
        loop {
            match acquirer.next(
                shell.credentials(),
                shell.config(),
                OffsetDateTime::now_utc(),
            ) {
                TokenStep::Ready(token, generation) => return Ok((token, generation)),
                TokenStep::Failed(error) => return Err(error),
                TokenStep::Wait(duration) if Instant::now() < deadline => {
                    tokio::time::sleep(duration).await
                }
                TokenStep::Wait(_) => return Err(acquirer.waited_too_long()),
                TokenStep::Send(request, exchange) => {
                    let span = tracing::debug_span!("imts.token", exchange = ?exchange);
                    let response = inner
                        .transport
                        .send(request, per_attempt)
                        .instrument(span)
                        .await;
                    acquirer.on_exchange(response, shell.config(), OffsetDateTime::now_utc());
                }
                TokenStep::Store(call) => {
                    // Awaited, never blocking a worker; bounded whatever the store does.
                    let answer = tokio::time::timeout(STORE_TIMEOUT, call.run())
                        .await
                        .unwrap_or_else(|_| StoreAnswer::timed_out(STORE_TIMEOUT));
                    acquirer.on_store(answer, shell.config(), OffsetDateTime::now_utc());
                }
            }
        }
    }

    /// Runs any operation to the end.
    ///
    /// # Errors
    /// Whatever the call ends in.
    pub async fn call<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        let inner = &self.inner;
        let shell = &inner.shell;
        let per_attempt = shell.settings().timeouts.per_attempt;
        // Budgets and backoff on monotonic time; tokens (in `ensure_token`) on wall time.
        let now = Instant::now;
        let mut call = Call::new(
            op,
            shell.credentials(),
            shell.config(),
            now(),
            shell.next_seed(),
        );
        let mut record = CallRecord::new(call.route());
        let span = shell.call_span(call.route(), &record);
        let started = Instant::now();
        let wall = || Timestamp::new(OffsetDateTime::now_utc());
        let result = async {
            // Written ahead: nothing is sent unless the intent is durable.
            let mut journal = match (shell.journal(), call.journal_intent(shell.credentials())) {
                (Some(journal), Some(intent)) => {
                    Some(JournalHook::begin(journal, intent, wall()).await?)
                }
                _ => None,
            };
            let result = loop {
                match call.poll(now()) {
                    Step::NeedToken { stale_generation } => {
                        match self.ensure_token(stale_generation).await {
                            Ok((token, generation)) => call.set_token(token, generation),
                            Err(error) => call.token_failed(error, now()),
                        }
                    }
                    Step::Send(request) => {
                        if let (Some(hook), true) = (&mut journal, call.sends_primary()) {
                            if let Err(error) = hook.before_send(wall()).await {
                                break Err(error);
                            }
                        }
                        let timeout = per_attempt.min(call.remaining(now()));
                        match inner.transport.send(request, timeout).await {
                            Ok(response) => {
                                record.http_status = response.status().as_u16();
                                call.on_response(response, now());
                            }
                            Err(error) => call.on_transport_error(error, now()),
                        }
                    }
                    Step::Wait(duration) => tokio::time::sleep(duration).await,
                    Step::Done(result) => break result,
                }
            };
            if let Some(hook) = journal {
                hook.finish(&result, wall()).await;
            }
            result
        }
        .instrument(span.clone())
        .await;
        record.attempts = call.attempts();
        record.elapsed = started.elapsed();
        record.outcome = CallOutcome::of(&result);
        record.finish(&span);
        result
    }

    /// A call to any path with a JSON object, signed and authenticated like the typed calls.
    ///
    /// # Errors
    /// Whatever the call ends in.
    pub async fn raw(&self, call: &RawCall) -> Result<Box<serde_json::value::RawValue>, Error> {
        self.call(call).await
    }

    /// Resolves every open record of the client's journal after a crash: a Create is looked up
    /// by `order_id` and adopted or sent again with the same recorded body; a transition reads
    /// the transfer and counts "already there" as done; a Create person/business with an
    /// unknown outcome is left for a person, never resent. Records another instance is
    /// resuming are skipped. Running it again when nothing is open does nothing.
    ///
    /// # Errors
    /// [`Error::Journal`] when the client has no journal or it cannot be read.
    pub async fn resume(&self) -> Result<Vec<Resolved>, Error> {
        let shell = &self.inner.shell;
        let journal = shell.require_journal()?;
        let now = || Timestamp::new(OffsetDateTime::now_utc());
        imts_core::journal::resume(self, journal, shell.holder(), &now).await
    }

    imts_core::endpoint_methods!(async);
}

impl<T: AsyncTransport> ResumeCalls for AsyncClient<T> {
    fn resend<'a>(&'a self, op: &'a Resend) -> BoxFuture<'a, Result<Box<RawValue>, Error>> {
        Box::pin(self.call(op))
    }

    fn status<'a>(
        &'a self,
        request: &'a StatusRequest,
    ) -> BoxFuture<'a, Result<StatusResponse, Error>> {
        Box::pin(self.call(request))
    }
}
