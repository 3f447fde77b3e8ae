//! `data "jenkins_controller"`: what the provider discovers about the installed Jenkins chart in
//! the provider's Jenkins namespace: the controller StatefulSet (the chart's fullname, the Helm
//! release, its service account and that account's IAM role), the config-reload sidecar's label
//! and namespaces, and the URLs of its `jenkins` and `jenkins-agent` services, so `jenkins_url`
//! and `jenkins_tunnel` of a cloud need not be typed.

use crate::cty::Value;
use crate::framework::{Attribute, Block, DataSource, Diagnostics, Schema};
use crate::kube::controller::WatchedNamespaces;
use crate::provider::ProviderContext;
use crate::resources::irsa_role::kube_sa::ROLE_ANNOTATION as ROLE_ARN_ANNOTATION;
use crate::resources::values::set;
use async_trait::async_trait;
use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use kube::Api;
use std::sync::Arc;

pub struct Controller {
    pub context: Arc<ProviderContext>,
}

/// `<name>.<namespace>.svc.cluster.local:<port>` of the service's port named `port_name`, else its
/// first port; `None` when there is no such service.
async fn service_address(
    api: &Api<Service>,
    name: &str,
    namespace: &str,
    port_name: &str,
) -> Result<Option<String>, kube::Error> {
    let Some(svc) = api.get_opt(name).await? else { return Ok(None) };
    let ports = svc.spec.and_then(|s| s.ports).unwrap_or_default();
    let port = ports.iter().find(|p| p.name.as_deref() == Some(port_name)).or(ports.first()).map(|p| p.port);
    Ok(port.map(|p| format!("{name}.{namespace}.svc.cluster.local:{p}")))
}

#[async_trait]
impl DataSource for Controller {
    fn type_name(&self) -> &'static str {
        "jenkins_controller"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("The Jenkins the Helm chart installed in the provider's `jenkins.namespace` (by `jenkins.helm_release` when the namespace holds several), as the provider discovers it: the controller StatefulSet, its service account and IAM role, the config-reload sidecar's settings, and the URLs agents use. Use `jenkins_url` and `jenkins_tunnel` in `jenkins_agent_cloud`, and `service_account` in `jenkins_irsa_role`.")
                .attr(Attribute::string("namespace").computed().describe("The Jenkins namespace (the provider's `jenkins.namespace`)."))
                .attr(Attribute::string("fullname").computed().describe("The controller StatefulSet's name: the chart's fullname."))
                .attr(Attribute::string("helm_release").computed().describe("Its `app.kubernetes.io/instance` label: the Helm release; empty when unlabelled."))
                .attr(Attribute::string("service_account").computed().describe("The controller's service account (`default` when the pod names none)."))
                .attr(Attribute::string("service_account_role_arn").computed().describe("That service account's `eks.amazonaws.com/role-arn` annotation; empty when it has none."))
                .attr(Attribute::string("sidecar_label").computed().describe("The label a ConfigMap needs for the config-reload sidecar to load it; empty when the controller runs no sidecar."))
                .attr(Attribute::string("sidecar_label_value").computed().describe("The value that label must have; empty when any value is loaded."))
                .attr(Attribute::string_list("sidecar_namespaces").computed().describe("Namespaces the sidecar watches; `[\"ALL\"]` for all."))
                .attr(Attribute::string("jenkins_url").computed().describe("`http://<fullname>.<namespace>.svc.cluster.local:<http port>` from the chart's controller service; empty when it is missing."))
                .attr(Attribute::string("jenkins_tunnel").computed().describe("`<fullname>-agent.<namespace>.svc.cluster.local:<port>` from the chart's agent service (the inbound TCP port); empty when it is missing.")),
        )
    }

    async fn read(&self, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let (configured, client) = self.context.controller_client(diags, "jenkins_controller").await?;
        let namespace = configured.jenkins().namespace.clone();
        let found = match configured.jenkins_controller(client.clone()).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                diags.error(
                    "Controller Not Found",
                    format!("Namespace {namespace:?} has no Jenkins controller StatefulSet (label `app.kubernetes.io/component: jenkins-controller`). Install the chart there, or set the provider's `jenkins.namespace` (and `helm_release` when there are several)."),
                );
                return None;
            }
            Err(e) => {
                crate::kube::errors::report(diags, None, &format!("list StatefulSets in {namespace}"), &e);
                return None;
            }
        };
        let sa = found.service_account.clone().unwrap_or_else(|| "default".into());
        let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &namespace);
        let role = match sas.get_opt(&sa).await {
            Ok(s) => s
                .and_then(|s| s.metadata.annotations)
                .and_then(|a| a.get(ROLE_ARN_ANNOTATION).cloned())
                .unwrap_or_default(),
            Err(e) => {
                crate::kube::errors::report(diags, None, &format!("read ServiceAccount {namespace}/{sa}"), &e);
                return None;
            }
        };
        let services: Api<Service> = Api::namespaced(client, &namespace);
        let fullname = found.statefulset.clone();
        let (url, tunnel) = match (
            service_address(&services, &fullname, &namespace, "http").await,
            service_address(&services, &format!("{fullname}-agent"), &namespace, "agent-listener").await,
        ) {
            (Ok(u), Ok(t)) => (u.map(|a| format!("http://{a}")).unwrap_or_default(), t.unwrap_or_default()),
            (Err(e), _) | (_, Err(e)) => {
                crate::kube::errors::report(diags, None, &format!("read the chart's Services in {namespace}"), &e);
                return None;
            }
        };
        for (what, value) in [("controller", &url), ("agent", &tunnel)] {
            if value.is_empty() {
                diags.warning(
                    "Chart Service Not Found",
                    format!("Namespace {namespace:?} has no {what} Service of StatefulSet {fullname:?} (`{fullname}{}`), so its address is empty.", if what == "agent" { "-agent" } else { "" }),
                );
            }
        }
        let sidecar = found.sidecar.clone();
        let namespaces = match sidecar.as_ref().map(|s| &s.namespaces) {
            Some(WatchedNamespaces::All) => vec!["ALL".to_string()],
            Some(WatchedNamespaces::Some(list)) => list.clone(),
            None => Vec::new(),
        };
        let mut out = config.clone();
        let text = |s: String| Value::String(s);
        set(&mut out, "namespace", text(namespace));
        set(&mut out, "fullname", text(fullname));
        set(&mut out, "helm_release", text(found.release.clone().unwrap_or_default()));
        set(&mut out, "service_account", text(sa));
        set(&mut out, "service_account_role_arn", text(role));
        set(&mut out, "sidecar_label", text(sidecar.as_ref().map(|s| s.label.clone()).unwrap_or_default()));
        set(
            &mut out,
            "sidecar_label_value",
            text(sidecar.as_ref().and_then(|s| s.label_value.clone()).unwrap_or_default()),
        );
        set(&mut out, "sidecar_namespaces", Value::List(namespaces.into_iter().map(Value::String).collect()));
        set(&mut out, "jenkins_url", text(url));
        set(&mut out, "jenkins_tunnel", text(tunnel));
        Some(out)
    }
}
