//! The client of `--transport`, so `demo` and `call` are written once: the SDK's `AnyClient`.

use std::sync::Arc;

use imts::stores::{Journal, SqliteJournal};
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
/// With `journal` (a `--journal URL`), every money-moving call is written ahead in it.
pub fn client(
    transport: Transport,
    credentials: Credentials,
    config: Config,
    journal: Option<&str>,
) -> Result<AnyClient, CliError> {
    let flavour = match transport {
        Transport::Async => Flavour::Async,
        Transport::Blocking => Flavour::Blocking,
    };
    let mut builder = ClientBuilder::new(credentials).config(config);
    if let Some(url) = journal {
        builder = builder.journal(open_journal(url)?);
    }
    builder
        .build_any(flavour)
        .map_err(|e| CliError::from_api(&e))
}

/// Opens a `--journal URL`: `sqlite:PATH` (a file, created if absent) or a `postgres://` URL
/// (a fleet's shared journal).
pub fn open_journal(url: &str) -> Result<Arc<dyn Journal>, CliError> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let journal = SqliteJournal::open(path)
            .map_err(|e| CliError::usage(format!("--journal {url}: {e}")))?;
        return Ok(Arc::new(journal));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // The message never repeats the URL: it may hold a password.
        let journal = imts_postgres::PostgresJournal::open_blocking(url)
            .map_err(|e| CliError::usage(format!("--journal (PostgreSQL): {e}")))?;
        return Ok(Arc::new(journal));
    }
    // Not repeated: a mistyped database URL may still carry a password.
    Err(CliError::usage(
        "--journal: expected sqlite:PATH or postgres://USER@HOST/DB",
    ))
}

/// Opens an `--inbox URL`: `sqlite:PATH` (a file, created if absent; it may be the journal's)
/// or a `postgres://` URL (a fleet's shared inbox).
pub fn open_inbox(url: &str) -> Result<Arc<dyn imts_core::inbox::Inbox>, CliError> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let inbox = imts::stores::SqliteInbox::open(path)
            .map_err(|e| CliError::usage(format!("--inbox {url}: {e}")))?;
        return Ok(Arc::new(inbox));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // The message never repeats the URL: it may hold a password.
        let database = imts_postgres::PostgresJournal::open_blocking(url)
            .map_err(|e| CliError::usage(format!("--inbox (PostgreSQL): {e}")))?;
        return Ok(Arc::new(database.inbox()));
    }
    // Not repeated: a mistyped database URL may still carry a password.
    Err(CliError::usage(
        "--inbox: expected sqlite:PATH or postgres://USER@HOST/DB",
    ))
}

/// Credentials from `IMTS_AGENT_ID`, `IMTS_AGENT_SECRET` and `IMTS_PARTNER_KEY`.
pub fn credentials_from_env() -> Result<Credentials, CliError> {
    let agent_id = input::env_secret("IMTS_AGENT_ID")?;
    let agent_id = agent_id
        .parse()
        .map_err(|e| CliError::usage(format!("IMTS_AGENT_ID: {e}")))?;
    Ok(Credentials::new(agent_id, input::agent_secret()?).with_partner_key(input::partner_key()?))
}
