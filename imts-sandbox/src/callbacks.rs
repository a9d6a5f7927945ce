//! Signed notifications (`docs/contract.md`, "Callbacks"): built under the state lock when a status
//! changes, delivered afterwards by a task per notification that retries 3 times, 15 minutes
//! apart divided by `--time-scale`. Delivery never blocks a request.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use imts_core::enums::{NotificationType, TransferStatus};
use imts_core::models::Extra;
use imts_core::models::{StatusUpdate, TransferReceived};
use imts_core::signature::CanonicalParams;
use imts_core::values::{mask_identifier, Amount, Timestamp};
use imts_crypto::Signer;
use serde::Serialize;

use crate::callback_log::{Attempt, DeliveryState, LoggedCallback};
use crate::routes::Ctx;
use crate::server::Shared;
use crate::state::TransferRecord;

/// The provider's retry interval.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Retries after the first delivery.
pub const RETRIES: u32 = 3;

/// A notification waiting for delivery.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Where.
    pub url: String,
    /// The signed JSON body (the same bytes on every retry).
    pub body: Vec<u8>,
    /// Its `notification_id`.
    pub notification_id: String,
    /// `status_update` or `transfer_received`.
    pub kind: &'static str,
    /// The transfer it is about.
    pub transfer_id: String,
}

impl Outgoing {
    /// The notification a log entry recorded, to deliver again.
    #[must_use]
    pub fn from_logged(entry: &LoggedCallback) -> Self {
        Self {
            url: entry.recipient.clone(),
            body: entry.payload.get().as_bytes().to_vec(),
            notification_id: entry.notification_id.clone(),
            kind: if entry.kind == "transfer_received" {
                "transfer_received"
            } else {
                "status_update"
            },
            transfer_id: entry.transfer_id.clone(),
        }
    }

    /// Its entry in the callback log (pending, no attempt yet).
    #[must_use]
    pub fn logged(&self) -> Option<LoggedCallback> {
        let payload =
            serde_json::value::RawValue::from_string(String::from_utf8(self.body.clone()).ok()?)
                .ok()?;
        Some(LoggedCallback {
            notification_id: self.notification_id.clone(),
            kind: self.kind.to_owned(),
            transfer_id: self.transfer_id.clone(),
            recipient: self.url.clone(),
            payload,
            attempts: Vec::new(),
            state: DeliveryState::Pending,
        })
    }
}

/// Serializes `notification`, signs every field but `pg_sig` with `signer`, and returns the body.
fn signed_body<T: Serialize>(
    notification: &mut T,
    set_sig: impl FnOnce(&mut T, String),
    signer: &Signer,
) -> Option<Vec<u8>> {
    let unsigned = serde_json::to_vec(notification).ok()?;
    let sig = CanonicalParams::from_json(&unsigned).ok()?.sign(signer);
    set_sig(notification, sig.to_string());
    serde_json::to_vec(notification).ok()
}

/// Records the notifications a status change causes: a status update to the owner, and when
/// the transfer became collectable, `transfer_received` to its receivers.
pub fn status_changed(
    ctx: &mut Ctx<'_>,
    record: &TransferRecord,
    previous: Option<TransferStatus>,
) {
    status_update(ctx, record, previous);
    if record.status == TransferStatus::Process {
        transfer_received(ctx, record);
    }
}

/// A status update of `record`'s current status, to its owner (if it has a callback URL).
pub fn status_update(ctx: &mut Ctx<'_>, record: &TransferRecord, previous: Option<TransferStatus>) {
    let owner = &ctx.state.partners[record.owner];
    let Some(url) = &owner.callback_url else {
        return;
    };
    let transfer_id = record.to_wire().transfer_id;
    let mut update = StatusUpdate {
        r#type: NotificationType::StatusUpdate,
        notification_id: uuid::Uuid::new_v4().to_string(),
        transfer_id: transfer_id.clone(),
        order_id: record.order_id.parse().ok(),
        status: record.status.clone(),
        previous_status: previous,
        updated_at: Timestamp::new(record.updated_at),
        pg_sig: None,
        extra: Extra::default(),
    };
    if let Some(body) = signed_body(&mut update, |u, s| u.pg_sig = Some(s), &owner.signer) {
        ctx.out.push(Outgoing {
            url: url.clone(),
            body,
            notification_id: update.notification_id.clone(),
            kind: "status_update",
            transfer_id: transfer_id.to_string(),
        });
    }
}

/// `transfer_received` for `record`: to the named agent, or every other partner.
pub fn transfer_received(ctx: &mut Ctx<'_>, record: &TransferRecord) {
    let receivers: Vec<usize> = match &record.target_agent_id {
        Some(target) => ctx.state.partner_index(target).into_iter().collect(),
        None => (0..ctx.state.partners.len())
            .filter(|&i| i != record.owner)
            .collect(),
    };
    let (Ok(amount_target), Ok(currency_target)) = (
        Amount::new(record.amount_target),
        record
            .currency_target
            .parse::<imts_core::values::Currency>(),
    ) else {
        return;
    };
    for index in receivers {
        let partner = &ctx.state.partners[index];
        let Some(url) = &partner.callback_url else {
            continue;
        };
        let transfer_id = record.to_wire().transfer_id;
        let mut received = TransferReceived {
            r#type: NotificationType::TransferReceived,
            notification_id: uuid::Uuid::new_v4().to_string(),
            transfer_id: transfer_id.clone(),
            destination_type: record.destination_type.clone(),
            destination_identifier: mask_identifier(&record.destination_identifier),
            amount_target,
            currency_target: currency_target.clone(),
            transfer_code: Some(record.transfer_code.clone()),
            created_at: Timestamp::new(record.created_at),
            pg_sig: None,
            extra: Extra::default(),
        };
        if let Some(body) = signed_body(&mut received, |r, s| r.pg_sig = Some(s), &partner.signer) {
            ctx.out.push(Outgoing {
                url: url.clone(),
                body,
                notification_id: received.notification_id.clone(),
                kind: "transfer_received",
                transfer_id: transfer_id.to_string(),
            });
        }
    }
}

/// Whether an answer acknowledges: HTTP 200 with `{"status":"ok"}`.
fn acknowledged(status: u16, body: &[u8]) -> bool {
    status == 200
        && serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("status").and_then(|s| s.as_str().map(|s| s == "ok")))
            .unwrap_or(false)
}

/// Logs a new notification and delivers it in the background, retrying as IMTS does (unless
/// `--callback-loss` drops it; during `--callback-outage` attempts are refused).
pub fn spawn_delivery(shared: Arc<Shared>, outgoing: Outgoing) {
    let lost = shared.lose_callback();
    shared.with_state(|s| {
        if let Some(mut entry) = outgoing.logged() {
            if lost {
                entry.state = DeliveryState::Lost;
            }
            s.callback_log.push(entry);
        }
        if lost {
            s.stats.callbacks_lost += 1;
        }
    });
    if !lost {
        deliver(shared, outgoing);
    }
}

/// Delivers a logged notification again, from its first attempt (the control API's resend).
pub fn resend(shared: Arc<Shared>, outgoing: Outgoing) {
    shared.with_state(|s| {
        if let Some(entry) = s.callback_log.get_mut(&outgoing.notification_id) {
            entry.state = DeliveryState::Pending;
        }
    });
    deliver(shared, outgoing);
}

/// Records one attempt in the log.
fn record_attempt(shared: &Shared, id: &str, attempt: Attempt, end: Option<DeliveryState>) {
    shared.with_state(|s| {
        if let Some(entry) = s.callback_log.get_mut(id) {
            entry.attempts.push(attempt);
            if let Some(state) = end {
                entry.state = state;
            }
        }
    });
}

/// The delivery task: the first attempt and the retries.
fn deliver(shared: Arc<Shared>, outgoing: Outgoing) {
    tokio::spawn(async move {
        let client: Client<_, Full<bytes::Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let interval = RETRY_INTERVAL.div_f64(shared.config.time_scale.max(f64::MIN_POSITIVE));
        let id = outgoing.notification_id.as_str();
        let mut due = None;
        for attempt in 0..=RETRIES {
            if let Some(due) = due {
                // 15 minutes after the last attempt began on the sandbox's clock (a clock
                // advance brings it forward), or 15 minutes over --time-scale on the wall clock.
                shared.clock.wait_until(due, interval).await;
            }
            // Taken before the attempt is logged: a clock advance made once the log shows the
            // attempt always counts toward the next one.
            due = Some(shared.clock.now() + RETRY_INTERVAL);
            let last = attempt == RETRIES;
            let failed = Attempt {
                status: None,
                acknowledged: false,
            };
            let give_up = last.then_some(DeliveryState::Abandoned);
            if shared.in_callback_outage() {
                shared.with_state(|s| s.stats.callbacks_refused_outage += 1);
                record_attempt(&shared, id, failed, give_up);
                continue;
            }
            shared.with_state(|s| s.stats.callbacks_sent += 1);
            let Ok(request) = http::Request::post(&outgoing.url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Full::new(bytes::Bytes::from(outgoing.body.clone())))
            else {
                break;
            };
            let exchange = async {
                let response = client.request(request).await.ok()?;
                let status = response.status().as_u16();
                let body = response.into_body().collect().await.ok()?.to_bytes();
                Some((status, acknowledged(status, &body)))
            };
            match tokio::time::timeout(shared.config.callback_timeout, exchange).await {
                Ok(Some((status, true))) => {
                    shared.with_state(|s| s.stats.callbacks_acknowledged += 1);
                    let done = Attempt {
                        status: Some(status),
                        acknowledged: true,
                    };
                    record_attempt(&shared, id, done, Some(DeliveryState::Acknowledged));
                    return;
                }
                Ok(Some((status, false))) => {
                    let refused = Attempt {
                        status: Some(status),
                        acknowledged: false,
                    };
                    record_attempt(&shared, id, refused, give_up);
                }
                _ => record_attempt(&shared, id, failed, give_up),
            }
        }
        shared.with_state(|s| s.stats.callbacks_abandoned += 1);
    });
}
