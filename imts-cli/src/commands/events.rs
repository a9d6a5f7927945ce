//! `imts trigger` and `imts events`: the sandbox's control API from the command line (emit a
//! callback for a transfer; list and resend the callbacks it made).

use clap::{Args, Subcommand};
use imts_sandbox::{Control, ControlError};
use serde_json::json;

use crate::exit::CliError;
use crate::output::Output;

/// Where the sandbox is, and how to talk to its control API.
#[derive(Debug, Args)]
pub struct SandboxTarget {
    /// The sandbox (`imts sandbox` prints it).
    #[arg(long, value_name = "URL", env = "IMTS_BASE_URL")]
    base_url: String,
    /// The sandbox's `--control-token`, when it has one.
    #[arg(long, value_name = "TOKEN", env = "IMTS_SANDBOX_CONTROL_TOKEN")]
    control_token: Option<imts_sandbox::ControlToken>,
    /// Readable lines (default) or one JSON object per line.
    #[arg(long, value_enum, default_value = "human")]
    output: Output,
}

impl SandboxTarget {
    fn control(&self) -> Control {
        let control = Control::new(&self.base_url);
        match &self.control_token {
            Some(token) => control.with_token(token.expose()),
            None => control,
        }
    }
}

/// Arguments of `imts trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// `status_update` or `transfer_received`.
    #[arg(value_name = "TYPE")]
    kind: String,
    /// The transfer the notification is about.
    #[arg(long = "transfer", value_name = "ID")]
    transfer_id: String,
    #[command(flatten)]
    target: SandboxTarget,
}

/// Arguments of `imts events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(subcommand)]
    command: EventsCommand,
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Every notification the sandbox made, oldest first, with its attempts.
    List {
        #[command(flatten)]
        target: SandboxTarget,
    },
    /// Deliver a notification again (same id, same bytes).
    Resend {
        /// Its `notification_id`.
        #[arg(value_name = "ID")]
        notification_id: String,
        #[command(flatten)]
        target: SandboxTarget,
    },
}

/// Exit 3 when the sandbox refused, 4 when it could not be reached.
fn failed(error: &ControlError) -> CliError {
    match error {
        ControlError::Refused { .. } => CliError::api(error.to_string()),
        _ => CliError::transport(error.to_string()),
    }
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> Result<T, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start a runtime: {e}")))?;
    Ok(runtime.block_on(future))
}

/// Runs `imts trigger`.
///
/// # Errors
/// 3 when the sandbox refused (unknown transfer, wrong type or status), 4 when unreachable.
pub fn trigger(args: &TriggerArgs) -> Result<(), CliError> {
    let control = args.target.control();
    let ids = block_on(control.emit(&args.transfer_id, &args.kind))?.map_err(|e| failed(&e))?;
    for id in ids {
        match args.target.output {
            Output::Json => println!("{}", json!({"notification_id": id, "type": args.kind})),
            Output::Human => println!("emitted {} {id}", args.kind),
        }
    }
    Ok(())
}

/// Runs `imts events`.
///
/// # Errors
/// As [`trigger`].
pub fn run(args: &EventsArgs) -> Result<(), CliError> {
    match &args.command {
        EventsCommand::List { target } => {
            let log = block_on(target.control().callbacks())?.map_err(|e| failed(&e))?;
            for entry in log {
                match target.output {
                    Output::Json => println!(
                        "{}",
                        serde_json::to_string(&entry)
                            .map_err(|e| CliError::usage(e.to_string()))?
                    ),
                    Output::Human => println!(
                        "{} {} transfer {} to {}: {:?} after {} attempt(s)",
                        entry.notification_id,
                        entry.kind,
                        entry.transfer_id,
                        entry.recipient,
                        entry.state,
                        entry.attempts.len()
                    ),
                }
            }
            Ok(())
        }
        EventsCommand::Resend {
            notification_id,
            target,
        } => {
            block_on(target.control().resend(notification_id))?.map_err(|e| failed(&e))?;
            match target.output {
                Output::Json => println!("{}", json!({"resent": notification_id})),
                Output::Human => println!("resent {notification_id}"),
            }
            Ok(())
        }
    }
}
