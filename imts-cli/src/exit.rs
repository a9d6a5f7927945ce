//! Exit codes and the one-line error every failure becomes.

use std::process::ExitCode;

/// The exit codes, as shown in `imts --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  refused: signature mismatch, decryption failure, transfer not in the expected state
  2  usage or configuration error (bad flag, missing environment variable, malformed input)
  3  the API answered with an error
  4  transport error (connection refused, timeout)";

/// A failure: the exit code and one readable line for stderr.
#[derive(Debug)]
pub struct CliError {
    code: u8,
    message: String,
}

impl CliError {
    /// Exit 1: the input was well-formed but refused (mismatch, decryption failure).
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    /// Exit 2: usage or configuration error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    /// Exit 3: a server answered with an error.
    pub fn api(message: impl Into<String>) -> Self {
        Self {
            code: 3,
            message: message.into(),
        }
    }

    /// Exit 4: a server could not be reached or did not answer.
    pub fn transport(message: impl Into<String>) -> Self {
        Self {
            code: 4,
            message: message.into(),
        }
    }

    /// Exit 3 (API error), 4 (transport) or 2 (invalid request) for a client error.
    pub fn from_api(error: &imts::Error) -> Self {
        let code = match error {
            imts::Error::Api { .. } | imts::Error::Decode { .. } => 3,
            imts::Error::GaveUp { last, .. } if matches!(**last, imts::Error::Api { .. }) => 3,
            imts::Error::Transport { .. }
            | imts::Error::GaveUp { .. }
            | imts::Error::OutcomeUnknown { .. } => 4,
            _ => 2,
        };
        Self {
            code,
            message: error.report().to_string(),
        }
    }

    /// Prints the message and gives the exit code.
    pub fn report(self) -> ExitCode {
        eprintln!("imts: {}", self.message);
        ExitCode::from(self.code)
    }
}
