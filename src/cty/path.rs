//! Attribute paths: where in a value a diagnostic or a replacement applies.

use std::fmt;

/// One step into a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute or a block type name.
    Attr(String),
    /// A map key.
    Key(String),
    /// A list or tuple index.
    Index(i64),
}

/// A path from the root of a resource's object to one value inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    /// The empty path: the whole object.
    pub fn root() -> Self {
        AttributePath(Vec::new())
    }
    /// A path of one attribute step.
    pub fn attr(name: impl Into<String>) -> Self {
        AttributePath(vec![PathStep::Attr(name.into())])
    }
    /// This path followed by an attribute step.
    pub fn then_attr(&self, name: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(PathStep::Attr(name.into()));
        p
    }
    /// This path followed by a list index.
    pub fn then_index(&self, i: i64) -> Self {
        let mut p = self.clone();
        p.0.push(PathStep::Index(i));
        p
    }
    /// This path followed by a map key.
    pub fn then_key(&self, k: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(PathStep::Key(k.into()));
        p
    }
    /// True for the whole-object path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for AttributePath {
    /// Renders like HCL: `tool_container[0].name`, `labels["x"]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Renders a non-root path as a `path: ` prefix of a codec error message (nothing at the root).
pub(crate) struct At<'a>(pub(crate) &'a AttributePath);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_root() { Ok(()) } else { write!(f, "{}: ", self.0) }
    }
}
