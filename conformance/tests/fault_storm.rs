//! The fault storm: seeded life cycles through each client against a sandbox injecting 503s,
//! delays, dropped connections (before and after applying) on every endpoint, and expired tokens.
//! Then it proves, from the sandbox's stats and the clients' results, that no `order_id` has two
//! transfers, no transfer is lost, every call ended typed within its budget, and every
//! `OutcomeUnknown` is resolved by a later Status.
//!
//! `STORM_CYCLES` (default 300 per client) and `STORM_SEED` (default 1) set the size and seed;
//! `scripts/fault-storm.sh` runs the long form.

use std::time::{Duration, Instant};

use imts::models::*;
use imts::types::{ErrorCode, TransferStatus};
use imts::Error;
use imts_conformance::*;
use imts_sandbox::{FaultRule, SandboxConfig};

const BUDGET: Duration = Duration::from_secs(2);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug)]
struct Outcome {
    order_id: String,
    created: Result<String, Error>,
    finished: Option<TransferStatus>,
}

fn storm<A: Api>(make: MakeApi<A>, label: &str) {
    let cycles = env_number("STORM_CYCLES", 300);
    let seed = env_number("STORM_SEED", 1);
    let config = SandboxConfig {
        faults: [
            "*:503:0.1",
            "*:drop-before:0.05",
            "*:drop-after:0.1",
            "*:delay-5:0.05",
        ]
        .iter()
        .map(|f| FaultRule::parse(f).unwrap())
        .collect(),
        seed,
        access_ttl: Duration::from_secs(300),
        ..SandboxConfig::default()
    };
    let f = fixture(make, config, |c| {
        c.retry.total_budget = BUDGET;
        c.retry.max_attempts = 8;
    });
    let hint = format!("{label}: reproduce with STORM_SEED={seed} STORM_CYCLES={cycles}");
    let sender = loop {
        // Registration is not idempotent: a dropped answer leaves an orphan client, harmless here.
        if let Ok(created) = f.api.call(&create_person("Storm")) {
            break created.client_uuid;
        }
    };
    let mut outcomes = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut timed = |started: Instant| slowest = slowest.max(started.elapsed());
    for cycle in 0..cycles {
        if cycle % 25 == 24 {
            f.sandbox.advance_clock(Duration::from_secs(301)); // every token expires
        }
        let order_id = format!("STORM-{seed}-{label}-{cycle}");
        let started = Instant::now();
        let created = f.api.call(&transfer(&sender, &order_id));
        timed(started);
        let mut finished = None;
        if let Ok(t) = &created {
            let id = t.transfer_id.clone();
            let steps: [&dyn Fn() -> Result<Transfer, Error>; 3] = [
                &|| f.api.call(&ConfirmRequest::new(id.clone())),
                &|| f.api.call(&Payout::new(id.clone(), person("Karimov"))),
                &|| f.api.call(&PayoutConfirmRequest::new(id.clone())),
            ];
            for step in steps {
                let started = Instant::now();
                let result = step();
                timed(started);
                match result {
                    Ok(t) => finished = Some(t.status),
                    Err(e) => {
                        assert!(
                            matches!(
                                e,
                                Error::Api { .. }
                                    | Error::GaveUp { .. }
                                    | Error::OutcomeUnknown { .. }
                                    | Error::Transport { .. }
                            ),
                            "untyped ending {e:?}; {hint}"
                        );
                        break;
                    }
                }
            }
        }
        outcomes.push(Outcome {
            order_id,
            created: created.map(|t| t.transfer_id.to_string()),
            finished,
        });
    }
    assert!(
        slowest <= BUDGET + Duration::from_millis(1500),
        "a call took {slowest:?}, budget {BUDGET:?}; {hint}"
    );

    let stats = f.sandbox.stats();
    let mut unknown = 0;
    let mut definite_errors = 0;
    for outcome in &outcomes {
        let count = stats
            .transfers_per_order_id
            .get(&outcome.order_id)
            .copied()
            .unwrap_or(0);
        assert!(
            count <= 1,
            "{} has {count} transfers; {hint}",
            outcome.order_id
        );
        match &outcome.created {
            Ok(_) => assert_eq!(
                count, 1,
                "{} was returned but does not exist; {hint}",
                outcome.order_id
            ),
            Err(Error::OutcomeUnknown { .. }) => {
                unknown += 1;
                // A later Status resolves it: found, or definitely absent.
                let resolved = loop {
                    match f.api.call(&StatusRequest::new(imts::types::Lookup::OrderId(
                        outcome.order_id.parse().unwrap(),
                    ))) {
                        Ok(_) => break 1,
                        Err(e) if e.code() == Some(&ErrorCode::NotFound) => break 0,
                        Err(_) => continue, // the storm is still blowing on Status: ask again
                    }
                };
                assert_eq!(
                    resolved, count,
                    "{}: Status disagrees with the stats; {hint}",
                    outcome.order_id
                );
            }
            Err(e) => {
                definite_errors += 1;
                assert_eq!(
                    count, 0,
                    "{} failed with {e} but exists; {hint}",
                    outcome.order_id
                );
            }
        }
        if outcome.finished == Some(TransferStatus::Success) {
            let id = outcome.created.as_ref().unwrap();
            let info = loop {
                if let Ok(info) = f
                    .api
                    .call(&InfoRequest::new(imts::types::Lookup::TransferId(
                        id.parse().unwrap(),
                    )))
                {
                    break info;
                }
            };
            assert_eq!(info.status, TransferStatus::Success, "{hint}");
        }
    }
    let succeeded = outcomes
        .iter()
        .filter(|o| o.finished == Some(TransferStatus::Success))
        .count();
    let faults: u64 = stats.faults.values().sum();
    println!(
        "fault storm {label}: {cycles} life cycles, {faults} faults injected, {succeeded} paid out, \
         {unknown} outcome-unknown creates (all resolved), {definite_errors} definite create errors, \
         {} auth + {} refresh, slowest call {slowest:?}",
        stats.auth, stats.refresh
    );
    assert!(
        faults >= cycles,
        "the storm injected too few faults to prove anything; {hint}"
    );
}

#[test]
fn storm_async_client() {
    storm(async_api, "async");
}

#[test]
fn storm_blocking_client() {
    storm(blocking_api, "blocking");
}
