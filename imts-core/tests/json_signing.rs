//! `sign_json`/`verify_json` against a reference built from other crates: for any body, the
//! signature is the `hmac` crate's HMAC-SHA256 over the canonical values (as `CanonicalParams`
//! lists them) joined by `;` with the secret appended, and the values are those of an independent
//! flattening through `serde_json::Value`. A body one refuses, the other refuses too.

use hmac::{Hmac, KeyInit, Mac};
use imts_core::signature::{sign_json, verify_json, CanonicalParams};
use imts_crypto::{AgentSecret, Signer};
use proptest::prelude::*;
use sha2::Sha256;

const SECRET: &str = "s3cr3t";

fn signer() -> Signer {
    Signer::new(AgentSecret::new(SECRET).unwrap())
}

/// The `hmac` crate's lowercase-hex HMAC of `values;...;secret`.
fn reference_signature<'v>(values: impl Iterator<Item = &'v str>) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    for value in values {
        mac.update(value.as_bytes());
        mac.update(b";");
    }
    mac.update(SECRET.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The canonical leaves by an independent route: `serde_json::Value` (numbers compared by their
/// value, as `Value` does not keep their text), flattened recursively and sorted.
fn reference_leaves(value: &serde_json::Value, key: Option<&str>, out: &mut Vec<(String, String)>) {
    let join = |k: &str| match key {
        None => k.to_owned(),
        Some(parent) => format!("{parent}.{k}"),
    };
    let leaf = key.unwrap_or_default().to_owned();
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if !(key.is_none() && k == "pg_sig") {
                    reference_leaves(v, Some(&join(k)), out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                reference_leaves(v, Some(&join(&i.to_string())), out);
            }
        }
        serde_json::Value::String(s) if s.is_empty() => {}
        serde_json::Value::String(s) => out.push((leaf, s.clone())),
        serde_json::Value::Bool(b) => out.push((leaf, u8::from(*b).to_string())),
        serde_json::Value::Null => {}
        serde_json::Value::Number(n) => out.push((leaf, n.to_string())),
    }
}

fn assert_same(body: &[u8]) {
    let signer = signer();
    let signed = sign_json(body, &signer);
    let params = CanonicalParams::from_json(body);
    assert_eq!(
        signed.is_ok(),
        params.is_ok(),
        "body: {:?}",
        String::from_utf8_lossy(body)
    );
    if let Ok(params) = &params {
        assert_eq!(
            signed.as_ref().unwrap().as_str(),
            reference_signature(params.values()),
            "body: {:?}",
            String::from_utf8_lossy(body)
        );
        // Keys and string values by the independent route; numbers by value.
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            let mut leaves = Vec::new();
            reference_leaves(&value, None, &mut leaves);
            leaves.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            let ours = params.pairs();
            assert_eq!(
                leaves.len(),
                ours.len(),
                "body: {:?}",
                String::from_utf8_lossy(body)
            );
            for ((rk, rv), (k, v)) in leaves.iter().zip(ours) {
                assert_eq!(rk, k);
                let same_number = match (rv.parse::<f64>(), v.parse::<f64>()) {
                    // serde_json's float parsing may differ in the last digit.
                    (Ok(a), Ok(b)) => {
                        a == b
                            || (a - b).abs() <= a.abs().max(b.abs()) * 1e-12
                            || (a.is_infinite() && b.is_infinite())
                    }
                    _ => false,
                };
                assert!(rv == v || same_number, "{rk}: {rv} vs {v}");
            }
        }
    }
    if let Ok(signature) = signed {
        assert!(verify_json(body, &signer, signature.as_str()).is_ok());
        let mut wrong = signature.as_str().to_owned();
        wrong.replace_range(..1, if wrong.starts_with('0') { "1" } else { "0" });
        assert!(verify_json(body, &signer, &wrong).is_err());
    }
}

#[test]
fn edge_cases_agree() {
    let bodies: &[&str] = &[
        "{}",
        " {} ",
        "\x0c{\"a\":1}\x0c",
        "{\"a\":1}x",
        "{\"a\":1,}",
        "{\"a\" : 1 , \"b\":\t\"x\"\r\n}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":-}",
        "{\"a\":-0}",
        "{\"a\":1e5}",
        "{\"a\":1E+05}",
        "{\"a\":1.50e-3}",
        "{\"a\":123456789012345678901234567890.000}",
        "{\"a\":.5}",
        "{\"a\":+1}",
        "{\"a\":true,\"b\":false,\"c\":null,\"d\":\"\"}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"b\":\"x\",\"a\":\"y\",\"B\":\"z\"}",
        "{\"a\":1,\"a\":2}",
        "{\"pg_sig\":\"abc\",\"a\":\"1\"}",
        "{\"pg_sig\":{\"x\":1},\"a\":\"1\"}",
        "{\"a\":\"caf\u{e9} \u{1F600}\"}",
        "{\"a\":\"line\\nbreak\"}",
        "{\"k\\u0065y\":\"v\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":{\"b\":1}}",
        "{\"a\":[1,2]}",
        "{\"a\":[]}",
        "{\"a\":1",
        "{\"a\"1}",
        "{a:1}",
        "[1]",
        "",
        "   ",
        // Keys sharing their first 8 or 16 bytes, and keys ending near the end of the body.
        "{\"currency_target\":\"UZS\",\"currency_source\":\"KZT\",\"currency\":1}",
        "{\"destination_type\":\"phone\",\"destination_identifier\":\"9989\"}",
        "{\"destination_identifier_b\":1,\"destination_identifier_a\":2}",
        "{\"abcdefghijklmnopq\":1}",
        "{\"abcdefghij\":1}",
        "{\"k\":1}",
        // Control characters between tokens and inside a string; a backslash outside one.
        "{\"a\":\"x\",\n\"b\":\"tab\there\"}",
        "{\"a\":\"x\",\n\"b\":\"fine\"}",
        "{\"a\"\\:1}",
    ];
    for body in bodies {
        assert_same(body.as_bytes());
    }
    let many: String = format!(
        "{{{}}}",
        (0..40)
            .map(|i| format!("\"k{i:02}\":{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_same(many.as_bytes());
    assert_same(&[b'{', b'"', b'a', b'"', b':', b'"', 0xff, b'"', b'}']);
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        "\\PC{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?",
        "[-+.0-9eE]{1,6}",
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("null".to_owned()),
        Just("\"\"".to_owned()),
        Just("{\"x\":1}".to_owned()),
        Just("[]".to_owned()),
    ]
}

proptest! {
    #[test]
    fn any_object_signs_as_the_reference_does(
        fields in proptest::collection::vec(
            ("[a-c_.]{0,3}|pg_sig|currency_[st][a-z]{0,12}|[a-b]{15,18}", scalar()),
            0..40,
        ),
        spaces in "[ \t\r\n]{0,2}",
    ) {
        // Repeated keys are refused (tested above); `serde_json::Value`, the reference, would
        // keep only the last of them, so each key appears once here.
        let mut seen = std::collections::HashSet::new();
        let fields: Vec<_> = fields.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect();
        let body = format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{spaces}\"{k}\"{spaces}:{spaces}{v}{spaces}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_same(body.as_bytes());
    }
}
