//! `imts audit` over the journal `imts demo --journal` wrote: the chain verifies (exit 0, its
//! head printed), and a row edited or deleted directly in the SQLite file is named (exit 1).

use std::process::{Command, Output};

fn imts(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imts"))
        .args(args)
        .env_remove("IMTS_JOURNAL")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn verify_names_the_first_edited_or_deleted_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let journal = format!("sqlite:{}", path.display());
    let demo = imts(&["demo", "--journal", &journal]);
    assert_eq!(demo.status.code(), Some(0), "{}", text(&demo.stderr));

    let list = imts(&["audit", "list", "--journal", &journal]);
    assert_eq!(list.status.code(), Some(0), "{}", text(&list.stderr));
    let entries: Vec<serde_json::Value> = text(&list.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(entries.len() >= 4, "{entries:?}");
    let operations: Vec<&str> = entries
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert!(operations.contains(&"create_transfer"), "{operations:?}");
    assert!(
        entries.iter().all(|e| e["agent"].is_string()),
        "{entries:?}"
    );

    let intact = imts(&["audit", "verify", "--journal", &journal]);
    assert_eq!(intact.status.code(), Some(0), "{}", text(&intact.stderr));
    let head: serde_json::Value = serde_json::from_slice(&intact.stdout).unwrap();
    assert_eq!(head["intact"], true);
    assert_eq!(head["entries"], entries.len());
    let expect = head["head"].as_str().expect("SEQ:HASH").to_owned();

    // What an intruder with write access to the file can do: drop the guards, edit, delete.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    raw.execute("UPDATE audit_log SET outcome = 'refused' WHERE seq = 2", [])
        .unwrap();
    let edited = imts(&["audit", "verify", "--journal", &journal]);
    assert_eq!(edited.status.code(), Some(1), "{}", text(&edited.stderr));
    assert!(
        text(&edited.stderr).contains("entry 2"),
        "{}",
        text(&edited.stderr)
    );

    let original = entries[1]["outcome"].clone();
    raw.execute(
        "UPDATE audit_log SET outcome = ?1 WHERE seq = 2",
        [original.as_str()],
    )
    .unwrap();
    let restored = imts(&[
        "audit",
        "verify",
        "--journal",
        &journal,
        "--expect-head",
        &expect,
    ]);
    assert_eq!(
        restored.status.code(),
        Some(0),
        "{}",
        text(&restored.stderr)
    );

    raw.execute("DELETE FROM audit_log WHERE seq = 3", [])
        .unwrap();
    let deleted = imts(&["audit", "verify", "--journal", &journal]);
    assert_eq!(deleted.status.code(), Some(1), "{}", text(&deleted.stderr));
    assert!(
        text(&deleted.stderr).contains("entry 3"),
        "{}",
        text(&deleted.stderr)
    );
}
