//! Canonicalization properties: field order never matters, every value does.

use imts_core::signature::CanonicalParams;
use imts_crypto::{AgentSecret, Signer};
use proptest::prelude::*;

fn body(fields: &[(String, String)]) -> String {
    let inner: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), v))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn json_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ;.]{1,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        (0u64..1_000_000, 0u32..10_000).prop_map(|(i, f)| format!("{i}.{f:04}")),
        any::<bool>().prop_map(|b| b.to_string()),
    ]
}

fn fields() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("[a-z_]{1,10}", json_value(), 1..12)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #[test]
    fn reordering_fields_never_changes_the_signature(fields in fields(), seed in any::<u64>()) {
        let signer = Signer::new(AgentSecret::new("k").unwrap());
        let mut shuffled = fields.clone();
        // A deterministic shuffle from the seed (rotation plus reversal).
        let n = shuffled.len();
        shuffled.rotate_left((seed as usize) % n);
        if seed & 1 == 1 { shuffled.reverse(); }
        let a = CanonicalParams::from_json(body(&fields).as_bytes()).unwrap();
        let b = CanonicalParams::from_json(body(&shuffled).as_bytes()).unwrap();
        prop_assert_eq!(a.sign(&signer), b.sign(&signer));
    }

    #[test]
    fn changing_any_value_changes_the_signature(fields in fields(), index in any::<prop::sample::Index>()) {
        let signer = Signer::new(AgentSecret::new("k").unwrap());
        let mut changed = fields.clone();
        let i = index.index(changed.len());
        changed[i].1 = serde_json::to_string(&format!("{}x", changed[i].1)).unwrap();
        let a = CanonicalParams::from_json(body(&fields).as_bytes()).unwrap();
        let b = CanonicalParams::from_json(body(&changed).as_bytes()).unwrap();
        prop_assert_ne!(a.sign(&signer), b.sign(&signer));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = CanonicalParams::from_json(&bytes);
    }
}
