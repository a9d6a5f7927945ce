//! Get token and Refresh token (rotation: a used refresh token stops working).

use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::{reply, Incoming, Reply};
use crate::failure::Failure;
use crate::state::State;

#[derive(serde::Deserialize)]
struct Login {
    agent_id: Option<String>,
    agent_secret: Option<String>,
}

/// `POST agent/auth`.
pub fn get_token(state: &mut State, body: &[u8], now: OffsetDateTime) -> Reply {
    let login: Login = serde_json::from_slice(body)
        .map_err(|_| Failure::unauthorized("body must be {\"agent_id\", \"agent_secret\"}"))?;
    let (Some(agent_id), Some(secret)) = (login.agent_id, login.agent_secret) else {
        return Err(Failure::unauthorized(
            "agent_id and agent_secret are required",
        ));
    };
    let secret = zeroize::Zeroizing::new(secret);
    let partner = state
        .partner_index(&agent_id)
        .filter(|&i| {
            let expected = state.partners[i].signer.secret().expose_secret();
            bool::from(expected.ct_eq(secret.as_bytes()))
        })
        .ok_or_else(|| Failure::unauthorized("wrong agent_id or agent_secret"))?;
    state.stats.auth += 1;
    reply(&state.issue_tokens(partner, now))
}

#[derive(serde::Deserialize)]
struct RefreshBody {
    refresh_token: Option<String>,
}

/// `PATCH agent/auth`: the refresh token as bearer, or in the body.
pub fn refresh(state: &mut State, request: &Incoming<'_>, now: OffsetDateTime) -> Reply {
    let from_header = request
        .authorization
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    // The body is optional; when there is one it must be `{"refresh_token": "..."}` or `{}`.
    let from_body = if request.body.trim_ascii().is_empty() {
        None
    } else {
        serde_json::from_slice::<RefreshBody>(request.body)
            .map_err(|_| {
                Failure::malformed("the body must be an object with an optional refresh_token")
            })?
            .refresh_token
    };
    let token = from_header
        .or(from_body)
        .ok_or_else(|| Failure::unauthorized("refresh token missing"))?;
    let record = state
        .refresh
        .remove(&token)
        .filter(|r| r.expires > now)
        .ok_or_else(|| {
            Failure::unauthorized("refresh token is unknown, expired or already used")
        })?;
    state.stats.refresh += 1;
    reply(&state.issue_tokens(record.partner, now))
}
