//! Response decoding: telling an error envelope from a result, and decoding either.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::endpoint::Route;
use crate::enums::ErrorCode;
use crate::error::{ApiError, Error};

/// Longest raw body kept in an error.
pub const RAW_BODY_LIMIT: usize = 4096;

/// The error envelope's fields, borrowed where they can be: every answer is read as one first.
#[derive(Deserialize, Default)]
struct Envelope<'a> {
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error_code: Option<Cow<'a, str>>,
    error_description: Option<String>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    errors: Option<BTreeMap<String, FieldMessages>>,
}

#[derive(Deserialize)]
struct NestedError {
    message: Option<String>,
    code: Option<serde_json::Value>,
    errors: Option<BTreeMap<String, FieldMessages>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FieldMessages {
    Many(Vec<String>),
    One(String),
}

impl FieldMessages {
    fn into_vec(self) -> Vec<String> {
        match self {
            FieldMessages::Many(v) => v,
            FieldMessages::One(s) => vec![s],
        }
    }
}

fn code_for_status(status: u16) -> ErrorCode {
    match status {
        400 => ErrorCode::InvalidSignature,
        401 => ErrorCode::Unauthorized,
        404 => ErrorCode::NotFound,
        422 => ErrorCode::ValidationError,
        500 => ErrorCode::InternalError,
        503 => ErrorCode::Unavailable,
        other => ErrorCode::Unknown(format!("http_{other}")),
    }
}

fn raw_body(route: &Route, body: &[u8]) -> Option<String> {
    if route.is_token_exchange {
        return None;
    }
    let cut = body.len().min(RAW_BODY_LIMIT);
    Some(String::from_utf8_lossy(&body[..cut]).into_owned())
}

fn field_errors(map: Option<BTreeMap<String, FieldMessages>>) -> BTreeMap<String, Vec<String>> {
    map.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.into_vec()))
        .collect()
}

/// Reads an error envelope, if `body` is one. `None` means "a result".
fn error_envelope(route: &Route, status: u16, body: &[u8]) -> Option<ApiError> {
    let success = (200..300).contains(&status);
    let envelope: Option<Envelope> = serde_json::from_slice(body).ok();
    let Some(envelope) = envelope else {
        return (!success).then(|| ApiError {
            http_status: status,
            code: code_for_status(status),
            message: format!("HTTP {status} with a body that is not an error envelope"),
            field_errors: BTreeMap::new(),
            raw_body: raw_body(route, body),
        });
    };
    if let Some(nested) = envelope.error {
        if let Ok(nested) = serde_json::from_str::<NestedError>(nested.get()) {
            let code = match nested.code {
                Some(serde_json::Value::String(s)) => ErrorCode::from(s.as_str()),
                Some(other) => ErrorCode::Unknown(other.to_string()),
                None => code_for_status(status),
            };
            return Some(ApiError {
                http_status: status,
                code,
                message: nested.message.unwrap_or_default(),
                field_errors: field_errors(nested.errors),
                raw_body: None,
            });
        }
    }
    let is_error_shape =
        envelope.error_code.is_some() && envelope.status.as_deref() == Some("error");
    // Read the body again only for an error-shaped one (rare): does it carry a result too?
    let has_result = || {
        route.result_field.is_some_and(|field| {
            serde_json::from_slice::<BTreeMap<Cow<'_, str>, &RawValue>>(body)
                .map(|m| m.contains_key(field))
                .unwrap_or(false)
        })
    };
    let envelope_only = is_error_shape && !has_result();
    if success && !envelope_only {
        return None;
    }
    Some(ApiError {
        http_status: status,
        code: envelope
            .error_code
            .as_deref()
            .map_or_else(|| code_for_status(status), ErrorCode::from),
        message: envelope
            .error_description
            .unwrap_or_else(|| format!("HTTP {status}")),
        field_errors: field_errors(envelope.errors),
        raw_body: None,
    })
}

/// Classifies an answer: `Err` with the API error when it is one.
///
/// # Errors
/// [`Error::Api`] for a non-2xx status or an error envelope sent with 2xx.
pub fn check(route: &Route, status: u16, body: &[u8]) -> Result<(), Error> {
    match error_envelope(route, status, body) {
        Some(error) => Err(Error::Api {
            endpoint: route.name.clone(),
            error: Box::new(error),
        }),
        None => Ok(()),
    }
}

/// Decodes an answer into `T`, or the API error it carries.
///
/// # Errors
/// [`Error::Api`] for an error answer, [`Error::Decode`] for a success that is not a `T`.
pub fn decode<T: DeserializeOwned>(route: &Route, status: u16, body: &[u8]) -> Result<T, Error> {
    check(route, status, body)?;
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        endpoint: route.name.clone(),
        http_status: status,
        message: e.to_string(),
        raw_body: raw_body(route, body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::Endpoint;

    #[test]
    fn the_three_error_shapes() {
        let route = Endpoint::CreateTransfer.route();
        let flat =
            br#"{"status":"error","error_code":"invalid_status","error_description":"nope"}"#;
        let e = check(&route, 409, flat).unwrap_err();
        assert_eq!(e.code(), Some(&ErrorCode::InvalidStatus));
        let nested = br#"{"error":{"message":"bad","code":"duplicate_order_id"}}"#;
        assert_eq!(
            check(&route, 409, nested).unwrap_err().code(),
            Some(&ErrorCode::DuplicateOrderId)
        );
        let fields =
            br#"{"error":{"message":"invalid","errors":{"amount_source":["too many digits"]}}}"#;
        let e = check(&route, 422, fields).unwrap_err();
        assert_eq!(
            e.api().unwrap().field_errors["amount_source"],
            vec!["too many digits"]
        );
        assert_eq!(e.code(), Some(&ErrorCode::ValidationError));
    }

    #[test]
    fn error_envelope_with_http_200_is_an_error_but_a_failed_transfer_is_not() {
        let route = Endpoint::Confirm.route();
        let envelope =
            br#"{"status":"error","error_code":"internal_error","error_description":"x"}"#;
        assert!(check(&route, 200, envelope).is_err());
        let failed_transfer = br#"{"transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","status":"error","error_code":"aml_rejected"}"#;
        assert!(check(&route, 200, failed_transfer).is_ok());
        let unknown = br#"{"status":"error","error_code":"brand_new_code"}"#;
        assert_eq!(
            check(&route, 418, unknown).unwrap_err().code(),
            Some(&ErrorCode::Unknown("brand_new_code".into()))
        );
    }

    #[test]
    fn undecodable_bodies_keep_the_raw_text_except_for_tokens() {
        let route = Endpoint::Fees.route();
        let e = check(&route, 502, b"<html>bad gateway</html>").unwrap_err();
        assert_eq!(
            e.api().unwrap().raw_body.as_deref(),
            Some("<html>bad gateway</html>")
        );
        let token_route = Endpoint::GetToken.route();
        let e = decode::<crate::models::TokenResponse>(
            &token_route,
            200,
            br#"{"access_token":"secret-token"}"#,
        )
        .unwrap_err();
        assert!(!e.to_string().contains("secret-token"));
        assert!(!format!("{e:?}").contains("secret-token"));
    }
}
