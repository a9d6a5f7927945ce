//! Why a notification was refused.

pub use imts_core::signature::SignatureMismatch;

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
