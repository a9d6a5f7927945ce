//! Helpers of the tests that run long-lived `imts` commands: start one and read the addresses it
//! prints, and a plain-socket GET.

#![allow(dead_code)] // Each test binary uses its own part.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

/// IMTS_AGENT_SECRET of the commands `start` runs.
pub const SECRET: &str = "metrics-endpoint-secret";

/// Kills the child however the test ends.
pub struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `imts ARGS` and reads its stdout and stderr until a line holds each of `markers`;
/// gives those lines.
pub fn start(args: &[&str], markers: &[&str]) -> (Running, Vec<String>) {
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
pub fn url_in(line: &str) -> String {
    line.split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line}"))
        .trim_end_matches('/')
        .to_owned()
}

/// `GET url` over a plain socket: the status and the body.
pub fn get(url: &str) -> (u16, String) {
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

/// `imts send --to TO --json FILE --output json` signed with `secret`.
pub fn send(to: &str, file: &std::path::Path, secret: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imts"))
        .args(["send", "--to", to, "--json"])
        .arg(file)
        .args(["--output", "json"])
        .env("IMTS_AGENT_SECRET", secret)
        .output()
        .unwrap()
}

/// The JSON line `imts send --output json` printed.
pub fn answer(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}
