//! msgpack codec tests: the §3.2 vectors, ports of cty's round-trip cases, property round trips
//! and hostile input.

use super::*;
use crate::cty::strategies::{arb_type, arb_typed_value};
use expect_test::expect;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

fn num(s: &str) -> Value {
    Value::Number(Number::parse(s).unwrap())
}

/// Asserts both directions: `v` encodes to exactly `bytes` and `bytes` decodes to `v`.
fn both_ways(v: Value, ty: &Type, bytes: &str) {
    let bytes = hex(bytes);
    assert_eq!(to_hex(&encode(&v, ty).unwrap()), to_hex(&bytes), "encode {v:?}");
    assert_eq!(decode(&bytes, ty).unwrap(), v, "decode {}", to_hex(&bytes));
}

fn round_trip(v: &Value, ty: &Type) {
    let bytes = encode(v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}"));
    let back = decode(&bytes, ty).unwrap_or_else(|e| panic!("decode {}: {e}", to_hex(&bytes)));
    assert_eq!(&back, v, "{}", to_hex(&bytes));
}

fn refined(f: impl FnOnce(&mut Refinements)) -> Value {
    let mut r = Refinements::default();
    f(&mut r);
    Value::Unknown(r)
}

// --- §3.2 test vectors -----------------------------------------------------------------------

#[test]
fn vector_unknown_string() {
    both_ways(Value::unknown(), &Type::String, "d4 00 00");
}

#[test]
fn vector_unknown_not_null_with_prefix() {
    let v = refined(|r| {
        r.not_null = true;
        r.string_prefix = Some("foo-".into());
    });
    both_ways(v, &Type::String, "c7 09 0c 82 01 c2 02 a4 66 6f 6f 2d");
}

#[test]
fn vector_unknown_not_null() {
    both_ways(refined(|r| r.not_null = true), &Type::String, "c7 03 0c 81 01 c2");
}

#[test]
fn vector_unknown_number_at_least_zero() {
    let v = refined(|r| r.number_lower = Some((Number::from_i64(0), true)));
    both_ways(v, &Type::Number, "c7 05 0c 81 03 92 00 c3");
}

#[test]
fn vector_unknown_list_length_one_to_two() {
    let v = refined(|r| {
        r.length_min = Some(1);
        r.length_max = Some(2);
    });
    both_ways(v, &Type::list(Type::String), "c7 05 0c 82 05 01 06 02");
}

#[test]
fn vector_integers() {
    both_ways(Value::int(1), &Type::Number, "01");
    both_ways(Value::int(-1), &Type::Number, "ff");
    both_ways(Value::int(300), &Type::Number, "cd 01 2c");
    both_ways(Value::int(1 << 40), &Type::Number, "cf 00 00 01 00 00 00 00 00");
}

#[test]
fn vector_floats_and_decimal_strings() {
    both_ways(num("0.5"), &Type::Number, "cb 3f e0 00 00 00 00 00 00");
    // 0.8 has no exact f64, so it travels as the decimal string, as Terraform sends it.
    both_ways(num("0.8"), &Type::Number, "a3 30 2e 38");
    let inf = hex("cb 7f f0 00 00 00 00 00 00");
    assert!(matches!(decode(&inf, &Type::Number), Err(Error::NonFiniteNumber { .. })));
}

#[test]
fn vector_object_with_null_attribute() {
    let ty = Type::object([("id", Type::String), ("n", Type::Number), ("tags", Type::map(Type::String))]);
    let v = Value::Object(
        [("id".into(), Value::string("x")), ("n".into(), Value::int(1)), ("tags".into(), Value::Null)].into(),
    );
    both_ways(v, &ty, "83 a2 69 64 a1 78 a1 6e 01 a4 74 61 67 73 c0");
}

#[test]
fn vector_set_and_map() {
    both_ways(Value::Set(vec![Value::string("a"), Value::string("b")]), &Type::set(Type::String), "92 a1 61 a1 62");
    both_ways(Value::Map([("k".into(), Value::string("v"))].into()), &Type::map(Type::String), "81 a1 6b a1 76");
}

#[test]
fn vector_string_under_dynamic() {
    let bytes = "92 c4 08 22737472696e6722 a2 68 69";
    both_ways(Value::Dynamic(Type::String, Box::new(Value::string("hi"))), &Type::Dynamic, bytes);
    // A bare string under dynamic is sent with its implied type.
    assert_eq!(to_hex(&encode(&Value::string("hi"), &Type::Dynamic).unwrap()), to_hex(&hex(bytes)));
    // The type may arrive as str instead of bin.
    let as_str = hex("92 a8 22737472696e6722 a2 68 69");
    assert_eq!(decode(&as_str, &Type::Dynamic).unwrap(), Value::Dynamic(Type::String, Box::new(Value::string("hi"))));
}

// --- cty round-trip ports ----------------------------------------------------------------------

#[test]
fn primitives_round_trip() {
    for s in ["", "hello", "h\u{e9}llo w\u{f6}rld \u{1f600}", &"x".repeat(31), &"x".repeat(32), &"y".repeat(300)] {
        round_trip(&Value::string(s), &Type::String);
    }
    round_trip(&Value::string("z".repeat(70_000)), &Type::String);
    for n in [
        "0",
        "1",
        "-1",
        "5",
        "-32",
        "-33",
        "127",
        "128",
        "255",
        "256",
        "65535",
        "65536",
        "4294967295",
        "4294967296",
        "-128",
        "-129",
        "-32768",
        "-32769",
        "-2147483648",
        "-2147483649",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "5.5",
        "0.1",
        "-0.25",
        "3.14159",
        "1e300",
        "1e-300",
    ] {
        round_trip(&num(n), &Type::Number);
    }
    round_trip(&Value::Bool(true), &Type::Bool);
    round_trip(&Value::Bool(false), &Type::Bool);
}

#[test]
fn hundred_digit_number_stays_exact() {
    let digits = "1234567890".repeat(10);
    let v = num(&digits);
    let bytes = encode(&v, &Type::Number).unwrap();
    assert_eq!(&bytes[..2], &[0xd9, 100], "sent as a str8 decimal");
    assert_eq!(decode(&bytes, &Type::Number).unwrap().as_number().unwrap().to_string(), digits);
    let frac = format!("{digits}.{digits}");
    round_trip(&num(&frac), &Type::Number);
}

#[test]
fn number_wire_forms_are_cty_compact() {
    let enc = |s: &str| to_hex(&encode(&num(s), &Type::Number).unwrap());
    assert_eq!(enc("127"), "7f");
    assert_eq!(enc("128"), "cc 80");
    assert_eq!(enc("-32"), "e0");
    assert_eq!(enc("-33"), "d0 df");
    assert_eq!(enc("-129"), "d1 ff 7f");
    assert_eq!(enc("70000"), "ce 00 01 11 70");
    assert_eq!(enc("-2147483649"), "d3 ff ff ff ff 7f ff ff ff");
    // 2^63 is beyond int64 but an exact f64.
    assert_eq!(enc("9223372036854775808"), "cb 43 e0 00 00 00 00 00 00");
    assert_eq!(enc("18446744073709551615"), "b4 31 38 34 34 36 37 34 34 30 37 33 37 30 39 35 35 31 36 31 35");
    assert_eq!(enc("1.50"), "cb 3f f8 00 00 00 00 00 00");
}

#[test]
fn number_decode_accepts_every_form() {
    let dec = |h: &str| decode(&hex(h), &Type::Number).unwrap().as_number().unwrap().to_string();
    assert_eq!(dec("cc ff"), "255");
    assert_eq!(dec("cd ff ff"), "65535");
    assert_eq!(dec("ce ff ff ff ff"), "4294967295");
    assert_eq!(dec("cf ff ff ff ff ff ff ff ff"), "18446744073709551615");
    assert_eq!(dec("d0 80"), "-128");
    assert_eq!(dec("d1 80 00"), "-32768");
    assert_eq!(dec("d2 80 00 00 00"), "-2147483648");
    assert_eq!(dec("d3 80 00 00 00 00 00 00 00"), "-9223372036854775808");
    assert_eq!(dec("ca 3f 00 00 00"), "0.5");
    assert_eq!(dec("cb 43 e0 00 00 00 00 00 00"), "9223372036854775808");
    assert_eq!(dec("a3 31 65 33"), "1000");
    assert_eq!(dec("d9 03 2d 32 35"), "-25");
    for bad in ["a0", "a3 61 62 63", "a2 ff fe", "cb 7f f8 00 00 00 00 00 01", "c2", "90"] {
        assert!(decode(&hex(bad), &Type::Number).is_err(), "{bad}");
    }
}

#[test]
fn refined_unknowns_round_trip() {
    let ty_n = Type::Number;
    round_trip(
        &refined(|r| {
            r.not_null = true;
            r.number_lower = Some((Number::parse("-1.5").unwrap(), false));
            r.number_upper = Some((Number::parse("0.8").unwrap(), true));
        }),
        &ty_n,
    );
    round_trip(&refined(|r| r.number_upper = Some((Number::from_i64(100), false))), &ty_n);
    for ty in [Type::list(Type::String), Type::set(Type::Number), Type::map(Type::Bool)] {
        round_trip(&refined(|r| r.length_min = Some(3)), &ty);
        round_trip(&refined(|r| r.length_max = Some(u64::MAX)), &ty);
        round_trip(&refined(|r| r.not_null = true), &ty);
    }
    let obj = Type::object([("a", Type::String)]);
    round_trip(&refined(|r| r.not_null = true), &obj);
    round_trip(&refined(|r| r.not_null = true), &Type::Tuple(vec![Type::Bool]));
    round_trip(&refined(|r| r.not_null = true), &Type::Bool);
}

#[test]
fn refinements_that_do_not_apply_are_dropped() {
    // A string prefix on a number, bounds on a string, lengths on an object, anything on dynamic.
    let v = refined(|r| {
        r.string_prefix = Some("x".into());
        r.length_min = Some(2);
    });
    assert_eq!(to_hex(&encode(&v, &Type::Number).unwrap()), "d4 00 00");
    let v = refined(|r| {
        r.not_null = true;
        r.number_lower = Some((Number::from_i64(1), true));
    });
    assert_eq!(to_hex(&encode(&v, &Type::String).unwrap()), "c7 03 0c 81 01 c2");
    assert_eq!(to_hex(&encode(&v, &Type::Dynamic).unwrap()), "d4 00 00");
    // Decoding drops them the same way, so decode → encode → decode is stable.
    let prefix_on_number = hex("c7 09 0c 82 01 c2 02 a4 66 6f 6f 2d");
    assert_eq!(decode(&prefix_on_number, &Type::Number).unwrap(), refined(|r| r.not_null = true));
    assert_eq!(decode(&prefix_on_number, &Type::Dynamic).unwrap(), Value::unknown());
    // A minimum length of zero says nothing.
    let zero_min = refined(|r| r.length_min = Some(0));
    assert_eq!(to_hex(&encode(&zero_min, &Type::list(Type::String)).unwrap()), "d4 00 00");
}

#[test]
fn string_prefix_is_cut_to_256_bytes_at_a_char_boundary() {
    // 1 + 2·150 bytes: byte 256 falls inside an 'é', so the cut lands at 255.
    let long = format!("a{}", "\u{e9}".repeat(150));
    let v = refined(|r| r.string_prefix = Some(long.clone()));
    let bytes = encode(&v, &Type::String).unwrap();
    let want = format!("a{}", "\u{e9}".repeat(127));
    assert_eq!(want.len(), 255);
    assert_eq!(decode(&bytes, &Type::String).unwrap(), refined(|r| r.string_prefix = Some(want.clone())));
    // Exactly 256 ASCII bytes are kept whole; the payload is 1 + 1 + 3 + 256 bytes after c7.
    let ascii = "p".repeat(300);
    let bytes = encode(&refined(|r| r.string_prefix = Some(ascii)), &Type::String).unwrap();
    assert_eq!(to_hex(&bytes[..7]), "c8 01 05 0c 81 02 da");
    let back = decode(&bytes, &Type::String).unwrap();
    let Value::Unknown(r) = back else { panic!("{back:?}") };
    assert_eq!(r.string_prefix.unwrap().len(), 256);
    // A longer prefix arriving on the wire is normalised the same way.
    let mut wire = hex("c8 01 2f 0c 81 02 da 01 2a");
    wire.extend(std::iter::repeat_n(b'q', 298));
    let Value::Unknown(r) = decode(&wire, &Type::String).unwrap() else { panic!() };
    assert_eq!(r.string_prefix.unwrap().len(), 256);
}

#[test]
fn unknown_extension_rules() {
    // Length ≤ 1 is unrefined whatever the code; c7 with length 0 too.
    for h in ["d4 00 00", "d4 05 01", "c7 00 0c", "c7 01 63 00"] {
        assert_eq!(decode(&hex(h), &Type::String).unwrap(), Value::unknown(), "{h}");
    }
    // Longer payloads must be refinements.
    let err = decode(&hex("d5 05 81 01"), &Type::String).unwrap_err();
    expect![[r#"invalid unknown value: msgpack extension type 5 is not an unknown value"#]].assert_eq(&err.to_string());
    // Unknown keys are skipped, whatever they hold.
    let v = decode(&hex("c7 0a 0c 83 09 92 a1 78 c0 01 c2 07 80"), &Type::String).unwrap();
    assert_eq!(v, refined(|r| r.not_null = true));
    // nullness = true promises nothing.
    assert_eq!(decode(&hex("c7 03 0c 81 01 c3"), &Type::String).unwrap(), Value::unknown());
    // Infinite bounds mean no bound.
    let v = decode(&hex("c7 0d 0c 81 03 92 cb ff f0 00 00 00 00 00 00 c3"), &Type::Number).unwrap();
    assert_eq!(v, Value::unknown());
    // Oversized payloads are rejected, as cty does.
    let mut big = hex("c8 04 01 0c 81 02 da 03 fc");
    big.extend(std::iter::repeat_n(b'a', 0x3fc));
    assert!(matches!(decode(&big, &Type::String), Err(Error::InvalidUnknown { .. })));
    // Every fixext width is read; bytes after the refinement map inside the payload are ignored.
    for h in
        ["d6 0c 81 01 c2 00", "d7 0c 81 01 c2 00 00 00 00 00", "d8 0c 81 01 c2 00 00 00 00 00 00 00 00 00 00 00 00 00"]
    {
        assert_eq!(decode(&hex(h), &Type::String).unwrap(), refined(|r| r.not_null = true), "{h}");
    }
    assert!(decode(&hex("d5 0c 81 01"), &Type::String).is_err(), "a key without its value");
}

#[test]
fn ext_headers_match_payload_length() {
    // Payload of 4 bytes → fixext 4 (d6); of 8 → d7; of 16 → d8.
    let four = refined(|r| {
        r.not_null = true;
        r.length_min = Some(1);
    });
    // 82 01 c2 05 01 = 5 bytes → c7 05.
    assert_eq!(to_hex(&encode(&four, &Type::list(Type::Bool)).unwrap()), "c7 05 0c 82 01 c2 05 01");
    let v = refined(|r| r.string_prefix = Some("ab".into())); // 81 02 a2 61 62 = 5 bytes
    assert_eq!(to_hex(&encode(&v, &Type::String).unwrap()), "c7 05 0c 81 02 a2 61 62");
    let v = refined(|r| r.string_prefix = Some("abcde".into())); // 8 bytes → d7
    assert_eq!(to_hex(&encode(&v, &Type::String).unwrap()), "d7 0c 81 02 a5 61 62 63 64 65");
    let v = refined(|r| r.string_prefix = Some("a".into())); // 4 bytes → d6
    assert_eq!(to_hex(&encode(&v, &Type::String).unwrap()), "d6 0c 81 02 a1 61");
    let v = refined(|r| r.string_prefix = Some("abcdefghijklm".into())); // 16 bytes → d8
    let bytes = encode(&v, &Type::String).unwrap();
    assert_eq!(bytes[0], 0xd8);
    round_trip(&v, &Type::String);
}

#[test]
fn collections_round_trip() {
    let s = Value::string;
    round_trip(&Value::List(vec![s("a"), Value::Null, Value::unknown()]), &Type::list(Type::String));
    round_trip(&Value::List(vec![]), &Type::list(Type::String));
    round_trip(&Value::Set(vec![Value::int(1), Value::int(2)]), &Type::set(Type::Number));
    let nested = Value::List(vec![Value::List(vec![s("x")]), Value::List(vec![]), Value::Null]);
    round_trip(&nested, &Type::list(Type::list(Type::String)));
    let many = Value::List((0..70_000).map(Value::int).collect());
    round_trip(&many, &Type::list(Type::Number));
    let big_map = Value::Map((0..20).map(|i| (format!("k{i}"), Value::Bool(i % 2 == 0))).collect());
    round_trip(&big_map, &Type::map(Type::Bool));
    let tuple = Value::Tuple(vec![s("a"), Value::int(1), Value::Bool(true)]);
    round_trip(&tuple, &Type::Tuple(vec![Type::String, Type::Number, Type::Bool]));
    round_trip(&Value::Tuple(vec![]), &Type::Tuple(vec![]));
    let obj_ty = Type::object([("name", Type::String), ("ports", Type::list(Type::Number))]);
    let obj = Value::Object([("name".into(), s("n")), ("ports".into(), Value::List(vec![Value::int(80)]))].into());
    round_trip(&obj, &obj_ty);
    round_trip(&Value::List(vec![obj.clone(), Value::unknown()]), &Type::list(obj_ty.clone()));
    round_trip(&Value::Map([("a".into(), obj)].into()), &Type::map(obj_ty));
}

#[test]
fn empty_object() {
    let ty = Type::object(Vec::<(String, Type)>::new());
    assert_eq!(decode(&[0x80], &ty).unwrap(), Value::Object(BTreeMap::new()));
    assert_eq!(encode(&Value::Object(BTreeMap::new()), &ty).unwrap(), vec![0x80]);
}

#[test]
fn dynamic_values_round_trip() {
    let dy = |t: Type, v: Value| Value::Dynamic(t, Box::new(v));
    let cases = [
        dy(Type::String, Value::string("hi")),
        dy(Type::Number, Value::int(42)),
        dy(Type::Bool, Value::Bool(true)),
        dy(Type::list(Type::String), Value::List(vec![Value::string("a")])),
        dy(Type::String, Value::Null),
        dy(Type::String, Value::unknown()),
        dy(Type::String, refined(|r| r.string_prefix = Some("ab".into()))),
        dy(Type::object([("a", Type::Dynamic)]), Value::Object([("a".into(), dy(Type::Number, Value::int(1)))].into())),
        dy(Type::Tuple(vec![Type::String, Type::Number]), Value::Tuple(vec![Value::string("x"), Value::int(1)])),
        Value::Null,
        Value::unknown(),
    ];
    for v in &cases {
        round_trip(v, &Type::Dynamic);
    }
    // A dynamic attribute inside an object.
    let ty = Type::object([("manifest", Type::Dynamic), ("name", Type::String)]);
    let v = Value::Object([("manifest".into(), cases[7].clone()), ("name".into(), Value::string("n"))].into());
    round_trip(&v, &ty);
    // Null and unknown of dynamic are c0 and d4 00 00.
    assert_eq!(encode(&Value::Null, &Type::Dynamic).unwrap(), vec![0xc0]);
    assert_eq!(encode(&refined(|r| r.not_null = true), &Type::Dynamic).unwrap(), hex("d4 00 00"));
    // A long type JSON widens the bin header to bin16.
    let wide = Type::object((0..40).map(|i| (format!("attribute_{i:02}"), Type::String)));
    let val = Value::Object((0..40).map(|i| (format!("attribute_{i:02}"), Value::Null)).collect());
    let bytes = encode(&dy(wide.clone(), val.clone()), &Type::Dynamic).unwrap();
    assert_eq!(bytes[1], 0xc5);
    assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), dy(wide, val));
}

#[test]
fn implied_types_under_dynamic() {
    let v = Value::Object([("a".into(), Value::List(vec![Value::int(1)]))].into());
    let bytes = encode(&v, &Type::Dynamic).unwrap();
    let want = Value::Dynamic(Type::object([("a", Type::list(Type::Number))]), Box::new(v));
    assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), want);
    let err = encode(&Value::List(vec![]), &Type::Dynamic).unwrap_err();
    expect![[r#"cannot tell the type of a list under a dynamic type; wrap it in Value::Dynamic"#]]
        .assert_eq(&err.to_string());
}

// --- errors -----------------------------------------------------------------------------------

fn obj_ty() -> Type {
    Type::object([("id", Type::String), ("tags", Type::map(Type::String))])
}

#[test]
fn object_key_count_errors_name_the_key() {
    let ty = obj_ty();
    // {id="x"}: tags missing.
    let err = decode(&hex("81 a2 69 64 a1 78"), &ty).unwrap_err();
    expect![[r#"missing attribute "tags""#]].assert_eq(&err.to_string());
    // {id="x", tags=null, zz=null}: one too many.
    let err = decode(&hex("83 a2 69 64 a1 78 a4 74 61 67 73 c0 a2 7a 7a c0"), &ty).unwrap_err();
    expect![[r#"unsupported attribute "zz""#]].assert_eq(&err.to_string());
    // Right count, wrong name.
    let err = decode(&hex("82 a2 69 64 a1 78 a2 7a 7a c0"), &ty).unwrap_err();
    expect![[r#"unsupported attribute "zz""#]].assert_eq(&err.to_string());
    // Duplicate key.
    let err = decode(&hex("82 a2 69 64 a1 78 a2 69 64 a1 78"), &ty).unwrap_err();
    expect![[r#"duplicate key "id""#]].assert_eq(&err.to_string());
}

#[test]
fn errors_carry_the_attribute_path() {
    let ty = Type::object([("containers", Type::list(obj_ty()))]);
    // containers[0].tags["k"] is a bool where a string belongs.
    let bytes = hex("81 aa 636f6e7461696e657273 91 82 a2 69 64 a1 78 a4 74 61 67 73 81 a1 6b c3");
    let err = decode(&bytes, &ty).unwrap_err();
    expect![[r#"containers[0].tags["k"]: expected a string, found msgpack byte 0xc3"#]].assert_eq(&err.to_string());
    assert_eq!(err.path().to_string(), r#"containers[0].tags["k"]"#);
    // Encoding errors too.
    let v = Value::Object(
        [(
            "containers".into(),
            Value::List(vec![Value::Object([("id".into(), Value::int(1)), ("tags".into(), Value::Null)].into())]),
        )]
        .into(),
    );
    let err = encode(&v, &ty).unwrap_err();
    expect![[r#"containers[0].id: cannot encode a number as "string""#]].assert_eq(&err.to_string());
    let extra = Value::Object([("nope".into(), Value::Null)].into());
    expect![[r#"unsupported attribute "nope""#]].assert_eq(&encode(&extra, &ty).unwrap_err().to_string());
    let err = encode(&Value::Tuple(vec![]), &Type::Tuple(vec![Type::String])).unwrap_err();
    expect![[r#"tuple needs 1 elements, found 0"#]].assert_eq(&err.to_string());
}

#[test]
fn missing_object_attributes_encode_as_null() {
    let v = Value::Object([("id".into(), Value::string("x"))].into());
    assert_eq!(to_hex(&encode(&v, &obj_ty()).unwrap()), "82 a2 69 64 a1 78 a4 74 61 67 73 c0");
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let cases: &[(&str, Type)] = &[
        ("", Type::String),
        ("c1", Type::String),
        ("92 a1 61", Type::list(Type::String)),
        ("dd ff ff ff ff", Type::list(Type::String)),
        ("df ff ff ff ff", Type::map(Type::String)),
        ("db ff ff ff ff 61", Type::String),
        ("a1 61 a1 62", Type::String),
        ("93 01 02 03", Type::Tuple(vec![Type::Number])),
        ("92 c4 03 66 6f 6f c0", Type::Dynamic),
        ("93 c4 08 22737472696e6722 a2 68 69 c0", Type::Dynamic),
        ("c7 ff 0c", Type::String),
        ("c7 05 0c 85 01 c2 02 a1", Type::String),
        ("c7 03 0c 81 c0 c2", Type::String),
        ("c7 03 0c 81 05 ff", Type::list(Type::String)),
        ("c7 03 0c 81 03 01", Type::Number),
        ("c7 04 0c 81 03 91 01", Type::Number),
    ];
    for (h, ty) in cases {
        assert!(decode(&hex(h), ty).is_err(), "{h}");
    }
    let err = decode(&hex("a1 61 a1 62"), &Type::String).unwrap_err();
    expect![[r#"2 unexpected bytes after the msgpack value"#]].assert_eq(&err.to_string());
}

#[test]
fn every_truncation_of_valid_input_fails_cleanly() {
    let dy = Value::Dynamic(Type::list(Type::Number), Box::new(Value::List(vec![Value::int(300), num("0.8")])));
    let ty = Type::object([
        ("d", Type::Dynamic),
        ("s", Type::String),
        ("u", Type::String),
        ("m", Type::map(Type::Bool)),
        ("n", Type::Number),
    ]);
    let v = Value::Object(
        [
            ("d".into(), dy),
            ("s".into(), Value::string("x".repeat(40))),
            ("u".into(), refined(|r| r.string_prefix = Some("pre".into()))),
            ("m".into(), Value::Map([("k".into(), Value::Bool(true))].into())),
            ("n".into(), Value::int(1 << 40)),
        ]
        .into(),
    );
    let bytes = encode(&v, &ty).unwrap();
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut], &ty).is_err(), "prefix of {cut} bytes");
    }
}

#[test]
fn deep_nesting_is_bounded() {
    // An endless chain of dynamic values whose type is "dynamic" again.
    let mut bytes = Vec::new();
    for _ in 0..10_000 {
        bytes.extend(hex("92 c4 09 2264796e616d696322"));
    }
    bytes.push(0xc0);
    let err = decode(&bytes, &Type::Dynamic).unwrap_err();
    assert!(matches!(err, Error::TooDeep { .. }), "{err}");
    // Deep lists inside a dynamic type JSON hit serde_json's limit.
    let deep_ty = "[\"list\",".repeat(200) + "\"string\"" + &"]".repeat(200);
    let mut bytes = vec![0x92, 0xc5];
    bytes.extend((deep_ty.len() as u16).to_be_bytes());
    bytes.extend(deep_ty.as_bytes());
    bytes.push(0xc0);
    assert!(matches!(decode(&bytes, &Type::Dynamic), Err(Error::InvalidDynamicType { .. })));
    // Deep generic msgpack inside an ignored refinement key.
    let mut payload = vec![0x81, 0x09];
    payload.extend(std::iter::repeat_n(0x91, 900));
    payload.push(0xc0);
    let mut bytes = vec![0xc8];
    bytes.extend((payload.len() as u16).to_be_bytes());
    bytes.push(0x0c);
    bytes.extend(payload);
    assert!(decode(&bytes, &Type::String).is_err());
}

// --- properties -------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn prop_round_trip((ty, v) in arb_typed_value(true)) {
        let bytes = encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = decode(&bytes, &ty).map_err(|e| TestCaseError::fail(format!("{e} in {}", to_hex(&bytes))))?;
        prop_assert_eq!(back, v);
    }

    #[test]
    fn prop_decode_never_panics_and_is_stable(ty in arb_type(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(v) = decode(&bytes, &ty) {
            let again = encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(decode(&again, &ty).unwrap(), v);
        }
    }

    #[test]
    fn prop_mutated_encodings_never_panic((ty, v) in arb_typed_value(true), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut bytes = encode(&v, &ty).unwrap();
        if !bytes.is_empty() {
            for (i, b) in flips {
                let i = i.index(bytes.len());
                bytes[i] = b;
            }
        }
        if let Ok(v) = decode(&bytes, &ty) {
            let again = encode(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(decode(&again, &ty).unwrap(), v);
        }
    }
}
