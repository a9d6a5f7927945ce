//! [`RedisStatusStore`]: the last known status of each transfer, shared by a fleet, merged with
//! the core's life cycle and written by compare-and-set, so two instances never disagree about
//! which update is late.

use std::time::Duration;

use imts_callbacks::{StatusStore, StoreError};
use imts_core::enums::TransferStatus;
use imts_core::lifecycle::{merge, Merge};
use imts_core::token_store::BoxFuture;

use crate::connection::{eval, Connection};

/// How long a transfer's status is kept after its last change: far past any notification or
/// poll that could still concern it.
pub const STATUS_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// Compare-and-set rounds before an update under constant contention is reported as an outage.
const MAX_ROUNDS: usize = 16;

/// Sets KEYS[1] to ARGV[2] (expiring in ARGV[3] ms) if it still holds ARGV[1] ("" for absent).
const SET_IF: &str = r"
local current = redis.call('GET', KEYS[1]) or ''
if current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

/// Transfer statuses in Redis.
#[derive(Debug)]
pub struct RedisStatusStore {
    redis: Connection,
    prefix: String,
}

impl RedisStatusStore {
    /// A store for `agent_id`'s transfers at `url` (runtime as for
    /// [`RedisTokenStore::open`](crate::RedisTokenStore::open)).
    ///
    /// # Errors
    /// When the URL is invalid.
    pub fn open(url: &str, agent_id: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            redis: Connection::open(url)?,
            prefix: format!("imts:{agent_id}:status:"),
        })
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut get = redis::cmd("GET");
        get.arg(key);
        self.redis.query(get).await.map_err(StoreError)
    }
}

impl StatusStore for RedisStatusStore {
    fn known<'a>(
        &'a self,
        transfer_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<TransferStatus>, StoreError>> {
        Box::pin(async move {
            let key = format!("{}{transfer_id}", self.prefix);
            Ok(self
                .get(&key)
                .await?
                .map(|text| TransferStatus::from(text.as_str())))
        })
    }

    fn apply<'a>(
        &'a self,
        transfer_id: &'a str,
        observed: &'a TransferStatus,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let key = format!("{}{transfer_id}", self.prefix);
            let millis = u64::try_from(STATUS_RETENTION.as_millis()).unwrap_or(u64::MAX);
            for _ in 0..MAX_ROUNDS {
                let current = self.get(&key).await?;
                let known = current.as_deref().map(TransferStatus::from);
                let Merge::Applied(next) = merge(known.as_ref(), observed) else {
                    return Ok(false);
                };
                let mut cmd = eval(SET_IF, &key);
                cmd.arg(current.as_deref().unwrap_or(""))
                    .arg(next.as_str())
                    .arg(millis);
                let set: i64 = self.redis.query(cmd).await.map_err(StoreError)?;
                if set == 1 {
                    return Ok(true);
                }
                // Another instance changed it between the look and the write: merge again.
            }
            Err(StoreError(format!(
                "status of a transfer changed {MAX_ROUNDS} times during one update"
            )))
        })
    }
}
