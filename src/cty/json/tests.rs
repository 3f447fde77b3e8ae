//! JSON codec tests: cty's JSON form, tolerant RawState decoding, and round trips.

use super::*;
use crate::cty::strategies::arb_typed_value;
use expect_test::expect;
use proptest::prelude::*;

fn obj(entries: &[(&str, Value)]) -> Value {
    Value::Object(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn num(s: &str) -> Value {
    Value::Number(Number::parse(s).unwrap())
}

fn enc(v: &Value, ty: &Type) -> String {
    String::from_utf8(encode(v, ty).unwrap()).unwrap()
}

fn state_ty() -> Type {
    Type::object([
        ("id", Type::String),
        ("replicas", Type::Number),
        ("labels", Type::map(Type::String)),
        ("ports", Type::set(Type::Number)),
        ("manifest", Type::Dynamic),
        ("pair", Type::Tuple(vec![Type::String, Type::Bool])),
    ])
}

#[test]
fn encodes_cty_json() {
    let v = obj(&[
        ("id", Value::string("a\"b")),
        ("replicas", num("0.8")),
        ("labels", Value::Map([("k".into(), Value::string("v"))].into())),
        ("ports", Value::Set(vec![Value::int(80), Value::int(443)])),
        ("manifest", Value::Dynamic(Type::list(Type::String), Box::new(Value::List(vec![Value::string("x")])))),
        ("pair", Value::Tuple(vec![Value::string("p"), Value::Bool(false)])),
    ]);
    expect![[r#"{"id":"a\"b","labels":{"k":"v"},"manifest":{"value":["x"],"type":["list","string"]},"pair":["p",false],"ports":[80,443],"replicas":0.8}"#]]
        .assert_eq(&enc(&v, &state_ty()));
    assert_eq!(decode(enc(&v, &state_ty()).as_bytes(), &state_ty()).unwrap(), v);
}

#[test]
fn numbers_keep_full_precision() {
    let digits = format!("{}.{}", "9".repeat(60), "1".repeat(40));
    let text = enc(&num(&digits), &Type::Number);
    assert_eq!(text, digits);
    assert_eq!(decode(text.as_bytes(), &Type::Number).unwrap(), num(&digits));
    assert_eq!(decode(b"1e3", &Type::Number).unwrap(), Value::int(1000));
    assert_eq!(enc(&num("1e3"), &Type::Number), "1000");
    assert!(decode(b"1e999999", &Type::Number).is_err());
}

#[test]
fn raw_state_decode_is_tolerant() {
    // "removed" is not in the type (ignored); most attributes are absent (null).
    let raw = br#"{"id":"x","removed":{"deep":[1,2]},"replicas":"3","labels":null,"ports":[1]}"#;
    let v = decode(raw, &state_ty()).unwrap();
    let want = obj(&[
        ("id", Value::string("x")),
        ("replicas", Value::int(3)),
        ("labels", Value::Null),
        ("ports", Value::Set(vec![Value::int(1)])),
        ("manifest", Value::Null),
        ("pair", Value::Null),
    ]);
    assert_eq!(v, want);
    // Primitive conversions cty JSON allows.
    assert_eq!(decode(b"12", &Type::String).unwrap(), Value::string("12"));
    assert_eq!(decode(b"true", &Type::String).unwrap(), Value::string("true"));
    assert_eq!(decode(br#""false""#, &Type::Bool).unwrap(), Value::Bool(false));
    // Empty input is null.
    assert_eq!(decode(b"", &state_ty()).unwrap(), Value::Null);
    assert_eq!(decode(b" \n", &state_ty()).unwrap(), Value::Null);
}

#[test]
fn dynamic_values() {
    let v = decode(br#"{"value":{"a":1},"type":["object",{"a":"number"}]}"#, &Type::Dynamic).unwrap();
    assert_eq!(v, Value::Dynamic(Type::object([("a", Type::Number)]), Box::new(obj(&[("a", Value::int(1))]))));
    assert_eq!(decode(b"null", &Type::Dynamic).unwrap(), Value::Null);
    // Bare values under dynamic are written with their implied type.
    assert_eq!(enc(&Value::string("s"), &Type::Dynamic), r#"{"value":"s","type":"string"}"#);
    let err = decode(br#"{"value":1}"#, &Type::Dynamic).unwrap_err();
    expect![[r#"invalid dynamic value type: invalid type JSON: a dynamic value needs a "type" member"#]]
        .assert_eq(&err.to_string());
}

#[test]
fn errors_name_their_path() {
    let err = decode(br#"{"labels":{"k":[1]}}"#, &state_ty()).unwrap_err();
    expect![[r#"labels["k"]: expected "string", found a JSON array"#]].assert_eq(&err.to_string());
    let err = decode(br#"{"pair":["a"]}"#, &state_ty()).unwrap_err();
    expect![[r#"pair: tuple needs 2 elements, found 1"#]].assert_eq(&err.to_string());
    let err = decode(br#"{"id":"x""#, &state_ty()).unwrap_err();
    assert!(matches!(err, Error::Syntax { .. }), "{err}");
    let err = encode(&obj(&[("ports", Value::Set(vec![Value::unknown()]))]), &state_ty()).unwrap_err();
    expect![[r#"ports[0]: unknown values cannot be encoded as JSON"#]].assert_eq(&err.to_string());
    let err = encode(&obj(&[("nope", Value::Null)]), &state_ty()).unwrap_err();
    expect![[r#"unsupported attribute "nope""#]].assert_eq(&err.to_string());
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    assert!(decode(deep.as_bytes(), &Type::list(Type::String)).is_err());
}

/// Replaces every unknown with null: JSON cannot carry unknowns.
fn known_only(v: Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::List(xs) => Value::List(xs.into_iter().map(known_only).collect()),
        Value::Set(xs) => Value::Set(xs.into_iter().map(known_only).collect()),
        Value::Tuple(xs) => Value::Tuple(xs.into_iter().map(known_only).collect()),
        Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, known_only(v))).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, known_only(v))).collect()),
        Value::Dynamic(t, v) => Value::Dynamic(t, Box::new(known_only(*v))),
        other => other,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn prop_round_trip((ty, v) in arb_typed_value(false)) {
        let v = known_only(v);
        let bytes = encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = decode(&bytes, &ty)
            .map_err(|e| TestCaseError::fail(format!("{e} in {}", String::from_utf8_lossy(&bytes))))?;
        prop_assert_eq!(back, v);
    }
}
