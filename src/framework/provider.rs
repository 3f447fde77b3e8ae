//! The `Provider` trait: the provider block's schema, its cross-attribute checks, and what
//! configuring does. Resources reach the configured clients through state the provider shares
//! with them; the framework only delivers the decoded configuration.

use super::{Diagnostics, Schema};
use crate::cty::Value;
use async_trait::async_trait;

/// The provider itself, as opposed to its resources.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider block's schema.
    fn schema(&self) -> Schema;

    /// Checks across attributes that validators cannot express. Values may be unknown.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Takes the configuration (which may hold unknowns during plan) before any resource call.
    async fn configure(&self, config: &Value, diags: &mut Diagnostics);
}
