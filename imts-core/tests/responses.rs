//! Response fixtures for every endpoint decode, keep unknown fields and unknown enum values,
//! and serialize back with exact digits.

use imts_core::endpoint::Endpoint;
use imts_core::enums::{AmlStatus, DestinationType, ErrorCode, TransferStatus};
use imts_core::models::*;
use imts_core::response::decode;

const TRANSFER: &str = r#"{"transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","order_id":"ORD-1","status":"process","client_uuid":"7c9e6679-7425-40de-944b-e07fc1f90ae7","destination_type":"phone","destination_identifier":"********4567","target_country":"UZB","amount_source":1000.00,"currency_source":"KZT","fee":10.00,"total_amount":1010.00,"amount_target":26300.50,"currency_target":"UZS","rate":26.3005,"transfer_code":"483920","created_at":"2026-11-22T10:00:00.000000Z","updated_at":"2026-11-22T10:01:00.000000Z","new_field":{"nested":1.10}}"#;

fn ok<T: serde::de::DeserializeOwned>(endpoint: Endpoint, body: &str) -> T {
    decode::<T>(&endpoint.route(), 200, body.as_bytes())
        .unwrap_or_else(|e| panic!("{endpoint:?}: {e}"))
}

#[test]
fn transfer_keeps_digits_and_unknown_fields() {
    let t: Transfer = ok(Endpoint::Info, TRANSFER);
    assert_eq!(t.status, TransferStatus::Process);
    assert_eq!(t.amount_target.unwrap().to_string(), "26300.50");
    assert_eq!(t.rate.unwrap().to_string(), "26.3005");
    assert_eq!(t.extra.get("new_field"), Some(r#"{"nested":1.10}"#));
    let back = serde_json::to_string(&t).unwrap();
    assert!(back.contains(r#""fee":10.00"#), "{back}");
    assert!(back.contains(r#""new_field":{"nested":1.10}"#), "{back}");
    let again: Transfer = serde_json::from_str(&back).unwrap();
    assert!(again == t);
}

#[test]
fn every_response_type_decodes() {
    let tokens: TokenResponse = ok(
        Endpoint::GetToken,
        r#"{"access_token":"a","refresh_token":"r","access_expire_at":"2024-10-02T10:52:21.000000Z","refresh_expire_at":"2024-11-01 10:52:21"}"#,
    );
    assert_eq!(tokens.access_token.expose_secret(), "a");
    assert!(!format!("{tokens:?}").contains("\"a\""));

    let agents: AgentsResponse = ok(
        Endpoint::GetAgents,
        r#"{"agents":[{"agent_id":"a1","name":"Bank","country":"UZB","destination_types":["phone","wallet"],"currencies":["UZS"]}]}"#,
    );
    let types = agents.agents[0].destination_types.clone().unwrap();
    assert_eq!(types[1], DestinationType::Unknown("wallet".into()));

    let fees: FeesResponse = ok(
        Endpoint::Fees,
        r#"{"amount_source":100.00,"currency_source":"KZT","fee":1.00,"total_amount":101.00,"rate":26.3,"amount_target":2630.00,"currency_target":"UZS"}"#,
    );
    assert_eq!(fees.total_amount.to_string(), "101.00");

    let created: ClientCreated = ok(
        Endpoint::CreatePerson,
        r#"{"client_uuid":"7c9e6679-7425-40de-944b-e07fc1f90ae7","aml_status":"pending"}"#,
    );
    assert_eq!(created.aml_status, AmlStatus::Pending);

    let info: ClientInfo = ok(
        Endpoint::PersonInfo,
        r#"{"client_uuid":"7c9e6679-7425-40de-944b-e07fc1f90ae7","aml_status":"approved","encrypted_data":"AAAA","created_at":"2026-11-22T10:00:00.000000Z"}"#,
    );
    assert_eq!(info.aml_status, AmlStatus::Approved);

    let printed: PrintedApplication = ok(
        Endpoint::PrintApplication,
        r#"{"content_type":"application/pdf","document":"JVBERi0="}"#,
    );
    assert_eq!(printed.document_bytes().unwrap(), b"%PDF-");

    let search: SearchResponse = ok(
        Endpoint::Search,
        &format!(r#"{{"transfers":[{TRANSFER}]}}"#),
    );
    assert_eq!(search.transfers.len(), 1);
    assert!(
        search.transfers[0].extra.get("new_field").is_some(),
        "nested unknown fields are kept"
    );

    let status: StatusResponse = ok(
        Endpoint::Status,
        r#"{"transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","order_id":"ORD-1","status":"refunded","updated_at":"2026-11-22T10:00:00Z"}"#,
    );
    assert_eq!(status.status, TransferStatus::Unknown("refunded".into()));

    let failed: Transfer = ok(
        Endpoint::Confirm,
        r#"{"transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","status":"error","error_code":"aml_rejected","error_description":"sender failed AML"}"#,
    );
    assert_eq!(failed.error_code, Some(ErrorCode::AmlRejected));
}

#[test]
fn bad_fields_are_named_in_the_decode_error() {
    let err = decode::<FeesResponse>(
        &Endpoint::Fees.route(),
        200,
        br#"{"amount_source":"100.00","currency_source":"KZT","fee":1.00,"total_amount":101.00,"rate":26.3,"amount_target":2630.00,"currency_target":"UZS"}"#,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("amount_source") && text.contains("not a string"),
        "{text}"
    );
    let err = decode::<Transfer>(&Endpoint::Info.route(), 200, br#"{"status":"new"}"#).unwrap_err();
    assert!(
        err.to_string().contains("missing field `transfer_id`"),
        "{err}"
    );
}
