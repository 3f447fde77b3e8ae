//! Pure IAM semantics for `jenkins_irsa_role` and `jenkins_cross_account_chain`: the policy
//! document model (including IAM's URL-encoded form), equivalence by meaning and a canonical form,
//! trust-policy builders (IRSA, Pod Identity, cross-account hops), admission checks, the trust-size
//! quota, ARN and name rules, and the classification of IAM errors into retry classes.
//!
//! Architecture invariant: this module does no I/O, holds no async code, calls no AWS SDK and never
//! panics on input. Resources call it with strings read from IAM or from configuration and turn
//! its `IamError`s into diagnostics. It knows nothing of Terraform values or the framework.
//!
//! Facts come from `shared/reference/peers-aws-k8s.md` (§1 IRSA trust shape and quota, §2
//! equivalence rules, retries and `AROA…` ids, §4 target-account trust and external ids).

mod admission;
mod arn;
mod document;
mod equivalence;
mod error;
mod quota;
mod retry;
mod trust;

#[cfg(test)]
mod tests;

pub use admission::{Admission, identity_allows_assume, trust_admits, unique_id_principals, web_identity_admits};
pub use arn::{
    Arn, MAX_SESSION_DURATION, MIN_SESSION_DURATION, OidcProviderArn, Partition, RoleArn, account_root_arn,
    check_account_id, check_chained_duration, check_external_id, check_max_session_duration, check_role_name,
    check_role_path, check_role_session_name, is_unique_id_principal, oidc_provider_arn,
};
pub use document::{
    CURRENT_VERSION, Condition, DEFAULT_VERSION, Effect, PolicyDocument, Principal, Statement, VERSIONS,
    decode_policy_text, parse_identity_policy, parse_policy, parse_trust_policy,
};
pub use equivalence::{canonical, canonical_text, equivalent, keep_prior_if_equivalent};
pub use error::{IamError, Result};
pub use quota::{
    DEFAULT_TRUST_QUOTA, INLINE_POLICIES_QUOTA, MANAGED_POLICY_QUOTA, MAX_TRUST_QUOTA, QuotaError, check_trust_quota,
    policy_size, trust_size,
};
pub use retry::{
    Backoff, IamOperation, PROPAGATION_TIMEOUT, RetryClass, STABLE_ARN_READS, classify, fatal_hint, is_throttling,
};
pub use trust::{
    ClusterSubject, HopTrust, POD_IDENTITY_SERVICE, STS_AUDIENCE, assume_role_permission, cross_account_trust,
    irsa_trust, pod_identity_trust, service_account_subject,
};
