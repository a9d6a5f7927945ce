//! One integration suite, written once, run against both IMTS clients, each against an
//! in-process sandbox, through the SDK's own [`AnyClient`] (the blocking client directly, the
//! async one on a runtime of its own). [`Api`] names what the suite uses of it.

use std::time::Duration;

use imts::models::{
    CreatePerson, CreateTransferRequest, NewTransfer, StatusRequest, StatusResponse,
};
use imts::personal::PersonData;
use imts::protocol::session::SessionStats;
use imts::protocol::Operation;
use imts::types::Money;
use imts::{AnyClient, ClientBuilder, Config, Credentials, Error, Flavour};
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

/// The SDK's own face for both clients runs the suite.
impl Api for AnyClient {
    fn call<O: Operation + Sync>(&self, op: &O) -> Result<O::Output, Error>
    where
        O::Output: Send,
    {
        AnyClient::call(self, op)
    }

    fn concurrent_status(
        &self,
        n: usize,
        request: &StatusRequest,
    ) -> Vec<Result<StatusResponse, Error>> {
        self.call_concurrently(request, n)
    }

    fn session_stats(&self) -> SessionStats {
        AnyClient::session_stats(self)
    }
}

/// The async client for `config` (on a runtime of its own), as an [`AnyClient`].
///
/// # Panics
/// When the runtime or client cannot be built (a broken test machine).
#[must_use]
pub fn async_api(credentials: Credentials, config: Config) -> AnyClient {
    ClientBuilder::new(credentials)
        .config(config)
        .build_any(Flavour::Async)
        .expect("an async client")
}

/// The blocking client for `config`, as an [`AnyClient`].
///
/// # Panics
/// When the client cannot be built (a bad base URL).
#[must_use]
pub fn blocking_api(credentials: Credentials, config: Config) -> AnyClient {
    ClientBuilder::new(credentials)
        .config(config)
        .build_any(Flavour::Blocking)
        .expect("a blocking client")
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
