//! The token session: ahead-of-expiry refresh, one refresh per stale generation, fallback to
//! authentication when the refresh token is refused or expired.

mod common;

use std::time::Duration;

use common::*;
use imts_core::session::{Exchange, SessionStep, TokenSession};

fn expect_send(step: SessionStep) -> (http::Request<Vec<u8>>, Exchange) {
    match step {
        SessionStep::Send { request, exchange } => (request, exchange),
        SessionStep::Ready { .. } => panic!("expected an exchange"),
    }
}

fn expect_ready(step: SessionStep) -> (String, u64) {
    match step {
        SessionStep::Ready { access, generation } => {
            (access.expose_secret().to_owned(), generation)
        }
        SessionStep::Send { exchange, .. } => panic!("expected a token, got {exchange:?}"),
    }
}

#[test]
fn authenticates_then_refreshes_ahead_of_expiry() {
    let (creds, config) = (credentials(), config());
    let mut session = TokenSession::new(1);
    let (request, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    assert_eq!(exchange, Exchange::Authenticate);
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.uri().path(), "/v5/partner/transfer/agent/auth");
    assert!(request.headers().get("authorization").is_none());
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(body["agent_id"], AGENT_ID);
    assert_eq!(body["agent_secret"], SECRET);
    assert!(body.get("pg_sig").is_none());

    let expires = t0() + Duration::from_secs(3600);
    session
        .handle(
            exchange,
            200,
            tokens_body(1, expires).as_bytes(),
            &config,
            t0(),
        )
        .unwrap();
    assert_eq!(
        expect_ready(session.poll(&creds, &config, t0()).unwrap()),
        ("access-1".into(), 1)
    );

    // Inside the 60 s margin (plus at most 15 s jitter): refresh, with the refresh token as bearer.
    let (request, exchange) = expect_send(
        session
            .poll(&creds, &config, expires - Duration::from_secs(59))
            .unwrap(),
    );
    assert_eq!(exchange, Exchange::Refresh);
    assert_eq!(request.method(), http::Method::PATCH);
    assert_eq!(request.headers()["authorization"], "Bearer refresh-1");
    assert!(request.body().is_empty());
    // Still well before the margin: ready.
    expect_ready(
        session
            .poll(&creds, &config, expires - Duration::from_secs(76))
            .unwrap(),
    );
}

#[test]
fn a_401_invalidates_only_the_generation_that_was_used() {
    let (creds, config) = (credentials(), config());
    let mut session = TokenSession::new(1);
    let (_, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    session
        .handle(
            exchange,
            200,
            tokens_body(1, t0() + Duration::from_secs(3600)).as_bytes(),
            &config,
            t0(),
        )
        .unwrap();
    // Ten concurrent callers all used generation 1 and all got 401.
    let mut exchanges = 0;
    for _ in 0..10 {
        session.invalidate(1);
        if let SessionStep::Send { exchange, .. } = session.poll(&creds, &config, t0()).unwrap() {
            exchanges += 1;
            session
                .handle(
                    exchange,
                    200,
                    tokens_body(2, t0() + Duration::from_secs(3600)).as_bytes(),
                    &config,
                    t0(),
                )
                .unwrap();
        }
    }
    assert_eq!(
        exchanges, 1,
        "one refresh serves every caller of the stale generation"
    );
    assert_eq!(session.generation(), 2);
    assert_eq!(session.stats().refreshes, 1);
}

#[test]
fn a_refused_or_expired_refresh_falls_back_to_authentication() {
    let (creds, config) = (credentials(), config());
    let mut session = TokenSession::new(1);
    let (_, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    session
        .handle(
            exchange,
            200,
            tokens_body(1, t0() + Duration::from_secs(3600)).as_bytes(),
            &config,
            t0(),
        )
        .unwrap();
    session.invalidate(1);
    let (_, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    assert_eq!(exchange, Exchange::Refresh);
    let refused = br#"{"status":"error","error_code":"unauthorized","error_description":"refresh token used"}"#;
    session
        .handle(exchange, 401, refused, &config, t0())
        .unwrap();
    let (_, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    assert_eq!(exchange, Exchange::Authenticate);

    // A refresh token past its own expiry is not even tried.
    let mut session = TokenSession::new(1);
    let (_, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    session
        .handle(
            exchange,
            200,
            tokens_body(1, t0() + Duration::from_secs(3600)).as_bytes(),
            &config,
            t0(),
        )
        .unwrap();
    let much_later = t0() + Duration::from_secs(40 * 86400);
    let (_, exchange) = expect_send(session.poll(&creds, &config, much_later).unwrap());
    assert_eq!(exchange, Exchange::Authenticate);
}

#[test]
fn failed_authentication_is_a_typed_error_without_secrets() {
    let (creds, config) = (credentials(), config());
    let mut session = TokenSession::new(1);
    let (_, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    let body = br#"{"status":"error","error_code":"unauthorized","error_description":"wrong agent_secret"}"#;
    let err = session
        .handle(exchange, 401, body, &config, t0())
        .unwrap_err();
    assert_eq!(err.code(), Some(&imts_core::enums::ErrorCode::Unauthorized));
    assert!(!format!("{err} {err:?} {creds:?}").contains(SECRET));
}

#[test]
fn a_pair_already_expired_by_our_clock_is_used_not_exchanged_in_a_loop() {
    // The server's clock is a year behind ours: every pair it issues has "expired" on arrival.
    let (creds, config) = (credentials(), config());
    let mut session = TokenSession::new(1);
    let (_, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    let server_expiry = t0() - Duration::from_secs(365 * 24 * 3600);
    session
        .handle(
            exchange,
            200,
            tokens_body(1, server_expiry).as_bytes(),
            &config,
            t0(),
        )
        .unwrap();
    assert_eq!(
        expect_ready(session.poll(&creds, &config, t0()).unwrap()),
        ("access-1".into(), 1),
        "the pair just issued is used"
    );
    // For minutes, not seconds: two minutes on it is still the one in use.
    let soon = t0() + Duration::from_secs(120);
    assert_eq!(
        expect_ready(session.poll(&creds, &config, soon).unwrap()),
        ("access-1".into(), 1),
        "still trusted two minutes later"
    );
    // Renewed ahead of the trusted window's end, with the refresh token (not a new login).
    let late = t0() + imts_core::session::SKEWED_TRUST;
    let (_, exchange) = expect_send(session.poll(&creds, &config, late).unwrap());
    assert_eq!(exchange, Exchange::Refresh);
    // And a 401 still invalidates it at once.
    session.invalidate(1);
    let (_, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    assert_eq!(exchange, Exchange::Refresh);
}

#[test]
fn a_short_lived_token_is_renewed_at_exactly_half_its_life() {
    // Ten seconds of life is less than twice the margin: renewal comes at half of it, t0 + 5 s,
    // with no jitter (the margin and its jitter are capped by half the life).
    let (creds, config) = (credentials(), config());
    let mut session = TokenSession::new(1);
    let (_, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    let expires = t0() + Duration::from_secs(10);
    session
        .handle(
            exchange,
            200,
            tokens_body(1, expires).as_bytes(),
            &config,
            t0(),
        )
        .unwrap();
    let half = t0() + Duration::from_secs(5);
    let just_before = half - Duration::from_millis(1);
    assert_eq!(
        expect_ready(session.poll(&creds, &config, just_before).unwrap()),
        ("access-1".into(), 1)
    );
    let (_, exchange) = expect_send(session.poll(&creds, &config, half).unwrap());
    assert_eq!(
        exchange,
        Exchange::Refresh,
        "renewed at the instant, not after it"
    );
}
