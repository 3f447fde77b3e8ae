//! What resources share once the provider is configured: the AWS context and the controller
//! cluster's connector, both lazy, and the objects this plan's resources will create. Resources
//! hold an `Arc<ProviderContext>`; ConfigureProvider fills it once per process.

use super::config::{JenkinsSettings, Settings};
use super::pending::{ClusterRef, Pending, PendingObject};
use crate::aws::AwsContext;
use crate::framework::Diagnostics;
use crate::jenkins_http::JenkinsClient;
use crate::kube::Connector;
use crate::kube::controller::{self, Controller};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};

/// The configured provider, as resources see it.
pub struct Configured {
    pub settings: Settings,
    pub aws: Arc<AwsContext>,
    pub controller: Option<Arc<Connector>>,
    /// The controller StatefulSet, read once per process (`None` inside: the namespace has none).
    discovered: tokio::sync::OnceCell<Option<Arc<Controller>>>,
    jenkins_client: OnceLock<Option<Result<Arc<JenkinsClient>, String>>>,
    /// Warnings already given in this process, so a plan of many resources says each once.
    warned: Mutex<BTreeSet<&'static str>>,
    /// Kubernetes objects resources of this plan will create (see `pending`).
    pending: Pending,
}

impl Configured {
    fn new(settings: Settings, aws: Arc<AwsContext>, controller: Option<Arc<Connector>>) -> Self {
        Configured {
            settings,
            aws,
            controller,
            discovered: tokio::sync::OnceCell::new(),
            jenkins_client: OnceLock::new(),
            warned: Mutex::new(BTreeSet::new()),
            pending: Pending::default(),
        }
    }

    /// The Jenkins settings (namespace, chart fullname, API).
    pub fn jenkins(&self) -> &JenkinsSettings {
        &self.settings.jenkins
    }

    /// The chart's controller in the Jenkins namespace (by `helm_release` when there are several),
    /// read on first use and kept for the process; errors are not kept, so a later call retries.
    pub async fn jenkins_controller(&self, client: kube::Client) -> Result<Option<Arc<Controller>>, kube::Error> {
        let settings = self.jenkins();
        self.discovered
            .get_or_try_init(|| async {
                let all = controller::discover_all(client, &settings.namespace).await?;
                Ok(controller::choose(all, settings.release.as_deref()).map(Arc::new))
            })
            .await
            .cloned()
    }

    /// The Jenkins API client, when `jenkins.url` and credentials are configured; an error when the
    /// URL is unusable.
    pub fn jenkins_api(&self) -> Option<Result<Arc<JenkinsClient>, String>> {
        self.jenkins_client
            .get_or_init(|| self.jenkins().api.as_ref().map(|api| JenkinsClient::new(api).map(Arc::new)))
            .clone()
    }

    /// Records that a resource of this plan will create `object` (its `modify_plan` calls this).
    pub fn will_create(&self, object: PendingObject) {
        self.pending.will_create(object);
    }

    /// The resource type of this plan that will create the object, if any.
    pub fn pending(
        &self,
        cluster: &ClusterRef,
        kind: &'static str,
        namespace: &str,
        name: &str,
    ) -> Option<&'static str> {
        self.pending.pending(cluster, kind, namespace, name)
    }

    /// Forgets the objects a resource registered, once its apply has run.
    pub fn settled(&self, objects: &[PendingObject]) {
        objects.iter().for_each(|o| self.pending.settled(o));
    }

    /// True the first time `topic` is asked in this process.
    pub fn first_warning(&self, topic: &'static str) -> bool {
        self.warned.lock().map(|mut w| w.insert(topic)).unwrap_or(true)
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
        // A reattached provider is configured again for each walk: what it planned before is moot.
        if let Some(Some(c)) = self.configured.get() {
            c.pending.clear();
        }
        let configured = settings.map(|settings| {
            let aws = Arc::new(AwsContext::new(settings.region.clone()));
            let controller = settings.controller.clone().map(|spec| Arc::new(Connector::new(spec, aws.clone())));
            Arc::new(Configured::new(settings, aws, controller))
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

    /// [`ProviderContext::controller`] with a client of that cluster, or an error diagnostic
    /// saying why the cluster cannot be reached.
    pub async fn controller_client(
        &self,
        diags: &mut Diagnostics,
        what: &str,
    ) -> Option<(Arc<Configured>, kube::Client)> {
        let (configured, connector) = self.controller(diags, what)?;
        match connector.client().await {
            Ok(c) => Some((configured, c)),
            Err(e) => {
                diags.error("Cannot Reach The Controller Cluster", format!("{e}."));
                None
            }
        }
    }
}
