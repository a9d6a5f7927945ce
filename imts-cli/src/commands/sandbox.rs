//! `imts sandbox`: the local IMTS server, with the flags of `imts-sandbox` and `--metrics-addr`.

use clap::Args;

use crate::exit::CliError;
use crate::metrics_endpoint::MetricsArgs;

/// Arguments of `imts sandbox`.
#[derive(Debug, Args)]
pub struct SandboxCommandArgs {
    #[command(flatten)]
    sandbox: imts_sandbox::cli::SandboxArgs,
    #[command(flatten)]
    metrics: MetricsArgs,
}

/// Runs the sandbox until Ctrl-C.
pub fn run(args: &SandboxCommandArgs) -> Result<(), CliError> {
    args.metrics.start()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start a runtime: {e}")))?;
    runtime
        .block_on(imts_sandbox::cli::run(&args.sandbox))
        .map_err(CliError::usage)
}
