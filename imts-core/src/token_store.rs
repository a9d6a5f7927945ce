//! Sharing one credential's tokens across processes: a [`TokenStore`] holds the current pair with
//! its generation and a short lease, so among many instances only one refreshes at a time and
//! the others adopt its result instead of logging in again.
//!
//! The store is asynchronous (its calls are futures), so a shared store over the network never
//! blocks an async runtime's worker; the blocking client drives the same futures on its own
//! thread. [`crate::acquire::TokenAcquirer`] decides what to ask the store and when.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::models::auth::Token;
use crate::values::Timestamp;

/// A boxed, sendable future: what the store traits return, so they can be used as `dyn` objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How long one store call may take before the async client counts the store as unavailable
/// (implementations should bound their own calls below this too).
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

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
///
/// Every call is a future; an implementation over the network bounds each one (a store that
/// does not answer is an unavailable store: the client falls back to its own session).
pub trait TokenStore: Send + Sync {
    /// The current pair, if any.
    fn load(&self) -> BoxFuture<'_, Result<Option<SharedTokens>, TokenStoreError>>;

    /// Stores `tokens` only if the stored generation is still `expected` (0: nothing stored);
    /// answers whether it stored them.
    fn compare_and_set<'a>(
        &'a self,
        expected: u64,
        tokens: &'a SharedTokens,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>>;

    /// Takes the refresh lease for `holder` unless someone else holds an unexpired one; answers
    /// whether `holder` holds it now.
    fn try_lease<'a>(
        &'a self,
        holder: &'a str,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>>;

    /// Gives the lease back if `holder` still has it.
    fn release_lease<'a>(&'a self, holder: &'a str) -> BoxFuture<'a, Result<(), TokenStoreError>>;
}

/// The stored pair and the lease (holder, until).
type MemoryState = (Option<SharedTokens>, Option<(String, OffsetDateTime)>);

/// An in-process [`TokenStore`], for several clients in one process and for tests. Its futures
/// are ready at once.
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
    fn load(&self) -> BoxFuture<'_, Result<Option<SharedTokens>, TokenStoreError>> {
        let loaded = self.lock().0.clone();
        Box::pin(std::future::ready(Ok(loaded)))
    }

    fn compare_and_set<'a>(
        &'a self,
        expected: u64,
        tokens: &'a SharedTokens,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>> {
        let mut inner = self.lock();
        let current = inner.0.as_ref().map_or(0, |t| t.generation);
        let stored = current == expected;
        if stored {
            inner.0 = Some(tokens.clone());
        }
        Box::pin(std::future::ready(Ok(stored)))
    }

    fn try_lease<'a>(
        &'a self,
        holder: &'a str,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>> {
        let mut inner = self.lock();
        let taken = match &inner.1 {
            Some((other, until)) if other != holder && *until > now => false,
            _ => {
                inner.1 = Some((holder.to_owned(), now + ttl));
                true
            }
        };
        Box::pin(std::future::ready(Ok(taken)))
    }

    fn release_lease<'a>(&'a self, holder: &'a str) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        let mut inner = self.lock();
        if inner.1.as_ref().is_some_and(|(h, _)| h == holder) {
            inner.1 = None;
        }
        Box::pin(std::future::ready(Ok(())))
    }
}
