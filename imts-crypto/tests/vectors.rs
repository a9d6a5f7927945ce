//! Known-answer tests from the project's vector files (`vectors/`) and NIST SP 800-38A.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use imts_crypto::{AgentSecret, DecryptError, Packing, PartnerKey, Signer};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/../vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

#[test]
fn pg_sig_vectors_sign_the_sorted_values() {
    let vectors = load("pg_sig.json");
    for case in vectors["cases"].as_array().unwrap() {
        let name = s(&case["name"]);
        let signer = Signer::new(AgentSecret::new(s(&case["secret"])).unwrap());
        let values: Vec<&str> = case["sorted_pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| s(&pair[1]))
            .collect();
        let sig = signer.sign(&values);
        assert_eq!(sig.as_str(), s(&case["pg_sig"]), "{name}");
        assert!(signer.verify(&values, s(&case["pg_sig"])), "{name}");
        // The message of the vector, fed as one value-less piece, gives the same MAC: the
        // incremental feeding is exactly `v1;...;vn;secret`.
        let mut joined = values.join(";");
        if !values.is_empty() {
            joined.push(';');
        }
        joined.push_str(s(&case["secret"]));
        assert_eq!(joined, s(&case["message"]), "{name}");
    }
}

fn key_of(case: &Value) -> PartnerKey {
    PartnerKey::parse(s(&case["key_hex"])).unwrap()
}

#[test]
fn envelope_vectors_encrypt_and_decrypt_in_both_packings() {
    let vectors = load("envelope.json");
    for case in vectors["cases"].as_array().unwrap() {
        let name = s(&case["name"]);
        let key = key_of(case);
        let iv: [u8; 16] = hex(s(&case["iv_hex"])).try_into().unwrap();
        let plaintext = STANDARD.decode(s(&case["plaintext_b64"])).unwrap();
        for (packing, field) in [
            (Packing::IvCiphertext, "envelope"),
            (Packing::JsonMac, "envelope_mac"),
        ] {
            let expected = s(&case[field]);
            assert_eq!(
                key.encrypt_with_iv(&plaintext, &iv, packing),
                expected,
                "{name} {field}"
            );
            let back = key.decrypt(expected, packing).unwrap();
            assert_eq!(back.as_bytes(), plaintext, "{name} {field}");
        }
    }
}

#[test]
fn envelope_must_fail_inputs_give_the_one_error() {
    let vectors = load("envelope.json");
    for case in vectors["must_fail"].as_array().unwrap() {
        let key = key_of(case);
        for packing in [Packing::IvCiphertext, Packing::JsonMac] {
            assert_eq!(
                key.decrypt(s(&case["envelope"]), packing).unwrap_err(),
                DecryptError,
                "{}",
                s(&case["name"])
            );
        }
    }
}

#[test]
fn key_forms_decode_to_the_same_key() {
    let vectors = load("envelope.json");
    let forms = &vectors["key_forms"];
    let plaintext = b"same key, same result";
    let iv = [7u8; 16];
    let hex_key = PartnerKey::parse(s(&forms["hex"])).unwrap();
    let b64_key = PartnerKey::parse(s(&forms["base64"])).unwrap();
    let raw_key = PartnerKey::parse(s(&forms["raw_ascii_32"])).unwrap();
    let a = hex_key.encrypt_with_iv(plaintext, &iv, Packing::IvCiphertext);
    assert_eq!(
        a,
        b64_key.encrypt_with_iv(plaintext, &iv, Packing::IvCiphertext)
    );
    assert_ne!(
        a,
        raw_key.encrypt_with_iv(plaintext, &iv, Packing::IvCiphertext)
    );
    let raw_direct = PartnerKey::from_bytes(s(&forms["raw_ascii_32"]).as_bytes()).unwrap();
    assert_eq!(
        raw_key.encrypt_with_iv(plaintext, &iv, Packing::IvCiphertext),
        raw_direct.encrypt_with_iv(plaintext, &iv, Packing::IvCiphertext)
    );
}

#[test]
fn nist_sp800_38a_cbc_aes256_f_2_5() {
    let vectors = load("envelope.json");
    let nist = &vectors["nist_sp800_38a_f_2_5"];
    let key = PartnerKey::from_bytes(&hex(s(&nist["key_hex"]))).unwrap();
    let iv: [u8; 16] = hex(s(&nist["iv_hex"])).try_into().unwrap();
    let plaintext = hex(s(&nist["plaintext_hex"]));
    let expected = hex(s(&nist["ciphertext_hex"]));
    let packed = STANDARD
        .decode(key.encrypt_with_iv(&plaintext, &iv, Packing::IvCiphertext))
        .unwrap();
    // IV, then the four NIST blocks, then one block of PKCS#7 padding.
    assert_eq!(&packed[..16], &iv);
    assert_eq!(&packed[16..80], &expected[..]);
    assert_eq!(packed.len(), 96);
}

#[test]
fn a_tampered_mac_envelope_is_refused() {
    let key = PartnerKey::parse(&"11".repeat(32)).unwrap();
    let sealed = key.encrypt(b"{\"document_number\":\"N1234567\"}", Packing::JsonMac);
    let json = String::from_utf8(STANDARD.decode(&sealed).unwrap()).unwrap();
    // Flip one character of the ciphertext's Base64 inside the JSON.
    let pos = json.find("\"value\": \"").unwrap() + 12;
    let mut bytes = json.into_bytes();
    bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
    let forged = STANDARD.encode(&bytes);
    assert_eq!(
        key.decrypt(&forged, Packing::JsonMac).unwrap_err(),
        DecryptError
    );
    let other = PartnerKey::parse(&"22".repeat(32)).unwrap();
    assert_eq!(
        other.decrypt(&sealed, Packing::JsonMac).unwrap_err(),
        DecryptError
    );
}
