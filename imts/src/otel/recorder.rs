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

fn attributes(key: &Key) -> Vec<KeyValue> {
    key.labels()
        .map(|label| KeyValue::new(label.key().to_owned(), label.value().to_owned()))
        .collect()
}

/// The handle for `key`: the one made before, or a new one on the name's instrument (made
/// once, by `make`, with the name's description and unit).
fn handle<I: Clone, H>(
    described: &HashMap<KeyName, (Option<Unit>, SharedString)>,
    handles: &mut HashMap<Key, Arc<H>>,
    instruments: &mut HashMap<KeyName, I>,
    key: &Key,
    make: impl FnOnce(String, Option<String>, Option<&'static str>) -> I,
    wrap: impl FnOnce(I, Vec<KeyValue>) -> H,
) -> Arc<H> {
    if let Some(handle) = handles.get(key) {
        return Arc::clone(handle);
    }
    let name = KeyName::from(key.name().to_owned());
    let instrument = instruments
        .entry(name.clone())
        .or_insert_with(|| {
            let (unit, help) = described.get(&name).cloned().unzip();
            make(
                name.as_str().to_owned(),
                help.map(|h| h.to_string()),
                unit.flatten().map(|u| u.as_canonical_label()),
            )
        })
        .clone();
    let made = Arc::new(wrap(instrument, attributes(key)));
    handles.insert(key.clone(), Arc::clone(&made));
    made
}

/// Applies a description and unit to an instrument builder and builds it.
macro_rules! instrument {
    ($builder:expr, $help:expr, $unit:expr) => {{
        let mut builder = $builder;
        if let Some(help) = $help {
            builder = builder.with_description(help);
        }
        if let Some(unit) = $unit {
            builder = builder.with_unit(unit);
        }
        builder.build()
    }};
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
        let state = &mut *self.state();
        Counter::from_arc(handle(
            &state.described,
            &mut state.counters,
            &mut state.counter_instruments,
            key,
            |name, help, unit| instrument!(self.meter.u64_counter(name), help, unit),
            |instrument, attributes| OtelCounter {
                instrument,
                attributes,
                total: AtomicU64::new(0),
            },
        ))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let state = &mut *self.state();
        Gauge::from_arc(handle(
            &state.described,
            &mut state.gauges,
            &mut state.gauge_instruments,
            key,
            |name, help, unit| instrument!(self.meter.f64_gauge(name), help, unit),
            |instrument, attributes| OtelGauge {
                instrument,
                attributes,
                bits: AtomicU64::new(0),
            },
        ))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let state = &mut *self.state();
        Histogram::from_arc(handle(
            &state.described,
            &mut state.histograms,
            &mut state.histogram_instruments,
            key,
            |name, help, unit| instrument!(self.meter.f64_histogram(name), help, unit),
            |instrument, attributes| OtelHistogram {
                instrument,
                attributes,
            },
        ))
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
