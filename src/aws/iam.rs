//! The IAM (and EKS Pod Identity) I/O layer: roles, their trust, managed attachments and inline
//! policies managed exclusively, IAM OIDC providers, and the retry loop every call goes through.
//!
//! Built for reuse: [`IamApi::new`] takes any `SdkConfig`, so `jenkins_irsa_role` uses the
//! provider's account and `jenkins_cross_account_chain` passes the configuration of another
//! account. Policy semantics (equivalence, rendering, retry classes) live in the pure
//! [`crate::iam`] core; this module only calls AWS, loops, and reports what IAM said.
//!
//! Retries: the SDK's own retry is disabled on these clients, so one loop, [`with_retry`], driven by
//! [`iam::classify`] and [`iam::Backoff`], decides: throttling and `ConcurrentModification` back
//! off; "Invalid principal" and `NoSuchEntity` right after create wait up to
//! [`iam::PROPAGATION_TIMEOUT`]; `DeleteConflict` on delete waits for detachments to settle.

use crate::iam::{self, IamOperation, RetryClass};
use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

/// The tag marking a role (or OIDC provider) as created by one of our resources.
/// Inline policies named with this prefix belong to `jenkins_cross_account_chain` (its
/// `grant_source_permission` on a source role): `jenkins_irsa_role` manages a role's inline policies
/// exclusively except these, so the two resources never undo each other.
pub const CHAIN_GRANT_PREFIX: &str = "jenkins-chain-";

/// The inline policies of a role without those another resource of ours owns.
pub fn without_chain_grants(policies: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    policies.iter().filter(|(k, _)| !k.starts_with(CHAIN_GRANT_PREFIX)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub const OWNER_TAG: &str = "jenkins-eks.io/resource";

/// An AWS call that failed for good: which call, IAM's code and message, and how often it was tried.
/// Messages come from AWS and never carry credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct CallError {
    /// The API operation, e.g. `iam:CreateRole`.
    pub operation: &'static str,
    /// AWS's error code (`NoSuchEntity`, `Throttling`, …), or a transport class.
    pub code: String,
    /// AWS's message.
    pub message: String,
    /// Attempts made, the first included.
    pub attempts: u32,
}

impl CallError {
    /// True when AWS answered with this error code.
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    /// What to do about it, when the fix is known.
    pub fn hint(&self) -> Option<&'static str> {
        iam::fatal_hint(&self.code, &self.message)
    }

    fn new(operation: &'static str, code: &str, message: impl Into<String>) -> Self {
        CallError { operation, code: code.to_string(), message: message.into(), attempts: 1 }
    }
}

/// Error code and message of an SDK error; transport failures get a retryable code.
fn error_meta<E, R>(e: &SdkError<E, R>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(s) => (
            s.err().code().unwrap_or("Unknown").to_string(),
            s.err().message().map(str::to_string).unwrap_or_else(|| s.err().to_string()),
        ),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            ("RequestTimeout".into(), aws_sdk_iam::error::DisplayErrorContext(e).to_string())
        }
        other => ("InternalFailure".into(), aws_sdk_iam::error::DisplayErrorContext(other).to_string()),
    }
}

/// Jitter in `[0, 1]` without a random-number crate: the clock's sub-second nanoseconds.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos());
    f64::from(nanos.unwrap_or(0) % 1000) / 1000.0
}

/// `eks:DescribeCluster` with the retry budget of a read: the one place both the IRSA trust
/// (issuer) and the Kubernetes connections (endpoint, CA) learn about a cluster.
pub async fn describe_cluster(
    eks: &aws_sdk_eks::Client,
    name: &str,
) -> Result<Option<aws_sdk_eks::types::Cluster>, CallError> {
    let out =
        with_retry(IamOperation::Read, "eks:DescribeCluster", || eks.describe_cluster().name(name).send()).await?;
    Ok(out.cluster)
}

/// Follows a paginated list call to its end. `fetch(token)` returns one page's items and the
/// next page's token (IAM's marker or EKS's nextToken); none, or an empty one, ends the list.
async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, CallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), CallError>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = fetch(token.take()).await?;
        out.extend(items);
        match next {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(out),
        }
    }
}

/// Runs `call` until it succeeds or its error is fatal or out of budget, per [`iam::classify`]
/// under `class_op`. Generic over every AWS SDK operation, so EKS calls use it too.
pub async fn with_retry<T, E, R, F, Fut>(
    class_op: IamOperation,
    operation: &'static str,
    mut call: F,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let mut waited = Duration::ZERO;
    let mut retries = 0u32;
    loop {
        let err = match call().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let (code, message) = error_meta(&err);
        let class = iam::classify(class_op, &code, &message);
        let schedule = iam::Backoff::for_class(class);
        match schedule {
            Some(b) if b.allows(retries, waited) => {
                let delay = b.delay_with_jitter(retries, jitter());
                tracing_note(operation, &code, class, retries);
                tokio::time::sleep(delay).await;
                waited += delay;
                retries += 1;
            }
            _ => return Err(CallError { operation, code, message, attempts: retries + 1 }),
        }
    }
}

/// One debug log line per retry; never a secret.
fn tracing_note(operation: &str, code: &str, class: RetryClass, retries: u32) {
    let class = format!("{class:?}");
    let retry = (retries + 1).to_string();
    crate::plugin::log::debug(
        "retrying AWS call",
        &[("operation", operation), ("code", code), ("class", &class), ("retry", &retry)],
    );
}

/// The account and partition the credentials act in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub partition: iam::Partition,
    pub account: String,
}

/// What a role should be; the resource builds it from configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSpec {
    pub name: String,
    pub path: String,
    pub description: Option<String>,
    pub max_session_duration: i32,
    pub permissions_boundary: Option<String>,
    pub trust_policy: String,
    /// Every tag, the owner tag included.
    pub tags: BTreeMap<String, String>,
}

/// A role as IAM has it; documents are URL-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveRole {
    pub name: String,
    pub arn: String,
    pub unique_id: String,
    pub path: String,
    pub trust_policy: String,
    pub description: Option<String>,
    pub max_session_duration: i32,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub managed_policy_arns: BTreeSet<String>,
    pub inline_policies: BTreeMap<String, String>,
}

impl LiveRole {
    /// The owner tag's value (`irsa-role/<name>`), if the role has one.
    pub fn owner(&self) -> Option<&str> {
        self.tags.get(OWNER_TAG).map(String::as_str)
    }
}

/// What an exclusive sync changed, for messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// IAM, STS and EKS clients for one account, with the SDK's retry turned off (ours decides).
#[derive(Clone, Debug)]
pub struct IamApi {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    eks: aws_sdk_eks::Client,
}

fn decode(text: &str) -> String {
    iam::decode_policy_text(text).map(|c| c.into_owned()).unwrap_or_else(|_| text.to_string())
}

fn tag(k: &str, v: &str) -> Result<aws_sdk_iam::types::Tag, CallError> {
    aws_sdk_iam::types::Tag::builder()
        .key(k)
        .value(v)
        .build()
        .map_err(|e| CallError::new("iam:Tag", "InvalidInput", e.to_string()))
}

impl IamApi {
    /// Clients for the account `sdk` acts in.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        let iam_conf = aws_sdk_iam::config::Builder::from(sdk).retry_config(RetryConfig::disabled()).build();
        let sts_conf = aws_sdk_sts::config::Builder::from(sdk).retry_config(RetryConfig::disabled()).build();
        let eks_conf = aws_sdk_eks::config::Builder::from(sdk).retry_config(RetryConfig::disabled()).build();
        IamApi {
            iam: aws_sdk_iam::Client::from_conf(iam_conf),
            sts: aws_sdk_sts::Client::from_conf(sts_conf),
            eks: aws_sdk_eks::Client::from_conf(eks_conf),
        }
    }

    /// `sts:GetCallerIdentity`: the account and partition of the credentials.
    pub async fn caller(&self) -> Result<Caller, CallError> {
        let out =
            with_retry(IamOperation::Other, "sts:GetCallerIdentity", || self.sts.get_caller_identity().send()).await?;
        let arn = out.arn.unwrap_or_default();
        let partition = arn.split(':').nth(1).and_then(|p| iam::Partition::parse(p).ok());
        match (partition, out.account) {
            (Some(partition), Some(account)) => Ok(Caller { partition, account }),
            _ => Err(CallError::new("sts:GetCallerIdentity", "InvalidResponse", format!("no account in {arn:?}"))),
        }
    }

    /// `GetRole` with the attachments and inline policies; `None` when the role does not exist.
    /// `after_create` retries `NoSuchEntity` while a new role propagates.
    pub async fn read_role(&self, name: &str, after_create: bool) -> Result<Option<LiveRole>, CallError> {
        let op = if after_create { IamOperation::ReadAfterCreate } else { IamOperation::Read };
        let role = match with_retry(op, "iam:GetRole", || self.iam.get_role().role_name(name).send()).await {
            Ok(out) => out.role,
            Err(e) if e.is("NoSuchEntity") => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(role) = role else { return Ok(None) };
        let mut live = LiveRole {
            name: role.role_name,
            arn: role.arn,
            unique_id: role.role_id,
            path: role.path,
            trust_policy: role.assume_role_policy_document.as_deref().map(decode).unwrap_or_default(),
            description: role.description.filter(|d| !d.is_empty()),
            max_session_duration: role.max_session_duration.unwrap_or(3600),
            permissions_boundary: role.permissions_boundary.and_then(|b| b.permissions_boundary_arn),
            tags: role.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect(),
            ..Default::default()
        };
        live.managed_policy_arns = self.attached_policies(name).await?;
        live.inline_policies = self.inline_policies(name).await?;
        Ok(Some(live))
    }

    async fn attached_policies(&self, name: &str) -> Result<BTreeSet<String>, CallError> {
        let arns = all_pages(|marker| async move {
            let page = with_retry(IamOperation::Read, "iam:ListAttachedRolePolicies", || {
                self.iam.list_attached_role_policies().role_name(name).set_marker(marker.clone()).send()
            })
            .await?;
            let next = page.marker.filter(|_| page.is_truncated);
            Ok((page.attached_policies.unwrap_or_default().into_iter().filter_map(|p| p.policy_arn).collect(), next))
        })
        .await?;
        Ok(arns.into_iter().collect())
    }

    /// `iam:ListRoles` under `path_prefix`: every role's name, ARN and trust (URL-decoded).
    pub async fn list_roles(&self, path_prefix: Option<&str>) -> Result<Vec<LiveRole>, CallError> {
        all_pages(|marker| async move {
            let page = with_retry(IamOperation::Read, "iam:ListRoles", || {
                self.iam.list_roles().set_path_prefix(path_prefix.map(str::to_string)).set_marker(marker.clone()).send()
            })
            .await?;
            let next = page.marker.filter(|_| page.is_truncated);
            let roles = page.roles.into_iter().map(|r| LiveRole {
                trust_policy: r.assume_role_policy_document.as_deref().map(decode).unwrap_or_default(),
                name: r.role_name,
                arn: r.arn,
                path: r.path,
                ..Default::default()
            });
            Ok((roles.collect(), next))
        })
        .await
    }

    /// The document of a managed policy's default version (customer- or AWS-managed).
    pub async fn managed_policy_document(&self, arn: &str) -> Result<String, CallError> {
        let policy = with_retry(IamOperation::Read, "iam:GetPolicy", || self.iam.get_policy().policy_arn(arn).send())
            .await?
            .policy;
        let version = policy.and_then(|p| p.default_version_id).ok_or_else(|| {
            CallError::new("iam:GetPolicy", "InvalidResponse", format!("no default version for {arn}"))
        })?;
        let out = with_retry(IamOperation::Read, "iam:GetPolicyVersion", || {
            self.iam.get_policy_version().policy_arn(arn).version_id(&version).send()
        })
        .await?;
        Ok(out.policy_version.and_then(|v| v.document).as_deref().map(decode).unwrap_or_default())
    }

    async fn inline_policies(&self, name: &str) -> Result<BTreeMap<String, String>, CallError> {
        let names = all_pages(|marker| async move {
            let page = with_retry(IamOperation::Read, "iam:ListRolePolicies", || {
                self.iam.list_role_policies().role_name(name).set_marker(marker.clone()).send()
            })
            .await?;
            Ok((page.policy_names, page.marker.filter(|_| page.is_truncated)))
        })
        .await?;
        let mut out = BTreeMap::new();
        for policy in names {
            let doc = with_retry(IamOperation::Read, "iam:GetRolePolicy", || {
                self.iam.get_role_policy().role_name(name).policy_name(&policy).send()
            })
            .await?;
            out.insert(policy, decode(&doc.policy_document));
        }
        Ok(out)
    }

    /// `CreateRole`, retrying "Invalid principal" while a trusted principal propagates, then reads
    /// the role back until IAM serves it with a real ARN (not an `AROA…` id).
    pub async fn create_role(&self, spec: &RoleSpec) -> Result<LiveRole, CallError> {
        let tags = spec.tags.iter().map(|(k, v)| tag(k, v)).collect::<Result<Vec<_>, _>>()?;
        with_retry(IamOperation::CreateRole, "iam:CreateRole", || {
            self.iam
                .create_role()
                .role_name(&spec.name)
                .path(&spec.path)
                .assume_role_policy_document(&spec.trust_policy)
                .set_description(spec.description.clone())
                .max_session_duration(spec.max_session_duration)
                .set_permissions_boundary(spec.permissions_boundary.clone())
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await?;
        self.wait_for_role(&spec.name).await
    }

    /// Reads a just-created role until it is found with a role ARN; `NoSuchEntity` and an `AROA…`
    /// ARN are propagation, retried within [`iam::PROPAGATION_TIMEOUT`].
    async fn wait_for_role(&self, name: &str) -> Result<LiveRole, CallError> {
        let backoff = iam::Backoff::for_class(RetryClass::EventualConsistency);
        let mut waited = Duration::ZERO;
        let mut retries = 0;
        loop {
            if let Some(role) = self.read_role(name, true).await?
                && !iam::is_unique_id_principal(&role.arn)
            {
                return Ok(role);
            }
            match backoff {
                Some(b) if b.allows(retries, waited) => {
                    let d = b.delay_with_jitter(retries, jitter());
                    tokio::time::sleep(d).await;
                    waited += d;
                    retries += 1;
                }
                _ => {
                    return Err(CallError::new(
                        "iam:GetRole",
                        "NoSuchEntity",
                        format!("role {name} was created but IAM did not serve it within 2 minutes"),
                    ));
                }
            }
        }
    }

    /// `UpdateAssumeRolePolicy`, retrying "Invalid principal" while principals propagate.
    pub async fn update_trust(&self, name: &str, trust: &str) -> Result<(), CallError> {
        with_retry(IamOperation::UpdateAssumeRolePolicy, "iam:UpdateAssumeRolePolicy", || {
            self.iam.update_assume_role_policy().role_name(name).policy_document(trust).send()
        })
        .await
        .map(|_| ())
    }

    /// `UpdateRole`: description and maximum session duration.
    pub async fn update_role(
        &self,
        name: &str,
        description: Option<&str>,
        max_session_duration: i32,
    ) -> Result<(), CallError> {
        with_retry(IamOperation::Other, "iam:UpdateRole", || {
            self.iam
                .update_role()
                .role_name(name)
                .description(description.unwrap_or(""))
                .max_session_duration(max_session_duration)
                .send()
        })
        .await
        .map(|_| ())
    }

    /// Sets or removes the permissions boundary.
    pub async fn set_permissions_boundary(&self, name: &str, boundary: Option<&str>) -> Result<(), CallError> {
        match boundary {
            Some(arn) => with_retry(IamOperation::ModifyPolicies, "iam:PutRolePermissionsBoundary", || {
                self.iam.put_role_permissions_boundary().role_name(name).permissions_boundary(arn).send()
            })
            .await
            .map(|_| ()),
            None => match with_retry(IamOperation::ModifyPolicies, "iam:DeleteRolePermissionsBoundary", || {
                self.iam.delete_role_permissions_boundary().role_name(name).send()
            })
            .await
            {
                Err(e) if !e.is("NoSuchEntity") => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// Makes the role's tags exactly `desired`.
    pub async fn sync_tags(
        &self,
        name: &str,
        live: &BTreeMap<String, String>,
        desired: &BTreeMap<String, String>,
    ) -> Result<(), CallError> {
        let stale: Vec<String> = live.keys().filter(|k| !desired.contains_key(*k)).cloned().collect();
        if !stale.is_empty() {
            with_retry(IamOperation::Other, "iam:UntagRole", || {
                self.iam.untag_role().role_name(name).set_tag_keys(Some(stale.clone())).send()
            })
            .await?;
        }
        let changed = desired
            .iter()
            .filter(|(k, v)| live.get(*k) != Some(*v))
            .map(|(k, v)| tag(k, v))
            .collect::<Result<Vec<_>, _>>()?;
        if !changed.is_empty() {
            with_retry(IamOperation::Other, "iam:TagRole", || {
                self.iam.tag_role().role_name(name).set_tags(Some(changed.clone())).send()
            })
            .await?;
        }
        Ok(())
    }

    /// Attaches what `desired` lists and `live` lacks, detaches the rest: exclusive management.
    pub async fn sync_managed_policies(
        &self,
        name: &str,
        live: &BTreeSet<String>,
        desired: &BTreeSet<String>,
    ) -> Result<SyncReport, CallError> {
        let mut report = SyncReport::default();
        for arn in desired.difference(live) {
            with_retry(IamOperation::ModifyPolicies, "iam:AttachRolePolicy", || {
                self.iam.attach_role_policy().role_name(name).policy_arn(arn).send()
            })
            .await?;
            report.added.push(arn.clone());
        }
        for arn in live.difference(desired) {
            match with_retry(IamOperation::ModifyPolicies, "iam:DetachRolePolicy", || {
                self.iam.detach_role_policy().role_name(name).policy_arn(arn).send()
            })
            .await
            {
                Err(e) if !e.is("NoSuchEntity") => return Err(e),
                _ => report.removed.push(arn.clone()),
            }
        }
        Ok(report)
    }

    /// Puts every desired inline policy that IAM lacks or holds with another meaning, and deletes
    /// the ones not desired: exclusive management.
    pub async fn sync_inline_policies(
        &self,
        name: &str,
        live: &BTreeMap<String, String>,
        desired: &BTreeMap<String, String>,
    ) -> Result<SyncReport, CallError> {
        let mut report = SyncReport::default();
        for (policy, doc) in desired {
            let same = live.get(policy).is_some_and(|l| iam::equivalent(l, doc).unwrap_or(false));
            if same {
                continue;
            }
            with_retry(IamOperation::ModifyPolicies, "iam:PutRolePolicy", || {
                self.iam.put_role_policy().role_name(name).policy_name(policy).policy_document(doc).send()
            })
            .await?;
            report.added.push(policy.clone());
        }
        for policy in live.keys().filter(|k| !desired.contains_key(*k)) {
            match with_retry(IamOperation::ModifyPolicies, "iam:DeleteRolePolicy", || {
                self.iam.delete_role_policy().role_name(name).policy_name(policy).send()
            })
            .await
            {
                Err(e) if !e.is("NoSuchEntity") => return Err(e),
                _ => report.removed.push(policy.clone()),
            }
        }
        Ok(report)
    }

    /// Detaches and deletes every policy, then deletes the role, retrying `DeleteConflict` while
    /// detachments settle. A role that is already gone is deleted.
    pub async fn delete_role(&self, name: &str) -> Result<(), CallError> {
        let Some(live) = self.read_role(name, false).await? else { return Ok(()) };
        self.sync_managed_policies(name, &live.managed_policy_arns, &BTreeSet::new()).await?;
        self.sync_inline_policies(name, &live.inline_policies, &BTreeMap::new()).await?;
        if live.permissions_boundary.is_some() {
            self.set_permissions_boundary(name, None).await?;
        }
        match with_retry(IamOperation::DeleteRole, "iam:DeleteRole", || self.iam.delete_role().role_name(name).send())
            .await
        {
            Err(e) if !e.is("NoSuchEntity") => Err(e),
            _ => Ok(()),
        }
    }

    /// Whether the IAM OIDC provider `arn` exists.
    pub async fn oidc_provider_exists(&self, arn: &str) -> Result<bool, CallError> {
        match with_retry(IamOperation::Read, "iam:GetOpenIDConnectProvider", || {
            self.iam.get_open_id_connect_provider().open_id_connect_provider_arn(arn).send()
        })
        .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is("NoSuchEntity") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates the IAM OIDC provider of an EKS issuer with audience `sts.amazonaws.com`, tagged
    /// with `owner`. EKS issuers chain to a CA IAM trusts, so no thumbprint is needed.
    pub async fn create_oidc_provider(&self, issuer_url: &str, owner: &str) -> Result<String, CallError> {
        let owner_tag = tag(OWNER_TAG, owner)?;
        let url =
            if issuer_url.starts_with("https://") { issuer_url.to_string() } else { format!("https://{issuer_url}") };
        let out = with_retry(IamOperation::OidcProvider, "iam:CreateOpenIDConnectProvider", || {
            self.iam
                .create_open_id_connect_provider()
                .url(&url)
                .client_id_list(iam::STS_AUDIENCE)
                .tags(owner_tag.clone())
                .send()
        })
        .await?;
        out.open_id_connect_provider_arn.ok_or_else(|| {
            CallError::new("iam:CreateOpenIDConnectProvider", "InvalidResponse", "IAM returned no provider ARN")
        })
    }

    /// `eks:DescribeCluster` of `cluster` in this account; `None` when it does not exist.
    pub async fn eks_cluster(&self, cluster: &str) -> Result<Option<aws_sdk_eks::types::Cluster>, CallError> {
        match describe_cluster(&self.eks, cluster).await {
            Err(e) if e.is("ResourceNotFoundException") => Ok(None),
            other => other,
        }
    }

    /// `eks:DescribeCluster`: the cluster's OIDC issuer URL.
    pub async fn cluster_issuer(&self, cluster: &str) -> Result<Option<String>, CallError> {
        let cluster = describe_cluster(&self.eks, cluster).await?;
        Ok(cluster.and_then(|c| c.identity).and_then(|i| i.oidc).and_then(|o| o.issuer))
    }

    /// Every EKS cluster name of the account and region (for import).
    pub async fn list_clusters(&self) -> Result<Vec<String>, CallError> {
        all_pages(|token| async move {
            let page = with_retry(IamOperation::Read, "eks:ListClusters", || {
                self.eks.list_clusters().set_next_token(token.clone()).send()
            })
            .await?;
            Ok((page.clusters.unwrap_or_default(), page.next_token))
        })
        .await
    }

    /// The Pod Identity association of one service account: `(association id, role ARN)`.
    pub async fn find_pod_identity_association(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<Option<(String, String)>, CallError> {
        let page = with_retry(IamOperation::Read, "eks:ListPodIdentityAssociations", || {
            self.eks
                .list_pod_identity_associations()
                .cluster_name(cluster)
                .namespace(namespace)
                .service_account(service_account)
                .send()
        })
        .await?;
        let Some(id) = page.associations.unwrap_or_default().into_iter().find_map(|a| a.association_id) else {
            return Ok(None);
        };
        let role = self.pod_identity_role(cluster, &id).await?;
        Ok(Some((id, role)))
    }

    /// The role ARN an association points at (the list call does not return it).
    async fn pod_identity_role(&self, cluster: &str, id: &str) -> Result<String, CallError> {
        let out = with_retry(IamOperation::Read, "eks:DescribePodIdentityAssociation", || {
            self.eks.describe_pod_identity_association().cluster_name(cluster).association_id(id).send()
        })
        .await?;
        Ok(out.association.and_then(|a| a.role_arn).unwrap_or_default())
    }

    /// The service accounts `(namespace, name)` of one cluster whose Pod Identity association
    /// points at `role_arn` (for import: a Pod Identity trust does not name its clusters).
    pub async fn pod_identity_subjects(
        &self,
        cluster: &str,
        role_arn: &str,
    ) -> Result<Vec<(String, String)>, CallError> {
        let associations = all_pages(|token| async move {
            let page = with_retry(IamOperation::Read, "eks:ListPodIdentityAssociations", || {
                self.eks.list_pod_identity_associations().cluster_name(cluster).set_next_token(token.clone()).send()
            })
            .await?;
            Ok((page.associations.unwrap_or_default(), page.next_token))
        })
        .await?;
        let mut out = Vec::new();
        for a in associations {
            let (Some(id), Some(namespace), Some(name)) = (a.association_id, a.namespace, a.service_account) else {
                continue;
            };
            if self.pod_identity_role(cluster, &id).await? == role_arn {
                out.push((namespace, name));
            }
        }
        Ok(out)
    }

    /// Makes the service account's association point at `role_arn`; returns its id. "Role does not
    /// exist" is reported as is (IAM answers it only for a role that is really missing).
    pub async fn ensure_pod_identity_association(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
        role_arn: &str,
    ) -> Result<String, CallError> {
        match self.find_pod_identity_association(cluster, namespace, service_account).await? {
            Some((id, role)) if role == role_arn => Ok(id),
            Some((id, _)) => {
                with_retry(IamOperation::Other, "eks:UpdatePodIdentityAssociation", || {
                    self.eks
                        .update_pod_identity_association()
                        .cluster_name(cluster)
                        .association_id(&id)
                        .role_arn(role_arn)
                        .send()
                })
                .await?;
                Ok(id)
            }
            None => {
                let out = with_retry(IamOperation::Other, "eks:CreatePodIdentityAssociation", || {
                    self.eks
                        .create_pod_identity_association()
                        .cluster_name(cluster)
                        .namespace(namespace)
                        .service_account(service_account)
                        .role_arn(role_arn)
                        .send()
                })
                .await?;
                out.association.and_then(|a| a.association_id).ok_or_else(|| {
                    CallError::new("eks:CreatePodIdentityAssociation", "InvalidResponse", "EKS returned no id")
                })
            }
        }
    }

    /// Deletes a Pod Identity association; one already gone is deleted.
    pub async fn delete_pod_identity_association(&self, cluster: &str, id: &str) -> Result<(), CallError> {
        match with_retry(IamOperation::Other, "eks:DeletePodIdentityAssociation", || {
            self.eks.delete_pod_identity_association().cluster_name(cluster).association_id(id).send()
        })
        .await
        {
            Err(e) if !e.is("ResourceNotFoundException") => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod chain_grant_tests {
    use super::*;

    #[test]
    fn the_chains_grants_are_not_the_irsa_roles_to_manage() {
        let live = BTreeMap::from([
            ("artifacts".to_string(), "{}".to_string()),
            (format!("{CHAIN_GRANT_PREFIX}jenkins-awsconfig-configmap"), "{}".to_string()),
        ]);
        assert_eq!(without_chain_grants(&live).keys().collect::<Vec<_>>(), ["artifacts"]);
    }
}
