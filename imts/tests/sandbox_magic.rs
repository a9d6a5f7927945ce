//! The sandbox's magic values, one test each, through the client as an integration would meet
//! them; and the table that documents them is the one `docs/contract.md` shows.

use std::time::{Duration, Instant};

use imts::models::{CreateTransferRequest, FeesRequest, SearchRequest};
use imts::types::{Destination, Money, OriginatorType};
use imts::{BlockingClient, ClientBuilder, Credentials};
use imts_sandbox::magic::MAGIC_VALUES;
use imts_sandbox::{AgentConfig, BackgroundSandbox, SandboxConfig};

const AGENT: &str =
    "magic-agent:magic-secret:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";

fn sandbox() -> (BackgroundSandbox, BlockingClient) {
    let agent = AgentConfig::parse(AGENT).unwrap();
    let sandbox = BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        ..SandboxConfig::default()
    })
    .unwrap();
    let client = ClientBuilder::new(
        Credentials::new("magic-agent".parse().unwrap(), agent.agent_secret.clone())
            .with_partner_key(agent.partner_key.clone()),
    )
    .base_url(sandbox.base_url())
    .build_blocking()
    .unwrap();
    (sandbox, client)
}

fn fees(amount: &str) -> FeesRequest {
    FeesRequest::new(
        OriginatorType::Person,
        "UZB".parse().unwrap(),
        Money::new(amount.parse().unwrap(), "KZT".parse().unwrap()),
        "UZS".parse().unwrap(),
    )
}

#[test]
fn thirteen_cents_is_a_validation_error() {
    let (_sandbox, client) = sandbox();
    let error = client.fees(&fees("100.13")).unwrap_err();
    assert_eq!(
        error.code(),
        Some(&imts::types::ErrorCode::ValidationError),
        "{error}"
    );
    let api = error.api().expect("an API error");
    assert!(api.field_errors.contains_key("amount_source"), "{api}");
    client
        .fees(&fees("100.12"))
        .expect("other cents are quoted");
}

#[test]
fn a_delay_purpose_delays_create_transfer() {
    let (_sandbox, client) = sandbox();
    let person = client
        .create_person(&imts_sandbox::samples::create_person("Ivanova").unwrap())
        .unwrap();
    let mut transfer =
        imts_sandbox::samples::new_transfer(&person.client_uuid, "ORD-MAGIC-1").unwrap();
    transfer.purpose = "DELAY-400 family support".into();
    let started = Instant::now();
    let created = client
        .create_transfer(&CreateTransferRequest::new(transfer))
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(created.status, imts::types::TransferStatus::New);
}

#[test]
fn search_never_finds_the_unsearchable_range() {
    let (_sandbox, client) = sandbox();
    let person = client
        .create_person(&imts_sandbox::samples::create_person("Ivanova").unwrap())
        .unwrap();
    let mut found = Vec::new();
    for (order, phone) in [
        ("ORD-MAGIC-2", "998000123456"),
        ("ORD-MAGIC-3", "998901234567"),
    ] {
        let mut transfer = imts_sandbox::samples::new_transfer(&person.client_uuid, order).unwrap();
        transfer.destination = Destination::Phone(phone.parse().unwrap());
        let created = client
            .create_transfer(&CreateTransferRequest::new(transfer))
            .unwrap();
        client
            .confirm(&imts::models::ConfirmRequest::new(created.transfer_id))
            .unwrap();
        let search = client
            .search(&SearchRequest::new(Destination::Phone(
                phone.parse().unwrap(),
            )))
            .unwrap();
        found.push(search.transfers.len());
    }
    assert_eq!(
        found,
        [0, 1],
        "the 998000 range is never found; another number is"
    );
}

#[test]
fn the_contract_lists_every_magic_value() {
    let contract =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/contract.md"))
            .unwrap();
    for magic in MAGIC_VALUES {
        let row = format!("| {} | {} | {} |", magic.field, magic.value, magic.effect);
        assert!(
            contract.contains(&row),
            "docs/contract.md lacks the row:\n{row}"
        );
    }
}
