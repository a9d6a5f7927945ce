//! `imts audit list|verify`: read the journal's audit log of money-moving calls, and check that
//! no entry was edited or deleted afterwards.

use clap::{Args, Subcommand};
use imts::journal::audit::{verify, AuditEntry, AuditHead};
use serde_json::json;

use crate::client::open_journal;
use crate::exit::CliError;

/// Arguments of `imts audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// One JSON object per line and entry, oldest first.
    List {
        /// The journal (`sqlite:PATH` or `postgres://...`).
        #[arg(long, value_name = "URL", env = "IMTS_JOURNAL")]
        journal: String,
    },
    /// Check the hash chain: exit 0 on an intact chain (its head printed as JSON), 1 naming
    /// the first entry edited, deleted or out of place.
    Verify {
        /// The journal (`sqlite:PATH` or `postgres://...`).
        #[arg(long, value_name = "URL", env = "IMTS_JOURNAL")]
        journal: String,
        /// A head recorded earlier, outside the database (`SEQ:HASH`, as `verify` prints
        /// it): the chain must still contain it, so a rewritten chain is found too.
        #[arg(long, value_name = "SEQ:HASH")]
        expect_head: Option<String>,
    },
}

fn line(entry: &AuditEntry) -> serde_json::Value {
    let fact = &entry.fact;
    json!({
        "seq": entry.seq,
        "at": fact.at,
        "agent": fact.agent,
        "operation": fact.operation.as_str(),
        "order_id": fact.order_id,
        "transfer_id": fact.transfer_id,
        "request_hash": fact.request_hash,
        "state": fact.state.as_str(),
        "outcome": fact.outcome,
        "hash": entry.hash,
    })
}

fn parse_head(text: &str) -> Result<AuditHead, CliError> {
    let bad = || CliError::usage("--expect-head: expected SEQ:HASH (64 hex characters)");
    let (seq, hash) = text.split_once(':').ok_or_else(bad)?;
    let seq = seq.parse().map_err(|_| bad())?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok(AuditHead {
        seq,
        hash: hash.to_ascii_lowercase(),
    })
}

/// Runs `imts audit`.
pub fn run(args: &AuditArgs) -> Result<(), CliError> {
    let url = match &args.command {
        AuditCommand::List { journal } | AuditCommand::Verify { journal, .. } => journal,
    };
    let journal = open_journal(url)?;
    let log =
        pollster::block_on(journal.audit_log()).map_err(|e| CliError::usage(e.to_string()))?;
    match &args.command {
        AuditCommand::List { .. } => {
            for entry in &log.entries {
                println!("{}", line(entry));
            }
            Ok(())
        }
        AuditCommand::Verify { expect_head, .. } => {
            let expected = expect_head.as_deref().map(parse_head).transpose()?;
            let head = verify(&log.entries, log.head.as_ref())
                .map_err(|broken| CliError::refused(broken.to_string()))?;
            if let Some(expected) = expected {
                let held = log
                    .entries
                    .iter()
                    .find(|entry| entry.seq == expected.seq)
                    .is_some_and(|entry| entry.hash == expected.hash);
                if !held {
                    return Err(CliError::refused(format!(
                        "audit log broken at entry {}: it is not the entry recorded as the head \
                         (the chain was rewritten or cut)",
                        expected.seq
                    )));
                }
            }
            println!(
                "{}",
                json!({"intact": true, "entries": log.entries.len(), "head": format!("{}:{}", head.seq, head.hash)})
            );
            Ok(())
        }
    }
}
