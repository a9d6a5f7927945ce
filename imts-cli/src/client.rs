//! The client of `--transport`, so `demo` and `call` are written once: the SDK's `AnyClient`.

use imts::{AnyClient, ClientBuilder, Config, Credentials, Flavour};

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

/// The SDK's client of the chosen transport, behind its one blocking face.
pub fn client(
    transport: Transport,
    credentials: Credentials,
    config: Config,
) -> Result<AnyClient, CliError> {
    let flavour = match transport {
        Transport::Async => Flavour::Async,
        Transport::Blocking => Flavour::Blocking,
    };
    ClientBuilder::new(credentials)
        .config(config)
        .build_any(flavour)
        .map_err(|e| CliError::from_api(&e))
}

/// Credentials from `IMTS_AGENT_ID`, `IMTS_AGENT_SECRET` and `IMTS_PARTNER_KEY`.
pub fn credentials_from_env() -> Result<Credentials, CliError> {
    let agent_id = input::env_secret("IMTS_AGENT_ID")?;
    let agent_id = agent_id
        .parse()
        .map_err(|e| CliError::usage(format!("IMTS_AGENT_ID: {e}")))?;
    Ok(Credentials::new(agent_id, input::agent_secret()?).with_partner_key(input::partner_key()?))
}
