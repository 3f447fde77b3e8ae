//! Fuzzing harness for the cty codecs, shared by the libFuzzer target and the bounded fallback.
//!
//! Owns the property every input is checked against ([`check`]), the table of schema types an
//! input's first byte selects from, and the seed inputs. The codec sources are compiled straight
//! from `../src/cty` (a pure module: no I/O, no provider dependencies), so fuzzing does not build
//! the whole provider.

#[allow(dead_code, unreachable_pub)]
#[path = "../../src/cty/mod.rs"]
pub mod cty;

use cty::{Type, Value, json, msgpack};

/// The schema types an input can be decoded under; the input's first byte picks one.
pub fn types() -> Vec<Type> {
    let container = Type::object([
        ("name", Type::String),
        ("image", Type::String),
        ("args", Type::list(Type::String)),
        ("env", Type::map(Type::String)),
        ("privileged", Type::Bool),
        ("cpu", Type::Number),
    ]);
    vec![
        Type::String,
        Type::Number,
        Type::Bool,
        Type::Dynamic,
        Type::list(Type::String),
        Type::set(Type::String),
        Type::map(Type::String),
        Type::list(Type::Number),
        Type::Tuple(vec![Type::String, Type::Number, Type::Dynamic]),
        Type::object([("id", Type::String), ("n", Type::Number), ("tags", Type::map(Type::String))]),
        Type::object(Vec::<(String, Type)>::new()),
        Type::object([("manifest", Type::Dynamic), ("items", Type::list(Type::Dynamic))]),
        Type::object([
            ("id", Type::String),
            ("labels", Type::map(Type::String)),
            ("containers", Type::list(container.clone())),
            ("volumes", Type::set(Type::object([("name", Type::String), ("size", Type::Number)]))),
            ("limits", Type::map(Type::list(Type::Number))),
        ]),
        Type::map(container),
        Type::list(Type::list(Type::set(Type::Bool))),
    ]
}

/// Runs one input: the first byte selects a type, the rest is msgpack (and, separately, JSON and
/// type JSON). Panics when a property fails, which is what the fuzzers look for:
/// - decoding never panics;
/// - whatever decodes re-encodes, and decode → encode is a fixed point (same value, same bytes);
/// - a wholly known decoded value survives a cty JSON round trip.
pub fn check(data: &[u8], types: &[Type]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let ty = &types[usize::from(selector) % types.len()];
    if let Ok(v) = msgpack::decode(rest, ty) {
        let bytes = msgpack::encode(&v, ty).unwrap_or_else(|e| panic!("decoded {v:?} but cannot re-encode: {e}"));
        let again = msgpack::decode(&bytes, ty).unwrap_or_else(|e| panic!("re-encoded bytes do not decode: {e}"));
        assert_eq!(again, v, "decode → encode → decode changed the value");
        let bytes2 = msgpack::encode(&again, ty).expect("second encode");
        assert_eq!(bytes, bytes2, "encoding is not a fixed point");
        if v.is_wholly_known() {
            let j = json::encode(&v, ty).unwrap_or_else(|e| panic!("known value {v:?} has no JSON: {e}"));
            match json::decode(&j, ty) {
                Ok(back) => assert_eq!(back, v, "JSON round trip changed the value"),
                // serde_json stops at 128 levels of nesting; msgpack allows a little more.
                Err(json::Error::Syntax { message }) if message.contains("recursion limit") => {}
                Err(e) => panic!("JSON {} does not decode: {e}", String::from_utf8_lossy(&j)),
            }
        }
    }
    if let Ok(v) = json::decode(rest, ty) {
        // Tolerant decoding drops unknown keys; what remains must encode and decode unchanged.
        if let Ok(j) = json::encode(&v, ty) {
            assert_eq!(json::decode(&j, ty).expect("re-encoded JSON decodes"), v);
        }
    }
    if let Ok(t) = Type::from_json(rest) {
        assert_eq!(Type::from_json(&t.to_json()).expect("type JSON round trip"), t);
    }
}

/// Seed inputs: the protocol document's §3.2 vectors and a few realistic encodings, each
/// prefixed with the selector byte of the type it belongs to.
pub fn seeds(types: &[Type]) -> Vec<Vec<u8>> {
    let sel = |t: &Type| types.iter().position(|x| x == t).expect("seed type in table") as u8;
    let hex = |s: &str| -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
    };
    let mut out = Vec::new();
    let mut add = |t: &Type, h: &str| {
        let mut v = vec![sel(t)];
        v.extend(hex(h));
        out.push(v);
    };
    add(&Type::String, "d4 00 00");
    add(&Type::String, "c7 09 0c 82 01 c2 02 a4 66 6f 6f 2d");
    add(&Type::String, "c7 03 0c 81 01 c2");
    add(&Type::Number, "c7 05 0c 81 03 92 00 c3");
    add(&Type::list(Type::String), "c7 05 0c 82 05 01 06 02");
    for n in ["01", "ff", "cd 01 2c", "cf 00 00 01 00 00 00 00 00", "cb 3f e0 00 00 00 00 00 00", "a3 30 2e 38"] {
        add(&Type::Number, n);
    }
    add(&types[9], "83 a2 69 64 a1 78 a1 6e 01 a4 74 61 67 73 c0");
    add(&Type::set(Type::String), "92 a1 61 a1 62");
    add(&Type::map(Type::String), "81 a1 6b a1 76");
    add(&Type::Dynamic, "92 c4 08 22737472696e6722 a2 68 69");
    add(&types[10], "80");
    let manifest = Value::Dynamic(
        Type::object([("kind", Type::String), ("spec", Type::map(Type::Dynamic))]),
        Box::new(Value::Object(
            [
                ("kind".to_string(), Value::string("Pod")),
                (
                    "spec".to_string(),
                    Value::Map([("replicas".to_string(), Value::int(3)), ("x".to_string(), Value::unknown())].into()),
                ),
            ]
            .into(),
        )),
    );
    let obj = Value::Object(
        [
            ("manifest".to_string(), manifest),
            ("items".to_string(), Value::List(vec![Value::string("a"), Value::Null, Value::unknown()])),
        ]
        .into(),
    );
    let mut v = vec![11u8];
    v.extend(msgpack::encode(&obj, &types[11]).expect("seed encodes"));
    out.push(v);
    let mut v = vec![9u8];
    v.extend(br#"{"id":"x","n":0.8,"tags":{"a":"b"},"old":true}"#);
    out.push(v);
    out
}
