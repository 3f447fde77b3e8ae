//! The AWS SDK configuration every resource shares: loaded once, lazily, with the standard chain
//! (environment, shared config and profiles, web identity, container and instance credentials) and
//! the provider's `region` on top. One provider process serves every account.

use super::assume::AssumedRole;
use crate::kube::connect::EksCluster;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use tokio::sync::OnceCell;

/// Lazily loaded SDK configuration.
pub struct AwsContext {
    region: Option<String>,
    sdk: OnceCell<aws_config::SdkConfig>,
}

impl AwsContext {
    /// A context using `region` when given, else the SDK's own resolution (`AWS_REGION`, profile).
    pub fn new(region: Option<String>) -> Self {
        AwsContext { region, sdk: OnceCell::new() }
    }

    /// A context over an already built SDK configuration (e.g. from [`super::assume::derive`]).
    pub fn from_sdk(sdk: aws_config::SdkConfig) -> Self {
        let region = sdk.region().map(|r| r.to_string());
        AwsContext { region, sdk: OnceCell::new_with(Some(sdk)) }
    }

    /// A context acting as `role`, assumed with this context's credentials: one provider process
    /// serves every account, so a resource working in another account carries its own role.
    pub async fn assuming(&self, role: &AssumedRole) -> Result<AwsContext, String> {
        Ok(AwsContext::from_sdk(super::assume::derive(self.sdk().await, None, Some(role)).await))
    }

    /// The SDK configuration, loaded on first use.
    pub async fn sdk(&self) -> &aws_config::SdkConfig {
        self.sdk
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(r) = &self.region {
                    loader = loader.region(aws_config::Region::new(r.clone()));
                }
                loader.load().await
            })
            .await
    }

    /// The region every call goes to.
    pub async fn region(&self) -> Result<String, String> {
        self.sdk().await.region().map(|r| r.to_string()).ok_or_else(|| {
            "No AWS region is configured: set `region` in the provider block or AWS_REGION in the environment."
                .to_string()
        })
    }

    /// The current credentials (for signing EKS tokens). Never log them.
    pub async fn credentials(&self) -> Result<Credentials, String> {
        let provider = self.sdk().await.credentials_provider().ok_or_else(|| {
            "No AWS credentials are configured: set the usual AWS environment variables or a profile.".to_string()
        })?;
        // The error's sources carry the AWS call and code (e.g. `sts:AssumeRole: AccessDenied`).
        provider
            .provide_credentials()
            .await
            .map_err(|e| format!("cannot load AWS credentials: {}", aws_sdk_iam::error::DisplayErrorContext(&e)))
    }

    /// Where an EKS cluster is and whom it trusts.
    pub async fn describe_eks_cluster(&self, name: &str) -> Result<EksCluster, String> {
        // The SDK's retry off: `describe_cluster` retries with IAM's budget, and two nested loops
        // would multiply the attempts.
        let conf = aws_sdk_eks::config::Builder::from(self.sdk().await)
            .retry_config(aws_sdk_eks::config::retry::RetryConfig::disabled())
            .build();
        let eks = aws_sdk_eks::Client::from_conf(conf);
        let cluster = super::iam::describe_cluster(&eks, name)
            .await
            .map_err(|e| format!("cannot describe EKS cluster {name:?}: {e}"))?
            .ok_or_else(|| format!("EKS returned no cluster named {name:?}"))?;
        let endpoint = cluster.endpoint.ok_or_else(|| format!("EKS cluster {name:?} has no endpoint yet"))?;
        let ca_pem = cluster
            .certificate_authority
            .and_then(|c| c.data)
            .ok_or_else(|| format!("EKS cluster {name:?} has no certificate authority yet"))?;
        let oidc_issuer = cluster.identity.and_then(|i| i.oidc).and_then(|o| o.issuer);
        Ok(EksCluster { endpoint, ca_pem, oidc_issuer })
    }
}
