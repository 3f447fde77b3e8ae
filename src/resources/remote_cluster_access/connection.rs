//! Reaching the remote cluster through the resource's own `cluster` block: an EKS cluster by name
//! (in another region or through an assumed role if asked; the token is signed in-process), or an
//! endpoint with CA and token. One connection per call: the signed token outlives any single call.

use super::model::Cluster;
use crate::aws::{assume, eks_token};
use crate::kube::{ClusterSpec, Connector, ca};
use crate::provider::context::Configured;
use aws_credential_types::provider::ProvideCredentials;
use std::time::SystemTime;

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
            let sdk = assume::derive(base, region.as_deref(), role_arn.as_deref()).await;
            let eks = aws_sdk_eks::Client::new(&sdk);
            let out = eks.describe_cluster().name(name).send().await.map_err(|e| {
                format!("cannot describe EKS cluster {name:?}: {}", aws_sdk_eks::error::DisplayErrorContext(&e))
            })?;
            let c = out.cluster.ok_or_else(|| format!("EKS returned no cluster named {name:?}"))?;
            let endpoint = c.endpoint.ok_or_else(|| format!("EKS cluster {name:?} has no endpoint yet"))?;
            let ca_data = c
                .certificate_authority
                .and_then(|a| a.data)
                .ok_or_else(|| format!("EKS cluster {name:?} has no certificate authority yet"))?;
            let ca_pem = ca::normalize_pem(&ca_data).map_err(|e| format!("the CA of EKS cluster {name:?}: {e}"))?;
            let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
                "No AWS region is configured: set `cluster.region`, the provider's `region`, or AWS_REGION.".to_string()
            })?;
            let provider = sdk
                .credentials_provider()
                .ok_or_else(|| "No AWS credentials are configured for the remote cluster.".to_string())?;
            let creds = provider.provide_credentials().await.map_err(|e| match role_arn {
                Some(r) => format!("cannot assume role {r}: {e}"),
                None => format!("cannot load AWS credentials: {e}"),
            })?;
            let token = eks_token::sign_token(name, &region, &creds, SystemTime::now()).map_err(|e| e.to_string())?;
            let spec = ClusterSpec::Direct {
                host: endpoint.clone(),
                ca_pem: Some(ca_pem.clone()),
                token: Some(token.token),
                insecure: false,
            };
            let client = Connector::new(spec, configured.aws.clone()).client().await?;
            Ok(Remote { client, server_url: endpoint, ca_pem: Some(ca_pem) })
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
