//! One face for both clients, so `demo` and `call` are written once.

use imts::protocol::Operation;
use imts::{Config, Credentials, Error};

use crate::exit::CliError;
use crate::input;

/// Which transport a command uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// reqwest on tokio.
    Async,
    /// ureq, no runtime.
    Blocking,
}

/// The async client (on a runtime of its own) or the blocking one.
pub enum AnyClient {
    /// Async.
    Async(tokio::runtime::Runtime, imts::AsyncClient),
    /// Blocking.
    Blocking(imts::BlockingClient),
}

impl AnyClient {
    /// A client of the chosen transport.
    pub fn new(
        transport: Transport,
        credentials: Credentials,
        config: Config,
    ) -> Result<Self, CliError> {
        Ok(match transport {
            Transport::Async => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| CliError::usage(format!("cannot start a runtime: {e}")))?;
                let client = imts::AsyncClient::new(credentials, config)
                    .map_err(|e| CliError::from_api(&e))?;
                AnyClient::Async(runtime, client)
            }
            Transport::Blocking => {
                AnyClient::Blocking(imts::BlockingClient::new(credentials, config))
            }
        })
    }

    /// Runs one operation.
    pub fn call<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        match self {
            AnyClient::Async(runtime, client) => runtime.block_on(client.call(op)),
            AnyClient::Blocking(client) => client.call(op),
        }
    }

    /// Get token.
    pub fn authenticate(&self) -> Result<(), Error> {
        match self {
            AnyClient::Async(runtime, client) => runtime.block_on(client.authenticate()),
            AnyClient::Blocking(client) => client.authenticate(),
        }
    }

    /// Refresh token.
    pub fn refresh_token(&self) -> Result<(), Error> {
        match self {
            AnyClient::Async(runtime, client) => runtime.block_on(client.refresh_token()),
            AnyClient::Blocking(client) => client.refresh_token(),
        }
    }
}

/// Credentials from `IMTS_AGENT_ID`, `IMTS_AGENT_SECRET` and `IMTS_PARTNER_KEY`.
pub fn credentials_from_env() -> Result<Credentials, CliError> {
    let agent_id = input::env_secret("IMTS_AGENT_ID")?;
    let agent_id = agent_id
        .parse()
        .map_err(|e| CliError::usage(format!("IMTS_AGENT_ID: {e}")))?;
    Ok(Credentials::new(agent_id, input::agent_secret()?).with_partner_key(input::partner_key()?))
}
