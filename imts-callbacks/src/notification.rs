//! Typed notifications, with a fallback that keeps a type this version does not know.

use std::borrow::Cow;

use imts_core::models::{StatusUpdate, TransferReceived};
use serde_json::value::RawValue;

use crate::error::CallbackError;

/// A verified notification.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Notification {
    /// A transfer's status changed.
    StatusUpdate(StatusUpdate),
    /// A transfer became collectable for this partner.
    TransferReceived(TransferReceived),
    /// A notification type this version does not know, kept whole.
    Unknown {
        /// Its `type`.
        kind: String,
        /// Its `notification_id`.
        notification_id: String,
        /// The body as received.
        raw: Box<RawValue>,
    },
}

/// The fields that decide how the rest is read, borrowed from the body where they can be.
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    notification_id: Option<Cow<'a, str>>,
}

impl Notification {
    /// Parses a (verified) body.
    ///
    /// # Errors
    /// [`CallbackError::Malformed`] for a known type with invalid fields,
    /// [`CallbackError::MissingId`] without `notification_id`.
    pub fn parse(body: &[u8]) -> Result<Self, CallbackError> {
        let head: Head =
            serde_json::from_slice(body).map_err(|e| CallbackError::Malformed(e.to_string()))?;
        let id = head
            .notification_id
            .filter(|id| !id.is_empty())
            .ok_or(CallbackError::MissingId)?;
        let malformed = |e: serde_json::Error| CallbackError::Malformed(e.to_string());
        Ok(match head.kind.as_deref() {
            Some("status_update") => {
                Notification::StatusUpdate(serde_json::from_slice(body).map_err(malformed)?)
            }
            Some("transfer_received") => {
                Notification::TransferReceived(serde_json::from_slice(body).map_err(malformed)?)
            }
            other => Notification::Unknown {
                kind: other.unwrap_or_default().to_owned(),
                notification_id: id.into_owned(),
                raw: serde_json::from_slice(body).map_err(malformed)?,
            },
        })
    }

    /// The id, the same on every retry of one notification.
    #[must_use]
    pub fn notification_id(&self) -> &str {
        match self {
            Notification::StatusUpdate(n) => &n.notification_id,
            Notification::TransferReceived(n) => &n.notification_id,
            Notification::Unknown {
                notification_id, ..
            } => notification_id,
        }
    }

    /// The `type` field.
    #[must_use]
    pub fn kind(&self) -> &str {
        match self {
            Notification::StatusUpdate(_) => "status_update",
            Notification::TransferReceived(_) => "transfer_received",
            Notification::Unknown { kind, .. } => kind,
        }
    }
}
