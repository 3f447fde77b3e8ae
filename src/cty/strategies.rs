//! proptest strategies for `(Type, Value)` pairs, shared by the codec round-trip tests.
//!
//! Generated values are in the codecs' normal form (refinements only where they apply to the
//! type, string prefixes within 256 bytes), so a round trip must reproduce them exactly.

use super::{Number, Refinements, Type, Value};
use proptest::prelude::*;
use proptest::strategy::Union;
use std::collections::{BTreeMap, BTreeSet};

fn leaf(dynamic: bool) -> BoxedStrategy<Type> {
    if dynamic {
        prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool), Just(Type::Dynamic)].boxed()
    } else {
        prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)].boxed()
    }
}

fn nest(leaf: BoxedStrategy<Type>, depth: u32) -> BoxedStrategy<Type> {
    leaf.prop_recursive(depth, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Type::Tuple),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..5)
                .prop_map(|attrs| Type::Object { attrs, optional: BTreeSet::new() }),
        ]
    })
    .boxed()
}

/// Any type, `dynamic` included at any level.
pub fn arb_type() -> BoxedStrategy<Type> {
    nest(leaf(true), 3)
}

/// The concrete type carried inside a [`Value::Dynamic`]: no `dynamic` anywhere, so generation
/// terminates.
fn arb_concrete_type() -> BoxedStrategy<Type> {
    nest(leaf(false), 2)
}

/// Numbers of every wire form: small and large ints, u64 beyond i64, floats, long decimals.
pub fn arb_number() -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from_i64),
        any::<u64>().prop_map(Number::from_u64),
        (-1000i64..1000).prop_map(Number::from_i64),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        ("-?[1-9][0-9]{0,99}", 0u32..40).prop_filter_map("parses", |(d, s)| Number::parse(&format!("{d}e-{s}"))),
    ]
    .boxed()
}

fn arb_refinements(ty: &Type) -> BoxedStrategy<Refinements> {
    let bound = || proptest::option::of((arb_number(), any::<bool>()));
    match ty {
        Type::Dynamic => Just(Refinements::default()).boxed(),
        Type::String => (any::<bool>(), proptest::option::of("\\PC{1,60}"))
            .prop_map(|(not_null, string_prefix)| Refinements { not_null, string_prefix, ..Default::default() })
            .boxed(),
        Type::Number => (any::<bool>(), bound(), bound())
            .prop_map(|(not_null, number_lower, number_upper)| Refinements {
                not_null,
                number_lower,
                number_upper,
                ..Default::default()
            })
            .boxed(),
        Type::List(_) | Type::Set(_) | Type::Map(_) => {
            (any::<bool>(), proptest::option::of(1u64..), proptest::option::of(any::<u64>()))
                .prop_map(|(not_null, length_min, length_max)| Refinements {
                    not_null,
                    length_min,
                    length_max,
                    ..Default::default()
                })
                .boxed()
        }
        _ => any::<bool>().prop_map(|not_null| Refinements { not_null, ..Default::default() }).boxed(),
    }
}

/// A value conforming to `ty`: null, (when `unknowns`) a refined unknown, or known, at every level.
pub fn arb_value(ty: &Type, unknowns: bool) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::String => "\\PC{0,40}".prop_map(Value::String).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::List(e) => prop::collection::vec(arb_value(e, unknowns), 0..4).prop_map(Value::List).boxed(),
        Type::Set(e) => prop::collection::vec(arb_value(e, unknowns), 0..4).prop_map(Value::Set).boxed(),
        Type::Map(e) => {
            prop::collection::btree_map("\\PC{0,8}", arb_value(e, unknowns), 0..4).prop_map(Value::Map).boxed()
        }
        Type::Tuple(types) => {
            types.iter().map(|t| arb_value(t, unknowns)).collect::<Vec<_>>().prop_map(Value::Tuple).boxed()
        }
        Type::Object { attrs, .. } => {
            let names: Vec<String> = attrs.keys().cloned().collect();
            attrs
                .values()
                .map(|t| arb_value(t, unknowns))
                .collect::<Vec<_>>()
                .prop_map(move |vals| Value::Object(names.iter().cloned().zip(vals).collect::<BTreeMap<_, _>>()))
                .boxed()
        }
        Type::Dynamic => arb_concrete_type()
            .prop_flat_map(move |t| arb_value(&t, unknowns).prop_map(move |v| Value::Dynamic(t.clone(), Box::new(v))))
            .boxed(),
    };
    let mut options = vec![(1, Just(Value::Null).boxed()), (6, known)];
    if unknowns {
        options.push((1, arb_refinements(ty).prop_map(Value::Unknown).boxed()));
    }
    Union::new_weighted(options).boxed()
}

/// A type and a value of it.
pub fn arb_typed_value(unknowns: bool) -> BoxedStrategy<(Type, Value)> {
    arb_type().prop_flat_map(move |t| arb_value(&t, unknowns).prop_map(move |v| (t.clone(), v))).boxed()
}
