//! OpenTelemetry (feature `otel`): the SDK's spans and metrics through the `opentelemetry`
//! crates, to whatever exporter the application configures (OTLP, stdout, in memory).
//!
//! - **Spans**: every call is a `tracing` span named `imts.call` whose fields follow the
//!   OpenTelemetry HTTP client conventions (`http.request.method`, `url.template`,
//!   `server.address`, `http.response.status_code`, `error.type`; `otel.name` is
//!   `"{method} {endpoint}"` and `otel.kind` is `client`). [`layer`] turns them into
//!   OpenTelemetry spans. No field holds a body, a token, an identifier of a person or an
//!   amount.
//! - **Metrics**: the SDK records through the `metrics` facade (see [`crate::telemetry`]);
//!   [`metrics_recorder`] is a recorder that writes onto an OpenTelemetry meter, with each
//!   metric's description and unit from [`crate::telemetry::METRICS`].
//!
//! ```no_run
//! use opentelemetry::metrics::MeterProvider as _;
//! use opentelemetry::trace::TracerProvider as _;
//! use tracing_subscriber::layer::SubscriberExt as _;
//!
//! # fn setup(
//! #     meters: opentelemetry_sdk::metrics::SdkMeterProvider,
//! #     tracers: opentelemetry_sdk::trace::SdkTracerProvider,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! // `meters` and `tracers` are your providers, with your exporters.
//! imts::otel::install_metrics(meters.meter(imts::otel::SCOPE))?;
//! let subscriber = tracing_subscriber::registry()
//!     .with(imts::otel::layer(tracers.tracer(imts::otel::SCOPE)));
//! tracing::subscriber::set_global_default(subscriber)?;
//! # Ok(())
//! # }
//! ```

mod recorder;

use opentelemetry::metrics::Meter;

pub use recorder::MetricsRecorder;

/// The instrumentation scope to name the SDK's meter and tracer by.
pub const SCOPE: &str = "imts";

/// A `metrics` recorder that records onto `meter`, every SDK metric already described (its
/// help text and unit), for [`metrics::set_global_recorder`], [`metrics::with_local_recorder`]
/// or a fan-out of several recorders.
pub fn metrics_recorder(meter: Meter) -> MetricsRecorder {
    let recorder = MetricsRecorder::new(meter);
    // Descriptions are kept by the recorder and applied when an instrument is first made.
    metrics::with_local_recorder(&recorder, crate::telemetry::describe);
    recorder
}

/// Installs [`metrics_recorder`] as the process's `metrics` recorder.
///
/// # Errors
/// [`InstallError`] when a recorder is already installed (there is one per process).
pub fn install_metrics(meter: Meter) -> Result<(), InstallError> {
    metrics::set_global_recorder(metrics_recorder(meter)).map_err(|_| InstallError)
}

/// A `metrics` recorder was already installed in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstallError;

impl std::fmt::Display for InstallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a metrics recorder is already installed in this process")
    }
}

impl std::error::Error for InstallError {}

/// The `tracing` layer that exports spans (the SDK's and any other) through `tracer`.
pub fn layer<S, T>(tracer: T) -> tracing_opentelemetry::OpenTelemetryLayer<S, T>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    T: opentelemetry::trace::Tracer + 'static,
    T::Span: Send + Sync,
{
    tracing_opentelemetry::layer().with_tracer(tracer)
}
