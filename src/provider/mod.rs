//! The provider as Terraform sees it: its name, its configuration, and its resources.

pub mod config;
pub mod context;
pub mod pending;

use crate::cty::Value;
use crate::framework::server::ProviderServer;
use crate::framework::{Diagnostics, Provider, Schema};
use async_trait::async_trait;
pub use context::{Configured, ProviderContext};
pub use pending::{ClusterRef, PendingObject};
use std::sync::Arc;

/// The provider type name: every resource type starts with `jenkins_`.
pub const TYPE_NAME: &str = "jenkins";

/// The provider's registry source address, used by the examples and `--debug` reattach output.
pub const SOURCE_ADDRESS: &str = "registry.terraform.io/jenkins-eks/jenkins";

/// The provider: parses its block into the context its resources share.
pub struct JenkinsProvider {
    context: Arc<ProviderContext>,
}

#[async_trait]
impl Provider for JenkinsProvider {
    fn schema(&self) -> Schema {
        config::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        config::validate(config, diags);
    }

    async fn configure(&self, config: &Value, diags: &mut Diagnostics) {
        config::validate(config, diags);
        let env = |name: &str| std::env::var(name).ok();
        config::check_jenkins_api(config, &env, diags);
        if !diags.has_error() {
            self.context.set(config::parse(config, &env));
        }
    }
}

/// The gRPC provider service with every resource registered.
pub fn server() -> ProviderServer {
    let context = Arc::new(ProviderContext::default());
    let provider = Arc::new(JenkinsProvider { context: context.clone() });
    ProviderServer::new(provider, crate::resources::all(&context))
        .with_functions(crate::functions::all())
        .with_data_sources(crate::data_sources::all(&context))
        .with_actions(crate::actions::all(&context))
}
