//! `imts demo` with both transports, with and without `--base-url`; `imts sandbox` as a process;
//! `imts call` against it, with its exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

const KEY: &str = "abababababababababababababababababababababababababababababababab";

fn imts(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imts"));
    cmd.args(args);
    for var in [
        "IMTS_AGENT_ID",
        "IMTS_AGENT_SECRET",
        "IMTS_PARTNER_KEY",
        "IMTS_BASE_URL",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `imts sandbox` on a free port; killed when dropped.
struct SandboxProcess {
    child: Child,
    url: String,
    // Kept open: the sandbox may still be printing.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl SandboxProcess {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_imts"))
            .args([
                "sandbox",
                "--listen",
                "127.0.0.1:0",
                "--agent",
                &format!("agent-x:sek-ret:{KEY}"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        let url = first.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{first}");
        Self {
            child,
            url,
            _stdout: stdout,
        }
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ENV: [(&str, &str); 3] = [
    ("IMTS_AGENT_ID", "agent-x"),
    ("IMTS_AGENT_SECRET", "sek-ret"),
    ("IMTS_PARTNER_KEY", KEY),
];

#[test]
fn demo_against_the_embedded_sandbox_with_both_transports() {
    for transport in ["async", "blocking"] {
        let out = imts(&["demo", "--transport", transport], &[]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{transport}: {stdout}{}",
            text(&out.stderr)
        );
        assert!(
            stdout
                .lines()
                .last()
                .unwrap()
                .starts_with("done: 2 transfers (first success, second canceled), 18 calls"),
            "{stdout}"
        );
        assert!(!stdout.contains("FAIL"));
    }
}

#[test]
fn demo_and_call_against_a_sandbox_process() {
    let sandbox = SandboxProcess::start();
    for transport in ["async", "blocking"] {
        let out = imts(
            &[
                "demo",
                "--base-url",
                &sandbox.url,
                "--transport",
                transport,
                "--output",
                "json",
            ],
            &ENV,
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let last: serde_json::Value =
            serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
        assert_eq!(
            (
                last["first"].as_str(),
                last["second"].as_str(),
                last["ok"].as_bool()
            ),
            (Some("success"), Some("canceled"), Some(true))
        );
    }

    let fees = imts(
        &[
            "call",
            "fees",
            "--base-url",
            &sandbox.url,
            "--output",
            "json",
            "originator_type=person",
            "target_country=UZB",
            "currency_source=KZT",
            "currency_target=UZS",
            "--json",
            "-",
        ],
        &ENV,
    );
    // --json - with no stdin piped reads an empty object; the amount is then missing: a 422.
    assert_eq!(fees.status.code(), Some(3), "{}", text(&fees.stderr));
    assert!(
        text(&fees.stderr).contains("amount_source"),
        "{}",
        text(&fees.stderr)
    );

    // Typed by the endpoint: the amount goes as a JSON number, exactly as written.
    let typed = imts(
        &[
            "call",
            "fees",
            "--base-url",
            &sandbox.url,
            "--output",
            "json",
            "originator_type=person",
            "target_country=UZB",
            "amount_source=100.00",
            "currency_source=KZT",
            "currency_target=UZS",
        ],
        &ENV,
    );
    assert_eq!(typed.status.code(), Some(0), "{}", text(&typed.stderr));
    // Read as text: the answer's numbers are exact decimals (a JSON value would round them).
    let answer = text(&typed.stdout);
    assert!(answer.contains(r#""fee":1.00"#), "1 % of 100.00: {answer}");
    let bad = imts(
        &[
            "call",
            "fees",
            "--base-url",
            &sandbox.url,
            "originator_type=person",
            "amount_source=abc",
        ],
        &ENV,
    );
    assert_eq!(bad.status.code(), Some(2), "a usage error, before any I/O");
    assert!(
        text(&bad.stderr).contains("amount_source"),
        "{}",
        text(&bad.stderr)
    );

    let dir = std::env::temp_dir().join(format!("imts-call-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("fees.json");
    std::fs::write(
        &body,
        r#"{"amount_source":100.50,"originator_type":"person"}"#,
    )
    .unwrap();
    let fees = imts(
        &[
            "call",
            "fees",
            "--base-url",
            &sandbox.url,
            "--output",
            "json",
            "--json",
            body.to_str().unwrap(),
            "target_country=UZB",
            "currency_source=KZT",
            "currency_target=UZS",
        ],
        &ENV,
    );
    assert_eq!(fees.status.code(), Some(0), "{}", text(&fees.stderr));
    let stdout = text(&fees.stdout);
    assert!(
        stdout.contains(r#""amount_source":100.50"#) && stdout.contains(r#""fee":1.00"#),
        "{stdout}"
    );

    let missing = imts(
        &[
            "call",
            "status",
            "--base-url",
            &sandbox.url,
            "order_id=nope",
        ],
        &ENV,
    );
    assert_eq!(missing.status.code(), Some(3));
    assert_eq!(text(&missing.stderr).lines().count(), 1);
    assert!(text(&missing.stderr).contains("not_found"));

    let raw = imts(
        &[
            "call",
            "raw",
            "GET",
            "agents",
            "--base-url",
            &sandbox.url,
            "--output",
            "json",
        ],
        &ENV,
    );
    assert_eq!(raw.status.code(), Some(0), "{}", text(&raw.stderr));
    assert!(text(&raw.stdout).contains("agent-x"));

    let wrong = imts(
        &["call", "status", "--base-url", &sandbox.url, "order_id=x"],
        &[
            ("IMTS_AGENT_ID", "agent-x"),
            ("IMTS_AGENT_SECRET", "wrong"),
            ("IMTS_PARTNER_KEY", KEY),
        ],
    );
    assert_eq!(wrong.status.code(), Some(3));
    assert!(!text(&wrong.stderr).contains("wrong\""));
}

#[test]
fn usage_and_transport_errors_have_their_exit_codes() {
    let no_env = imts(&["demo", "--base-url", "http://127.0.0.1:9"], &[]);
    assert_eq!(no_env.status.code(), Some(2));
    assert!(text(&no_env.stderr).contains("IMTS_AGENT_ID"));
    let unknown = imts(
        &["call", "teleport", "--base-url", "http://127.0.0.1:9"],
        &ENV,
    );
    assert_eq!(unknown.status.code(), Some(2));
    let refused = imts(
        &[
            "call",
            "status",
            "--base-url",
            "http://127.0.0.1:9",
            "order_id=x",
        ],
        &ENV,
    );
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused.stderr));
    assert_eq!(text(&refused.stderr).lines().count(), 1);
    let help = imts(&["--help"], &[]);
    assert!(text(&help.stdout).contains("Exit codes:"));
}

/// `imts reconcile --once`: a transfer moved outside the journal (a desk's Confirm) is polled,
/// printed as one JSON line with its new status, and merged; a second sweep prints nothing.
#[test]
fn reconcile_once_prints_what_changed_and_merges_it() {
    let sandbox = SandboxProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let journal_url = format!("sqlite:{}", path.display());
    let credentials = imts::Credentials::new(
        "agent-x".parse().unwrap(),
        imts::AgentSecret::new("sek-ret").unwrap(),
    )
    .with_partner_key(imts::PartnerKey::parse(KEY).unwrap());
    let builder = || imts::ClientBuilder::new(credentials.clone()).base_url(&sandbox.url);
    {
        let journal = std::sync::Arc::new(imts::stores::SqliteJournal::open(&path).unwrap());
        let journaled = builder().journal(journal).build_blocking().unwrap();
        let desk = builder().build_blocking().unwrap();
        let person = desk
            .create_person(&imts_sandbox::samples::create_person("Cli").unwrap())
            .unwrap();
        let created = journaled
            .create_transfer(
                &imts_sandbox::samples::create_transfer(&person.client_uuid, "CLI-REC-1").unwrap(),
            )
            .unwrap();
        desk.confirm(&imts::models::ConfirmRequest::new(created.transfer_id))
            .unwrap();
    }
    let args = [
        "reconcile",
        "--journal",
        &journal_url,
        "--base-url",
        &sandbox.url,
        "--once",
    ];
    let first = imts(&args, &ENV);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let lines: Vec<serde_json::Value> = text(&first.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["order_id"], "CLI-REC-1");
    assert_eq!(
        (&lines[0]["from"], &lines[0]["status"]),
        (&"new".into(), &"process".into())
    );
    let second = imts(&args, &ENV);
    assert_eq!(second.status.code(), Some(0));
    assert_eq!(text(&second.stdout), "", "nothing changed since");
}
