//! `imts sign`, `verify`, `encrypt`, `decrypt` as a user runs them, including malformed input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn imts(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imts"));
    cmd.args(args)
        .env_remove("IMTS_AGENT_SECRET")
        .env_remove("IMTS_PARTNER_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    // The command may exit before reading stdin (a usage error): a broken pipe is expected then.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}
fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

const SECRET: (&str, &str) = ("IMTS_AGENT_SECRET", "s3cr3t-Agent-Key");
const KEY_HEX: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const FEES: &str = r#"{"originator_type":"person","target_country":"KAZ","amount_source":100.00,"currency_source":"KZT","currency_target":"UZS"}"#;
const FEES_SIG: &str = "7a3827c88ff2f480b761ba6acbf2bf6349c54c225faf3615003c63c4c70fa73e";

#[test]
fn sign_from_stdin_json_keeps_exact_digits() {
    let out = imts(
        &["sign", "--json", "-", "--show-message"],
        &[SECRET],
        FEES.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().last().unwrap(), FEES_SIG);
    assert!(text.contains("100.00;KZT;UZS;person;KAZ;***"));
    assert!(!text.contains("s3cr3t"));
}

#[test]
fn json_output_for_scripts() {
    let out = imts(
        &["sign", "--json", "-", "--output", "json"],
        &[SECRET],
        FEES.as_bytes(),
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["pg_sig"], FEES_SIG);
    assert_eq!(value["message"], "100.00;KZT;UZS;person;KAZ;***");
    let key = [("IMTS_PARTNER_KEY", KEY_HEX)];
    let sealed = imts(&["encrypt", "--output", "json"], &key, b"{\"a\":1}");
    let sealed: serde_json::Value = serde_json::from_slice(&sealed.stdout).unwrap();
    let envelope = sealed["encrypted_data"].as_str().unwrap().to_owned();
    let opened = imts(&["decrypt", "--output", "json"], &key, envelope.as_bytes());
    let opened: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    assert_eq!(opened["plaintext"], "{\"a\":1}");
}

#[test]
fn sign_from_key_values() {
    let out = imts(
        &[
            "sign",
            "amount_from=100.50",
            "currency_code_from=USD",
            "order_id=ORD123456",
            "receiver_country=KZ",
            "transfer_purpose=Family support",
            "transfer_type=send",
        ],
        &[("IMTS_AGENT_SECRET", "agent_secret")],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "ae5432e55ceeb0884928d7ad064df14a43d331b4463c0fef07cfd0108a59a930"
    );
}

#[test]
fn verify_match_and_mismatch() {
    let ok = imts(
        &["verify", "--sig", FEES_SIG, "--json", "-"],
        &[SECRET],
        FEES.as_bytes(),
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let bad = imts(
        &["verify", "--sig", &"0".repeat(64), "--json", "-"],
        &[SECRET],
        FEES.as_bytes(),
    );
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(err.contains("100.00;KZT;UZS;person;KAZ;***"), "{err}");
    assert!(!err.contains("s3cr3t"));
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a [u8]);
    let cases: [Case<'_>; 5] = [
        (&["sign", "a=1"], &[], b""),
        (&["sign", "--json", "-"], &[SECRET], b"{\"a\":"),
        (&["sign", "--json", "-"], &[SECRET], b"[1,2]"),
        (&["sign", "novalue"], &[SECRET], b""),
        (&["encrypt"], &[("IMTS_PARTNER_KEY", "short")], b"x"),
    ];
    for (args, env, stdin) in cases {
        let out = imts(args, env, stdin);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).lines().count(),
            1,
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"));
    }
    let missing = imts(&["sign", "a=1"], &[], b"");
    assert!(stderr(&missing).contains("IMTS_AGENT_SECRET"));
}

#[test]
fn encrypt_then_decrypt_in_both_packings() {
    let plaintext = r#"{"first_name":"Айгерим","document_number":"N1234567"}"#;
    for flag in [None, Some("--mac")] {
        let mut enc_args = vec!["encrypt"];
        let mut dec_args = vec!["decrypt"];
        if let Some(f) = flag {
            enc_args.push(f);
            dec_args.push(f);
        }
        let key = [("IMTS_PARTNER_KEY", KEY_HEX)];
        let sealed = imts(&enc_args, &key, plaintext.as_bytes());
        assert!(sealed.status.success(), "{}", stderr(&sealed));
        let opened = imts(&dec_args, &key, &sealed.stdout);
        assert!(opened.status.success(), "{}", stderr(&opened));
        assert_eq!(stdout(&opened), plaintext);
    }
}

#[test]
fn decrypt_failures_exit_1_without_panic() {
    let key = [("IMTS_PARTNER_KEY", KEY_HEX)];
    for garbage in [
        &b"%%%not-base64%%%"[..],
        b"",
        b"AAECAwQFBgcICQoLDA0OD8bfDkV4JSdGYhvdfKAnLw==",
        &[0xff, 0xfe],
    ] {
        let out = imts(&["decrypt"], &key, garbage);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1);
        assert!(out.stdout.is_empty());
    }
}
