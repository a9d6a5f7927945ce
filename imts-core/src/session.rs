//! The token session, sans-IO: it holds the token pair, says when to authenticate or refresh,
//! and takes the answers. The transports serialise access to it (one lock per credential), so one
//! refresh serves every concurrent caller.

use crate::telemetry::{self, TokenResult};
use std::time::Duration;

use time::OffsetDateTime;

use crate::config::{Config, Credentials, RefreshStyle};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::models::auth::{Token, TokenResponse};
use crate::operation::build_http;
use crate::response;
use crate::retry::JitterRng;
use crate::token_store::SharedTokens;
use crate::values::Timestamp;

/// How long a token pair that has already expired by our clock when it arrives (the server's
/// clock is behind ours) is used before the next exchange: at most one exchange this often,
/// however far apart the clocks are.
pub const SKEWED_TRUST: Duration = Duration::from_secs(5 * 60);
/// Which token exchange a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exchange {
    /// Get token with `agent_id` and `agent_secret`.
    Authenticate,
    /// Refresh token with the refresh token.
    Refresh,
}

impl Exchange {
    /// The endpoint.
    #[must_use]
    pub fn endpoint(self) -> Endpoint {
        match self {
            Exchange::Authenticate => Endpoint::GetToken,
            Exchange::Refresh => Endpoint::RefreshToken,
        }
    }
}

/// What the session needs next.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once per exchange; boxing buys nothing
pub enum SessionStep {
    /// A usable access token, and the generation it belongs to (report it with a 401).
    Ready {
        /// The access token.
        access: Token,
        /// Its generation.
        generation: u64,
    },
    /// Send this token exchange and hand the answer to [`TokenSession::handle`].
    Send {
        /// The request (it carries credentials: never log it).
        request: http::Request<Vec<u8>>,
        /// Which exchange it is.
        exchange: Exchange,
    },
}

#[derive(Debug, Clone)]
struct Held {
    access: Token,
    refresh: Token,
    refresh_at: OffsetDateTime,
    access_expires: OffsetDateTime,
    refresh_expires: OffsetDateTime,
    refresh_usable: bool,
    stale: bool,
}

/// Counters of token exchanges, for tests and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Get token answers taken.
    pub authentications: u64,
    /// Refresh token answers taken.
    pub refreshes: u64,
}

/// The token pair of one credential and when to renew it.
#[derive(Debug)]
pub struct TokenSession {
    held: Option<Held>,
    generation: u64,
    rng: JitterRng,
    stats: SessionStats,
}

impl TokenSession {
    /// An empty session; `seed` feeds the refresh jitter.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            held: None,
            generation: 0,
            rng: JitterRng::new(seed),
            stats: SessionStats::default(),
        }
    }

    /// The current token generation (0 before the first token).
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How many exchanges were taken.
    #[must_use]
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// What to do at `now`: use the token, or send an exchange first. A token is renewed ahead of
    /// expiry (`refresh_margin` plus up to a quarter of it in jitter); a refresh token that is
    /// expired or was refused leads to a full authentication.
    ///
    /// # Errors
    /// When the request cannot be built (a bad base URL).
    pub fn poll(
        &mut self,
        credentials: &Credentials,
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<SessionStep, Error> {
        let Some(held) = &self.held else {
            return self.authenticate_request(credentials, config);
        };
        // `refresh_at` is never after `access_expires` (`store`), so it alone decides.
        if !held.stale && now < held.refresh_at {
            return Ok(SessionStep::Ready {
                access: held.access.clone(),
                generation: self.generation,
            });
        }
        if held.refresh_usable && now < held.refresh_expires {
            let uri =
                crate::operation::join_url(&config.base_url, Endpoint::RefreshToken.full_path());
            let request = match config.refresh_style {
                RefreshStyle::BearerHeader => build_http(
                    &http::Method::PATCH,
                    uri,
                    Some(held.refresh.expose_secret()),
                    None,
                )?,
                RefreshStyle::JsonBody => {
                    let body = serde_json::json!({ "refresh_token": held.refresh.expose_secret() });
                    build_http(
                        &http::Method::PATCH,
                        uri,
                        None,
                        Some(body.to_string().into_bytes()),
                    )?
                }
            };
            return Ok(SessionStep::Send {
                request,
                exchange: Exchange::Refresh,
            });
        }
        self.authenticate_request(credentials, config)
    }

    fn authenticate_request(
        &self,
        credentials: &Credentials,
        config: &Config,
    ) -> Result<SessionStep, Error> {
        let secret = String::from_utf8_lossy(credentials.signer().secret().expose_secret());
        let body = serde_json::json!({
            "agent_id": credentials.agent_id().as_str(),
            "agent_secret": secret,
        });
        let uri = crate::operation::join_url(&config.base_url, Endpoint::GetToken.full_path());
        Ok(SessionStep::Send {
            request: build_http(
                &http::Method::POST,
                uri,
                None,
                Some(body.to_string().into_bytes()),
            )?,
            exchange: Exchange::Authenticate,
        })
    }

    /// Takes the answer of an exchange. A refused refresh (401) is not an error: the refresh
    /// token is dropped and the next [`poll`](Self::poll) authenticates.
    ///
    /// # Errors
    /// The API or decoding error of a failed exchange.
    pub fn handle(
        &mut self,
        exchange: Exchange,
        status: u16,
        body: &[u8],
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let route = exchange.endpoint().route();
        match response::decode::<TokenResponse>(&route, status, body) {
            Ok(tokens) => {
                self.store(tokens, config.refresh_margin, now);
                match exchange {
                    Exchange::Authenticate => self.stats.authentications += 1,
                    Exchange::Refresh => self.stats.refreshes += 1,
                }
                telemetry::token_exchange(exchange, TokenResult::Ok);
                Ok(())
            }
            Err(_) if exchange == Exchange::Refresh && status == 401 => {
                if let Some(held) = &mut self.held {
                    held.refresh_usable = false;
                }
                telemetry::token_exchange(exchange, TokenResult::Refused);
                Ok(())
            }
            Err(err) => {
                telemetry::token_exchange(exchange, TokenResult::Failed);
                Err(err)
            }
        }
    }

    fn store(&mut self, tokens: TokenResponse, margin: Duration, now: OffsetDateTime) {
        let margin_nanos = u64::try_from(margin.as_nanos()).unwrap_or(u64::MAX);
        let jitter = Duration::from_nanos(self.rng.below(margin_nanos / 4 + 1));
        // A pair that has expired by our clock the moment it arrives means the clocks disagree
        // (the server's is behind ours): it was just issued, so it is used until the server
        // refuses it (a 401 invalidates it) or for SKEWED_TRUST, rather than exchanged again
        // at once, in a loop.
        let at_least = |expiry: OffsetDateTime, trust: Duration| {
            if expiry <= now {
                now + trust
            } else {
                expiry
            }
        };
        let access_expires = at_least(tokens.access_expire_at.as_offset_date_time(), SKEWED_TRUST);
        // Renew ahead of expiry, but never earlier than half the token's remaining life, so a
        // short-lived token is still used.
        let lifetime = (access_expires - now).max(time::Duration::ZERO);
        let ahead = time::Duration::try_from(margin + jitter)
            .unwrap_or(time::Duration::MAX)
            .min(lifetime / 2);
        self.generation += 1;
        self.held = Some(Held {
            access: tokens.access_token,
            refresh: tokens.refresh_token,
            refresh_at: access_expires - ahead,
            access_expires,
            // The refresh token outlives the access token's window, so that window ends in a
            // refresh (a refused one falls back to authentication).
            refresh_expires: at_least(
                tokens.refresh_expire_at.as_offset_date_time(),
                SKEWED_TRUST * 2,
            ),
            refresh_usable: true,
            stale: false,
        });
    }

    /// The current token pair, for a shared store.
    #[must_use]
    pub fn export(&self) -> Option<SharedTokens> {
        self.held.as_ref().map(|held| SharedTokens {
            generation: self.generation,
            access_token: held.access.clone(),
            refresh_token: held.refresh.clone(),
            access_expire_at: Timestamp::new(held.access_expires),
            refresh_expire_at: Timestamp::new(held.refresh_expires),
        })
    }

    /// Takes a newer token pair from a shared store (another instance renewed it). Returns whether
    /// it was newer than the one held.
    pub fn adopt(&mut self, shared: &SharedTokens, margin: Duration, now: OffsetDateTime) -> bool {
        if shared.generation <= self.generation {
            return false;
        }
        let tokens = TokenResponse {
            access_token: shared.access_token.clone(),
            refresh_token: shared.refresh_token.clone(),
            access_expire_at: shared.access_expire_at,
            refresh_expire_at: shared.refresh_expire_at,
            extra: crate::models::Extra::default(),
        };
        self.store(tokens, margin, now);
        self.generation = shared.generation;
        true
    }

    /// Makes the next generation number larger than `generation` (a shared store's), so the pair
    /// this session obtains next supersedes it.
    pub fn raise_generation(&mut self, generation: u64) {
        self.generation = self.generation.max(generation);
    }

    /// Marks the current token as due for renewal, so the next [`poll`](Self::poll) refreshes
    /// (or authenticates, when there is no usable refresh token).
    pub fn expire_now(&mut self) {
        let generation = self.generation;
        self.invalidate(generation);
    }

    /// A call was refused with 401 using the token of `generation`. Only that generation is
    /// invalidated: if a newer token exists, the caller simply uses it.
    pub fn invalidate(&mut self, generation: u64) {
        if generation == self.generation {
            if let Some(held) = &mut self.held {
                held.stale = true;
            }
        }
    }
}
