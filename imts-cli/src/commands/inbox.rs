//! `imts inbox list|show|replay|discard`: the callback inbox `imts listen --inbox` fills.

use std::sync::Arc;

use clap::{Args, Subcommand};
use imts_callbacks::{InboxWorker, Processor, Ran, Verifier};
use imts_core::inbox::{InboxRow, InboxState};
use serde_json::json;

use crate::client::open_inbox;
use crate::exit::CliError;
use crate::input;

/// Arguments of `imts inbox`.
#[derive(Debug, Args)]
pub struct InboxArgs {
    #[command(subcommand)]
    command: InboxCommand,
}

#[derive(Debug, Subcommand)]
enum InboxCommand {
    /// One JSON object per line and row, oldest first.
    List {
        /// The inbox (`sqlite:PATH` or a `postgres://` URL).
        #[arg(long, value_name = "URL", env = "IMTS_INBOX")]
        inbox: String,
        /// Only rows in this state (pending, done, dead).
        #[arg(long, value_name = "STATE", value_parser = parse_state)]
        state: Option<InboxState>,
        /// One JSON object per line (the only format; accepted for scripts).
        #[arg(long, value_name = "FORMAT", default_value = "json")]
        output: String,
    },
    /// One row, with the notification as stored.
    Show {
        /// The inbox (`sqlite:PATH` or a `postgres://` URL).
        #[arg(long, value_name = "URL", env = "IMTS_INBOX")]
        inbox: String,
        /// The notification's id.
        id: String,
    },
    /// Verify the stored bytes again (IMTS_AGENT_SECRET) and run the handler (print) now.
    Replay {
        /// The inbox (`sqlite:PATH` or a `postgres://` URL).
        #[arg(long, value_name = "URL", env = "IMTS_INBOX")]
        inbox: String,
        /// The notification's id.
        id: String,
    },
    /// Set a row aside for good (a dead letter that is never run).
    Discard {
        /// The inbox (`sqlite:PATH` or a `postgres://` URL).
        #[arg(long, value_name = "URL", env = "IMTS_INBOX")]
        inbox: String,
        /// The notification's id.
        id: String,
    },
}

fn parse_state(text: &str) -> Result<InboxState, String> {
    InboxState::parse(text).ok_or_else(|| format!("`{text}`: one of pending, done, dead"))
}

fn line(row: &InboxRow) -> serde_json::Value {
    json!({
        "notification_id": row.notification_id,
        "type": row.kind,
        "state": row.state.as_str(),
        "attempts": row.attempts,
        "last_error": row.last_error,
        "received_at": row.received_at,
        "next_at": row.next_at,
    })
}

fn ran(ran: &Ran) -> serde_json::Value {
    json!({"notification_id": ran.notification_id, "state": ran.state.as_str(), "error": ran.error})
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start a runtime: {e}")))
}

/// Runs `imts inbox`.
///
/// # Errors
/// A usage error for a bad URL; [`CliError`] with exit 3 for an unknown id.
pub fn run(args: &InboxArgs) -> Result<(), CliError> {
    let failed = |e: imts_core::inbox::InboxError| CliError::refused(e.to_string());
    match &args.command {
        InboxCommand::List { inbox, state, .. } => {
            let inbox = open_inbox(inbox)?;
            for row in runtime()?.block_on(inbox.list(*state)).map_err(failed)? {
                println!("{}", line(&row));
            }
            Ok(())
        }
        InboxCommand::Show { inbox, id } => {
            let inbox = open_inbox(inbox)?;
            let row = runtime()?
                .block_on(inbox.get(id))
                .map_err(failed)?
                .ok_or_else(|| CliError::refused(format!("no inbox row `{id}`")))?;
            let mut value = line(&row);
            value["body"] = serde_json::from_slice(&row.body)
                .unwrap_or_else(|_| json!(String::from_utf8_lossy(&row.body)));
            println!("{value}");
            Ok(())
        }
        InboxCommand::Replay { inbox, id } | InboxCommand::Discard { inbox, id } => {
            let inbox = open_inbox(inbox)?;
            let processor = Arc::new(Processor::new(
                Verifier::new(input::agent_secret()?),
                super::listen::print,
            ));
            let worker = InboxWorker::new(processor, inbox, &format!("cli-{}", std::process::id()));
            let runtime = runtime()?;
            let result = if matches!(args.command, InboxCommand::Replay { .. }) {
                runtime.block_on(worker.replay(id, worker.now()))
            } else {
                runtime.block_on(worker.discard(id, worker.now()))
            }
            .map_err(failed)?;
            eprintln!("{}", ran(&result));
            Ok(())
        }
    }
}
