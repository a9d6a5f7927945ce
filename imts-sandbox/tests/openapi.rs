//! `openapi/imts.yaml` is generated from the code: this test regenerates it and fails when the
//! checked-in file differs. `IMTS_BLESS=1 cargo test -p imts-sandbox --test openapi` rewrites it.

use std::path::PathBuf;

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/imts.yaml")
}

#[test]
fn the_checked_in_document_is_the_generated_one() {
    let generated = imts_sandbox::openapi::document();
    let path = checked_in();
    if std::env::var_os("IMTS_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write openapi/imts.yaml");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    if on_disk != generated {
        let line = on_disk
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| "the length".to_owned(), |i| format!("line {}", i + 1));
        panic!(
            "openapi/imts.yaml is out of date (first difference: {line}); regenerate it with \
             IMTS_BLESS=1 cargo test -p imts-sandbox --test openapi"
        );
    }
}

#[test]
fn every_endpoint_is_an_operation_and_every_inferred_one_is_marked() {
    let document = imts_sandbox::openapi::document();
    for spec in imts_core::ENDPOINTS.iter() {
        let path = format!("  {}/{}:", imts_core::endpoint::PATH_PREFIX, spec.path);
        assert!(document.contains(&path), "{path}");
    }
    assert_eq!(document.matches("\n      operationId: ").count(), 17 + 8);
    let inferred = imts_sandbox::openapi::operations::OPERATIONS
        .iter()
        .filter(|o| o.inferred.is_some())
        .count();
    assert_eq!(inferred, 16, "all but Get token carry a graded inference");
    assert!(document.contains("webhooks:\n  statusUpdate:\n"));
    assert!(document.contains("x-imts-signature:\n"));
}
