//! Transfers: create (idempotent by `order_id`), print, confirm, search, payout, payout confirm,
//! cancel, status, info. Every status change notifies; moving to `process` also notifies the
//! receiving side.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use imts_core::enums::{AmlStatus, ErrorCode, TransferStatus};
use imts_core::lifecycle::TransferOperation;
use imts_core::models::*;
use imts_core::personal::PersonData;
use imts_core::signature::{CanonicalParams, SALT_FIELD};
use imts_core::values::Timestamp;
use imts_crypto::Packing;

use super::clients::AML_REJECT_PREFIX;
use super::{reply, Ctx, Reply};
use crate::callbacks;
use crate::failure::Failure;
use crate::pdf;
use crate::state::TransferRecord;

/// Create transfer.
pub fn create(ctx: &mut Ctx<'_>, request: CreateTransferRequest, params: CanonicalParams) -> Reply {
    if request.transfer_purpose.trim().is_empty() || request.transfer_purpose.chars().count() > 255
    {
        return Err(Failure::validation(
            "transfer_purpose",
            "must be 1 to 255 characters",
        ));
    }
    if let Some(target) = &request.target_agent_id {
        let known = ctx.state.partner_index(target.as_str()).is_some()
            || ctx.state.receivers.iter().any(|r| r.id == target.as_str());
        if !known {
            return Err(Failure::validation(
                "target_agent_id",
                "no such receiving agent",
            ));
        }
    }
    let (quote, rate) = super::catalog::quote(
        &request.amount_source,
        &request.currency_source,
        &request.currency_target,
    )?;
    ctx.state
        .clients
        .get(request.client_uuid.as_str())
        .filter(|c| c.owner == ctx.partner)
        .ok_or_else(|| {
            Failure::not_found(format!(
                "no client with client_uuid {}",
                request.client_uuid
            ))
        })?;
    let fingerprint: Vec<(String, String)> = params
        .pairs()
        .iter()
        .filter(|(k, _)| k != SALT_FIELD)
        .cloned()
        .collect();
    let order_key = (ctx.partner, request.order_id.as_str().to_owned());
    if let Some(existing) = ctx.state.orders.get(&order_key) {
        let record = &ctx.state.transfers[existing];
        if record.fingerprint != fingerprint {
            return Err(Failure::duplicate_order_id(format!(
                "order_id {} was used for a transfer with other fields",
                request.order_id
            )));
        }
        return reply(&record.to_wire());
    }
    let id = ctx.state.new_uuid().to_string();
    let record = TransferRecord {
        id: id.clone(),
        owner: ctx.partner,
        paid_by: None,
        order_id: request.order_id.as_str().to_owned(),
        fingerprint,
        client_uuid: request.client_uuid.as_str().to_owned(),
        destination_type: request.destination_type.clone(),
        destination_identifier: request.destination_identifier.as_str().to_owned(),
        target_agent_id: request
            .target_agent_id
            .as_ref()
            .map(|a| a.as_str().to_owned()),
        target_country: request.target_country.as_str().to_owned(),
        amount_source: request.amount_source.as_decimal(),
        currency_source: request.currency_source.as_str().to_owned(),
        fee: quote.fee,
        total_amount: quote.total,
        amount_target: quote.amount_target,
        currency_target: request.currency_target.as_str().to_owned(),
        rate: rate.as_decimal(),
        transfer_code: ctx.state.new_transfer_code(),
        status: TransferStatus::New,
        error: None,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    *ctx.state
        .stats
        .transfers_per_order_id
        .entry(record.order_id.clone())
        .or_default() += 1;
    ctx.state.insert_transfer(order_key, record.clone());
    callbacks::status_changed(ctx, &record, None);
    reply(&record.to_wire())
}

/// Finds a transfer the caller created.
fn owned<'a>(ctx: &'a mut Ctx<'_>, id: &str) -> Result<&'a mut TransferRecord, Failure> {
    let partner = ctx.partner;
    ctx.state
        .transfers
        .get_mut(id)
        .filter(|t| t.owner == partner)
        .ok_or_else(|| Failure::not_found(format!("no transfer {id}")))
}

/// Finds a transfer the caller may handle as receiving agent.
fn receivable<'a>(ctx: &'a mut Ctx<'_>, id: &str) -> Result<&'a mut TransferRecord, Failure> {
    let partner_id = ctx.state.partners[ctx.partner].id.clone();
    ctx.state
        .transfers
        .get_mut(id)
        .filter(|t| t.collectable_by(&partner_id))
        .ok_or_else(|| Failure::not_found(format!("no transfer {id}")))
}

/// Applies a transition (checked against the life-cycle table), notifies, answers the transfer.
fn transition(
    ctx: &mut Ctx<'_>,
    id: &str,
    operation: TransferOperation,
    rejected: Option<String>,
) -> Reply {
    let now = ctx.now;
    let record = ctx
        .state
        .transfers
        .get_mut(id)
        .ok_or_else(|| Failure::not_found(format!("no transfer {id}")))?;
    if !operation.allowed_from(&record.status) {
        return Err(Failure::invalid_status(format!(
            "{operation:?} is not allowed from status {}",
            record.status
        )));
    }
    let previous = record.status.clone();
    let table = operation.transition();
    match (rejected, &table.on_reject) {
        (Some(reason), Some(reject_status)) => {
            record.status = reject_status.clone();
            record.error = Some((ErrorCode::AmlRejected, reason));
        }
        _ => record.status = table.to.clone(),
    }
    record.updated_at = now;
    let record = record.clone();
    callbacks::status_changed(ctx, &record, Some(previous));
    reply(&record.to_wire())
}

/// Print application: a one-page PDF.
pub fn print(ctx: &mut Ctx<'_>, request: PrintApplicationRequest) -> Reply {
    let t = owned(ctx, request.transfer_id.as_str())?.to_wire();
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let lines = vec![
        "IMTS international money transfer - application".to_owned(),
        String::new(),
        format!("Transfer ID: {}", t.transfer_id),
        format!("Order ID: {}", opt(t.order_id.map(|o| o.to_string()))),
        format!(
            "Amount: {} {}",
            opt(t.amount_source.map(|a| a.to_string())),
            opt(t.currency_source.map(|c| c.to_string()))
        ),
        format!("Fee: {}", opt(t.fee.map(|a| a.to_string()))),
        format!("Total: {}", opt(t.total_amount.map(|a| a.to_string()))),
        format!(
            "Recipient gets: {} {}",
            opt(t.amount_target.map(|a| a.to_string())),
            opt(t.currency_target.map(|c| c.to_string()))
        ),
        format!("Rate: {}", opt(t.rate.map(|r| r.to_string()))),
        format!("Destination: {}", opt(t.destination_identifier)),
        format!("Created: {}", opt(t.created_at.map(|c| c.to_string()))),
        String::new(),
        "Sender's signature: ______________________".to_owned(),
    ];
    reply(&PrintedApplication {
        content_type: "application/pdf".into(),
        document: STANDARD.encode(pdf::one_page(&lines)),
        extra: Extra::default(),
    })
}

/// Confirm: the sender's AML decides `process` or `error`.
pub fn confirm(ctx: &mut Ctx<'_>, request: ConfirmRequest) -> Reply {
    let client_uuid = owned(ctx, request.transfer_id.as_str())?
        .client_uuid
        .clone();
    let rejected = ctx
        .state
        .clients
        .get(&client_uuid)
        .is_some_and(|c| c.aml == AmlStatus::Rejected)
        .then(|| "the sender failed the AML check".to_owned());
    transition(
        ctx,
        request.transfer_id.as_str(),
        TransferOperation::Confirm,
        rejected,
    )
}

/// Search, as receiving agent.
pub fn search(ctx: &mut Ctx<'_>, request: SearchRequest) -> Reply {
    let partner_id = ctx.state.partners[ctx.partner].id.clone();
    let mut found: Vec<&TransferRecord> = ctx
        .state
        .transfers
        .values()
        .filter(|t| t.status == TransferStatus::Process && t.collectable_by(&partner_id))
        .filter(|t| t.destination_type == request.destination_type)
        .filter(|t| t.destination_identifier == request.destination_identifier.as_str())
        .filter(|t| !crate::magic::unsearchable(&t.destination_identifier))
        .filter(|t| {
            request
                .transfer_code
                .as_deref()
                .is_none_or(|code| code == t.transfer_code)
        })
        .collect();
    found.sort_by_key(|t| t.created_at);
    reply(&SearchResponse {
        transfers: found.into_iter().map(TransferRecord::to_wire).collect(),
        extra: Extra::default(),
    })
}

/// Payout: the recipient's AML decides `waiting` or `error`.
pub fn payout(ctx: &mut Ctx<'_>, request: PayoutSealed) -> Reply {
    receivable(ctx, request.transfer_id.as_str())?;
    let key = &ctx.state.partners[ctx.partner].key;
    let recipient =
        PersonData::open(&request.encrypted_data, key, Packing::IvCiphertext).map_err(|_| {
            Failure::validation("encrypted_data", "could not be decrypted into a person")
        })?;
    recipient
        .validate()
        .map_err(|e| Failure::validation(format!("encrypted_data.{}", e.field), e.problem))?;
    let rejected = recipient
        .last_name
        .starts_with(AML_REJECT_PREFIX)
        .then(|| "the recipient failed the AML check".to_owned());
    let partner = ctx.partner;
    let reply = transition(
        ctx,
        request.transfer_id.as_str(),
        TransferOperation::Payout,
        rejected,
    )?;
    if let Some(t) = ctx.state.transfers.get_mut(request.transfer_id.as_str()) {
        t.paid_by = Some(partner);
    }
    Ok(reply)
}

/// Payout confirm: only the agent that registered the payout.
pub fn payout_confirm(ctx: &mut Ctx<'_>, request: PayoutConfirmRequest) -> Reply {
    let partner = ctx.partner;
    let record = receivable(ctx, request.transfer_id.as_str())?;
    if record.paid_by.is_some_and(|p| p != partner) {
        return Err(Failure::not_found(format!(
            "no transfer {}",
            request.transfer_id
        )));
    }
    transition(
        ctx,
        request.transfer_id.as_str(),
        TransferOperation::PayoutConfirm,
        None,
    )
}

/// Cancel, by the sender.
pub fn cancel(ctx: &mut Ctx<'_>, request: CancelRequest) -> Reply {
    owned(ctx, request.transfer_id.as_str())?;
    transition(
        ctx,
        request.transfer_id.as_str(),
        TransferOperation::Cancel,
        None,
    )
}

fn lookup(
    ctx: &mut Ctx<'_>,
    transfer_id: Option<&str>,
    order_id: Option<&str>,
) -> Result<TransferRecord, Failure> {
    let partner = ctx.partner;
    let partner_id = ctx.state.partners[partner].id.clone();
    let found = match (transfer_id, order_id) {
        (Some(id), _) => ctx.state.transfers.get(id).filter(|t| {
            t.owner == partner
                || t.paid_by == Some(partner)
                || t.target_agent_id.as_deref() == Some(&partner_id)
        }),
        (None, Some(order)) => ctx
            .state
            .orders
            .get(&(partner, order.to_owned()))
            .and_then(|id| ctx.state.transfers.get(id)),
        (None, None) => {
            return Err(Failure::validation(
                "transfer_id",
                "transfer_id or order_id is required",
            ))
        }
    };
    found.cloned().ok_or_else(|| {
        Failure::not_found(format!(
            "no transfer {}",
            transfer_id.or(order_id).unwrap_or_default()
        ))
    })
}

/// Status.
pub fn status(ctx: &mut Ctx<'_>, request: StatusRequest) -> Reply {
    let t = lookup(
        ctx,
        request.transfer_id.as_ref().map(|i| i.as_str()),
        request.order_id.as_ref().map(|o| o.as_str()),
    )?;
    let wire = t.to_wire();
    reply(&StatusResponse {
        transfer_id: wire.transfer_id,
        order_id: wire.order_id,
        status: wire.status,
        updated_at: Some(Timestamp::new(t.updated_at)),
        extra: Extra::default(),
    })
}

/// Info.
pub fn info(ctx: &mut Ctx<'_>, request: InfoRequest) -> Reply {
    let t = lookup(
        ctx,
        request.transfer_id.as_ref().map(|i| i.as_str()),
        request.order_id.as_ref().map(|o| o.as_str()),
    )?;
    reply(&t.to_wire())
}
