//! `imts journal list|show|resume`: read the journal of money-moving calls, and resolve what a
//! crash left open.

use clap::{Args, Subcommand};
use imts::journal::{Record, RecordKey, Resolution};
use serde_json::json;

use crate::client::{client, credentials_from_env, open_journal, Transport};
use crate::exit::CliError;

/// Arguments of `imts journal`.
#[derive(Debug, Args)]
pub struct JournalArgs {
    #[command(subcommand)]
    command: JournalCommand,
}

#[derive(Debug, Subcommand)]
enum JournalCommand {
    /// One JSON object per line and record, oldest first.
    List {
        /// The journal (`sqlite:PATH`).
        #[arg(long, value_name = "URL", env = "IMTS_JOURNAL")]
        journal: String,
        /// Only records still open (not applied or refused).
        #[arg(long)]
        open: bool,
        /// One JSON object per line (the only format; accepted for scripts).
        #[arg(long, value_name = "FORMAT", default_value = "json")]
        output: String,
    },
    /// One record, by key (an order id, or `operation:transfer_id`).
    Show {
        /// The journal (`sqlite:PATH`).
        #[arg(long, value_name = "URL", env = "IMTS_JOURNAL")]
        journal: String,
        /// The record's key.
        key: String,
    },
    /// Resolve every open record against the server; one JSON line per record. Exit 0 when
    /// none is left open, 1 when some need a person (or could not be resolved now).
    Resume {
        /// The journal (`sqlite:PATH`).
        #[arg(long, value_name = "URL", env = "IMTS_JOURNAL")]
        journal: String,
        /// The server (credentials from IMTS_AGENT_ID, IMTS_AGENT_SECRET, IMTS_PARTNER_KEY).
        #[arg(long, value_name = "URL", env = "IMTS_BASE_URL")]
        base_url: String,
        /// Which client to use.
        #[arg(long, value_enum, default_value = "blocking")]
        transport: Transport,
    },
}

/// A record as a JSON line: never the body (it may hold a phone number in clear), only its hash.
fn line(record: &Record) -> serde_json::Value {
    json!({
        "key": record.key.0,
        "operation": record.op.as_str(),
        "order_id": record.order_id,
        "transfer_id": record.transfer_id,
        "state": record.state.as_str(),
        "status": record.status.as_ref().map(|s| s.as_str().to_owned()),
        "attempts": record.attempts,
        "body_hash": record.body_hash,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    })
}

fn resolution(resolution: &Resolution) -> serde_json::Value {
    match resolution {
        Resolution::Adopted => json!({"resolution": "adopted"}),
        Resolution::Resent(state) => json!({"resolution": "resent", "state": state.as_str()}),
        Resolution::Refused(why) => json!({"resolution": "refused", "reason": why}),
        Resolution::NeedsPerson => json!({"resolution": "needs_person"}),
        Resolution::Claimed => json!({"resolution": "claimed_elsewhere"}),
        Resolution::Failed(why) => json!({"resolution": "failed", "reason": why}),
        _ => json!({"resolution": "other"}),
    }
}

/// Runs `imts journal`.
pub fn run(args: &JournalArgs) -> Result<(), CliError> {
    match &args.command {
        JournalCommand::List {
            journal,
            open,
            output,
        } => {
            if output != "json" {
                return Err(CliError::usage("--output: only `json` is available"));
            }
            let journal = open_journal(journal)?;
            let records = pollster::block_on(journal.list(*open))
                .map_err(|e| CliError::usage(e.to_string()))?;
            for record in &records {
                println!("{}", line(record));
            }
            Ok(())
        }
        JournalCommand::Show { journal, key } => {
            let journal = open_journal(journal)?;
            let record = pollster::block_on(journal.get(&RecordKey(key.clone())))
                .map_err(|e| CliError::usage(e.to_string()))?
                .ok_or_else(|| CliError::refused(format!("no record `{key}`")))?;
            let mut value = line(&record);
            value["outcome"] = json!(record.outcome);
            value["body_len"] = json!(record.body.len());
            println!("{value:#}");
            Ok(())
        }
        JournalCommand::Resume {
            journal,
            base_url,
            transport,
        } => {
            let client = client(
                *transport,
                credentials_from_env()?,
                imts::Config::new(base_url),
                Some(journal),
            )?;
            let resolved = client.resume().map_err(|e| CliError::from_api(&e))?;
            let mut open = 0;
            for record in &resolved {
                let mut value = resolution(&record.resolution);
                value["key"] = json!(record.key.0);
                value["operation"] = json!(record.op.as_str());
                println!("{value}");
                open += usize::from(record.resolution.left_open());
            }
            if open > 0 {
                return Err(CliError::refused(format!(
                    "{open} record(s) still open: see `imts journal list --open`"
                )));
            }
            Ok(())
        }
    }
}
