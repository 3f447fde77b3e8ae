//! `jenkins_irsa_role`: keyless AWS for the controller and its agents in one resource: an IAM
//! role trusted by service accounts of EKS clusters (IRSA, or EKS Pod Identity), its permissions
//! managed exclusively, and the `eks.amazonaws.com/role-arn` annotation on those service accounts.
//!
//! Policy semantics come from the pure `iam` core, AWS calls and their retries from `aws::iam`.
//! The annotation is written by server-side apply with our field manager and nothing else in the
//! object, so a Helm-owned service account is annotated without being taken over, and destroy
//! drops only our field. A role without our owner tag is never adopted by create.

pub(crate) mod kube_sa;
mod model;
#[cfg(test)]
mod tests;

use super::values::{set, string, string_map};
use crate::aws::errors::report;
use crate::aws::iam::{IamApi, LiveRole, OWNER_TAG, RoleSpec};
use crate::cty::{AttributePath, Value};
use crate::framework::{
    Attribute, Block, Diagnostics, IdentitySchema, Listed, Nesting, PlanChange, PlanContext, Resource, Schema,
    Validator,
};
use crate::iam;
use crate::provider::{ClusterRef, PendingObject, ProviderContext};
use async_trait::async_trait;
use model::{Binding, Desired, ServiceAccount, sa_key};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The resource type; holds the provider context (AWS and the controller cluster).
pub struct IrsaRole {
    pub context: Arc<ProviderContext>,
    caller: tokio::sync::OnceCell<crate::aws::iam::Caller>,
}

impl IrsaRole {
    /// The resource with the provider's shared context.
    pub fn new(context: Arc<ProviderContext>) -> Self {
        IrsaRole { context, caller: tokio::sync::OnceCell::new() }
    }
}

/// Attributes computed by the provider; every other one is configuration.
const COMPUTED: [&str; 6] = [
    "arn",
    "unique_id",
    "trust_policy",
    "oidc_provider_arns",
    "service_account_annotations",
    "pod_identity_association_ids",
];

/// The service accounts an apply of `planned` creates: with `create_service_account`, each
/// annotated one the prior state did not find annotated (a missing one reads as empty there).
pub(crate) fn created_service_accounts(prior: &Value, planned: &Value) -> Vec<PendingObject> {
    let d = Desired::from_value(planned);
    if !d.create_sa {
        return Vec::new();
    }
    let found = string_map(prior, "service_account_annotations");
    d.annotated_accounts()
        .into_iter()
        .filter(|sa| found.get(&sa_key(sa)).is_none_or(String::is_empty))
        .map(service_account_object)
        .collect()
}

fn service_account_object(sa: &ServiceAccount) -> PendingObject {
    PendingObject {
        cluster: ClusterRef::Controller,
        kind: "ServiceAccount",
        namespace: sa.namespace.clone(),
        name: sa.name.clone(),
        by: "jenkins_irsa_role",
    }
}

fn string_check(summary: &'static str, f: fn(&str) -> iam::Result<()>) -> Validator {
    Validator::string("Checked against IAM's rules.", summary, move |s| f(s).map_err(|e| capitalize(&e.to_string())))
}

/// First letter upper-cased and a final period: IAM core messages are sentence fragments.
pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = c.next().map(|f| f.to_uppercase().collect()).unwrap_or_default();
    out.push_str(c.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

fn schema() -> Schema {
    let sa = vec![
        Attribute::string("namespace").required().describe("Namespace of the service account; `*` and `?` wildcards allowed with `binding = \"irsa\"`."),
        Attribute::string("name").required().describe("Name of the service account; `*` and `?` wildcards allowed with `binding = \"irsa\"` (the trust then uses `StringLike`)."),
    ];
    let block = Block::new(
        "An IAM role for service accounts of EKS clusters (IRSA, or EKS Pod Identity), its permissions managed exclusively, and the `eks.amazonaws.com/role-arn` annotation on the service accounts in the controller cluster. The trust policy renders at plan; policies compare by meaning, so IAM's reformatting never shows as a diff.",
    )
    .attr(
        Attribute::string("name")
            .required()
            .requires_replace()
            .describe("The role name (1–64 of letters, digits and `+=,.@_-`). Renaming replaces the role; import by this name.")
            .validate(string_check("Invalid Role Name", iam::check_role_name)),
    )
    .attr(
        Attribute::string("path")
            .default(Value::string("/"))
            .requires_replace()
            .describe("The role path, `/` or `/a/b/`.")
            .validate(string_check("Invalid Role Path", iam::check_role_path)),
    )
    .attr(Attribute::string("description").optional().describe("The role description."))
    .attr(
        Attribute::number("max_session_duration")
            .default(Value::int(3600))
            .describe("Longest session in seconds.")
            .validate(Validator::int_between(3600, 43200)),
    )
    .attr(Attribute::string("permissions_boundary").optional().describe("ARN of the managed policy that bounds the role's permissions."))
    .attr(Attribute::string_map("tags").optional().describe(format!("Tags of the role. `{OWNER_TAG}` is ours and always set to `irsa-role/<name>`.")))
    .attr(
        Attribute::new("clusters", crate::cty::Type::set(crate::cty::Type::String))
            .required()
            .describe("EKS cluster names whose service accounts may assume the role. Each cluster's OIDC issuer comes from `DescribeCluster`; IRSA renders one trust statement per cluster."),
    )
    .attr(
        Attribute::nested("service_accounts", Nesting::Set, sa)
            .required()
            .describe("The service accounts (in every cluster listed) that may assume the role and, in the controller cluster, get the annotation."),
    )
    .attr(
        Attribute::string("binding")
            .default(Value::string("irsa"))
            .describe("`irsa`: OIDC web-identity trust and the service-account annotation. `pod_identity`: trust of `pods.eks.amazonaws.com` and one EKS Pod Identity association per cluster and service account, no annotation.")
            .validate(Validator::one_of(&["irsa", "pod_identity"])),
    )
    .attr(
        Attribute::new("managed_policy_arns", crate::cty::Type::set(crate::cty::Type::String))
            .optional()
            .describe("Managed policies attached to the role, exclusively: any other attachment is detached at apply (and the plan shows it)."),
    )
    .attr(
        Attribute::string_map("inline_policies")
            .optional()
            .describe("Inline policies, name → JSON document, exclusively: any other inline policy is deleted at apply. Compared by meaning; your spelling stays in state."),
    )
    .attr(
        Attribute::bool("annotate_service_accounts")
            .default(Value::Bool(true))
            .describe("With `irsa`: write `eks.amazonaws.com/role-arn` on each listed service account of the controller cluster (the provider's `kubernetes` block) by server-side apply with this provider's field manager. Other fields and owners (e.g. Helm) are left alone; destroy removes only this annotation."),
    )
    .attr(
        Attribute::bool("create_service_account")
            .default(Value::Bool(false))
            .describe("Create a listed service account that does not exist (labelled as ours, deleted on destroy). Without it, a missing service account is an error at apply."),
    )
    .attr(
        Attribute::bool("manage_oidc_provider")
            .default(Value::Bool(false))
            .describe("Create a cluster's IAM OIDC provider when it does not exist (it is shared per cluster, so destroy leaves it)."),
    )
    .attr(
        Attribute::number("trust_policy_quota")
            .default(Value::int(iam::DEFAULT_TRUST_QUOTA as i64))
            .describe("The account's \"Role trust policy length\" quota; the rendered trust is checked against it at plan.")
            .validate(Validator::int_between(1, 8192)),
    )
    .attr(Attribute::string("arn").computed().use_state_for_unknown().describe("The role ARN."))
    .attr(Attribute::string("unique_id").computed().use_state_for_unknown().describe("The role's unique id (`AROA…`)."))
    .attr(Attribute::string("trust_policy").computed().describe("The trust policy as rendered at plan (one statement per cluster for IRSA)."))
    .attr(Attribute::string_map("oidc_provider_arns").computed().describe("Cluster → its IAM OIDC provider ARN (IRSA)."))
    .attr(Attribute::string_map("service_account_annotations").computed().describe("`namespace/name` → the role ARN found in its annotation (empty when missing), so a removed annotation shows at plan."))
    .attr(Attribute::string_map("pod_identity_association_ids").computed().describe("`cluster/namespace/name` → EKS Pod Identity association id (empty when missing)."));
    Schema::new(block)
}

/// True when every configured input is known.
fn inputs_known(v: &Value) -> bool {
    super::values::known_except(v, &COMPUTED)
}

fn map_value(m: &BTreeMap<String, String>) -> Value {
    Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::string(v.clone()))).collect())
}

/// What the trust and its providers resolve to for one configuration.
struct Resolved {
    trust: String,
    oidc: BTreeMap<String, String>,
    issuers: BTreeMap<String, String>,
}

impl IrsaRole {
    async fn api(&self) -> Option<(Arc<crate::provider::context::Configured>, IamApi)> {
        let configured = self.context.get()?;
        let api = IamApi::new(configured.aws.sdk().await);
        Some((configured, api))
    }

    /// Renders the trust: Pod Identity needs no call; IRSA needs the account and each cluster's issuer.
    async fn resolve(&self, api: &IamApi, d: &Desired, diags: &mut Diagnostics) -> Option<Resolved> {
        if d.binding == Binding::PodIdentity {
            return Some(Resolved {
                trust: iam::pod_identity_trust(),
                oidc: BTreeMap::new(),
                issuers: BTreeMap::new(),
            });
        }
        let caller = match self.caller.get_or_try_init(|| api.caller()).await {
            Ok(c) => c.clone(),
            Err(e) => {
                report(diags, None, "find the AWS account", &e);
                return None;
            }
        };
        let subjects = d.subjects(diags)?;
        let mut clusters = Vec::new();
        let mut oidc = BTreeMap::new();
        let mut issuers = BTreeMap::new();
        for name in &d.clusters {
            let issuer = match api.cluster_issuer(name).await {
                Ok(Some(i)) => i,
                Ok(None) => {
                    diags.error_at(
                        AttributePath::attr("clusters"),
                        "Cluster Has No OIDC Issuer",
                        format!("EKS cluster {name:?} reports no OIDC issuer, so IRSA cannot trust it. Use `binding = \"pod_identity\"` or a cluster with an issuer."),
                    );
                    return None;
                }
                Err(e) => {
                    report(diags, Some(AttributePath::attr("clusters")), &format!("describe EKS cluster {name:?}"), &e);
                    return None;
                }
            };
            let built = iam::oidc_provider_arn(caller.partition, &caller.account, &issuer)
                .and_then(|arn| iam::ClusterSubject::new(&arn, &issuer, &subjects).map(|s| (arn, s)));
            match built {
                Ok((arn, subject)) => {
                    oidc.insert(name.clone(), arn);
                    issuers.insert(name.clone(), issuer);
                    clusters.push(subject);
                }
                Err(e) => {
                    diags.error_at(
                        AttributePath::attr("clusters"),
                        "Cannot Build The Trust",
                        capitalize(&e.to_string()),
                    );
                    return None;
                }
            }
        }
        Some(Resolved { trust: iam::irsa_trust(&clusters), oidc, issuers })
    }

    /// Plan-time and apply-time checks of a rendered trust.
    fn check_quota(trust: &str, quota: usize, diags: &mut Diagnostics) -> bool {
        match iam::check_trust_quota(trust, quota) {
            Ok(()) => true,
            Err(e) => {
                diags.error_at(
                    AttributePath::attr("clusters"),
                    "Trust Policy Too Long",
                    capitalize(&e.to_string()).replace("the trust quota setting", "`trust_policy_quota`"),
                );
                false
            }
        }
    }

    /// After the apply, done or failed, none of its service accounts is pending any more.
    fn settle(&self, planned: &Value) {
        if let Some(configured) = self.context.get() {
            let all: Vec<PendingObject> =
                Desired::from_value(planned).annotated_accounts().into_iter().map(service_account_object).collect();
            configured.settled(&all);
        }
    }

    /// Creates or converges everything; `prior` is `None` on create.
    async fn converge(&self, prior: Option<&Value>, planned: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let Some((configured, api)) = self.api().await else {
            diags.error("Provider Configuration Unknown", "jenkins_irsa_role needs the provider's configuration, which is not known yet. Apply what it depends on first.");
            return None;
        };
        let d = Desired::from_value(planned);
        let resolved = self.resolve(&api, &d, diags).await?;
        if !Self::check_quota(&resolved.trust, d.quota, diags) {
            return None;
        }
        for (cluster, arn) in &resolved.oidc {
            self.ensure_oidc_provider(&api, &d, cluster, arn, &resolved.issuers[cluster], diags).await?;
        }
        let planned_trust = string(planned, "trust_policy");
        let trust = match planned_trust {
            Some(t) if iam::equivalent(&t, &resolved.trust).unwrap_or(false) => t,
            _ => resolved.trust.clone(),
        };
        let spec = d.role_spec(&trust);
        let live = match api.read_role(&d.name, false).await {
            Ok(l) => l,
            Err(e) => {
                report(diags, None, &format!("read role {}", d.name), &e);
                return None;
            }
        };
        let live = match live {
            None => match api.create_role(&spec).await {
                Ok(l) => l,
                Err(e) => {
                    report(diags, None, &format!("create role {}", d.name), &e);
                    return None;
                }
            },
            Some(l) if prior.is_none() && l.owner() != Some(d.owner().as_str()) => {
                diags.error_at(
                    AttributePath::attr("name"),
                    "Role Already Exists",
                    format!(
                        "IAM role {:?} already exists and does not carry the tag {OWNER_TAG} = {:?}, so this resource did not create it and will not take it over. Import it (`terraform import <address> {}`) or choose another name.",
                        d.name,
                        d.owner(),
                        d.name
                    ),
                );
                return None;
            }
            Some(l) => {
                self.update_role(&api, &l, &spec, diags).await?;
                l
            }
        };
        let step = |diags: &mut Diagnostics,
                    what: &str,
                    r: Result<crate::aws::iam::SyncReport, crate::aws::iam::CallError>| match r {
            Ok(_) => Some(()),
            Err(e) => {
                report(diags, None, &format!("{what} of role {}", d.name), &e);
                None
            }
        };
        step(
            diags,
            "sync managed policies",
            api.sync_managed_policies(&d.name, &live.managed_policy_arns, &d.managed).await,
        )?;
        step(
            diags,
            "sync inline policies",
            api.sync_inline_policies(&d.name, &crate::aws::iam::without_chain_grants(&live.inline_policies), &d.inline)
                .await,
        )?;

        let prior_d = prior.map(Desired::from_value);
        let mut state = planned.clone();
        set(&mut state, "arn", Value::string(live.arn.clone()));
        set(&mut state, "unique_id", Value::string(live.unique_id.clone()));
        set(&mut state, "trust_policy", Value::string(trust));
        set(&mut state, "oidc_provider_arns", map_value(&resolved.oidc));
        let annotations = self.bind_annotations(&configured, prior_d.as_ref(), &d, &live.arn, diags).await?;
        set(&mut state, "service_account_annotations", map_value(&annotations));
        let ids = self.bind_pod_identity(&api, prior.zip(prior_d.as_ref()), &d, &live.arn, diags).await?;
        set(&mut state, "pod_identity_association_ids", map_value(&ids));
        Some(state)
    }

    async fn ensure_oidc_provider(
        &self,
        api: &IamApi,
        d: &Desired,
        cluster: &str,
        arn: &str,
        issuer: &str,
        diags: &mut Diagnostics,
    ) -> Option<()> {
        match api.oidc_provider_exists(arn).await {
            Ok(true) => Some(()),
            Ok(false) if d.manage_oidc => match api.create_oidc_provider(issuer, &d.owner()).await {
                Ok(_) => Some(()),
                Err(e) => {
                    report(
                        diags,
                        Some(AttributePath::attr("manage_oidc_provider")),
                        &format!("create the OIDC provider of cluster {cluster:?}"),
                        &e,
                    );
                    None
                }
            },
            Ok(false) => {
                diags.error_at(
                    AttributePath::attr("manage_oidc_provider"),
                    "OIDC Provider Missing",
                    format!("Cluster {cluster:?} has no IAM OIDC provider ({arn}), so no service account of it can assume the role. Set `manage_oidc_provider = true`, or create it (e.g. `eksctl utils associate-iam-oidc-provider --cluster {cluster} --approve`)."),
                );
                None
            }
            Err(e) => {
                report(diags, None, &format!("look up the OIDC provider of cluster {cluster:?}"), &e);
                None
            }
        }
    }

    /// Converges an existing role's trust, settings, boundary and tags to `spec`.
    async fn update_role(&self, api: &IamApi, live: &LiveRole, spec: &RoleSpec, diags: &mut Diagnostics) -> Option<()> {
        let fail = |diags: &mut Diagnostics, what: &str, e: crate::aws::iam::CallError| {
            report(diags, None, &format!("{what} of role {}", spec.name), &e);
        };
        if !iam::equivalent(&live.trust_policy, &spec.trust_policy).unwrap_or(false)
            && let Err(e) = api.update_trust(&spec.name, &spec.trust_policy).await
        {
            fail(diags, "update the trust policy", e);
            return None;
        }
        if (live.description.as_deref(), live.max_session_duration)
            != (spec.description.as_deref(), spec.max_session_duration)
            && let Err(e) = api.update_role(&spec.name, spec.description.as_deref(), spec.max_session_duration).await
        {
            fail(diags, "update the settings", e);
            return None;
        }
        if live.permissions_boundary != spec.permissions_boundary
            && let Err(e) = api.set_permissions_boundary(&spec.name, spec.permissions_boundary.as_deref()).await
        {
            fail(diags, "set the permissions boundary", e);
            return None;
        }
        if let Err(e) = api.sync_tags(&spec.name, &live.tags, &spec.tags).await {
            fail(diags, "tag", e);
            return None;
        }
        Some(())
    }

    /// Annotates (or un-annotates) the service accounts in the controller cluster; returns the
    /// `namespace/name → ARN` map the state records.
    async fn bind_annotations(
        &self,
        configured: &crate::provider::context::Configured,
        prior: Option<&Desired>,
        d: &Desired,
        arn: &str,
        diags: &mut Diagnostics,
    ) -> Option<BTreeMap<String, String>> {
        let wanted = d.annotated_accounts();
        let stale: Vec<&ServiceAccount> = prior
            .map(|p| p.annotated_accounts().into_iter().filter(|sa| !wanted.contains(sa)).collect())
            .unwrap_or_default();
        if wanted.is_empty() && stale.is_empty() {
            return Some(BTreeMap::new());
        }
        let client = self.client(configured, diags).await?;
        for sa in stale {
            if let Err(e) = kube_sa::unbind(&client, sa, Some(arn)).await {
                crate::kube::errors::report(
                    diags,
                    None,
                    &format!("remove the annotation of service account {}", sa_key(sa)),
                    &e,
                );
                return None;
            }
        }
        let mut out = BTreeMap::new();
        for sa in wanted {
            match kube_sa::bind(&client, sa, arn, d.create_sa).await {
                Ok(kube_sa::Bound::Missing) => {
                    diags.error_at(
                        AttributePath::attr("service_accounts"),
                        "Service Account Not Found",
                        format!("Service account {} does not exist in the controller cluster. Create it first (e.g. with the Helm release, and `depends_on` it), or set `create_service_account = true`.", sa_key(sa)),
                    );
                    return None;
                }
                Ok(kube_sa::Bound::Changed { running_pods }) => {
                    if !running_pods.is_empty() {
                        diags.warning_at(
                            AttributePath::attr("service_accounts"),
                            "Running Pods Keep Their Old Credentials",
                            format!("The role annotation of service account {} changed, but the EKS webhook injects credentials only into new pods. Restart these pods to use the role: {} (the `jenkins_restart_pods` action in this role's `lifecycle {{ action_trigger {{ ... }} }}` does it on every apply, Terraform 1.14 and later).", sa_key(sa), running_pods.join(", ")),
                        );
                    }
                }
                Ok(kube_sa::Bound::Unchanged) => {}
                Err(e) => {
                    crate::kube::errors::report(
                        diags,
                        Some(AttributePath::attr("service_accounts")),
                        &format!("annotate service account {}", sa_key(sa)),
                        &e,
                    );
                    return None;
                }
            }
            out.insert(sa_key(sa), arn.to_string());
        }
        Some(out)
    }

    async fn client(
        &self,
        configured: &crate::provider::context::Configured,
        diags: &mut Diagnostics,
    ) -> Option<kube::Client> {
        let Some(connector) = configured.controller.clone() else {
            diags.error_at(
                AttributePath::attr("annotate_service_accounts"),
                "Missing Kubernetes Settings",
                "Annotating service accounts needs the controller's cluster: add a `kubernetes` block to the provider, or set `annotate_service_accounts = false`.",
            );
            return None;
        };
        match connector.client().await {
            Ok(c) => Some(c),
            Err(e) => {
                diags.error("Cannot Reach The Controller Cluster", format!("{e}."));
                None
            }
        }
    }

    /// Creates, repoints or deletes Pod Identity associations; returns the ids the state records.
    async fn bind_pod_identity(
        &self,
        api: &IamApi,
        prior: Option<(&Value, &Desired)>,
        d: &Desired,
        arn: &str,
        diags: &mut Diagnostics,
    ) -> Option<BTreeMap<String, String>> {
        let wanted = if d.binding == Binding::PodIdentity { d.association_keys() } else { Vec::new() };
        let keys: BTreeSet<String> = wanted.iter().map(|(k, _, _)| k.clone()).collect();
        if let Some((pv, _)) = prior {
            for (key, id) in string_map(pv, "pod_identity_association_ids") {
                let cluster = key.split('/').next().unwrap_or_default();
                if !keys.contains(&key)
                    && !id.is_empty()
                    && let Err(e) = api.delete_pod_identity_association(cluster, &id).await
                {
                    report(diags, None, &format!("delete the Pod Identity association {key}"), &e);
                    return None;
                }
            }
        }
        let mut out = BTreeMap::new();
        for (key, cluster, sa) in wanted {
            match api.ensure_pod_identity_association(&cluster, &sa.namespace, &sa.name, arn).await {
                Ok(id) => {
                    out.insert(key, id);
                }
                Err(e) => {
                    report(
                        diags,
                        Some(AttributePath::attr("service_accounts")),
                        &format!("associate {key} with the role"),
                        &e,
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    /// Fills clusters, service accounts and binding from the live trust of an imported role.
    async fn import_from_trust(
        &self,
        api: &IamApi,
        live: &LiveRole,
        state: &mut Value,
        diags: &mut Diagnostics,
    ) -> Option<()> {
        let pod_identity = iam::equivalent(&live.trust_policy, &iam::pod_identity_trust()).unwrap_or(false);
        let parsed = match model::parse_trust(&live.trust_policy) {
            Ok(p) => Some(p),
            Err(_) if pod_identity => None,
            Err(detail) => {
                diags.error("Cannot Import The Role", format!("Its trust policy is not one this resource writes: {detail}. Manage it with another tool, or recreate it with this resource."));
                return None;
            }
        };
        let names = match api.list_clusters().await {
            Ok(n) => n,
            Err(e) => {
                report(diags, None, "list EKS clusters", &e);
                return None;
            }
        };
        let Some(parsed) = parsed else { return import_pod_identity(api, live, names, state, diags).await };
        let mut clusters = Vec::new();
        let mut oidc = BTreeMap::new();
        for name in names {
            if let Ok(Some(issuer)) = api.cluster_issuer(&name).await {
                let bare = issuer.trim_start_matches("https://").trim_end_matches('/').to_ascii_lowercase();
                if let Some(arn) = parsed.issuers.get(&bare) {
                    oidc.insert(name.clone(), arn.clone());
                    clusters.push(name);
                }
            }
        }
        if clusters.len() != parsed.issuers.len() {
            diags.error("Cannot Import The Role", "Some OIDC providers its trust names belong to no EKS cluster of this account and region. Import it in the account and region of its clusters.");
            return None;
        }
        set(state, "oidc_provider_arns", map_value(&oidc));
        set_imported(state, clusters, &parsed.service_accounts, "irsa", &live.path);
        Some(())
    }
}

/// A Pod Identity trust names no cluster: the clusters and service accounts come from the
/// associations that point at the role, in every cluster (`names`) of the account and region.
async fn import_pod_identity(
    api: &IamApi,
    live: &LiveRole,
    names: Vec<String>,
    state: &mut Value,
    diags: &mut Diagnostics,
) -> Option<()> {
    let mut clusters = Vec::new();
    let mut accounts = Vec::new();
    for name in names {
        match api.pod_identity_subjects(&name, &live.arn).await {
            Ok(found) if found.is_empty() => {}
            Ok(found) => {
                clusters.push(name);
                accounts.extend(found.into_iter().map(|(namespace, name)| ServiceAccount { namespace, name }));
            }
            Err(e) => {
                report(diags, None, &format!("list the Pod Identity associations of cluster {name}"), &e);
                return None;
            }
        }
    }
    if clusters.is_empty() {
        diags.error(
            "Cannot Import The Role",
            format!("Role {:?} trusts EKS Pod Identity, but no Pod Identity association in this account and region points at it, so its clusters and service accounts cannot be told. Create the association (or declare the role with this resource and apply), then import.", live.name),
        );
        return None;
    }
    accounts.sort();
    accounts.dedup();
    set(state, "oidc_provider_arns", Value::Map(BTreeMap::new()));
    set_imported(state, clusters, &accounts, "pod_identity", &live.path);
    Some(())
}

/// The inputs an import reads back, with the defaults for what the remote side cannot tell.
fn set_imported(state: &mut Value, mut clusters: Vec<String>, accounts: &[ServiceAccount], binding: &str, path: &str) {
    clusters.sort();
    set(state, "clusters", Value::Set(clusters.into_iter().map(Value::String).collect()));
    set(state, "service_accounts", model::service_accounts_value(accounts));
    set(state, "binding", Value::string(binding));
    set(state, "path", Value::string(path));
    set(state, "annotate_service_accounts", Value::Bool(true));
    set(state, "create_service_account", Value::Bool(false));
    set(state, "manage_oidc_provider", Value::Bool(false));
    set(state, "trust_policy_quota", Value::int(iam::DEFAULT_TRUST_QUOTA as i64));
}

#[async_trait]
impl Resource for IrsaRole {
    fn type_name(&self) -> &'static str {
        "jenkins_irsa_role"
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(super::identities::irsa_role())
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        super::identities::irsa_role_of(state)
    }

    /// An identity naming an account is checked against the provider's before anything is read.
    async fn import_identity(&self, identity: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let mut caller = None;
        if IdentitySchema::get(identity, "account_id").is_some()
            && let Some((_, api)) = self.api().await
        {
            caller = api.caller().await.ok().map(|c| c.account);
        }
        let id = super::identities::import_id(super::identities::irsa_role_import(identity, caller.as_deref()), diags)?;
        self.import(&id, diags).await
    }

    fn list_schema(&self) -> Option<Block> {
        Some(Block::new(
            "The IAM roles of the provider's account whose trust lets EKS workloads in: an IAM OIDC provider of an EKS issuer (IRSA) or `pods.eks.amazonaws.com` (Pod Identity), each with the state an import builds. A role whose trust this resource would not write is left out with a warning saying why.",
        ).attr(
            Attribute::string("path_prefix")
                .optional()
                .describe("Only roles under this IAM path, e.g. `/jenkins/`; all roles when unset."),
        ))
    }

    async fn list(&self, config: &Value, with_objects: bool, diags: &mut Diagnostics) -> Vec<Listed> {
        let Some((_, api)) = self.api().await else { return Vec::new() };
        let prefix = string(config, "path_prefix");
        let roles = match api.list_roles(prefix.as_deref()).await {
            Ok(r) => r,
            Err(e) => {
                report(diags, None, "list IAM roles", &e);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for role in roles.into_iter().filter(|r| model::trusts_eks_workloads(&r.trust_policy)) {
            let mut found = schema().block.null_object();
            set(&mut found, "name", Value::string(role.name.clone()));
            set(&mut found, "arn", Value::string(role.arn.clone()));
            if with_objects {
                // What an import reads back; a role it would refuse is not offered.
                let mut local = Diagnostics::new();
                match self.read(&found, &mut local).await {
                    Some(Some(state)) if !local.has_error() => found = state,
                    _ => {
                        let why: Vec<String> = local
                            .iter()
                            .filter(|d| d.severity == crate::framework::Severity::Error)
                            .map(|d| format!("{}: {}", d.summary, d.detail))
                            .collect();
                        let why = why.join(" ");
                        diags.warning(
                            "Role Not Listed",
                            format!("Role {:?} trusts EKS workloads, but an import would fail: {why}", role.name),
                        );
                        continue;
                    }
                }
            }
            let Some(identity) = super::identities::irsa_role_of(&found) else { continue };
            let display_name = format!("role {} ({})", role.name, role.arn);
            out.push(Listed { identity, display_name, object: with_objects.then_some(found) });
        }
        out
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, _schema: &Schema, config: &Value, diags: &mut Diagnostics) {
        model::validate(config, diags);
    }

    async fn modify_plan(&self, ctx: PlanContext<'_>, change: &mut PlanChange, diags: &mut Diagnostics) {
        if change.planned.is_null() {
            return;
        }
        // Even before the role's ARN is known: a cloud planned after this role may run as them.
        if let Some(configured) = self.context.get() {
            created_service_accounts(ctx.prior, &change.planned).into_iter().for_each(|o| configured.will_create(o));
        }
        if !inputs_known(&change.planned) {
            return;
        }
        let d = Desired::from_value(&change.planned);
        if d.binding == Binding::Irsa && d.service_accounts.iter().any(ServiceAccount::has_wildcard) {
            diags.warning_at(
                AttributePath::attr("service_accounts"),
                "Wildcard Service Account",
                "A namespace or name with `*` or `?` lets every matching service account assume the role (the trust uses StringLike). List the accounts one by one unless that is what you mean.",
            );
        }
        // The role lives in the caller's account: its ARN in state spares a GetCallerIdentity per plan.
        if let Some(prior_arn) = string(ctx.prior, "arn")
            && let Ok(role) = iam::RoleArn::parse(&prior_arn)
        {
            let _ = self.caller.set(crate::aws::iam::Caller { partition: role.partition, account: role.account });
        }
        let resolved = if d.binding == Binding::PodIdentity {
            Some(Resolved { trust: iam::pod_identity_trust(), oidc: BTreeMap::new(), issuers: BTreeMap::new() })
        } else {
            match self.api().await {
                // Errors at plan (e.g. a cluster created in the same apply, or by a configuration
                // not applied yet) leave the trust unknown with a warning saying why; apply
                // renders it again and reports them.
                Some((_, api)) => {
                    let mut local = Diagnostics::new();
                    let resolved = self.resolve(&api, &d, &mut local).await;
                    if let Some(e) = local.iter().find(|e| e.severity == crate::framework::Severity::Error) {
                        diags.warning_at(
                            AttributePath::attr("clusters"),
                            "Trust Not Rendered At Plan",
                            format!(
                                "{} ({}), so the trust policy is known only after apply. The apply renders it again and fails if this is still so (e.g. a cluster created by another configuration must exist by then).",
                                e.summary,
                                e.detail.trim_end_matches('.')
                            ),
                        );
                    }
                    resolved
                }
                None => None,
            }
        };
        let prior_trust = string(ctx.prior, "trust_policy");
        if let Some(r) = &resolved {
            if !Self::check_quota(&r.trust, d.quota, diags) {
                return;
            }
            let trust = match prior_trust {
                Some(p) if iam::equivalent(&p, &r.trust).unwrap_or(false) => p,
                _ => r.trust.clone(),
            };
            set(&mut change.planned, "trust_policy", Value::string(trust));
            set(&mut change.planned, "oidc_provider_arns", map_value(&r.oidc));
        } else if d.binding == Binding::Irsa {
            set(&mut change.planned, "trust_policy", Value::unknown());
            set(&mut change.planned, "oidc_provider_arns", Value::unknown());
        }
        let arn = change.planned.get_attr("arn").and_then(Value::as_str).map(str::to_string);
        let annotations = match (&arn, d.annotates()) {
            (_, false) => Value::Map(BTreeMap::new()),
            (Some(arn), true) => Value::Map(
                d.annotated_accounts().into_iter().map(|sa| (sa_key(sa), Value::string(arn.clone()))).collect(),
            ),
            (None, true) => Value::unknown(),
        };
        set(&mut change.planned, "service_account_annotations", annotations);
        let ids = if d.binding == Binding::PodIdentity {
            let prior_ids = string_map(ctx.prior, "pod_identity_association_ids");
            let keys: BTreeSet<String> = d.association_keys().into_iter().map(|(k, _, _)| k).collect();
            let same_role = string(ctx.prior, "arn").is_some() && arn == string(ctx.prior, "arn");
            if same_role
                && prior_ids.keys().cloned().collect::<BTreeSet<_>>() == keys
                && prior_ids.values().all(|v| !v.is_empty())
            {
                map_value(&prior_ids)
            } else {
                Value::unknown()
            }
        } else {
            Value::Map(BTreeMap::new())
        };
        set(&mut change.planned, "pod_identity_association_ids", ids);
    }

    async fn plan_destroy(&self, prior: &Value, diags: &mut Diagnostics) {
        let d = Desired::from_value(prior);
        if d.annotates() {
            diags.warning(
                "Running Pods Keep The Role Until Restarted",
                format!("Destroying removes role {:?} and this provider's annotation from the service accounts; pods already running keep their web-identity token but can no longer assume the deleted role.", d.name),
            );
        }
    }

    async fn import(&self, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        if let Err(e) = iam::check_role_name(id) {
            diags.error("Invalid Import Id", format!("Import a role by its name. {}", capitalize(&e.to_string())));
            return None;
        }
        let mut state = schema().block.null_object();
        set(&mut state, "name", Value::string(id));
        Some(state)
    }

    async fn create(&self, planned: &Value, _config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let state = self.converge(None, planned, diags).await;
        self.settle(planned);
        state
    }

    async fn read(&self, state: &Value, diags: &mut Diagnostics) -> Option<Option<Value>> {
        let Some((configured, api)) = self.api().await else { return Some(Some(state.clone())) };
        let name = string(state, "name").unwrap_or_default();
        let live = match api.read_role(&name, false).await {
            Ok(Some(l)) => l,
            Ok(None) => return Some(None),
            Err(e) => {
                report(diags, None, &format!("read role {name}"), &e);
                return None;
            }
        };
        let mut next = state.clone();
        if state.get_attr("clusters").is_none_or(Value::is_null) {
            self.import_from_trust(&api, &live, &mut next, diags).await?;
        }
        model::fill_from_live(&mut next, &live, diags);
        let d = Desired::from_value(&next);
        // The annotations as they are, so one removed by hand shows at plan.
        let mut annotations = BTreeMap::new();
        if d.annotates() {
            let client = self.client(&configured, diags).await?;
            for sa in d.annotated_accounts() {
                let found = match kube_sa::annotation(&client, sa).await {
                    Ok(v) => v.unwrap_or_default(),
                    Err(e) => {
                        crate::kube::errors::report(diags, None, &format!("read service account {}", sa_key(sa)), &e);
                        return None;
                    }
                };
                annotations.insert(sa_key(sa), found);
            }
        }
        set(&mut next, "service_account_annotations", map_value(&annotations));
        let mut ids = BTreeMap::new();
        if d.binding == Binding::PodIdentity {
            for (key, cluster, sa) in d.association_keys() {
                let found = match api.find_pod_identity_association(&cluster, &sa.namespace, &sa.name).await {
                    Ok(Some((id, role))) if role == live.arn => id,
                    Ok(_) => String::new(),
                    Err(e) => {
                        report(diags, None, &format!("read the Pod Identity association {key}"), &e);
                        return None;
                    }
                };
                ids.insert(key, found);
            }
        }
        set(&mut next, "pod_identity_association_ids", map_value(&ids));
        Some(Some(next))
    }

    async fn update(&self, prior: &Value, planned: &Value, _config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let state = self.converge(Some(prior), planned, diags).await;
        self.settle(planned);
        state
    }

    async fn delete(&self, prior: &Value, diags: &mut Diagnostics) {
        let Some((configured, api)) = self.api().await else {
            diags.error(
                "Provider Configuration Unknown",
                "jenkins_irsa_role needs the provider's configuration to delete the role.",
            );
            return;
        };
        let d = Desired::from_value(prior);
        if d.annotates() {
            let Some(client) = self.client(&configured, diags).await else { return };
            for sa in d.annotated_accounts() {
                if let Err(e) = kube_sa::unbind(&client, sa, string(prior, "arn").as_deref()).await {
                    crate::kube::errors::report(
                        diags,
                        None,
                        &format!("remove the annotation of service account {}", sa_key(sa)),
                        &e,
                    );
                    return;
                }
            }
        }
        for (key, id) in string_map(prior, "pod_identity_association_ids") {
            let cluster = key.split('/').next().unwrap_or_default();
            if !id.is_empty()
                && let Err(e) = api.delete_pod_identity_association(cluster, &id).await
            {
                report(diags, None, &format!("delete the Pod Identity association {key}"), &e);
                return;
            }
        }
        if let Err(e) = api.delete_role(&d.name).await {
            report(diags, None, &format!("delete role {}", d.name), &e);
        }
    }
}
