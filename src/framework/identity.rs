//! Resource identity (protocol 6.9, Terraform ≥ 1.12): the few attributes that name the remote
//! object a resource owns. Terraform keeps them next to the state, `import { identity = {...} }`
//! adopts an object by them, and `terraform query` lists objects by them. Every identity attribute
//! here is a string.

use crate::cty::{Type, Value};
use std::collections::BTreeMap;

/// One identity attribute.
#[derive(Clone, Debug)]
pub struct IdentityAttribute {
    pub name: &'static str,
    /// Needed in `import { identity = {...} }`; the others default (e.g. to the provider's account).
    pub required_for_import: bool,
    pub description: &'static str,
}

/// A resource type's identity schema (version 0: none has changed yet).
#[derive(Clone, Debug)]
pub struct IdentitySchema {
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    /// An identity schema of `attributes`.
    pub fn new(attributes: Vec<IdentityAttribute>) -> Self {
        IdentitySchema { attributes }
    }

    /// The identity object's type: each attribute a string.
    pub fn ty(&self) -> Type {
        Type::object(self.attributes.iter().map(|a| (a.name, Type::String)))
    }

    /// The identity of `values` (attribute name → value), when every attribute is known; `None`
    /// while one is not (a create's plan), since Terraform keeps an identity whole or not at all.
    pub fn value(&self, values: &[(&str, Option<String>)]) -> Option<Value> {
        let mut m = BTreeMap::new();
        for a in &self.attributes {
            let v = values.iter().find(|(n, _)| *n == a.name).and_then(|(_, v)| v.clone())?;
            m.insert(a.name.to_string(), Value::String(v));
        }
        Some(Value::Object(m))
    }

    /// The string of attribute `name` in identity `v`, if set.
    pub fn get(v: &Value, name: &str) -> Option<String> {
        v.get_attr(name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
    }
}

/// Builds an [`IdentityAttribute`].
pub fn attribute(name: &'static str, required_for_import: bool, description: &'static str) -> IdentityAttribute {
    IdentityAttribute { name, required_for_import, description }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_is_whole_or_none() {
        let s = IdentitySchema::new(vec![attribute("name", true, "n"), attribute("account_id", false, "a")]);
        assert_eq!(s.ty(), Type::object([("account_id", Type::String), ("name", Type::String)]));
        let v = s.value(&[("name", Some("r".into())), ("account_id", Some("1".into()))]).expect("known");
        assert_eq!(IdentitySchema::get(&v, "name").as_deref(), Some("r"));
        assert!(s.value(&[("name", Some("r".into())), ("account_id", None)]).is_none());
    }
}
