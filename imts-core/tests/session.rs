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
    authenticate(&mut session, t0() + Duration::from_secs(10));
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

/// `session`'s first exchange answered with the pair of generation 1, access valid until
/// `expires`.
fn authenticate(session: &mut TokenSession, expires: time::OffsetDateTime) {
    let config = config();
    let (_, exchange) = expect_send(session.poll(&credentials(), &config, t0()).unwrap());
    session
        .handle(
            exchange,
            200,
            tokens_body(1, expires).as_bytes(),
            &config,
            t0(),
        )
        .unwrap();
}

/// A session holding the pair of generation 1, access valid an hour from t0.
fn authenticated(seed: u64) -> TokenSession {
    let mut session = TokenSession::new(seed);
    authenticate(&mut session, t0() + Duration::from_secs(3600));
    session
}

#[test]
fn a_refresh_token_is_used_until_the_instant_it_expires() {
    let (creds, config) = (credentials(), config());
    let mut session = authenticated(1);
    // tokens_body: the refresh token lives 30 days past the access token.
    let refresh_expires = t0() + Duration::from_secs(3600 + 30 * 86400);
    let just_before = refresh_expires - Duration::from_millis(1);
    let (_, exchange) = expect_send(session.poll(&creds, &config, just_before).unwrap());
    assert_eq!(exchange, Exchange::Refresh);
    let (_, exchange) = expect_send(session.poll(&creds, &config, refresh_expires).unwrap());
    assert_eq!(exchange, Exchange::Authenticate, "expired at that instant");
}

#[test]
fn exchanges_are_counted_by_kind() {
    let (creds, config) = (credentials(), config());
    let mut session = authenticated(1);
    let later = t0() + Duration::from_secs(3590);
    for (round, generation) in [(1u64, 2u32), (2, 3)] {
        let (_, exchange) = expect_send(session.poll(&creds, &config, later).unwrap());
        assert_eq!(exchange, Exchange::Refresh);
        let expires = later + Duration::from_secs(3600 * round);
        session
            .handle(
                exchange,
                200,
                tokens_body(generation, expires).as_bytes(),
                &config,
                later,
            )
            .unwrap();
        session.expire_now();
    }
    let stats = session.stats();
    assert_eq!((stats.authentications, stats.refreshes), (1, 2));
}

#[test]
fn the_renewal_instant_is_jittered_within_a_quarter_of_the_margin() {
    // Margin 60 s, jitter up to 15 s: renewal falls between 75 s and 60 s before expiry.
    let (creds, config) = (credentials(), config());
    let expires = t0() + Duration::from_secs(3600);
    let mut early = 0;
    for seed in 0..20 {
        let mut session = authenticated(seed);
        let too_early = expires - Duration::from_secs(76);
        assert!(
            matches!(
                session.poll(&creds, &config, too_early).unwrap(),
                SessionStep::Ready { .. }
            ),
            "seed {seed}: renewed more than margin + margin/4 ahead"
        );
        let one_second_past_margin = expires - Duration::from_secs(61);
        if matches!(
            session
                .poll(&creds, &config, one_second_past_margin)
                .unwrap(),
            SessionStep::Send { .. }
        ) {
            early += 1;
        }
    }
    // With jitter uniform in [0, 15 s], 19 of 20 seeds are expected to renew before 61 s.
    assert!(
        early >= 10,
        "only {early} of 20 seeds drew a jitter over 1 s"
    );
}

#[test]
fn a_shared_pair_is_exported_and_adopted_only_when_newer() {
    let (creds, config) = (credentials(), config());
    let mut session = authenticated(1);
    let exported = session.export().expect("a pair is held");
    assert_eq!(exported.generation, 1);
    assert_eq!(exported.access_token.expose_secret(), "access-1");

    let mut other = TokenSession::new(2);
    assert!(other.export().is_none());
    assert!(
        other.adopt(&exported, config.refresh_margin, t0()),
        "newer than nothing"
    );
    assert_eq!(
        expect_ready(other.poll(&creds, &config, t0()).unwrap()),
        ("access-1".into(), 1)
    );
    assert!(
        !other.adopt(&exported, config.refresh_margin, t0()),
        "the same generation is not newer"
    );
    let mut older = exported.clone();
    older.generation = 0;
    older.access_token = imts_core::models::auth::Token::new("access-old");
    assert!(!session.adopt(&older, config.refresh_margin, t0()));
    assert_eq!(
        expect_ready(session.poll(&creds, &config, t0()).unwrap()).0,
        "access-1"
    );
}

#[test]
fn a_raised_generation_makes_the_next_pair_supersede_the_stores() {
    let mut session = TokenSession::new(1);
    session.raise_generation(41);
    session.raise_generation(7); // never lowers it
    authenticate(&mut session, t0() + Duration::from_secs(3600));
    assert_eq!(session.generation(), 42);
}

#[test]
fn expire_now_renews_at_the_next_poll() {
    let (creds, config) = (credentials(), config());
    let mut session = authenticated(1);
    assert!(matches!(
        session.poll(&creds, &config, t0()).unwrap(),
        SessionStep::Ready { .. }
    ));
    session.expire_now();
    let (_, exchange) = expect_send(session.poll(&creds, &config, t0()).unwrap());
    assert_eq!(exchange, Exchange::Refresh);
}
