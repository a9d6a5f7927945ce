//! The SDK's metrics: every name, kind, label and meaning in one table ([`METRICS`]), and the
//! only functions that record them.
//!
//! Metrics go through the [`metrics`] facade: nothing is recorded until the application
//! installs a recorder (a Prometheus exporter, an OpenTelemetry bridge, a test's debugging
//! recorder), and a recorded value costs an atomic load when none is installed. Like tracing, it
//! is observation, not I/O.
//!
//! Every label value is a `&'static str` chosen from a closed set (an enum below, or an
//! endpoint's name from the endpoint table), so no identifier, amount or personal value can
//! ever become a label: the types do not allow it.
//!
//! ```
//! use imts_core::telemetry::{Kind, METRICS};
//!
//! let calls = METRICS.iter().find(|m| m.name == "imts_client_call_duration_seconds").unwrap();
//! assert_eq!(calls.kind, Kind::Histogram);
//! assert_eq!(calls.labels, &["endpoint", "outcome"]);
//! ```

use std::time::Duration;

use crate::endpoint::{Endpoint, Route};
use crate::error::Error;

/// What a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// A value set from time to time.
    Gauge,
    /// A distribution (seconds).
    Histogram,
}

impl Kind {
    /// The Prometheus type name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One metric: its stable name, kind, labels and meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// The name (stable: renaming one is a breaking change).
    pub name: &'static str,
    /// The kind.
    pub kind: Kind,
    /// Its labels, in order.
    pub labels: &'static [&'static str],
    /// What it counts, and the label values.
    pub help: &'static str,
}

/// Seconds one call took, retries and waits included (`outcome`: [`CallOutcome`]).
pub const CLIENT_CALL_DURATION_SECONDS: &str = "imts_client_call_duration_seconds";
/// Requests sent for calls (token exchanges excluded).
pub const CLIENT_ATTEMPTS_TOTAL: &str = "imts_client_attempts_total";
/// Attempts repeated after a failure (`reason`: [`RetryReason`]).
pub const CLIENT_RETRIES_TOTAL: &str = "imts_client_retries_total";
/// Writes that ended in `OutcomeUnknown`: a person (or `resume`) must look.
pub const CLIENT_OUTCOME_UNKNOWN_TOTAL: &str = "imts_client_outcome_unknown_total";
/// Token exchanges (`exchange`: [`Exchange`](crate::Exchange); `result`: [`TokenResult`]).
pub const TOKEN_REFRESH_TOTAL: &str = "imts_token_refresh_total";
/// Notification deliveries received (`result`: [`CallbackResult`]).
pub const CALLBACKS_RECEIVED_TOTAL: &str = "imts_callbacks_received_total";
/// Handler runs from the inbox (`result`: [`InboxRun`]).
pub const INBOX_RUNS_TOTAL: &str = "imts_inbox_runs_total";
/// Notifications stored and not yet handled.
pub const INBOX_DEPTH: &str = "imts_inbox_depth";
/// Age of the oldest notification not yet handled (0 when none).
pub const INBOX_OLDEST_AGE_SECONDS: &str = "imts_inbox_oldest_age_seconds";
/// Status polls made by the reconciler (`result`: [`PollResult`]).
pub const RECONCILER_POLLS_TOTAL: &str = "imts_reconciler_polls_total";
/// Transfers reported stuck (not final past the schedule's horizon).
pub const RECONCILER_STUCK_TOTAL: &str = "imts_reconciler_stuck_total";
/// Requests the sandbox answered (`endpoint`; `status`: the HTTP status class, `2xx`..`5xx`).
pub const SANDBOX_REQUESTS_TOTAL: &str = "imts_sandbox_requests_total";

/// Every metric the SDK records. The README's table is this one.
pub const METRICS: &[Metric] = &[
    Metric {
        name: CLIENT_CALL_DURATION_SECONDS,
        kind: Kind::Histogram,
        labels: &["endpoint", "outcome"],
        help: "Seconds one call took, retries and waits included. outcome: ok, api_error, \
               gave_up, outcome_unknown, transport, invalid, journal.",
    },
    Metric {
        name: CLIENT_ATTEMPTS_TOTAL,
        kind: Kind::Counter,
        labels: &["endpoint"],
        help: "Requests sent for calls (token exchanges excluded; a lookup after an uncertain \
               write counts under the call's endpoint).",
    },
    Metric {
        name: CLIENT_RETRIES_TOTAL,
        kind: Kind::Counter,
        labels: &["endpoint", "reason"],
        help: "Attempts repeated after a failure. reason: rate_limited (429), unavailable (503), \
               server_error (other 5xx), transport, token (the exchange failed), lookup (an \
               uncertain write is looked up).",
    },
    Metric {
        name: CLIENT_OUTCOME_UNKNOWN_TOTAL,
        kind: Kind::Counter,
        labels: &["endpoint"],
        help: "Writes whose outcome the call could not learn (OutcomeUnknown).",
    },
    Metric {
        name: TOKEN_REFRESH_TOTAL,
        kind: Kind::Counter,
        labels: &["exchange", "result"],
        help: "Token exchanges. exchange: authenticate, refresh. result: ok, refused (a refresh \
               token the server no longer takes), failed.",
    },
    Metric {
        name: CALLBACKS_RECEIVED_TOTAL,
        kind: Kind::Counter,
        labels: &["result"],
        help: "Notification deliveries. result: accepted (first seen: handled or stored), \
               duplicate, forged (no or bad pg_sig), malformed, in_flight, unavailable (a store), \
               handler_failed.",
    },
    Metric {
        name: INBOX_RUNS_TOTAL,
        kind: Kind::Counter,
        labels: &["result"],
        help: "Handler runs from the inbox. result: done, retry (failed, will run again), dead.",
    },
    Metric {
        name: INBOX_DEPTH,
        kind: Kind::Gauge,
        labels: &[],
        help: "Notifications stored and acknowledged but not yet handled (pending).",
    },
    Metric {
        name: INBOX_OLDEST_AGE_SECONDS,
        kind: Kind::Gauge,
        labels: &[],
        help: "Seconds since the oldest pending notification was received (0 when none).",
    },
    Metric {
        name: RECONCILER_POLLS_TOTAL,
        kind: Kind::Counter,
        labels: &["result"],
        help: "Status polls by the reconciler. result: changed, unchanged, failed.",
    },
    Metric {
        name: RECONCILER_STUCK_TOTAL,
        kind: Kind::Counter,
        labels: &[],
        help: "Transfers reported stuck: not final past the schedule's horizon.",
    },
    Metric {
        name: SANDBOX_REQUESTS_TOTAL,
        kind: Kind::Counter,
        labels: &["endpoint", "status"],
        help: "Requests the sandbox answered. endpoint: the endpoint's name, control, or \
               unknown. status: 2xx, 3xx, 4xx, 5xx.",
    },
];

/// Registers every metric's description with the installed recorder (exporters print them as
/// `# HELP`). Call once after installing a recorder.
pub fn describe() {
    for metric in METRICS {
        match metric.kind {
            Kind::Counter => metrics::describe_counter!(metric.name, metric.help),
            Kind::Gauge => metrics::describe_gauge!(metric.name, metric.help),
            Kind::Histogram => {
                metrics::describe_histogram!(metric.name, metrics::Unit::Seconds, metric.help);
            }
        }
    }
}

/// A closed set of label values.
macro_rules! label_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value.
            pub const ALL: &[$name] = &[$($name::$variant,)+];

            /// The label value.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }
    };
}

label_enum!(
    /// How a call ended: the `outcome` label.
    CallOutcome {
        /// Succeeded.
        Ok => "ok",
        /// The API answered with an error.
        ApiError => "api_error",
        /// Retries ran out.
        GaveUp => "gave_up",
        /// A write whose outcome is not known.
        OutcomeUnknown => "outcome_unknown",
        /// The transport failed (not retried).
        Transport => "transport",
        /// Refused before any I/O (an invalid request, a missing key).
        Invalid => "invalid",
        /// The journal could not record the call (nothing was sent).
        Journal => "journal",
    }
);

impl CallOutcome {
    /// The outcome of a call's result.
    #[must_use]
    pub fn of<T>(result: &Result<T, Error>) -> Self {
        match result {
            Ok(_) => CallOutcome::Ok,
            Err(Error::Api { .. }) => CallOutcome::ApiError,
            Err(Error::GaveUp { .. }) => CallOutcome::GaveUp,
            Err(Error::OutcomeUnknown { .. }) => CallOutcome::OutcomeUnknown,
            Err(Error::Transport { .. } | Error::Decode { .. }) => CallOutcome::Transport,
            Err(Error::Journal(_)) => CallOutcome::Journal,
            Err(_) => CallOutcome::Invalid,
        }
    }
}

label_enum!(
    /// Why an attempt was repeated: the `reason` label.
    RetryReason {
        /// HTTP 429.
        RateLimited => "rate_limited",
        /// HTTP 503.
        Unavailable => "unavailable",
        /// Another 5xx.
        ServerError => "server_error",
        /// The transport failed.
        Transport => "transport",
        /// The token exchange failed.
        Token => "token",
        /// A write may have been applied: the transfer is looked up.
        Lookup => "lookup",
    }
);

impl RetryReason {
    /// The reason for an HTTP status that is retried.
    #[must_use]
    pub fn of_status(status: u16) -> Self {
        match status {
            429 => RetryReason::RateLimited,
            503 => RetryReason::Unavailable,
            _ => RetryReason::ServerError,
        }
    }
}

label_enum!(
    /// How a token exchange ended: the `result` label.
    TokenResult {
        /// A new pair.
        Ok => "ok",
        /// The server no longer takes the refresh token (a full authentication follows).
        Refused => "refused",
        /// The exchange failed.
        Failed => "failed",
    }
);

label_enum!(
    /// What became of a notification delivery: the `result` label.
    CallbackResult {
        /// First seen: handled, or stored in the inbox.
        Accepted => "accepted",
        /// Already processed: acknowledged, not handled again.
        Duplicate => "duplicate",
        /// No `pg_sig`, or one that does not verify.
        Forged => "forged",
        /// Not a valid notification.
        Malformed => "malformed",
        /// The same id is being processed (answered 503).
        InFlight => "in_flight",
        /// A store was unavailable (answered 503).
        Unavailable => "unavailable",
        /// The handler failed (answered 500).
        HandlerFailed => "handler_failed",
    }
);

label_enum!(
    /// How a handler run from the inbox ended: the `result` label.
    InboxRun {
        /// Handled.
        Done => "done",
        /// Failed; it runs again after its backoff.
        Retry => "retry",
        /// Failed for the last time (a dead letter).
        Dead => "dead",
    }
);

label_enum!(
    /// What a reconciler poll found: the `result` label.
    PollResult {
        /// The transfer had moved on.
        Changed => "changed",
        /// As the journal knew.
        Unchanged => "unchanged",
        /// The poll failed.
        Failed => "failed",
    }
);

/// The `endpoint` label of a route: the endpoint table's name, or `raw` for a path the table
/// does not know (a raw call's path is never a label).
#[must_use]
pub fn endpoint_label(route: &Route) -> &'static str {
    Endpoint::from_route(&route.method, &route.path).map_or("raw", |e| e.spec().name)
}

/// Records a finished call.
pub fn call_finished(endpoint: &'static str, outcome: CallOutcome, elapsed: Duration) {
    metrics::histogram!(CLIENT_CALL_DURATION_SECONDS, "endpoint" => endpoint, "outcome" => outcome.as_str())
        .record(elapsed);
    if outcome == CallOutcome::OutcomeUnknown {
        metrics::counter!(CLIENT_OUTCOME_UNKNOWN_TOTAL, "endpoint" => endpoint).increment(1);
    }
}

/// Records one request sent for a call.
pub fn attempt(endpoint: &'static str) {
    metrics::counter!(CLIENT_ATTEMPTS_TOTAL, "endpoint" => endpoint).increment(1);
}

/// Records an attempt to be repeated.
pub fn retry(endpoint: &'static str, reason: RetryReason) {
    metrics::counter!(CLIENT_RETRIES_TOTAL, "endpoint" => endpoint, "reason" => reason.as_str())
        .increment(1);
}

/// Records a token exchange.
pub fn token_exchange(exchange: crate::Exchange, result: TokenResult) {
    let exchange = match exchange {
        crate::Exchange::Authenticate => "authenticate",
        crate::Exchange::Refresh => "refresh",
    };
    metrics::counter!(TOKEN_REFRESH_TOTAL, "exchange" => exchange, "result" => result.as_str())
        .increment(1);
}

/// Records a notification delivery.
pub fn callback_received(result: CallbackResult) {
    metrics::counter!(CALLBACKS_RECEIVED_TOTAL, "result" => result.as_str()).increment(1);
}

/// Records a handler run from the inbox.
pub fn inbox_run(result: InboxRun) {
    metrics::counter!(INBOX_RUNS_TOTAL, "result" => result.as_str()).increment(1);
}

/// Sets the inbox gauges: pending rows, and the age of the oldest.
pub fn inbox_depth(pending: u64, oldest_age: Duration) {
    // Saturates at u32::MAX rows (the facade takes u32 exactly); no inbox gets there.
    metrics::gauge!(INBOX_DEPTH).set(u32::try_from(pending).unwrap_or(u32::MAX));
    metrics::gauge!(INBOX_OLDEST_AGE_SECONDS).set(oldest_age);
}

/// Records a reconciler poll.
pub fn reconciler_poll(result: PollResult) {
    metrics::counter!(RECONCILER_POLLS_TOTAL, "result" => result.as_str()).increment(1);
}

/// Records a transfer reported stuck.
pub fn reconciler_stuck() {
    metrics::counter!(RECONCILER_STUCK_TOTAL).increment(1);
}

/// Records a request the sandbox answered (`endpoint`: a name from the endpoint table,
/// `control` or `unknown`).
pub fn sandbox_request(endpoint: &'static str, status: u16) {
    let class = match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!(SANDBOX_REQUESTS_TOTAL, "endpoint" => endpoint, "status" => class)
        .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_prometheus_shaped() {
        let mut names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
        for metric in METRICS {
            assert!(metric.name.starts_with("imts_"), "{}", metric.name);
            assert!(
                metric
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                metric.name
            );
            let suffix_ok = match metric.kind {
                Kind::Counter => metric.name.ends_with("_total"),
                Kind::Histogram => metric.name.ends_with("_seconds"),
                Kind::Gauge => !metric.name.ends_with("_total"),
            };
            assert!(suffix_ok, "{} as a {:?}", metric.name, metric.kind);
        }
    }

    #[test]
    fn every_label_value_is_documented_in_its_help() {
        let documented = |name: &str, values: &[&str]| {
            let help = METRICS.iter().find(|m| m.name == name).unwrap().help;
            for value in values {
                assert!(help.contains(value), "{name}: `{value}` not in its help");
            }
        };
        macro_rules! values {
            ($name:expr, $labels:ty) => {
                documented(
                    $name,
                    &<$labels>::ALL
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>(),
                )
            };
        }
        values!(CLIENT_CALL_DURATION_SECONDS, CallOutcome);
        values!(CLIENT_RETRIES_TOTAL, RetryReason);
        values!(TOKEN_REFRESH_TOTAL, TokenResult);
        values!(CALLBACKS_RECEIVED_TOTAL, CallbackResult);
        values!(INBOX_RUNS_TOTAL, InboxRun);
        values!(RECONCILER_POLLS_TOTAL, PollResult);
    }

    #[test]
    fn raw_paths_are_never_labels() {
        let mut route = Endpoint::Status.route();
        assert_eq!(endpoint_label(&route), Endpoint::Status.spec().name);
        route.path = "/v5/partner/transfer/0c3f2a1e-customer-77012345678".into();
        assert_eq!(endpoint_label(&route), "raw");
    }
}
