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

/// Records the notifications a status change causes.
pub fn status_changed(
    ctx: &mut Ctx<'_>,
    record: &TransferRecord,
    previous: Option<TransferStatus>,
) {
    let owner = &ctx.state.partners[record.owner];
    if let Some(url) = &owner.callback_url {
        let mut update = StatusUpdate {
            r#type: NotificationType::StatusUpdate,
            notification_id: uuid::Uuid::new_v4().to_string(),
            transfer_id: record.to_wire().transfer_id,
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
            });
        }
    }
    if record.status != TransferStatus::Process {
        return;
    }
    // Collectable now: tell the named agent, or (on demand) every other partner.
    let receivers: Vec<usize> = match &record.target_agent_id {
        Some(target) => ctx.state.partner_index(target).into_iter().collect(),
        None => (0..ctx.state.partners.len())
            .filter(|&i| i != record.owner)
            .collect(),
    };
    for index in receivers {
        let partner = &ctx.state.partners[index];
        let Some(url) = &partner.callback_url else {
            continue;
        };
        let Ok(amount_target) = Amount::new(record.amount_target) else {
            continue;
        };
        let Ok(currency_target) = record.currency_target.parse() else {
            continue;
        };
        let mut received = TransferReceived {
            r#type: NotificationType::TransferReceived,
            notification_id: uuid::Uuid::new_v4().to_string(),
            transfer_id: record.to_wire().transfer_id,
            destination_type: record.destination_type.clone(),
            destination_identifier: mask_identifier(&record.destination_identifier),
            amount_target,
            currency_target,
            transfer_code: Some(record.transfer_code.clone()),
            created_at: Timestamp::new(record.created_at),
            pg_sig: None,
            extra: Extra::default(),
        };
        if let Some(body) = signed_body(&mut received, |r, s| r.pg_sig = Some(s), &partner.signer) {
            ctx.out.push(Outgoing {
                url: url.clone(),
                body,
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

/// Delivers one notification in the background, retrying as IMTS does (unless
/// `--callback-loss` drops it; during `--callback-outage` attempts are refused).
pub fn spawn_delivery(shared: Arc<Shared>, outgoing: Outgoing) {
    if shared.lose_callback() {
        shared.with_state(|s| s.stats.callbacks_lost += 1);
        return;
    }
    tokio::spawn(async move {
        let client: Client<_, Full<bytes::Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let interval = RETRY_INTERVAL.div_f64(shared.config.time_scale.max(f64::MIN_POSITIVE));
        for attempt in 0..=RETRIES {
            if attempt > 0 {
                tokio::time::sleep(interval).await;
            }
            if shared.in_callback_outage() {
                shared.with_state(|s| s.stats.callbacks_refused_outage += 1);
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
                Some(acknowledged(status, &body))
            };
            if let Ok(Some(true)) =
                tokio::time::timeout(shared.config.callback_timeout, exchange).await
            {
                shared.with_state(|s| s.stats.callbacks_acknowledged += 1);
                return;
            }
        }
        shared.with_state(|s| s.stats.callbacks_abandoned += 1);
    });
}
