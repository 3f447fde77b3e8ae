//! Type JSON: cty's JSON spelling of a [`Type`] (`"string"`, `["list","number"]`,
//! `["object",{"a":"bool"},["a"]]`).
//!
//! Owns both directions. The bytes go into the schema's `Attribute.type` and into the first half of
//! a dynamic value on the wire, so the decoder treats its input as untrusted.

use super::Type;
use std::collections::{BTreeMap, BTreeSet};

/// Why some bytes are not a type JSON document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeJsonError {
    /// The bytes are not JSON at all (or nest deeper than serde_json allows).
    #[error("type JSON is not valid JSON: {0}")]
    Syntax(String),
    /// Valid JSON that does not spell a type.
    #[error("invalid type JSON: {0}")]
    Shape(String),
}

impl Type {
    /// The type JSON bytes, as Terraform expects them in `Attribute.type`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        self.write_json(&mut out);
        out
    }

    /// Appends the type JSON to `out`, so codecs can write it without an extra buffer.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Type::String => out.extend_from_slice(b"\"string\""),
            Type::Number => out.extend_from_slice(b"\"number\""),
            Type::Bool => out.extend_from_slice(b"\"bool\""),
            Type::Dynamic => out.extend_from_slice(b"\"dynamic\""),
            Type::List(e) => collection(out, "list", e),
            Type::Set(e) => collection(out, "set", e),
            Type::Map(e) => collection(out, "map", e),
            Type::Tuple(elems) => {
                out.extend_from_slice(b"[\"tuple\",[");
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    t.write_json(out);
                }
                out.extend_from_slice(b"]]");
            }
            Type::Object { attrs, optional } => {
                out.extend_from_slice(b"[\"object\",{");
                for (i, (name, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_string(out, name);
                    out.push(b':');
                    t.write_json(out);
                }
                out.push(b'}');
                if !optional.is_empty() {
                    out.extend_from_slice(b",[");
                    for (i, name) in optional.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        write_json_string(out, name);
                    }
                    out.push(b']');
                }
                out.push(b']');
            }
        }
    }

    /// Parses type JSON. Nesting is bounded by serde_json's recursion limit (128), which keeps
    /// hostile input from exhausting the stack.
    pub fn from_json(bytes: &[u8]) -> Result<Type, TypeJsonError> {
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| TypeJsonError::Syntax(e.to_string()))?;
        Type::from_json_value(&v)
    }

    /// Converts an already parsed type JSON value (the `"type"` member of cty JSON's dynamic form).
    pub(crate) fn from_json_value(v: &serde_json::Value) -> Result<Type, TypeJsonError> {
        use serde_json::Value as J;
        let shape = |msg: String| TypeJsonError::Shape(msg);
        match v {
            J::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(shape(format!("unknown primitive type {other:?}"))),
            },
            J::Array(items) => {
                let Some(J::String(kind)) = items.first() else {
                    return Err(shape("a complex type must start with its kind as a string".into()));
                };
                let arity = |n: usize| {
                    if items.len() == n {
                        Ok(())
                    } else {
                        Err(shape(format!("{kind:?} type needs {} elements, found {}", n, items.len())))
                    }
                };
                match kind.as_str() {
                    "list" | "set" | "map" => {
                        arity(2)?;
                        let e = Box::new(Type::from_json_value(&items[1])?);
                        Ok(match kind.as_str() {
                            "list" => Type::List(e),
                            "set" => Type::Set(e),
                            _ => Type::Map(e),
                        })
                    }
                    "tuple" => {
                        arity(2)?;
                        let J::Array(elems) = &items[1] else {
                            return Err(shape("tuple element types must be an array".into()));
                        };
                        elems.iter().map(Type::from_json_value).collect::<Result<_, _>>().map(Type::Tuple)
                    }
                    "object" => {
                        if items.len() != 2 && items.len() != 3 {
                            return Err(shape(format!("\"object\" type needs 2 or 3 elements, found {}", items.len())));
                        }
                        let J::Object(members) = &items[1] else {
                            return Err(shape("object attribute types must be a JSON object".into()));
                        };
                        let mut attrs = BTreeMap::new();
                        for (name, t) in members {
                            attrs.insert(name.clone(), Type::from_json_value(t)?);
                        }
                        let mut optional = BTreeSet::new();
                        if let Some(opt) = items.get(2) {
                            let J::Array(names) = opt else {
                                return Err(shape("optional attribute names must be an array".into()));
                            };
                            for n in names {
                                let J::String(n) = n else {
                                    return Err(shape("optional attribute names must be strings".into()));
                                };
                                if !attrs.contains_key(n) {
                                    return Err(shape(format!("optional attribute {n:?} is not declared")));
                                }
                                optional.insert(n.clone());
                            }
                        }
                        Ok(Type::Object { attrs, optional })
                    }
                    other => Err(shape(format!("unknown type kind {other:?}"))),
                }
            }
            _ => Err(shape("a type must be a string or an array".into())),
        }
    }
}

fn collection(out: &mut Vec<u8>, kind: &str, elem: &Type) {
    out.extend_from_slice(b"[\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",");
    elem.write_json(out);
    out.push(b']');
}

/// Writes `s` as a JSON string literal (RFC 8259 escaping).
pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(t: Type, json: &str) {
        assert_eq!(String::from_utf8(t.to_json()).unwrap(), json);
        assert_eq!(Type::from_json(json.as_bytes()).unwrap(), t, "{json}");
    }

    #[test]
    fn primitives_and_collections() {
        round_trip(Type::String, r#""string""#);
        round_trip(Type::Number, r#""number""#);
        round_trip(Type::Bool, r#""bool""#);
        round_trip(Type::Dynamic, r#""dynamic""#);
        round_trip(Type::list(Type::String), r#"["list","string"]"#);
        round_trip(Type::set(Type::Number), r#"["set","number"]"#);
        round_trip(Type::map(Type::list(Type::Bool)), r#"["map",["list","bool"]]"#);
        round_trip(Type::Tuple(vec![]), r#"["tuple",[]]"#);
        round_trip(Type::Tuple(vec![Type::String, Type::Dynamic]), r#"["tuple",["string","dynamic"]]"#);
    }

    #[test]
    fn objects_sorted_with_optional_attributes() {
        round_trip(Type::object([("b", Type::Bool), ("a", Type::String)]), r#"["object",{"a":"string","b":"bool"}]"#);
        round_trip(Type::object(Vec::<(String, Type)>::new()), r#"["object",{}]"#);
        let t = Type::Object {
            attrs: [("a".to_string(), Type::String), ("b\"q".to_string(), Type::Number)].into(),
            optional: ["a".to_string()].into(),
        };
        round_trip(t, r#"["object",{"a":"string","b\"q":"number"},["a"]]"#);
    }

    #[test]
    fn escapes_control_characters() {
        let mut out = Vec::new();
        write_json_string(&mut out, "a\u{1}\n\u{e9}");
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\u0001\\n\u{e9}\"");
    }

    #[test]
    fn rejects_malformed_types() {
        for bad in [
            "",
            "\"str\"",
            "[]",
            "[\"list\"]",
            "[\"list\",\"string\",\"x\"]",
            "[\"tuple\",\"string\"]",
            "[\"object\",[]]",
            "[\"object\",{},[\"missing\"]]",
            "[\"object\",{},[1]]",
            "[\"frob\",\"string\"]",
            "42",
            "{}",
        ] {
            assert!(Type::from_json(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let deep = "[\"list\",".repeat(10_000) + "\"string\"" + &"]".repeat(10_000);
        assert!(Type::from_json(deep.as_bytes()).is_err());
    }
}
