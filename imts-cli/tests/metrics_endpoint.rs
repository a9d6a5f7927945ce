//! `--metrics-addr` on the long-running commands, and `imts send`: notifications signed and
//! posted by `imts send` to `imts listen` show in its Prometheus counters (accepted, duplicate,
//! forged); `imts sandbox` counts the requests it answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

const SECRET: &str = "metrics-endpoint-secret";
const NOTIFICATION: &str = r#"{"type":"status_update","notification_id":"n-metrics-1","transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","order_id":"ORD-M-1","status":"process","updated_at":"2026-12-02T10:00:00.000000Z"}"#;

/// Kills the child however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `imts ARGS` and reads its stdout and stderr until a line holds each of `markers`;
/// gives those lines.
fn start(args: &[&str], markers: &[&str]) -> (Running, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_imts"))
        .args(args)
        .env("IMTS_AGENT_ID", "metrics-agent")
        .env("IMTS_AGENT_SECRET", SECRET)
        .env("IMTS_PARTNER_KEY", "ab".repeat(32))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    let streams: [Box<dyn Read + Send>; 2] = [
        Box::new(child.stdout.take().unwrap()),
        Box::new(child.stderr.take().unwrap()),
    ];
    for stream in streams {
        let lines = lines.clone();
        // Reads to the end, so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
    }
    let running = Running(child);
    let mut found = vec![String::new(); markers.len()];
    while found.iter().any(String::is_empty) {
        let line = received
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("imts {args:?} did not print {markers:?}: {e}"));
        for (marker, slot) in markers.iter().zip(found.iter_mut()) {
            if line.contains(marker) {
                slot.clone_from(&line);
            }
        }
    }
    (running, found)
}

/// The first `http://` word of a line, without a trailing `/`.
fn url_in(line: &str) -> String {
    line.split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line}"))
        .trim_end_matches('/')
        .to_owned()
}

/// `GET url` over a plain socket: the status and the body.
fn get(url: &str) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest.split_once('/').map_or((rest, "/"), |(a, p)| (a, p));
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        path.trim_start_matches('/')
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

/// The value of the sample `name{labels}` in a Prometheus text page.
fn sample(page: &str, series: &str) -> Option<u64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

fn send(to: &str, file: &std::path::Path, secret: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imts"))
        .args(["send", "--to", to, "--json"])
        .arg(file)
        .args(["--output", "json"])
        .env("IMTS_AGENT_SECRET", secret)
        .output()
        .unwrap()
}

fn answer(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
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
