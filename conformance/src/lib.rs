//! One integration suite, written once, run against both IMTS clients, each against an
//! in-process sandbox. [`Api`] is the small blocking face both clients show the suite: the
//! blocking client directly, the async one through a runtime of its own.

use std::sync::Arc;
use std::time::Duration;

use imts::models::{
    CreatePerson, CreateTransferRequest, NewTransfer, StatusRequest, StatusResponse,
};
use imts::personal::PersonData;
use imts::protocol::session::SessionStats;
use imts::protocol::Operation;
use imts::types::Money;
use imts::{Config, Credentials, Error};
use imts_sandbox::{BackgroundSandbox, SandboxConfig};

/// What the suite needs of a client.
pub trait Api: Send + Sync {
    /// Runs one operation to the end.
    ///
    /// # Errors
    /// Whatever the call ends in.
    fn call<O: Operation + Sync>(&self, op: &O) -> Result<O::Output, Error>
    where
        O::Output: Send;
    /// Runs `n` Status calls at once.
    fn concurrent_status(
        &self,
        n: usize,
        request: &StatusRequest,
    ) -> Vec<Result<StatusResponse, Error>>;
    /// Token exchanges so far.
    fn session_stats(&self) -> SessionStats;
}

/// The async client on a runtime of its own.
#[derive(Debug)]
pub struct AsyncApi {
    runtime: tokio::runtime::Runtime,
    client: imts::AsyncClient,
}

impl AsyncApi {
    /// A client for `config`.
    ///
    /// # Panics
    /// When the runtime or client cannot be built (a broken test machine).
    #[must_use]
    pub fn new(credentials: Credentials, config: Config) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let client = imts::AsyncClient::new(credentials, config).expect("an async client");
        Self { runtime, client }
    }
}

impl Api for AsyncApi {
    fn call<O: Operation + Sync>(&self, op: &O) -> Result<O::Output, Error>
    where
        O::Output: Send,
    {
        self.runtime.block_on(self.client.call(op))
    }

    fn concurrent_status(
        &self,
        n: usize,
        request: &StatusRequest,
    ) -> Vec<Result<StatusResponse, Error>> {
        self.runtime.block_on(async {
            let tasks: Vec<_> = (0..n)
                .map(|_| {
                    let (client, request) = (self.client.clone(), request.clone());
                    tokio::spawn(async move { client.status(&request).await })
                })
                .collect();
            let mut results = Vec::with_capacity(n);
            for task in tasks {
                results.push(task.await.expect("task completed"));
            }
            results
        })
    }

    fn session_stats(&self) -> SessionStats {
        self.runtime.block_on(self.client.session_stats())
    }
}

/// The blocking client.
#[derive(Debug)]
pub struct BlockingApi {
    client: imts::BlockingClient,
}

impl BlockingApi {
    /// A client for `config`.
    #[must_use]
    pub fn new(credentials: Credentials, config: Config) -> Self {
        Self {
            client: imts::BlockingClient::new(credentials, config),
        }
    }
}

impl Api for BlockingApi {
    fn call<O: Operation + Sync>(&self, op: &O) -> Result<O::Output, Error>
    where
        O::Output: Send,
    {
        self.client.call(op)
    }

    fn concurrent_status(
        &self,
        n: usize,
        request: &StatusRequest,
    ) -> Vec<Result<StatusResponse, Error>> {
        let barrier = Arc::new(std::sync::Barrier::new(n));
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (client, request, barrier) =
                    (self.client.clone(), request.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    client.status(&request)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread completed"))
            .collect()
    }

    fn session_stats(&self) -> SessionStats {
        self.client.session_stats()
    }
}

/// A sandbox and a client of one flavour for its first partner.
pub struct Fixture<A> {
    /// The sandbox (stops when dropped).
    pub sandbox: BackgroundSandbox,
    /// The client.
    pub api: A,
}

/// Builds a client of one flavour.
pub type MakeApi<A> = fn(Credentials, Config) -> A;

/// Starts a sandbox with `config` and a client for its first partner.
///
/// # Panics
/// When the sandbox cannot start.
pub fn fixture<A: Api>(
    make: MakeApi<A>,
    config: SandboxConfig,
    tune: impl FnOnce(&mut Config),
) -> Fixture<A> {
    let sandbox = BackgroundSandbox::start(config).expect("sandbox starts");
    let api = make(credentials(&sandbox, 0), {
        let mut c = Config::new(sandbox.base_url());
        c.retry.base_delay = Duration::from_millis(5);
        c.retry.max_delay = Duration::from_millis(50);
        tune(&mut c);
        c
    });
    Fixture { sandbox, api }
}

/// The credentials of the sandbox's partner `index`.
#[must_use]
pub fn credentials(sandbox: &BackgroundSandbox, index: usize) -> Credentials {
    let agent = &sandbox.agents()[index];
    Credentials::new(
        agent.agent_id.parse().expect("agent id"),
        agent.agent_secret.clone(),
    )
    .with_partner_key(agent.partner_key.clone())
}

/// A valid person: the SDK's sample (`imts_sandbox::samples`).
///
/// # Panics
/// Never: the sample's values are valid.
#[must_use]
pub fn person(last_name: &str) -> PersonData {
    imts_sandbox::samples::person(last_name).expect("the sample person is valid")
}

/// Create person for `last_name`: the SDK's sample.
///
/// # Panics
/// Never: the sample's values are valid.
#[must_use]
pub fn create_person(last_name: &str) -> CreatePerson {
    imts_sandbox::samples::create_person(last_name).expect("the sample person is valid")
}

/// The SDK's sample on-demand transfer to a phone in Uzbekistan, for 100.50 KZT.
///
/// # Panics
/// When `order_id` is not a valid order id.
#[must_use]
pub fn transfer(client_uuid: &imts::types::ClientUuid, order_id: &str) -> CreateTransferRequest {
    let sample = imts_sandbox::samples::new_transfer(client_uuid, order_id).expect("order id");
    CreateTransferRequest::new(NewTransfer {
        amount: Money::new(
            "100.50".parse().expect("amount"),
            "KZT".parse().expect("currency"),
        ),
        ..sample
    })
}
