//! [`RedisTokenStore`]: one credential's token pair, replaced only by compare-and-set, and a
//! refresh lease with expiry.

use std::time::Duration;

use imts_core::token_store::{BoxFuture, SharedTokens, TokenStore, TokenStoreError};
use time::OffsetDateTime;

use crate::connection::{eval, Connection};

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

/// Deletes KEYS[1] if it still holds ARGV[1].
pub(crate) const DELETE_IF: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

impl RedisTokenStore {
    /// A store for `agent_id`'s tokens at `url` (`redis://host:port/db`). Nothing is sent until
    /// it is used. Its commands run on the tokio runtime current here, or on a small runtime of
    /// its own when there is none (a blocking program).
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
    fn load(&self) -> BoxFuture<'_, Result<Option<SharedTokens>, TokenStoreError>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(&self.tokens_key);
        let query = self.redis.query::<Option<String>>(cmd);
        Box::pin(async move {
            let text = query.await.map_err(TokenStoreError)?;
            text.map(|t| {
                serde_json::from_str(&t)
                    .map_err(|e| TokenStoreError(format!("stored tokens are not readable: {e}")))
            })
            .transpose()
        })
    }

    fn compare_and_set<'a>(
        &'a self,
        expected: u64,
        tokens: &'a SharedTokens,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>> {
        Box::pin(async move {
            let json = serde_json::to_string(tokens).map_err(|e| TokenStoreError(e.to_string()))?;
            let mut cmd = eval(CAS, &self.tokens_key);
            cmd.arg(expected).arg(json);
            let stored: i64 = self.redis.query(cmd).await.map_err(TokenStoreError)?;
            Ok(stored == 1)
        })
    }

    fn try_lease<'a>(
        &'a self,
        holder: &'a str,
        ttl: Duration,
        _now: OffsetDateTime,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>> {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        Box::pin(async move {
            let mut set = redis::cmd("SET");
            set.arg(&self.lease_key)
                .arg(holder)
                .arg("NX")
                .arg("PX")
                .arg(millis);
            let taken: Option<String> = self.redis.query(set).await.map_err(TokenStoreError)?;
            if taken.is_some() {
                return Ok(true);
            }
            let mut get = redis::cmd("GET");
            get.arg(&self.lease_key);
            let current: Option<String> = self.redis.query(get).await.map_err(TokenStoreError)?;
            Ok(current.as_deref() == Some(holder))
        })
    }

    fn release_lease<'a>(&'a self, holder: &'a str) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        let mut cmd = eval(DELETE_IF, &self.lease_key);
        cmd.arg(holder);
        let query = self.redis.query::<i64>(cmd);
        Box::pin(async move { query.await.map(drop).map_err(TokenStoreError) })
    }
}
