//! `KEY=VALUE` arguments and `--json` objects, combined without ever passing numbers through a
//! float.

use imts_core::signature::CanonicalParams;

/// A parameter that could not be read; the message says which and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParamError(pub String);

/// Splits `KEY=VALUE` arguments (the value may contain `=`; the key may not be empty).
///
/// # Errors
/// When an argument has no `=` or an empty key.
pub fn parse_key_values(args: &[String]) -> Result<Vec<(String, String)>, ParamError> {
    args.iter()
        .map(|arg| match arg.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => Err(ParamError(format!("argument `{arg}` is not KEY=VALUE"))),
        })
        .collect()
}

/// The canonical parameters of a JSON object (exact numbers) plus string pairs.
///
/// # Errors
/// When the JSON is not an object or a key appears twice.
pub fn canonical_params(
    json: Option<&[u8]>,
    pairs: &[(String, String)],
) -> Result<CanonicalParams, ParamError> {
    let mut all = Vec::new();
    if let Some(body) = json {
        let params =
            CanonicalParams::from_json(body).map_err(|e| ParamError(format!("--json: {e}")))?;
        all.extend(params.pairs().iter().cloned());
    }
    all.extend(pairs.iter().cloned());
    CanonicalParams::from_pairs(all).map_err(|e| ParamError(e.to_string()))
}

/// Appends fields to a JSON object's text, keeping its numbers exactly as written: a key named
/// in `numbers` (the endpoint's number fields) goes in as a JSON number with the digits typed,
/// every other one as a string.
///
/// # Errors
/// When the text is not one valid JSON object, a number field is not a decimal amount (the
/// message names the field), or the result would repeat a key.
pub fn json_with_pairs(
    object: &[u8],
    pairs: &[(String, String)],
    numbers: &[&str],
) -> Result<Vec<u8>, ParamError> {
    let text = std::str::from_utf8(object)
        .map_err(|_| ParamError("--json is not UTF-8".into()))?
        .trim();
    let text = if text.is_empty() { "{}" } else { text };
    // Validate first: the splice below is only sound on one well-formed object.
    CanonicalParams::from_json(text.as_bytes()).map_err(|e| ParamError(format!("--json: {e}")))?;
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| ParamError("--json must be a JSON object".into()))?;
    let mut fields: Vec<String> = Vec::new();
    if !inner.trim().is_empty() {
        fields.push(inner.trim().to_owned());
    }
    for (key, value) in pairs {
        let value = if numbers.contains(&key.as_str()) {
            let amount: imts_core::values::Amount = value.trim().parse().map_err(|e| {
                ParamError(format!("`{key}` must be a decimal number like 100.50: {e}"))
            })?;
            // The decimal's own text: exact, the digits (and scale) as typed.
            amount.to_string()
        } else {
            serde_json::Value::from(value.as_str()).to_string()
        };
        fields.push(format!("{}:{value}", serde_json::Value::from(key.as_str())));
    }
    let combined = format!("{{{}}}", fields.join(",")).into_bytes();
    CanonicalParams::from_json(&combined).map_err(|e| ParamError(e.to_string()))?;
    Ok(combined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_join_the_object_exactly() {
        let pairs = parse_key_values(&["a=1".into(), "b=x=y".into()]).unwrap();
        let body = json_with_pairs(br#" {"amount":100.50} "#, &pairs, &[]).unwrap();
        assert_eq!(body, br#"{"amount":100.50,"a":"1","b":"x=y"}"#);
        assert!(
            json_with_pairs(br#"{"a":1}"#, &pairs, &[]).is_err(),
            "a repeated key is refused"
        );
        assert!(json_with_pairs(b"[1]", &[], &[]).is_err());
        assert!(json_with_pairs(b"{} {}", &[], &[]).is_err());
        assert!(parse_key_values(&["=x".into()]).is_err());
        let params = canonical_params(Some(br#"{"b":2.50}"#), &pairs[..1]).unwrap();
        assert_eq!(params.masked_message(), "1;2.50;***");
        assert!(
            canonical_params(Some(br#"{"b":2.50}"#), &pairs).is_err(),
            "b twice"
        );
    }

    #[test]
    fn number_fields_go_in_as_exact_numbers_and_bad_ones_are_named() {
        let pairs = parse_key_values(&["amount_source=100.00".into(), "note=7".into()]).unwrap();
        let body = json_with_pairs(b"{}", &pairs, &["amount_source"]).unwrap();
        assert_eq!(body, br#"{"amount_source":100.00,"note":"7"}"#);
        let bad = parse_key_values(&["amount_source=abc".into()]).unwrap();
        let error = json_with_pairs(b"{}", &bad, &["amount_source"]).unwrap_err();
        assert!(error.0.contains("amount_source"), "{error}");
        let sneaky = parse_key_values(&["amount_source=1,\"x\":2".into()]).unwrap();
        assert!(json_with_pairs(b"{}", &sneaky, &["amount_source"]).is_err());
    }
}
