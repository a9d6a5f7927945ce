//! Every stage of every pg_sig vector: sorted pairs, message, signature.

use imts_core::signature::CanonicalParams;
use imts_crypto::{AgentSecret, Signer};
use serde_json::Value;

#[test]
fn every_vector_every_stage() {
    let path = format!("{}/../vectors/pg_sig.json", env!("CARGO_MANIFEST_DIR"));
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in vectors["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let secret = case["secret"].as_str().unwrap();
        let params = CanonicalParams::from_json(case["body"].as_str().unwrap().as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected_pairs: Vec<(String, String)> = case["sorted_pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(params.pairs(), &expected_pairs[..], "{name}: pairs");
        let message = case["message"].as_str().unwrap();
        let masked = params.masked_message();
        assert_eq!(
            masked.strip_suffix("***").unwrap(),
            message.strip_suffix(secret).unwrap(),
            "{name}: message"
        );
        let signer = Signer::new(AgentSecret::new(secret).unwrap());
        assert_eq!(
            params.sign(&signer).as_str(),
            case["pg_sig"].as_str().unwrap(),
            "{name}"
        );
        params
            .verify(&signer, case["pg_sig"].as_str().unwrap())
            .unwrap();
        let err = params.verify(&signer, &"0".repeat(64)).unwrap_err();
        assert!(
            !err.to_string().contains(secret) || secret.len() < 2,
            "{name}: secret leaked"
        );
    }
}
