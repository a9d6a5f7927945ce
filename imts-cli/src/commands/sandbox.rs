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
    /// Replay a scripted sequence (TOML; see `imts-cli/src/commands/scenario.rs`) against a
    /// deterministic sandbox and print its event log, then exit: the same file and `--seed`
    /// give a byte-identical log.
    #[arg(long, value_name = "FILE")]
    scenario: Option<std::path::PathBuf>,
}

/// Runs the sandbox until Ctrl-C.
pub fn run(args: &SandboxCommandArgs) -> Result<(), CliError> {
    args.metrics.start()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start a runtime: {e}")))?;
    if let Some(path) = &args.scenario {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("--scenario {}: {e}", path.display())))?;
        for line in runtime.block_on(super::scenario::run(&text, args.sandbox.seed))? {
            println!("{line}");
        }
        return Ok(());
    }
    runtime
        .block_on(imts_sandbox::cli::run(&args.sandbox))
        .map_err(CliError::usage)
}
