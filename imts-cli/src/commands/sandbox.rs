//! `imts sandbox`: the local IMTS server, with the flags of `imts-sandbox`.

use crate::exit::CliError;

/// Runs the sandbox until Ctrl-C.
pub fn run(args: &imts_sandbox::cli::SandboxArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start a runtime: {e}")))?;
    runtime
        .block_on(imts_sandbox::cli::run(args))
        .map_err(CliError::usage)
}
