//! Why a notification was refused.

use std::fmt;

/// A signature that did not match. Its `Display` says only that; the expected message (secret
/// masked) is there for a log line on request, since it contains the notification's values.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureMismatch {
    masked_message: String,
}

impl SignatureMismatch {
    pub(crate) fn new(masked_message: String) -> Self {
        Self { masked_message }
    }

    /// The message that was expected to be signed, `v1;v2;...;***`.
    #[must_use]
    pub fn expected_message(&self) -> &str {
        &self.masked_message
    }
}

impl fmt::Debug for SignatureMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SignatureMismatch")
    }
}

impl fmt::Display for SignatureMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pg_sig does not match")
    }
}

/// A refused notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// Not a JSON object, or a known notification with invalid fields.
    #[error("malformed notification: {0}")]
    Malformed(String),
    /// No `pg_sig`.
    #[error("notification has no pg_sig")]
    MissingSignature,
    /// `pg_sig` did not verify under any accepted secret.
    #[error("{0}")]
    BadSignature(SignatureMismatch),
    /// No `notification_id`: it cannot be de-duplicated, so it is refused.
    #[error("notification has no notification_id")]
    MissingId,
}

impl CallbackError {
    /// The HTTP status the receiver answers with.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            CallbackError::MissingSignature | CallbackError::BadSignature(_) => 401,
            CallbackError::Malformed(_) | CallbackError::MissingId => 400,
        }
    }
}
