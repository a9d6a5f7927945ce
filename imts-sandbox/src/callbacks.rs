//! Signed notifications (`docs/contract.md`, "Callbacks"): built under the state lock when a status
//! changes, delivered afterwards by `delivery`. Delivery never blocks a request.

use imts_core::enums::{NotificationType, TransferStatus};
use imts_core::models::Extra;
use imts_core::models::{StatusUpdate, TransferReceived};
use imts_core::signature::CanonicalParams;
use imts_core::values::{mask_identifier, Amount, Timestamp};
use imts_crypto::Signer;
use serde::Serialize;

use crate::callback_log::{DeliveryState, LoggedCallback};
use crate::routes::Ctx;
use crate::state::TransferRecord;

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
    /// The recipient partner's agent id (whose delivery controls apply).
    pub agent_id: String,
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
            agent_id: entry.agent_id.clone(),
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
            agent_id: self.agent_id.clone(),
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
    if ctx.state.partners[record.owner].callback_url.is_none() {
        return;
    }
    let notification_id = ctx.state.new_uuid().to_string();
    let owner = &ctx.state.partners[record.owner];
    let Some(url) = &owner.callback_url else {
        return;
    };
    let transfer_id = record.to_wire().transfer_id;
    let mut update = StatusUpdate {
        r#type: NotificationType::StatusUpdate,
        notification_id,
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
            agent_id: owner.id.clone(),
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
        if ctx.state.partners[index].callback_url.is_none() {
            continue;
        }
        let notification_id = ctx.state.new_uuid().to_string();
        let partner = &ctx.state.partners[index];
        let Some(url) = &partner.callback_url else {
            continue;
        };
        let transfer_id = record.to_wire().transfer_id;
        let mut received = TransferReceived {
            r#type: NotificationType::TransferReceived,
            notification_id,
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
                agent_id: partner.id.clone(),
            });
        }
    }
}
