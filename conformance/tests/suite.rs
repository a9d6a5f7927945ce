//! The conformance suite: each test runs once per client flavour (see the macro at the end).

use std::time::{Duration, Instant};

use imts::config::Packing;
use imts::models::*;
use imts::types::{Destination, ErrorCode, OriginatorType, TransferStatus};
use imts::Error;
use imts_conformance::*;
use imts_sandbox::{FaultRule, SandboxConfig};

fn full_life_cycle<A: Api>(make: MakeApi<A>) {
    let f = fixture(make, SandboxConfig::default(), |_| {});
    let api = &f.api;
    let agents = api.call(&GetAgentsRequest::new()).unwrap();
    assert!(agents.agents.len() >= 3);
    let fees = api
        .call(&FeesRequest::new(
            OriginatorType::Person,
            "UZB".parse().unwrap(),
            imts::types::Money::new("100.50".parse().unwrap(), "KZT".parse().unwrap()),
            "UZS".parse().unwrap(),
        ))
        .unwrap();
    assert_eq!(fees.total_amount.to_string(), "101.50");
    let sender = api.call(&create_person("Ivanova")).unwrap();
    let info = api
        .call(&PersonInfoRequest::new(sender.client_uuid.clone()))
        .unwrap();
    let key = credentials(&f.sandbox, 0).partner_key().cloned().unwrap();
    assert!(
        imts::personal::PersonData::open(&info.encrypted_data, &key, Packing::IvCiphertext)
            .unwrap()
            == person("Ivanova")
    );
    let t = api
        .call(&transfer(&sender.client_uuid, "ORD-CONF-1"))
        .unwrap();
    let pdf = api
        .call(&PrintApplicationRequest::new(t.transfer_id.clone()))
        .unwrap();
    assert!(pdf.document_bytes().unwrap().starts_with(b"%PDF-"));
    let confirmed = api
        .call(&ConfirmRequest::new(t.transfer_id.clone()))
        .unwrap();
    assert_eq!(confirmed.status, TransferStatus::Process);
    let search = SearchRequest::new(Destination::Phone("998901234567".parse().unwrap()))
        .with_transfer_code(confirmed.transfer_code.clone().unwrap());
    let found = api.call(&search).unwrap();
    assert_eq!(found.transfers.len(), 1);
    let waiting = api
        .call(&Payout::new(t.transfer_id.clone(), person("Karimov")))
        .unwrap();
    assert_eq!(waiting.status, TransferStatus::Waiting);
    let done = api
        .call(&PayoutConfirmRequest::new(t.transfer_id.clone()))
        .unwrap();
    assert_eq!(done.status, TransferStatus::Success);
    assert_eq!(
        api.call(&StatusRequest::new(imts::types::Lookup::OrderId(
            "ORD-CONF-1".parse().unwrap()
        )))
        .unwrap()
        .status,
        TransferStatus::Success
    );
    assert_eq!(
        api.call(&InfoRequest::new(imts::types::Lookup::TransferId(
            t.transfer_id.clone()
        )))
        .unwrap()
        .status,
        TransferStatus::Success
    );
}

fn cancel_path<A: Api>(make: MakeApi<A>) {
    let f = fixture(make, SandboxConfig::default(), |_| {});
    let sender = f.api.call(&create_person("Ivanova")).unwrap();
    let t = f
        .api
        .call(&transfer(&sender.client_uuid, "ORD-CANCEL"))
        .unwrap();
    f.api
        .call(&ConfirmRequest::new(t.transfer_id.clone()))
        .unwrap();
    let cancelled = f
        .api
        .call(&CancelRequest::new(t.transfer_id.clone()).with_reason("customer request"))
        .unwrap();
    assert_eq!(cancelled.status, TransferStatus::Canceled);
    let again = f
        .api
        .call(&CancelRequest::new(t.transfer_id.clone()))
        .unwrap_err();
    assert_eq!(again.code(), Some(&ErrorCode::InvalidStatus));
}

fn aml_rejections<A: Api>(make: MakeApi<A>) {
    let f = fixture(make, SandboxConfig::default(), |_| {});
    let bad = f.api.call(&create_person("AML-REJECT-Smith")).unwrap();
    let t = f
        .api
        .call(&transfer(&bad.client_uuid, "ORD-AML-S"))
        .unwrap();
    let confirmed = f
        .api
        .call(&ConfirmRequest::new(t.transfer_id.clone()))
        .unwrap();
    assert_eq!(
        (confirmed.status, confirmed.error_code),
        (TransferStatus::Error, Some(ErrorCode::AmlRejected))
    );
    let good = f.api.call(&create_person("Ivanova")).unwrap();
    let t = f
        .api
        .call(&transfer(&good.client_uuid, "ORD-AML-R"))
        .unwrap();
    f.api
        .call(&ConfirmRequest::new(t.transfer_id.clone()))
        .unwrap();
    let paid = f
        .api
        .call(&Payout::new(
            t.transfer_id.clone(),
            person("AML-REJECT-Doe"),
        ))
        .unwrap();
    assert_eq!(
        (paid.status, paid.error_code),
        (TransferStatus::Error, Some(ErrorCode::AmlRejected))
    );
}

fn typed_api_errors<A: Api>(make: MakeApi<A>) {
    let f = fixture(make, SandboxConfig::default(), |_| {});
    let code = |e: Error| (e.api().map(|a| a.http_status), e.code().cloned());
    assert_eq!(
        code(
            f.api
                .call(&StatusRequest::new(imts::types::Lookup::OrderId(
                    "missing".parse().unwrap()
                )))
                .unwrap_err()
        ),
        (Some(404), Some(ErrorCode::NotFound))
    );
    let no_rate = FeesRequest::new(
        OriginatorType::Person,
        "UZB".parse().unwrap(),
        imts::types::Money::new("1.00".parse().unwrap(), "KZT".parse().unwrap()),
        "EUR".parse().unwrap(),
    );
    let e = f.api.call(&no_rate).unwrap_err();
    assert_eq!(
        code(e.clone()),
        (Some(422), Some(ErrorCode::ValidationError))
    );
    assert!(e
        .api()
        .unwrap()
        .field_errors
        .contains_key("currency_target"));
    let sender = f.api.call(&create_person("Ivanova")).unwrap();
    let t = f
        .api
        .call(&transfer(&sender.client_uuid, "ORD-ERR"))
        .unwrap();
    f.api
        .call(&ConfirmRequest::new(t.transfer_id.clone()))
        .unwrap();
    assert_eq!(
        code(
            f.api
                .call(&ConfirmRequest::new(t.transfer_id.clone()))
                .unwrap_err()
        ),
        (Some(409), Some(ErrorCode::InvalidStatus))
    );
    let mut other = transfer(&sender.client_uuid, "ORD-ERR");
    other.amount_source = "999.00".parse().unwrap();
    assert_eq!(
        code(f.api.call(&other).unwrap_err()),
        (Some(409), Some(ErrorCode::DuplicateOrderId))
    );
    // Wrong secret: 401 from Get token, typed, and the secret is nowhere in the error.
    let agent = &f.sandbox.agents()[0];
    let wrong = imts::Credentials::new(
        agent.agent_id.parse().unwrap(),
        imts::AgentSecret::new("not-the-secret").unwrap(),
    );
    let intruder = blocking_api(wrong, imts::Config::new(f.sandbox.base_url()));
    let e = intruder
        .call(&StatusRequest::new(imts::types::Lookup::OrderId(
            "x".parse().unwrap(),
        )))
        .unwrap_err();
    assert_eq!(code(e.clone()), (Some(401), Some(ErrorCode::Unauthorized)));
    assert!(!format!("{e} {e:?}").contains("not-the-secret"));
}

fn token_expiry_mid_run<A: Api>(make: MakeApi<A>) {
    let f = fixture(
        make,
        SandboxConfig {
            access_ttl: Duration::from_secs(1),
            ..SandboxConfig::default()
        },
        |_| {},
    );
    let sender = f.api.call(&create_person("Ivanova")).unwrap();
    f.sandbox.advance_clock(Duration::from_secs(2));
    // The server now refuses the access token; the client refreshes once and goes on.
    let t = f
        .api
        .call(&transfer(&sender.client_uuid, "ORD-EXP"))
        .unwrap();
    assert_eq!(t.status, TransferStatus::New);
    let stats = f.sandbox.stats();
    assert_eq!((stats.auth, stats.refresh), (1, 1));
}

fn concurrent_calls_share_one_refresh<A: Api>(make: MakeApi<A>) {
    let f = fixture(
        make,
        SandboxConfig {
            access_ttl: Duration::from_secs(60),
            ..SandboxConfig::default()
        },
        |c| {
            c.retry.max_attempts = 4;
        },
    );
    let sender = f.api.call(&create_person("Ivanova")).unwrap();
    f.api
        .call(&transfer(&sender.client_uuid, "ORD-MANY"))
        .unwrap();
    f.sandbox.advance_clock(Duration::from_secs(120));
    let results = f.api.concurrent_status(
        200,
        &StatusRequest::new(imts::types::Lookup::OrderId("ORD-MANY".parse().unwrap())),
    );
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    let stats = f.sandbox.stats();
    assert_eq!(
        (stats.auth, stats.refresh),
        (1, 1),
        "200 calls on an expired token, one refresh"
    );
    assert_eq!(f.api.session_stats().refreshes, 1);
}

fn faults_on_reads_and_writes<A: Api>(make: MakeApi<A>) {
    let config = SandboxConfig {
        faults: vec![
            FaultRule::parse("fees:503:1:2").unwrap(),
            FaultRule::parse("create:drop-after:1:1").unwrap(),
            FaultRule::parse("confirm:drop-after:1:1").unwrap(),
            FaultRule::parse("payout/confirm:drop-after:1:1").unwrap(),
        ],
        ..SandboxConfig::default()
    };
    let f = fixture(make, config, |_| {});
    let fees = FeesRequest::new(
        OriginatorType::Person,
        "UZB".parse().unwrap(),
        imts::types::Money::new("10.00".parse().unwrap(), "KZT".parse().unwrap()),
        "UZS".parse().unwrap(),
    );
    assert_eq!(f.api.call(&fees).unwrap().fee.to_string(), "0.10");
    assert_eq!(
        f.sandbox.stats().calls["fees"],
        3,
        "two 503s, then the answer"
    );

    let sender = f.api.call(&create_person("Ivanova")).unwrap();
    let t = f
        .api
        .call(&transfer(&sender.client_uuid, "ORD-DROP"))
        .unwrap();
    let stats = f.sandbox.stats();
    assert_eq!(stats.transfers_per_order_id["ORD-DROP"], 1);
    assert_eq!(
        stats.calls["create"], 1,
        "found by the lookup, never resent"
    );
    let confirmed = f
        .api
        .call(&ConfirmRequest::new(t.transfer_id.clone()))
        .unwrap();
    assert_eq!(confirmed.status, TransferStatus::Process);
    f.api
        .call(&Payout::new(t.transfer_id.clone(), person("Karimov")))
        .unwrap();
    let done = f
        .api
        .call(&PayoutConfirmRequest::new(t.transfer_id.clone()))
        .unwrap();
    assert_eq!(done.status, TransferStatus::Success);
}

fn drop_before_create_is_resent_once<A: Api>(make: MakeApi<A>) {
    let config = SandboxConfig {
        faults: vec![FaultRule::parse("create:drop-before:1:1").unwrap()],
        ..SandboxConfig::default()
    };
    let f = fixture(make, config, |_| {});
    let sender = f.api.call(&create_person("Ivanova")).unwrap();
    let t = f
        .api
        .call(&transfer(&sender.client_uuid, "ORD-DB"))
        .unwrap();
    assert_eq!(t.order_id.unwrap().as_str(), "ORD-DB");
    let stats = f.sandbox.stats();
    assert_eq!(stats.calls["create"], 2, "dropped once, resent once");
    assert_eq!(stats.transfers_per_order_id["ORD-DB"], 1);
}

fn whole_call_timeout<A: Api>(make: MakeApi<A>) {
    let config = SandboxConfig {
        faults: vec![FaultRule::parse("status:delay-3000:1").unwrap()],
        ..SandboxConfig::default()
    };
    let f = fixture(make, config, |c| {
        c.retry.total_budget = Duration::from_millis(600)
    });
    f.api.call(&GetAgentsRequest::new()).unwrap(); // authenticate outside the measured call
    let started = Instant::now();
    let e = f
        .api
        .call(&StatusRequest::new(imts::types::Lookup::OrderId(
            "slow".parse().unwrap(),
        )))
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(e, Error::GaveUp { .. }), "{e:?}");
}

macro_rules! suite {
    ($flavour:ident, $make:expr) => {
        mod $flavour {
            use super::*;
            #[test]
            fn full_life_cycle() {
                super::full_life_cycle($make)
            }
            #[test]
            fn cancel_path() {
                super::cancel_path($make)
            }
            #[test]
            fn aml_rejections() {
                super::aml_rejections($make)
            }
            #[test]
            fn typed_api_errors() {
                super::typed_api_errors($make)
            }
            #[test]
            fn token_expiry_mid_run() {
                super::token_expiry_mid_run($make)
            }
            #[test]
            fn concurrent_calls_share_one_refresh() {
                super::concurrent_calls_share_one_refresh($make)
            }
            #[test]
            fn faults_on_reads_and_writes() {
                super::faults_on_reads_and_writes($make)
            }
            #[test]
            fn drop_before_create_is_resent_once() {
                super::drop_before_create_is_resent_once($make)
            }
            #[test]
            fn whole_call_timeout() {
                super::whole_call_timeout($make)
            }
        }
    };
}

suite!(async_client, async_api);
suite!(blocking_client, blocking_api);
