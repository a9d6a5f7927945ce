//! One multiplexed async Redis connection per store, opened on first use and reopened after a
//! failure. Every command runs as a task on a tokio runtime (the one current when the store was
//! opened, or a small one of the store's own for blocking programs), so its future can be
//! awaited from any executor, including the blocking client's thread, and never blocks a worker.

use std::sync::Arc;
use std::time::Duration;

use imts_core::token_store::BoxFuture;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Cmd, FromRedisValue};

/// How long one Redis command (or the connection it opens) may take before the store counts as
/// unavailable.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

struct Shared {
    client: redis::Client,
    slot: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

/// Where the commands run.
enum Runtime {
    /// The runtime the store was opened in.
    Borrowed(tokio::runtime::Handle),
    /// A runtime of the store's own (opened outside any runtime); shut down without blocking.
    Owned(Option<tokio::runtime::Runtime>),
}

pub(crate) struct Connection {
    shared: Arc<Shared>,
    runtime: Runtime,
}

impl Connection {
    /// A connection to `url`; nothing is sent until it is used.
    pub(crate) fn open(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let runtime = match tokio::runtime::Handle::try_current() {
            Ok(handle) => Runtime::Borrowed(handle),
            Err(_) => Runtime::Owned(Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("imts-redis")
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        redis::RedisError::from((
                            redis::ErrorKind::IoError,
                            "cannot start the store's runtime",
                            e.to_string(),
                        ))
                    })?,
            )),
        };
        Ok(Self {
            shared: Arc::new(Shared {
                client,
                slot: tokio::sync::Mutex::new(None),
            }),
            runtime,
        })
    }

    fn handle(&self) -> Option<&tokio::runtime::Handle> {
        match &self.runtime {
            Runtime::Borrowed(handle) => Some(handle),
            Runtime::Owned(runtime) => runtime.as_ref().map(tokio::runtime::Runtime::handle),
        }
    }

    /// Runs `cmd`, bounded by [`COMMAND_TIMEOUT`]; any failure is a message (never the URL).
    pub(crate) fn query<T>(&self, cmd: Cmd) -> BoxFuture<'static, Result<T, String>>
    where
        T: FromRedisValue + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        let task = self.handle().map(|handle| handle.spawn(run(shared, cmd)));
        Box::pin(async move {
            match task {
                Some(task) => task.await.map_err(|e| format!("redis task failed: {e}"))?,
                None => Err("the store's runtime is gone".into()),
            }
        })
    }
}

async fn run<T: FromRedisValue>(shared: Arc<Shared>, cmd: Cmd) -> Result<T, String> {
    let mut connection = {
        let mut slot = shared.slot.lock().await;
        match &*slot {
            Some(connection) => connection.clone(),
            None => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(COMMAND_TIMEOUT)
                    .set_response_timeout(COMMAND_TIMEOUT);
                let connection = tokio::time::timeout(
                    COMMAND_TIMEOUT,
                    shared
                        .client
                        .get_multiplexed_async_connection_with_config(&config),
                )
                .await
                .map_err(|_| format!("no connection within {COMMAND_TIMEOUT:?}"))?
                .map_err(|e| e.to_string())?;
                *slot = Some(connection.clone());
                connection
            }
        }
    };
    let result = match tokio::time::timeout(COMMAND_TIMEOUT, cmd.query_async(&mut connection)).await
    {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(error)) => error.to_string(),
        Err(_) => format!("no answer within {COMMAND_TIMEOUT:?}"),
    };
    *shared.slot.lock().await = None; // reconnect next time
    Err(result)
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Runtime::Owned(runtime) = &mut self.runtime {
            if let Some(runtime) = runtime.take() {
                runtime.shutdown_background(); // never blocks, even inside another runtime
            }
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connection")
    }
}

/// `EVAL script 1 key args...`: the scripts are tiny and rare (renewals, releases).
pub(crate) fn eval(script: &str, key: &str) -> Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(script).arg(1).arg(key);
    cmd
}
