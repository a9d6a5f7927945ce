//! [`RedisSeenStore`]: the first delivery of a notification decided atomically (`SET NX PX`).

use std::time::Duration;

use imts_callbacks::{Claim, SeenStore, StoreError};
use imts_core::token_store::BoxFuture;
use time::OffsetDateTime;

use crate::connection::{eval, Connection};
use crate::tokens::DELETE_IF;

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
    /// A store for `agent_id`'s notifications at `url` (runtime as for
    /// [`RedisTokenStore::open`](crate::RedisTokenStore::open)).
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
    fn claim<'a>(
        &'a self,
        id: &'a str,
        _now: OffsetDateTime,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        let key = format!("{}{id}", self.prefix);
        Box::pin(async move {
            let mut set = redis::cmd("SET");
            set.arg(&key)
                .arg(IN_FLIGHT)
                .arg("NX")
                .arg("PX")
                .arg(self.millis());
            let set: Option<String> = self.redis.query(set).await.map_err(StoreError)?;
            if set.is_some() {
                return Ok(Claim::First);
            }
            let mut get = redis::cmd("GET");
            get.arg(&key);
            let current: Option<String> = self.redis.query(get).await.map_err(StoreError)?;
            Ok(match current.as_deref() {
                Some(DONE) => Claim::Duplicate,
                // In flight, or expired between the two commands: the retry decides.
                _ => Claim::InFlight,
            })
        })
    }

    fn complete<'a>(
        &'a self,
        id: &'a str,
        _now: OffsetDateTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(format!("{}{id}", self.prefix))
            .arg(DONE)
            .arg("PX")
            .arg(self.millis());
        let query = self.redis.query::<()>(cmd);
        Box::pin(async move { query.await.map_err(StoreError) })
    }

    fn release<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut cmd = eval(DELETE_IF, &format!("{}{id}", self.prefix));
        cmd.arg(IN_FLIGHT);
        let query = self.redis.query::<i64>(cmd);
        Box::pin(async move { query.await.map(drop).map_err(StoreError) })
    }
}
