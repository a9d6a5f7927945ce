//! The token acquisition's steps with a shared store, driven by hand: what it asks the store,
//! in which order, and how it falls back when the store fails or another instance renews.

use imts_core::acquire::{StoreAnswer, TokenAcquirer, TokenStep};
use imts_core::token_store::{MemoryTokenStore, TokenStore};
use imts_core::{AgentSecret, Config, Credentials, TokenSession};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2024-10-02 10:00:00 UTC);

fn token_response() -> http::Response<Vec<u8>> {
    http::Response::new(
        br#"{"access_token":"a","refresh_token":"r","access_expire_at":"2024-10-02T10:52:21.000000Z","refresh_expire_at":"2024-11-01 10:52:21"}"#.to_vec(),
    )
}

fn setup() -> (Credentials, Config) {
    (
        Credentials::new("agent".parse().unwrap(), AgentSecret::new("s").unwrap()),
        Config::new("http://127.0.0.1:1"),
    )
}

/// Drives one acquisition to its end, answering store calls from `store` and exchanges with a
/// token; returns the names of the steps taken.
fn drive(session: &mut TokenSession, store: Option<&dyn TokenStore>, holder: &str) -> Vec<String> {
    let (credentials, config) = setup();
    let mut acquirer = TokenAcquirer::new(session, store, holder);
    let mut steps = Vec::new();
    for _ in 0..20 {
        let step = acquirer.next(&credentials, &config, NOW);
        steps.push(format!("{step:?}"));
        match step {
            TokenStep::Ready(..) | TokenStep::Failed(_) | TokenStep::Wait(_) => return steps,
            TokenStep::Send(..) => acquirer.on_exchange(Ok(token_response()), &config, NOW),
            TokenStep::Store(call) => {
                let answer = pollster::block_on(call.run());
                acquirer.on_store(answer, &config, NOW);
            }
        }
    }
    panic!("no end after 20 steps: {steps:?}");
}

#[test]
fn without_a_store_it_exchanges_at_once() {
    let steps = drive(&mut TokenSession::new(1), None, "a");
    assert_eq!(steps, ["Send(Authenticate)", "Ready(generation 1)"]);
}

#[test]
fn with_a_store_it_looks_leases_looks_again_exchanges_publishes_and_releases() {
    let store = MemoryTokenStore::default();
    let steps = drive(&mut TokenSession::new(1), Some(&store), "a");
    assert_eq!(
        steps,
        [
            "Store(Load)",
            "Store(Lease(2024-10-02 10:00:00.0 +00:00:00))",
            "Store(Load)",
            "Send(Authenticate)",
            "Store(Publish { expected: 0, tokens: SharedTokens { generation: 1, access_expire_at: Timestamp(2024-10-02T10:52:21.000000Z), .. } })",
            "Store(Release)",
            "Ready(generation 1)",
        ]
    );
    // A second instance adopts the published pair: no exchange, no lease.
    let steps = drive(&mut TokenSession::new(2), Some(&store), "b");
    assert_eq!(steps, ["Store(Load)", "Ready(generation 1)"]);
}

#[test]
fn a_lease_held_elsewhere_means_wait() {
    let store = MemoryTokenStore::default();
    pollster::block_on(store.try_lease("other", std::time::Duration::from_secs(10), NOW)).unwrap();
    let steps = drive(&mut TokenSession::new(1), Some(&store), "a");
    assert_eq!(steps.last().map(String::as_str), Some("Wait(20ms)"));
    assert!(!steps.iter().any(|s| s.starts_with("Send")), "{steps:?}");
}

#[test]
fn a_failing_store_is_bypassed_for_the_local_session() {
    let (credentials, config) = setup();
    let store = MemoryTokenStore::default();
    let mut session = TokenSession::new(1);
    let mut acquirer = TokenAcquirer::new(&mut session, Some(&store), "a");
    assert!(matches!(
        acquirer.next(&credentials, &config, NOW),
        TokenStep::Store(_)
    ));
    acquirer.on_store(
        StoreAnswer::timed_out(std::time::Duration::from_secs(2)),
        &config,
        NOW,
    );
    assert!(matches!(
        acquirer.next(&credentials, &config, NOW),
        TokenStep::Send(..)
    ));
    acquirer.on_exchange(Ok(token_response()), &config, NOW);
    // Nothing is published to a store that failed; the token is used.
    assert!(matches!(
        acquirer.next(&credentials, &config, NOW),
        TokenStep::Ready(_, 1)
    ));
}

#[test]
fn asking_again_before_answering_is_refused_not_a_panic() {
    let (credentials, config) = setup();
    let store = MemoryTokenStore::default();
    let mut session = TokenSession::new(1);
    let mut acquirer = TokenAcquirer::new(&mut session, Some(&store), "a");
    let _ = acquirer.next(&credentials, &config, NOW);
    assert!(matches!(
        acquirer.next(&credentials, &config, NOW),
        TokenStep::Failed(imts_core::Error::DriverMisuse(_))
    ));
}
