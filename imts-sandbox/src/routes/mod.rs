//! Request handling, in the contract's order: authentication (401), signature (400), validation
//! (422), resource (404), state (409). Handlers run under the state lock and return the answer
//! plus the notifications their changes cause.

mod auth;
mod catalog;
mod clients;
mod transfers;

pub use clients::AML_REJECT_PREFIX;

use imts_core::endpoint::{Endpoint, PATH_PREFIX};
use imts_core::schema::WireSchema;
use imts_core::signature::{verify_json, CanonicalParams, VerifyError, SIGNATURE_FIELD};
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::OffsetDateTime;

use crate::callbacks::Outgoing;
use crate::failure::{from_decode_error, Failure};
use crate::state::State;

/// An answer body or an error answer.
pub type Reply = Result<Vec<u8>, Failure>;

/// A parsed request, as the routes see it.
pub struct Incoming<'a> {
    /// Query string.
    pub query: Option<&'a str>,
    /// `Authorization` header value.
    pub authorization: Option<&'a str>,
    /// Body bytes.
    pub body: &'a [u8],
}

/// What a handler works with.
pub struct Ctx<'a> {
    /// The state (locked).
    pub state: &'a mut State,
    /// The calling partner.
    pub partner: usize,
    /// The sandbox's time.
    pub now: OffsetDateTime,
    /// Notifications to deliver once the lock is released.
    pub out: &'a mut Vec<Outgoing>,
}

/// Serializes an answer.
pub fn reply<T: Serialize>(value: &T) -> Reply {
    serde_json::to_vec(value)
        .map_err(|e| Failure::malformed(format!("cannot encode the answer: {e}")))
}

/// Finds the endpoint of a request, or the 404/405 answer.
///
/// # Errors
/// 404 for an unknown path, 405 for a known path with another method.
pub fn route(method: &http::Method, path: &str) -> Result<Endpoint, Failure> {
    if let Some(endpoint) = Endpoint::from_route(method, path) {
        return Ok(endpoint);
    }
    let relative = path
        .strip_prefix(PATH_PREFIX)
        .unwrap_or(path)
        .trim_matches('/');
    let allowed: Vec<String> = imts_core::ENDPOINTS
        .iter()
        .filter(|spec| spec.path == relative)
        .map(|spec| spec.method.to_http().to_string())
        .collect();
    if allowed.is_empty() {
        Err(Failure::not_found(format!("no endpoint at {path}")))
    } else {
        Err(Failure::method_not_allowed(&allowed.join(" or ")))
    }
}

/// Handles one request against the locked state.
pub fn handle(
    state: &mut State,
    endpoint: Endpoint,
    request: &Incoming<'_>,
    now: OffsetDateTime,
    out: &mut Vec<Outgoing>,
) -> Reply {
    match endpoint {
        Endpoint::GetToken => return auth::get_token(state, request.body, now),
        Endpoint::RefreshToken => return auth::refresh(state, request, now),
        _ => {}
    }
    let token = request
        .authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| Failure::unauthorized("missing Authorization: Bearer access token"))?;
    let partner = state
        .authenticate(token.trim(), now)
        .ok_or_else(|| Failure::unauthorized("access token is unknown or expired"))?;
    let json = signed_params(state, partner, endpoint, request)?;
    let mut ctx = Ctx {
        state,
        partner,
        now,
        out,
    };
    match endpoint {
        Endpoint::GetAgents => catalog::agents(&mut ctx, decode(&json)?),
        Endpoint::Fees => catalog::fees(&mut ctx, decode(&json)?),
        Endpoint::CreatePerson => clients::create_person(&mut ctx, decode(&json)?),
        Endpoint::CreateBusiness => clients::create_business(&mut ctx, decode(&json)?),
        Endpoint::PersonInfo => clients::info(
            &mut ctx,
            decode::<imts_core::models::PersonInfoRequest>(&json)?.client_uuid,
            false,
        ),
        Endpoint::BusinessInfo => clients::info(
            &mut ctx,
            decode::<imts_core::models::BusinessInfoRequest>(&json)?.client_uuid,
            true,
        ),
        Endpoint::CreateTransfer => {
            let fingerprint =
                CanonicalParams::from_json(&json).map_err(|e| Failure::malformed(e.to_string()))?;
            transfers::create(&mut ctx, decode(&json)?, fingerprint)
        }
        Endpoint::PrintApplication => transfers::print(&mut ctx, decode(&json)?),
        Endpoint::Confirm => transfers::confirm(&mut ctx, decode(&json)?),
        Endpoint::Search => transfers::search(&mut ctx, decode(&json)?),
        Endpoint::Payout => transfers::payout(&mut ctx, decode(&json)?),
        Endpoint::PayoutConfirm => transfers::payout_confirm(&mut ctx, decode(&json)?),
        Endpoint::Cancel => transfers::cancel(&mut ctx, decode(&json)?),
        Endpoint::Status => transfers::status(&mut ctx, decode(&json)?),
        Endpoint::Info => transfers::info(&mut ctx, decode(&json)?),
        Endpoint::GetToken | Endpoint::RefreshToken => Err(Failure::not_found("unreachable")),
    }
}

/// Checks `pg_sig` and returns the parameters as a JSON object (a GET's query becomes an object
/// of strings).
fn signed_params(
    state: &State,
    partner: usize,
    endpoint: Endpoint,
    request: &Incoming<'_>,
) -> Result<Vec<u8>, Failure> {
    let (params, signature, json) = if endpoint.spec().method == imts_core::endpoint::Method::Get {
        let query = request.query.unwrap_or_default();
        let pairs: Vec<(String, String)> = form_urlencoded_pairs(query);
        let signature = pairs
            .iter()
            .find(|(k, _)| k == SIGNATURE_FIELD)
            .map(|(_, v)| v.clone());
        let params = CanonicalParams::from_pairs(pairs.clone())
            .map_err(|e| Failure::malformed(e.to_string()))?;
        let object: serde_json::Map<String, serde_json::Value> = pairs
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        (
            params,
            signature,
            serde_json::to_vec(&object).unwrap_or_default(),
        )
    } else {
        return verify_body(state, partner, request.body);
    };
    let signature = signature.ok_or_else(|| Failure::signature("pg_sig is missing"))?;
    params
        .verify(&state.partners[partner].signer, &signature)
        .map_err(|mismatch| Failure::signature(mismatch.to_string()))?;
    Ok(json)
}

/// Checks the `pg_sig` of a JSON body without copying its values.
fn verify_body(state: &State, partner: usize, body: &[u8]) -> Result<Vec<u8>, Failure> {
    #[derive(serde::Deserialize)]
    struct Signature<'a> {
        #[serde(borrow)]
        pg_sig: Option<std::borrow::Cow<'a, str>>,
        // Read only to refuse a salt that is not text (an object would sign as nothing).
        #[serde(borrow, default)]
        #[allow(dead_code)]
        pg_salt: Option<std::borrow::Cow<'a, str>>,
    }
    if body.trim_ascii().is_empty() {
        return Err(Failure::signature("pg_sig is missing"));
    }
    let signature = serde_json::from_slice::<Signature<'_>>(body)
        .map_err(|e| from_decode_error(&e))?
        .pg_sig
        .ok_or_else(|| Failure::signature("pg_sig is missing"))?;
    match verify_json(body, &state.partners[partner].signer, &signature) {
        Ok(()) => Ok(body.to_vec()),
        Err(VerifyError::Mismatch(mismatch)) => Err(Failure::signature(format!(
            "pg_sig does not match; expected the HMAC-SHA256 of: {}",
            mismatch.expected_message()
        ))),
        Err(other) => Err(Failure::malformed(other.to_string())),
    }
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Decodes a request body into its wire type; errors name the field (422). A value outside an
/// enumeration is refused here: the models keep one in an answer (`Unknown`), a server must not
/// accept one in a request.
fn decode<T: DeserializeOwned + WireSchema>(json: &[u8]) -> Result<T, Failure> {
    let value: T = serde_json::from_slice(json).map_err(|e| from_decode_error(&e))?;
    match value.outside_schema() {
        Some(field) => Err(Failure::validation(
            field,
            "is not one of the values the contract names",
        )),
        None => Ok(value),
    }
}
