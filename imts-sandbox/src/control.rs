//! The control API under `/sandbox/v1/` (`docs/contract.md`, "The sandbox's control API"): no
//! IMTS signature or token (a bearer `--control-token` when one is set); it moves transfers
//! along the life cycle, and lists, resends and emits notifications. It adds behaviour to the
//! sandbox and changes nothing of the IMTS contract.

use std::sync::Arc;

use imts_core::enums::{ErrorCode, TransferStatus};
use imts_core::lifecycle::{is_final, TRANSITIONS};
use serde::Deserialize;
use serde_json::json;

use crate::callbacks::{self, Outgoing};
use crate::failure::Failure;
use crate::routes::Ctx;
use crate::server::Shared;

/// The control API's path prefix.
pub const PREFIX: &str = "/sandbox/v1/";

/// The most one clock advance may move the sandbox's clock: ten years, far past every expiry
/// and retry it drives (and far from the overflow of its millisecond offset).
pub const MAX_CLOCK_ADVANCE_SECONDS: u64 = 10 * 366 * 24 * 3600;

/// A control answer: status and JSON body, serialized from the typed value (never through a
/// `serde_json::Value`, whose numbers are floats: amounts keep their digits).
pub type Answer = Result<(u16, Vec<u8>), Failure>;

/// `value` as the answer with `status`.
fn answered<T: serde::Serialize>(status: u16, value: &T) -> Answer {
    crate::routes::reply(value).map(|bytes| (status, bytes))
}

/// `POST .../transfers/{id}/advance`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    to: TransferStatus,
    #[serde(default)]
    error_code: Option<ErrorCode>,
}

/// `POST .../clock/advance`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockAdvance {
    seconds: u64,
}

/// `POST .../callbacks/emit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Emit {
    transfer_id: String,
    #[serde(rename = "type")]
    kind: String,
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| Failure::malformed(format!("control API: {e}")))
}

/// Whether the request carries the control token (always, when none is configured).
#[must_use]
pub fn authorized(shared: &Shared, authorization: Option<&str>) -> bool {
    use subtle::ConstantTimeEq as _;
    let Some(token) = &shared.config.control_token else {
        return true;
    };
    let given = authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))
}

/// Answers one control request (the path after [`PREFIX`]).
pub fn answer(shared: &Arc<Shared>, method: &http::Method, path: &str, body: &[u8]) -> Answer {
    let segments: Vec<&str> = path.split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["callbacks"]) => {
            let log = shared.with_state(|s| s.callback_log.iter().cloned().collect::<Vec<_>>());
            #[derive(serde::Serialize)]
            struct List<'a> {
                callbacks: &'a [crate::callback_log::LoggedCallback],
            }
            answered(200, &List { callbacks: &log })
        }
        ("POST", ["callbacks", id, "resend"]) => resend(shared, id),
        (_, ["agents", agent, "delivery"]) => {
            if shared.with_state(|s| s.partner_index(agent).is_none()) {
                return Err(Failure::not_found(format!("no agent {agent}")));
            }
            if method == http::Method::POST {
                let controls: crate::delivery::DeliveryControls = parse(body)?;
                if controls.delay_ms > crate::delivery::MAX_DELAY_MS {
                    return Err(Failure::validation(
                        "delay_ms",
                        format!("at most {}", crate::delivery::MAX_DELAY_MS),
                    ));
                }
                crate::delivery::set_controls(shared, agent, controls);
            } else if method != http::Method::GET {
                return Err(Failure::method_not_allowed("GET, POST"));
            }
            let (controls, held) = shared.with_state(|s| {
                s.deliveries
                    .get(*agent)
                    .map_or_else(Default::default, |d| (d.controls.clone(), d.held.len()))
            });
            answered(200, &json!({ "controls": controls, "held": held }))
        }
        ("POST", ["clock", "advance"]) => {
            let request: ClockAdvance = parse(body)?;
            if request.seconds > MAX_CLOCK_ADVANCE_SECONDS {
                return Err(Failure::validation(
                    "seconds",
                    format!("at most {MAX_CLOCK_ADVANCE_SECONDS}"),
                ));
            }
            shared
                .clock
                .advance(std::time::Duration::from_secs(request.seconds));
            let now = imts_core::values::Timestamp::new(shared.clock.now());
            answered(200, &json!({ "now": now }))
        }
        ("POST", ["callbacks", "emit"]) => emit(shared, parse(body)?),
        ("POST", ["transfers", id, "advance"]) => advance(shared, id, parse(body)?),
        _ => Err(Failure::not_found(format!(
            "no control route {method} {PREFIX}{path}"
        ))),
    }
}

/// Runs `f` on a context acting as the transfer's owner, then delivers what it queued.
fn as_owner<T>(
    shared: &Arc<Shared>,
    transfer_id: &str,
    f: impl FnOnce(&mut Ctx<'_>, String) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let now = shared.clock.now();
    let mut out: Vec<Outgoing> = Vec::new();
    let result = shared.with_state(|state| {
        let owner = state
            .transfers
            .get(transfer_id)
            .map(|t| t.owner)
            .ok_or_else(|| Failure::not_found(format!("no transfer {transfer_id}")))?;
        let mut ctx = Ctx {
            state,
            partner: owner,
            now,
            out: &mut out,
        };
        f(&mut ctx, transfer_id.to_owned())
    });
    for notification in out {
        crate::delivery::spawn_delivery(Arc::clone(shared), notification);
    }
    result
}

/// Whether the life-cycle table has an edge from `from` to `to`; `error` may be forced from
/// any status that is not final.
fn edge(from: &TransferStatus, to: &TransferStatus) -> bool {
    if *to == TransferStatus::Error {
        return !is_final(from);
    }
    TRANSITIONS
        .iter()
        .any(|t| t.from.contains(from) && (t.to == *to || t.on_reject.as_ref() == Some(to)))
}

fn advance(shared: &Arc<Shared>, id: &str, request: Advance) -> Answer {
    use imts_core::schema::WireSchema as _;
    if request.to.outside_schema().is_some() {
        return Err(Failure::validation("to", "is not a transfer status"));
    }
    if request.error_code.outside_schema().is_some() {
        return Err(Failure::validation(
            "error_code",
            "is not an error code the contract names",
        ));
    }
    as_owner(shared, id, |ctx, id| {
        let now = ctx.now;
        let Some(record) = ctx.state.transfers.get_mut(&id) else {
            return Err(Failure::not_found(format!("no transfer {id}")));
        };
        if !edge(&record.status, &request.to) {
            return Err(Failure::invalid_status(format!(
                "no life-cycle edge from {} to {}",
                record.status, request.to
            )));
        }
        let previous = record.status.clone();
        if request.to == TransferStatus::Error {
            let code = request.error_code.unwrap_or(ErrorCode::AmlRejected);
            record.error = Some((code, "forced by the sandbox's control API".into()));
        }
        record.status = request.to;
        record.updated_at = now;
        let record = record.clone();
        callbacks::status_changed(ctx, &record, Some(previous));
        answered(200, &record.to_wire())
    })
}

fn emit(shared: &Arc<Shared>, request: Emit) -> Answer {
    as_owner(shared, &request.transfer_id, |ctx, id| {
        let Some(record) = ctx.state.transfers.get(&id).cloned() else {
            return Err(Failure::not_found(format!("no transfer {id}")));
        };
        let before = ctx.out.len();
        match request.kind.as_str() {
            "status_update" => callbacks::status_update(ctx, &record, None),
            "transfer_received" if record.status == TransferStatus::Process => {
                callbacks::transfer_received(ctx, &record);
            }
            "transfer_received" => {
                return Err(Failure::invalid_status(format!(
                    "transfer_received is only sent for a transfer in process, not {}",
                    record.status
                )))
            }
            other => {
                return Err(Failure::validation(
                    "type",
                    format!("`{other}` is not status_update or transfer_received"),
                ))
            }
        }
        let ids: Vec<&str> = ctx.out[before..]
            .iter()
            .map(|n| n.notification_id.as_str())
            .collect();
        answered(202, &json!({ "notifications": ids }))
    })
}

fn resend(shared: &Arc<Shared>, id: &str) -> Answer {
    let outgoing = shared
        .with_state(|s| s.callback_log.get(id).map(Outgoing::from_logged))
        .ok_or_else(|| Failure::not_found(format!("no notification {id}")))?;
    crate::delivery::resend(Arc::clone(shared), outgoing);
    answered(202, &json!({ "notification_id": id }))
}
