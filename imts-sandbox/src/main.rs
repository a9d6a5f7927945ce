//! `imts-sandbox`: a local IMTS server.

use clap::Parser;

/// A local IMTS partner Transfer API server, in memory.
#[derive(Debug, Parser)]
#[command(name = "imts-sandbox", version, about, after_help = imts_sandbox::rates::table_text())]
struct Cli {
    #[command(flatten)]
    args: imts_sandbox::cli::SandboxArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match imts_sandbox::cli::run(&cli.args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("imts-sandbox: {message}");
            std::process::ExitCode::from(2)
        }
    }
}
