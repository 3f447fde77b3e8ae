//! Provider functions (protocol 6.5): pure computations Terraform calls as
//! `provider::jenkins::<name>(...)`, declared here and served by `server`.
//!
//! A function sees decoded argument values, never protobuf; Terraform checks arity, nulls and
//! unknowns before calling, so `call` gets known, non-null values of the declared types.

use crate::cty::{Type, Value};
use std::collections::BTreeMap;

/// One declared parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
}

impl Parameter {
    pub fn new(name: &'static str, ty: Type, description: &'static str) -> Self {
        Parameter { name, ty, description }
    }
}

/// A function's failure: Terraform shows `text` at the call, pointing at `argument` when set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    pub text: String,
    /// Zero-based index of the argument at fault.
    pub argument: Option<usize>,
}

impl FunctionError {
    /// An error about the argument at `index`.
    pub fn at(index: usize, text: impl Into<String>) -> Self {
        FunctionError { text: text.into(), argument: Some(index) }
    }
}

/// A provider function.
pub trait Function: Send + Sync {
    fn name(&self) -> &'static str;
    /// One line, shown by editors and the docs' front matter.
    fn summary(&self) -> &'static str;
    /// Markdown: what it returns and when to use it.
    fn description(&self) -> &'static str;
    fn parameters(&self) -> Vec<Parameter>;
    fn return_type(&self) -> Type;
    fn call(&self, args: &[Value]) -> Result<Value, FunctionError>;
}

/// Fits a value of any type (as `dynamic` parameters receive it: HCL's tuples and objects) to
/// `ty`, the implied type of a schema: tuples become lists or sets, objects become maps, missing
/// object attributes null. An attribute `ty` does not have is an error naming it, as a typo in a
/// resource block would be.
pub fn conform(v: &Value, ty: &Type) -> Result<Value, String> {
    conform_at(v, ty, "")
}

fn conform_at(v: &Value, ty: &Type, at: &str) -> Result<Value, String> {
    let here = |s: &str| if at.is_empty() { s.to_owned() } else { format!("{at}{s}") };
    let bad = |want: &str| Err(format!("{}: expected {want}", if at.is_empty() { "the value" } else { at }));
    match (v, ty) {
        (Value::Dynamic(_, inner), _) => conform_at(inner, ty, at),
        (Value::Null, _) => Ok(Value::Null),
        (Value::Unknown(_), _) => Ok(v.clone()),
        (_, Type::Dynamic) => Ok(v.clone()),
        (Value::String(_), Type::String) | (Value::Bool(_), Type::Bool) | (Value::Number(_), Type::Number) => {
            Ok(v.clone())
        }
        (Value::Number(n), Type::String) => Ok(Value::String(n.to_string())),
        (Value::Bool(b), Type::String) => Ok(Value::String(b.to_string())),
        (Value::String(s), Type::Bool) => match s.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => bad("a bool"),
        },
        (Value::List(items) | Value::Tuple(items) | Value::Set(items), Type::List(e) | Type::Set(e)) => {
            let out = items
                .iter()
                .enumerate()
                .map(|(i, x)| conform_at(x, e, &here(&format!("[{i}]"))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) { Value::Set(out) } else { Value::List(out) })
        }
        (Value::Map(m) | Value::Object(m), Type::Map(e)) => {
            let out = m
                .iter()
                .map(|(k, x)| Ok((k.clone(), conform_at(x, e, &here(&format!("[{k:?}]")))?)))
                .collect::<Result<BTreeMap<_, _>, String>>()?;
            Ok(Value::Map(out))
        }
        (Value::Map(m) | Value::Object(m), Type::Object { attrs, .. }) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                let known: Vec<&str> = attrs.keys().map(String::as_str).collect();
                return Err(format!(
                    "{} has no attribute {extra:?} (it takes: {})",
                    here_or_value(at),
                    known.join(", ")
                ));
            }
            let out = attrs
                .iter()
                .map(|(k, t)| {
                    let sub = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                    Ok((k.clone(), m.get(k).map(|x| conform_at(x, t, &sub)).transpose()?.unwrap_or(Value::Null)))
                })
                .collect::<Result<BTreeMap<_, _>, String>>()?;
            Ok(Value::Object(out))
        }
        (_, Type::String) => bad("a string"),
        (_, Type::Number) => bad("a number"),
        (_, Type::Bool) => bad("a bool"),
        (_, Type::List(_) | Type::Set(_) | Type::Tuple(_)) => bad("a list"),
        (_, Type::Map(_)) => bad("a map"),
        (_, Type::Object { .. }) => bad("an object"),
    }
}

fn here_or_value(at: &str) -> &str {
    if at.is_empty() { "the object" } else { at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn hcl_literals_fit_a_schema_type() {
        let ty = Type::object([
            ("name", Type::String),
            ("labels", Type::list(Type::String)),
            ("env", Type::map(Type::String)),
            ("hop", Type::list(Type::object([("name", Type::String), ("port", Type::Number)]))),
        ]);
        let literal = obj(&[
            ("name", Value::string("eks")),
            ("labels", Value::Tuple(vec![Value::string("a")])),
            ("env", obj(&[("A", Value::string("1"))])),
            ("hop", Value::Tuple(vec![obj(&[("name", Value::string("x"))])])),
        ]);
        let got = conform(&Value::Dynamic(Type::Dynamic, Box::new(literal)), &ty).expect("conforms");
        assert_eq!(got.get_attr("labels"), Some(&Value::List(vec![Value::string("a")])));
        assert_eq!(got.get_attr("env"), Some(&Value::Map(BTreeMap::from([("A".into(), Value::string("1"))]))));
        let hop = got.get_attr("hop").cloned().expect("hop");
        let Value::List(hops) = hop else { panic!("a list: {hop:?}") };
        assert_eq!(hops[0].get_attr("port"), Some(&Value::Null), "a missing attribute is null");
    }

    #[test]
    fn a_typo_or_a_wrong_shape_is_named() {
        let ty = Type::object([("name", Type::String), ("hop", Type::list(Type::object([("name", Type::String)])))]);
        let typo = obj(&[("nmae", Value::string("x"))]);
        let e = conform(&typo, &ty).expect_err("unknown attribute");
        assert!(e.contains("\"nmae\"") && e.contains("hop, name"), "{e}");
        let nested = obj(&[("hop", Value::Tuple(vec![obj(&[("role", Value::string("r"))])]))]);
        let e = conform(&nested, &ty).expect_err("unknown nested attribute");
        assert!(e.starts_with("hop[0] has no attribute \"role\""), "{e}");
        let shape = obj(&[("name", Value::Tuple(vec![]))]);
        assert_eq!(conform(&shape, &ty).expect_err("shape"), "name: expected a string");
    }
}
