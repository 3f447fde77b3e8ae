//! The `Action` trait: an operation Terraform runs on request (`terraform apply -invoke`) or when a
//! resource's `lifecycle { action_trigger { … } }` fires (protocol 6.10, Terraform ≥ 1.14). An
//! action has no state: it is planned (configuration checked), then invoked, reporting progress
//! as it goes.

use super::{Diagnostics, Schema};
use crate::cty::Value;
use async_trait::async_trait;
use std::sync::Arc;

/// Where an invocation reports progress; Terraform prints each message as it arrives.
#[derive(Clone)]
pub struct Progress(pub(crate) Arc<dyn Fn(String) + Send + Sync>);

impl Progress {
    /// Reports one line of progress; a closed stream (Terraform gone) is ignored.
    pub fn say(&self, message: impl Into<String>) {
        (self.0)(message.into());
    }
}

/// One action type.
#[async_trait]
pub trait Action: Send + Sync {
    /// The Terraform type name, e.g. `jenkins_restart_pods`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks across attributes that validators cannot express. Values may be unknown.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Checks at plan, before anything runs (the configuration may still hold unknowns).
    async fn plan(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Runs the action; errors in `diags` fail the apply that triggered it.
    async fn invoke(&self, config: &Value, progress: &Progress, diags: &mut Diagnostics);
}
