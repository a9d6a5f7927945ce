//! The core's error type.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::enums::ErrorCode;
use crate::signature::CanonicalError;
use crate::values::{OrderId, TransferId, ValueError};

/// An error answer of the API, in any of the three shapes of `imts-api.md` section 10.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status (200 when an error envelope came with a success status).
    pub http_status: u16,
    /// The provider's code; `Unknown` keeps a code this version does not know.
    pub code: ErrorCode,
    /// The provider's message.
    pub message: String,
    /// Messages per field, for validation errors.
    pub field_errors: BTreeMap<String, Vec<String>>,
    /// The body as received, when it could not be decoded (never for token exchanges).
    pub raw_body: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HTTP {} {}: {}",
            self.http_status, self.code, self.message
        )?;
        for (field, messages) in &self.field_errors {
            write!(f, "; {field}: {}", messages.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// What kind of transport failure occurred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// The connection could not be made: the request certainly did not leave.
    Connect,
    /// No answer in time: the request may have been applied.
    Timeout,
    /// The connection broke after the request was (perhaps) sent.
    Io,
    /// Anything else the transport reports.
    Other,
}

/// A failure below HTTP, reported by a transport.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct TransportError {
    /// What happened.
    pub kind: TransportErrorKind,
    /// The transport's description (never contains a body or a header value).
    pub message: String,
}

impl TransportError {
    /// A new transport error.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Whether the request may have reached the server.
    #[must_use]
    pub fn maybe_sent(&self) -> bool {
        self.kind != TransportErrorKind::Connect
    }
}

/// Everything a call can end in, other than its result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error.
    #[error("{endpoint}: {error}")]
    Api {
        /// The endpoint's name.
        endpoint: String,
        /// The answer.
        error: Box<ApiError>,
    },
    /// A request value broke the contract; nothing was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(#[from] ValueError),
    /// A request body could not be canonicalized for signing; nothing was sent.
    #[error("invalid request: {0}")]
    Canonical(#[from] CanonicalError),
    /// The endpoint carries personal data and no partner key is configured.
    #[error("{0}: a partner key is required to encrypt personal data")]
    MissingPartnerKey(String),
    /// A success answer did not decode into the expected type.
    #[error("{endpoint}: HTTP {http_status} answer could not be decoded: {message}")]
    Decode {
        /// The endpoint's name.
        endpoint: String,
        /// The HTTP status.
        http_status: u16,
        /// What was wrong (names the field).
        message: String,
        /// The body as received (never for token exchanges).
        raw_body: Option<String>,
    },
    /// The transport failed and the call may not be repeated or ran out of attempts.
    #[error("{endpoint}: transport error: {error}")]
    Transport {
        /// The endpoint's name.
        endpoint: String,
        /// The failure.
        error: TransportError,
    },
    /// A write may or may not have been applied, and looking it up did not tell. Look the
    /// transfer up (Status/Info by `order_id` or `transfer_id`) before doing anything else.
    #[error(
        "{endpoint}: outcome unknown (order_id {}, transfer_id {}): look the transfer up before retrying",
        display_opt(order_id.as_ref()),
        display_opt(transfer_id.as_ref())
    )]
    OutcomeUnknown {
        /// The endpoint's name.
        endpoint: String,
        /// The partner's reference of the transfer being created.
        order_id: Option<OrderId>,
        /// The transfer being moved.
        transfer_id: Option<TransferId>,
    },
    /// The attempt or time budget ran out; `last` is the last failure seen.
    #[error("{endpoint}: gave up after {attempts} attempts in {elapsed:?}: {last}")]
    GaveUp {
        /// The endpoint's name.
        endpoint: String,
        /// Requests sent.
        attempts: u32,
        /// Time since the call started.
        elapsed: Duration,
        /// The last failure.
        last: Box<Error>,
    },
}

fn display_opt<T: fmt::Display>(value: Option<&T>) -> String {
    value.map_or_else(|| "-".to_owned(), ToString::to_string)
}

impl Error {
    /// The API error inside, if this is one (looking through [`Error::GaveUp`]).
    #[must_use]
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api { error, .. } => Some(error),
            Error::GaveUp { last, .. } => last.api(),
            _ => None,
        }
    }

    /// The provider's error code, if this is an API error.
    #[must_use]
    pub fn code(&self) -> Option<&ErrorCode> {
        self.api().map(|e| &e.code)
    }
}
