//! Connecting to a cluster. Three ways, as a platform team has them: an EKS cluster name (endpoint
//! and CA from `DescribeCluster`, a token signed in-process and re-signed before it expires), a
//! direct endpoint with CA and token, or a kubeconfig file and context.
//!
//! Clients are built lazily on first use, so a plan that needs no API call makes none, and a
//! cluster created in the same apply is read only when it exists.

use super::ca;
use super::eks_auth::{EksAuthLayer, TokenSource};
use super::retry;
use super::retrying::RetryLayer;
use crate::aws::AwsContext;
use std::sync::Arc;
use tokio::sync::Mutex;

/// How to reach one cluster, as configured. Secrets inside are never logged (see `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub enum ClusterSpec {
    /// An EKS cluster by name, in the AWS context's region.
    Eks { cluster_name: String },
    /// An endpoint with its CA (PEM or base64 PEM) and a bearer token.
    Direct { host: String, ca_pem: Option<String>, token: Option<String>, insecure: bool },
    /// A kubeconfig file and optional context.
    Kubeconfig { path: String, context: Option<String> },
}

impl std::fmt::Debug for ClusterSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterSpec::Eks { cluster_name } => write!(f, "Eks({cluster_name})"),
            ClusterSpec::Direct { host, .. } => write!(f, "Direct({host})"),
            ClusterSpec::Kubeconfig { path, context } => write!(f, "Kubeconfig({path}, {context:?})"),
        }
    }
}

impl ClusterSpec {
    /// A short human name for messages.
    pub fn describe(&self) -> String {
        match self {
            ClusterSpec::Eks { cluster_name } => format!("EKS cluster {cluster_name:?}"),
            ClusterSpec::Direct { host, .. } => format!("cluster at {host}"),
            ClusterSpec::Kubeconfig { path, context } => match context {
                Some(c) => format!("context {c:?} of {path}"),
                None => format!("current context of {path}"),
            },
        }
    }
}

/// What EKS says about a cluster: where it is and whom it trusts.
#[derive(Clone, Debug)]
pub struct EksCluster {
    pub endpoint: String,
    pub ca_pem: String,
    pub oidc_issuer: Option<String>,
}

/// A lazily connected cluster: caches the client; an EKS client signs its token per request
/// ([`super::eks_auth`]: re-signed when stale, and once more on a 401).
pub struct Connector {
    spec: ClusterSpec,
    aws: Arc<AwsContext>,
    cached: Mutex<Option<kube::Client>>,
}

impl Connector {
    /// A connector for `spec`; nothing is contacted until [`Connector::client`].
    pub fn new(spec: ClusterSpec, aws: Arc<AwsContext>) -> Self {
        Connector { spec, aws, cached: Mutex::new(None) }
    }

    /// What this connector reaches.
    pub fn spec(&self) -> &ClusterSpec {
        &self.spec
    }

    /// A client, built on first use.
    pub async fn client(&self) -> Result<kube::Client, String> {
        let mut cached = self.cached.lock().await;
        if let Some(client) = cached.as_ref() {
            return Ok(client.clone());
        }
        let client = self.build().await?;
        *cached = Some(client.clone());
        Ok(client)
    }

    async fn build(&self) -> Result<kube::Client, String> {
        match &self.spec {
            ClusterSpec::Eks { cluster_name } => {
                let cluster = self.aws.describe_eks_cluster(cluster_name).await?;
                let source = Arc::new(TokenSource::new(self.aws.clone(), cluster_name.clone()));
                // Signed now, so that missing credentials fail here, with the connection's context.
                source.token(false).await?;
                let config = direct_config(&cluster.endpoint, Some(&cluster.ca_pem), None, false)?;
                eks_client(config, source)
            }
            ClusterSpec::Direct { host, ca_pem, token, insecure } => {
                let config = direct_config(host, ca_pem.as_deref(), token.as_deref(), *insecure)?;
                client_from(config)
            }
            ClusterSpec::Kubeconfig { path, context } => {
                let kubeconfig = kube::config::Kubeconfig::read_from(expand_home(path))
                    .map_err(|e| format!("cannot read kubeconfig {path}: {e}"))?;
                let options = kube::config::KubeConfigOptions { context: context.clone(), ..Default::default() };
                let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|e| format!("cannot use kubeconfig {path}: {e}"))?;
                client_from(config)
            }
        }
    }
}

/// A client for `config` whose every request goes through [`RetryLayer`] with
/// [`retry::KUBE_BACKOFF`]; kube's own retry is off, since it would also repeat creates and keep a
/// second, longer budget.
pub fn client_from(config: kube::Config) -> Result<kube::Client, String> {
    client_with_policy(config, retry::KUBE_BACKOFF)
}

/// [`client_from`] for an EKS cluster: the bearer token comes from `source` per request, outside
/// the retry layer, so a retried request keeps its token and a 401 is re-signed once.
fn eks_client(mut config: kube::Config, source: Arc<TokenSource>) -> Result<kube::Client, String> {
    config.default_retry = false;
    let builder = kube::client::ClientBuilder::try_from(config).map_err(|e| format!("cannot build a client: {e}"))?;
    Ok(builder.with_layer(&RetryLayer::new(retry::KUBE_BACKOFF)).with_layer(&EksAuthLayer::new(source)).build())
}

/// [`client_from`] with another budget (tests use short ones).
pub fn client_with_policy(mut config: kube::Config, policy: crate::iam::Backoff) -> Result<kube::Client, String> {
    config.default_retry = false;
    let builder = kube::client::ClientBuilder::try_from(config).map_err(|e| format!("cannot build a client: {e}"))?;
    Ok(builder.with_layer(&RetryLayer::new(policy)).build())
}

fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::PathBuf::from(home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

/// A client configuration for an endpoint, CA and bearer token.
pub fn direct_config(
    host: &str,
    ca_pem: Option<&str>,
    token: Option<&str>,
    insecure: bool,
) -> Result<kube::Config, String> {
    let uri: http::Uri = host.parse().map_err(|_| format!("{host:?} is not a URL"))?;
    let mut config = kube::Config::new(uri);
    if let Some(ca) = ca_pem {
        let pem = ca::normalize_pem(ca).map_err(|e| format!("the cluster CA is not usable: {e}"))?;
        config.root_cert = Some(ca::certificates(&pem)?);
    }
    config.accept_invalid_certs = insecure;
    if let Some(t) = token {
        config.auth_info.token = Some(t.to_string().into());
    }
    config.connect_timeout = Some(std::time::Duration::from_secs(10));
    config.read_timeout = Some(std::time::Duration::from_secs(60));
    Ok(config)
}
