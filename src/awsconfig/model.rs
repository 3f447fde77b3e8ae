//! The profile chain as plain data: one base profile that turns the pod's own identity into AWS
//! credentials, and hops that each `AssumeRole` into another role, usually in another account.
//!
//! Must not: validate, render or parse (those live in `validate`, `render` and `parse`). The types
//! mirror what a user can write, including mistakes (both or neither of `source_profile` and
//! `credential_source` on a hop), so that validation can point at them instead of the decoder
//! losing them.

/// Where EKS projects the IRSA token; the pod-identity webhook mounts it at this path.
pub const DEFAULT_WEB_IDENTITY_TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";

/// A rendered `~/.aws/config`: exactly one base profile, then any number of hops.
///
/// There is exactly one base by construction; a second base can only come from a parsed file,
/// and `parse` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// The profile that authenticates as the pod (IRSA or EKS Pod Identity).
    pub base: BaseProfile,
    /// Chained profiles, in the order they are rendered.
    pub hops: Vec<HopProfile>,
}

/// The first link: the pod's identity, turned into a role session.
///
/// Both forms carry a `role_arn`: IRSA's `AssumeRoleWithWebIdentity` needs it, and for Pod
/// Identity botocore and the Java SDK v2 only honour `credential_source` next to a `role_arn`
/// (the Rust SDK alone accepts `credential_source` on its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseProfile {
    /// Profile name; `default` renders as `[default]`.
    pub name: String,
    /// The role the pod's identity becomes.
    pub role_arn: String,
    /// IRSA token or Pod Identity container credentials.
    pub identity: BaseIdentity,
    /// Shown in CloudTrail and in the assumed-role ARN; SDKs make one up when absent.
    pub role_session_name: Option<String>,
    /// Region of the profile; profiles do not inherit it from their source.
    pub region: Option<String>,
    /// Session length. `i64` so that out-of-range values from Terraform reach validation intact.
    pub duration_seconds: Option<i64>,
}

/// How the base profile gets its first credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseIdentity {
    /// IRSA: `AssumeRoleWithWebIdentity` with the projected service-account token. Not a chained
    /// session, so the role's `MaxSessionDuration` (up to 12 hours) applies.
    WebIdentity {
        /// Path of the projected token, normally [`DEFAULT_WEB_IDENTITY_TOKEN_FILE`].
        web_identity_token_file: String,
    },
    /// EKS Pod Identity: `credential_source = EcsContainer` (the container credential provider),
    /// then `AssumeRole` into `role_arn`. Pod Identity credentials are already a role session, so
    /// this `AssumeRole` is role chaining and capped at 1 hour.
    PodIdentity,
}

impl BaseIdentity {
    /// IRSA with the token where EKS puts it.
    pub fn irsa() -> Self {
        BaseIdentity::WebIdentity { web_identity_token_file: DEFAULT_WEB_IDENTITY_TOKEN_FILE.to_owned() }
    }
}

/// A chained profile: `AssumeRole` into `role_arn` with credentials from `source_profile` or
/// `credential_source` (exactly one; validation reports both or neither).
///
/// `mfa_serial` is deliberately not supported: a build pod has nobody to type an MFA code, and
/// `parse` rejects files that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopProfile {
    /// Profile name; `default` renders as `[default]`.
    pub name: String,
    /// The role this hop assumes.
    pub role_arn: String,
    /// The profile whose credentials call `AssumeRole`: the base or another hop.
    pub source_profile: Option<String>,
    /// Credentials from the environment instead of another profile.
    pub credential_source: Option<CredentialSource>,
    /// Shown in CloudTrail and in the assumed-role ARN.
    pub role_session_name: Option<String>,
    /// Sent as `sts:ExternalId`; the target trust must require the same value.
    pub external_id: Option<String>,
    /// Region of the profile; not inherited from the source profile.
    pub region: Option<String>,
    /// Session length; a chained session cannot exceed 3,600 seconds.
    pub duration_seconds: Option<i64>,
}

impl HopProfile {
    /// A hop with only the required parts set, sourcing its credentials from `source_profile`.
    pub fn chained(name: impl Into<String>, role_arn: impl Into<String>, source_profile: impl Into<String>) -> Self {
        HopProfile {
            name: name.into(),
            role_arn: role_arn.into(),
            source_profile: Some(source_profile.into()),
            credential_source: None,
            role_session_name: None,
            external_id: None,
            region: None,
            duration_seconds: None,
        }
    }
}

/// `credential_source` values, spelled as the shared config file spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialSource {
    /// `AWS_ACCESS_KEY_ID` and friends in the process environment.
    Environment,
    /// The EC2 instance profile through IMDS (on EKS: the node role, if the pod can reach IMDS).
    Ec2InstanceMetadata,
    /// The container credential provider: ECS task roles and EKS Pod Identity.
    EcsContainer,
}

/// Every accepted `credential_source` spelling, for a schema's one-of validator.
pub const CREDENTIAL_SOURCES: &[&str] = &["Environment", "Ec2InstanceMetadata", "EcsContainer"];

impl CredentialSource {
    /// The spelling in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialSource::Environment => "Environment",
            CredentialSource::Ec2InstanceMetadata => "Ec2InstanceMetadata",
            CredentialSource::EcsContainer => "EcsContainer",
        }
    }

    /// Reads the config-file spelling (exact, as the SDKs compare it); `None` when unknown.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "Environment" => Some(CredentialSource::Environment),
            "Ec2InstanceMetadata" => Some(CredentialSource::Ec2InstanceMetadata),
            "EcsContainer" => Some(CredentialSource::EcsContainer),
            _ => None,
        }
    }

    /// Whether credentials from this source are already a role session, which makes the hop's
    /// `AssumeRole` role chaining (1-hour cap). `Environment` may hold user keys, so it is unknown.
    pub fn is_role_session(self) -> Option<bool> {
        match self {
            CredentialSource::Environment => None,
            CredentialSource::Ec2InstanceMetadata | CredentialSource::EcsContainer => Some(true),
        }
    }
}

impl Chain {
    /// Names of all profiles, base first, in render order.
    pub fn profile_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.base.name.as_str()).chain(self.hops.iter().map(|h| h.name.as_str()))
    }

    /// The hop that ends the chain (the last one), or the base when there are no hops: the
    /// natural default for `AWS_PROFILE`.
    pub fn default_profile(&self) -> &str {
        self.hops.last().map_or(self.base.name.as_str(), |h| h.name.as_str())
    }
}
