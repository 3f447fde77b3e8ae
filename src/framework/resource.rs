//! The `Resource` trait: what one resource type implements. The framework does the rest.
//!
//! Resources see cty values shaped by their own schema, never protobuf types. Only `create`, `read`,
//! `update` and `delete` are required; everything else has a default that is right for most types.

use super::{Diagnostics, Schema};
use crate::cty::{AttributePath, Value};
use async_trait::async_trait;

/// The inputs of a plan, after the framework's own pipeline ran.
pub struct PlanContext<'a> {
    /// The configuration as written, unknowns included.
    pub config: &'a Value,
    /// The state before this plan; `Value::Null` on create.
    pub prior: &'a Value,
}

/// What `modify_plan` may change: the planned object and the paths that force replacement.
pub struct PlanChange {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

/// One object a `list` block found.
pub struct Listed {
    pub identity: Value,
    pub display_name: String,
    pub object: Option<Value>,
}

/// One resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    /// The Terraform type name, e.g. `jenkins_pod_template`.
    fn type_name(&self) -> &'static str;

    /// The schema; built on every call, so keep it cheap.
    fn schema(&self) -> Schema;

    /// Checks across attributes that validators cannot express. Values may be unknown. `schema`
    /// is the one the server built at start (for defaults), so validation never rebuilds it.
    fn validate(&self, _schema: &Schema, _config: &Value, _diags: &mut Diagnostics) {}

    /// Adjusts the plan after defaults, unknown-marking and attribute modifiers.
    async fn modify_plan(&self, _ctx: PlanContext<'_>, _change: &mut PlanChange, _diags: &mut Diagnostics) {}

    /// Adds diagnostics to a destroy plan (e.g. what deleting leaves behind). The plan stays null.
    async fn plan_destroy(&self, _prior: &Value, _diags: &mut Diagnostics) {}

    /// Creates the object; returns the new state, or `None` when `diags` says why not.
    async fn create(&self, planned: &Value, config: &Value, diags: &mut Diagnostics) -> Option<Value>;

    /// Reads the current state; `Ok(None)` means the object is gone and Terraform should forget it.
    async fn read(&self, state: &Value, diags: &mut Diagnostics) -> Option<Option<Value>>;

    /// Updates in place; returns the new state.
    async fn update(&self, prior: &Value, planned: &Value, config: &Value, diags: &mut Diagnostics) -> Option<Value>;

    /// Deletes the object.
    async fn delete(&self, prior: &Value, diags: &mut Diagnostics);

    /// A state written under an older schema `version`, as Terraform stored it (JSON), reshaped
    /// before it is decoded with today's type: where an attribute changed type, or a dropped one
    /// says what a new one holds. The default leaves it.
    fn upgrade_stored(&self, _version: i64, _stored: &mut serde_json::Value) {}

    /// A state written under an older schema `version`, after [`Resource::upgrade_stored`] and
    /// decoded with today's type (attributes that no longer exist are dropped, new ones are null),
    /// brought to today's shape. The default keeps it as decoded.
    fn upgrade_state(&self, _version: i64, state: Value) -> Value {
        state
    }

    /// The identity schema (protocol 6.9): the attributes naming the remote object this resource
    /// owns. `None`: the resource has no identity.
    fn identity_schema(&self) -> Option<super::IdentitySchema> {
        None
    }

    /// The identity of the object `state` describes; `None` while part of it is not known.
    fn identity(&self, _state: &Value) -> Option<Value> {
        None
    }

    /// Builds a state from an identity (`import { identity = {...} }`), which the framework then
    /// reads. Called only for a resource with an [`Resource::identity_schema`], which implements it.
    async fn import_identity(&self, identity: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let _ = (identity, diags);
        None
    }

    /// The `config` block of a `list` block of this type (protocol 6.10, `terraform query`);
    /// `None`: the type cannot be listed. Needs an [`Resource::identity_schema`].
    fn list_schema(&self) -> Option<super::Block> {
        None
    }

    /// The objects a `list` block finds, each with its identity and a name for people, and its
    /// state (as an import would build it) when `with_objects`.
    async fn list(&self, config: &Value, with_objects: bool, diags: &mut Diagnostics) -> Vec<Listed> {
        let _ = (config, with_objects, diags);
        Vec::new()
    }

    /// The configuration `-generate-config-out` writes for a state (an imported or listed
    /// object); the framework then drops what only the provider sets. The default is the state
    /// itself; a type whose write-only arguments the live object still holds fills them in.
    async fn generate_config(&self, state: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let _ = diags;
        Some(state.clone())
    }

    /// Builds a state from an import id, which the framework then reads. The default refuses.
    async fn import(&self, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let _ = id;
        diags.error(
            "Import Not Supported",
            format!("{} cannot be imported; declare it in configuration and apply.", self.type_name()),
        );
        None
    }
}
