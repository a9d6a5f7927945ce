//! `imts send`: sign a notification body with IMTS_AGENT_SECRET, as IMTS would, and POST it to
//! a receiver (yours, or `imts listen`); print the receiver's status and body.
//!
//! Exit 0 when the receiver answered 2xx, 1 when it answered anything else (a receiver that
//! refuses a correctly signed notification is the finding), 4 when it could not be reached.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Args;
use imts::protocol::transport::BlockingTransport as _;
use imts_core::signature::sign_json;
use serde_json::json;

use crate::exit::CliError;
use crate::input;
use crate::output::Output;

/// How long the receiver has to answer (IMTS's own deadline is not published; [I]).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Arguments of `imts send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The receiver's URL.
    #[arg(long, value_name = "URL")]
    to: String,
    /// The notification: a JSON object in FILE, or stdin with `-`. A `pg_sig` in it is replaced
    /// by the signature of the other fields.
    #[arg(long, value_name = "FILE|-")]
    json: String,
    /// The receiver's answer as text (default) or one JSON object.
    #[arg(long, value_enum, default_value = "human")]
    output: Output,
}

/// The signed body: the object without `pg_sig`, signed, with the signature added. Each value
/// keeps its text as written (an amount is never re-read as a float); a repeated key is refused.
fn signed(body: &[u8], secret: &imts::AgentSecret) -> Result<Vec<u8>, CliError> {
    use serde_json::value::RawValue;
    // The canonicalizer refuses repeated keys, which a map would silently merge.
    imts_core::signature::CanonicalParams::from_json(body)
        .map_err(|e| CliError::usage(format!("--json: {e}")))?;
    let mut object: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(body)
        .map_err(|e| CliError::usage(format!("--json: not a JSON object: {e}")))?;
    object.remove("pg_sig");
    let unsigned = serde_json::to_vec(&object).map_err(|e| CliError::usage(e.to_string()))?;
    let signature = sign_json(&unsigned, &imts::protocol::Signer::new(secret.clone()))
        .map_err(|e| CliError::usage(format!("--json: cannot be signed: {e}")))?;
    let signature = serde_json::value::to_raw_value(&signature.to_string())
        .map_err(|e| CliError::usage(e.to_string()))?;
    object.insert("pg_sig".into(), signature);
    serde_json::to_vec(&object).map_err(|e| CliError::usage(e.to_string()))
}

/// Runs `imts send`.
///
/// # Errors
/// Usage errors for a bad URL or body, 1 for a non-2xx answer, 4 for a transport failure.
pub fn run(args: &SendArgs) -> Result<(), CliError> {
    let secret = input::agent_secret()?;
    let body = signed(&input::read_json_source(&args.json)?, &secret)?;
    let request = http::Request::post(&args.to)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)
        .map_err(|e| CliError::usage(format!("--to {}: {e}", args.to)))?;
    let transport = imts::protocol::UreqTransport::new(imts::config::Timeouts::default());
    let answer = transport
        .send(request, ANSWER_TIMEOUT)
        .map_err(|e| CliError::transport(format!("{}: {e}", args.to)))?;
    let status = answer.status();
    let text = String::from_utf8_lossy(answer.body());
    match args.output {
        Output::Json => {
            // The body as it is when it is JSON (numbers exact), else as a string.
            let body = match serde_json::value::RawValue::from_string(text.to_string()) {
                Ok(raw) => json!({"status": status.as_u16(), "body": raw}),
                Err(_) => json!({"status": status.as_u16(), "body": text}),
            };
            println!("{body}");
        }
        Output::Human => println!("{status}\n{text}"),
    }
    if status.is_success() {
        Ok(())
    } else {
        Err(CliError::refused(format!("the receiver answered {status}")))
    }
}
