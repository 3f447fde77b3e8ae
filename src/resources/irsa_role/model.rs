//! The resource's configuration as typed values, its validation with attribute paths, and the
//! conversions between IAM's view of a role and the resource's state.

use super::capitalize;
use crate::aws::iam::{LiveRole, OWNER_TAG, RoleSpec};
use crate::cty::{AttributePath, Value};
use crate::framework::Diagnostics;
use crate::iam;
use crate::resources::values::{boolean, int, set, string, string_map, strings};
use std::collections::{BTreeMap, BTreeSet};

/// How pods get the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// OIDC web identity, announced by the service-account annotation.
    Irsa,
    /// EKS Pod Identity associations.
    PodIdentity,
}

/// One service account, `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
}

impl ServiceAccount {
    /// Whether the namespace or name is a pattern (IRSA's StringLike), not one account.
    pub fn has_wildcard(&self) -> bool {
        self.namespace.contains(['*', '?']) || self.name.contains(['*', '?'])
    }
}

/// The state key of a service account.
pub fn sa_key(sa: &ServiceAccount) -> String {
    format!("{}/{}", sa.namespace, sa.name)
}

/// A configuration (or state) read once into types.
#[derive(Debug, Clone)]
pub struct Desired {
    pub name: String,
    pub path: String,
    pub description: Option<String>,
    pub max_session_duration: i32,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub clusters: Vec<String>,
    pub service_accounts: Vec<ServiceAccount>,
    pub binding: Binding,
    pub managed: BTreeSet<String>,
    pub inline: BTreeMap<String, String>,
    pub annotate: bool,
    pub create_sa: bool,
    pub manage_oidc: bool,
    pub quota: usize,
}

/// The service accounts of a value, sorted; unknown elements are skipped.
fn service_accounts(v: &Value) -> Vec<ServiceAccount> {
    let mut out: Vec<ServiceAccount> = v
        .get_attr("service_accounts")
        .and_then(Value::as_elements)
        .unwrap_or(&[])
        .iter()
        .filter_map(|e| Some(ServiceAccount { namespace: string(e, "namespace")?, name: string(e, "name")? }))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The set value of service accounts.
pub fn service_accounts_value(sas: &[ServiceAccount]) -> Value {
    Value::Set(
        sas.iter()
            .map(|sa| {
                Value::Object(BTreeMap::from([
                    ("namespace".to_string(), Value::string(sa.namespace.clone())),
                    ("name".to_string(), Value::string(sa.name.clone())),
                ]))
            })
            .collect(),
    )
}

impl Desired {
    /// Reads a configuration, plan or state object.
    pub fn from_value(v: &Value) -> Self {
        let mut clusters = strings(v, "clusters");
        clusters.sort();
        clusters.dedup();
        Desired {
            name: string(v, "name").unwrap_or_default(),
            path: string(v, "path").unwrap_or_else(|| "/".into()),
            description: string(v, "description"),
            max_session_duration: int(v, "max_session_duration").and_then(|i| i32::try_from(i).ok()).unwrap_or(3600),
            permissions_boundary: string(v, "permissions_boundary"),
            tags: string_map(v, "tags"),
            clusters,
            service_accounts: service_accounts(v),
            binding: match string(v, "binding").as_deref() {
                Some("pod_identity") => Binding::PodIdentity,
                _ => Binding::Irsa,
            },
            managed: strings(v, "managed_policy_arns").into_iter().collect(),
            inline: string_map(v, "inline_policies"),
            annotate: boolean(v, "annotate_service_accounts").unwrap_or(true),
            create_sa: boolean(v, "create_service_account").unwrap_or(false),
            manage_oidc: boolean(v, "manage_oidc_provider").unwrap_or(false),
            quota: int(v, "trust_policy_quota")
                .and_then(|q| usize::try_from(q).ok())
                .unwrap_or(iam::DEFAULT_TRUST_QUOTA),
        }
    }

    /// The owner tag's value.
    pub fn owner(&self) -> String {
        format!("irsa-role/{}", self.name)
    }

    /// Whether the annotation is ours to write.
    pub fn annotates(&self) -> bool {
        self.binding == Binding::Irsa && self.annotate
    }

    /// The service accounts that get the annotation: none unless annotating; patterns never.
    pub fn annotated_accounts(&self) -> Vec<&ServiceAccount> {
        if !self.annotates() {
            return Vec::new();
        }
        self.service_accounts.iter().filter(|sa| !sa.has_wildcard()).collect()
    }

    /// The trust subjects, `system:serviceaccount:<ns>:<name>`.
    pub fn subjects(&self, diags: &mut Diagnostics) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for sa in &self.service_accounts {
            match iam::service_account_subject(&sa.namespace, &sa.name) {
                Ok(s) => out.push(s),
                Err(e) => {
                    diags.error_at(
                        AttributePath::attr("service_accounts"),
                        "Invalid Service Account",
                        capitalize(&e.to_string()),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    /// The role IAM should have, with `trust` and our owner tag.
    pub fn role_spec(&self, trust: &str) -> RoleSpec {
        let mut tags = self.tags.clone();
        tags.insert(OWNER_TAG.to_string(), self.owner());
        RoleSpec {
            name: self.name.clone(),
            path: self.path.clone(),
            description: self.description.clone(),
            max_session_duration: self.max_session_duration,
            permissions_boundary: self.permissions_boundary.clone(),
            trust_policy: trust.to_string(),
            tags,
        }
    }

    /// `(cluster/namespace/name, cluster, service account)` of every Pod Identity association.
    pub fn association_keys(&self) -> Vec<(String, String, ServiceAccount)> {
        let mut out = Vec::new();
        for c in &self.clusters {
            for sa in &self.service_accounts {
                out.push((format!("{c}/{}", sa_key(sa)), c.clone(), sa.clone()));
            }
        }
        out
    }
}

fn is_policy_arn(s: &str) -> Result<(), String> {
    match iam::Arn::parse(s) {
        Ok(a) if a.service == "iam" && a.resource.starts_with("policy/") => Ok(()),
        Ok(_) => {
            Err(format!("{s:?} is not a managed policy ARN; expected arn:aws:iam::<account or aws>:policy/<name>."))
        }
        Err(e) => Err(capitalize(&e.to_string())),
    }
}

/// Cross-attribute checks at validate time; values may be unknown.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let binding = string(config, "binding");
    let pod_identity = binding.as_deref() == Some("pod_identity");
    let create_sa = boolean(config, "create_service_account") == Some(true);
    let path = AttributePath::attr("service_accounts");
    if let Some(items) = config.get_attr("service_accounts").and_then(Value::as_elements) {
        if items.is_empty() {
            diags.error_at(
                path.clone(),
                "No Service Accounts",
                "List at least one service account that may assume the role.",
            );
        }
        for e in items {
            let (Some(ns), Some(name)) = (string(e, "namespace"), string(e, "name")) else { continue };
            let sa = ServiceAccount { namespace: ns.clone(), name: name.clone() };
            if let Err(err) = iam::service_account_subject(&ns, &name) {
                diags.error_at(path.clone(), "Invalid Service Account", capitalize(&err.to_string()));
            } else if sa.has_wildcard() && pod_identity {
                diags.error_at(
                    path.clone(),
                    "Wildcard Not Supported By Pod Identity",
                    format!("{} is a pattern; EKS Pod Identity associates exact service accounts. List them one by one, or use `binding = \"irsa\"`.", sa_key(&sa)),
                );
            } else if sa.has_wildcard() && create_sa {
                diags.error_at(
                    path.clone(),
                    "Cannot Create A Wildcard Service Account",
                    format!("{} is a pattern, so `create_service_account` cannot create it. List exact names, or set `create_service_account = false`.", sa_key(&sa)),
                );
            }
        }
    }
    if let Some(items) = config.get_attr("clusters").and_then(Value::as_elements)
        && items.is_empty()
    {
        diags.error_at(AttributePath::attr("clusters"), "No Clusters", "List at least one EKS cluster name.");
    }
    if let Some(Value::Map(policies)) = config.get_attr("inline_policies") {
        let mut total = 0;
        for (name, doc) in policies {
            let Some(doc) = doc.as_str() else { continue };
            let here = AttributePath::attr("inline_policies").then_key(name.clone());
            if name.is_empty()
                || name.len() > 128
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
            {
                diags.error_at(
                    here.clone(),
                    "Invalid Policy Name",
                    format!("Inline policy name {name:?} must be 1–128 letters, digits and `+=,.@_-`."),
                );
            }
            match iam::parse_identity_policy(doc) {
                Ok(_) => total += iam::policy_size(doc),
                Err(e) => diags.error_at(here, "Invalid Policy Document", capitalize(&e.to_string())),
            }
        }
        if total > iam::INLINE_POLICIES_QUOTA {
            diags.error_at(
                AttributePath::attr("inline_policies"),
                "Inline Policies Too Long",
                format!("The inline policies total {total} characters (whitespace excluded), over IAM's {} per role. Move some into managed policies and list them in `managed_policy_arns`.", iam::INLINE_POLICIES_QUOTA),
            );
        }
    }
    if let Some(items) = config.get_attr("managed_policy_arns").and_then(Value::as_elements) {
        for e in items {
            if let Some(s) = e.as_str()
                && let Err(detail) = is_policy_arn(s)
            {
                diags.error_at(AttributePath::attr("managed_policy_arns"), "Invalid Policy ARN", detail);
            }
        }
    }
    if let Some(s) = string(config, "permissions_boundary")
        && let Err(detail) = is_policy_arn(&s)
    {
        diags.error_at(AttributePath::attr("permissions_boundary"), "Invalid Policy ARN", detail);
    }
    if let Some(Value::Map(tags)) = config.get_attr("tags")
        && tags.contains_key(OWNER_TAG)
    {
        diags.error_at(
            AttributePath::attr("tags").then_key(OWNER_TAG),
            "Reserved Tag",
            format!("`{OWNER_TAG}` marks roles this resource created and is set by it; remove it from `tags`."),
        );
    }
}

fn policy_keep(prior: Option<&str>, live: &str) -> String {
    iam::keep_prior_if_equivalent(prior, live).unwrap_or_else(|_| live.to_string())
}

/// Updates a state object from the role IAM has: what IAM holds wins, in the user's spelling
/// when it means the same.
pub fn fill_from_live(next: &mut Value, live: &LiveRole, diags: &mut Diagnostics) {
    let prior = next.clone();
    set(next, "arn", Value::string(live.arn.clone()));
    set(next, "unique_id", Value::string(live.unique_id.clone()));
    set(next, "path", Value::string(live.path.clone()));
    let description = match (live.description.as_deref(), string(&prior, "description")) {
        (None, Some(p)) if p.is_empty() => Value::string(""),
        (d, _) => d.map(Value::string).unwrap_or(Value::Null),
    };
    set(next, "description", description);
    set(next, "max_session_duration", Value::int(i64::from(live.max_session_duration)));
    set(next, "permissions_boundary", live.permissions_boundary.clone().map(Value::String).unwrap_or(Value::Null));
    let tags: BTreeMap<String, Value> =
        live.tags.iter().filter(|(k, _)| *k != OWNER_TAG).map(|(k, v)| (k.clone(), Value::string(v.clone()))).collect();
    let prior_null = |name: &str| prior.get_attr(name).is_none_or(Value::is_null);
    set(next, "tags", if tags.is_empty() && prior_null("tags") { Value::Null } else { Value::Map(tags) });

    let prior_trust = string(&prior, "trust_policy");
    set(next, "trust_policy", Value::string(policy_keep(prior_trust.as_deref(), &live.trust_policy)));
    if let Ok(ids) = iam::unique_id_principals(&live.trust_policy)
        && !ids.is_empty()
    {
        diags.warning_at(
            AttributePath::attr("trust_policy"),
            "Trust Names A Deleted Principal",
            format!("IAM shows {} in the trust of role {:?}: a principal it named was deleted (and maybe recreated), and IAM replaced it with its old unique id, which nothing can assume as. Apply to write the trust again.", ids.join(", "), live.name),
        );
    }
    let managed: Vec<Value> = live.managed_policy_arns.iter().cloned().map(Value::String).collect();
    set(
        next,
        "managed_policy_arns",
        if managed.is_empty() && prior_null("managed_policy_arns") { Value::Null } else { Value::Set(managed) },
    );
    let prior_inline = string_map(&prior, "inline_policies");
    let inline: BTreeMap<String, Value> = crate::aws::iam::without_chain_grants(&live.inline_policies)
        .iter()
        .map(|(k, v)| (k.clone(), Value::string(policy_keep(prior_inline.get(k).map(String::as_str), v))))
        .collect();
    set(
        next,
        "inline_policies",
        if inline.is_empty() && prior_null("inline_policies") { Value::Null } else { Value::Map(inline) },
    );
}

/// What an IRSA trust this resource wrote says: the issuers (lower case, no scheme) and the
/// service accounts of its `:sub` conditions.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedTrust {
    /// Issuer → the OIDC provider ARN naming it.
    pub issuers: BTreeMap<String, String>,
    pub service_accounts: Vec<ServiceAccount>,
}

/// Whether a trust lets Kubernetes workloads of EKS in: an IAM OIDC provider of an EKS issuer
/// (`oidc.eks.<region>.amazonaws.com/id/…`, AWS's EKS user guide "IAM roles for service
/// accounts") or the Pod Identity service principal `pods.eks.amazonaws.com`. The roles a list
/// offers for adoption.
pub fn trusts_eks_workloads(text: &str) -> bool {
    let Ok(doc) = iam::parse_policy(text) else { return false };
    doc.statements.iter().filter_map(|s| s.principal.as_ref()).any(|p| {
        p.values("Service").contains(&iam::POD_IDENTITY_SERVICE)
            || p.values("Federated").iter().any(|arn| {
                iam::OidcProviderArn::parse(arn).is_ok_and(|o| o.issuer.to_ascii_lowercase().starts_with("oidc.eks."))
            })
    })
}

/// Reads clusters' issuers and service accounts back from a trust (for import).
pub fn parse_trust(text: &str) -> Result<ParsedTrust, String> {
    let doc = iam::parse_policy(text).map_err(|e| e.to_string())?;
    let mut out = ParsedTrust::default();
    for s in &doc.statements {
        let Some(p) = &s.principal else { continue };
        for arn in p.values("Federated") {
            let provider = iam::OidcProviderArn::parse(arn).map_err(|e| e.to_string())?;
            out.issuers.insert(provider.issuer.to_ascii_lowercase(), arn.to_string());
        }
        for c in s.conditions.iter().filter(|c| c.key.to_ascii_lowercase().ends_with(":sub")) {
            for v in &c.values {
                let rest = v
                    .strip_prefix("system:serviceaccount:")
                    .ok_or_else(|| format!("subject {v:?} is not a service account"))?;
                let (namespace, name) = rest.split_once(':').ok_or_else(|| format!("subject {v:?} has no name"))?;
                out.service_accounts.push(ServiceAccount { namespace: namespace.into(), name: name.into() });
            }
        }
    }
    if out.issuers.is_empty() || out.service_accounts.is_empty() {
        return Err("it names no OIDC provider with service-account subjects".into());
    }
    out.service_accounts.sort();
    out.service_accounts.dedup();
    Ok(out)
}
