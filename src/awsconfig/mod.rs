//! The chained AWS shared config (`~/.aws/config`) that build pods use to reach other accounts:
//! the model (one base profile on the pod's IRSA or Pod Identity credentials, then `AssumeRole`
//! hops), its exact rendering, parsing back for import and drift, validation, and the container
//! environment and mount that make SDKs read it.
//!
//! Architecture invariant: this module does no I/O, holds no async code and never panics on
//! input; validation returns every finding with the attribute path it comes from instead of
//! failing. It knows nothing of Terraform values, Kubernetes clients or IAM; trust and
//! identity-policy checks need I/O and belong to the `jenkins_cross_account_chain` resource.
//!
//! Facts (resolution rules, the 1-hour cap on chained sessions, SDK traps) come from
//! `shared/reference/peers-aws-k8s.md` §4 and the smithy-rs profile parser and chain resolver.
//!
//! ```
//! use terraform_provider_jenkins::awsconfig::{BaseIdentity, BaseProfile, Chain, HopProfile, render, validate};
//!
//! let chain = Chain {
//!     base: BaseProfile {
//!         name: "prod".into(),
//!         role_arn: "arn:aws:iam::111111111111:role/jenkins-ci-role".into(),
//!         identity: BaseIdentity::irsa(),
//!         role_session_name: None,
//!         region: Some("eu-west-1".into()),
//!         duration_seconds: None,
//!     },
//!     hops: vec![HopProfile::chained("nonprod", "arn:aws:iam::222222222222:role/jenkins-deploy-role", "prod")],
//! };
//! assert!(validate(&chain).is_empty());
//! assert!(render(&chain).contains("[profile nonprod]\nrole_arn = arn:aws:iam::222222222222:role/jenkins-deploy-role\nsource_profile = prod\n"));
//! ```

mod env;
mod model;
mod parse;
mod render;
mod validate;

#[cfg(test)]
mod tests;

pub use env::{
    CONFIG_KEY, DEFAULT_CONFIGMAP_NAME, DEFAULT_MOUNT_PATH, JAVA_SDK_V2_NOTE, check_mount_path, config_file_path,
    container_env, mount_snippet, pod_snippet,
};
pub use model::{
    BaseIdentity, BaseProfile, CREDENTIAL_SOURCES, Chain, CredentialSource, DEFAULT_WEB_IDENTITY_TOKEN_FILE, HopProfile,
};
pub use parse::{ParseError, ParseIssue, Parsed, UnknownKey, parse, parse_lenient};
pub use render::{HEADER, render, render_base, render_hop, section_header};
pub use validate::{
    Finding, MAX_CHAINED_DURATION_SECONDS, MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, PathSegment, Severity,
    is_valid_profile_name, is_valid_region, is_valid_role_arn, validate,
};
