//! Admission preflight: at plan, every template's effective pod is dry-run (`dryRun=All`) in its
//! agent namespace as the identity the plugin will use, its ConfigMaps, Secrets, PVCs and image
//! pull secrets are looked up, and an IRSA role on its service account must trust that cluster.
//! Each failure is an error on `templates[i]`, so a cloud whose agents could never start is
//! refused before Jenkins sees it.
//!
//! Identity: a cloud in the controller's cluster (no `server_url`) creates pods as the
//! controller's service account (from the chart's StatefulSet), impersonated with the provider's
//! credentials; a remote cloud uses the bearer token of its `credentials_id` Secret against
//! `server_url`. Reads of referenced objects use the provider's identity in the controller
//! cluster; in a remote cluster the plugin's token, else (when it may not read them and
//! `server_url` is an EKS endpoint of the provider's account) the provider's EKS identity.
//!
//! When something is not known or not reachable at plan, a warning says what was not checked.
//! Terraform plans every resource again during apply with the values known by then, before
//! `ApplyResourceChange`, so the checks then run before the ConfigMap is written and an error fails
//! the apply with nothing written. Nothing is called when the cloud's file did not change.
//!
//! An object another resource of this plan creates (`Configured::pending`: the chain's ConfigMap,
//! an IRSA role's service account, a remote access's namespace, service account and credential) is
//! not an error while it is missing at plan but a warning; the apply plans this cloud again after
//! that resource has applied, when it is no longer pending, and the check then runs for real. A pod
//! refused only because its pending service account is missing is dry-run as `default` instead.
//! With the provider's `missing_objects_at_plan = "warning"` a missing object nothing in the plan
//! creates is treated alike at plan (`Awaited::Unplanned`), and `ApplyResourceChange` runs the
//! checks once more (`at_apply`), strictly, before writing.

use super::super::values::{boolean, string};
use crate::aws::iam::IamApi;
use crate::cty::{AttributePath, Value};
use crate::framework::Diagnostics;
use crate::iam::{Admission, RoleArn, web_identity_admits};
use crate::jenkins::references::{RefKind, Reference, pod_references, service_account};
use crate::jenkins::trial_pod::{TrialPod, trial_pod};
use crate::kube::connect::EksCluster;
use crate::kube::dry_run::{self, Identity};
use crate::kube::plugin_identity::{self, Credential};
use crate::kube::{ClusterSpec, Connector, references};
use crate::provider::{ClusterRef, Configured, ProviderContext};
use crate::resources::irsa_role::kube_sa::ROLE_ANNOTATION as ROLE_ARN_ANNOTATION;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Summary of every warning that says a check did not run.
const NOT_CHECKED: &str = "Agent Pods Not Checked";

/// Summary of every warning about an object this apply creates before the cloud.
const PENDING: &str = "Agent Pod Needs What This Apply Creates";

/// The same for a pod's own service account (a summary of its own: Terraform folds equal ones).
const PENDING_SA: &str = "Agent Pod Runs As What This Apply Creates";

/// Summary of the warning about a missing object nothing in this plan creates, with
/// `missing_objects_at_plan = "warning"`.
const MISSING_AT_PLAN: &str = "Agent Pod Needs What Does Not Exist Yet";

/// The same for a pod's own service account (Terraform folds warnings of one summary).
const MISSING_SA_AT_PLAN: &str = "Agent Pod Runs As What Does Not Exist Yet";

/// Summary of every error that says an agent pod would not start.
const WOULD_NOT_START: &str = "Agent Pod Would Not Start";

/// The configured attributes the preflight depends on (besides the rendered file).
const INPUTS: [&str; 6] =
    ["server_url", "server_ca_certificate", "skip_tls_verify", "namespace", "credentials_id", "templates"];

/// A template whose pod the API server admitted, with its position in `templates`.
struct Admitted<'a> {
    index: usize,
    name: &'a str,
    trial: &'a TrialPod,
    /// The service account the template names (the dry run may have used `default` instead).
    service_account: String,
}

fn templates_path(i: usize) -> AttributePath {
    AttributePath::attr("templates").then_index(i as i64)
}

/// The sentence every pending warning ends with.
fn checked_again() -> &'static str {
    "It is checked again when the apply plans this cloud, after that resource has applied and before this cloud's ConfigMap is written."
}

/// Why an object a pod needs may be missing at plan without failing it.
enum Awaited {
    /// Another resource of this plan creates it (`Configured::pending`); the value says which.
    Pending(String),
    /// Nothing in this plan does, but the provider lets the plan go on (`missing_objects_at_plan`).
    Unplanned,
}

impl Awaited {
    /// `Pending` when `by` names a resource of this plan, else `Unplanned` when the plan is lenient.
    fn of(by: Option<&str>, lenient: bool) -> Option<Awaited> {
        by.map(|b| Awaited::Pending(b.to_owned())).or(lenient.then_some(Awaited::Unplanned))
    }

    fn because(&self) -> String {
        match self {
            Awaited::Pending(by) => format!("it is created by {by} in this apply"),
            Awaited::Unplanned => {
                "no resource of this plan creates it (`missing_objects_at_plan = \"warning\"` lets the plan go on)"
                    .into()
            }
        }
    }

    fn summary(&self, service_account: bool) -> &'static str {
        match (self, service_account) {
            (Awaited::Pending(_), true) => PENDING_SA,
            (Awaited::Pending(_), false) => PENDING,
            (Awaited::Unplanned, true) => MISSING_SA_AT_PLAN,
            (Awaited::Unplanned, false) => MISSING_AT_PLAN,
        }
    }

    fn again(&self) -> &'static str {
        match self {
            Awaited::Pending(_) => checked_again(),
            Awaited::Unplanned => {
                "It is checked again at apply, which fails before this cloud's ConfigMap is written if it is still missing."
            }
        }
    }
}

/// The pod with its service account replaced by `default` (for a dry run while its own is pending).
fn with_default_service_account(trial: &TrialPod) -> TrialPod {
    let mut pod = trial.pod.clone();
    if let Some(spec) = pod.get_mut("spec").and_then(serde_json::Value::as_object_mut) {
        spec.remove("serviceAccount");
        spec.insert("serviceAccountName".into(), serde_json::Value::String("default".into()));
    }
    TrialPod { name: trial.name.clone(), namespace: trial.namespace.clone(), pod }
}

/// True when the API server refused the pod because its service account does not exist.
fn service_account_missing(message: &str) -> bool {
    message.contains("serviceaccount") && message.contains("not found")
}

fn deferred(diags: &mut Diagnostics, what: impl std::fmt::Display) {
    diags.warning(
        NOT_CHECKED,
        format!(
            "{what}. The agent pods were therefore not dry-run and their references not checked now; the checks run when the apply plans this cloud again with known values, before its ConfigMap is written."
        ),
    );
}

/// Warns that the preflight cannot run for this cloud at all (no later run will either).
fn skipped(diags: &mut Diagnostics, what: impl std::fmt::Display) {
    diags.warning(
        NOT_CHECKED,
        format!("{what}. The agent pods were therefore not dry-run and their references not checked."),
    );
}

/// Warns, for a plan whose inputs are not all known, which of them hold the preflight back.
pub fn warn_unknown(planned: &Value, diags: &mut Diagnostics) {
    let unknown: Vec<String> = INPUTS
        .iter()
        .filter(|n| planned.get_attr(n).is_some_and(|v| !v.is_wholly_known()))
        .map(|n| format!("`{n}`"))
        .collect();
    if !unknown.is_empty() {
        deferred(diags, format!("{} will be known only during apply", unknown.join(" and ")));
    }
}

/// Where and as whom the plugin creates this cloud's pods.
struct Target {
    /// "the controller cluster" or "the cluster at <url>".
    cluster: String,
    /// The same cluster as pending objects name it.
    key: ClusterRef,
    client: kube::Client,
    identity: Identity,
    /// Who `identity` is, for messages.
    identity_label: String,
    default_namespace: String,
    /// The plugin's client for reads in a remote cluster; `None` in the controller cluster.
    plugin_reader: Option<kube::Client>,
    /// The provider's own client in that cluster, when it has one.
    provider_reader: OnceCell<Option<(kube::Client, String)>>,
    /// The EKS cluster (name, description) this is, when the provider's account knows it.
    eks: OnceCell<Option<(String, EksCluster)>>,
    remote_url: Option<String>,
}

/// Runs the preflight for a planned cloud whose inputs are known and whose file rendered, with
/// its effective `pods` (template name → pod YAML). `at_apply` is the check
/// `ApplyResourceChange` repeats when the plan was lenient about missing objects: then they are
/// errors again.
pub async fn check(
    context: &ProviderContext,
    prior: &Value,
    planned: &Value,
    pods: &BTreeMap<String, String>,
    at_apply: bool,
    diags: &mut Diagnostics,
) {
    if !prior.is_null() && string(prior, "casc_sha256") == string(planned, "casc_sha256") {
        return;
    }
    let Some(configured) = context.get() else {
        return deferred(diags, "The provider's configuration is not known yet");
    };
    let lenient = !at_apply && configured.settings.missing_objects_warn_at_plan;
    let Some(target) = target(&configured, planned, diags).await else { return };
    let mut trials: Vec<(usize, String, TrialPod)> = Vec::new();
    for (i, definition) in super::template_definitions(planned).iter().enumerate() {
        let Ok(name) = crate::jenkins::parse_definition(definition).map(|d| d.name) else { continue };
        let Some(yaml) = pods.get(&name) else { continue };
        match trial_pod(&name, yaml, &target.default_namespace) {
            Ok(t) => trials.push((i, name, t)),
            Err(e) => diags.warning_at(templates_path(i), NOT_CHECKED, format!("{e}; it was not dry-run.")),
        }
    }
    let substitutes: Vec<TrialPod> = trials.iter().map(|(_, _, t)| with_default_service_account(t)).collect();
    let mut admitted = Vec::new();
    for ((i, name, trial), substitute) in trials.iter().zip(&substitutes) {
        let sa = service_account(&trial.pod);
        let admit = |trial| Admitted { index: *i, name: name.as_str(), trial, service_account: sa.clone() };
        match dry_run::create_pod(&target.client, &trial.namespace, &trial.pod, &target.identity).await {
            Ok(()) => admitted.push(admit(trial)),
            Err(kube::Error::Api(status))
                if service_account_missing(&status.message)
                    && let Some(awaited) = Awaited::of(
                        configured.pending(&target.key, "ServiceAccount", &trial.namespace, &sa),
                        lenient,
                    ) =>
            {
                let what = format!(
                    "Template {name:?} in {}: service account {}/{sa} does not exist yet; {}.",
                    target.cluster,
                    trial.namespace,
                    awaited.because()
                );
                let summary = awaited.summary(true);
                match dry_run::create_pod(&target.client, &trial.namespace, &substitute.pod, &target.identity).await {
                    Ok(()) => {
                        diags.warning_at(templates_path(*i), summary, format!("{what} The pod was dry-run as service account `default` instead and admitted; its references were checked. {}", awaited.again()));
                        admitted.push(admit(substitute));
                    }
                    Err(kube::Error::Api(s)) if s.code != 429 && s.code < 500 => diags.error_at(
                        templates_path(*i),
                        WOULD_NOT_START,
                        format!(
                            "{} (Dry-run as service account `default`, since {sa} does not exist yet.)",
                            refusal_detail(name, &target.who(), &trial.namespace, &s.message, s.code, "default")
                        ),
                    ),
                    Err(_) => diags.warning_at(
                        templates_path(*i),
                        summary,
                        format!("{what} Its admission was therefore not checked now. {}", awaited.again()),
                    ),
                }
            }
            Err(kube::Error::Api(status))
                if status.code == 404
                    && status.message.contains("namespace")
                    && let Some(awaited) =
                        Awaited::of(configured.pending(&target.key, "Namespace", "", &trial.namespace), lenient) =>
            {
                diags.warning_at(
                    templates_path(*i),
                    awaited.summary(false),
                    format!(
                        "Template {name:?} in {}: namespace {} does not exist yet; {}, so the pod was not dry-run now. {}",
                        target.cluster,
                        trial.namespace,
                        awaited.because(),
                        awaited.again()
                    ),
                );
            }
            Err(e) if dry_run::is_impersonation_refused(&e) => {
                return skipped(
                    diags,
                    format!(
                        "The provider's identity may not impersonate {} in {} (it needs `impersonate` on serviceaccounts)",
                        target.identity_label, target.cluster
                    ),
                );
            }
            Err(kube::Error::Api(status)) if status.code == 429 || status.code >= 500 => {
                return deferred(
                    diags,
                    format!("{} is busy or failing (HTTP {}: {})", target.cluster, status.code, status.message),
                );
            }
            Err(kube::Error::Api(status)) => diags.error_at(
                templates_path(*i),
                WOULD_NOT_START,
                refusal_detail(
                    name,
                    &target.who(),
                    &trial.namespace,
                    &status.message,
                    status.code,
                    &service_account(&trial.pod),
                ),
            ),
            Err(e) => return deferred(diags, format!("{} did not answer ({e})", target.cluster)),
        }
    }
    check_references(&configured, &target, &admitted, lenient, diags).await;
    check_irsa(&configured, &target, &admitted, diags).await;
}

/// Where the plugin creates pods and as whom; `None` after a warning when it cannot be known.
async fn target(configured: &Arc<Configured>, planned: &Value, diags: &mut Diagnostics) -> Option<Target> {
    let jenkins = configured.jenkins();
    let Some(controller) = configured.controller.clone() else {
        skipped(
            diags,
            "The provider has no `kubernetes` block, so neither the controller's identity nor a credential can be read",
        );
        return None;
    };
    let controller_client = match controller.client().await {
        Ok(c) => c,
        Err(e) => {
            deferred(diags, format!("The controller cluster is not reachable ({e})"));
            return None;
        }
    };
    let namespace = string(planned, "namespace");
    match string(planned, "server_url") {
        None if string(planned, "credentials_id").is_some() => {
            skipped(
                diags,
                "A cloud in the controller's cluster with `credentials_id` authenticates with that credential on the in-cluster endpoint, which the preflight does not reach",
            );
            None
        }
        None => {
            let sa = match configured.jenkins_controller(controller_client.clone()).await {
                Ok(Some(c)) => c.service_account.clone().unwrap_or_else(|| "default".into()),
                Ok(None) => {
                    deferred(
                        diags,
                        format!(
                            "No Jenkins controller StatefulSet was found in namespace {} (the Helm chart's `{}`), so the service account the plugin creates pods as is not known",
                            jenkins.namespace, jenkins.fullname
                        ),
                    );
                    return None;
                }
                Err(e) => {
                    deferred(diags, format!("The controller's StatefulSet could not be read ({e})"));
                    return None;
                }
            };
            Some(Target {
                cluster: "the controller cluster".into(),
                key: ClusterRef::Controller,
                client: controller_client.clone(),
                identity: Identity::Impersonate(dry_run::service_account_user(&jenkins.namespace, &sa)),
                identity_label: format!("the controller's service account {}/{sa}", jenkins.namespace),
                default_namespace: namespace.unwrap_or_else(|| jenkins.namespace.clone()),
                plugin_reader: None,
                provider_reader: OnceCell::new_with(Some(Some((
                    controller_client,
                    "the provider's credentials".into(),
                )))),
                eks: OnceCell::new(),
                remote_url: None,
            })
        }
        Some(url) => {
            let Some(id) = string(planned, "credentials_id") else {
                skipped(
                    diags,
                    format!(
                        "The cloud at {url} has no `credentials_id`, so the identity the plugin uses there is not known"
                    ),
                );
                return None;
            };
            let token = match plugin_identity::credential_token(&controller_client, &jenkins.namespace, &id).await {
                Ok(Credential::Token(t)) => t,
                Ok(Credential::Missing) => {
                    if let Some(by) = configured.pending(&ClusterRef::Controller, "Secret", &jenkins.namespace, &id) {
                        deferred(
                            diags,
                            format!(
                                "The credential Secret {}/{id} is created by {by} in this apply",
                                jenkins.namespace
                            ),
                        );
                        return None;
                    }
                    deferred(
                        diags,
                        format!(
                            "The credential Secret {}/{id} does not exist yet (e.g. `jenkins_remote_cluster_access` writes it in this apply)",
                            jenkins.namespace
                        ),
                    );
                    return None;
                }
                Ok(Credential::NotSecretText) => {
                    diags.error_at(
                        AttributePath::attr("credentials_id"),
                        "Credential Holds No Token",
                        format!("Secret {}/{id} has no `text` key, so the plugin has no bearer token for {url}. Point `credentials_id` at a kubernetes-credentials-provider `secretText` Secret, such as `jenkins_remote_cluster_access.<name>.credentials_id`.", jenkins.namespace),
                    );
                    return None;
                }
                Err(e) => {
                    deferred(
                        diags,
                        format!("The credential Secret {}/{id} could not be read ({e})", jenkins.namespace),
                    );
                    return None;
                }
            };
            let spec = ClusterSpec::Direct {
                host: url.clone(),
                ca_pem: string(planned, "server_ca_certificate"),
                token: Some(token),
                insecure: boolean(planned, "skip_tls_verify").unwrap_or(false),
            };
            let client = match Connector::new(spec, configured.aws.clone()).client().await {
                Ok(c) => c,
                Err(e) => {
                    deferred(diags, format!("The cluster at {url} is not reachable with credential {id:?} ({e})"));
                    return None;
                }
            };
            Some(Target {
                cluster: format!("the cluster at {url}"),
                key: ClusterRef::remote(&url),
                client: client.clone(),
                identity: Identity::Own,
                identity_label: format!("credential {id:?}"),
                default_namespace: namespace.unwrap_or_else(|| "default".into()),
                plugin_reader: Some(client),
                provider_reader: OnceCell::new(),
                eks: OnceCell::new(),
                remote_url: Some(url),
            })
        }
    }
}

impl Target {
    /// The EKS cluster this target is, with its name: by name for the controller, by endpoint for a
    /// remote cloud (looked up once).
    async fn eks(&self, configured: &Configured) -> Option<&(String, EksCluster)> {
        self.eks
            .get_or_init(|| async {
                match (&self.remote_url, configured.controller.as_ref().map(|c| c.spec())) {
                    (None, Some(ClusterSpec::Eks { cluster_name })) => {
                        let cluster = configured.aws.describe_eks_cluster(cluster_name).await.ok()?;
                        Some((cluster_name.clone(), cluster))
                    }
                    (None, Some(ClusterSpec::Direct { host, .. })) => eks_by_endpoint(configured, host).await,
                    (Some(url), _) => eks_by_endpoint(configured, url).await,
                    _ => None,
                }
            })
            .await
            .as_ref()
    }

    /// The provider's own client in this cluster (remote: through EKS, when the endpoint is one).
    async fn provider_reader(&self, configured: &Configured) -> Option<&(kube::Client, String)> {
        self.provider_reader
            .get_or_init(|| async {
                self.remote_url.as_ref()?;
                let (name, _) = self.eks(configured).await?;
                let connector = Connector::new(ClusterSpec::Eks { cluster_name: name.clone() }, configured.aws.clone());
                let client = connector.client().await.ok()?;
                Some((client, format!("the provider's AWS identity (EKS cluster {name:?})")))
            })
            .await
            .as_ref()
    }
}

/// A cluster and an identity in it, for messages.
struct Who {
    cluster: String,
    identity_label: String,
}

impl Target {
    fn who(&self) -> Who {
        Who { cluster: self.cluster.clone(), identity_label: self.identity_label.clone() }
    }
}

/// The EKS cluster of the provider's account and region whose endpoint is `url`.
async fn eks_by_endpoint(configured: &Configured, url: &str) -> Option<(String, EksCluster)> {
    let iam = IamApi::new(configured.aws.sdk().await);
    let want = url.trim_end_matches('/');
    for name in iam.list_clusters().await.ok()? {
        if let Ok(c) = configured.aws.describe_eks_cluster(&name).await
            && c.endpoint.trim_end_matches('/') == want
        {
            return Some((name, c));
        }
    }
    None
}

/// What the API server's refusal of a dry run means and what to do about it.
fn refusal_detail(template: &str, t: &Who, namespace: &str, message: &str, code: u16, sa: &str) -> String {
    let hint = if service_account_missing(message) {
        format!(
            "Create service account {sa:?} in namespace {namespace} of {}, or set the template's `service_account` to one that exists there (a service account of the controller cluster does not exist in another cluster).",
            t.cluster
        )
    } else if code == 403 && message.contains("cannot create resource \"pods\"") {
        format!(
            "Grant {} `create` on pods in namespace {namespace} (for a remote cluster, `jenkins_remote_cluster_access` creates such a Role), or point the cloud at a namespace it may use.",
            t.identity_label
        )
    } else if code == 404 && message.contains("namespace") {
        format!(
            "Create namespace {namespace} in {}, or set the cloud's or the template's `namespace` to one that exists.",
            t.cluster
        )
    } else if message.contains("PodSecurity") {
        format!(
            "Namespace {namespace} enforces a Pod Security level this pod violates: change the template's security context (or set the cloud's `restricted_pss_security_context`), or run these agents in a namespace with a laxer level."
        )
    } else if message.contains("exceeded quota") || message.contains("must specify") {
        format!(
            "Namespace {namespace} has a ResourceQuota: give every container requests and limits that fit it, or raise the quota."
        )
    } else if message.contains("usage per") || message.contains("LimitRange") || message.contains("limit") {
        format!("Namespace {namespace} has a LimitRange: change the template's requests and limits to fit it.")
    } else {
        "Change the template (or the namespace's policies) so that the API server admits the pod.".into()
    };
    format!(
        "Template {template:?} in {}, namespace {namespace}, created as {}: the API server refuses its agent pod: {message} (HTTP {code}). The plugin would fail the same way on every build.\n\n{hint}",
        t.cluster, t.identity_label
    )
}

/// Looks up every referenced object, one list per kind and namespace.
async fn check_references(
    configured: &Configured,
    t: &Target,
    admitted: &[Admitted<'_>],
    lenient: bool,
    diags: &mut Diagnostics,
) {
    let mut wanted: BTreeMap<(String, RefKind), Vec<(&Admitted<'_>, Reference)>> = BTreeMap::new();
    for a in admitted {
        for r in pod_references(&a.trial.pod) {
            wanted.entry((a.trial.namespace.clone(), r.kind)).or_default().push((a, r));
        }
    }
    for ((namespace, kind), refs) in wanted {
        let Some((present, reader)) = read_kind(configured, t, &namespace, kind, diags).await else { continue };
        for (a, r) in refs {
            let (i, template) = (a.index, a.name);
            let problem = match present.get(&r.name) {
                None if let Some(awaited) =
                    Awaited::of(configured.pending(&t.key, kind.as_str(), &namespace, &r.name), lenient) =>
                {
                    diags.warning_at(
                        templates_path(i),
                        awaited.summary(false),
                        format!(
                            "Template {template:?} in {}: {} {namespace}/{} does not exist yet; {} (the pod names it in {}). {}",
                            t.cluster,
                            kind.as_str(),
                            r.name,
                            awaited.because(),
                            r.via,
                            awaited.again()
                        ),
                    );
                    continue;
                }
                None => format!("{} {namespace}/{} does not exist", kind.as_str(), r.name),
                Some(keys) => match &r.key {
                    Some(k) if !keys.contains(k) => {
                        format!("{} {namespace}/{} has no key {k:?}", kind.as_str(), r.name)
                    }
                    _ => continue,
                },
            };
            diags.error_at(
                templates_path(i),
                WOULD_NOT_START,
                format!(
                    "Template {template:?} in {}: {problem} (the pod names it in {}; read with {reader}). The API server accepts the pod, but the kubelet cannot start its containers and the agent never connects.\n\nCreate it in that namespace of that cluster, mark the reference `optional: true`, or remove it from the template.",
                    t.cluster, r.via
                ),
            );
        }
    }
}

/// The objects of `kind` in `namespace` and who read them; `None` after a warning.
async fn read_kind(
    configured: &Configured,
    t: &Target,
    namespace: &str,
    kind: RefKind,
    diags: &mut Diagnostics,
) -> Option<(references::Present, String)> {
    let mut refused = None;
    if let Some(client) = &t.plugin_reader {
        match references::list(client, namespace, kind).await {
            Ok(p) => return Some((p, t.identity_label.clone())),
            Err(kube::Error::Api(s)) if s.code == 403 => refused = Some(s.message),
            Err(e) => {
                diags.warning(NOT_CHECKED, format!("{}s in namespace {namespace} of {} could not be listed ({e}), so references to them were not checked.", kind.as_str(), t.cluster));
                return None;
            }
        }
    }
    let Some((client, label)) = t.provider_reader(configured).await.cloned() else {
        diags.warning(
            NOT_CHECKED,
            format!(
                "{} may not list {}s in namespace {namespace} of {} ({}) and the provider has no identity of its own there (the server URL is not an EKS endpoint of its account), so references to them were not checked.",
                t.identity_label,
                kind.as_str(),
                t.cluster,
                refused.unwrap_or_default()
            ),
        );
        return None;
    };
    match references::list(&client, namespace, kind).await {
        Ok(p) => Some((p, label)),
        Err(e) => {
            diags.warning(NOT_CHECKED, format!("{}s in namespace {namespace} of {} could not be listed with {label} ({e}), so references to them were not checked.", kind.as_str(), t.cluster));
            None
        }
    }
}

/// For each service account with an IRSA role: the role's trust must admit this cluster's issuer
/// and that service account.
async fn check_irsa(configured: &Configured, t: &Target, admitted: &[Admitted<'_>], diags: &mut Diagnostics) {
    let mut by_account: BTreeMap<(String, String), Vec<(usize, &str)>> = BTreeMap::new();
    for a in admitted {
        by_account.entry((a.trial.namespace.clone(), a.service_account.clone())).or_default().push((a.index, a.name));
    }
    let caller_account: OnceCell<Option<String>> = OnceCell::new();
    for ((namespace, sa), templates) in by_account {
        // The plugin's identity may not read service accounts; the provider's then may.
        let mut annotations = None;
        if let Some(plugin) = &t.plugin_reader {
            annotations = references::service_account_annotations(plugin, &namespace, &sa).await.ok();
        }
        if annotations.is_none()
            && let Some((client, _)) = t.provider_reader(configured).await
        {
            annotations = references::service_account_annotations(client, &namespace, &sa).await.ok();
        }
        let Some(Some(annotations)) = annotations else { continue };
        let Some(role_arn) = annotations.get(ROLE_ARN_ANNOTATION) else { continue };
        let first = templates[0].0;
        let names = templates.iter().map(|(_, n)| format!("{n:?}")).collect::<Vec<_>>().join(", ");
        let Ok(role) = RoleArn::parse(role_arn) else {
            diags.error_at(templates_path(first), WOULD_NOT_START, format!("Service account {namespace}/{sa} in {} (used by template {names}) carries {ROLE_ARN_ANNOTATION} = {role_arn:?}, which is not a role ARN; its pods get no AWS credentials. Fix the annotation (e.g. with `jenkins_irsa_role`).", t.cluster));
            continue;
        };
        let Some(issuer) = t.eks(configured).await.and_then(|(_, c)| c.oidc_issuer.clone()) else {
            diags.warning_at(templates_path(first), NOT_CHECKED, format!("Service account {namespace}/{sa} in {} uses IAM role {role_arn}, but the cluster's OIDC issuer is not known to the provider (it is not an EKS cluster of the provider's account and region), so the role's trust was not checked.", t.cluster));
            continue;
        };
        let iam = IamApi::new(configured.aws.sdk().await);
        let account = caller_account.get_or_init(|| async { iam.caller().await.ok().map(|c| c.account) }).await;
        if account.as_deref() != Some(role.account.as_str()) {
            diags.warning_at(templates_path(first), NOT_CHECKED, format!("IAM role {role_arn} of service account {namespace}/{sa} is in another account than the provider's credentials, so its trust was not checked."));
            continue;
        }
        let subject = dry_run::service_account_user(&namespace, &sa);
        let live = match iam.read_role(&role.name, false).await {
            Ok(Some(r)) => r,
            Ok(None) => {
                diags.error_at(templates_path(first), WOULD_NOT_START, format!("Service account {namespace}/{sa} in {} (used by template {names}) names IAM role {role_arn}, which does not exist: its AWS calls fail. Create the role (`jenkins_irsa_role`) or fix the annotation.", t.cluster));
                continue;
            }
            Err(e) => {
                diags.warning_at(
                    templates_path(first),
                    NOT_CHECKED,
                    format!("IAM role {role_arn} could not be read ({e}), so its trust was not checked."),
                );
                continue;
            }
        };
        match web_identity_admits(&live.trust_policy, role_arn, &issuer, &subject) {
            Ok(Admission::Allowed) => {}
            Ok(Admission::Denied { reason }) => diags.error_at(
                templates_path(first),
                WOULD_NOT_START,
                format!(
                    "Template {names} in {} runs as service account {namespace}/{sa}, whose IAM role {role_arn} does not trust this cluster's service account: {reason}. Its AWS calls would fail with AccessDenied on AssumeRoleWithWebIdentity.\n\nAdd this cluster and service account to the role's trust (with `jenkins_irsa_role`, put the cluster in `clusters` and the service account in `service_accounts`), or run these agents without that role.",
                    t.cluster
                ),
            ),
            Ok(Admission::Unknown { reason }) => diags.warning_at(templates_path(first), NOT_CHECKED, format!("Whether IAM role {role_arn} trusts {subject} in {} could not be decided: {reason}.", t.cluster)),
            Err(e) => diags.warning_at(templates_path(first), NOT_CHECKED, format!("The trust of IAM role {role_arn} could not be read: {e}.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> Who {
        Who { cluster: "the cluster at https://remote".into(), identity_label: "credential \"remote-agents\"".into() }
    }

    #[test]
    fn each_refusal_says_what_to_do() {
        let cases = [
            (
                "pods \"x\" is forbidden: error looking up service account agents/jenkins: serviceaccount \"jenkins\" not found",
                403,
                "Create service account \"jenkins\" in namespace agents of the cluster at https://remote",
            ),
            (
                "pods is forbidden: User \"system:serviceaccount:agents:ci\" cannot create resource \"pods\" in API group \"\" in the namespace \"agents\"",
                403,
                "Grant credential \"remote-agents\" `create` on pods in namespace agents",
            ),
            ("namespaces \"agents\" not found", 404, "Create namespace agents in the cluster at https://remote"),
            (
                "pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\": runAsNonRoot != true",
                403,
                "`restricted_pss_security_context`",
            ),
            (
                "pods \"x\" is forbidden: exceeded quota: q, requested: cpu=2, used: cpu=0, limited: cpu=1",
                403,
                "has a ResourceQuota",
            ),
            (
                "pods \"x\" is forbidden: maximum memory usage per Container is 256Mi, but limit is 512Mi",
                403,
                "has a LimitRange",
            ),
        ];
        for (message, code, hint) in cases {
            let detail = refusal_detail("base", &who(), "agents", message, code, "jenkins");
            assert!(detail.starts_with("Template \"base\" in the cluster at https://remote, namespace agents, created as credential \"remote-agents\""), "{detail}");
            assert!(detail.contains(message) && detail.contains(hint), "{message}: {detail}");
        }
    }

    #[test]
    fn unknown_inputs_are_named_in_the_warning() {
        let planned = Value::Object(std::collections::BTreeMap::from([
            ("server_url".to_string(), Value::unknown()),
            ("credentials_id".to_string(), Value::unknown()),
            ("namespace".to_string(), Value::string("agents")),
        ]));
        let mut diags = Diagnostics::new();
        warn_unknown(&planned, &mut diags);
        let d: Vec<_> = diags.iter().collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].summary, NOT_CHECKED);
        assert!(
            d[0].detail.starts_with("`server_url` and `credentials_id` will be known only during apply"),
            "{}",
            d[0].detail
        );

        let mut diags = Diagnostics::new();
        warn_unknown(&Value::Object(Default::default()), &mut diags);
        assert_eq!(diags.iter().count(), 0, "nothing unknown, nothing to say");
    }
}
