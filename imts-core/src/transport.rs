//! The transport traits, and the blocking loop that drives a [`Call`] over any transport.
//!
//! A transport sends one `http::Request<Vec<u8>>` and returns the response or a
//! [`TransportError`]. `imts-http-ureq` and `imts-http-reqwest` are the reference
//! implementations; a closure is one too, which is how tests script a server.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

use crate::config::{Config, Credentials};
use crate::driver::{Call, Step};
use crate::error::{Error, TransportError};
use crate::models::auth::Token;
use crate::operation::Operation;
use crate::session::{SessionStep, TokenSession};

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

/// Time and sleep for the blocking loop: the system's in production, a fake in tests.
pub trait Clock {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
    /// Sleeps (a fake clock advances instead).
    fn sleep(&self, duration: Duration);
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// Timeouts a transport applies to each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest wait for one HTTP exchange (further capped by the call's remaining budget).
    pub per_attempt: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            per_attempt: Duration::from_secs(30),
        }
    }
}

/// Obtains a usable access token under the session lock: at most one exchange runs at a time
/// for a credential, and callers that waited find the fresh token ready.
///
/// # Errors
/// The exchange's failure.
pub fn ensure_token_blocking<T: BlockingTransport + ?Sized, C: Clock + ?Sized>(
    session: &Mutex<TokenSession>,
    stale_generation: Option<u64>,
    credentials: &Credentials,
    config: &Config,
    transport: &T,
    clock: &C,
    timeouts: Timeouts,
) -> Result<(Token, u64), Error> {
    let mut session = session
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(generation) = stale_generation {
        session.invalidate(generation);
    }
    // Authenticate, or refresh and (if the refresh is refused) authenticate: at most two exchanges.
    for _ in 0..3 {
        match session.poll(credentials, config, clock.now())? {
            SessionStep::Ready { access, generation } => return Ok((access, generation)),
            SessionStep::Send { request, exchange } => {
                let response = transport
                    .send(request, timeouts.per_attempt)
                    .map_err(|error| Error::Transport {
                        endpoint: exchange.endpoint().spec().name.to_owned(),
                        error,
                    })?;
                let status = response.status().as_u16();
                session.handle(exchange, status, response.body(), config, clock.now())?;
            }
        }
    }
    Err(Error::Transport {
        endpoint: "get-token".into(),
        error: TransportError::new(
            crate::error::TransportErrorKind::Other,
            "no token after re-authentication",
        ),
    })
}

/// Runs a call to the end over a blocking transport.
///
/// # Errors
/// Whatever the call ends in.
#[allow(clippy::too_many_arguments)]
pub fn run_blocking<O, T, C>(
    op: &O,
    session: &Mutex<TokenSession>,
    credentials: &Credentials,
    config: &Config,
    transport: &T,
    clock: &C,
    timeouts: Timeouts,
    seed: u64,
) -> Result<O::Output, Error>
where
    O: Operation,
    T: BlockingTransport + ?Sized,
    C: Clock + ?Sized,
{
    let mut call = Call::new(op, credentials, config, clock.now(), seed);
    loop {
        match call.poll(clock.now()) {
            Step::NeedToken { stale_generation } => {
                match ensure_token_blocking(
                    session,
                    stale_generation,
                    credentials,
                    config,
                    transport,
                    clock,
                    timeouts,
                ) {
                    Ok((token, generation)) => call.set_token(token, generation),
                    Err(error) => call.token_failed(error, clock.now()),
                }
            }
            Step::Send(request) => {
                let timeout = timeouts.per_attempt.min(call.remaining(clock.now()));
                match transport.send(request, timeout) {
                    Ok(response) => call.on_response(response, clock.now()),
                    Err(error) => call.on_transport_error(error, clock.now()),
                }
            }
            Step::Wait(duration) => clock.sleep(duration),
            Step::Done(result) => return result,
        }
    }
}
