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

mod fast_path {
    use imts_core::models::{CancelRequest, CreateTransferRequest, NewTransfer};
    use imts_core::signature::CanonicalParams;
    use imts_core::values::{AgentId, Destination, Money};
    use imts_core::wire::SignFields;
    use imts_crypto::{AgentSecret, Signer};
    use proptest::prelude::*;

    fn slow(value: &impl serde::Serialize, signer: &Signer) -> String {
        let body = serde_json::to_vec(value).unwrap();
        CanonicalParams::from_json(&body)
            .unwrap()
            .sign(signer)
            .to_string()
    }

    fn fast(value: &impl SignFields, signer: &Signer) -> Option<String> {
        let mut message = signer.message();
        value
            .sign_fields(&mut message)
            .then(|| message.finish().to_string())
    }

    proptest! {
        #[test]
        fn typed_signing_equals_the_canonical_json_path(
            amount in (0u64..99_999_999_999u64, 0u32..=4).prop_map(|(m, s)| {
                let text = m.to_string();
                if s == 0 { text } else { format!("{}.{:0>width$}", m / 10u64.pow(s), m % 10u64.pow(s), width = s as usize) }
            }),
            purpose in "[ -~]{0,40}",
            reason in proptest::option::of("[ -~]{0,20}"),
            order in "[A-Za-z0-9-]{1,64}",
            target in proptest::option::of(Just("agent-7".to_owned())),
            destination in "[0-9]{4,30}",
        ) {
            let signer = Signer::new(AgentSecret::new("fast-path").unwrap());
            let mut request = CreateTransferRequest::new(NewTransfer {
                client_uuid: "7c9e6679-7425-40de-944b-e07fc1f90ae7".parse().unwrap(),
                destination: Destination::Iban(destination.parse().unwrap()),
                target_country: "UZB".parse().unwrap(),
                order_id: order.parse().unwrap(),
                amount: Money::new(amount.parse().unwrap(), "KZT".parse().unwrap()),
                currency_target: "UZS".parse().unwrap(),
                purpose,
            });
            if let Some(target) = target {
                request = request.with_target_agent_id(target.parse::<AgentId>().unwrap());
            }
            prop_assert_eq!(fast(&request, &signer), Some(slow(&request, &signer)));
            let mut cancel = CancelRequest::new("0f8fad5b-d9cb-469f-a165-70867728950e".parse().unwrap());
            if let Some(reason) = reason {
                cancel = cancel.with_reason(reason);
            }
            prop_assert_eq!(fast(&cancel, &signer), Some(slow(&cancel, &signer)));
        }
    }

    #[test]
    fn unknown_fields_fall_back_to_the_json_path() {
        let signer = Signer::new(AgentSecret::new("k").unwrap());
        let mut cancel =
            CancelRequest::new("0f8fad5b-d9cb-469f-a165-70867728950e".parse().unwrap());
        cancel.extra.insert("note", r#"{"a":[1,2]}"#).unwrap();
        assert_eq!(fast(&cancel, &signer), None);
    }
}
