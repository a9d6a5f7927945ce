//! The core's error type.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::enums::ErrorCode;
use crate::signature::CanonicalError;
use crate::values::{Lookup, OrderId, TransferId, ValueError};

/// The name of the endpoint an error came from (`create`, `status`, ...): borrowed from the
/// endpoint table for typed calls, owned only for a raw call to a path the table does not know.
pub type EndpointName = Cow<'static, str>;

/// An error answer of the API, in any of the three shapes of the contract (`docs/contract.md`,
/// "Errors").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

impl ApiError {
    /// An error answer with no per-field messages and no raw body.
    #[must_use]
    pub fn new(http_status: u16, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            http_status,
            code,
            message: message.into(),
            field_errors: BTreeMap::new(),
            raw_body: None,
        }
    }

    /// Whether the same request may succeed later: 429 (rate limited) and 5xx answers.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        self.http_status == 429 || (500..600).contains(&self.http_status)
    }
}

/// What kind of transport failure occurred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    #[error("{endpoint}: the API answered with an error")]
    Api {
        /// The endpoint's name.
        endpoint: EndpointName,
        /// The answer.
        #[source]
        error: Box<ApiError>,
    },
    /// A request value broke the contract; nothing was sent.
    #[error("invalid request")]
    InvalidRequest(#[from] ValueError),
    /// A request body could not be canonicalized for signing; nothing was sent.
    #[error("invalid request body")]
    Canonical(#[from] CanonicalError),
    /// The endpoint carries personal data and no partner key is configured.
    #[error("{0}: a partner key is required to encrypt personal data")]
    MissingPartnerKey(EndpointName),
    /// A client could not be built from its settings (a bad base URL, a TLS setup that failed).
    #[error("the client could not be built: {0}")]
    ClientBuild(String),
    /// The journal could not record a money-moving call, so nothing was sent (or, for a retry,
    /// nothing more); or it refused the call (a key reused for another request).
    #[error("journal: {0}")]
    Journal(#[from] crate::journal::JournalError),
    /// The sans-IO driver was used out of order (polled after it finished, say): a bug in the
    /// code driving it, never the request's fault.
    #[error("call driver misused: {0}")]
    DriverMisuse(&'static str),
    /// A success answer did not decode into the expected type.
    #[error("{endpoint}: HTTP {http_status} answer could not be decoded: {message}")]
    Decode {
        /// The endpoint's name.
        endpoint: EndpointName,
        /// The HTTP status.
        http_status: u16,
        /// What was wrong (names the field).
        message: String,
        /// The body as received (never for token exchanges).
        raw_body: Option<String>,
    },
    /// The transport failed and the call may not be repeated or ran out of attempts.
    #[error("{endpoint}: transport error")]
    Transport {
        /// The endpoint's name.
        endpoint: EndpointName,
        /// The failure.
        #[source]
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
        endpoint: EndpointName,
        /// The partner's reference of the transfer being created.
        order_id: Option<OrderId>,
        /// The transfer being moved.
        transfer_id: Option<TransferId>,
    },
    /// The attempt or time budget ran out; `last` is the last failure seen.
    #[error("{endpoint}: gave up after {attempts} attempts in {elapsed:?}")]
    GaveUp {
        /// The endpoint's name.
        endpoint: EndpointName,
        /// Requests sent.
        attempts: u32,
        /// Time since the call started.
        elapsed: Duration,
        /// The last failure.
        #[source]
        last: Box<Error>,
    },
}

/// [`Error::report`]: an error and its chain of sources on one line.
#[derive(Debug, Clone, Copy)]
pub struct Report<'e>(&'e Error);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(self.0);
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
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

    /// This error and its sources, joined by `: `, for a log line or a terminal:
    /// `create: the API answered with an error: HTTP 409 duplicate_order_id: ...`. (`Display`
    /// shows only the outermost error; reporters such as `anyhow` walk [`source`] themselves.)
    ///
    /// [`source`]: std::error::Error::source
    #[must_use]
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }

    /// Whether making the same call again later may succeed: a transport failure, a 429 or 5xx
    /// answer, or a budget that ran out on one of those. `false` for everything the request
    /// itself caused (invalid values, 4xx answers) and for [`Error::OutcomeUnknown`], which
    /// must be resolved first ([`outcome_unknown`](Self::outcome_unknown)).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            Error::Api { error, .. } => error.is_transient(),
            Error::GaveUp { last, .. } => last.is_retryable(),
            _ => false,
        }
    }

    /// For a write whose outcome is unknown, the lookup that resolves it: pass it to Status or
    /// Info before doing anything else. The transfer's id when it is known, else your
    /// `order_id`. `None` for every other error.
    #[must_use]
    pub fn outcome_unknown(&self) -> Option<Lookup> {
        match self {
            Error::OutcomeUnknown {
                transfer_id: Some(id),
                ..
            } => Some(Lookup::TransferId(id.clone())),
            Error::OutcomeUnknown {
                order_id: Some(id), ..
            } => Some(Lookup::OrderId(id.clone())),
            Error::GaveUp { last, .. } => last.outcome_unknown(),
            _ => None,
        }
    }
}
