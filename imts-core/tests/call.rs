//! The call driver step by step, with no transport and no session: each test plays the server's
//! side by hand and asserts the very next [`Step`]. These pin down the decisions one at a time
//! (which request follows an uncertain write, how long each wait is, when a 401 ends the call),
//! where `tests/driver.rs` checks whole calls against a scripted server.

mod common;

use std::time::{Duration, Instant};

use common::*;
use imts_core::enums::{ErrorCode, TransferStatus};
use imts_core::journal::MoneyOp;
use imts_core::models::auth::Token;
use imts_core::models::ConfirmRequest;
use imts_core::retry::JitterRng;
use imts_core::{Call, Config, Error, Operation, Step, TransportError, TransportErrorKind};

const SEED: u64 = 0x1dea_5eed;

/// One call and the fake monotonic time it runs on. Waits are taken at once and recorded.
struct Drive<O: Operation> {
    call: Call<O>,
    start: Instant,
    now: Instant,
    waits: Vec<Duration>,
    generation: u64,
}

impl<O: Operation> Drive<O>
where
    O::Output: std::fmt::Debug,
{
    fn new(op: &O, config: &Config) -> Self {
        let start = Instant::now();
        Self {
            call: Call::new(op, &credentials(), config, start, SEED),
            start,
            now: start,
            waits: Vec::new(),
            generation: 0,
        }
    }

    /// Polls until the call sends: tokens are handed over, waits are slept through.
    fn next_send(&mut self) -> http::Request<Vec<u8>> {
        for _ in 0..100 {
            match self.call.poll(self.now) {
                Step::Send(request) => return request,
                Step::NeedToken { .. } => self.give_token(),
                Step::Wait(duration) => self.sleep(duration),
                Step::Done(result) => panic!("expected a request, the call ended: {result:?}"),
            }
        }
        panic!("no request after 100 polls (seed {SEED})");
    }

    /// Polls until the call ends, sleeping through waits; any other step fails the test.
    fn finish(&mut self) -> Result<O::Output, Error> {
        for _ in 0..100 {
            match self.call.poll(self.now) {
                Step::Done(result) => return result,
                Step::Wait(duration) => self.sleep(duration),
                Step::Send(request) => panic!("expected the end, the call sent {}", request.uri()),
                Step::NeedToken { .. } => panic!("expected the end, the call asked for a token"),
            }
        }
        panic!("no end after 100 polls (seed {SEED})");
    }

    fn give_token(&mut self) {
        self.generation += 1;
        let token = Token::new(format!("access-{}", self.generation));
        self.call.set_token(token, self.generation);
    }

    fn sleep(&mut self, duration: Duration) {
        self.waits.push(duration);
        self.now += duration;
    }

    fn respond(&mut self, status: u16, body: &str) {
        self.call.on_response(json_response(status, body), self.now);
    }

    fn respond_with_retry_after(&mut self, status: u16, seconds: &str) {
        let mut response = json_response(status, ERROR_503);
        response.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_str(seconds).unwrap(),
        );
        self.call.on_response(response, self.now);
    }

    fn fail(&mut self, kind: TransportErrorKind) {
        self.call
            .on_transport_error(TransportError::new(kind, "scripted"), self.now);
    }
}

const ERROR_500: &str = r#"{"status":"error","error_code":"internal","error_description":"x"}"#;
const ERROR_503: &str =
    r#"{"status":"error","error_code":"unavailable","error_description":"later"}"#;
const NOT_FOUND: &str =
    r#"{"status":"error","error_code":"not_found","error_description":"no such transfer"}"#;
const FORBIDDEN: &str =
    r#"{"status":"error","error_code":"forbidden","error_description":"not yours"}"#;
const UNAUTHORIZED: &str =
    r#"{"status":"error","error_code":"unauthorized","error_description":"token"}"#;

fn transfer_json(order_id: &str, status: &str) -> String {
    format!(
        r#"{{"transfer_id":"{TRANSFER_ID}","order_id":"{order_id}","status":"{status}","amount_source":1000.00}}"#
    )
}

fn path(request: &http::Request<Vec<u8>>) -> &str {
    request
        .uri()
        .path()
        .trim_start_matches("/v5/partner/transfer/")
}

fn query_has(request: &http::Request<Vec<u8>>, key: &str, value: &str) -> bool {
    form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
        .any(|(k, v)| k == key && v == value)
}

const FEES_OK: &str = r#"{"amount_source":100.00,"currency_source":"KZT","fee":1.00,"total_amount":101.00,"rate":0.0394,"amount_target":3.94,"currency_target":"UZS"}"#;

fn confirm() -> ConfirmRequest {
    ConfirmRequest::new(TRANSFER_ID.parse().unwrap())
}

#[test]
fn a_create_answered_500_is_looked_up_and_resent_unchanged_only_when_absent() {
    let mut d = Drive::new(&create_request("ORD-9"), &config());
    let first = d.next_send();
    assert_eq!(path(&first), "create");
    assert!(d.call.sends_primary());
    assert_eq!(d.call.attempts(), 1);

    d.respond(500, ERROR_500);
    let lookup = d.next_send();
    assert_eq!(path(&lookup), "info", "a 500 may have applied the create");
    assert!(query_has(&lookup, "order_id", "ORD-9"));
    assert!(!d.call.sends_primary(), "a lookup is not the create");
    assert_eq!(d.call.attempts(), 2);

    d.respond(404, NOT_FOUND);
    let resent = d.next_send();
    assert_eq!(path(&resent), "create", "absent: the create is resent");
    assert!(d.call.sends_primary());
    assert_eq!(resent.body(), first.body(), "the same signed request");
    assert_eq!(d.call.attempts(), 3);

    d.respond(200, &transfer_json("ORD-9", "new"));
    let transfer = d.finish().unwrap();
    assert_eq!(transfer.order_id.unwrap().as_str(), "ORD-9");
}

#[test]
fn a_create_answered_429_or_503_is_resent_without_a_lookup() {
    for status in [429, 503] {
        let mut d = Drive::new(&create_request("ORD-9"), &config());
        let first = d.next_send();
        d.respond(status, ERROR_503);
        let again = d.next_send();
        assert_eq!(
            path(&again),
            "create",
            "HTTP {status} says it was not processed"
        );
        assert_eq!(again.body(), first.body());
        d.respond(200, &transfer_json("ORD-9", "new"));
        assert!(d.finish().is_ok(), "HTTP {status}");
    }
}

#[test]
fn a_create_found_by_its_lookup_is_the_answer_and_is_not_resent() {
    let mut d = Drive::new(&create_request("ORD-9"), &config());
    d.next_send();
    d.fail(TransportErrorKind::Io);
    let lookup = d.next_send();
    assert_eq!(path(&lookup), "info");
    d.respond(200, &transfer_json("ORD-9", "new"));
    let transfer = d.finish().unwrap();
    assert_eq!(transfer.status, TransferStatus::New);
    assert_eq!(d.call.attempts(), 2);
}

#[test]
fn a_lookup_that_fails_with_another_error_ends_in_outcome_unknown() {
    let mut d = Drive::new(&create_request("ORD-9"), &config());
    d.next_send();
    d.respond(500, ERROR_500);
    d.next_send();
    d.respond(403, FORBIDDEN);
    match d.finish().unwrap_err() {
        Error::OutcomeUnknown {
            endpoint,
            order_id,
            transfer_id,
        } => {
            assert_eq!(endpoint, "create");
            assert_eq!(order_id.unwrap().as_str(), "ORD-9");
            assert!(transfer_id.is_none());
        }
        other => panic!("expected OutcomeUnknown, got {other:?}"),
    }
}

#[test]
fn a_lookup_answered_503_is_repeated_not_resolved() {
    let mut d = Drive::new(&create_request("ORD-9"), &config());
    d.next_send();
    d.respond(500, ERROR_500);
    d.next_send();
    d.respond(503, ERROR_503);
    let again = d.next_send();
    assert_eq!(path(&again), "info", "the lookup is a read: asked again");
    d.respond(200, &transfer_json("ORD-9", "new"));
    assert!(d.finish().is_ok());
}

#[test]
fn a_confirm_found_in_process_took_effect_and_one_still_new_is_resent() {
    let mut d = Drive::new(&confirm(), &config());
    assert_eq!(path(&d.next_send()), "confirm");
    d.respond(502, ERROR_500);
    let lookup = d.next_send();
    assert_eq!(path(&lookup), "info");
    assert!(query_has(&lookup, "transfer_id", TRANSFER_ID));
    d.respond(200, &transfer_json("ORD-9", "process"));
    assert_eq!(d.finish().unwrap().status, TransferStatus::Process);
    assert_eq!(d.call.attempts(), 2, "found: not resent");

    let mut d = Drive::new(&confirm(), &config());
    let first = d.next_send();
    d.fail(TransportErrorKind::Timeout);
    d.next_send();
    d.respond(200, &transfer_json("ORD-9", "new"));
    let resent = d.next_send();
    assert_eq!(path(&resent), "confirm", "still new: not applied, resent");
    assert_eq!(resent.body(), first.body());
    d.respond(200, &transfer_json("ORD-9", "process"));
    assert_eq!(d.finish().unwrap().status, TransferStatus::Process);
}

#[test]
fn a_transition_whose_transfer_cannot_be_found_ends_in_outcome_unknown() {
    let mut d = Drive::new(&confirm(), &config());
    d.next_send();
    d.fail(TransportErrorKind::Io);
    d.next_send();
    d.respond(404, NOT_FOUND);
    match d.finish().unwrap_err() {
        Error::OutcomeUnknown {
            order_id,
            transfer_id,
            ..
        } => {
            assert!(order_id.is_none());
            assert_eq!(transfer_id.unwrap().to_string(), TRANSFER_ID);
        }
        other => panic!("expected OutcomeUnknown, got {other:?}"),
    }
}

#[test]
fn a_401_asks_for_a_new_token_once_and_a_second_401_ends_the_call() {
    let mut d = Drive::new(&fees(), &config());
    assert!(matches!(
        d.call.poll(d.now),
        Step::NeedToken {
            stale_generation: None
        }
    ));
    d.give_token();
    assert!(matches!(d.call.poll(d.now), Step::Send(_)));
    d.respond(401, UNAUTHORIZED);
    match d.call.poll(d.now) {
        Step::NeedToken { stale_generation } => assert_eq!(stale_generation, Some(1)),
        other => panic!("expected NeedToken, got {other:?}"),
    }
    d.give_token();
    let request = d.next_send();
    let bearer = request.headers()["authorization"].to_str().unwrap();
    assert_eq!(bearer, "Bearer access-2", "sent with the new token");
    d.respond(401, UNAUTHORIZED);
    let error = d.finish().unwrap_err();
    assert_eq!(error.code(), Some(&ErrorCode::Unauthorized));
    assert_eq!(d.call.attempts(), 2);
}

#[test]
fn waits_are_the_policys_draws_for_the_seed_and_retry_after_is_capped() {
    let config = config();
    let mut d = Drive::new(&fees(), &config);
    for _ in 0..3 {
        d.next_send();
        d.respond(503, ERROR_503);
    }
    d.next_send();
    d.respond(200, FEES_OK);
    d.finish().unwrap();
    let mut rng = JitterRng::new(SEED);
    let expected: Vec<Duration> = (0..3)
        .map(|retry| config.retry.backoff(retry, None, &mut rng))
        .collect();
    assert_eq!(d.waits, expected, "seed {SEED}");
    assert!(d.waits.iter().any(|w| !w.is_zero()), "seed {SEED}");

    // Polled early, a wait reports only what is left of it.
    let mut d = Drive::new(&fees(), &config);
    d.next_send();
    d.respond_with_retry_after(503, "2");
    assert!(matches!(d.call.poll(d.now), Step::Wait(w) if w == Duration::from_secs(2)));
    let later = d.now + Duration::from_millis(500);
    assert!(matches!(d.call.poll(later), Step::Wait(w) if w == Duration::from_millis(1500)));
    d.now += Duration::from_secs(2);
    assert!(matches!(d.call.poll(d.now), Step::Send(_)));

    // No wait is longer than the policy's ceiling, whatever the server asks.
    d.respond_with_retry_after(503, "3600");
    assert!(matches!(d.call.poll(d.now), Step::Wait(w) if w == config.retry.max_delay));
}

#[test]
fn a_failed_token_exchange_uses_an_attempt_and_a_permanent_one_ends_the_call() {
    let mut config = config();
    config.retry.max_attempts = 3;
    let mut d = Drive::new(&fees(), &config);
    let transient = || Error::Transport {
        endpoint: "token".into(),
        error: TransportError::new(TransportErrorKind::Connect, "refused"),
    };
    for round in 0..3 {
        assert!(
            matches!(d.call.poll(d.now), Step::NeedToken { .. }),
            "round {round}: each failure is followed by a new exchange"
        );
        d.call.token_failed(transient(), d.now);
        assert!(
            matches!(d.call.poll(d.now), Step::Wait(_)),
            "round {round}: a transient failure is backed off"
        );
        d.now += Duration::from_secs(5);
    }
    match d.finish().unwrap_err() {
        Error::GaveUp { attempts, last, .. } => {
            assert_eq!(attempts, 3, "each exchange used an attempt");
            assert_eq!(*last, transient());
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
    permanent_token_failure(&config);
}

fn permanent_token_failure(config: &Config) {
    let mut d = Drive::new(&fees(), config);
    assert!(matches!(d.call.poll(d.now), Step::NeedToken { .. }));
    let refused = Error::MissingPartnerKey("token".into());
    d.call.token_failed(refused.clone(), d.now);
    assert_eq!(d.finish().unwrap_err(), refused);
    assert!(d.waits.is_empty(), "no retry of a permanent failure");
}

#[test]
fn the_time_budget_ends_the_call_with_its_endpoint_attempts_and_elapsed_time() {
    let mut config = config();
    config.retry.total_budget = Duration::from_secs(1);
    let mut d = Drive::new(&fees(), &config);
    assert_eq!(d.call.remaining(d.start), Duration::from_secs(1));
    assert_eq!(
        d.call.remaining(d.start + Duration::from_millis(300)),
        Duration::from_millis(700)
    );
    assert_eq!(d.call.route().unwrap().name, "fees");
    d.next_send();
    d.respond_with_retry_after(503, "2");
    match d.finish().unwrap_err() {
        Error::GaveUp {
            endpoint,
            attempts,
            elapsed,
            last,
        } => {
            assert_eq!(endpoint, "fees");
            assert_eq!(attempts, 1);
            assert_eq!(elapsed, Duration::from_secs(2));
            assert_eq!(last.api().unwrap().http_status, 503);
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
    assert_eq!(d.call.remaining(d.now), Duration::ZERO);
    assert!(matches!(
        d.call.poll(d.now),
        Step::Done(Err(Error::DriverMisuse(_)))
    ));
}

#[test]
fn the_journal_intent_is_keyed_by_order_or_by_operation_and_transfer() {
    let creds = credentials();
    let mut d = Drive::new(&create_request("ORD-9"), &config());
    let intent = d.call.journal_intent(&creds).unwrap();
    assert_eq!(intent.key.0, "ORD-9");
    assert_eq!(intent.op, MoneyOp::CreateTransfer);
    assert_eq!(intent.order_id.as_deref(), Some("ORD-9"));
    assert_eq!(intent.transfer_id, None);
    assert_eq!(intent.agent.as_deref(), Some(AGENT_ID));
    assert_eq!(&intent.body, d.next_send().body(), "the exact body sent");

    let d = Drive::new(&confirm(), &config());
    let intent = d.call.journal_intent(&creds).unwrap();
    assert_eq!(intent.key.0, format!("confirm:{TRANSFER_ID}"));
    assert_eq!(intent.op, MoneyOp::Confirm);
    assert_eq!(intent.transfer_id.as_deref(), Some(TRANSFER_ID));

    let d = Drive::new(&fees(), &config());
    assert!(d.call.journal_intent(&creds).is_none(), "moves no money");
}

#[test]
fn a_failure_of_the_lookup_is_reported_as_the_lookups() {
    // Create (1) answered 500, lookup (2) answered 503, lookup (3) answered 404: absent, so the
    // create would be resent, but the attempts are spent. The last failure is the lookup's.
    let mut config = config();
    config.retry.max_attempts = 3;
    let mut d = Drive::new(&create_request("ORD-9"), &config);
    d.next_send();
    d.respond(500, ERROR_500);
    d.next_send();
    d.respond(503, ERROR_503);
    d.next_send();
    d.respond(404, NOT_FOUND);
    match d.finish().unwrap_err() {
        Error::GaveUp {
            endpoint,
            attempts,
            last,
            ..
        } => {
            assert_eq!(endpoint, "create");
            assert_eq!(attempts, 3);
            match *last {
                Error::Api { endpoint, error } => {
                    assert_eq!(endpoint, "info", "the failure was the lookup's");
                    assert_eq!(error.http_status, 503);
                }
                other => panic!("expected the lookup's 503, got {other:?}"),
            }
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
}
