//! The `otel` feature: a scripted scenario (one retried call, one refused call) exported through
//! OpenTelemetry's in-memory exporters. The spans carry the HTTP client conventions' attributes
//! and the metrics arrive with their counts, descriptions and units.

use std::collections::BTreeMap;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt as _;

use imts::telemetry;
use imts::{ClientBuilder, Credentials};
use imts_sandbox::{AgentConfig, BackgroundSandbox, FaultRule, SandboxConfig};

const KEY: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const SECRET: &str = "otel-secret";
const TRANSFER: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

fn attribute<'s>(span: &'s SpanData, key: &str) -> Option<&'s Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// A sum's value per attribute set (sorted `key=value` pairs).
type Points = BTreeMap<Vec<String>, u64>;

fn labels<'a>(attributes: impl Iterator<Item = &'a KeyValue>) -> Vec<String> {
    let mut labels: Vec<String> = attributes
        .map(|kv| format!("{}={}", kv.key, kv.value))
        .collect();
    labels.sort();
    labels
}

#[test]
fn spans_and_metrics_reach_opentelemetry() {
    let agent = AgentConfig::parse(&format!("otel-agent:{SECRET}:{KEY}")).unwrap();
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

    let spans = InMemorySpanExporter::default();
    let tracers = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let exported = InMemoryMetricExporter::default();
    let meters = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exported.clone()).build())
        .build();
    let recorder = imts::otel::metrics_recorder(meters.meter(imts::otel::SCOPE));
    let subscriber =
        tracing_subscriber::registry().with(imts::otel::layer(tracers.tracer(imts::otel::SCOPE)));

    tracing::subscriber::with_default(subscriber, || {
        metrics::with_local_recorder(&recorder, || {
            client
                .agents(&imts::models::GetAgentsRequest::new())
                .unwrap();
            let lookup = imts::types::Lookup::TransferId(TRANSFER.parse().unwrap());
            client
                .status(&imts::models::StatusRequest::new(lookup))
                .unwrap_err();
        });
    });
    tracers.force_flush().unwrap();
    meters.force_flush().unwrap();

    // Spans: one per call, a client span named by method and endpoint.
    let spans = spans.get_finished_spans().unwrap();
    let calls: Vec<&SpanData> = spans
        .iter()
        .filter(|s| attribute(s, "url.template").is_some())
        .collect();
    let names: Vec<&str> = calls.iter().map(|s| &*s.name).collect();
    assert_eq!(names, ["GET agents", "GET status"], "{spans:#?}");
    let address = sandbox.base_url().trim_start_matches("http://").to_owned();
    for span in &calls {
        assert_eq!(span.span_kind, SpanKind::Client);
        assert_eq!(
            attribute(span, "http.request.method"),
            Some(&Value::from("GET"))
        );
        assert!(
            address.starts_with(&attribute(span, "server.address").unwrap().to_string()),
            "{address}"
        );
    }
    let status = |span: &SpanData| attribute(span, "http.response.status_code").cloned();
    assert_eq!(status(calls[0]), Some(Value::I64(200)));
    assert_eq!(
        status(calls[1]),
        Some(Value::I64(404)),
        "an unknown transfer"
    );
    assert_eq!(
        attribute(calls[0], "url.template").unwrap().to_string(),
        "/v5/partner/transfer/agents"
    );
    assert_eq!(attribute(calls[0], "attempts"), Some(&Value::I64(2)));
    assert_eq!(calls[0].status, Status::Unset);
    assert!(
        attribute(calls[1], "error.type").is_some(),
        "{:?}",
        calls[1]
    );
    assert!(matches!(calls[1].status, Status::Error { .. }));

    // Metrics: the counts of the scenario, described, in seconds for durations.
    let exported = exported.get_finished_metrics().unwrap();
    let metrics: Vec<_> = exported
        .iter()
        .flat_map(|r| r.scope_metrics())
        .flat_map(|s| s.metrics())
        .collect();
    let find = |name: &str| {
        metrics
            .iter()
            .rev()
            .find(|m| m.name() == name)
            .unwrap_or_else(|| panic!("{name} not exported: {metrics:#?}"))
    };
    let sum = |name: &str| -> Points {
        match find(name).data() {
            AggregatedMetrics::U64(MetricData::Sum(sum)) => sum
                .data_points()
                .map(|p| (labels(p.attributes()), p.value()))
                .collect(),
            other => panic!("{name}: {other:?}"),
        }
    };
    let attempts = sum(telemetry::CLIENT_ATTEMPTS_TOTAL);
    assert_eq!(attempts.get(&vec!["endpoint=agents".to_owned()]), Some(&2));
    assert_eq!(attempts.get(&vec!["endpoint=status".to_owned()]), Some(&1));
    let retries = sum(telemetry::CLIENT_RETRIES_TOTAL);
    assert_eq!(
        retries,
        Points::from([(
            vec![
                "endpoint=agents".to_owned(),
                "reason=unavailable".to_owned()
            ],
            1
        )])
    );
    let duration = find(telemetry::CLIENT_CALL_DURATION_SECONDS);
    assert_eq!(duration.unit(), "s");
    let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = duration.data() else {
        panic!("{duration:?}");
    };
    let calls: BTreeMap<Vec<String>, u64> = histogram
        .data_points()
        .map(|p| (labels(p.attributes()), p.count()))
        .collect();
    assert_eq!(
        calls,
        BTreeMap::from([
            (
                vec!["endpoint=agents".to_owned(), "outcome=ok".to_owned()],
                1
            ),
            (
                vec!["endpoint=status".to_owned(), "outcome=api_error".to_owned()],
                1
            ),
        ])
    );
    for metric in &metrics {
        let documented = telemetry::METRICS
            .iter()
            .find(|m| m.name == metric.name())
            .unwrap_or_else(|| panic!("{} is not in METRICS", metric.name()));
        assert_eq!(metric.description(), documented.help);
    }
}
