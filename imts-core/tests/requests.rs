//! Every endpoint's request bytes against the contract: method, path, headers, body or query
//! fields, and a pg_sig that verifies under the vectors' rules.

mod common;

use std::collections::BTreeMap;

use common::*;
use imts_core::enums::OriginatorType;
use imts_core::models::auth::Token;
use imts_core::models::*;
use imts_core::personal::{BusinessData, PersonData};
use imts_core::values::{Destination, Money, OrderId};
use imts_core::{Operation, PreparedRequest, RawCall, SignatureScheme};
use imts_crypto::{Packing, PartnerKey};

fn build<O: Operation>(op: &O) -> http::Request<Vec<u8>> {
    PreparedRequest::new(op, &credentials(), &config(), 1)
        .unwrap()
        .to_http("http://imts.test", Some(&Token::new("tok")))
        .unwrap()
}

fn check(request: &http::Request<Vec<u8>>, method: &str, path: &str) -> BTreeMap<String, String> {
    assert_eq!(request.method().as_str(), method);
    assert_eq!(request.uri().path(), format!("/v5/partner/transfer/{path}"));
    assert_eq!(request.headers()["authorization"], "Bearer tok");
    if method == "GET" {
        assert!(request.body().is_empty());
    } else {
        assert_eq!(request.headers()["content-type"], "application/json");
    }
    verify_request(request)
}

fn tid() -> imts_core::values::TransferId {
    TRANSFER_ID.parse().unwrap()
}

#[test]
fn reads_and_simple_writes() {
    let r = build(
        &GetAgentsRequest::new()
            .with_target_country("UZB".parse::<imts_core::values::Country>().unwrap()),
    );
    let q = check(&r, "GET", "agents");
    assert_eq!(q, BTreeMap::from([("target_country".into(), "UZB".into())]));

    let r = build(&FeesRequest::new(
        OriginatorType::Person,
        "KAZ".parse().unwrap(),
        Money::new("100.00".parse().unwrap(), "KZT".parse().unwrap()),
        "UZS".parse().unwrap(),
    ));
    check(&r, "POST", "fees");
    let body = String::from_utf8(r.body().clone()).unwrap();
    assert!(
        body.contains(r#""amount_source":100.00"#),
        "exact digits: {body}"
    );
    // The documented vector: same fields, same secret, same signature.
    assert!(
        body.ends_with(
            r#""pg_sig":"7a3827c88ff2f480b761ba6acbf2bf6349c54c225faf3615003c63c4c70fa73e"}"#
        ),
        "{body}"
    );

    for (request, path) in [
        (build(&PrintApplicationRequest::new(tid())), "print"),
        (build(&ConfirmRequest::new(tid())), "confirm"),
        (build(&PayoutConfirmRequest::new(tid())), "payout/confirm"),
    ] {
        let p = check(&request, "POST", path);
        assert_eq!(p["transfer_id"], TRANSFER_ID);
        assert_eq!(p.len(), 1);
    }
    let p = check(
        &build(&CancelRequest::new(tid()).with_reason("customer asked")),
        "POST",
        "cancel",
    );
    assert_eq!(p["reason"], "customer asked");
    let p = check(
        &build(&PersonInfoRequest::new(CLIENT_UUID.parse().unwrap())),
        "POST",
        "person/info",
    );
    assert_eq!(p["client_uuid"], CLIENT_UUID);
    check(
        &build(&BusinessInfoRequest::new(CLIENT_UUID.parse().unwrap())),
        "POST",
        "business/info",
    );
    let p = check(
        &build(
            &SearchRequest::new(Destination::Phone("998901234567".parse().unwrap()))
                .with_transfer_code("123456"),
        ),
        "POST",
        "search",
    );
    assert_eq!(p["transfer_code"], "123456");
    let p = check(
        &build(&StatusRequest::new("ORD 1/2".parse::<OrderId>().unwrap())),
        "GET",
        "status",
    );
    assert_eq!(
        p["order_id"], "ORD 1/2",
        "query values are percent-decoded back exactly"
    );
    let p = check(&build(&InfoRequest::new(tid())), "GET", "info");
    assert_eq!(p["transfer_id"], TRANSFER_ID);
}

#[test]
fn create_transfer_carries_every_field() {
    let request = build(&create_request("ORD-2026-000001"));
    let p = check(&request, "POST", "create");
    assert_eq!(p["amount_source"], "1000.00");
    assert_eq!(p["order_id"], "ORD-2026-000001");
    assert_eq!(p["destination_identifier"], "998901234567");
    assert_eq!(p["transfer_purpose"], "Family support");
    assert!(
        !p.contains_key("target_agent_id"),
        "absent optional fields are not sent"
    );
    assert_eq!(p.len(), 9);
}

#[test]
fn personal_data_travels_only_encrypted() {
    let key = PartnerKey::parse(KEY_HEX).unwrap();
    let person = person("Ivanova");
    let op = CreatePerson::new(
        person.clone(),
        "KAZ".parse().unwrap(),
        "77011234567".parse().unwrap(),
    );
    let request = build(&op);
    let p = check(&request, "POST", "person/create");
    let body = String::from_utf8(request.body().clone()).unwrap();
    assert!(
        !body.contains("Ivanova") && !body.contains("N1234567"),
        "{body}"
    );
    let opened = PersonData::open(
        &imts_core::personal::EncryptedData::new(p["encrypted_data"].clone()),
        &key,
        Packing::IvCiphertext,
    )
    .unwrap();
    assert!(opened == person);

    let business = imts_core::samples::business("Silk Road LLP").unwrap();
    let request = build(&CreateBusiness::new(
        business.clone(),
        "KAZ".parse().unwrap(),
    ));
    let p = check(&request, "POST", "business/create");
    assert!(!String::from_utf8_lossy(request.body()).contains("Silk Road"));
    let opened = BusinessData::open(
        &imts_core::personal::EncryptedData::new(p["encrypted_data"].clone()),
        &key,
        Packing::IvCiphertext,
    )
    .unwrap();
    assert!(opened == business);

    let request = build(&Payout::new(tid(), person.clone()));
    let p = check(&request, "POST", "payout");
    assert!(p.contains_key("encrypted_data"));

    // Without a partner key, nothing is sent and the error says why.
    let no_key = imts_core::Credentials::new(
        AGENT_ID.parse().unwrap(),
        imts_crypto::AgentSecret::new(SECRET).unwrap(),
    );
    let err = PreparedRequest::new(&op, &no_key, &config(), 1).unwrap_err();
    assert!(err.to_string().contains("partner key"), "{err}");

    // Invalid personal data is refused before encryption, naming the field.
    let mut bad = person.clone();
    bad.birth_date = "12.04.1990".into();
    let err = PreparedRequest::new(
        &CreatePerson::new(bad, "KAZ".parse().unwrap(), "77011234567".parse().unwrap()),
        &credentials(),
        &config(),
        1,
    )
    .unwrap_err();
    assert!(err.report().to_string().contains("birth_date"), "{err}");
    assert!(!format!("{op:?}").contains("Ivanova"), "Debug is redacted");
}

#[test]
fn salted_signatures_and_raw_calls() {
    let mut config = config();
    config.signature_scheme = SignatureScheme::Salted;
    let request = PreparedRequest::new(&ConfirmRequest::new(tid()), &credentials(), &config, 9)
        .unwrap()
        .to_http("http://imts.test", Some(&Token::new("tok")))
        .unwrap();
    let p = check(&request, "POST", "confirm");
    assert_eq!(p["pg_salt"].len(), 32);

    let raw = RawCall::new(
        http::Method::POST,
        "fees",
        br#"{"amount_source":100.50,"extra":{"a":[1,true]}}"#,
    )
    .unwrap();
    let request = build(&raw);
    let p = check(&request, "POST", "fees");
    assert_eq!(p["amount_source"], "100.50");
    assert_eq!(p["extra.a.1"], "1");
    let raw = RawCall::new(
        http::Method::GET,
        "/v5/partner/transfer/status",
        br#"{"order_id":"ORD-1"}"#,
    )
    .unwrap();
    assert_eq!(check(&build(&raw), "GET", "status")["order_id"], "ORD-1");
    assert!(RawCall::new(http::Method::POST, "fees", b"[1]").is_err());
}

#[test]
fn every_endpoint_has_a_typed_operation() {
    // The table's 15 non-token endpoints each have a typed request above; the two token
    // exchanges are the session's. This guards the table against silent additions.
    assert_eq!(imts_core::ENDPOINTS.len(), 17);
    let signed = imts_core::ENDPOINTS.iter().filter(|s| s.signed).count();
    assert_eq!(signed, 15);
}

/// `NUMBER_FIELDS` (how tools type `KEY=VALUE` text) says exactly which fields the typed
/// requests send as JSON numbers.
#[test]
fn the_number_fields_table_matches_the_typed_requests() {
    fn numbers<O: Operation>(op: &O) -> Vec<String> {
        let body: serde_json::Value = serde_json::from_slice(build(op).body()).unwrap();
        let mut keys: Vec<String> = body
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.is_number())
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }
    fn table(endpoint: imts_core::Endpoint) -> Vec<String> {
        let mut keys: Vec<String> = endpoint.number_fields().map(String::from).collect();
        keys.sort();
        keys
    }
    use imts_core::Endpoint as E;
    let fees = FeesRequest::new(
        OriginatorType::Person,
        "KAZ".parse().unwrap(),
        Money::new("100.00".parse().unwrap(), "KZT".parse().unwrap()),
        "UZS".parse().unwrap(),
    );
    assert_eq!(numbers(&fees), table(E::Fees));
    let uuid = "00000000-0000-4000-8000-000000000001".parse().unwrap();
    let create = imts_core::samples::create_transfer(&uuid, "ORD-N").unwrap();
    assert_eq!(numbers(&create), table(E::CreateTransfer));
    assert_eq!(numbers(&ConfirmRequest::new(tid())), table(E::Confirm));
    assert_eq!(numbers(&CancelRequest::new(tid())), table(E::Cancel));
    assert_eq!(
        numbers(&PayoutConfirmRequest::new(tid())),
        table(E::PayoutConfirm)
    );
    assert!(!table(E::Fees).is_empty());
}
