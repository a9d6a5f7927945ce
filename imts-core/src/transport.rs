//! The transport traits, and the blocking loop that drives a [`Call`] over any transport.
//!
//! A transport sends one `http::Request<Vec<u8>>` and returns the response or a
//! [`TransportError`]. `imts-http-ureq` and `imts-http-reqwest` are the reference
//! implementations; a closure is one too, which is how tests script a server.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::acquire::{TokenAcquirer, TokenStep, LEASE_TTL};
use crate::config::{Config, Credentials};
use crate::driver::{Call, Step};
use crate::error::{Error, TransportError};
use crate::journal::{Journal, JournalHook};
use crate::models::auth::Token;
use crate::operation::Operation;
use crate::session::TokenSession;
use crate::shell::{ClientParts, Timeouts};
use crate::token_store::TokenStore;
use crate::values::Timestamp;
use pollster::block_on;

/// A blocking HTTP transport.
pub trait BlockingTransport {
    /// Sends one request, waiting at most `timeout` for the whole exchange.
    ///
    /// # Errors
    /// A [`TransportError`] when no HTTP response was received.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError>;
}

impl<F> BlockingTransport for F
where
    F: Fn(http::Request<Vec<u8>>, Duration) -> Result<http::Response<Vec<u8>>, TransportError>,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self(request, timeout)
    }
}

/// An asynchronous HTTP transport.
pub trait AsyncTransport: Send + Sync {
    /// Sends one request, waiting at most `timeout` for the whole exchange.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send;
}

/// Time and sleep for the blocking loop: [`SystemClock`] in production, a fake in tests. The
/// core's state machines never read a clock; they are given `now`.
pub trait Clock {
    /// The wall time, for what expires at a wall time (tokens).
    fn now(&self) -> OffsetDateTime;
    /// The monotonic time, for budgets and backoff (never moves backwards or jumps).
    fn monotonic(&self) -> Instant;
    /// Sleeps (a fake clock advances instead).
    fn sleep(&self, duration: Duration);
}

/// The system's wall clock and `std::thread::sleep`: the one [`Clock`] the SDK's I/O crates
/// (the blocking client, the callback processor) hand to the loops. Defined here, once; nothing
/// in the core calls it by itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    fn monotonic(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

impl<T: BlockingTransport> ClientParts<T, Mutex<TokenSession>> {
    /// The blocking loop's context over these parts, on the system clock.
    pub fn blocking_context(&self) -> BlockingContext<'_, T, SystemClock> {
        let shell = &self.shell;
        BlockingContext {
            session: &self.session,
            store: shell.token_store(),
            holder: shell.holder(),
            credentials: shell.credentials(),
            config: shell.config(),
            transport: &self.transport,
            clock: &SystemClock,
            timeouts: shell.settings().timeouts,
            journal: shell.journal(),
        }
    }
}

/// Everything a blocking call needs besides the operation.
pub struct BlockingContext<'a, T: ?Sized, C: ?Sized> {
    /// The local token session (its lock makes token exchanges single-flight per process).
    pub session: &'a Mutex<TokenSession>,
    /// A store shared with other instances, if any.
    pub store: Option<&'a dyn TokenStore>,
    /// This instance's name in the store's lease.
    pub holder: &'a str,
    /// Credentials.
    pub credentials: &'a Credentials,
    /// Configuration.
    pub config: &'a Config,
    /// The transport.
    pub transport: &'a T,
    /// Time and sleep.
    pub clock: &'a C,
    /// Per-attempt timeout.
    pub timeouts: Timeouts,
    /// Where money-moving calls are written ahead, if anywhere.
    pub journal: Option<&'a dyn Journal>,
}

impl<T: BlockingTransport + ?Sized, C: Clock + ?Sized> BlockingContext<'_, T, C> {
    /// Obtains a usable access token: at most one exchange runs at a time for a credential in
    /// this process (the session lock) and, with a store, across instances (its lease).
    ///
    /// # Errors
    /// The exchange's failure.
    pub fn ensure_token(&self, stale_generation: Option<u64>) -> Result<(Token, u64), Error> {
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(generation) = stale_generation {
            session.invalidate(generation);
        }
        let mut acquirer = TokenAcquirer::new(&mut session, self.store, self.holder);
        let deadline = self.clock.monotonic() + LEASE_TTL + self.timeouts.per_attempt;
        loop {
            match acquirer.next(self.credentials, self.config, self.clock.now()) {
                TokenStep::Ready(token, generation) => return Ok((token, generation)),
                TokenStep::Failed(error) => return Err(error),
                TokenStep::Wait(duration) if self.clock.monotonic() < deadline => {
                    self.clock.sleep(duration)
                }
                TokenStep::Wait(_) => return Err(acquirer.waited_too_long()),
                TokenStep::Send(request, _) => {
                    let response = self.transport.send(request, self.timeouts.per_attempt);
                    acquirer.on_exchange(response, self.config, self.clock.now());
                }
                TokenStep::Store(call) => {
                    // The blocking adapter: the store's future runs on this thread (the store
                    // bounds its own calls; a memory store's future is ready at once).
                    let answer = block_on(call.run());
                    acquirer.on_store(answer, self.config, self.clock.now());
                }
            }
        }
    }

    /// Runs a call to the end: its result, the requests it sent and the last HTTP status seen
    /// (for the call's record).
    pub fn run<O: Operation>(&self, op: &O, seed: u64) -> (Result<O::Output, Error>, u32, u16) {
        let now = || self.clock.monotonic();
        let wall = || Timestamp::new(self.clock.now());
        let mut call = Call::new(op, self.credentials, self.config, now(), seed);
        // Written ahead: nothing is sent unless the intent is durable.
        let mut journal = match (self.journal, call.journal_intent(self.credentials)) {
            (Some(journal), Some(intent)) => {
                match block_on(JournalHook::begin(journal, intent, wall())) {
                    Ok(hook) => Some(hook),
                    Err(error) => return (Err(error), 0, 0),
                }
            }
            _ => None,
        };
        let mut last_status = 0u16;
        let result = loop {
            match call.poll(now()) {
                Step::NeedToken { stale_generation } => match self.ensure_token(stale_generation) {
                    Ok((token, generation)) => call.set_token(token, generation),
                    Err(error) => call.token_failed(error, now()),
                },
                Step::Send(request) => {
                    if let (Some(hook), true) = (&mut journal, call.sends_primary()) {
                        if let Err(error) = block_on(hook.before_send(wall())) {
                            break Err(error);
                        }
                    }
                    let timeout = self.timeouts.per_attempt.min(call.remaining(now()));
                    match self.transport.send(request, timeout) {
                        Ok(response) => {
                            last_status = response.status().as_u16();
                            call.on_response(response, now());
                        }
                        Err(error) => call.on_transport_error(error, now()),
                    }
                }
                Step::Wait(duration) => self.clock.sleep(duration),
                Step::Done(result) => break result,
            }
        };
        if let Some(hook) = journal {
            block_on(hook.finish(&result, wall()));
        }
        (result, call.attempts(), last_status)
    }
}
