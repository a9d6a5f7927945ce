//! Reading parameters, secrets and stdin: every failure is a one-line usage error.

use std::io::Read;

use imts_core::signature::CanonicalParams;
use imts_crypto::{AgentSecret, PartnerKey};
use zeroize::Zeroizing;

use crate::exit::CliError;

/// Environment variable holding the agent secret.
pub const AGENT_SECRET_VAR: &str = "IMTS_AGENT_SECRET";
/// Environment variable holding the partner key.
pub const PARTNER_KEY_VAR: &str = "IMTS_PARTNER_KEY";

/// Reads a required environment variable into a zeroizing string.
pub fn env_secret(name: &str) -> Result<Zeroizing<String>, CliError> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Ok(Zeroizing::new(value)),
        Ok(_) => Err(CliError::usage(format!(
            "environment variable {name} is empty"
        ))),
        Err(std::env::VarError::NotPresent) => Err(CliError::usage(format!(
            "environment variable {name} is not set"
        ))),
        Err(std::env::VarError::NotUnicode(_)) => Err(CliError::usage(format!(
            "environment variable {name} is not valid UTF-8"
        ))),
    }
}

/// The agent secret from [`AGENT_SECRET_VAR`].
pub fn agent_secret() -> Result<AgentSecret, CliError> {
    let value = env_secret(AGENT_SECRET_VAR)?;
    AgentSecret::new(value.as_str())
        .map_err(|e| CliError::usage(format!("{AGENT_SECRET_VAR}: {e}")))
}

/// The partner key from [`PARTNER_KEY_VAR`].
pub fn partner_key() -> Result<PartnerKey, CliError> {
    let value = env_secret(PARTNER_KEY_VAR)?;
    PartnerKey::parse(&value).map_err(|e| CliError::usage(format!("{PARTNER_KEY_VAR}: {e}")))
}

/// Reads all of stdin (bounded by `limit` bytes).
pub fn read_stdin(limit: u64) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let mut buf = Zeroizing::new(Vec::new());
    std::io::stdin()
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
    if buf.len() as u64 > limit {
        return Err(CliError::usage(format!(
            "stdin is larger than {limit} bytes"
        )));
    }
    Ok(buf)
}

/// Reads a JSON document from a file, or from stdin when `path` is `-`.
pub fn read_json_source(path: &str) -> Result<Vec<u8>, CliError> {
    const LIMIT: u64 = 16 * 1024 * 1024;
    if path == "-" {
        return Ok(read_stdin(LIMIT)?.to_vec());
    }
    std::fs::read(path).map_err(|e| CliError::usage(format!("cannot read {path}: {e}")))
}

/// Splits `KEY=VALUE` arguments.
pub fn parse_key_values(args: &[String]) -> Result<Vec<(String, String)>, CliError> {
    imts_cli::params::parse_key_values(args).map_err(|e| CliError::usage(e.to_string()))
}

/// The canonical parameters of `--json` (exact numbers) plus `KEY=VALUE` string pairs.
pub fn canonical_params(json: Option<&str>, pairs: &[String]) -> Result<CanonicalParams, CliError> {
    let body = json.map(read_json_source).transpose()?;
    imts_cli::params::canonical_params(body.as_deref(), &parse_key_values(pairs)?)
        .map_err(|e| CliError::usage(e.to_string()))
}
