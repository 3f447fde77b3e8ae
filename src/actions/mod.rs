//! The actions (protocol 6.10, Terraform ≥ 1.14): operations a configuration runs on request or
//! from a resource's `action_trigger`, with progress. No resource depends on one (OpenTofu does not
//! call actions).

mod restart_pods;

use crate::framework::Action;
use crate::provider::ProviderContext;
use std::sync::Arc;

/// Every action this provider serves, in the order the docs list them.
pub fn all(context: &Arc<ProviderContext>) -> Vec<Arc<dyn Action>> {
    vec![Arc::new(restart_pods::RestartPods { context: context.clone() })]
}
