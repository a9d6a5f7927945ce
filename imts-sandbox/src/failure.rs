//! Error answers in the contract's shape: `{"status":"error","error_code","error_description"}`,
//! with per-field messages under `errors` for validation failures.

use std::collections::BTreeMap;

use imts_core::enums::ErrorCode;
use serde::Serialize;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status.
    pub status: u16,
    /// Provider error code.
    pub code: ErrorCode,
    /// Description.
    pub description: String,
    /// Messages per field.
    pub field_errors: BTreeMap<String, Vec<String>>,
}

#[derive(Serialize)]
struct Body<'a> {
    status: &'static str,
    error_code: &'a str,
    error_description: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    errors: &'a BTreeMap<String, Vec<String>>,
}

impl Failure {
    fn new(status: u16, code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            field_errors: BTreeMap::new(),
        }
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(description: impl Into<String>) -> Self {
        Self::new(401, ErrorCode::Unauthorized, description)
    }

    /// 400 `invalid_signature`.
    pub fn signature(description: impl Into<String>) -> Self {
        Self::new(400, ErrorCode::InvalidSignature, description)
    }

    /// 422 `validation_error` for one field.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        let mut failure = Self::new(
            422,
            ErrorCode::ValidationError,
            format!("{field}: {message}"),
        );
        failure.field_errors.insert(field, vec![message]);
        failure
    }

    /// 422 for a body that is not the JSON the endpoint expects.
    pub fn malformed(description: impl Into<String>) -> Self {
        Self::new(422, ErrorCode::ValidationError, description)
    }

    /// 404 `not_found`.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(404, ErrorCode::NotFound, description)
    }

    /// 409 `invalid_status`.
    pub fn invalid_status(description: impl Into<String>) -> Self {
        Self::new(409, ErrorCode::InvalidStatus, description)
    }

    /// 409 `duplicate_order_id`.
    pub fn duplicate_order_id(description: impl Into<String>) -> Self {
        Self::new(409, ErrorCode::DuplicateOrderId, description)
    }

    /// 503 `unavailable` (a fault).
    pub fn unavailable() -> Self {
        Self::new(
            503,
            ErrorCode::Unavailable,
            "injected fault: service unavailable",
        )
    }

    /// 413 for an oversized body.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            ErrorCode::Unknown("payload_too_large".into()),
            format!("request body is larger than {limit} bytes"),
        )
    }

    /// 405 for a known path with the wrong method.
    pub fn method_not_allowed(allowed: &str) -> Self {
        Self::new(
            405,
            ErrorCode::Unknown("method_not_allowed".into()),
            format!("use {allowed}"),
        )
    }

    /// The JSON body.
    #[must_use]
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&Body {
            status: "error",
            error_code: self.code.as_str(),
            error_description: &self.description,
            errors: &self.field_errors,
        })
        .unwrap_or_default()
    }
}

/// Turns a serde error from decoding a request into a 422 naming the field.
#[must_use]
pub fn from_decode_error(error: &serde_json::Error) -> Failure {
    let text = error.to_string();
    let field = text
        .strip_prefix("field `")
        .or_else(|| text.strip_prefix("missing field `"))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_owned);
    let message = text.split(" at line ").next().unwrap_or(&text).to_owned();
    match field {
        Some(field) => Failure::validation(field, message),
        None => Failure::malformed(message),
    }
}
