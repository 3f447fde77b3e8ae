//! What resources share once the provider is configured: the AWS context and the controller
//! cluster's connector, both lazy. Resources hold an `Arc<ProviderContext>`; ConfigureProvider
//! fills it once per process.

use super::config::{JenkinsSettings, Settings};
use crate::aws::AwsContext;
use crate::framework::Diagnostics;
use crate::kube::Connector;
use std::sync::{Arc, OnceLock};

/// The configured provider, as resources see it.
pub struct Configured {
    pub settings: Settings,
    pub aws: Arc<AwsContext>,
    pub controller: Option<Arc<Connector>>,
}

impl Configured {
    /// The Jenkins settings (namespace, chart fullname).
    pub fn jenkins(&self) -> &JenkinsSettings {
        &self.settings.jenkins
    }
}

/// Shared between the provider and its resources.
#[derive(Default)]
pub struct ProviderContext {
    configured: OnceLock<Option<Arc<Configured>>>,
}

impl ProviderContext {
    /// Records the configuration; `None` means it still holds unknowns (a plan before they exist).
    pub fn set(&self, settings: Option<Settings>) {
        let configured = settings.map(|settings| {
            let aws = Arc::new(AwsContext::new(settings.region.clone()));
            let controller = settings.controller.clone().map(|spec| Arc::new(Connector::new(spec, aws.clone())));
            Arc::new(Configured { settings, aws, controller })
        });
        let _ = self.configured.set(configured);
    }

    /// The configuration if it is known; `None` while a plan still waits for its values.
    pub fn get(&self) -> Option<Arc<Configured>> {
        self.configured.get().cloned().flatten()
    }

    /// The controller cluster's connector, or an error diagnostic saying how to configure it.
    pub fn controller(&self, diags: &mut Diagnostics, what: &str) -> Option<(Arc<Configured>, Arc<Connector>)> {
        let Some(c) = self.get() else {
            diags.error(
                "Provider Configuration Unknown",
                format!("{what} needs the provider's `kubernetes` settings, which are not known yet. Apply what they depend on first."),
            );
            return None;
        };
        match c.controller.clone() {
            Some(k) => Some((c, k)),
            None => {
                diags.error(
                    "Missing Kubernetes Settings",
                    format!("{what} needs the controller's cluster: add a `kubernetes` block to the provider (for EKS, `kubernetes {{ eks_cluster_name = \"...\" }}`)."),
                );
                None
            }
        }
    }
}
