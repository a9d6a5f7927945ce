//! Every endpoint through a full life cycle, both sides, AML on both sides, the PDF, masking.

mod common;

use common::*;
use imts_core::enums::{AmlStatus, ErrorCode, OriginatorType, TransferStatus};
use imts_core::models::*;
use imts_core::personal::{BusinessData, PersonData};
use imts_crypto::Packing;
use imts_sandbox::SandboxConfig;

async fn register(partner: &Partner, last_name: &str) -> String {
    let op = CreatePerson::new(
        person(last_name),
        "KAZ".parse().unwrap(),
        "77011234567".parse().unwrap(),
    );
    partner.ok(&op).await.client_uuid.to_string()
}

#[tokio::test]
async fn a_full_life_cycle_touches_every_endpoint() {
    let sandbox = start(SandboxConfig::default()).await;
    let sender = Partner::login(&sandbox, 0).await;
    let receiver = Partner::login(&sandbox, 1).await;

    let agents = sender
        .ok(&GetAgentsRequest::new()
            .with_target_country("UZB".parse::<imts_core::values::Country>().unwrap()))
        .await;
    let ids: Vec<String> = agents
        .agents
        .iter()
        .map(|a| a.agent_id.to_string())
        .collect();
    assert!(ids.contains(&"agent-1".to_owned()) && ids.contains(&"agent-2".to_owned()));
    assert!(
        ids.len() >= 4,
        "two partners and at least two fictional receivers: {ids:?}"
    );

    let fees = sender
        .ok(&FeesRequest::new(
            OriginatorType::Person,
            "UZB".parse().unwrap(),
            imts_core::values::Money::new("100.50".parse().unwrap(), "KZT".parse().unwrap()),
            "UZS".parse().unwrap(),
        ))
        .await;
    assert_eq!(fees.fee.to_string(), "1.00");
    assert_eq!(fees.total_amount.to_string(), "101.50");
    assert_eq!(fees.amount_target.to_string(), "2447.18");

    let client_uuid = register(&sender, "Ivanova").await;
    let info = sender
        .ok(&PersonInfoRequest::new(client_uuid.parse().unwrap()))
        .await;
    assert_eq!(info.aml_status, AmlStatus::Approved);
    let back = PersonData::open(&info.encrypted_data, &key(KEY_1), Packing::IvCiphertext).unwrap();
    assert!(back == person("Ivanova"));

    let business = imts_sandbox::samples::business("Silk Road LLP").unwrap();
    let created = sender
        .ok(&CreateBusiness::new(
            business.clone(),
            "KAZ".parse().unwrap(),
        ))
        .await;
    let info = sender
        .ok(&BusinessInfoRequest::new(created.client_uuid.clone()))
        .await;
    assert!(
        BusinessData::open(&info.encrypted_data, &key(KEY_1), Packing::IvCiphertext).unwrap()
            == business
    );

    let transfer = sender
        .ok(&create_transfer(&client_uuid, "ORD-LC-1", None))
        .await;
    assert_eq!(transfer.status, TransferStatus::New);
    assert_eq!(
        transfer.destination_identifier.as_deref(),
        Some("********4567")
    );
    assert_eq!(transfer.fee.unwrap().to_string(), "1.00");
    let id = transfer.transfer_id.clone();

    let printed = sender.ok(&PrintApplicationRequest::new(id.clone())).await;
    assert_eq!(printed.content_type, "application/pdf");
    let pdf = String::from_utf8(printed.document_bytes().unwrap()).unwrap();
    assert!(pdf.starts_with("%PDF-") && pdf.trim_end().ends_with("%%EOF"));
    assert!(pdf.contains(id.as_str()) && pdf.contains("ORD-LC-1") && pdf.contains("100.50"));

    let confirmed = sender.ok(&ConfirmRequest::new(id.clone())).await;
    assert_eq!(confirmed.status, TransferStatus::Process);

    let code = confirmed.transfer_code.clone().unwrap();
    let found = receiver
        .ok(&SearchRequest::new(imts_core::values::Destination::Phone(
            "998901234567".parse().unwrap(),
        ))
        .with_transfer_code(code))
        .await;
    assert_eq!(found.transfers.len(), 1);
    assert_eq!(found.transfers[0].transfer_id, id);
    let none = receiver
        .ok(&SearchRequest::new(imts_core::values::Destination::Phone(
            "998901234567".parse().unwrap(),
        ))
        .with_transfer_code("wrong"))
        .await;
    assert!(none.transfers.is_empty());

    let waiting = receiver
        .ok(&Payout::new(id.clone(), person("Karimov")))
        .await;
    assert_eq!(waiting.status, TransferStatus::Waiting);
    let done = receiver.ok(&PayoutConfirmRequest::new(id.clone())).await;
    assert_eq!(done.status, TransferStatus::Success);

    let status = sender
        .ok(&StatusRequest::new(imts_core::values::Lookup::OrderId(
            "ORD-LC-1".parse().unwrap(),
        )))
        .await;
    assert_eq!(status.status, TransferStatus::Success);
    let full = sender
        .ok(&InfoRequest::new(imts_core::values::Lookup::TransferId(
            id.clone(),
        )))
        .await;
    assert_eq!(full.status, TransferStatus::Success);
    assert_eq!(full.amount_target.unwrap().to_string(), "2447.18");

    // The second transfer is cancelled.
    let second = sender
        .ok(&create_transfer(&client_uuid, "ORD-LC-2", None))
        .await;
    let cancelled = sender
        .ok(&CancelRequest::new(second.transfer_id.clone()).with_reason("changed mind"))
        .await;
    assert_eq!(cancelled.status, TransferStatus::Canceled);

    let stats = sandbox.stats();
    for spec in imts_core::ENDPOINTS
        .iter()
        .filter(|s| s.endpoint != imts_core::Endpoint::RefreshToken)
    {
        assert!(
            stats.calls.get(spec.path).copied().unwrap_or(0) >= 1,
            "{} was not called",
            spec.path
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn aml_rejects_on_both_sides() {
    let sandbox = start(SandboxConfig::default()).await;
    let partner = Partner::login(&sandbox, 0).await;
    let rejected = register(&partner, "AML-REJECT-Smith").await;
    let info = partner
        .ok(&PersonInfoRequest::new(rejected.parse().unwrap()))
        .await;
    assert_eq!(info.aml_status, AmlStatus::Rejected);
    let t = partner
        .ok(&create_transfer(&rejected, "ORD-AML-1", None))
        .await;
    let confirmed = partner
        .ok(&ConfirmRequest::new(t.transfer_id.clone()))
        .await;
    assert_eq!(confirmed.status, TransferStatus::Error);
    assert_eq!(confirmed.error_code, Some(ErrorCode::AmlRejected));

    let fine = register(&partner, "Ivanova").await;
    let t = partner.ok(&create_transfer(&fine, "ORD-AML-2", None)).await;
    partner
        .ok(&ConfirmRequest::new(t.transfer_id.clone()))
        .await;
    let paid = partner
        .ok(&Payout::new(
            t.transfer_id.clone(),
            person("AML-REJECT-Doe"),
        ))
        .await;
    assert_eq!(paid.status, TransferStatus::Error);
    assert_eq!(paid.error_code, Some(ErrorCode::AmlRejected));
    // An errored transfer cannot be cancelled.
    let answer = partner
        .call(&CancelRequest::new(t.transfer_id.clone()))
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (409, "invalid_status".into())
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn directed_transfers_are_invisible_to_other_agents() {
    let sandbox = start(SandboxConfig::default()).await;
    let sender = Partner::login(&sandbox, 0).await;
    let other = Partner::login(&sandbox, 1).await;
    let client = register(&sender, "Ivanova").await;
    let receiver_id = "5b0f6f1e-8a8e-4c55-9a5e-1f2b3c4d5e01";
    let t = sender
        .ok(&create_transfer(&client, "ORD-DIR-1", Some(receiver_id)))
        .await;
    sender.ok(&ConfirmRequest::new(t.transfer_id.clone())).await;
    let found = other
        .ok(&SearchRequest::new(imts_core::values::Destination::Phone(
            "998901234567".parse().unwrap(),
        )))
        .await;
    assert!(found.transfers.is_empty());
    let answer = other
        .call(&Payout::new(t.transfer_id.clone(), person("Karimov")))
        .await;
    assert_eq!((answer.status, answer.code()), (404, "not_found".into()));
    // Directed to agent-2 instead: it may pay out.
    let t = sender
        .ok(&create_transfer(&client, "ORD-DIR-2", Some("agent-2")))
        .await;
    sender.ok(&ConfirmRequest::new(t.transfer_id.clone())).await;
    let paid = other
        .ok(&Payout::new(t.transfer_id.clone(), person("Karimov")))
        .await;
    assert_eq!(paid.status, TransferStatus::Waiting);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn finished_transfers_past_the_retention_limit_are_forgotten_oldest_first() {
    let sandbox = start(SandboxConfig {
        retained_transfers: 3,
        ..SandboxConfig::default()
    })
    .await;
    let partner = Partner::login(&sandbox, 0).await;
    let client_uuid = register(&partner, "Retained").await;
    let mut ids = Vec::new();
    for order in ["RET-A", "RET-B", "RET-C", "RET-D"] {
        let transfer = partner
            .ok(&create_transfer(&client_uuid, order, None))
            .await;
        ids.push(transfer.transfer_id);
    }
    // Four stored, one over the limit, but none finished: nothing is forgotten.
    assert_eq!(sandbox.stats().transfers_forgotten, 0);
    for id in &ids[..2] {
        let canceled = partner.ok(&CancelRequest::new(id.clone())).await;
        assert_eq!(canceled.status, TransferStatus::Canceled);
    }
    let e = partner
        .ok(&create_transfer(&client_uuid, "RET-E", None))
        .await;
    assert_eq!(sandbox.stats().transfers_forgotten, 2, "A and B, finished");
    let status_of = |id: &imts_core::values::TransferId| {
        StatusRequest::new(imts_core::values::Lookup::TransferId(id.clone()))
    };
    for id in &ids[..2] {
        let answer = partner.call(&status_of(id)).await;
        assert_eq!(answer.status, 404, "a forgotten transfer is not found");
    }
    for id in ids[2..].iter().chain([&e.transfer_id]) {
        assert_eq!(
            partner.ok(&status_of(id)).await.transfer_id,
            *id,
            "live ones stay"
        );
    }
    let stats = sandbox.stats();
    assert!(!stats.transfers_per_order_id.contains_key("RET-A"));
    assert_eq!(stats.transfers_per_order_id["RET-C"], 1);
    // A forgotten order_id may be used again.
    let again = partner
        .ok(&create_transfer(&client_uuid, "RET-A", None))
        .await;
    assert_ne!(again.transfer_id, ids[0]);
}
