//! cty types: the shape a value is encoded and decoded against.

use std::collections::{BTreeMap, BTreeSet};

/// A cty type. Object attributes are kept sorted, as cty does on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    String,
    Number,
    Bool,
    /// Any type: values carry their concrete type next to them on the wire.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object {
        attrs: BTreeMap<String, Type>,
        /// Attributes marked optional in a type constraint (`["object",{..},["a"]]`).
        optional: BTreeSet<String>,
    },
}

impl Type {
    /// `list(elem)`.
    pub fn list(elem: Type) -> Type {
        Type::List(Box::new(elem))
    }
    /// `set(elem)`.
    pub fn set(elem: Type) -> Type {
        Type::Set(Box::new(elem))
    }
    /// `map(elem)`.
    pub fn map(elem: Type) -> Type {
        Type::Map(Box::new(elem))
    }
    /// An object type with no optional attributes.
    pub fn object<I, K>(attrs: I) -> Type
    where
        I: IntoIterator<Item = (K, Type)>,
        K: Into<String>,
    {
        Type::Object { attrs: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(), optional: BTreeSet::new() }
    }

    /// The element type of a list, set or map.
    pub fn element(&self) -> Option<&Type> {
        match self {
            Type::List(e) | Type::Set(e) | Type::Map(e) => Some(e),
            _ => None,
        }
    }

    /// The attribute types of an object.
    pub fn attributes(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object { attrs, .. } => Some(attrs),
            _ => None,
        }
    }
}
