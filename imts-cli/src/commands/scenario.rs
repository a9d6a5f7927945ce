//! `imts sandbox --scenario FILE`: replays a scripted sequence (TOML) against a deterministic
//! sandbox (its clock stands still but for the script's advances; its ids come from `--seed`)
//! and prints the event log: one JSON line per step's answer, then one per notification made.
//! The same file and seed give a byte-identical log.
//!
//! ```toml
//! [[step]]
//! do = "create_transfer"
//! order_id = "ORD-1"
//! amount = "100.00"          # KZT, to UZS
//! [[step]]
//! do = "advance"             # along the life cycle, with its callbacks
//! order_id = "ORD-1"
//! to = "process"
//! [[step]]
//! do = "clock"
//! seconds = 900
//! [[step]]
//! do = "emit"                # status_update or transfer_received
//! order_id = "ORD-1"
//! type = "status_update"
//! ```

use std::collections::HashMap;

use imts::types::{ErrorCode, TransferStatus};
use imts_sandbox::{AgentConfig, CallbackTarget, Control, Sandbox, SandboxConfig};
use serde::Deserialize;
use serde_json::json;

use crate::exit::CliError;

/// The scenario's partner (fictional; printed nowhere but in the payloads' signatures).
const AGENT: &str =
    "scenario-agent:scenario-secret:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// Where the scenario's notifications go: nothing listens there (the log records what was made).
const NOWHERE: &str = "http://127.0.0.1:9/imts";
/// The instant the deterministic clock stands at.
const EPOCH: time::OffsetDateTime = time::macros::datetime!(2026-01-01 00:00 UTC);

/// A scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    #[serde(default, rename = "step")]
    steps: Vec<Step>,
}

/// One step.
#[derive(Debug, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
enum Step {
    /// Create transfer (a sample sender and destination) for `amount` KZT.
    CreateTransfer { order_id: String, amount: String },
    /// Move along a life-cycle edge (the control API's advance).
    Advance {
        order_id: String,
        to: TransferStatus,
    },
    /// Force `error` with a code.
    Fail {
        order_id: String,
        error_code: ErrorCode,
    },
    /// Move the sandbox's clock forward.
    Clock { seconds: u64 },
    /// Emit a notification for a transfer as it is.
    Emit {
        order_id: String,
        #[serde(rename = "type")]
        kind: String,
    },
}

fn raw(value: &serde_json::Value) -> Result<Box<serde_json::value::RawValue>, CliError> {
    serde_json::value::to_raw_value(value).map_err(|e| CliError::usage(e.to_string()))
}

fn fail(step: usize, what: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("--scenario step {step}: {what}"))
}

/// Runs the scenario in `text` with `seed`; gives the event log.
///
/// # Errors
/// A usage error naming the step that could not be parsed or run.
pub async fn run(text: &str, seed: u64) -> Result<Vec<String>, CliError> {
    let scenario: Scenario =
        toml::from_str(text).map_err(|e| CliError::usage(format!("--scenario: {e}")))?;
    let agent = AgentConfig::parse(AGENT).map_err(CliError::usage)?;
    let sandbox = Sandbox::start(SandboxConfig {
        listen: "127.0.0.1:0"
            .parse()
            .map_err(|_| CliError::usage("address"))?,
        agents: vec![agent.clone()],
        callbacks: vec![CallbackTarget::All(NOWHERE.into())],
        seed,
        deterministic: Some(EPOCH),
        ..SandboxConfig::default()
    })
    .await
    .map_err(|e| CliError::usage(format!("cannot start the sandbox: {e}")))?;
    let client = imts::ClientBuilder::new(
        imts::Credentials::new(
            agent
                .agent_id
                .parse()
                .map_err(|_| CliError::usage("agent"))?,
            agent.agent_secret.clone(),
        )
        .with_partner_key(agent.partner_key.clone()),
    )
    .base_url(sandbox.base_url())
    .build()
    .map_err(|e| CliError::from_api(&e))?;
    let control = Control::new(sandbox.base_url());
    let person = imts_sandbox::samples::create_person("Scenario")
        .map_err(|e| CliError::usage(e.to_string()))?;
    let sender = client
        .create_person(&person)
        .await
        .map_err(|e| CliError::from_api(&e))?
        .client_uuid;
    let mut transfers: HashMap<String, String> = HashMap::new();
    let mut log = Vec::new();
    for (n, step) in scenario.steps.iter().enumerate() {
        let n = n + 1;
        let known = |order: &str| {
            transfers
                .get(order)
                .cloned()
                .ok_or_else(|| fail(n, format!("no transfer with order_id {order} yet")))
        };
        let answer = match step {
            Step::CreateTransfer { order_id, amount } => {
                let mut transfer = imts_sandbox::samples::new_transfer(&sender, order_id)
                    .map_err(|e| fail(n, e))?;
                transfer.amount = imts::types::Money::new(
                    amount.parse().map_err(|e| fail(n, e))?,
                    "KZT".parse().map_err(|e| fail(n, e))?,
                );
                let created = client
                    .create_transfer(&imts::models::CreateTransferRequest::new(transfer))
                    .await
                    .map_err(|e| fail(n, e))?;
                transfers.insert(order_id.clone(), created.transfer_id.to_string());
                serde_json::value::to_raw_value(&created).map_err(|e| fail(n, e))?
            }
            Step::Advance { order_id, to } => {
                let moved = control
                    .advance(&known(order_id)?, to.clone())
                    .await
                    .map_err(|e| fail(n, e))?;
                serde_json::value::to_raw_value(&moved).map_err(|e| fail(n, e))?
            }
            Step::Fail {
                order_id,
                error_code,
            } => {
                let failed = control
                    .fail(&known(order_id)?, error_code.clone())
                    .await
                    .map_err(|e| fail(n, e))?;
                serde_json::value::to_raw_value(&failed).map_err(|e| fail(n, e))?
            }
            Step::Clock { seconds } => {
                control
                    .advance_clock(std::time::Duration::from_secs(*seconds))
                    .await
                    .map_err(|e| fail(n, e))?;
                raw(&json!({ "advanced_seconds": seconds }))?
            }
            Step::Emit { order_id, kind } => {
                let ids = control
                    .emit(&known(order_id)?, kind)
                    .await
                    .map_err(|e| fail(n, e))?;
                raw(&json!({ "notifications": ids }))?
            }
        };
        // Spliced as text: through `json!` the amounts would pass through a float.
        log.push(format!(r#"{{"step":{n},"answer":{}}}"#, answer.get()));
    }
    let notifications = control.callbacks().await.map_err(|e| fail(0, e))?;
    for (n, made) in notifications.iter().enumerate() {
        log.push(format!(
            r#"{{"notification":{},"type":{},"agent_id":{},"payload":{}}}"#,
            n + 1,
            json!(made.kind),
            json!(made.agent_id),
            made.payload.get()
        ));
    }
    sandbox.shutdown().await;
    Ok(log)
}
