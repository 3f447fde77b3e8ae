//! Schemas: what a resource's object looks like, declared once, read by every RPC.
//!
//! The schema is the single source of truth: the wire schema, the implied cty type, the plan
//! pipeline's defaults and modifiers, validation and the generated docs all come from it.

use super::validators::Validator;
use crate::cty::{Type, Value};
use std::collections::BTreeMap;

/// A resource or provider schema with its state version.
#[derive(Clone, Debug)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

/// Attributes and nested blocks of one object.
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

/// How nested blocks or nested attributes repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    Group,
    List,
    Set,
    Map,
}

/// A nested block type such as `tool_container { ... }`.
#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub type_name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

/// What an attribute holds: a plain cty type, or nested attributes.
#[derive(Clone, Debug)]
pub enum AttributeType {
    Type(Type),
    Nested { nesting: Nesting, attributes: Vec<Attribute> },
}

/// Per-attribute planning behaviour, applied by the framework's plan pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanModifier {
    /// A change of this attribute destroys and re-creates the object.
    RequiresReplace,
    /// A computed value that never changes once known: keep the prior value instead of unknown.
    UseStateForUnknown,
}

/// One attribute of a block.
#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: String,
    pub ty: AttributeType,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    pub default: Option<Value>,
    pub validators: Vec<Validator>,
    pub plan_modifiers: Vec<PlanModifier>,
}

impl Attribute {
    /// An attribute of any cty type; set exactly one of required / optional / computed next.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty: AttributeType::Type(ty),
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            default: None,
            validators: Vec::new(),
            plan_modifiers: Vec::new(),
        }
    }
    /// A string attribute.
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }
    /// A number attribute.
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }
    /// A bool attribute.
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }
    /// A list of strings.
    pub fn string_list(name: impl Into<String>) -> Self {
        Self::new(name, Type::list(Type::String))
    }
    /// A map of strings.
    pub fn string_map(name: impl Into<String>) -> Self {
        Self::new(name, Type::map(Type::String))
    }
    /// Nested attributes (`attr = [{...}]` in HCL), as opposed to a nested block.
    pub fn nested(name: impl Into<String>, nesting: Nesting, attributes: Vec<Attribute>) -> Self {
        let mut a = Self::new(name, Type::Dynamic);
        a.ty = AttributeType::Nested { nesting, attributes };
        a
    }
    /// The user must set it.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// The user may set it.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    /// The provider sets it (with `optional`, when the user leaves it out).
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    /// Hidden in plan output and logs.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Only in configuration, never in plan or state (Terraform ≥ 1.11).
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
    /// The value used when the configuration leaves it null. Makes the attribute optional+computed, so
    /// the default shows in the plan and state stays stable.
    pub fn default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self.optional = true;
        self.computed = true;
        self
    }
    /// Markdown description for docs and `terraform providers schema`.
    pub fn describe(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// Checks the configured value at validate time.
    pub fn validate(mut self, v: Validator) -> Self {
        self.validators.push(v);
        self
    }
    /// A change of this attribute replaces the object.
    pub fn requires_replace(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::RequiresReplace);
        self
    }
    /// Keep the prior value of this computed attribute instead of marking it unknown.
    pub fn use_state_for_unknown(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::UseStateForUnknown);
        self
    }
    /// The cty type this attribute's values have.
    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttributeType::Type(t) => t.clone(),
            AttributeType::Nested { nesting, attributes } => {
                let obj = Type::object(attributes.iter().map(|a| (a.name.clone(), a.value_type())));
                wrap(*nesting, obj)
            }
        }
    }
}

fn wrap(nesting: Nesting, obj: Type) -> Type {
    match nesting {
        Nesting::Single | Nesting::Group => obj,
        Nesting::List => Type::list(obj),
        Nesting::Set => Type::set(obj),
        Nesting::Map => Type::map(obj),
    }
}

impl NestedBlock {
    /// A repeated block kept in order (`tool_container { }` ...).
    pub fn list(type_name: impl Into<String>, block: Block) -> Self {
        NestedBlock { type_name: type_name.into(), nesting: Nesting::List, block, min_items: 0, max_items: 0 }
    }
    /// At most one block.
    pub fn single(type_name: impl Into<String>, block: Block) -> Self {
        NestedBlock { type_name: type_name.into(), nesting: Nesting::Single, block, min_items: 0, max_items: 0 }
    }
    /// The cty type of the block's value.
    pub fn value_type(&self) -> Type {
        wrap(self.nesting, self.block.implied_type())
    }
}

impl Block {
    /// A block with a description.
    pub fn new(description: impl Into<String>) -> Self {
        Block { description: description.into(), ..Default::default() }
    }
    /// Adds an attribute.
    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    /// Adds a nested block type.
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }
    /// The object type of this block's values.
    pub fn implied_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), a.value_type());
        }
        for b in &self.blocks {
            attrs.insert(b.type_name.clone(), b.value_type());
        }
        Type::object(attrs)
    }
    /// The attribute with this name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    /// The nested block type with this name.
    pub fn nested_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }
    /// The empty value of a nested block as Terraform encodes "no blocks": null for single, an empty
    /// list/set/map otherwise (never null).
    pub fn empty_nested(b: &NestedBlock) -> Value {
        match b.nesting {
            Nesting::Single | Nesting::Group => Value::Null,
            Nesting::List => Value::List(Vec::new()),
            Nesting::Set => Value::Set(Vec::new()),
            Nesting::Map => Value::Map(BTreeMap::new()),
        }
    }
    /// An object of this block with every attribute null and every nested block empty.
    pub fn null_object(&self) -> Value {
        let mut m = BTreeMap::new();
        for a in &self.attributes {
            m.insert(a.name.clone(), Value::Null);
        }
        for b in &self.blocks {
            m.insert(b.type_name.clone(), Self::empty_nested(b));
        }
        Value::Object(m)
    }
}

impl Schema {
    /// A schema at version 0.
    pub fn new(block: Block) -> Self {
        Schema { version: 0, block }
    }
    /// The same schema at state `version` (bumped when a state's shape changes; the resource's
    /// `upgrade_state` takes older ones).
    pub fn versioned(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The object type of the whole resource.
    pub fn implied_type(&self) -> Type {
        self.block.implied_type()
    }
}
