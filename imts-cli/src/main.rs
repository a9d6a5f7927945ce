//! The `imts` command line: sign and verify `pg_sig`, encrypt and decrypt personal data, run the
//! demo and the sandbox, and perform any API call.

mod client;
mod commands;
mod exit;
mod input;
mod metrics_endpoint;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tools for Freedom Pay's IMTS partner Transfer API.
///
/// Secrets are read from the environment, never from flags: IMTS_AGENT_SECRET (pg_sig key),
/// IMTS_PARTNER_KEY (AES-256 key: 64 hex characters, Base64 of 32 bytes, or 32 raw bytes).
#[derive(Debug, Parser)]
#[command(name = "imts", version, about, long_about = None, after_help = exit::EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute the pg_sig of a request's parameters (printed as the last line of stdout).
    Sign(commands::sign::SignArgs),
    /// Check a pg_sig against a request's parameters (exit 0 on match, 1 on mismatch).
    Verify(commands::sign::VerifyArgs),
    /// Encrypt stdin into an encrypted_data envelope with IMTS_PARTNER_KEY.
    Encrypt(commands::crypt::CryptArgs),
    /// Decrypt an encrypted_data envelope from stdin with IMTS_PARTNER_KEY.
    Decrypt(commands::crypt::CryptArgs),
    /// Run a whole transfer life cycle (every endpoint) against the embedded sandbox or --base-url.
    Demo(commands::demo::DemoArgs),
    /// Run the local IMTS sandbox server.
    Sandbox(commands::sandbox::SandboxCommandArgs),
    /// Receive callback notifications (secret from IMTS_AGENT_SECRET), one JSON line each.
    Listen(commands::listen::ListenArgs),
    /// Perform one API call (credentials from IMTS_AGENT_ID, IMTS_AGENT_SECRET, IMTS_PARTNER_KEY).
    Call(commands::call::CallArgs),
    /// Read the journal of money-moving calls (`--journal sqlite:PATH`) and resume what a
    /// crash left open.
    Journal(commands::journal::JournalArgs),
    /// Poll the journal's transfers that are not final (`--once`: all now, then exit), the
    /// safety net for lost callbacks; one JSON line per change.
    Reconcile(commands::reconcile::ReconcileArgs),
    /// Read and manage the callback inbox of `imts listen --inbox` (list, show, replay,
    /// discard).
    Inbox(commands::inbox::InboxArgs),
    /// Sign a notification body with IMTS_AGENT_SECRET and POST it to a receiver; print the
    /// receiver's status and body (exit 1 unless it answered 2xx).
    Send(commands::send::SendArgs),
    /// Ask the sandbox to emit a callback (`status_update` or `transfer_received`) for a
    /// transfer as it is now.
    Trigger(commands::events::TriggerArgs),
    /// The sandbox's callback log: `list`, and `resend ID`.
    Events(commands::events::EventsArgs),
    /// Read the journal's hash-chained audit log, and verify that no entry was edited or
    /// deleted (exit 1 naming the first bad entry).
    Audit(commands::audit::AuditArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sign(args) => commands::sign::sign(&args),
        Command::Verify(args) => commands::sign::verify(&args),
        Command::Encrypt(args) => commands::crypt::encrypt(&args),
        Command::Decrypt(args) => commands::crypt::decrypt(&args),
        Command::Demo(args) => commands::demo::run(&args),
        Command::Sandbox(args) => commands::sandbox::run(&args),
        Command::Call(args) => commands::call::run(&args),
        Command::Listen(args) => commands::listen::run(&args),
        Command::Journal(args) => commands::journal::run(&args),
        Command::Reconcile(args) => commands::reconcile::run(&args),
        Command::Inbox(args) => commands::inbox::run(&args),
        Command::Audit(args) => commands::audit::run(&args),
        Command::Send(args) => commands::send::run(&args),
        Command::Trigger(args) => commands::events::trigger(&args),
        Command::Events(args) => commands::events::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => err.report(),
    }
}
