//! `imts sandbox --scenario`: the same file and seed give a byte-identical event log; another
//! seed gives other ids; a bad step is a usage error naming it.

use std::process::{Command, Output};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/scenario.toml");

fn scenario(file: &str, seed: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imts"))
        .args(["sandbox", "--scenario", file, "--seed", seed])
        .output()
        .unwrap()
}

#[test]
fn the_same_file_and_seed_give_the_same_log() {
    let first = scenario(SCENARIO, "7");
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let again = scenario(SCENARIO, "7");
    assert_eq!(first.stdout, again.stdout, "byte-identical");
    let other = scenario(SCENARIO, "8");
    assert_ne!(first.stdout, other.stdout, "ids come from the seed");

    let log = String::from_utf8(first.stdout).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let steps = lines.iter().filter(|l| l.get("step").is_some()).count();
    assert_eq!(steps, 6, "{log}");
    // Exact amounts, the frozen clock, and every notification signed.
    assert!(log.contains(r#""amount_source":100.00"#), "{log}");
    assert!(log.contains(r#""amount_source":55.50"#), "{log}");
    assert!(
        !log.contains(r#""amount_source":100.0,"#),
        "the control API's answers keep the digits too: {log}"
    );
    let statuses: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.get("payload"))
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["new", "process", "process", "new", "error"],
        "{log}"
    );
    assert!(lines
        .iter()
        .filter_map(|l| l.get("payload"))
        .all(|p| p["pg_sig"].as_str().is_some_and(|s| s.len() == 64)));
}

#[test]
fn a_bad_step_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[[step]]\ndo = \"advance\"\norder_id = \"ORD-X\"\nto = \"process\"\n",
    )
    .unwrap();
    let bad = scenario(file.to_str().unwrap(), "1");
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("step 1") && stderr.contains("ORD-X"),
        "{stderr}"
    );
}
