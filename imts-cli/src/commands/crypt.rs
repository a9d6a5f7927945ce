//! `imts encrypt` and `imts decrypt`.

use std::io::Write;

use clap::Args;
use imts_crypto::Packing;

use crate::exit::CliError;
use crate::input;
use crate::output::Output;

/// Largest plaintext or envelope read from stdin.
const STDIN_LIMIT: u64 = 64 * 1024 * 1024;

/// Arguments of `imts encrypt` and `imts decrypt`.
#[derive(Debug, Args)]
pub struct CryptArgs {
    /// Use the JSON packing with an HMAC (`{"iv","value","mac"}`) instead of Base64(IV || ciphertext).
    #[arg(long)]
    mac: bool,
    /// The raw result (default) or one JSON object (`encrypted_data`, or `plaintext` as text).
    #[arg(long, value_enum, default_value = "human")]
    output: Output,
}

impl CryptArgs {
    fn packing(&self) -> Packing {
        if self.mac {
            Packing::JsonMac
        } else {
            Packing::IvCiphertext
        }
    }
}

/// Plaintext on stdin, envelope on stdout.
pub fn encrypt(args: &CryptArgs) -> Result<(), CliError> {
    let key = input::partner_key()?;
    let plaintext = input::read_stdin(STDIN_LIMIT)?;
    let sealed = key.encrypt(&plaintext, args.packing());
    match args.output {
        Output::Json => println!("{}", serde_json::json!({"encrypted_data": sealed})),
        Output::Human => println!("{sealed}"),
    }
    Ok(())
}

/// Envelope on stdin, plaintext on stdout.
pub fn decrypt(args: &CryptArgs) -> Result<(), CliError> {
    let key = input::partner_key()?;
    let envelope = input::read_stdin(STDIN_LIMIT)?;
    let envelope = std::str::from_utf8(&envelope)
        .map_err(|_| CliError::refused("the envelope on stdin is not text"))?;
    let plaintext = key
        .decrypt(envelope, args.packing())
        .map_err(|e| CliError::refused(e.to_string()))?;
    let written = match args.output {
        Output::Human => std::io::stdout().write_all(plaintext.as_bytes()),
        Output::Json => {
            let text = std::str::from_utf8(plaintext.as_bytes()).map_err(|_| {
                CliError::refused("the plaintext is not UTF-8 text; use the default output")
            })?;
            writeln!(
                std::io::stdout(),
                "{}",
                serde_json::json!({"plaintext": text})
            )
        }
    };
    written.map_err(|e| CliError::usage(format!("cannot write stdout: {e}")))?;
    Ok(())
}
