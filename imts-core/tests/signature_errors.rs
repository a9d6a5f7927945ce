//! What canonicalization and verification report when they refuse: the exact nesting bound,
//! the kind of a body that is not an object, repeated query keys, and what a mismatch shows
//! (the expected message, secret masked) and hides (values in `Debug`).

use imts_core::signature::{CanonicalError, CanonicalParams, MAX_DEPTH};
use imts_crypto::{AgentSecret, Signer};

/// `{"k":{"k":...{"k":1}...}}` with `levels` objects around the innermost value.
fn nested(levels: usize) -> String {
    let mut body = "1".to_owned();
    for _ in 0..levels {
        body = format!(r#"{{"k":{body}}}"#);
    }
    body
}

#[test]
fn nesting_is_refused_exactly_past_max_depth() {
    // A value MAX_DEPTH keys down (`k.k. ... .k`, MAX_DEPTH of them) is allowed; one more is not.
    let deepest = nested(MAX_DEPTH);
    let params = CanonicalParams::from_json(deepest.as_bytes()).unwrap();
    let key = vec!["k"; MAX_DEPTH].join(".");
    assert_eq!(params.pairs(), [(key, "1".to_owned())]);
    assert_eq!(
        CanonicalParams::from_json(nested(MAX_DEPTH + 1).as_bytes()),
        Err(CanonicalError::TooDeep)
    );
}

#[test]
fn a_body_that_is_not_an_object_is_named_by_its_kind() {
    for (body, kind) in [
        ("[1]", "an array"),
        (r#""text""#, "a string"),
        ("true", "a boolean"),
        ("false", "a boolean"),
        ("null", "null"),
        ("12", "a number or invalid text"),
        ("  [1]", "an array"),
    ] {
        assert_eq!(
            CanonicalParams::from_json(body.as_bytes()),
            Err(CanonicalError::NotAnObject(kind.to_owned())),
            "{body}"
        );
    }
}

#[test]
fn a_query_key_given_twice_is_refused_and_distinct_keys_are_sorted() {
    assert_eq!(
        CanonicalParams::from_query("b=1&a=2&b=3"),
        Err(CanonicalError::DuplicateKey("b".to_owned()))
    );
    let params = CanonicalParams::from_query("b=1&a=x%20y&c=").unwrap();
    assert_eq!(
        params.pairs(),
        [
            ("a".to_owned(), "x y".to_owned()),
            ("b".to_owned(), "1".to_owned())
        ]
    );
}

#[test]
fn a_mismatch_gives_the_expected_message_and_debug_shows_no_values() {
    let signer = Signer::new(AgentSecret::new("a-secret").unwrap());
    let params = CanonicalParams::from_query("phone=77011234567&amount=100.50").unwrap();
    let mismatch = params.verify(&signer, &"0".repeat(64)).unwrap_err();
    assert_eq!(mismatch.expected_message(), "100.50;77011234567;***");
    assert_eq!(format!("{mismatch:?}"), "SignatureMismatch");
    assert_eq!(mismatch.to_string(), "pg_sig does not match");
    let debug = format!("{params:?}");
    assert_eq!(debug, r#"CanonicalParams { keys: ["amount", "phone"] }"#);
    assert!(params
        .verify(&signer, params.sign(&signer).as_str())
        .is_ok());
}
