//! SDK configurations derived from the provider's: another region, and optionally a role assumed
//! on top of the provider's credentials (a remote cluster in another account). The assumed
//! credentials are cached and refreshed by the SDK; they are never logged.

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;

/// The session name of every role this provider assumes, so CloudTrail shows who acted.
pub const SESSION_NAME: &str = "terraform-provider-jenkins";

/// `base` with `region` (when given) and credentials from assuming `role_arn` (when given).
pub async fn derive(base: &SdkConfig, region: Option<&str>, role_arn: Option<&str>) -> SdkConfig {
    let mut builder = base.to_builder();
    if let Some(r) = region {
        builder = builder.region(aws_config::Region::new(r.to_string()));
    }
    let regional = builder.build();
    let Some(role) = role_arn else { return regional };
    let mut assume = aws_config::sts::AssumeRoleProvider::builder(role).session_name(SESSION_NAME).configure(&regional);
    if let Some(r) = regional.region() {
        assume = assume.region(r.clone());
    }
    let provider = assume.build().await;
    regional.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
}
