//! SDK configurations derived from the provider's: another region, and optionally a role assumed
//! on top of the provider's credentials (a remote cluster in another account). The assumed
//! credentials are cached and refreshed by the SDK; they are never logged.

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;

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
    let session = role.session_name.clone().unwrap_or_else(|| SESSION_NAME.to_string());
    let mut assume =
        aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone()).session_name(session).configure(&regional);
    if let Some(id) = &role.external_id {
        assume = assume.external_id(id.clone());
    }
    if let Some(r) = regional.region() {
        assume = assume.region(r.clone());
    }
    let provider = assume.build().await;
    regional.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
}
