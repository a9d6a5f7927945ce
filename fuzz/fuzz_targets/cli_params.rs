//! The CLI's `KEY=VALUE` and `--json` handling: never panics; what it builds is one valid object.
#![no_main]

use imts_cli::params::{canonical_params, json_with_pairs, parse_key_values};
use imts_core::signature::CanonicalParams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(2, '\n');
    let args: Vec<String> = parts.next().unwrap_or_default().split(' ').map(str::to_owned).collect();
    let json = parts.next().unwrap_or_default().as_bytes();
    if let Ok(pairs) = parse_key_values(&args) {
        let _ = canonical_params(Some(json), &pairs);
        // Untyped, and with the endpoint's number fields typed (`amount_source`).
        for numbers in [&[][..], &["amount_source"][..]] {
            if let Ok(body) = json_with_pairs(json, &pairs, numbers) {
                assert!(CanonicalParams::from_json(&body).is_ok());
            }
        }
    }
});
