//! A `metrics` recorder onto an OpenTelemetry meter.
//!
//! One OpenTelemetry instrument per metric name, made once with the description and unit the
//! metric was described with, and one handle per name and label set, kept: the `metrics` macros
//! register a handle on every call, and an instrument made again without its description would
//! be a second, conflicting stream in the SDK.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, SharedString, Unit};
use opentelemetry::metrics::Meter;
use opentelemetry::KeyValue;

/// A `metrics` recorder that records onto an OpenTelemetry [`Meter`]; made by
/// [`super::metrics_recorder`].
pub struct MetricsRecorder {
    meter: Meter,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    described: HashMap<KeyName, (Option<Unit>, SharedString)>,
    counters: HashMap<Key, Arc<OtelCounter>>,
    gauges: HashMap<Key, Arc<OtelGauge>>,
    histograms: HashMap<Key, Arc<OtelHistogram>>,
    counter_instruments: HashMap<KeyName, opentelemetry::metrics::Counter<u64>>,
    gauge_instruments: HashMap<KeyName, opentelemetry::metrics::Gauge<f64>>,
    histogram_instruments: HashMap<KeyName, opentelemetry::metrics::Histogram<f64>>,
}

impl MetricsRecorder {
    pub(super) fn new(meter: Meter) -> Self {
        Self {
            meter,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The maps stay consistent whatever panicked while holding the lock (every insert is
        // one call), so a poisoned lock is used as it is rather than lose metrics.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for MetricsRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsRecorder").finish_non_exhaustive()
    }
}

/// Applies a metric's description and unit to an instrument builder.
macro_rules! build {
    ($state:expr, $builder:expr, $name:expr) => {{
        let mut builder = $builder;
        if let Some((unit, help)) = $state.described.get($name) {
            builder = builder.with_description(help.to_string());
            if let Some(unit) = unit {
                builder = builder.with_unit(unit.as_canonical_label());
            }
        }
        builder.build()
    }};
}

fn attributes(key: &Key) -> Vec<KeyValue> {
    key.labels()
        .map(|label| KeyValue::new(label.key().to_owned(), label.value().to_owned()))
        .collect()
}

impl metrics::Recorder for MetricsRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.state().described.insert(key, (unit, description));
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.state().described.insert(key, (unit, description));
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.state().described.insert(key, (unit, description));
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut state = self.state();
        if let Some(handle) = state.counters.get(key) {
            return Counter::from_arc(Arc::clone(handle));
        }
        let name = KeyName::from(key.name().to_owned());
        let instrument = match state.counter_instruments.get(&name) {
            Some(instrument) => instrument.clone(),
            None => {
                let made = build!(
                    state,
                    self.meter.u64_counter(name.as_str().to_owned()),
                    &name
                );
                state.counter_instruments.insert(name, made.clone());
                made
            }
        };
        let handle = Arc::new(OtelCounter {
            instrument,
            attributes: attributes(key),
            total: AtomicU64::new(0),
        });
        state.counters.insert(key.clone(), Arc::clone(&handle));
        Counter::from_arc(handle)
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let mut state = self.state();
        if let Some(handle) = state.gauges.get(key) {
            return Gauge::from_arc(Arc::clone(handle));
        }
        let name = KeyName::from(key.name().to_owned());
        let instrument = match state.gauge_instruments.get(&name) {
            Some(instrument) => instrument.clone(),
            None => {
                let made = build!(state, self.meter.f64_gauge(name.as_str().to_owned()), &name);
                state.gauge_instruments.insert(name, made.clone());
                made
            }
        };
        let handle = Arc::new(OtelGauge {
            instrument,
            attributes: attributes(key),
            bits: AtomicU64::new(0),
        });
        state.gauges.insert(key.clone(), Arc::clone(&handle));
        Gauge::from_arc(handle)
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let mut state = self.state();
        if let Some(handle) = state.histograms.get(key) {
            return Histogram::from_arc(Arc::clone(handle));
        }
        let name = KeyName::from(key.name().to_owned());
        let instrument = match state.histogram_instruments.get(&name) {
            Some(instrument) => instrument.clone(),
            None => {
                let made = build!(
                    state,
                    self.meter.f64_histogram(name.as_str().to_owned()),
                    &name
                );
                state.histogram_instruments.insert(name, made.clone());
                made
            }
        };
        let handle = Arc::new(OtelHistogram {
            instrument,
            attributes: attributes(key),
        });
        state.histograms.insert(key.clone(), Arc::clone(&handle));
        Histogram::from_arc(handle)
    }
}

struct OtelCounter {
    instrument: opentelemetry::metrics::Counter<u64>,
    attributes: Vec<KeyValue>,
    /// The total so far, for `absolute` (OpenTelemetry's counters only add).
    total: AtomicU64,
}

impl metrics::CounterFn for OtelCounter {
    fn increment(&self, value: u64) {
        self.total.fetch_add(value, Ordering::Relaxed);
        self.instrument.add(value, &self.attributes);
    }

    fn absolute(&self, value: u64) {
        let before = self.total.fetch_max(value, Ordering::Relaxed);
        self.instrument
            .add(value.saturating_sub(before), &self.attributes);
    }
}

struct OtelGauge {
    instrument: opentelemetry::metrics::Gauge<f64>,
    attributes: Vec<KeyValue>,
    /// The current value's bits, for `increment` and `decrement` (OpenTelemetry's gauges only
    /// record a value).
    bits: AtomicU64,
}

impl OtelGauge {
    fn update(&self, change: impl Fn(f64) -> f64) {
        let mut now = 0.0;
        let _ = self
            .bits
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |bits| {
                now = change(f64::from_bits(bits));
                Some(now.to_bits())
            });
        self.instrument.record(now, &self.attributes);
    }
}

impl metrics::GaugeFn for OtelGauge {
    fn increment(&self, value: f64) {
        self.update(|current| current + value);
    }

    fn decrement(&self, value: f64) {
        self.update(|current| current - value);
    }

    fn set(&self, value: f64) {
        self.update(|_| value);
    }
}

struct OtelHistogram {
    instrument: opentelemetry::metrics::Histogram<f64>,
    attributes: Vec<KeyValue>,
}

impl metrics::HistogramFn for OtelHistogram {
    fn record(&self, value: f64) {
        self.instrument.record(value, &self.attributes);
    }
}
