//! [`AnyClient`]: either client behind one blocking face, for tools and test suites written once
//! for both (the `imts` CLI, the conformance suite).

use imts_core::session::SessionStats;
use imts_core::{Error, Operation};

use crate::{AsyncClient, BlockingClient, ClientBuilder};

/// Which client [`ClientBuilder::build_any`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// The async client, on a runtime of its own.
    Async,
    /// The blocking client.
    Blocking,
}

/// The async client (on a two-thread runtime of its own) or the blocking one, with the same
/// blocking methods. Applications pick one client and use it directly; this is for code that
/// must run against both.
#[derive(Debug)]
pub enum AnyClient {
    /// The async client and the runtime its calls run on.
    Async {
        /// The runtime.
        runtime: tokio::runtime::Runtime,
        /// The client.
        client: AsyncClient,
    },
    /// The blocking client.
    Blocking(BlockingClient),
}

impl ClientBuilder {
    /// The client of `flavour` behind [`AnyClient`].
    ///
    /// # Errors
    /// [`Error::ClientBuild`] as for [`build`](Self::build), or when the runtime cannot start.
    pub fn build_any(self, flavour: Flavour) -> Result<AnyClient, Error> {
        Ok(match flavour {
            Flavour::Async => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| Error::ClientBuild(format!("the async runtime: {e}")))?;
                let client = self.build()?;
                AnyClient::Async { runtime, client }
            }
            Flavour::Blocking => AnyClient::Blocking(self.build_blocking()?),
        })
    }
}

impl AnyClient {
    /// Which client this is.
    #[must_use]
    pub fn flavour(&self) -> Flavour {
        match self {
            AnyClient::Async { .. } => Flavour::Async,
            AnyClient::Blocking(_) => Flavour::Blocking,
        }
    }

    /// Resolves the journal's open records (see `AsyncClient::resume`).
    ///
    /// # Errors
    /// [`Error::Journal`] when the client has no journal or it cannot be read.
    pub fn resume(&self) -> Result<Vec<imts_core::journal::Resolved>, Error> {
        match self {
            AnyClient::Async { runtime, client } => runtime.block_on(client.resume()),
            AnyClient::Blocking(client) => client.resume(),
        }
    }

    /// One reconciliation pass at `now` (`reconcile_once` of either client).
    ///
    /// # Errors
    /// [`Error::Journal`] when the client has no journal or it cannot be read.
    pub fn reconcile_once(
        &self,
        planner: &mut imts_core::reconcile::Planner,
        now: imts_core::values::Timestamp,
        mode: imts_core::reconcile::Mode,
    ) -> Result<imts_core::reconcile::Report, Error> {
        match self {
            AnyClient::Async { runtime, client } => {
                runtime.block_on(client.reconcile_once(planner, now, mode))
            }
            AnyClient::Blocking(client) => client.reconcile_once(planner, now, mode),
        }
    }

    /// Runs one operation to the end.
    ///
    /// # Errors
    /// Whatever the call ends in.
    pub fn call<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        match self {
            AnyClient::Async { runtime, client } => runtime.block_on(client.call(op)),
            AnyClient::Blocking(client) => client.call(op),
        }
    }

    /// Runs `op` `n` times at once (async tasks, or threads released together) and returns
    /// each result, in no particular order.
    pub fn call_concurrently<O>(&self, op: &O, n: usize) -> Vec<Result<O::Output, Error>>
    where
        O: Operation + Clone + Send + Sync + 'static,
        O::Output: Send + 'static,
    {
        match self {
            AnyClient::Async { runtime, client } => runtime.block_on(async {
                let tasks: Vec<_> = (0..n)
                    .map(|_| {
                        let (client, op) = (client.clone(), op.clone());
                        tokio::spawn(async move { client.call(&op).await })
                    })
                    .collect();
                let mut results = Vec::with_capacity(n);
                for task in tasks {
                    results.push(task.await.unwrap_or_else(|e| {
                        Err(Error::DriverMisuse(if e.is_panic() {
                            "a concurrent call panicked"
                        } else {
                            "a concurrent call was cancelled"
                        }))
                    }));
                }
                results
            }),
            AnyClient::Blocking(client) => {
                let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
                let threads: Vec<_> = (0..n)
                    .map(|_| {
                        let (client, op) = (client.clone(), op.clone());
                        let barrier = std::sync::Arc::clone(&barrier);
                        std::thread::spawn(move || {
                            barrier.wait();
                            client.call(&op)
                        })
                    })
                    .collect();
                threads
                    .into_iter()
                    .map(|thread| {
                        thread
                            .join()
                            .unwrap_or(Err(Error::DriverMisuse("a concurrent call panicked")))
                    })
                    .collect()
            }
        }
    }

    /// Obtains a token now (the first call does this by itself).
    ///
    /// # Errors
    /// The exchange's failure.
    pub fn authenticate(&self) -> Result<(), Error> {
        match self {
            AnyClient::Async { runtime, client } => runtime.block_on(client.authenticate()),
            AnyClient::Blocking(client) => client.authenticate(),
        }
    }

    /// Renews the token pair now with Refresh token.
    ///
    /// # Errors
    /// The exchange's failure.
    pub fn refresh_token(&self) -> Result<(), Error> {
        match self {
            AnyClient::Async { runtime, client } => runtime.block_on(client.refresh_token()),
            AnyClient::Blocking(client) => client.refresh_token(),
        }
    }

    /// Counts of token exchanges so far.
    #[must_use]
    pub fn session_stats(&self) -> SessionStats {
        match self {
            AnyClient::Async { runtime, client } => runtime.block_on(client.session_stats()),
            AnyClient::Blocking(client) => client.session_stats(),
        }
    }
}
