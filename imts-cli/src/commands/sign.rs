//! `imts sign` and `imts verify`.

use clap::Args;
use imts_crypto::Signer;

use crate::exit::CliError;
use crate::input;
use crate::output::Output;

/// Arguments of `imts sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Read the parameters from a JSON object in FILE, or from stdin with `-` (numbers exact).
    #[arg(long, value_name = "FILE|-")]
    json: Option<String>,
    /// Also print the signed message, with the secret masked as ***.
    #[arg(long)]
    show_message: bool,
    /// Human lines (default) or one JSON object.
    #[arg(long, value_enum, default_value = "human")]
    output: Output,
    /// Parameters as KEY=VALUE (strings), added to those of --json.
    #[arg(value_name = "KEY=VALUE")]
    params: Vec<String>,
}

/// Arguments of `imts verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The pg_sig to check (64 hex characters).
    #[arg(long, value_name = "HEX")]
    sig: String,
    /// Read the parameters from a JSON object in FILE, or from stdin with `-` (numbers exact).
    #[arg(long, value_name = "FILE|-")]
    json: Option<String>,
    /// Parameters as KEY=VALUE (strings), added to those of --json.
    #[arg(value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// Human lines (default) or one JSON object.
    #[arg(long, value_enum, default_value = "human")]
    output: Output,
}

/// Prints the signature (last line) and, on request, the masked message.
pub fn sign(args: &SignArgs) -> Result<(), CliError> {
    let params = input::canonical_params(args.json.as_deref(), &args.params)?;
    let signer = Signer::new(input::agent_secret()?);
    let sig = params.sign(&signer);
    match args.output {
        Output::Json => println!(
            "{}",
            serde_json::json!({"pg_sig": sig.as_str(), "message": params.masked_message()})
        ),
        Output::Human => {
            if args.show_message {
                println!("message: {}", params.masked_message());
            }
            println!("{sig}");
        }
    }
    Ok(())
}

/// Exit 0 on match; exit 1 with the expected (masked) message on mismatch.
pub fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let params = input::canonical_params(args.json.as_deref(), &args.params)?;
    let signer = Signer::new(input::agent_secret()?);
    params
        .verify(&signer, args.sig.trim())
        .map_err(|mismatch| {
            CliError::refused(format!(
                "{mismatch}; expected the HMAC-SHA256 of: {}",
                mismatch.expected_message()
            ))
        })?;
    match args.output {
        Output::Json => println!("{}", serde_json::json!({"ok": true})),
        Output::Human => println!("ok"),
    }
    Ok(())
}
