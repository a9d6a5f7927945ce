//! `imts call ENDPOINT`: any of the 17 calls, or `raw METHOD PATH`, against `--base-url`.

use clap::Args;
use imts::protocol::{Endpoint, RawCall};
use imts::Config;
use serde_json::json;

use crate::client::{client, credentials_from_env, Transport};
use crate::exit::CliError;
use crate::input;
use crate::output::Output;

/// Arguments of `imts call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Endpoint name (agents, fees, person-create, business-create, person-info, business-info,
    /// create, print, confirm, search, payout, payout-confirm, cancel, status, info, get-token,
    /// refresh-token), or `raw` followed by METHOD and PATH.
    #[arg(value_name = "ENDPOINT")]
    endpoint: String,
    /// For `raw`: METHOD and PATH; then parameters as KEY=VALUE, added to --json: typed by the
    /// endpoint (an amount goes as a JSON number, exactly as written), strings for `raw`.
    #[arg(value_name = "ARGS")]
    args: Vec<String>,
    /// Parameters from a JSON object in FILE, or stdin with `-` (numbers exact).
    #[arg(long, value_name = "FILE|-")]
    json: Option<String>,
    /// The server (required: this command never starts a sandbox).
    #[arg(long, value_name = "URL", env = "IMTS_BASE_URL")]
    base_url: String,
    /// Which client to use.
    #[arg(long, value_enum, default_value = "blocking")]
    transport: Transport,
    /// Pretty JSON (default) or compact JSON on one line.
    #[arg(long, value_enum, default_value = "human")]
    output: Output,
    /// Write a money-moving call ahead in this journal (`sqlite:PATH`): the request is durable
    /// before it is sent; `imts journal resume` resolves it after a crash.
    #[arg(long, value_name = "URL", env = "IMTS_JOURNAL")]
    journal: Option<String>,
}

/// Performs the call and prints the answer.
pub fn run(args: &CallArgs) -> Result<(), CliError> {
    let (method, path, pair_args, numbers) = if args.endpoint == "raw" {
        let [method, path, rest @ ..] = args.args.as_slice() else {
            return Err(CliError::usage("raw needs METHOD and PATH"));
        };
        let method = http_method(method)?;
        (method, path.clone(), rest.to_vec(), Vec::new())
    } else {
        let endpoint = Endpoint::from_name(&args.endpoint).ok_or_else(|| {
            let names: Vec<&str> = imts::protocol::endpoint::ENDPOINTS
                .iter()
                .map(|s| s.name)
                .collect();
            CliError::usage(format!(
                "unknown endpoint `{}`; one of: {}, raw",
                args.endpoint,
                names.join(", ")
            ))
        })?;
        let spec = endpoint.spec();
        (
            spec.method.to_http(),
            endpoint.full_path().to_owned(),
            args.args.clone(),
            endpoint.number_fields().collect(),
        )
    };
    let pairs = input::parse_key_values(&pair_args)?;
    let json = match &args.json {
        Some(source) => input::read_json_source(source)?,
        None => b"{}".to_vec(),
    };
    let body = imts_cli::params::json_with_pairs(&json, &pairs, &numbers)
        .map_err(|e| CliError::usage(e.to_string()))?;
    let client = client(
        args.transport,
        credentials_from_env()?,
        Config::new(&args.base_url),
        args.journal.as_deref(),
    )?;
    let answer = match Endpoint::from_route(&method, &path) {
        Some(Endpoint::GetToken) => client
            .authenticate()
            .map(|()| json!({"authenticated": true}).to_string()),
        Some(Endpoint::RefreshToken) => client
            .refresh_token()
            .map(|()| json!({"refreshed": true}).to_string()),
        _ => {
            let call =
                RawCall::new(method, &path, &body).map_err(|e| CliError::usage(e.to_string()))?;
            client.call(&call).map(|raw| raw.get().to_owned())
        }
    }
    .map_err(|e| CliError::from_api(&e))?;
    match args.output {
        Output::Json => println!("{answer}"),
        Output::Human => {
            let pretty = serde_json::from_str::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok());
            // Pretty-printing goes through floats; print the exact text when they differ.
            match pretty {
                Some(p) if !answer.contains('.') => println!("{p}"),
                _ => println!("{answer}"),
            }
        }
    }
    Ok(())
}

fn http_method(text: &str) -> Result<http::Method, CliError> {
    http::Method::from_bytes(text.to_ascii_uppercase().as_bytes())
        .map_err(|_| CliError::usage(format!("`{text}` is not an HTTP method")))
}
