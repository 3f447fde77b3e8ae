//! cty JSON codec: `RawState.json`, `DynamicValue.json` and other JSON-encoded values.
//!
//! Owns cty's JSON form (`tfplugin-protocol.md` §3.4): `null`, numbers as exact decimals, sets as
//! arrays, `dynamic` as `{"value":V,"type":T}`, and no unknowns. The decoder is tolerant in the way
//! stored state needs (like the framework's `IgnoreUndefinedAttributes`): object keys the type does
//! not declare are ignored and missing ones become null. Nesting is bounded by serde_json's
//! recursion limit.

use super::path::At;
use super::type_json::{TypeJsonError, write_json_string};
use super::{AttributePath, Number, PathStep, Type, Value};
use serde_json::Value as J;
use std::collections::BTreeMap;

/// Why JSON could not be decoded under a type, or a value could not be encoded as JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not JSON at all (or nested deeper than serde_json allows).
    #[error("invalid JSON: {message}")]
    Syntax { message: String },
    /// A JSON value of the wrong kind for the type, or a value of the wrong kind to encode.
    #[error("{}expected {expected}, found {found}", At(.path))]
    TypeMismatch { path: AttributePath, expected: String, found: &'static str },
    /// A number that is not a decimal within [`Number`]'s limits.
    #[error("{}invalid number {text:?}", At(.path))]
    InvalidNumber { path: AttributePath, text: String },
    /// A tuple with the wrong number of elements.
    #[error("{}tuple needs {expected} elements, found {found}", At(.path))]
    WrongLength { path: AttributePath, expected: usize, found: usize },
    /// A dynamic value's `"type"` is missing or is not type JSON.
    #[error("{}invalid dynamic value type: {source}", At(.path))]
    InvalidDynamicType {
        path: AttributePath,
        #[source]
        source: TypeJsonError,
    },
    /// Encoding: JSON has no unknowns.
    #[error("{}unknown values cannot be encoded as JSON", At(.path))]
    Unknown { path: AttributePath },
    /// Encoding: an attribute the object type does not declare.
    #[error("{}unsupported attribute {name:?}", At(.path))]
    UnexpectedAttribute { path: AttributePath, name: String },
    /// Encoding: a value under `dynamic` whose type cannot be inferred.
    #[error("{}cannot tell the type of {found} under a dynamic type; wrap it in Value::Dynamic", At(.path))]
    DynamicWithoutType { path: AttributePath, found: &'static str },
}

/// The `path` field of any variant but `Syntax`; one match serves `&Error` and `&mut Error`.
macro_rules! path_of {
    ($error:expr) => {
        match $error {
            Error::Syntax { .. } => None,
            Error::TypeMismatch { path, .. }
            | Error::InvalidNumber { path, .. }
            | Error::WrongLength { path, .. }
            | Error::InvalidDynamicType { path, .. }
            | Error::Unknown { path }
            | Error::UnexpectedAttribute { path, .. }
            | Error::DynamicWithoutType { path, .. } => Some(path),
        }
    };
}

impl Error {
    /// Where in the value the error happened (the root for syntax errors).
    pub fn path(&self) -> Option<&AttributePath> {
        path_of!(self)
    }

    /// Adds one step while unwinding; steps arrive innermost first and [`Error::finish`] reverses.
    fn at(mut self, step: PathStep) -> Self {
        if let Some(p) = self.path_mut() {
            p.0.push(step);
        }
        self
    }

    fn finish(mut self) -> Self {
        if let Some(p) = self.path_mut() {
            p.0.reverse();
        }
        self
    }

    fn path_mut(&mut self) -> Option<&mut AttributePath> {
        path_of!(self)
    }
}

type Res<T> = Result<T, Error>;

fn root() -> AttributePath {
    AttributePath::root()
}

fn type_name(ty: &Type) -> String {
    String::from_utf8_lossy(&ty.to_json()).into_owned()
}

fn json_kind(j: &J) -> &'static str {
    match j {
        J::Null => "null",
        J::Bool(_) => "a JSON bool",
        J::Number(_) => "a JSON number",
        J::String(_) => "a JSON string",
        J::Array(_) => "a JSON array",
        J::Object(_) => "a JSON object",
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Decodes cty JSON under `ty`, tolerantly (see the module docs). Empty or all-whitespace input is
/// null, which is what an absent `RawState.json` means.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let j: J = serde_json::from_slice(bytes).map_err(|e| Error::Syntax { message: e.to_string() })?;
    from_json(&j, ty)
}

/// Converts an already parsed JSON value, tolerantly, under `ty`.
pub fn from_json(j: &J, ty: &Type) -> Result<Value, Error> {
    convert(j, ty).map_err(Error::finish)
}

fn convert(j: &J, ty: &Type) -> Res<Value> {
    if j.is_null() {
        return Ok(Value::Null);
    }
    let mismatch = || Error::TypeMismatch { path: root(), expected: type_name(ty), found: json_kind(j) };
    Ok(match (ty, j) {
        (Type::String, J::String(s)) => Value::String(s.clone()),
        // cty converts JSON primitives to string when the type asks for one.
        (Type::String, J::Number(n)) => Value::String(n.to_string()),
        (Type::String, J::Bool(b)) => Value::String(b.to_string()),
        (Type::Number, J::Number(n)) => Value::Number(parse_number(&n.to_string())?),
        (Type::Number, J::String(s)) => Value::Number(parse_number(s)?),
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Bool, J::String(s)) if s == "true" || s == "false" => Value::Bool(s == "true"),
        (Type::List(e), J::Array(items)) => Value::List(sequence(items, e)?),
        (Type::Set(e), J::Array(items)) => Value::Set(sequence(items, e)?),
        (Type::Tuple(types), J::Array(items)) => {
            if items.len() != types.len() {
                return Err(Error::WrongLength { path: root(), expected: types.len(), found: items.len() });
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                out.push(convert(item, t).map_err(|e| e.at(PathStep::Index(i as i64)))?);
            }
            Value::Tuple(out)
        }
        (Type::Map(e), J::Object(members)) => {
            let mut out = BTreeMap::new();
            for (k, item) in members {
                out.insert(k.clone(), convert(item, e).map_err(|err| err.at(PathStep::Key(k.clone())))?);
            }
            Value::Map(out)
        }
        (Type::Object { attrs, .. }, J::Object(members)) => {
            let mut out = BTreeMap::new();
            for (name, t) in attrs {
                let v = match members.get(name) {
                    Some(item) => convert(item, t).map_err(|e| e.at(PathStep::Attr(name.clone())))?,
                    None => Value::Null,
                };
                out.insert(name.clone(), v);
            }
            Value::Object(out)
        }
        (Type::Dynamic, J::Object(members)) => {
            let t = match members.get("type") {
                Some(t) => Type::from_json_value(t),
                None => Err(TypeJsonError::Shape("a dynamic value needs a \"type\" member".into())),
            }
            .map_err(|source| Error::InvalidDynamicType { path: root(), source })?;
            let inner = convert(members.get("value").unwrap_or(&J::Null), &t)?;
            Value::Dynamic(t, Box::new(inner))
        }
        _ => return Err(mismatch()),
    })
}

fn sequence(items: &[J], elem: &Type) -> Res<Vec<Value>> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(convert(item, elem).map_err(|e| e.at(PathStep::Index(i as i64)))?);
    }
    Ok(out)
}

fn parse_number(text: &str) -> Res<Number> {
    Number::parse(text).ok_or_else(|| {
        let end = text.char_indices().nth(64).map_or(text.len(), |(i, _)| i);
        Error::InvalidNumber { path: root(), text: text[..end].to_owned() }
    })
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// Encodes a wholly known value as cty JSON under `ty`. Objects list every attribute of the type
/// (missing ones as null), with keys sorted. The same leniencies as [`super::msgpack::encode`].
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    write(&mut out, v, ty).map_err(Error::finish)?;
    Ok(out)
}

fn write(out: &mut Vec<u8>, v: &Value, ty: &Type) -> Res<()> {
    match (v, ty) {
        (Value::Unknown(_), _) => return Err(Error::Unknown { path: root() }),
        (Value::Null, _) => out.extend_from_slice(b"null"),
        (_, Type::Dynamic) => {
            let (t, inner) = match v {
                Value::Dynamic(t, inner) => (std::borrow::Cow::Borrowed(t), &**inner),
                other => match other.implied_type() {
                    Some(t) => (std::borrow::Cow::Owned(t), other),
                    None => return Err(Error::DynamicWithoutType { path: root(), found: other.kind_name() }),
                },
            };
            out.extend_from_slice(b"{\"value\":");
            write(out, inner, &t)?;
            out.extend_from_slice(b",\"type\":");
            t.write_json(out);
            out.push(b'}');
        }
        (Value::Dynamic(_, inner), _) => write(out, inner, ty)?,
        (Value::String(s), Type::String) => write_json_string(out, s),
        (Value::Number(n), Type::Number) => out.extend_from_slice(n.to_string().as_bytes()),
        (Value::Bool(b), Type::Bool) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::List(e) | Type::Set(e)) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, item, e).map_err(|err| err.at(PathStep::Index(i as i64)))?;
            }
            out.push(b']');
        }
        (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(Error::WrongLength { path: root(), expected: types.len(), found: items.len() });
            }
            out.push(b'[');
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, item, t).map_err(|err| err.at(PathStep::Index(i as i64)))?;
            }
            out.push(b']');
        }
        (Value::Map(m) | Value::Object(m), Type::Map(e)) => {
            out.push(b'{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_string(out, k);
                out.push(b':');
                write(out, item, e).map_err(|err| err.at(PathStep::Key(k.clone())))?;
            }
            out.push(b'}');
        }
        (Value::Map(m) | Value::Object(m), Type::Object { attrs, .. }) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(Error::UnexpectedAttribute { path: root(), name: extra.clone() });
            }
            out.push(b'{');
            for (i, (name, t)) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_string(out, name);
                out.push(b':');
                match m.get(name) {
                    Some(item) => write(out, item, t).map_err(|err| err.at(PathStep::Attr(name.clone())))?,
                    None => out.extend_from_slice(b"null"),
                }
            }
            out.push(b'}');
        }
        _ => return Err(Error::TypeMismatch { path: root(), expected: type_name(ty), found: v.kind_name() }),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
