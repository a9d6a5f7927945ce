//! A JSON value written as block-style YAML 1.2. Written here because the usual crate,
//! `serde_yaml`, is archived; the subset needed is small: maps and lists in block style,
//! strings double-quoted with JSON's escapes (which YAML 1.2 reads the same), everything else as
//! JSON writes it. Map keys come in the map's order (sorted, as `serde_json` keeps them); the
//! document's top-level sections in the order given.

use serde_json::Value;

/// A YAML document of these top-level sections, in this order.
#[must_use]
pub fn document(sections: &[(&str, Value)]) -> String {
    let mut out = String::new();
    for (key, value) in sections {
        out.push_str(&key_text(key));
        out.push(':');
        write_child(value, 0, &mut out);
    }
    out
}

fn write_block(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, item) in map {
                push_indent(indent, out);
                out.push_str(&key_text(key));
                out.push(':');
                write_child(item, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => compact_item(item, indent, out),
                    Value::Array(a) if !a.is_empty() => compact_item(item, indent, out),
                    scalar => {
                        push_indent(indent, out);
                        out.push('-');
                        write_child(scalar, indent, out);
                    }
                }
            }
        }
        scalar => {
            push_indent(indent, out);
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

/// A collection as a list item: written two columns in, its first line's indent turned into
/// `- ` (`- key: value`).
fn compact_item(item: &Value, indent: usize, out: &mut String) {
    let mut block = String::new();
    write_block(item, indent + 2, &mut block);
    push_indent(indent, out);
    out.push_str("- ");
    out.push_str(&block[indent + 2..]);
}

/// What follows `key:` or `-`: a scalar (or empty collection) on the same line, a collection
/// indented on the next lines.
fn write_child(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_block(value, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_block(value, indent + 2, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn push_indent(indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A key plain when it cannot be mistaken for anything else, quoted otherwise.
fn key_text(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '{' | '}'))
        && !key.starts_with(['-', '{', '.'])
        && !matches!(
            key,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
        )
        && key.parse::<i64>().is_err();
    if plain {
        key.to_owned()
    } else {
        Value::from(key).to_string()
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        // JSON's own text: strings double-quoted with JSON escapes, valid YAML 1.2.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_maps_and_lists_are_block_style() {
        let sections = [
            ("openapi", json!("3.1.0")),
            (
                "paths",
                json!({ "/v5/a": { "get": { "tags": ["x", "y"], "deprecated": false } } }),
            ),
            ("empty", json!({})),
            ("list", json!([])),
            ("404", json!({ "description": "line\nbreak \"quoted\"" })),
            ("items", json!([{ "a": 1 }, [2, 3]])),
        ];
        let expected = concat!(
            "openapi: \"3.1.0\"\n",
            "paths:\n",
            "  /v5/a:\n",
            "    get:\n",
            "      deprecated: false\n",
            "      tags:\n",
            "        - \"x\"\n",
            "        - \"y\"\n",
            "empty: {}\n",
            "list: []\n",
            "\"404\":\n",
            "  description: \"line\\nbreak \\\"quoted\\\"\"\n",
            "items:\n",
            "  - a: 1\n",
            "  - - 2\n",
            "    - 3\n",
        );
        assert_eq!(document(&sections), expected);
    }
}
