//! The framework: Terraform's rules, owned once for every resource.
//!
//! Schema declaration, validation, the plan pipeline (defaults, write-only nulling, computed values
//! unknown on change, plan modifiers, replace paths), apply and read bookkeeping, and checks equal
//! to core's plan-validity and apply-consistency rules. It knows nothing of any specific resource
//! and nothing of protobuf except in `server`.

mod action;
mod consistency;
mod data_source;
mod diagnostics;
pub mod docs;
pub mod function;
mod identity;
mod plan;
mod provider;
mod resource;
mod schema;
pub mod server;
#[cfg(test)]
mod server_tests;
#[cfg(test)]
pub mod testing;
mod validate;
pub mod validators;

pub use action::{Action, Progress};
pub use consistency::{check_apply_consistent, check_plan_valid};
pub use data_source::DataSource;
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use function::{Function, FunctionError, Parameter, conform};
pub use identity::{IdentityAttribute, IdentitySchema, attribute as identity_attribute};
pub use plan::{PlanOutcome, plan_resource_change, proposed_new, with_defaults};
pub use provider::Provider;
pub use resource::{Listed, PlanChange, PlanContext, Resource};
pub use schema::{Attribute, AttributeType, Block, NestedBlock, Nesting, PlanModifier, Schema};
pub use validate::validate_block;
pub use validators::Validator;
