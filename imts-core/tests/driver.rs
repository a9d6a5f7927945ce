//! The call driver against a scripted server and a fake clock: retries, backoff bounds,
//! uncertain writes, budgets.

mod common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use common::*;
use imts_core::enums::{ErrorCode, TransferStatus};
use imts_core::models::{ConfirmRequest, StatusRequest};
use imts_core::shell::Timeouts;
use imts_core::transport::BlockingContext;
use imts_core::{Error, Operation, TokenSession, TransportError};
use proptest::prelude::*;

/// Runs `op` against the fake server; `faults` decides, per non-token request, what goes wrong.
fn run<O: Operation>(
    op: &O,
    server: &RefCell<FakeServer>,
    clock: &FakeClock,
    mut faults: impl FnMut(&http::Request<Vec<u8>>) -> Fault,
    config: &imts_core::Config,
) -> Result<O::Output, Error> {
    let faults = RefCell::new(&mut faults);
    let session = Mutex::new(TokenSession::new(7));
    let transport = |request: http::Request<Vec<u8>>,
                     _timeout: Duration|
     -> Result<http::Response<Vec<u8>>, TransportError> {
        let fault = if request.uri().path().ends_with("agent/auth") {
            Fault::None
        } else {
            (faults.borrow_mut())(&request)
        };
        let mut server = server.borrow_mut();
        server.now = imts_core::transport::Clock::now(clock);
        server.handle(&request, fault)
    };
    BlockingContext {
        session: &session,
        store: None,
        holder: "",
        credentials: &credentials(),
        config,
        transport: &transport,
        clock,
        timeouts: Timeouts::default(),
        journal: None,
    }
    .run(op, 11)
    .0
}

#[test]
fn a_read_is_retried_on_503_within_the_backoff_bounds() {
    let server = RefCell::new(FakeServer::new());
    let clock = FakeClock::new();
    let mut script: VecDeque<Fault> =
        [Fault::Unavailable, Fault::DropAfter, Fault::DropBefore].into();
    let mut config = config();
    let result = run(
        &fees(),
        &server,
        &clock,
        |_| script.pop_front().unwrap_or(Fault::None),
        &config,
    );
    let answer = result.unwrap();
    assert_eq!(answer.fee.to_string(), "1.00");
    assert_eq!(answer.rate.to_string(), "0.0394");
    // Retry-After: 0 for the first; then full jitter below 200 ms and 400 ms.
    let elapsed = imts_core::transport::Clock::now(&clock) - t0();
    assert!(elapsed <= time::Duration::milliseconds(600), "{elapsed}");

    // With no Retry-After, every wait stays under the policy ceiling: a 5-retry budget fails typed.
    config.retry.max_attempts = 3;
    let err = run(&fees(), &server, &clock, |_| Fault::DropAfter, &config).unwrap_err();
    match err {
        Error::GaveUp { attempts, last, .. } => {
            assert_eq!(attempts, 3);
            assert!(matches!(*last, Error::Transport { .. }));
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
}

#[test]
fn a_create_that_was_applied_but_dropped_is_found_and_not_resent() {
    let server = RefCell::new(FakeServer::new());
    let clock = FakeClock::new();
    let mut first = true;
    let transfer = run(
        &create_request("ORD-1"),
        &server,
        &clock,
        |req| {
            if req.uri().path().ends_with("/create") && std::mem::take(&mut first) {
                Fault::DropAfter
            } else {
                Fault::None
            }
        },
        &config(),
    )
    .unwrap();
    let server = server.borrow();
    assert_eq!(server.creates_sent, 1, "the create was not resent");
    assert_eq!(server.transfers.len(), 1);
    assert_eq!(transfer.order_id.unwrap().as_str(), "ORD-1");
    assert_eq!(transfer.status, TransferStatus::New);
}

#[test]
fn a_create_that_never_arrived_is_resent_with_the_same_order_id() {
    let server = RefCell::new(FakeServer::new());
    let clock = FakeClock::new();
    let mut script: VecDeque<Fault> = [Fault::DropBefore].into();
    let transfer = run(
        &create_request("ORD-2"),
        &server,
        &clock,
        |_| script.pop_front().unwrap_or(Fault::None),
        &config(),
    )
    .unwrap();
    let server = server.borrow();
    assert_eq!(server.create_order_ids, vec!["ORD-2".to_owned()]);
    assert_eq!(transfer.order_id.unwrap().as_str(), "ORD-2");
}

#[test]
fn a_create_timed_out_before_applying_is_looked_up_then_resent() {
    // A timeout is uncertain: the lookup says "not found", so the create is resent once.
    let server = RefCell::new(FakeServer::new());
    let clock = FakeClock::new();
    let mut first = true;
    let transport_timeout = |req: &http::Request<Vec<u8>>| {
        if req.uri().path().ends_with("/create") && std::mem::take(&mut first) {
            Fault::TimeoutNotApplied
        } else {
            Fault::None
        }
    };
    let transfer = run(
        &create_request("ORD-3"),
        &server,
        &clock,
        transport_timeout,
        &config(),
    )
    .unwrap();
    let server = server.borrow();
    assert_eq!(
        server.lookups, 1,
        "the uncertain create was looked up first"
    );
    assert_eq!(
        server.create_order_ids,
        vec!["ORD-3".to_owned()],
        "then resent once, same order_id"
    );
    assert_eq!(server.transfers.len(), 1);
    assert_eq!(transfer.order_id.unwrap().as_str(), "ORD-3");
}

#[test]
fn a_confirm_that_timed_out_but_took_effect_succeeds() {
    let server = RefCell::new(FakeServer::new());
    let clock = FakeClock::new();
    let created = run(
        &create_request("ORD-4"),
        &server,
        &clock,
        |_| Fault::None,
        &config(),
    )
    .unwrap();
    let mut first = true;
    let confirmed = run(
        &ConfirmRequest::new(created.transfer_id.clone()),
        &server,
        &clock,
        |req| {
            if req.uri().path().ends_with("/confirm") && std::mem::take(&mut first) {
                Fault::DropAfter
            } else {
                Fault::None
            }
        },
        &config(),
    )
    .unwrap();
    assert_eq!(confirmed.status, TransferStatus::Process);
}

#[test]
fn an_expired_token_is_refreshed_once_and_the_call_goes_through() {
    let server = RefCell::new(FakeServer::new());
    server.borrow_mut().access_ttl = Duration::from_secs(120);
    let clock = FakeClock::new();
    let session = Mutex::new(TokenSession::new(3));
    let creds = credentials();
    let config = config();
    let transport = |request: http::Request<Vec<u8>>, _t: Duration| {
        let mut s = server.borrow_mut();
        s.now = imts_core::transport::Clock::now(&clock);
        s.handle(&request, Fault::None)
    };
    for _ in 0..3 {
        BlockingContext {
            session: &session,
            store: None,
            holder: "",
            credentials: &creds,
            config: &config,
            transport: &transport,
            clock: &clock,
            timeouts: Timeouts::default(),
            journal: None,
        }
        .run(&fees(), 1)
        .0
        .unwrap();
        clock.advance(Duration::from_secs(100));
    }
    let s = server.borrow();
    assert_eq!(s.auth_calls, 1);
    assert!(s.refresh_calls >= 1, "refreshed ahead of expiry");
}

#[test]
fn api_errors_are_typed_and_not_retried() {
    let server = RefCell::new(FakeServer::new());
    let clock = FakeClock::new();
    let err = run(
        &StatusRequest::new("nope".parse::<imts_core::values::OrderId>().unwrap()),
        &server,
        &clock,
        |_| Fault::None,
        &config(),
    )
    .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NotFound));
    assert_eq!(err.api().unwrap().http_status, 404);
}

#[test]
fn a_time_budget_ends_in_a_typed_error() {
    let server = RefCell::new(FakeServer::new());
    let clock = FakeClock::new();
    let mut config = config();
    config.retry.total_budget = Duration::from_secs(2);
    config.retry.max_attempts = 1000;
    config.retry.base_delay = Duration::from_secs(1);
    let err = run(
        &create_request("ORD-5"),
        &server,
        &clock,
        |_| Fault::DropAfter,
        &config,
    )
    .unwrap_err();
    // Every create was applied then dropped, and every lookup dropped too: the outcome is unknown.
    match err {
        Error::OutcomeUnknown { order_id, .. } => assert_eq!(order_id.unwrap().as_str(), "ORD-5"),
        other => panic!("expected OutcomeUnknown, got {other:?}"),
    }
}

fn fault_from(n: u8) -> Fault {
    match n % 7 {
        0 => Fault::Unavailable,
        1 => Fault::DropBefore,
        2 => Fault::DropAfter,
        3 => Fault::TimeoutNotApplied,
        _ => Fault::None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Whatever the faults, a create is only ever sent with its own order_id, never more often
    /// than the attempt budget, and ends either with the one transfer that exists or a typed error.
    #[test]
    fn random_faults_never_duplicate_a_create(script in proptest::collection::vec(any::<u8>(), 0..30)) {
        let server = RefCell::new(FakeServer::new());
        let clock = FakeClock::new();
        let mut faults: VecDeque<u8> = script.clone().into();
        let config = config();
        let result = run(&create_request("ORD-P"), &server, &clock, |_| fault_from(faults.pop_front().unwrap_or(6)), &config);
        let server = server.borrow();
        prop_assert!(server.create_order_ids.iter().all(|o| o == "ORD-P"), "script {:?}", script);
        prop_assert!(server.creates_sent as u32 <= config.retry.max_attempts, "script {:?}", script);
        prop_assert!(server.transfers.len() <= 1);
        match result {
            Ok(transfer) => {
                prop_assert_eq!(transfer.order_id.as_ref().map(|o| o.as_str()), Some("ORD-P"));
                prop_assert_eq!(server.transfers.len(), 1);
            }
            Err(Error::OutcomeUnknown { .. } | Error::GaveUp { .. }) => {}
            Err(other) => prop_assert!(false, "untyped ending {:?} for script {:?}", other, script),
        }
    }
}
