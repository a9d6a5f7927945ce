//! One token acquisition, sans-IO: use the local token; else adopt a newer one from the shared
//! store; else take the store's lease, look once more, exchange, and publish with
//! compare-and-set. The acquirer never awaits or blocks: it says what to do next
//! ([`TokenStep`]) and is told what came of it, so the async and the blocking client drive the
//! same decisions, each in its own loop.
//!
//! A store that cannot be reached is bypassed (and logged once, when the acquisition ends): the
//! instance falls back to its own session (a refresh storm is better than an outage).

use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;

use crate::config::{Config, Credentials};
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::models::auth::Token;
use crate::session::{Exchange, SessionStep, TokenSession};
use crate::token_store::{SharedTokens, TokenStore, TokenStoreError};

/// How long a refresh lease lasts: a crashed holder (or an acquisition dropped half-way) blocks
/// the others at most this long.
pub const LEASE_TTL: Duration = Duration::from_secs(10);
/// How long an instance waits between looks at the store while another holds the lease.
pub const LEASE_POLL: Duration = Duration::from_millis(20);
/// How many newer pairs are adopted from the store before the acquirer stops trusting it for
/// this acquisition (a store whose pairs never satisfy the session).
const MAX_ADOPTIONS: u8 = 3;

/// What to do next to obtain a token.
#[allow(clippy::large_enum_variant)] // one per step of a token exchange; boxing buys nothing
pub enum TokenStep<'a> {
    /// Use this token (of this generation).
    Ready(Token, u64),
    /// The acquisition failed.
    Failed(Error),
    /// Send this exchange and report the answer with [`TokenAcquirer::on_exchange`].
    Send(http::Request<Vec<u8>>, Exchange),
    /// Run this store call and report the answer with [`TokenAcquirer::on_store`].
    Store(StoreCall<'a>),
    /// Another instance is renewing: wait this long, then ask again.
    Wait(Duration),
}

impl fmt::Debug for TokenStep<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenStep::Ready(_, generation) => write!(f, "Ready(generation {generation})"),
            TokenStep::Failed(error) => write!(f, "Failed({error})"),
            TokenStep::Send(_, exchange) => write!(f, "Send({exchange:?})"),
            TokenStep::Store(call) => write!(f, "Store({:?})", call.op),
            TokenStep::Wait(duration) => write!(f, "Wait({duration:?})"),
        }
    }
}

/// One call on the shared store, to run with [`StoreCall::run`].
pub struct StoreCall<'a> {
    store: &'a dyn TokenStore,
    holder: &'a str,
    op: StoreOp,
}

/// What a [`StoreCall`] asks.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // a publish carries the pair; the others are rare too
enum StoreOp {
    Load,
    Lease(OffsetDateTime),
    Publish { expected: u64, tokens: SharedTokens },
    Release,
}

impl StoreOp {
    /// Where to go when the store was dropped (it failed) before this could be asked.
    fn without_store(&self) -> Stage {
        match self {
            StoreOp::Load | StoreOp::Lease(_) => Stage::SendStashed,
            StoreOp::Publish { .. } | StoreOp::Release => Stage::Poll,
        }
    }
}

/// What the store answered (or that it did not answer in time).
pub struct StoreAnswer(Result<Reply, TokenStoreError>);

enum Reply {
    Tokens(Option<SharedTokens>),
    Flag(bool),
    Done,
}

impl StoreAnswer {
    /// The answer of a store call that did not finish within `limit`.
    #[must_use]
    pub fn timed_out(limit: Duration) -> Self {
        Self(Err(TokenStoreError(format!("no answer within {limit:?}"))))
    }
}

impl fmt::Debug for StoreAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(_) => f.write_str("StoreAnswer(Ok)"),
            Err(error) => write!(f, "StoreAnswer({error})"),
        }
    }
}

impl StoreCall<'_> {
    /// Runs the call on the store.
    pub async fn run(self) -> StoreAnswer {
        let store = self.store;
        StoreAnswer(match &self.op {
            StoreOp::Load => store.load().await.map(Reply::Tokens),
            StoreOp::Lease(now) => store
                .try_lease(self.holder, LEASE_TTL, *now)
                .await
                .map(Reply::Flag),
            StoreOp::Publish { expected, tokens } => store
                .compare_and_set(*expected, tokens)
                .await
                .map(Reply::Flag),
            StoreOp::Release => store.release_lease(self.holder).await.map(|()| Reply::Done),
        })
    }
}

/// Where an acquisition stands.
enum Stage {
    /// Look at the session.
    Poll,
    /// Ask the store this next.
    Ask(StoreOp),
    /// Waiting for the store's answer to a load (`leased`: the look after taking the lease).
    AwaitLoad { leased: bool },
    /// Waiting for the answer to a lease request.
    AwaitLease,
    /// Waiting for the answer to a publish.
    AwaitPublish,
    /// Waiting for the lease to be given back, then ending so.
    AwaitRelease(Outcome),
    /// Send the exchange the session asked for.
    SendStashed,
    /// Waiting for an exchange's answer.
    AwaitExchange(Exchange),
    /// Another instance holds the lease: pause, then look again.
    Pause,
    /// End so (giving the lease back first).
    End(Outcome),
    /// Ended.
    Done,
}

enum Outcome {
    Ready(Token, u64),
    Failed(Error),
}

/// One token acquisition under the local session lock, coordinating through an optional store.
/// Store failures it met are logged once, when it is dropped.
pub struct TokenAcquirer<'a> {
    session: &'a mut TokenSession,
    store: Option<&'a dyn TokenStore>,
    holder: &'a str,
    stage: Stage,
    stashed: Option<(http::Request<Vec<u8>>, Exchange)>,
    leased: bool,
    shared_generation: u64,
    adoptions: u8,
    store_errors: Vec<TokenStoreError>,
}

impl<'a> TokenAcquirer<'a> {
    /// Starts an acquisition. `holder` identifies this instance in the lease.
    pub fn new(
        session: &'a mut TokenSession,
        store: Option<&'a dyn TokenStore>,
        holder: &'a str,
    ) -> Self {
        Self {
            session,
            store,
            holder,
            stage: Stage::Poll,
            stashed: None,
            leased: false,
            shared_generation: 0,
            adoptions: 0,
            store_errors: Vec::new(),
        }
    }

    /// The next step at `now` (wall time: tokens expire at wall times).
    pub fn next(
        &mut self,
        credentials: &Credentials,
        config: &Config,
        now: OffsetDateTime,
    ) -> TokenStep<'a> {
        loop {
            match std::mem::replace(&mut self.stage, Stage::Done) {
                Stage::Poll => match self.session.poll(credentials, config, now) {
                    Err(error) => self.stage = Stage::End(Outcome::Failed(error)),
                    Ok(SessionStep::Ready { access, generation }) => {
                        self.stage = Stage::End(Outcome::Ready(access, generation));
                    }
                    Ok(SessionStep::Send { request, exchange }) => {
                        if self.store.is_none() || self.adoptions >= MAX_ADOPTIONS {
                            self.stage = Stage::AwaitExchange(exchange);
                            return TokenStep::Send(request, exchange);
                        }
                        self.stashed = Some((request, exchange));
                        self.stage = Stage::Ask(StoreOp::Load);
                    }
                },
                Stage::Ask(op) => {
                    let Some(store) = self.store else {
                        self.stage = op.without_store();
                        continue;
                    };
                    self.stage = match &op {
                        StoreOp::Load => Stage::AwaitLoad {
                            leased: self.leased,
                        },
                        StoreOp::Lease(_) => Stage::AwaitLease,
                        StoreOp::Publish { .. } => Stage::AwaitPublish,
                        // Only `End` asks for a release, and it awaits it itself.
                        StoreOp::Release => Stage::AwaitRelease(Outcome::Failed(
                            Error::DriverMisuse("a lease release asked outside the end"),
                        )),
                    };
                    return TokenStep::Store(StoreCall {
                        store,
                        holder: self.holder,
                        op,
                    });
                }
                Stage::SendStashed => {
                    self.session.raise_generation(self.shared_generation);
                    match self.stashed.take() {
                        Some((request, exchange)) => {
                            self.stage = Stage::AwaitExchange(exchange);
                            return TokenStep::Send(request, exchange);
                        }
                        None => self.stage = Stage::Poll,
                    }
                }
                Stage::Pause => {
                    self.stashed = None;
                    self.adoptions = 0;
                    self.stage = Stage::Poll;
                    return TokenStep::Wait(LEASE_POLL);
                }
                Stage::End(outcome) => match self.store {
                    Some(store) if self.leased => {
                        self.leased = false;
                        self.stage = Stage::AwaitRelease(outcome);
                        return TokenStep::Store(StoreCall {
                            store,
                            holder: self.holder,
                            op: StoreOp::Release,
                        });
                    }
                    _ => {
                        return match outcome {
                            Outcome::Ready(token, generation) => {
                                TokenStep::Ready(token, generation)
                            }
                            Outcome::Failed(error) => TokenStep::Failed(error),
                        }
                    }
                },
                waiting @ (Stage::AwaitLoad { .. }
                | Stage::AwaitLease
                | Stage::AwaitPublish
                | Stage::AwaitRelease(_)
                | Stage::AwaitExchange(_)) => {
                    self.stage = waiting;
                    return TokenStep::Failed(Error::DriverMisuse(
                        "TokenAcquirer::next called before the previous step was answered",
                    ));
                }
                Stage::Done => {
                    return TokenStep::Failed(Error::DriverMisuse(
                        "TokenAcquirer::next called after the acquisition ended",
                    ))
                }
            }
        }
    }

    /// Takes the store's answer to the last [`TokenStep::Store`].
    pub fn on_store(&mut self, answer: StoreAnswer, config: &Config, now: OffsetDateTime) {
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        self.stage = match (stage, answer.0) {
            (Stage::AwaitLoad { leased }, Ok(Reply::Tokens(shared))) => {
                self.shared_generation = shared.as_ref().map_or(0, |s| s.generation);
                let adopted =
                    shared.is_some_and(|s| self.session.adopt(&s, config.refresh_margin, now));
                if adopted {
                    // Another instance renewed: look at the session again, most likely Ready.
                    self.adoptions += 1;
                    self.stashed = None;
                    Stage::Poll
                } else if leased {
                    Stage::SendStashed
                } else {
                    Stage::Ask(StoreOp::Lease(now))
                }
            }
            (Stage::AwaitLease, Ok(Reply::Flag(true))) => {
                self.leased = true;
                // It may have been renewed between the look and the lease.
                Stage::Ask(StoreOp::Load)
            }
            (Stage::AwaitLease, Ok(Reply::Flag(false))) => Stage::Pause,
            (Stage::AwaitPublish, Ok(_)) => Stage::Poll,
            (Stage::AwaitRelease(outcome), Ok(_)) => Stage::End(outcome),
            (stage, Err(error)) => {
                self.store_errors.push(error);
                self.store = None;
                self.leased = false;
                match stage {
                    Stage::AwaitLoad { .. } | Stage::AwaitLease => Stage::SendStashed,
                    Stage::AwaitRelease(outcome) => Stage::End(outcome),
                    _ => Stage::Poll,
                }
            }
            (_, Ok(_)) => Stage::End(Outcome::Failed(Error::DriverMisuse(
                "TokenAcquirer::on_store called without a store step outstanding",
            ))),
        };
    }

    /// Takes what came back from sending an exchange: the response, or the transport's
    /// failure. A new pair is published to the store next.
    pub fn on_exchange(
        &mut self,
        sent: Result<http::Response<Vec<u8>>, TransportError>,
        config: &Config,
        now: OffsetDateTime,
    ) {
        let Stage::AwaitExchange(exchange) = std::mem::replace(&mut self.stage, Stage::Done) else {
            self.stage = Stage::End(Outcome::Failed(Error::DriverMisuse(
                "TokenAcquirer::on_exchange called without an exchange outstanding",
            )));
            return;
        };
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                crate::telemetry::token_exchange(exchange, crate::telemetry::TokenResult::Failed);
                let endpoint = exchange.endpoint().spec().name.into();
                self.stage = Stage::End(Outcome::Failed(Error::Transport { endpoint, error }));
                return;
            }
        };
        let before = self.session.generation();
        let status = response.status().as_u16();
        if let Err(error) = self
            .session
            .handle(exchange, status, response.body(), config, now)
        {
            self.stage = Stage::End(Outcome::Failed(error));
            return;
        }
        self.stage = match (self.store, self.session.export()) {
            (Some(_), Some(tokens)) if self.session.generation() != before => {
                Stage::Ask(StoreOp::Publish {
                    expected: self.shared_generation,
                    tokens,
                })
            }
            _ => Stage::Poll,
        };
    }

    /// The error when another instance's renewal has been waited for longer than the caller
    /// allows ([`TokenStep::Wait`] past its deadline).
    #[must_use]
    pub fn waited_too_long(&self) -> Error {
        Error::Transport {
            endpoint: "refresh-token".into(),
            error: TransportError::new(
                TransportErrorKind::Timeout,
                "waited too long for another instance's refresh",
            ),
        }
    }
}

impl Drop for TokenAcquirer<'_> {
    fn drop(&mut self) {
        for error in self.store_errors.drain(..) {
            tracing::warn!(%error, "token store unavailable; using this instance's own session");
        }
    }
}

impl fmt::Debug for TokenAcquirer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAcquirer")
            .field("leased", &self.leased)
            .field("shared", &self.store.is_some())
            .finish_non_exhaustive()
    }
}
