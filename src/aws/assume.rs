//! SDK configurations derived from the provider's: another region, and optionally a role assumed
//! on top of the provider's credentials (a remote cluster in another account). The assumed
//! credentials are cached and refreshed by the SDK's identity cache; they are never logged.
//!
//! `sts:AssumeRole` goes through the same retry loop as every IAM and EKS call
//! ([`super::iam::with_retry`]): the SDK's own `AssumeRoleProvider` would give up after its standard
//! three attempts, so a throttled or failing STS would fail an apply that IAM's budget rides out.

use super::iam::{CallError, with_retry};
use crate::iam::IamOperation;
use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_sts::config::retry::RetryConfig;

/// The session name of every role this provider assumes, so CloudTrail shows who acted.
pub const SESSION_NAME: &str = "terraform-provider-jenkins";

/// A role to act as in another account.
#[derive(Clone, PartialEq, Eq)]
pub struct AssumedRole {
    pub role_arn: String,
    /// Defaults to [`SESSION_NAME`].
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

impl std::fmt::Debug for AssumedRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumedRole").field("role_arn", &self.role_arn).finish_non_exhaustive()
    }
}

/// `base` with `region` (when given) and credentials from assuming `role` (when given).
pub async fn derive(base: &SdkConfig, region: Option<&str>, role: Option<&AssumedRole>) -> SdkConfig {
    let mut builder = base.to_builder();
    if let Some(r) = region {
        builder = builder.region(aws_config::Region::new(r.to_string()));
    }
    let regional = builder.build();
    let Some(role) = role else { return regional };
    let sts_conf = aws_sdk_sts::config::Builder::from(&regional).retry_config(RetryConfig::disabled()).build();
    let provider = RetryingAssumeRole { sts: aws_sdk_sts::Client::from_conf(sts_conf), role: role.clone() };
    regional.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
}

/// Credentials of `role`, assumed with the base configuration's credentials through
/// [`with_retry`]: throttling and 5xx back off with IAM's budget; AccessDenied fails at once.
#[derive(Debug)]
struct RetryingAssumeRole {
    /// An STS client acting with the base credentials, the SDK's own retry off.
    sts: aws_sdk_sts::Client,
    role: AssumedRole,
}

impl RetryingAssumeRole {
    async fn assume(&self) -> Result<Credentials, CallError> {
        let session = self.role.session_name.clone().unwrap_or_else(|| SESSION_NAME.to_string());
        let out = with_retry(IamOperation::Other, "sts:AssumeRole", || {
            self.sts
                .assume_role()
                .role_arn(&self.role.role_arn)
                .role_session_name(&session)
                .set_external_id(self.role.external_id.clone())
                .send()
        })
        .await?;
        let missing = || CallError {
            operation: "sts:AssumeRole",
            code: "InternalFailure".into(),
            message: "STS answered without credentials".into(),
            attempts: 1,
        };
        let c = out.credentials.ok_or_else(missing)?;
        let expiry = std::time::SystemTime::try_from(c.expiration).ok();
        Ok(Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token), expiry, "AssumeRole"))
    }
}

impl ProvideCredentials for RetryingAssumeRole {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            self.assume().await.map_err(provider::error::CredentialsError::provider_error)
        })
    }
}
