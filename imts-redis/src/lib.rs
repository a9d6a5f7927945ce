//! Shared state in Redis for partners that run several instances on one IMTS credential:
//!
//! * [`RedisTokenStore`]: the current token pair with its generation, replaced only by
//!   compare-and-set, and a refresh lease with expiry (a crashed holder blocks the others for at
//!   most the lease's lifetime). Only one instance refreshes; the others adopt its pair.
//! * [`RedisSeenStore`]: the first delivery of a notification is decided atomically
//!   (`SET NX PX`), so exactly one instance processes it; a handler failure releases the id.
//!
//! When Redis cannot be reached the choices differ on purpose: the token store reports an error
//! and the client falls back to its own session (logged as a warning: more token exchanges, no
//! outage), while the seen store fails closed (the receiver answers 503 and IMTS delivers again
//! later: nothing is processed twice and nothing is lost).
//!
//! ```no_run
//! use std::sync::Arc;
//! # fn run(client: imts_core::Config) -> Result<(), Box<dyn std::error::Error>> {
//! let tokens = Arc::new(imts_redis::RedisTokenStore::open("redis://127.0.0.1/", "my-agent-id")?);
//! let seen = imts_redis::RedisSeenStore::open("redis://127.0.0.1/", "my-agent-id")?;
//! # let _ = (tokens, seen, client);
//! # Ok(())
//! # }
//! ```

/// A throwaway `redis-server` for tests (feature `test-util`).
#[cfg(feature = "test-util")]
pub mod test_server;

use std::sync::Mutex;
use std::time::Duration;

use imts_callbacks::{Claim, SeenStore, StoreError};
use imts_core::token_store::{SharedTokens, TokenStore, TokenStoreError};
use time::OffsetDateTime;

/// How long one Redis command may take before the store counts as unavailable.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

/// One connection, reopened after a failure.
struct Connection {
    client: redis::Client,
    connection: Mutex<Option<redis::Connection>>,
}

impl Connection {
    fn open(url: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: Mutex::new(None),
        })
    }

    fn run<T>(
        &self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, String> {
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            let connection = self
                .client
                .get_connection_with_timeout(COMMAND_TIMEOUT)
                .map_err(|e| e.to_string())?;
            connection
                .set_read_timeout(Some(COMMAND_TIMEOUT))
                .map_err(|e| e.to_string())?;
            connection
                .set_write_timeout(Some(COMMAND_TIMEOUT))
                .map_err(|e| e.to_string())?;
            *slot = Some(connection);
        }
        let Some(connection) = slot.as_mut() else {
            return Err("no connection".into());
        };
        let result = f(connection);
        if result.is_err() {
            *slot = None; // reconnect next time
        }
        result.map_err(|e| e.to_string())
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connection")
    }
}

/// The token pair of one credential, shared through Redis.
#[derive(Debug)]
pub struct RedisTokenStore {
    redis: Connection,
    tokens_key: String,
    lease_key: String,
}

const CAS: &str = r"
local current = redis.call('GET', KEYS[1])
local generation = 0
if current then generation = cjson.decode(current).generation end
if generation == tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

impl RedisTokenStore {
    /// A store for `agent_id`'s tokens at `url` (`redis://host:port/db`). Nothing is sent until
    /// it is used.
    ///
    /// # Errors
    /// When the URL is invalid.
    pub fn open(url: &str, agent_id: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            redis: Connection::open(url)?,
            tokens_key: format!("imts:{agent_id}:tokens"),
            lease_key: format!("imts:{agent_id}:refresh-lease"),
        })
    }
}

impl TokenStore for RedisTokenStore {
    fn load(&self) -> Result<Option<SharedTokens>, TokenStoreError> {
        let text: Option<String> = self
            .redis
            .run(|c| redis::cmd("GET").arg(&self.tokens_key).query(c))
            .map_err(TokenStoreError)?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| TokenStoreError(format!("stored tokens are not readable: {e}")))
        })
        .transpose()
    }

    fn compare_and_set(
        &self,
        expected: u64,
        tokens: &SharedTokens,
    ) -> Result<bool, TokenStoreError> {
        let json = serde_json::to_string(tokens).map_err(|e| TokenStoreError(e.to_string()))?;
        let stored: i64 = self
            .redis
            .run(|c| {
                redis::Script::new(CAS)
                    .key(&self.tokens_key)
                    .arg(expected)
                    .arg(&json)
                    .invoke(c)
            })
            .map_err(TokenStoreError)?;
        Ok(stored == 1)
    }

    fn try_lease(
        &self,
        holder: &str,
        ttl: Duration,
        _now: OffsetDateTime,
    ) -> Result<bool, TokenStoreError> {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let taken: Option<String> = self
            .redis
            .run(|c| {
                redis::cmd("SET")
                    .arg(&self.lease_key)
                    .arg(holder)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis)
                    .query(c)
            })
            .map_err(TokenStoreError)?;
        if taken.is_some() {
            return Ok(true);
        }
        let current: Option<String> = self
            .redis
            .run(|c| redis::cmd("GET").arg(&self.lease_key).query(c))
            .map_err(TokenStoreError)?;
        Ok(current.as_deref() == Some(holder))
    }

    fn release_lease(&self, holder: &str) -> Result<(), TokenStoreError> {
        let _: i64 = self
            .redis
            .run(|c| {
                redis::Script::new(RELEASE)
                    .key(&self.lease_key)
                    .arg(holder)
                    .invoke(c)
            })
            .map_err(TokenStoreError)?;
        Ok(())
    }
}

/// Seen notification ids in Redis, kept for the provider's retry window plus margin.
#[derive(Debug)]
pub struct RedisSeenStore {
    redis: Connection,
    prefix: String,
    retention: Duration,
}

const IN_FLIGHT: &str = "in-flight";
const DONE: &str = "done";

impl RedisSeenStore {
    /// A store for `agent_id`'s notifications at `url`.
    ///
    /// # Errors
    /// When the URL is invalid.
    pub fn open(url: &str, agent_id: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            redis: Connection::open(url)?,
            prefix: format!("imts:{agent_id}:seen:"),
            retention: imts_callbacks::PROVIDER_RETRY_WINDOW + imts_callbacks::RETENTION_MARGIN,
        })
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.retention.as_millis()).unwrap_or(u64::MAX)
    }
}

impl SeenStore for RedisSeenStore {
    fn claim(&self, id: &str, _now: OffsetDateTime) -> Result<Claim, StoreError> {
        let key = format!("{}{id}", self.prefix);
        let set: Option<String> = self
            .redis
            .run(|c| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(IN_FLIGHT)
                    .arg("NX")
                    .arg("PX")
                    .arg(self.millis())
                    .query(c)
            })
            .map_err(StoreError)?;
        if set.is_some() {
            return Ok(Claim::First);
        }
        let current: Option<String> = self
            .redis
            .run(|c| redis::cmd("GET").arg(&key).query(c))
            .map_err(StoreError)?;
        Ok(match current.as_deref() {
            Some(DONE) => Claim::Duplicate,
            Some(_) => Claim::InFlight,
            // Expired between the two commands: treat as in flight; the retry decides.
            None => Claim::InFlight,
        })
    }

    fn complete(&self, id: &str, _now: OffsetDateTime) -> Result<(), StoreError> {
        let key = format!("{}{id}", self.prefix);
        self.redis
            .run(|c| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(DONE)
                    .arg("PX")
                    .arg(self.millis())
                    .query::<()>(c)
            })
            .map_err(StoreError)
    }

    fn release(&self, id: &str) -> Result<(), StoreError> {
        let key = format!("{}{id}", self.prefix);
        let _: i64 = self
            .redis
            .run(|c| {
                redis::Script::new(RELEASE)
                    .key(&key)
                    .arg(IN_FLIGHT)
                    .invoke(c)
            })
            .map_err(StoreError)?;
        Ok(())
    }
}
