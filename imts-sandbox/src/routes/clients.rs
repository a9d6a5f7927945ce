//! Create person, Create business, Get person info, Get business info.

use imts_core::enums::AmlStatus;
use imts_core::models::Extra;
use imts_core::models::{ClientCreated, ClientInfo, CreateBusinessSealed, CreatePersonSealed};
use imts_core::personal::{BusinessData, OpenError, PersonData};
use imts_core::values::{ClientUuid, Timestamp};
use imts_crypto::Packing;

use super::{reply, Ctx, Reply};
use crate::failure::Failure;
use crate::state::{ClientRecord, Profile};

/// The sandbox's AML rule: a name starting with this fails.
pub const AML_REJECT_PREFIX: &str = "AML-REJECT";

fn open_failure(error: &OpenError) -> Failure {
    match error {
        OpenError::Decrypt(_) => Failure::validation(
            "encrypted_data",
            "could not be decrypted with the partner key",
        ),
        OpenError::Invalid(message) => Failure::validation("encrypted_data", message.clone()),
        _ => Failure::validation("encrypted_data", "could not be opened"),
    }
}

fn register(ctx: &mut Ctx<'_>, profile: Profile, rejected: bool) -> Reply {
    let uuid = ctx.state.new_uuid().to_string();
    let aml = if rejected {
        AmlStatus::Rejected
    } else {
        AmlStatus::Approved
    };
    ctx.state.clients.insert(
        uuid.clone(),
        ClientRecord {
            owner: ctx.partner,
            aml: aml.clone(),
            profile,
            created_at: ctx.now,
        },
    );
    let uuid: ClientUuid = uuid.parse().map_err(|_| Failure::malformed("uuid"))?;
    reply(&ClientCreated {
        client_uuid: uuid,
        aml_status: aml,
        extra: Extra::default(),
    })
}

/// Create person: decrypt, validate, screen.
pub fn create_person(ctx: &mut Ctx<'_>, request: CreatePersonSealed) -> Reply {
    let key = &ctx.state.partners[ctx.partner].key;
    let person = PersonData::open(&request.encrypted_data, key, Packing::IvCiphertext)
        .map_err(|e| open_failure(&e))?;
    person
        .validate()
        .map_err(|e| Failure::validation(format!("encrypted_data.{}", e.field), e.problem))?;
    let rejected = person.last_name.starts_with(AML_REJECT_PREFIX);
    register(ctx, Profile::Person(person), rejected)
}

/// Create business: decrypt, validate, screen.
pub fn create_business(ctx: &mut Ctx<'_>, request: CreateBusinessSealed) -> Reply {
    let key = &ctx.state.partners[ctx.partner].key;
    let business = BusinessData::open(&request.encrypted_data, key, Packing::IvCiphertext)
        .map_err(|e| open_failure(&e))?;
    business
        .validate()
        .map_err(|e| Failure::validation(format!("encrypted_data.{}", e.field), e.problem))?;
    let rejected = business.company_name.starts_with(AML_REJECT_PREFIX);
    register(ctx, Profile::Business(business), rejected)
}

/// Get person info / Get business info: the stored profile, encrypted for the caller.
pub fn info(ctx: &mut Ctx<'_>, uuid: ClientUuid, business: bool) -> Reply {
    let record = ctx
        .state
        .clients
        .get(uuid.as_str())
        .filter(|c| c.owner == ctx.partner)
        .filter(|c| matches!(c.profile, Profile::Business(_)) == business)
        .ok_or_else(|| {
            Failure::not_found(format!(
                "no {} with client_uuid {uuid}",
                if business { "business" } else { "person" }
            ))
        })?;
    let key = &ctx.state.partners[ctx.partner].key;
    let sealed = match &record.profile {
        Profile::Person(p) => p.seal(key, Packing::IvCiphertext),
        Profile::Business(b) => b.seal(key, Packing::IvCiphertext),
    }
    .map_err(|e| Failure::malformed(e.to_string()))?;
    reply(&ClientInfo {
        client_uuid: uuid,
        aml_status: record.aml.clone(),
        encrypted_data: sealed,
        created_at: Timestamp::new(record.created_at),
        extra: Extra::default(),
    })
}
