//! cty values: known, null, or unknown with refinements.

use super::{Number, Type};
use std::collections::BTreeMap;

/// What Terraform promises about a value it does not know yet (msgpack ext 12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refinements {
    /// The value will not be null.
    pub not_null: bool,
    /// A known prefix of a string value.
    pub string_prefix: Option<String>,
    /// Lower bound of a number: (bound, inclusive).
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of a number: (bound, inclusive).
    pub number_upper: Option<(Number, bool)>,
    /// Minimum length of a collection.
    pub length_min: Option<u64>,
    /// Maximum length of a collection.
    pub length_max: Option<u64>,
}

impl Refinements {
    /// True when nothing is promised (encoded as the plain unknown `d4 00 00`).
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A cty value. Values are untyped here; the schema's type drives encoding and decoding, except
/// under `Type::Dynamic`, where the decoder yields [`Value::Dynamic`] carrying the concrete type.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements in no particular order; equality ignores order.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    Object(BTreeMap<String, Value>),
    /// A value of a dynamically typed attribute, with its concrete type.
    Dynamic(Type, Box<Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Unknown(a), Unknown(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (String(a), String(b)) => a == b,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            (Set(a), Set(b)) => set_eq(a, b),
            (Map(a), Map(b)) | (Object(a), Object(b)) => a == b,
            (Dynamic(ta, a), Dynamic(tb, b)) => ta == tb && a == b,
            _ => false,
        }
    }
}

fn set_eq(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    'outer: for x in a {
        for (i, y) in b.iter().enumerate() {
            if !used[i] && x == y {
                used[i] = true;
                continue 'outer;
            }
        }
        return false;
    }
    true
}

impl Value {
    /// An unknown value with no refinements.
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }
    /// A known string.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    /// A known number from an `i64`.
    pub fn int(n: i64) -> Value {
        Value::Number(Number::from_i64(n))
    }
    /// True for null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// True for an unknown value at this level (inner values may still be unknown otherwise).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }
    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }
    /// An object attribute, or `None` if this is not an object or has no such attribute.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(name),
            _ => None,
        }
    }
    /// Mutable access to an object attribute.
    pub fn get_attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(name),
            _ => None,
        }
    }
    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
    /// The integer, if this is a known integral number within `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::to_i64)
    }
    /// The elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }
    /// The type a known value evidently has, used when it must travel under `dynamic` without a
    /// [`Value::Dynamic`] wrapper. `None` when it cannot be told: null or unknown parts, an empty
    /// collection, or elements of differing types.
    pub fn implied_type(&self) -> Option<Type> {
        fn common<'a>(mut items: impl Iterator<Item = &'a Value>) -> Option<Type> {
            let first = items.next()?.implied_type()?;
            items.all(|v| v.implied_type().as_ref() == Some(&first)).then_some(first)
        }
        match self {
            Value::Null | Value::Unknown(_) => None,
            Value::Bool(_) => Some(Type::Bool),
            Value::Number(_) => Some(Type::Number),
            Value::String(_) => Some(Type::String),
            Value::List(v) => common(v.iter()).map(Type::list),
            Value::Set(v) => common(v.iter()).map(Type::set),
            Value::Map(m) => common(m.values()).map(Type::map),
            Value::Tuple(v) => v.iter().map(Value::implied_type).collect::<Option<_>>().map(Type::Tuple),
            Value::Object(m) => m
                .iter()
                .map(|(k, v)| Some((k.clone(), v.implied_type()?)))
                .collect::<Option<Vec<_>>>()
                .map(Type::object),
            Value::Dynamic(t, _) => Some(t.clone()),
        }
    }
    /// A short name of the value's kind, for error messages.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "an unknown value",
            Value::Bool(_) => "a bool",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Set(_) => "a set",
            Value::Map(_) => "a map",
            Value::Tuple(_) => "a tuple",
            Value::Object(_) => "an object",
            Value::Dynamic(..) => "a dynamic value",
        }
    }
    /// The entries of a map or object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }
}
