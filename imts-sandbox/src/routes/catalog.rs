//! Get agents and Fees.

use imts_core::models::Extra;
use imts_core::models::{Agent, AgentsResponse, FeesRequest, FeesResponse, GetAgentsRequest};
use imts_core::values::{Amount, Rate};

use super::{reply, Ctx, Reply};
use crate::failure::Failure;
use crate::rates;

/// Every registered partner plus the fictional receivers, whatever the filters.
pub fn agents(ctx: &mut Ctx<'_>, _request: GetAgentsRequest) -> Reply {
    let mut agents: Vec<Agent> = ctx
        .state
        .partners
        .iter()
        .filter_map(|p| {
            Some(Agent {
                agent_id: p.id.parse().ok()?,
                name: format!("Partner {}", p.id),
                country: None,
                destination_types: None,
                currencies: None,
                extra: Extra::default(),
            })
        })
        .collect();
    for r in &ctx.state.receivers {
        agents.push(Agent {
            agent_id: r
                .id
                .parse()
                .map_err(|_| Failure::malformed("bad receiver id"))?,
            name: r.name.to_owned(),
            country: r.country.parse().ok(),
            destination_types: Some(vec![
                imts_core::enums::DestinationType::Phone,
                imts_core::enums::DestinationType::Iban,
                imts_core::enums::DestinationType::Pan,
            ]),
            currencies: r.currency.parse().ok().map(|c| vec![c]),
            extra: Extra::default(),
        });
    }
    reply(&AgentsResponse {
        agents,
        extra: Extra::default(),
    })
}

/// A quote from the rate table.
pub fn quote(
    amount: &Amount,
    from: &imts_core::values::Currency,
    to: &imts_core::values::Currency,
) -> Result<(rates::Quote, Rate), Failure> {
    if let Some(refused) = crate::magic::refused_amount(amount.as_decimal()) {
        return Err(refused);
    }
    let rate = rates::rate(from.as_str(), to.as_str()).ok_or_else(|| {
        Failure::validation("currency_target", format!("no rate from {from} to {to}"))
    })?;
    let quote = rates::quote(amount.as_decimal(), rate);
    if Amount::new(quote.total).is_err() || Amount::new(quote.amount_target).is_err() {
        return Err(Failure::validation(
            "amount_source",
            "the total exceeds decimal(15,4)",
        ));
    }
    Ok((
        quote,
        Rate::new(rate).map_err(|e| Failure::malformed(e.to_string()))?,
    ))
}

/// Fees.
pub fn fees(_ctx: &mut Ctx<'_>, request: FeesRequest) -> Reply {
    let (q, rate) = quote(
        &request.amount_source,
        &request.currency_source,
        &request.currency_target,
    )?;
    let amount = |d| Amount::new(d).map_err(|e| Failure::malformed(e.to_string()));
    reply(&FeesResponse {
        amount_source: request.amount_source,
        currency_source: request.currency_source,
        fee: amount(q.fee)?,
        total_amount: amount(q.total)?,
        rate,
        amount_target: amount(q.amount_target)?,
        currency_target: request.currency_target,
        extra: Extra::default(),
    })
}
