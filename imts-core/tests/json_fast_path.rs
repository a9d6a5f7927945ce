//! The flat-object fast path of `sign_json`/`verify_json` against the general path: for any body,
//! both give the same signature or the same error.

use imts_core::signature::{sign_json, sign_json_general, verify_json};
use imts_crypto::{AgentSecret, Signer};
use proptest::prelude::*;

fn signer() -> Signer {
    Signer::new(AgentSecret::new("s3cr3t").unwrap())
}

fn assert_same(body: &[u8]) {
    let signer = signer();
    let fast = sign_json(body, &signer);
    let general = sign_json_general(body, &signer);
    assert_eq!(fast, general, "body: {:?}", String::from_utf8_lossy(body));
    if let Ok(signature) = general {
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
    fn any_object_signs_the_same_by_both_paths(
        fields in proptest::collection::vec(
            ("[a-c_.]{0,3}|pg_sig|currency_[st][a-z]{0,12}|[a-b]{15,18}", scalar()),
            0..40,
        ),
        spaces in "[ \t\r\n]{0,2}",
    ) {
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
