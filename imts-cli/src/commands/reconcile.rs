//! `imts reconcile`: poll the journal's created transfers that are not final, the safety net for
//! callbacks IMTS stopped retrying. `--once` sweeps every one now and exits (for cron); without
//! it the schedule runs until interrupted.

use std::time::Duration;

use clap::Args;
use imts::reconcile::{Mode, Planner, ReconcileEvent, Schedule};
use imts::types::Timestamp;
use serde_json::json;
use time::OffsetDateTime;

use crate::client::{client, credentials_from_env, Transport};
use crate::exit::CliError;

/// Arguments of `imts reconcile`.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The journal (`sqlite:PATH` or a `postgres://` URL).
    #[arg(long, value_name = "URL", env = "IMTS_JOURNAL")]
    journal: String,
    /// The server (credentials from IMTS_AGENT_ID, IMTS_AGENT_SECRET, IMTS_PARTNER_KEY).
    #[arg(long, value_name = "URL", env = "IMTS_BASE_URL")]
    base_url: String,
    /// Poll every non-final transfer now, whatever the schedule, then exit.
    #[arg(long)]
    once: bool,
    /// At most this many polls a second.
    #[arg(long, default_value_t = 5, value_name = "N")]
    max_polls_per_second: u32,
    /// Hours after a transfer's last change before it is reported stuck.
    #[arg(long, default_value_t = 72, value_name = "HOURS")]
    horizon_hours: u64,
    /// Seed of the schedule's jitter (the same on every instance of a fleet).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Which client to use.
    #[arg(long, value_enum, default_value = "blocking")]
    transport: Transport,
    #[command(flatten)]
    metrics: crate::metrics_endpoint::MetricsArgs,
}

/// An event as a JSON line (ids and statuses only: never personal data).
fn line(event: &ReconcileEvent) -> serde_json::Value {
    match event {
        ReconcileEvent::Changed {
            key,
            transfer_id,
            from,
            to,
        } => json!({
            "event": "changed", "order_id": key.0, "transfer_id": transfer_id,
            "from": from.as_ref().map(|s| s.as_str()), "status": to.as_str(),
        }),
        ReconcileEvent::Stuck {
            key,
            transfer_id,
            status,
            since,
        } => json!({
            "event": "stuck", "order_id": key.0, "transfer_id": transfer_id,
            "status": status.as_ref().map(|s| s.as_str()), "since": since,
        }),
        ReconcileEvent::PollFailed { key, reason } => {
            json!({"event": "poll_failed", "order_id": key.0, "reason": reason})
        }
        _ => json!({"event": "unknown"}),
    }
}

fn now() -> Timestamp {
    Timestamp::new(OffsetDateTime::now_utc())
}

/// Runs `imts reconcile`.
///
/// # Errors
/// A usage error for a bad journal URL or flag; the journal's or the API's failure.
pub fn run(args: &ReconcileArgs) -> Result<(), CliError> {
    if args.max_polls_per_second == 0 {
        return Err(CliError::usage("--max-polls-per-second must be at least 1"));
    }
    let client = client(
        args.transport,
        credentials_from_env()?,
        imts::Config::new(&args.base_url),
        Some(&args.journal),
    )?;
    args.metrics.start()?;
    let schedule = Schedule::default()
        .with_horizon(Duration::from_secs(args.horizon_hours.saturating_mul(3600)))
        .with_max_polls_per_second(args.max_polls_per_second);
    let mut planner = Planner::new(schedule, args.seed);
    let mode = if args.once {
        Mode::Every { since: now() }
    } else {
        Mode::Scheduled
    };
    loop {
        let at = now();
        let report = client
            .reconcile_once(&mut planner, at, mode)
            .map_err(|e| CliError::from_api(&e))?;
        for event in &report.events {
            if args.once && !matches!(event, ReconcileEvent::Changed { .. }) {
                // `--once` prints what changed; the rest goes to the log.
                eprintln!("{}", line(event));
                continue;
            }
            println!("{}", line(event));
        }
        if args.once && report.deferred == 0 {
            return Ok(());
        }
        let pause = report.next.map_or(Duration::from_secs(60), |next| {
            Duration::try_from(next.as_offset_date_time() - at.as_offset_date_time())
                .unwrap_or(Duration::ZERO)
        });
        std::thread::sleep(pause.clamp(Duration::from_millis(100), Duration::from_secs(60)));
    }
}
