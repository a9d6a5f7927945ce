//! Sharing one credential's tokens across processes: a [`TokenStore`] holds the current pair with
//! its generation and a short lease, so among many instances only one refreshes at a time and
//! the others adopt its result instead of logging in again.
//!
//! [`TokenAcquirer`] is the logic both clients run under their local session lock: use the local
//! token; else adopt a newer shared one; else take the lease, check once more, exchange, and
//! publish with compare-and-set. A store that cannot be reached is bypassed (and logged once,
//! when the acquisition ends): the instance falls back to its own session (a refresh storm is
//! better than an outage).

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::{Config, Credentials};
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::models::auth::Token;
use crate::session::{Exchange, SessionStep, TokenSession};
use crate::values::Timestamp;

/// How long a refresh lease lasts: a crashed holder blocks the others at most this long.
pub const LEASE_TTL: Duration = Duration::from_secs(10);
/// How long an instance waits between looks at the store while another holds the lease.
pub const LEASE_POLL: Duration = Duration::from_millis(20);

/// A token pair as shared between instances. It holds live tokens: the store must be as private
/// as the credentials themselves.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedTokens {
    /// Increases with every exchange; the store keeps the highest.
    pub generation: u64,
    /// The access token.
    pub access_token: Token,
    /// The refresh token.
    pub refresh_token: Token,
    /// When the access token expires.
    pub access_expire_at: Timestamp,
    /// When the refresh token expires.
    pub refresh_expire_at: Timestamp,
}

impl fmt::Debug for SharedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedTokens")
            .field("generation", &self.generation)
            .field("access_expire_at", &self.access_expire_at)
            .finish_non_exhaustive()
    }
}

/// A shared store that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token store unavailable: {0}")]
pub struct TokenStoreError(pub String);

/// Where instances share the token pair of one credential.
pub trait TokenStore: Send + Sync {
    /// The current pair, if any.
    ///
    /// # Errors
    /// When the store cannot be reached.
    fn load(&self) -> Result<Option<SharedTokens>, TokenStoreError>;

    /// Stores `tokens` only if the stored generation is still `expected` (0: nothing stored).
    ///
    /// # Errors
    /// When the store cannot be reached.
    fn compare_and_set(
        &self,
        expected: u64,
        tokens: &SharedTokens,
    ) -> Result<bool, TokenStoreError>;

    /// Takes the refresh lease for `holder` unless someone else holds an unexpired one.
    ///
    /// # Errors
    /// When the store cannot be reached.
    fn try_lease(
        &self,
        holder: &str,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<bool, TokenStoreError>;

    /// Gives the lease back if `holder` still has it.
    ///
    /// # Errors
    /// When the store cannot be reached.
    fn release_lease(&self, holder: &str) -> Result<(), TokenStoreError>;
}

/// The stored pair and the lease (holder, until).
type MemoryState = (Option<SharedTokens>, Option<(String, OffsetDateTime)>);

/// An in-process [`TokenStore`], for several clients in one process and for tests.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    inner: Mutex<MemoryState>,
}

impl MemoryTokenStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Result<Option<SharedTokens>, TokenStoreError> {
        Ok(self.lock().0.clone())
    }

    fn compare_and_set(
        &self,
        expected: u64,
        tokens: &SharedTokens,
    ) -> Result<bool, TokenStoreError> {
        let mut inner = self.lock();
        let current = inner.0.as_ref().map_or(0, |t| t.generation);
        if current != expected {
            return Ok(false);
        }
        inner.0 = Some(tokens.clone());
        Ok(true)
    }

    fn try_lease(
        &self,
        holder: &str,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<bool, TokenStoreError> {
        let mut inner = self.lock();
        match &inner.1 {
            Some((other, until)) if other != holder && *until > now => Ok(false),
            _ => {
                inner.1 = Some((holder.to_owned(), now + ttl));
                Ok(true)
            }
        }
    }

    fn release_lease(&self, holder: &str) -> Result<(), TokenStoreError> {
        let mut inner = self.lock();
        if inner.1.as_ref().is_some_and(|(h, _)| h == holder) {
            inner.1 = None;
        }
        Ok(())
    }
}

/// What to do to obtain a token.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per token exchange; boxing buys nothing
pub enum TokenStep {
    /// Use this token (of this generation).
    Ready(Token, u64),
    /// Send this exchange and report what came back with [`TokenAcquirer::handle`].
    Send(http::Request<Vec<u8>>, Exchange),
    /// Another instance is renewing: wait this long, then ask again.
    Wait(Duration),
}

/// One token acquisition under the local session lock, coordinating through an optional store.
/// Dropping it releases a lease it holds and logs the store failures it met.
pub struct TokenAcquirer<'a> {
    session: &'a mut TokenSession,
    store: Option<&'a dyn TokenStore>,
    holder: &'a str,
    leased: bool,
    shared_generation: u64,
    /// Store failures met (logged once, on drop); the acquisition went on locally.
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
            leased: false,
            shared_generation: 0,
            store_errors: Vec::new(),
        }
    }

    /// The session (to invalidate a stale generation first).
    pub fn session(&mut self) -> &mut TokenSession {
        self.session
    }

    fn adopt_newer(
        &mut self,
        store: &dyn TokenStore,
        config: &Config,
        now: OffsetDateTime,
    ) -> bool {
        match store.load() {
            Ok(Some(shared)) => {
                self.shared_generation = shared.generation;
                self.session.adopt(&shared, config.refresh_margin, now)
            }
            Ok(None) => {
                self.shared_generation = 0;
                false
            }
            Err(error) => {
                self.store_errors.push(error);
                self.store = None;
                false
            }
        }
    }

    /// The next step at `now`.
    ///
    /// # Errors
    /// When a request cannot be built.
    pub fn next(
        &mut self,
        credentials: &Credentials,
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<TokenStep, Error> {
        for _ in 0..3 {
            let (request, exchange) = match self.session.poll(credentials, config, now)? {
                SessionStep::Ready { access, generation } => {
                    self.release();
                    return Ok(TokenStep::Ready(access, generation));
                }
                SessionStep::Send { request, exchange } => (request, exchange),
            };
            let Some(store) = self.store else {
                return Ok(TokenStep::Send(request, exchange));
            };
            if self.adopt_newer(store, config, now) {
                continue; // another instance renewed: poll again, most likely Ready
            }
            if self.store.is_none() {
                return Ok(TokenStep::Send(request, exchange));
            }
            if !self.leased {
                match store.try_lease(self.holder, LEASE_TTL, now) {
                    Ok(true) => {
                        self.leased = true;
                        // It may have been renewed between the look and the lease.
                        if self.adopt_newer(store, config, now) {
                            continue;
                        }
                    }
                    Ok(false) => return Ok(TokenStep::Wait(LEASE_POLL)),
                    Err(error) => {
                        self.store_errors.push(error);
                        self.store = None;
                    }
                }
            }
            self.session.raise_generation(self.shared_generation);
            return Ok(TokenStep::Send(request, exchange));
        }
        match self.session.poll(credentials, config, now)? {
            SessionStep::Ready { access, generation } => Ok(TokenStep::Ready(access, generation)),
            SessionStep::Send { request, exchange } => Ok(TokenStep::Send(request, exchange)),
        }
    }

    /// Takes what came back from sending an exchange: its status and body, or the transport's
    /// failure. A new pair is published to the store.
    ///
    /// # Errors
    /// The exchange's failure.
    pub fn handle(
        &mut self,
        exchange: Exchange,
        sent: Result<(u16, &[u8]), TransportError>,
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let (status, body) = sent.map_err(|error| Error::Transport {
            endpoint: exchange.endpoint().spec().name.into(),
            error,
        })?;
        let before = self.session.generation();
        self.session.handle(exchange, status, body, config, now)?;
        if let (Some(store), true) = (self.store, self.session.generation() != before) {
            if let Some(tokens) = self.session.export() {
                if let Err(error) = store.compare_and_set(self.shared_generation, &tokens) {
                    self.store_errors.push(error);
                }
            }
        }
        Ok(())
    }

    fn release(&mut self) {
        if self.leased {
            self.leased = false;
            if let Some(store) = self.store {
                if let Err(error) = store.release_lease(self.holder) {
                    self.store_errors.push(error);
                }
            }
        }
    }
}

impl TokenAcquirer<'_> {
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
        self.release();
        for error in self.store_errors.drain(..) {
            tracing::warn!(%error, "token store unavailable; using this instance's own session");
        }
    }
}

impl fmt::Debug for TokenAcquirer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAcquirer")
            .field("leased", &self.leased)
            .finish_non_exhaustive()
    }
}
