//! Secrets hygiene: a whole life cycle through both clients with every tracing event captured at
//! TRACE, every public type formatted with `{:?}`, every error message collected, and all of it
//! scanned for the agent secret, the partner key (raw, hex, Base64), the access and refresh
//! tokens, and every personal-data value used; the same for every span and metric exported
//! through OpenTelemetry (`imts::otel`, in-memory exporters). Zero hits. Secret types zeroize on drop, by
//! `zeroize`'s own guarantee (`ZeroizeOnDrop`).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imts::config::Packing;
use imts::error::TransportError;
use imts::models::*;
use imts::protocol::transport::{AsyncTransport, BlockingTransport};
use imts::types::OriginatorType;
use imts::{AgentSecret, Config, Credentials, PartnerKey};
use imts_conformance::{person, transfer};
use imts_sandbox::{AgentConfig, BackgroundSandbox, SandboxConfig};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt as _;

const SECRET: &str = "hygiene-Agent-Secret-42";
const RAW_KEY: &str = "0123456789abcdef0123456789ABCDEF";

/// Everything written by the tracing subscriber.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// OpenTelemetry's in-memory exporters, for every span and metric the SDK exports.
struct Exported {
    spans: InMemorySpanExporter,
    tracers: SdkTracerProvider,
    metrics: InMemoryMetricExporter,
    meters: SdkMeterProvider,
}

impl Exported {
    /// Makes the exporters and installs the SDK's metrics recorder onto their meter.
    fn install() -> Self {
        let spans = InMemorySpanExporter::default();
        let tracers = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let metrics = InMemoryMetricExporter::default();
        let meters = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        imts::otel::install_metrics(meters.meter(imts::otel::SCOPE))
            .expect("the only metrics recorder in this test binary");
        Self {
            spans,
            tracers,
            metrics,
            meters,
        }
    }

    fn tracer(&self) -> opentelemetry_sdk::trace::SdkTracer {
        self.tracers.tracer(imts::otel::SCOPE)
    }

    /// Every span (name, attributes, events, status) and every metric (name, attribute sets),
    /// as text.
    fn text(&self) -> String {
        self.tracers.force_flush().unwrap();
        self.meters.force_flush().unwrap();
        let mut text = String::new();
        for span in self.spans.get_finished_spans().unwrap() {
            text += &format!(
                "{} {:?} {:?} {:?}\n",
                span.name, span.attributes, span.events.events, span.status
            );
        }
        for resource in self.metrics.get_finished_metrics().unwrap() {
            for scope in resource.scope_metrics() {
                for metric in scope.metrics() {
                    text += &format!("{} {:?}\n", metric.name(), metric.data());
                }
            }
        }
        text
    }
}

/// Records every response body, so the test learns the tokens the server issued.
#[derive(Clone, Default)]
struct Tokens(Arc<Mutex<Vec<String>>>);

impl Tokens {
    fn record(&self, response: &http::Response<Vec<u8>>) {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(response.body()) {
            for field in ["access_token", "refresh_token"] {
                if let Some(token) = value.get(field).and_then(|t| t.as_str()) {
                    self.0.lock().unwrap().push(token.to_owned());
                }
            }
        }
    }
}

struct RecordingAsync(imts::protocol::ReqwestTransport, Tokens);
impl AsyncTransport for RecordingAsync {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let response = self.0.send(request, timeout).await?;
        self.1.record(&response);
        Ok(response)
    }
}

struct RecordingBlocking(imts::protocol::UreqTransport, Tokens);
impl BlockingTransport for RecordingBlocking {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let response = self.0.send(request, timeout)?;
        self.1.record(&response);
        Ok(response)
    }
}

#[test]
fn nothing_secret_or_personal_reaches_logs_debug_or_errors() {
    let capture = Capture::default();
    let writer = capture.clone();
    let exported = Exported::install();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_ansi(false),
        )
        .with(imts::otel::layer(exported.tracer()));
    // Global, so events from every thread (runtime workers, the sandbox's threads) are captured.
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only subscriber in this test binary");
    // reqwest, hyper and ureq log through `log`: forward those records into the capture too.
    let _ = tracing_log::LogTracer::init_with_filter(tracing_log::log::LevelFilter::Trace);

    let key = PartnerKey::parse(RAW_KEY).unwrap();
    let key_hex = key.to_hex().to_string();
    let key_b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(RAW_KEY)
    };
    let agent = AgentConfig::parse(&format!("hygiene-agent:{SECRET}:{key_hex}")).unwrap();
    let sandbox = BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent],
        ..SandboxConfig::default()
    })
    .unwrap();
    let credentials = || {
        Credentials::new(
            "hygiene-agent".parse().unwrap(),
            AgentSecret::new(SECRET).unwrap(),
        )
        .with_partner_key(PartnerKey::parse(RAW_KEY).unwrap())
    };
    let tokens = Tokens::default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let builder = imts::ClientBuilder::new(credentials())
        .base_url(sandbox.base_url())
        .connect_timeout(Duration::from_secs(5));
    let timeouts = builder.timeouts();
    let async_client = builder
        .clone()
        .build_with(RecordingAsync(
            imts::protocol::ReqwestTransport::new(timeouts).unwrap(),
            tokens.clone(),
        ))
        .unwrap();
    let blocking_client = builder
        .build_blocking_with(RecordingBlocking(
            imts::protocol::UreqTransport::new(timeouts),
            tokens.clone(),
        ))
        .unwrap();

    let person = person("Ivanova");
    let mut shown: Vec<String> = Vec::new();
    let mut record = |label: &str, text: String| shown.push(format!("{label}: {text}"));
    record("credentials", format!("{:?}", credentials()));
    record("key", format!("{key:?}"));
    record("secret", format!("{:?}", AgentSecret::new(SECRET).unwrap()));
    record("person", format!("{person:?}"));
    record("clients", format!("{async_client:?} {blocking_client:?}"));
    let sealed = person.seal(&key, Packing::IvCiphertext).unwrap();
    record("sealed", format!("{sealed:?}"));
    record(
        "plaintext",
        format!(
            "{:?}",
            key.decrypt(sealed.as_str(), Packing::IvCiphertext).unwrap()
        ),
    );

    for (label, run_blocking) in [("async", false), ("blocking", true)] {
        let call = |op: &dyn Fn() -> Result<String, imts::Error>| match op() {
            Ok(debug) => debug,
            Err(e) => format!("{e} | {e:?}"),
        };
        macro_rules! go {
            ($op:expr) => {{
                let op = $op;
                record(&format!("{label} request"), format!("{op:?}"));
                let prepared = imts::protocol::PreparedRequest::new(
                    &op,
                    &credentials(),
                    &Config::new(sandbox.base_url()),
                    1,
                );
                record(&format!("{label} prepared"), format!("{prepared:?}"));
                let result = if run_blocking {
                    blocking_client.call(&op)
                } else {
                    runtime.block_on(async_client.call(&op))
                };
                let text = call(&|| result.clone().map(|r| format!("{r:?}")));
                record(&format!("{label} result"), text);
                result
            }};
        }
        let sender = go!(CreatePerson::new(
            person.clone(),
            "KAZ".parse().unwrap(),
            "77011234567".parse().unwrap()
        ))
        .unwrap();
        go!(PersonInfoRequest::new(sender.client_uuid.clone())).unwrap();
        go!(FeesRequest::new(
            OriginatorType::Person,
            "UZB".parse().unwrap(),
            imts::types::Money::new("100.50".parse().unwrap(), "KZT".parse().unwrap()),
            "UZS".parse().unwrap()
        ))
        .unwrap();
        let t = go!(transfer(&sender.client_uuid, &format!("HYG-{label}"))).unwrap();
        go!(ConfirmRequest::new(t.transfer_id.clone())).unwrap();
        go!(SearchRequest::new(imts::types::Destination::Phone(
            "998901234567".parse().unwrap()
        )))
        .unwrap();
        go!(Payout::new(t.transfer_id.clone(), person.clone())).unwrap();
        go!(PayoutConfirmRequest::new(t.transfer_id.clone())).unwrap();
        go!(InfoRequest::new(imts::types::Lookup::TransferId(
            t.transfer_id.clone()
        )))
        .unwrap();
        // Errors too: a refused transition, an unknown order, a bad value.
        let _ = go!(CancelRequest::new(t.transfer_id.clone()));
        let _ = go!(StatusRequest::new(imts::types::Lookup::OrderId(
            "nope".parse().unwrap()
        )));
        record(
            "value error",
            format!(
                "{:?} {}",
                "7701".parse::<imts::types::Phone>().unwrap_err(),
                "7701".parse::<imts::types::Phone>().unwrap_err()
            ),
        );
    }
    // A wrong secret: the 401 and its error text.
    let intruder = imts::ClientBuilder::new(Credentials::new(
        "hygiene-agent".parse().unwrap(),
        AgentSecret::new("wrong-but-close-42").unwrap(),
    ))
    .config(Config::new(sandbox.base_url()))
    .build_blocking()
    .expect("a blocking client");
    let e = intruder
        .call(&StatusRequest::new(imts::types::Lookup::OrderId(
            "x".parse().unwrap(),
        )))
        .unwrap_err();
    shown.push(format!("{e} {e:?}"));
    drop(runtime);

    let tokens = tokens.0.lock().unwrap().clone();
    assert!(tokens.len() >= 4, "the tokens issued were recorded");
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("imts.call"), "tracing was captured");
    let otel = exported.text();
    assert!(
        otel.contains("url.template") && otel.contains("imts_client_attempts_total"),
        "spans and metrics were exported"
    );
    let haystack = format!("{logs}\n{}\n{otel}", shown.join("\n"));
    // Positive controls: what may be shown is found, so the scan sees what it should.
    assert!(
        haystack.contains("hygiene-agent")
            && haystack.contains("HYG-async")
            && haystack.contains("********4567")
    );
    let mut needles: Vec<(String, String)> = vec![
        ("agent secret".into(), SECRET.into()),
        ("partner key raw".into(), RAW_KEY.into()),
        ("partner key hex".into(), key_hex.clone()),
        ("partner key base64".into(), key_b64.clone()),
        ("first name".into(), "Aigerim".into()),
        ("last name".into(), "Ivanova".into()),
        ("middle name".into(), "Serikovna".into()),
        ("document number".into(), "N1234567".into()),
        ("birth date".into(), "1990-04-12".into()),
        ("address".into(), "Abay 1".into()),
        ("phone".into(), "77011234567".into()),
        ("destination".into(), "998901234567".into()),
        ("wrong secret".into(), "wrong-but-close-42".into()),
    ];
    needles.extend(tokens.into_iter().map(|t| ("token".into(), t)));
    let hits: Vec<String> = needles
        .iter()
        .filter(|(_, needle)| haystack.contains(needle.as_str()))
        .map(|(name, _)| name.clone())
        .collect();
    assert!(hits.is_empty(), "leaked: {hits:?}");
    println!("hygiene: scanned {} bytes of TRACE logs, {} bytes of exported spans and metrics and {} Debug/error strings for {} secrets and personal values: 0 hits", logs.len(), otel.len(), shown.len(), needles.len());
}

#[test]
fn secret_types_zeroize_on_drop() {
    fn zeroizes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    zeroizes_on_drop::<imts::AgentSecret>();
    zeroizes_on_drop::<imts::PartnerKey>();
    zeroizes_on_drop::<imts::personal::Plaintext>();
    zeroizes_on_drop::<imts::models::auth::Token>();
    zeroizes_on_drop::<imts::personal::PersonData>();
    zeroizes_on_drop::<imts::personal::BusinessData>();
}
