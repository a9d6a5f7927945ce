//! Proof by killing: `imts demo --journal` runs life cycles against a sandbox and is killed with
//! SIGKILL at seeded points (after a seeded number of finished steps; with the sandbox's delay,
//! drop-after and 503 faults the kill lands mid-request, between the intent and the answer, or
//! after the outcome write); `imts journal resume` then resolves
//! what it left. No transfer is created twice (D), none the sandbox holds is missing from the
//! journal (L), and nothing but a Create person/business (which has no key to look up by) stays
//! open (U). Ends with one line `CRASH cycles=N kills=K duplicates=D lost=L unresolved=U`.
//!
//! `IMTS_CRASH_CYCLES` (default 6) and `IMTS_CRASH_SEED` set the run; `scripts/crash-test.sh`
//! runs long ones.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use std::time::Duration;

use imts_sandbox::{AgentConfig, BackgroundSandbox, FaultKind, FaultRule, SandboxConfig};

const KEY: &str = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";
const ENV: [(&str, &str); 3] = [
    ("IMTS_AGENT_ID", "crash-agent"),
    ("IMTS_AGENT_SECRET", "crash-secret"),
    ("IMTS_PARTNER_KEY", KEY),
];

fn imts() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imts"));
    for var in ["IMTS_BASE_URL", "IMTS_JOURNAL"] {
        cmd.env_remove(var);
    }
    cmd.envs(ENV);
    cmd
}

/// A small seeded generator (the kill points must repeat for a seed).
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Which backends this run covers: `IMTS_CRASH_JOURNAL` (`sqlite`, `postgres`), default both.
fn wanted(backend: &str) -> bool {
    std::env::var("IMTS_CRASH_JOURNAL").map_or(true, |only| only == backend)
}

#[test]
fn killed_life_cycles_resume_on_sqlite() {
    if !wanted("sqlite") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let journal = format!("sqlite:{}", dir.path().join("journal.db").display());
    crash_run("sqlite", &journal, env_number("IMTS_CRASH_CYCLES", 6));
}

#[test]
fn killed_life_cycles_resume_on_postgres() {
    if !wanted("postgres") {
        return;
    }
    let Some(server) = imts_postgres::test_server::PostgresServer::start() else {
        return;
    };
    crash_run(
        "postgres",
        &server.url(),
        env_number("IMTS_CRASH_CYCLES", 4),
    );
}

fn crash_run(backend: &str, journal: &str, cycles: u64) {
    let seed = env_number("IMTS_CRASH_SEED", 20_261_201);
    eprintln!("crash test on {backend}: {cycles} cycles, seed {seed} (IMTS_CRASH_SEED to repeat)");
    let agent = AgentConfig::parse(&format!("crash-agent:crash-secret:{KEY}")).unwrap();
    // Faults so that kills land mid-request (slow answers) and calls end uncertain (answers
    // dropped after the sandbox applied them) or refused for a while (503).
    let fault = |kind, rate| FaultRule {
        endpoint: "*".into(),
        kind,
        rate,
        times: None,
    };
    let sandbox = BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent],
        faults: vec![
            fault(FaultKind::Delay(Duration::from_millis(15)), 0.5),
            fault(FaultKind::DropAfter, 0.05),
            fault(FaultKind::Unavailable, 0.05),
        ],
        seed,
        ..SandboxConfig::default()
    })
    .unwrap();
    let base = sandbox.base_url();
    let mut rng = seed;
    let mut kills = 0;
    for cycle in 0..cycles {
        // The demo prints one line per finished step; kill after a seeded number of them.
        let kill_after = next(&mut rng) % 20;
        let mut child = imts()
            .args([
                "demo",
                "--base-url",
                base,
                "--journal",
                journal,
                "--output",
                "json",
            ])
            .args([
                "--transport",
                if cycle % 2 == 0 { "blocking" } else { "async" },
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = 0;
        let mut killed = false;
        for line in BufReader::new(stdout).lines() {
            if line.is_err() {
                break;
            }
            lines += 1;
            if lines > kill_after {
                child.kill().unwrap(); // SIGKILL
                killed = true;
                break;
            }
        }
        kills += u64::from(killed);
        child.wait().unwrap();
        let resumed = imts()
            .args([
                "journal",
                "resume",
                "--journal",
                journal,
                "--base-url",
                base,
            ])
            .output()
            .unwrap();
        let code = resumed.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "cycle {cycle} (seed {seed}): resume exit {code:?}: {}",
            String::from_utf8_lossy(&resumed.stderr)
        );
    }

    let listed = imts()
        .args(["journal", "list", "--journal", journal])
        .output()
        .unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let journaled: BTreeSet<&str> = records
        .iter()
        .filter_map(|r| r["order_id"].as_str())
        .collect();
    let per_order = sandbox.stats().transfers_per_order_id;
    let duplicates = per_order.values().filter(|n| **n > 1).count();
    let lost = per_order
        .keys()
        .filter(|order| !journaled.contains(order.as_str()))
        .count();
    let open: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| !matches!(r["state"].as_str(), Some("applied" | "refused")))
        .collect();
    let unresolved = open
        .iter()
        .filter(|r| {
            !matches!(
                r["operation"].as_str(),
                Some("create_person" | "create_business")
            )
        })
        .count();
    println!(
        "CRASH journal={backend} cycles={cycles} kills={kills} duplicates={duplicates} lost={lost} unresolved={unresolved} needs_person={}",
        open.len() - unresolved
    );
    assert_eq!(
        (duplicates, lost, unresolved),
        (0, 0, 0),
        "seed {seed}: {per_order:?} {open:?}"
    );
    assert!(!per_order.is_empty(), "the cycles created transfers");
}
