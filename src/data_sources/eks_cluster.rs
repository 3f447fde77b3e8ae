//! `data "jenkins_eks_cluster"`: an EKS cluster's endpoint, CA, OIDC issuer and, when it exists,
//! its IAM OIDC provider: what `jenkins_remote_cluster_access`, `jenkins_agent_cloud` and an IRSA
//! trust need, from `eks:DescribeCluster` and `iam:GetOpenIDConnectProvider`.

use crate::aws::iam::IamApi;
use crate::cty::{AttributePath, Value};
use crate::framework::{Attribute, Block, DataSource, Diagnostics, Schema};
use crate::iam;
use crate::provider::ProviderContext;
use crate::resources::values::{set, string};
use async_trait::async_trait;
use std::sync::Arc;

pub struct EksCluster {
    pub context: Arc<ProviderContext>,
}

#[async_trait]
impl DataSource for EksCluster {
    fn type_name(&self) -> &'static str {
        "jenkins_eks_cluster"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("An EKS cluster of the provider's account and region, as `eks:DescribeCluster` reports it, with its IAM OIDC provider when one exists. Feed `endpoint` and `ca_certificate` to `jenkins_agent_cloud.server_url` and `server_ca_certificate`, and `oidc_provider_arn` to `provider::jenkins::irsa_trust`.")
                .attr(Attribute::string("name").required().describe("The EKS cluster name."))
                .attr(Attribute::string("arn").computed().describe("The cluster ARN."))
                .attr(Attribute::string("endpoint").computed().describe("The API server URL."))
                .attr(Attribute::string("ca_certificate").computed().describe("The API server's CA certificate, PEM (EKS gives it base64-encoded; this is decoded)."))
                .attr(Attribute::string("oidc_issuer").computed().describe("The cluster's OIDC issuer URL (`https://oidc.eks.<region>.amazonaws.com/id/<id>`); empty when it has none."))
                .attr(Attribute::string("oidc_provider_arn").computed().describe("The IAM OIDC provider of that issuer in the provider's account; empty when it does not exist (`jenkins_irsa_role` with `manage_oidc_provider` creates it).")),
        )
    }

    async fn read(&self, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let name = string(config, "name").unwrap_or_default();
        let Some(configured) = self.context.get() else {
            diags.error(
                "Provider Configuration Unknown",
                "jenkins_eks_cluster needs the provider's AWS settings, which are not known yet.",
            );
            return None;
        };
        let api = IamApi::new(configured.aws.sdk().await);
        let report = |diags: &mut Diagnostics, action: &str, e: &crate::aws::iam::CallError| {
            crate::aws::errors::report(diags, Some(AttributePath::attr("name")), action, e)
        };
        let cluster = match api.eks_cluster(&name).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                diags.error_at(
                    AttributePath::attr("name"),
                    "EKS Cluster Not Found",
                    format!("The provider's account and region have no EKS cluster {name:?}. Check the name and the provider's `region`."),
                );
                return None;
            }
            Err(e) => {
                report(diags, &format!("describe EKS cluster {name:?}"), &e);
                return None;
            }
        };
        let issuer = cluster.identity.and_then(|i| i.oidc).and_then(|o| o.issuer).unwrap_or_default();
        let provider_arn = if issuer.is_empty() {
            String::new()
        } else {
            let caller = match api.caller().await {
                Ok(c) => c,
                Err(e) => {
                    report(diags, "find the AWS account", &e);
                    return None;
                }
            };
            // An issuer no provider ARN can name has no provider either.
            match iam::oidc_provider_arn(caller.partition, &caller.account, &issuer) {
                Err(_) => String::new(),
                Ok(arn) => match api.oidc_provider_exists(&arn).await {
                    Ok(true) => arn,
                    Ok(false) => String::new(),
                    Err(e) => {
                        report(diags, &format!("read IAM OIDC provider {arn}"), &e);
                        return None;
                    }
                },
            }
        };
        let ca = cluster.certificate_authority.and_then(|c| c.data).unwrap_or_default();
        let pem = crate::kube::ca::normalize_pem(&ca).unwrap_or(ca);
        let mut out = config.clone();
        set(&mut out, "arn", Value::String(cluster.arn.unwrap_or_default()));
        set(&mut out, "endpoint", Value::String(cluster.endpoint.unwrap_or_default()));
        set(&mut out, "ca_certificate", Value::String(pem));
        set(&mut out, "oidc_issuer", Value::String(issuer));
        set(&mut out, "oidc_provider_arn", Value::String(provider_arn));
        Some(out)
    }
}
