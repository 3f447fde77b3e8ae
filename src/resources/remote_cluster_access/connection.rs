//! Reaching the remote cluster through the resource's own `cluster` block: an EKS cluster by name
//! (in another region or through an assumed role if asked; the token is signed in-process), or an
//! endpoint with CA and token. One connection per call: the signed token outlives any single call.

use super::model::Cluster;
use crate::aws::{AssumedRole, AwsContext, assume};
use crate::kube::{ClusterSpec, Connector, ca};
use crate::provider::context::Configured;
use std::sync::Arc;

/// A connected remote cluster and what `jenkins_agent_cloud` needs to reach it too.
pub struct Remote {
    pub client: kube::Client,
    /// The API server URL.
    pub server_url: String,
    /// The API server's CA as PEM, when known from EKS or the configuration.
    pub ca_pem: Option<String>,
}

/// Connects to `cluster` with the provider's AWS settings as the base.
pub async fn connect(configured: &Configured, cluster: &Cluster) -> Result<Remote, String> {
    match cluster {
        Cluster::Eks { name, region, role_arn } => {
            let base = configured.aws.sdk().await;
            let role =
                role_arn.as_ref().map(|r| AssumedRole { role_arn: r.clone(), session_name: None, external_id: None });
            let aws = Arc::new(AwsContext::from_sdk(assume::derive(base, region.as_deref(), role.as_ref()).await));
            let cluster = aws.describe_eks_cluster(name).await?;
            let ca_pem =
                ca::normalize_pem(&cluster.ca_pem).map_err(|e| format!("the CA of EKS cluster {name:?}: {e}"))?;
            let client = Connector::new(ClusterSpec::Eks { cluster_name: name.clone() }, aws).client().await?;
            Ok(Remote { client, server_url: cluster.endpoint, ca_pem: Some(ca_pem) })
        }
        Cluster::Direct { host, ca: ca_in, token } => {
            let ca_pem = match ca_in {
                Some(c) => Some(ca::normalize_pem(c).map_err(|e| format!("`cluster.cluster_ca_certificate`: {e}"))?),
                None => None,
            };
            let spec = ClusterSpec::Direct {
                host: host.clone(),
                ca_pem: ca_pem.clone(),
                token: token.clone(),
                insecure: false,
            };
            let client = Connector::new(spec, configured.aws.clone()).client().await?;
            Ok(Remote { client, server_url: host.clone(), ca_pem })
        }
    }
}
