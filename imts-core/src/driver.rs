//! The call driver: one small state machine per call, with the I/O left to the caller.
//!
//! Its time is monotonic (`now` is an [`Instant`] the caller reads, or a test makes up): the
//! call's budget and its backoff never move with the wall clock. Tokens, whose expiry is a wall
//! time, live in the session, not here.
//!
//! ```text
//! loop {
//!     match call.poll(now()) {
//!         Step::NeedToken { stale_generation } => { /* lock the session, renew, */ call.set_token(token, generation) }
//!         Step::Send(request) => match transport.send(request) {
//!             Ok(response) => call.on_response(response, now()),
//!             Err(error) => call.on_transport_error(error, now()),
//!         },
//!         Step::Wait(duration) => sleep(duration),
//!         Step::Done(result) => return result,
//!     }
//! }
//! ```
//!
//! Inside: one retry after a 401 with a fresh token; reads retried on transport errors, 429 and
//! 5xx with capped full-jitter backoff honouring `Retry-After`; writes never resent blindly. After
//! an uncertain failure a Create transfer is looked up by `order_id` and resent (same `order_id`)
//! only when absent; Confirm, Payout, Payout confirm and Cancel read the transfer and count
//! "already there" as success. A write the budget leaves unresolved ends in
//! [`Error::OutcomeUnknown`].

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::config::{Config, Credentials};
use crate::endpoint::{Endpoint, Retry, Route};
use crate::error::{Error, TransportError};
use crate::models::auth::Token;
use crate::models::{InfoRequest, Transfer};
use crate::operation::{Operation, PreparedRequest, Subject};
use crate::response;
use crate::retry::{classify, retry_after, Action, JitterRng, Outcome, RetryPolicy};
use crate::telemetry::{self, RetryReason};

/// What the caller does next.
#[derive(Debug)]
pub enum Step<T> {
    /// Provide an access token with [`Call::set_token`] (or report [`Call::token_failed`]).
    /// `stale_generation` is the generation a 401 refused: invalidate it in the session first.
    NeedToken {
        /// The refused generation, if a 401 caused this.
        stale_generation: Option<u64>,
    },
    /// Send this request; report with [`Call::on_response`] or [`Call::on_transport_error`].
    Send(http::Request<Vec<u8>>),
    /// Sleep this long, then poll again.
    Wait(Duration),
    /// Finished.
    Done(Result<T, Error>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Sending the operation itself.
    Primary,
    /// Reading the transfer (Info) to learn whether an uncertain write took effect.
    Lookup,
}

type Finished = Result<(Phase, u16, Vec<u8>), Error>;

/// The untyped machinery behind [`Call`].
#[derive(Debug)]
struct Driver {
    base_url: String,
    policy: RetryPolicy,
    primary: PreparedRequest,
    lookup: Option<PreparedRequest>,
    subject: Subject,
    /// The `endpoint` label of this call's metrics.
    label: &'static str,
    started: Instant,
    attempts: u32,
    retries: u32,
    reauthentications: u32,
    phase: Phase,
    uncertain: bool,
    token: Option<(Token, u64)>,
    stale: Option<u64>,
    wait_until: Option<Instant>,
    finished: Option<Finished>,
    last_error: Option<Error>,
    rng: JitterRng,
}

/// One call in progress. See the module docs for the loop that drives it.
#[derive(Debug)]
pub struct Call<O: Operation> {
    driver: Result<Driver, Option<Error>>,
    done: bool,
    output: PhantomData<fn() -> O::Output>,
}

impl<O: Operation> Call<O> {
    /// Starts a call at `now`. The request is built and signed once here; `seed` drives jitter
    /// and `pg_salt`. An invalid request is reported by the first [`poll`](Self::poll).
    pub fn new(
        op: &O,
        credentials: &Credentials,
        config: &Config,
        now: Instant,
        seed: u64,
    ) -> Self {
        let driver = Driver::new(op, credentials, config, now, seed).map_err(Some);
        Self {
            driver,
            done: false,
            output: PhantomData,
        }
    }

    /// What to do now.
    pub fn poll(&mut self, now: Instant) -> Step<O::Output> {
        if self.done {
            return Step::Done(Err(Error::DriverMisuse("polled after it finished")));
        }
        let driver = match &mut self.driver {
            Ok(driver) => driver,
            Err(error) => {
                self.done = true;
                return Step::Done(Err(error
                    .take()
                    .unwrap_or(Error::DriverMisuse("polled after its request was refused"))));
            }
        };
        match driver.poll(now) {
            Some(step) => step,
            None => {
                self.done = true;
                let finished = driver
                    .finished
                    .take()
                    .unwrap_or(Err(Error::DriverMisuse("ended without a result")));
                Step::Done(Self::decode(driver, finished))
            }
        }
    }

    /// Gives the call the access token of `generation`.
    pub fn set_token(&mut self, access: Token, generation: u64) {
        if let Ok(driver) = &mut self.driver {
            driver.token = Some((access, generation));
        }
    }

    /// Reports that no token could be obtained (the exchange's error).
    pub fn token_failed(&mut self, error: Error, now: Instant) {
        if let Ok(driver) = &mut self.driver {
            driver.token_failed(error, now);
        }
    }

    /// Reports the answer to the last [`Step::Send`].
    pub fn on_response(&mut self, response: http::Response<Vec<u8>>, now: Instant) {
        if let Ok(driver) = &mut self.driver {
            let (parts, body) = response.into_parts();
            driver.on_response(parts.status.as_u16(), &parts.headers, body, now);
        }
    }

    /// Reports that the last [`Step::Send`] failed below HTTP.
    pub fn on_transport_error(&mut self, error: TransportError, now: Instant) {
        if let Ok(driver) = &mut self.driver {
            driver.on_transport_error(error, now);
        }
    }

    /// Time left in the call's budget at `now`: a transport caps each attempt's timeout by it.
    #[must_use]
    pub fn remaining(&self, now: Instant) -> Duration {
        match &self.driver {
            Ok(driver) => driver.remaining(now),
            Err(_) => Duration::ZERO,
        }
    }

    /// The route of the operation (for tracing).
    #[must_use]
    pub fn route(&self) -> Option<&Route> {
        self.driver.as_ref().ok().map(|d| d.primary.route())
    }

    /// What a journal records before this call's first byte; `None` for a call that moves no
    /// money. The key is the `order_id` for Create transfer, `operation:transfer_id` for a
    /// transition, and `operation:hash` for Create person/business (no key of their own).
    #[must_use]
    pub fn journal_intent(&self, credentials: &Credentials) -> Option<crate::journal::Intent> {
        use crate::journal::{body_hash, Intent, MoneyOp, RecordKey};
        let driver = self.driver.as_ref().ok()?;
        let op = MoneyOp::of_route(driver.primary.route())?;
        let body = driver.primary.body().unwrap_or_default().to_vec();
        let (key, order_id, transfer_id) = match &driver.subject {
            Subject::Order(order) => (order.to_string(), Some(order.to_string()), None),
            Subject::Transfer(transfer) => (
                format!("{}:{transfer}", op.as_str()),
                None,
                Some(transfer.to_string()),
            ),
            Subject::None => (format!("{}:{}", op.as_str(), body_hash(&body)), None, None),
        };
        Some(Intent {
            key: RecordKey(key),
            op,
            order_id,
            transfer_id,
            body,
            agent: Some(credentials.agent_id().to_string()),
        })
    }

    /// Whether the request of the last [`Step::Send`] is the operation itself (not the lookup
    /// that resolves an uncertain write): what a journal marks as sent.
    #[must_use]
    pub fn sends_primary(&self) -> bool {
        self.driver
            .as_ref()
            .is_ok_and(|driver| driver.phase == Phase::Primary)
    }

    /// Requests sent so far.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.driver.as_ref().map_or(0, |d| d.attempts)
    }
}

impl<O: Operation> Call<O> {
    fn decode(driver: &Driver, finished: Finished) -> Result<O::Output, Error> {
        let (phase, status, body) = finished?;
        let route = match phase {
            Phase::Primary => driver.primary.route().clone(),
            Phase::Lookup => Endpoint::Info.route(),
        };
        response::decode::<O::Output>(&route, status, &body)
    }
}

impl Driver {
    fn new<O: Operation>(
        op: &O,
        credentials: &Credentials,
        config: &Config,
        now: Instant,
        seed: u64,
    ) -> Result<Self, Error> {
        let primary = PreparedRequest::new(op, credentials, config, seed)?;
        let subject = op.subject();
        let lookup_request = match &subject {
            Subject::None => None,
            Subject::Order(order_id) => Some(InfoRequest::new(order_id.clone())),
            Subject::Transfer(transfer_id) => Some(InfoRequest::new(transfer_id.clone())),
        };
        let lookup = lookup_request
            .map(|req| PreparedRequest::new(&req, credentials, config, seed ^ 0x5bd1_e995))
            .transpose()?;
        let label = telemetry::endpoint_label(primary.route());
        Ok(Self {
            base_url: config.base_url.clone(),
            label,
            policy: config.retry,
            primary,
            lookup,
            subject,
            started: now,
            attempts: 0,
            retries: 0,
            reauthentications: 0,
            phase: Phase::Primary,
            uncertain: false,
            token: None,
            stale: None,
            wait_until: None,
            finished: None,
            last_error: None,
            rng: JitterRng::new(seed),
        })
    }

    fn retry_class(&self) -> Retry {
        self.primary.route().retry
    }

    fn endpoint_name(&self) -> crate::error::EndpointName {
        self.primary.route().name.clone()
    }

    fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.started)
    }

    fn remaining(&self, now: Instant) -> Duration {
        self.policy.total_budget.saturating_sub(self.elapsed(now))
    }

    /// `None` when finished (the result is in `self.finished`).
    fn poll<T>(&mut self, now: Instant) -> Option<Step<T>> {
        if self.finished.is_some() {
            return None;
        }
        if let Some(until) = self.wait_until {
            if until > now {
                return Some(Step::Wait(until.saturating_duration_since(now)));
            }
            self.wait_until = None;
        }
        if self.attempts >= self.policy.max_attempts || self.remaining(now).is_zero() {
            self.give_up(now);
            return None;
        }
        let Some((token, _)) = &self.token else {
            return Some(Step::NeedToken {
                stale_generation: self.stale.take(),
            });
        };
        let prepared = match (self.phase, &self.lookup) {
            (Phase::Lookup, Some(lookup)) => lookup,
            _ => &self.primary,
        };
        match prepared.to_http(&self.base_url, Some(token)) {
            Ok(request) => {
                self.attempts += 1;
                telemetry::attempt(self.label);
                Some(Step::Send(request))
            }
            Err(error) => {
                self.finished = Some(Err(error));
                None
            }
        }
    }

    fn give_up(&mut self, now: Instant) {
        let error = if self.uncertain {
            let (order_id, transfer_id) = match &self.subject {
                Subject::Order(order) => (Some(order.clone()), None),
                Subject::Transfer(transfer) => (None, Some(transfer.clone())),
                Subject::None => (None, None),
            };
            Error::OutcomeUnknown {
                endpoint: self.endpoint_name(),
                order_id,
                transfer_id,
            }
        } else {
            let last = self.last_error.take().unwrap_or_else(|| Error::Transport {
                endpoint: self.endpoint_name(),
                error: TransportError::new(
                    crate::error::TransportErrorKind::Timeout,
                    "the call's time budget ran out",
                ),
            });
            Error::GaveUp {
                endpoint: self.endpoint_name(),
                attempts: self.attempts,
                elapsed: self.elapsed(now),
                last: Box::new(last),
            }
        };
        self.finished = Some(Err(error));
    }

    fn back_off(&mut self, reason: RetryReason, retry_after: Option<Duration>, now: Instant) {
        telemetry::retry(self.label, reason);
        let delay = self
            .policy
            .backoff(self.retries, retry_after, &mut self.rng);
        self.retries += 1;
        self.wait_until = Some(now.checked_add(delay).unwrap_or(now));
    }

    fn token_failed(&mut self, error: Error, now: Instant) {
        // Before the request was sent: a transient failure is retried whatever the class.
        let retryable = error.is_retryable();
        // A failed token exchange uses up an attempt, so an unreachable server ends the call
        // within the attempt budget rather than the time budget.
        self.attempts += 1;
        if retryable {
            self.last_error = Some(error);
            self.back_off(RetryReason::Token, None, now);
        } else {
            self.finished = Some(Err(error));
        }
    }

    fn on_response(&mut self, status: u16, headers: &http::HeaderMap, body: Vec<u8>, now: Instant) {
        if status == 401 {
            let generation = self.token.take().map(|(_, g)| g);
            self.reauthentications += 1;
            if self.reauthentications > 1 {
                self.finished = Some(Ok((self.phase, status, body)));
            } else {
                self.stale = generation;
            }
            return;
        }
        let overloaded = status == 429 || status >= 500;
        if overloaded {
            self.last_error = Some(
                response::check(self.current_route(), status, &body)
                    .err()
                    .unwrap_or_else(|| Error::Transport {
                        endpoint: self.endpoint_name(),
                        error: TransportError::new(
                            crate::error::TransportErrorKind::Other,
                            format!("HTTP {status}"),
                        ),
                    }),
            );
        }
        match self.phase {
            Phase::Primary => self.primary_answered(status, overloaded, headers, body, now),
            Phase::Lookup => self.lookup_answered(status, overloaded, headers, body, now),
        }
    }

    fn current_route(&self) -> &Route {
        match (self.phase, &self.lookup) {
            (Phase::Lookup, Some(lookup)) => lookup.route(),
            _ => self.primary.route(),
        }
    }

    fn primary_answered(
        &mut self,
        status: u16,
        overloaded: bool,
        headers: &http::HeaderMap,
        body: Vec<u8>,
        now: Instant,
    ) {
        if !overloaded {
            self.finished = Some(Ok((Phase::Primary, status, body)));
            return;
        }
        // 429 and 503 say the request was not processed; other 5xx may have applied it.
        let outcome = if status == 429 || status == 503 {
            Outcome::NotProcessed
        } else {
            Outcome::ServerError
        };
        let wait = retry_after(headers);
        match classify(self.retry_class(), outcome) {
            Action::Retry => self.back_off(RetryReason::of_status(status), wait, now),
            Action::LookUp => self.look_up(wait, now),
            Action::Return | Action::GiveUp => {
                self.finished = Some(Ok((Phase::Primary, status, body)));
            }
        }
    }

    /// The write may have been applied: look the transfer up before anything is resent.
    fn look_up(&mut self, wait: Option<Duration>, now: Instant) {
        self.uncertain = true;
        self.phase = Phase::Lookup;
        self.back_off(RetryReason::Lookup, wait, now);
    }

    fn lookup_answered(
        &mut self,
        status: u16,
        overloaded: bool,
        headers: &http::HeaderMap,
        body: Vec<u8>,
        now: Instant,
    ) {
        if overloaded {
            self.back_off(RetryReason::of_status(status), retry_after(headers), now);
            return;
        }
        let found = (200..300)
            .contains(&status)
            .then(|| response::decode::<Transfer>(&Endpoint::Info.route(), status, &body).ok())
            .flatten();
        match (self.retry_class(), found) {
            // The create took effect: the lookup's transfer is the answer.
            (Retry::Create, Some(_)) => self.finished = Some(Ok((Phase::Lookup, status, body))),
            (Retry::Transition(op), Some(transfer)) if op.reached(&transfer.status) => {
                self.finished = Some(Ok((Phase::Lookup, status, body)));
            }
            // Not applied: resend the same signed request (same `order_id`) at once.
            (Retry::Create, None) if status == 404 => self.resend_primary(),
            (Retry::Transition(_), Some(_)) => self.resend_primary(),
            _ => self.give_up(now),
        }
    }

    fn resend_primary(&mut self) {
        self.uncertain = false;
        self.phase = Phase::Primary;
    }

    fn on_transport_error(&mut self, error: TransportError, now: Instant) {
        let maybe_sent = error.maybe_sent();
        self.last_error = Some(Error::Transport {
            endpoint: self.endpoint_name(),
            error,
        });
        if self.phase == Phase::Lookup {
            // A lookup is a read: repeated until it answers or the budget runs out.
            self.back_off(RetryReason::Transport, None, now);
            return;
        }
        match classify(self.retry_class(), Outcome::TransportFailed { maybe_sent }) {
            Action::Retry => self.back_off(RetryReason::Transport, None, now),
            Action::LookUp => self.look_up(None, now),
            Action::Return | Action::GiveUp => {
                self.uncertain = true;
                self.give_up(now);
            }
        }
    }
}
