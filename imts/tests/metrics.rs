//! The metrics, counted exactly by a debugging recorder for scripted scenarios: a retried call,
//! token exchanges, a duplicate and a forged callback, inbox runs and depth; and every label
//! value recorded is one of the documented ones (no identifier, amount or personal value).

use std::collections::BTreeMap;
use std::sync::Arc;

use imts::callbacks::{Delivery, HandlerError, InboxWorker, Processor, Verifier};

use imts::telemetry::{self, METRICS};
use imts::types::Timestamp;
use imts::{ClientBuilder, Credentials};
use imts_core::inbox::MemoryInbox;
use imts_core::signature::CanonicalParams;
use imts_crypto::{AgentSecret, Signer};
use imts_sandbox::{AgentConfig, BackgroundSandbox, FaultRule, SandboxConfig};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

const KEY: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const SECRET: &str = "metrics-secret";
const TRANSFER: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
/// Personal and identifying values the scenarios handle: none may appear in a metric.
const NEVER_IN_A_LABEL: &[&str] = &[TRANSFER, "ORD-METRICS-1", "n-1", "n-2", SECRET];

type Metrics = BTreeMap<(String, Vec<(String, String)>), DebugValue>;

fn snapshot(snapshotter: &Snapshotter) -> Metrics {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (_, key) = key.into_parts();
            let mut labels: Vec<_> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            ((key.name().to_owned(), labels), value)
        })
        .collect()
}

fn get<'m>(metrics: &'m Metrics, name: &str, labels: &[(&str, &str)]) -> Option<&'m DebugValue> {
    let mut labels: Vec<_> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    labels.sort();
    metrics.get(&(name.to_owned(), labels))
}

fn counter(metrics: &Metrics, name: &str, labels: &[(&str, &str)]) -> u64 {
    match get(metrics, name, labels) {
        Some(DebugValue::Counter(n)) => *n,
        None => 0,
        Some(other) => panic!("{name} is not a counter: {other:?}"),
    }
}

fn samples(metrics: &Metrics, name: &str, labels: &[(&str, &str)]) -> usize {
    match get(metrics, name, labels) {
        Some(DebugValue::Histogram(values)) => values.len(),
        None => 0,
        Some(other) => panic!("{name} is not a histogram: {other:?}"),
    }
}

/// Every metric recorded is in the table, with the table's labels, and no label value holds
/// anything of the scenario's data.
fn assert_documented(metrics: &Metrics) {
    for (name, labels) in metrics.keys() {
        let metric = METRICS
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("`{name}` is recorded but not in METRICS"));
        let keys: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
        let mut expected = metric.labels.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected, "{name}");
        for (key, value) in labels {
            for secret in NEVER_IN_A_LABEL {
                assert!(!value.contains(secret), "{name}{{{key}={value}}}");
            }
        }
    }
}

#[test]
fn one_retry_is_two_attempts_and_the_call_is_timed_once() {
    let agent = AgentConfig::parse(&format!("metrics-agent:{SECRET}:{KEY}")).unwrap();
    let sandbox = BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        // The first Get agents is answered 503 (not processed): one retry.
        faults: vec![FaultRule::parse("agents:503:1:1").unwrap()],
        ..SandboxConfig::default()
    })
    .unwrap();
    let client = ClientBuilder::new(Credentials::new(
        agent.agent_id.parse().unwrap(),
        agent.agent_secret.clone(),
    ))
    .base_url(sandbox.base_url())
    .build_blocking()
    .unwrap();

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        client
            .agents(&imts::models::GetAgentsRequest::new())
            .unwrap();
        client
            .agents(&imts::models::GetAgentsRequest::new())
            .unwrap();
        client.refresh_token().unwrap();
    });
    let metrics = snapshot(&snapshotter);
    let agents = [("endpoint", "agents")];
    assert_eq!(
        counter(&metrics, telemetry::CLIENT_ATTEMPTS_TOTAL, &agents),
        3
    );
    assert_eq!(
        counter(
            &metrics,
            telemetry::CLIENT_RETRIES_TOTAL,
            &[("endpoint", "agents"), ("reason", "unavailable")]
        ),
        1
    );
    assert_eq!(
        samples(
            &metrics,
            telemetry::CLIENT_CALL_DURATION_SECONDS,
            &[("endpoint", "agents"), ("outcome", "ok")]
        ),
        2
    );
    assert_eq!(
        counter(
            &metrics,
            telemetry::TOKEN_REFRESH_TOTAL,
            &[("exchange", "authenticate"), ("result", "ok")]
        ),
        1
    );
    assert_eq!(
        counter(
            &metrics,
            telemetry::TOKEN_REFRESH_TOTAL,
            &[("exchange", "refresh"), ("result", "ok")]
        ),
        1
    );
    assert_eq!(
        counter(&metrics, telemetry::CLIENT_OUTCOME_UNKNOWN_TOTAL, &agents),
        0
    );
    assert_documented(&metrics);
}

#[test]
fn an_api_error_is_timed_under_its_outcome() {
    let agent = AgentConfig::parse(&format!("metrics-agent:{SECRET}:{KEY}")).unwrap();
    let sandbox = BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        ..SandboxConfig::default()
    })
    .unwrap();
    let client = ClientBuilder::new(Credentials::new(
        agent.agent_id.parse().unwrap(),
        agent.agent_secret.clone(),
    ))
    .base_url(sandbox.base_url())
    .build_blocking()
    .unwrap();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let lookup = imts::types::Lookup::TransferId(TRANSFER.parse().unwrap());
        let error = client
            .status(&imts::models::StatusRequest::new(lookup))
            .unwrap_err();
        assert!(error.code().is_some(), "{error}");
    });
    let metrics = snapshot(&snapshotter);
    assert_eq!(
        samples(
            &metrics,
            telemetry::CLIENT_CALL_DURATION_SECONDS,
            &[("endpoint", "status"), ("outcome", "api_error")]
        ),
        1
    );
    assert_eq!(
        counter(
            &metrics,
            telemetry::CLIENT_ATTEMPTS_TOTAL,
            &[("endpoint", "status")]
        ),
        1
    );
    assert_documented(&metrics);
}

fn sign(fields: &str, secret: &str) -> Vec<u8> {
    let body = format!("{{{fields}}}");
    let sig = CanonicalParams::from_json(body.as_bytes())
        .unwrap()
        .sign(&Signer::new(AgentSecret::new(secret).unwrap()));
    format!("{{{fields},\"pg_sig\":\"{sig}\"}}").into_bytes()
}

fn update(id: &str, secret: &str) -> Vec<u8> {
    sign(
        &format!(
            r#""type":"status_update","notification_id":"{id}","transfer_id":"{TRANSFER}","order_id":"ORD-METRICS-1","status":"process","updated_at":"2026-11-22T10:00:00.000000Z""#
        ),
        secret,
    )
}

fn verifier() -> Verifier {
    Verifier::new(AgentSecret::new(SECRET).unwrap())
}

#[test]
fn a_duplicate_counts_once_as_duplicate_and_a_forgery_as_forged() {
    let processor = Processor::new(verifier(), |_d: Delivery| async {
        Ok::<(), HandlerError>(())
    });
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        pollster::block_on(async {
            let post = http::Method::POST;
            assert_eq!(
                processor
                    .process(&post, &update("n-1", SECRET))
                    .await
                    .status,
                200
            );
            assert_eq!(
                processor
                    .process(&post, &update("n-1", SECRET))
                    .await
                    .status,
                200
            );
            assert_eq!(
                processor
                    .process(&post, &update("n-2", "not-the-secret"))
                    .await
                    .status,
                401
            );
            assert_eq!(processor.process(&post, b"{\"type\":").await.status, 400);
        });
    });
    let metrics = snapshot(&snapshotter);
    let received = |result: &str| {
        counter(
            &metrics,
            telemetry::CALLBACKS_RECEIVED_TOTAL,
            &[("result", result)],
        )
    };
    assert_eq!(received("accepted"), 1);
    assert_eq!(received("duplicate"), 1);
    assert_eq!(received("forged"), 1);
    assert_eq!(received("malformed"), 1);
    assert_documented(&metrics);
}

#[test]
fn inbox_runs_and_depth_are_measured() {
    let inbox = Arc::new(MemoryInbox::default());
    let fail_once = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let handler = {
        let fail_once = Arc::clone(&fail_once);
        move |_d: Delivery| {
            let fail = fail_once.swap(false, std::sync::atomic::Ordering::SeqCst);
            async move {
                if fail {
                    Err(HandlerError("database down".into()))
                } else {
                    Ok(())
                }
            }
        }
    };
    let processor = Arc::new(Processor::new(verifier(), handler).with_inbox(inbox.clone()));
    let worker = InboxWorker::new(Arc::clone(&processor), inbox, "worker-1");
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let start = worker.now();
    let at = |seconds: i64| {
        Timestamp::new(start.as_offset_date_time() + time::Duration::seconds(seconds))
    };
    let (depth_before, depth_after) = metrics::with_local_recorder(&recorder, || {
        pollster::block_on(async {
            let post = http::Method::POST;
            assert_eq!(
                processor
                    .process(&post, &update("n-1", SECRET))
                    .await
                    .status,
                200
            );
            assert_eq!(
                processor
                    .process(&post, &update("n-2", SECRET))
                    .await
                    .status,
                200
            );
            let before = worker.measure(at(90)).await.unwrap();
            // n-1 fails once (retry), n-2 is done; then, past the backoff, n-1 is done.
            worker.run_due(at(90)).await.unwrap();
            worker.run_due(at(90 + 3600)).await.unwrap();
            let after = worker.measure(at(90 + 3600)).await.unwrap();
            (before, after)
        })
    });
    assert_eq!(depth_before.pending, 2);
    let age = depth_before.oldest_age(at(90));
    assert!(
        age <= std::time::Duration::from_secs(90) && age > std::time::Duration::from_secs(80),
        "{age:?}"
    );
    assert_eq!(depth_after.pending, 0);
    let metrics = snapshot(&snapshotter);
    let runs = |result: &str| counter(&metrics, telemetry::INBOX_RUNS_TOTAL, &[("result", result)]);
    assert_eq!((runs("done"), runs("retry"), runs("dead")), (2, 1, 0));
    assert_eq!(
        counter(
            &metrics,
            telemetry::CALLBACKS_RECEIVED_TOTAL,
            &[("result", "accepted")]
        ),
        2
    );
    match get(&metrics, telemetry::INBOX_DEPTH, &[]) {
        Some(DebugValue::Gauge(depth)) => assert_eq!(depth.into_inner(), 0.0),
        other => panic!("imts_inbox_depth: {other:?}"),
    }
    assert_documented(&metrics);
}
