//! `--metrics-addr` on the long-running commands, and `imts send`: notifications signed and
//! posted by `imts send` to `imts listen` show in its Prometheus counters (accepted, duplicate,
//! forged); `imts sandbox` counts the requests it answers.

mod common;

use std::process::Command;

use common::{answer, get, send, start, url_in, SECRET};
const NOTIFICATION: &str = r#"{"type":"status_update","notification_id":"n-metrics-1","transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","order_id":"ORD-M-1","status":"process","updated_at":"2026-12-02T10:00:00.000000Z"}"#;

/// The value of the sample `name{labels}` in a Prometheus text page.
fn sample(page: &str, series: &str) -> Option<u64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[test]
fn listen_counts_what_imts_send_posts() {
    let (_listen, urls) = start(
        &[
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
        &["metrics at", "accepting notifications"],
    );
    let (metrics, hook) = (url_in(&urls[0]), format!("{}/imts", url_in(&urls[1])));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("status_update.json");
    std::fs::write(&file, NOTIFICATION).unwrap();

    let first = send(&hook, &file, SECRET);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    assert_eq!(answer(&first)["status"], 200);
    let again = send(&hook, &file, SECRET);
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    let forged = send(&hook, &file, "not-the-secret");
    assert_eq!(forged.status.code(), Some(1), "{forged:?}");
    assert_eq!(answer(&forged)["status"], 401);

    let (status, page) = get(&metrics);
    assert_eq!(status, 200);
    let count = |result: &str| {
        sample(
            &page,
            &format!("imts_callbacks_received_total{{result=\"{result}\"}}"),
        )
    };
    assert_eq!(count("accepted"), Some(1), "{page}");
    assert_eq!(count("duplicate"), Some(1), "{page}");
    assert_eq!(count("forged"), Some(1), "{page}");
    assert!(
        page.contains("# HELP imts_callbacks_received_total"),
        "{page}"
    );
    assert!(!page.contains("n-metrics-1") && !page.contains("ORD-M-1"));
    assert_eq!(get(&metrics.replace("/metrics", "/other")).0, 404);
}

#[test]
fn the_sandbox_counts_the_requests_it_answers() {
    let (_sandbox, lines) = start(
        &[
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
        &["metrics at", "listening on", "IMTS_AGENT_ID="],
    );
    let (metrics, base_url) = (url_in(&lines[0]), url_in(&lines[1]));
    // `agent ID  IMTS_AGENT_ID=.. IMTS_AGENT_SECRET=.. IMTS_PARTNER_KEY=..`
    let env: Vec<(String, String)> = lines[2]
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let (_, before) = get(&metrics);
    let series = "imts_sandbox_requests_total{endpoint=\"agents\",status=\"2xx\"}";
    assert_eq!(sample(&before, series), None, "{before}");
    let call = Command::new(env!("CARGO_BIN_EXE_imts"))
        .args(["call", "agents", "--base-url", &base_url])
        .envs(env)
        .output()
        .unwrap();
    assert_eq!(call.status.code(), Some(0), "{call:?}");
    let (status, page) = get(&metrics);
    assert_eq!(status, 200, "{page}");
    assert_eq!(sample(&page, series), Some(1), "{page}");
}

#[test]
fn reconcile_serves_metrics_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let journal = format!("sqlite:{}", dir.path().join("journal.db").display());
    let (_reconcile, lines) = start(
        &[
            "reconcile",
            "--journal",
            &journal,
            "--base-url",
            "http://127.0.0.1:9",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
        &["metrics at"],
    );
    let (status, page) = get(&url_in(&lines[0]));
    assert_eq!(status, 200, "{page}");
}
