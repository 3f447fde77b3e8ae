//! `jenkins_remote_cluster_access`: a remote cluster made ready for Jenkins agents in one resource,
//! its service-account token delivered to Jenkins as a credential.
//!
//! In the remote cluster (through the resource's own `cluster` connection): the agent namespace,
//! a service account, a Role with exactly what the Kubernetes plugin needs plus `extra_rules`, its
//! RoleBinding, and a long-lived token Secret. In the controller cluster, optionally: the token as a
//! kubernetes-credentials-provider `secretText` Secret. The token is copied in-process; Terraform
//! state keeps only its SHA-256 unless `expose_token` asks for it. Every object is written by
//! server-side apply with our field manager and ownership labels, and foreign objects are refused.

mod connection;
mod model;
#[cfg(test)]
mod tests;

use super::values::{set, string};
use crate::cty::{AttributePath, Type, Value};
use crate::framework::{
    Attribute, Block, Diagnostics, Listed, NestedBlock, PlanChange, PlanContext, Resource, Schema, Validator,
};
use crate::kube::{ClusterSpec, apply, errors, ownership, rbac, wait};
use crate::provider::{ClusterRef, Configured, PendingObject, ProviderContext};
use async_trait::async_trait;
use connection::Remote;
use k8s_openapi::api::core::v1::{Event, Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, ListParams};
use model::{Access, Cluster};
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for the token controller to fill the token Secret.
const TOKEN_WAIT: Duration = Duration::from_secs(60);

/// How long destroy waits for a namespace it deleted to be gone.
const NAMESPACE_WAIT: Duration = Duration::from_secs(60);

/// The resource type; holds the provider context (AWS settings, controller cluster, Jenkins namespace).
pub struct RemoteClusterAccess {
    pub context: Arc<ProviderContext>,
}

fn cluster_block() -> Block {
    Block::new("Required. How Terraform reaches the remote cluster: `eks_cluster_name` (with optional `region` and `role_arn`), or `host` with `cluster_ca_certificate` and `token`. Only Terraform uses this connection; Jenkins gets the service-account token.")
        .attr(Attribute::string("eks_cluster_name").optional().requires_replace().describe("An EKS cluster: its endpoint and CA come from `DescribeCluster` and the provider signs its own token (no AWS CLI). The cluster's access entries or `aws-auth` must let the AWS identity create namespaces and RBAC objects."))
        .attr(Attribute::string("region").optional().requires_replace().describe("The EKS cluster's region, when it is not the provider's."))
        .attr(Attribute::string("role_arn").optional().describe("An IAM role to assume (from the provider's credentials) before calling EKS, e.g. for a cluster in another account."))
        .attr(Attribute::string("host").optional().requires_replace().describe("The API server URL (`https://…`), instead of `eks_cluster_name`."))
        .attr(Attribute::string("cluster_ca_certificate").optional().describe("The API server's CA for `host`: PEM, or base64 of the PEM."))
        .attr(Attribute::string("token").optional().sensitive().describe("A bearer token for `host`, allowed to create the namespace and RBAC objects."))
}

fn extra_rule_block() -> Block {
    Block::new("A rule added to the Role after the plugin's own.")
        .attr(
            Attribute::string_list("api_groups")
                .default(Value::List(vec![Value::string("")]))
                .describe("API groups; `\"\"` is the core group."),
        )
        .attr(
            Attribute::string_list("resources")
                .required()
                .describe("Resources, e.g. `configmaps` or `deployments/scale`."),
        )
        .attr(Attribute::string_list("verbs").required().describe("Verbs, e.g. `get`, `list`, `watch`.").validate(
            Validator::each_string(
                format!(
                    "Each one of {}.",
                    rbac::KNOWN_VERBS.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
                ),
                "Unknown Verb",
                |v| {
                    if rbac::KNOWN_VERBS.contains(&v) {
                        Ok(())
                    } else {
                        Err(format!("{v:?} is not a Kubernetes verb; use one of {}.", rbac::KNOWN_VERBS.join(", ")))
                    }
                },
            ),
        ))
        .attr(Attribute::string_list("resource_names").optional().describe("Limit the rule to these object names."))
}

fn credential_block() -> Block {
    Block::new("The token as a Jenkins credential: a Secret in the controller's Jenkins namespace (the provider's `jenkins.namespace`) in the kubernetes-credentials-provider `secretText` format. Needs that plugin and the chart's `rbac.readSecrets = true`.")
        .attr(
            Attribute::string("id")
                .required()
                .describe("The credential id (the Secret's name), which `jenkins_agent_cloud.credentials_id` refers to.")
                .validate(Validator::string("A DNS-1123 subdomain.", "Invalid Credential Id", |s| {
                    model::check_subdomain(s, 253, "Credential id")
                })),
        )
        .attr(Attribute::string("description").default(Value::string(model::DEFAULT_DESCRIPTION)).describe("The credential's description in Jenkins."))
        .attr(
            Attribute::string("scope")
                .default(Value::string("global"))
                .describe("`global` (jobs and clouds may use it) or `system` (only Jenkins itself, e.g. clouds).")
                .validate(Validator::one_of(&["global", "system"])),
        )
        .attr(Attribute::string("token_sha256").computed().describe("SHA-256 of the token the credential holds; differs from the resource's `token_sha256` when the credential was changed outside Terraform."))
}

fn rule_type() -> Type {
    Type::object(
        ["api_groups", "resources", "verbs", "resource_names"]
            .into_iter()
            .map(|n| (n.to_string(), Type::list(Type::String))),
    )
}

fn schema() -> Schema {
    let block = Block::new(
        "A remote cluster made ready for Jenkins agents: namespace, service account, a Role with exactly what the Kubernetes plugin needs (plus `extra_rules`), its binding and a long-lived token, delivered to Jenkins as a credential. The token never enters Terraform state (only its SHA-256) unless `expose_token` is set. Feed `server_url`, `ca_certificate`, `namespace` and `credentials_id` to `jenkins_agent_cloud`.\n\nImport with `terraform import <address> <eks_cluster_name>/<namespace>/<service_account>` (EKS connections only: an id cannot carry a `host` token).",
    )
    .attr(
        Attribute::string("namespace")
            .required()
            .requires_replace()
            .describe("The agent namespace in the remote cluster.")
            .validate(Validator::string("A DNS-1123 label.", "Invalid Namespace", |s| model::check_dns_label(s, "Namespace"))),
    )
    .attr(Attribute::bool("create_namespace").default(Value::Bool(true)).requires_replace().describe("Create the namespace (and delete it on destroy). With `false` an existing namespace is used and never modified; a missing one is an error."))
    .attr(
        Attribute::string("service_account")
            .default(Value::string(model::DEFAULT_SERVICE_ACCOUNT))
            .requires_replace()
            .describe("The service account Jenkins authenticates as; the Role and RoleBinding share its name.")
            .validate(Validator::string("A DNS-1123 subdomain of at most 237 characters.", "Invalid Service Account Name", |s| {
                model::check_subdomain(s, 237, "Service account name")
            })),
    )
    .attr(Attribute::string_map("rotate_token_when").optional().describe("Any values; a change issues a new token Secret, moves the credential to it, then deletes the old token (e.g. `{ rotated = \"2025-06\" }`)."))
    .attr(Attribute::bool("expose_token").default(Value::Bool(false)).describe("Also put the token into `token` (and so into state). Off by default: the provider hands the token to Jenkins itself."))
    .attr(Attribute::string("id").computed().describe("`<cluster>/<namespace>/<service_account>`, where `<cluster>` is the EKS cluster name or the host."))
    .attr(Attribute::string("server_url").computed().describe("The remote API server URL, for `jenkins_agent_cloud.server_url`."))
    .attr(Attribute::string("ca_certificate").computed().describe("The remote API server's CA as PEM, for `jenkins_agent_cloud.server_ca_certificate`."))
    .attr(Attribute::string("credentials_id").computed().describe("The Jenkins credential id holding the token (null without `jenkins_credential`), for `jenkins_agent_cloud.credentials_id`."))
    .attr(Attribute::string("token_secret_name").computed().describe("The remote token Secret; it changes with `rotate_token_when`."))
    .attr(Attribute::string("token_sha256").computed().describe("SHA-256 of the service-account token: rotation changes it, and so does a token replaced outside Terraform."))
    .attr(Attribute::string("token").computed().sensitive().describe("The service-account token, only with `expose_token = true`; null otherwise."))
    .attr(Attribute::new("role_rules", Type::list(rule_type())).computed().describe("The Role's rules: the plugin's (pods; `pods/exec` create and get; `pods/log`; events watch), then `extra_rules`. A hand edit of the Role shows here at plan."))
    .attr(Attribute::string_list("managed_objects").computed().describe("Every object this resource owns, as `remote|controller <Kind> <namespace>/<name>`. An object deleted outside Terraform drops out at refresh, so the plan shows it and apply re-creates it."))
    .block(NestedBlock::single("cluster", cluster_block()))
    .block(NestedBlock::list("extra_rules", extra_rule_block()))
    .block(NestedBlock::single("jenkins_credential", credential_block()));
    Schema::new(block)
}

/// The objects of `managed_objects` that pods or clouds name, as pending objects: `server_url`
/// identifies the remote cluster (none are given while it is unknown).
fn pending_objects(entries: &[String], server_url: Option<&str>) -> Vec<PendingObject> {
    entries
        .iter()
        .filter_map(|entry| {
            let mut words = entry.splitn(3, ' ');
            let (place, kind, path) = (words.next()?, words.next()?, words.next()?);
            let cluster = match place {
                "controller" => ClusterRef::Controller,
                _ => ClusterRef::remote(server_url?),
            };
            let kind = ["Namespace", "ServiceAccount", "Secret"].into_iter().find(|k| *k == kind)?;
            let (namespace, name) = path.split_once('/').unwrap_or(("", path));
            Some(PendingObject {
                cluster,
                kind,
                namespace: namespace.into(),
                name: name.into(),
                by: "jenkins_remote_cluster_access",
            })
        })
        .collect()
}

/// What an apply of `planned` creates: its objects the prior state did not find.
fn created_objects(prior: &Value, planned: &Value) -> Vec<PendingObject> {
    let list = |v: &Value| -> Vec<String> {
        v.get_attr("managed_objects")
            .and_then(Value::as_elements)
            .unwrap_or(&[])
            .iter()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect()
    };
    let had = list(prior);
    let new: Vec<String> = list(planned).into_iter().filter(|e| !had.contains(e)).collect();
    pending_objects(&new, planned.get_attr("server_url").and_then(Value::as_str))
}

/// Reports an owned-write failure on `what`.
fn report_apply(diags: &mut Diagnostics, what: &str, e: apply::ApplyError) {
    match e {
        apply::ApplyError::Api(e) => errors::report(diags, None, what, &e),
        e @ (apply::ApplyError::Foreign { .. } | apply::ApplyError::OtherOwner { .. }) => {
            diags.error("Object Owned By Someone Else", e.to_string())
        }
    }
}

fn unreachable_remote(diags: &mut Diagnostics, cluster: &Cluster, e: String) {
    diags.error(
        "Cannot Reach The Remote Cluster",
        format!(
            "{}: {e}. Check the `cluster` block and that Terraform's identity may use the cluster.",
            cluster.describe()
        ),
    );
}

/// The access an apply converges to. Terraform sends no unknown value at apply, so one here (or a
/// missing cluster) is a provider bug, refused before anything is written.
fn planned_access(planned: &Value, diags: &mut Diagnostics) -> Option<Access> {
    let access = Access::from_value(planned);
    if access.is_none() {
        diags.error(
            "Unknown Values At Apply",
            "Every input of jenkins_remote_cluster_access must be known at apply. This is a provider bug.",
        );
    }
    access
}

/// The access a state records, for read and delete; a state that does not spell one (unknowns, no
/// cluster) is refused rather than guessed at.
fn recorded_access(state: &Value, diags: &mut Diagnostics) -> Option<Access> {
    let access = Access::from_value(state);
    if access.is_none() {
        diags.error(
            "Unreadable State",
            "The state of jenkins_remote_cluster_access holds unknown values or no cluster; run `terraform apply` again.",
        );
    }
    access
}

/// True when `cluster` is the controller's own cluster (by EKS name or host).
fn same_as_controller(cluster: &Cluster, controller: &ClusterSpec, provider_region: Option<&str>) -> bool {
    match (cluster, controller) {
        (Cluster::Eks { name, region, role_arn: None }, ClusterSpec::Eks { cluster_name }) => {
            name == cluster_name && (region.is_none() || region.as_deref() == provider_region)
        }
        (Cluster::Direct { host, .. }, ClusterSpec::Direct { host: h, .. }) => {
            host.trim_end_matches('/') == h.trim_end_matches('/')
        }
        _ => false,
    }
}

impl RemoteClusterAccess {
    fn configured(&self, diags: &mut Diagnostics) -> Option<Arc<Configured>> {
        let c = self.context.get();
        if c.is_none() {
            diags.error(
                "Provider Configuration Unknown",
                "jenkins_remote_cluster_access needs the provider's settings (AWS region, controller cluster), which are not known yet. Apply what they depend on first.",
            );
        }
        c
    }

    async fn remote(&self, configured: &Configured, access: &Access, diags: &mut Diagnostics) -> Option<Remote> {
        match connection::connect(configured, &access.cluster).await {
            Ok(r) => Some(r),
            Err(e) => {
                unreachable_remote(diags, &access.cluster, e);
                None
            }
        }
    }

    /// After the apply, done or failed, none of its objects is pending any more.
    fn settle(&self, planned: &Value) {
        if let Some(c) = self.context.get() {
            c.settled(&created_objects(&Value::Null, planned));
        }
    }

    /// The controller client and Jenkins namespace, for the credential Secret.
    async fn controller(&self, diags: &mut Diagnostics) -> Option<(kube::Client, String)> {
        let (configured, client) =
            self.context.controller_client(diags, "jenkins_remote_cluster_access.jenkins_credential").await?;
        Some((client, configured.jenkins().namespace.clone()))
    }

    /// Converges both clusters to `planned`; `prior` (on update) says what to clean up after.
    async fn converge(&self, planned: &Value, prior: Option<&Value>, diags: &mut Diagnostics) -> Option<Value> {
        let configured = self.configured(diags)?;
        let access = planned_access(planned, diags)?;
        let before = prior.and_then(Access::from_value);
        let remote = self.remote(&configured, &access, diags).await?;
        let client = remote.client.clone();
        let ns = access.namespace.clone();

        // The namespace: ours when created, otherwise it must exist already.
        let namespaces: Api<Namespace> = Api::all(client.clone());
        if access.create_namespace {
            if let Err(e) = apply::apply_owned(&namespaces, &ns, model::OWNER, &model::namespace_object(&access)).await
            {
                report_apply(diags, &format!("apply Namespace {ns}"), e);
                return None;
            }
        } else {
            match apply::get(&namespaces, &ns).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    diags.error_at(
                        AttributePath::attr("namespace"),
                        "Namespace Not Found",
                        format!("Namespace {ns:?} does not exist in the {}, and `create_namespace = false`. Create it, or set `create_namespace = true`.", access.cluster.describe()),
                    );
                    return None;
                }
                Err(e) => {
                    errors::report(diags, None, &format!("read Namespace {ns}"), &e);
                    return None;
                }
            }
        }

        let sa = access.service_account.clone();
        let sas: Api<ServiceAccount> = apply::api(client.clone(), &ns);
        if let Err(e) = apply::apply_owned(&sas, &sa, model::OWNER, &model::service_account_object(&access)).await {
            report_apply(diags, &format!("apply ServiceAccount {ns}/{sa}"), e);
            return None;
        }
        let roles: Api<Role> = apply::api(client.clone(), &ns);
        if let Err(e) = apply::apply_owned(&roles, &sa, model::OWNER, &model::role_object(&access)).await {
            report_apply(diags, &format!("apply Role {ns}/{sa}"), e);
            return None;
        }
        let bindings: Api<RoleBinding> = apply::api(client.clone(), &ns);
        if let Err(e) = apply::apply_owned(&bindings, &sa, model::OWNER, &model::role_binding_object(&access)).await {
            report_apply(diags, &format!("apply RoleBinding {ns}/{sa}"), e);
            return None;
        }

        // The token: a Secret the token controller fills; wait (bounded) for it.
        let secrets: Api<Secret> = apply::api(client.clone(), &ns);
        let token_name = access.token_secret_name();
        if let Err(e) =
            apply::apply_owned(&secrets, &token_name, model::OWNER, &model::token_secret_object(&access)).await
        {
            report_apply(diags, &format!("apply Secret {ns}/{token_name}"), e);
            return None;
        }
        let events: Api<Event> = apply::api(client.clone(), &ns);
        let token = match wait::service_account_token(&secrets, &events, &ns, &token_name, TOKEN_WAIT).await {
            Ok(t) => t,
            Err(wait::WaitError::Api(e)) => {
                errors::report(diags, None, &format!("read Secret {ns}/{token_name}"), &e);
                return None;
            }
            Err(e) => {
                diags.error("Service Account Token Not Issued", e.to_string());
                return None;
            }
        };
        let ca_pem = match &remote.ca_pem {
            Some(c) => Some(c.clone()),
            None => live_ca(&secrets, &token_name).await,
        };

        // The credential, before any old token goes: Jenkins never points at a deleted token.
        let mut jenkins_namespace = String::new();
        // Credentials the prior state wrote (from `managed_objects`, which records their namespace).
        let old_credentials: Vec<(String, String)> = prior
            .and_then(|p| p.get_attr("managed_objects"))
            .and_then(Value::as_elements)
            .unwrap_or(&[])
            .iter()
            .filter_map(|o| o.as_str()?.strip_prefix("controller Secret ")?.split_once('/'))
            .map(|(n, i)| (n.to_string(), i.to_string()))
            .collect();
        if access.credential.is_some() || !old_credentials.is_empty() {
            let (controller, jns) = self.controller(diags).await?;
            jenkins_namespace = jns.clone();
            let cred_api: Api<Secret> = apply::api(controller.clone(), &jns);
            if let Some(c) = &access.credential {
                let secret = model::credential_secret_object(c, &jns, &access.id(), &token);
                if let Err(e) = apply::apply_owned(&cred_api, &c.id, model::OWNER, &secret).await {
                    report_apply(diags, &format!("apply Secret {jns}/{}", c.id), e);
                    return None;
                }
            }
            let current = access.credential.as_ref().map(|c| (jns.clone(), c.id.clone()));
            for (old_ns, old_id) in old_credentials.into_iter().filter(|o| Some(o) != current.as_ref()) {
                let old_api: Api<Secret> = apply::api(controller.clone(), &old_ns);
                if let Err(e) =
                    apply::delete_owned_by(&old_api, &old_id, model::OWNER, Some(&access.owner_mark())).await
                {
                    report_apply(diags, &format!("delete the old credential Secret {old_ns}/{old_id}"), e);
                    return None;
                }
            }
        }
        if let Some(b) = &before {
            let old_token = b.token_secret_name();
            if old_token != token_name
                && let Err(e) = apply::delete_owned_by(&secrets, &old_token, model::OWNER, Some(&b.owner_mark())).await
            {
                report_apply(diags, &format!("delete the old token Secret {ns}/{old_token}"), e);
                return None;
            }
        }

        let mut state = planned.clone();
        let sha = model::fingerprint(&token);
        fill_derived(&mut state, &access, Some(&jenkins_namespace));
        set(&mut state, "server_url", Value::string(remote.server_url.clone()));
        set(&mut state, "ca_certificate", ca_pem.map(Value::String).unwrap_or(Value::Null));
        set(&mut state, "token_sha256", Value::string(sha.clone()));
        set(&mut state, "token", if access.expose_token { Value::string(token) } else { Value::Null });
        model::set_credential_attr(&mut state, "token_sha256", Value::string(sha));
        Some(state)
    }

    /// Reads both clusters back into `state`; `None` when nothing of the access is left.
    async fn read_live(&self, state: &Value, diags: &mut Diagnostics) -> Option<Option<Value>> {
        let configured = self.configured(diags)?;
        let importing = state.get_attr("managed_objects").is_none_or(Value::is_null);
        let mut access = recorded_access(state, diags)?;
        let remote = self.remote(&configured, &access, diags).await?;
        let ns = access.namespace.clone();
        let sa = access.service_account.clone();
        let client = remote.client.clone();

        let namespaces: Api<Namespace> = Api::all(client.clone());
        let live_ns = match apply::get(&namespaces, &ns).await {
            Ok(n) => n,
            Err(e) => {
                return read_failed(diags, format!("Namespace {ns}"), e);
            }
        };
        let Some(live_ns) = live_ns else { return Some(None) };
        let mark = access.owner_mark();
        let ours_meta = |m: &kube::api::ObjectMeta| {
            ownership::owned(m.labels.as_ref(), m.annotations.as_ref(), model::OWNER, Some(&mark))
                == ownership::Owned::Ours
        };
        let ns_ours = ours_meta(&live_ns.metadata);
        if importing {
            access.create_namespace = ns_ours;
        }

        let sas: Api<ServiceAccount> = apply::api(client.clone(), &ns);
        let roles: Api<Role> = apply::api(client.clone(), &ns);
        let bindings: Api<RoleBinding> = apply::api(client.clone(), &ns);
        let secrets: Api<Secret> = apply::api(client.clone(), &ns);
        let sa_live = match apply::get(&sas, &sa).await {
            Ok(x) => x.filter(|x| ours_meta(&x.metadata)),
            Err(e) => return read_failed(diags, format!("ServiceAccount {ns}/{sa}"), e),
        };
        let role_live = match apply::get(&roles, &sa).await {
            Ok(x) => x.filter(|x| ours_meta(&x.metadata)),
            Err(e) => return read_failed(diags, format!("Role {ns}/{sa}"), e),
        };
        let binding_live = match apply::get(&bindings, &sa).await {
            Ok(x) => x.filter(|x| ours_meta(&x.metadata) && binding_matches(x, &sa, &ns)),
            Err(e) => return read_failed(diags, format!("RoleBinding {ns}/{sa}"), e),
        };
        if importing {
            match find_token_secret(&secrets, &sa).await {
                Ok(Some(s)) => access.rotate_token_when = model::rotation_of(&s),
                Ok(None) => {}
                Err(e) => return read_failed(diags, format!("Secrets in {ns}"), e),
            }
        }
        let token_name = access.token_secret_name();
        let token_live = match apply::get(&secrets, &token_name).await {
            Ok(x) => x.filter(|x| ours_meta(&x.metadata)),
            Err(e) => return read_failed(diags, format!("Secret {ns}/{token_name}"), e),
        };
        let remote_owned = (access.create_namespace && ns_ours)
            || sa_live.is_some()
            || role_live.is_some()
            || binding_live.is_some()
            || token_live.is_some();
        if !remote_owned {
            return Some(None);
        }
        let live_rules: Vec<rbac::Rule> = role_live
            .as_ref()
            .and_then(|r| r.rules.as_ref())
            .map(|rs| rs.iter().map(rbac::Rule::from_policy_rule).collect())
            .unwrap_or_default();
        if importing {
            access.extra_rules = model::extra_of_live(&live_rules);
        }
        let token = token_live.as_ref().and_then(wait::token_of);

        // The credential in the controller cluster.
        let mut credential_sha: Option<String> = None;
        let mut credential_present = false;
        let mut jenkins_namespace: Option<String> = None;
        if access.credential.is_some() || importing {
            // On import without a controller cluster there is simply no credential to find.
            let mut quiet = Diagnostics::new();
            let found = if importing { self.controller(&mut quiet).await } else { self.controller(diags).await };
            match found {
                Some((controller, jns)) => {
                    let cred_api: Api<Secret> = apply::api(controller, &jns);
                    let live = if importing {
                        find_credential(&cred_api, &access.id()).await
                    } else {
                        let id = access.credential.as_ref().map(|c| c.id.clone()).unwrap_or_default();
                        apply::get(&cred_api, &id).await
                    };
                    match live {
                        Ok(Some(s)) if ours_meta(&s.metadata) => {
                            let (c, sha) = model::credential_of(&s);
                            access.credential = Some(c);
                            credential_sha = sha;
                            credential_present = true;
                        }
                        Ok(_) => {}
                        Err(e) => return read_failed(diags, format!("credential Secrets in {jns}"), e),
                    }
                    jenkins_namespace = Some(jns);
                }
                None if importing => {}
                None => return None,
            }
        }

        let mut next = state.clone();
        if importing {
            next = import_object(&access);
        } else if let (Some(c), true) = (&access.credential, credential_present) {
            set(&mut next, "jenkins_credential", model::credential_value(c, Value::Null));
        }
        let present: Vec<String> = {
            let (ns_entry, sa_entry) = (format!("remote Namespace {ns}"), format!("remote ServiceAccount {ns}/{sa}"));
            let all = access.managed_objects(jenkins_namespace.as_deref().unwrap_or(""));
            all.into_iter()
                .filter(|o| {
                    if *o == ns_entry {
                        ns_ours
                    } else if *o == sa_entry {
                        sa_live.is_some()
                    } else if o.starts_with("remote Role ") {
                        role_live.is_some()
                    } else if o.starts_with("remote RoleBinding ") {
                        binding_live.is_some()
                    } else if o.starts_with("remote Secret ") {
                        token.is_some()
                    } else {
                        credential_present
                    }
                })
                .collect()
        };
        set(&mut next, "id", Value::string(access.id()));
        set(&mut next, "server_url", Value::string(remote.server_url.clone()));
        let ca_pem = match &remote.ca_pem {
            Some(c) => Some(c.clone()),
            None => live_ca(&secrets, &token_name).await,
        };
        set(&mut next, "ca_certificate", ca_pem.map(Value::String).unwrap_or(Value::Null));
        set(
            &mut next,
            "credentials_id",
            access.credential.as_ref().map(|c| Value::string(c.id.clone())).unwrap_or(Value::Null),
        );
        set(&mut next, "token_secret_name", Value::string(token_name));
        let sha = token.as_deref().map(model::fingerprint);
        set(&mut next, "token_sha256", sha.clone().map(Value::String).unwrap_or(Value::Null));
        let exposed = if access.expose_token { token.map(Value::String).unwrap_or(Value::Null) } else { Value::Null };
        set(&mut next, "token", exposed);
        set(&mut next, "role_rules", model::rules_value(&live_rules));
        set(&mut next, "managed_objects", model::string_list(&present));
        model::set_credential_attr(&mut next, "token_sha256", credential_sha.map(Value::String).unwrap_or(Value::Null));
        Some(Some(next))
    }
}

/// Reports a failed read of `what` and gives up.
fn read_failed<T>(diags: &mut Diagnostics, what: String, e: kube::Error) -> Option<T> {
    errors::report(diags, None, &format!("read {what}"), &e);
    None
}

/// A binding still grants our Role to our service account (a hand edit of its subjects is drift).
fn binding_matches(b: &RoleBinding, sa: &str, ns: &str) -> bool {
    b.role_ref.kind == "Role"
        && b.role_ref.name == sa
        && b.subjects.as_ref().is_some_and(|s| {
            s.iter()
                .any(|s| s.kind == "ServiceAccount" && s.name == sa && s.namespace.as_deref().is_none_or(|n| n == ns))
        })
}

/// The CA the token controller put next to the token (for a `host` connection without a CA).
async fn live_ca(secrets: &Api<Secret>, name: &str) -> Option<String> {
    let s = secrets.get_opt(name).await.ok()??;
    let bytes = s.data?.get("ca.crt")?.0.clone();
    crate::kube::ca::normalize_pem(&String::from_utf8(bytes).ok()?).ok()
}

/// Our newest token Secret of service account `sa` (import does not know `rotate_token_when`).
async fn find_token_secret(secrets: &Api<Secret>, sa: &str) -> Result<Option<Secret>, kube::Error> {
    let selector = crate::kube::ownership::selector(model::OWNER);
    let list = secrets.list(&ListParams::default().labels(&selector)).await?;
    let mut mine: Vec<Secret> = list
        .items
        .into_iter()
        .filter(|s| s.type_.as_deref() == Some(model::TOKEN_SECRET_TYPE))
        .filter(|s| {
            s.metadata.annotations.as_ref().and_then(|a| a.get(model::SA_NAME_ANNOTATION)).is_some_and(|n| n == sa)
        })
        .collect();
    mine.sort_by_key(|s| s.metadata.creation_timestamp.clone().map(|t| t.0));
    Ok(mine.pop())
}

/// Our credential Secret carrying the token of access `id` (for import).
async fn find_credential(api: &Api<Secret>, id: &str) -> Result<Option<Secret>, kube::Error> {
    let selector = crate::kube::ownership::selector(model::OWNER);
    let list = api.list(&ListParams::default().labels(&selector)).await?;
    Ok(list.items.into_iter().find(|s| {
        s.metadata.annotations.as_ref().and_then(|a| a.get(model::ACCESS_ANNOTATION)).is_some_and(|a| a == id)
    }))
}

/// The configuration-shaped part of an imported state.
fn import_object(access: &Access) -> Value {
    let mut v = schema().block.null_object();
    let Cluster::Eks { name, .. } = &access.cluster else { return v };
    let mut cluster = cluster_block().null_object();
    set(&mut cluster, "eks_cluster_name", Value::string(name.clone()));
    set(&mut v, "cluster", cluster);
    set(&mut v, "namespace", Value::string(access.namespace.clone()));
    set(&mut v, "create_namespace", Value::Bool(access.create_namespace));
    set(&mut v, "service_account", Value::string(access.service_account.clone()));
    set(&mut v, "extra_rules", model::extra_rules_value(&access.extra_rules));
    let rotate = if access.rotate_token_when.is_empty() {
        Value::Null
    } else {
        Value::Map(access.rotate_token_when.iter().map(|(k, v)| (k.clone(), Value::string(v.clone()))).collect())
    };
    set(&mut v, "rotate_token_when", rotate);
    set(&mut v, "expose_token", Value::Bool(false));
    if let Some(c) = &access.credential {
        set(&mut v, "jenkins_credential", model::credential_value(c, Value::Null));
    }
    v
}

/// Sets what follows from the configuration alone: id, credentials_id, token Secret name, Role
/// rules and, when the Jenkins namespace is known, the managed objects.
fn fill_derived(v: &mut Value, access: &Access, jenkins_namespace: Option<&str>) {
    set(v, "id", Value::string(access.id()));
    set(v, "credentials_id", access.credential.as_ref().map(|c| Value::string(c.id.clone())).unwrap_or(Value::Null));
    set(v, "token_secret_name", Value::string(access.token_secret_name()));
    set(v, "role_rules", model::rules_value(&access.role_rules()));
    let objects = match jenkins_namespace {
        Some(jns) => model::string_list(&access.managed_objects(jns)),
        None if access.credential.is_none() => model::string_list(&access.managed_objects("")),
        None => Value::unknown(),
    };
    set(v, "managed_objects", objects);
}

/// Cross-attribute checks of the configuration.
fn validate_config(config: &Value, diags: &mut Diagnostics) {
    let path = AttributePath::attr("cluster");
    match config.get_attr("cluster") {
        Some(Value::Null) | None => diags.error_at(
            path.clone(),
            "Missing cluster Block",
            "Add a `cluster` block: `cluster { eks_cluster_name = \"...\" }`, or `host`, `cluster_ca_certificate` and `token`.",
        ),
        Some(c) if c.is_unknown() => {}
        Some(c) => {
            let has = |n: &str| c.get_attr(n).is_some_and(|v| !v.is_null());
            let known = |n: &str| c.get_attr(n).is_none_or(|v| !v.is_unknown());
            if has("eks_cluster_name") && has("host") {
                diags.error_at(path.clone(), "Conflicting Cluster Settings", "`cluster` sets both `eks_cluster_name` and `host`; set exactly one.");
            } else if !has("eks_cluster_name") && !has("host") && known("eks_cluster_name") && known("host") {
                diags.error_at(path.clone(), "Missing Cluster Settings", "`cluster` needs `eks_cluster_name`, or `host` with `cluster_ca_certificate` and `token`.");
            }
            for attr in ["region", "role_arn"] {
                if has(attr) && has("host") {
                    diags.error_at(path.then_attr(attr), "Setting Needs eks_cluster_name", format!("`cluster.{attr}` applies to `eks_cluster_name` only; remove it or use `eks_cluster_name`."));
                }
            }
            for attr in ["cluster_ca_certificate", "token"] {
                if has(attr) && has("eks_cluster_name") {
                    diags.error_at(path.then_attr(attr), "Setting Needs host", format!("`cluster.{attr}` applies to `host` only; with `eks_cluster_name` the provider gets the CA from EKS and signs its own token."));
                }
            }
            if let Some(h) = c.get_attr("host").and_then(Value::as_str)
                && !h.starts_with("https://")
            {
                diags.error_at(path.then_attr("host"), "Invalid Host", format!("{h:?} is not an `https://` URL."));
            }
            if let Some(ca) = c.get_attr("cluster_ca_certificate").and_then(Value::as_str)
                && let Err(e) = crate::kube::ca::normalize_pem(ca)
            {
                diags.error_at(path.then_attr("cluster_ca_certificate"), "Invalid CA Certificate", format!("`cluster.cluster_ca_certificate` is not usable: {e}."));
            }
        }
    }
    let rules = config.get_attr("extra_rules").and_then(Value::as_elements).unwrap_or(&[]);
    for (i, r) in rules.iter().enumerate() {
        let here = AttributePath::attr("extra_rules").then_index(i as i64);
        let empty = |n: &str| r.get_attr(n).and_then(Value::as_elements).is_some_and(<[Value]>::is_empty);
        if empty("resources") {
            diags.error_at(
                here.then_attr("resources"),
                "Rule Without Resources",
                "A rule needs at least one resource (e.g. `configmaps`).",
            );
        }
        if empty("verbs") {
            diags.error_at(
                here.then_attr("verbs"),
                "Rule Without Verbs",
                "A rule needs at least one verb (e.g. `get`).",
            );
        }
        for (j, res) in r.get_attr("resources").and_then(Value::as_elements).unwrap_or(&[]).iter().enumerate() {
            if let Some(s) = res.as_str()
                && (s.is_empty() || s.contains(char::is_whitespace) || s.starts_with('/'))
            {
                diags.error_at(
                    here.then_attr("resources").then_index(j as i64),
                    "Invalid Resource",
                    format!("{s:?} is not a resource name; use e.g. `configmaps` or `pods/log`."),
                );
            }
        }
    }
}

#[async_trait]
impl Resource for RemoteClusterAccess {
    fn type_name(&self) -> &'static str {
        "jenkins_remote_cluster_access"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, _schema: &Schema, config: &Value, diags: &mut Diagnostics) {
        validate_config(config, diags);
    }

    async fn modify_plan(&self, ctx: PlanContext<'_>, change: &mut PlanChange, diags: &mut Diagnostics) {
        let Some(access) = Access::from_value(&change.planned) else { return };
        let configured = self.context.get();
        if let Some(c) = &configured
            && let Some(controller) = &c.settings.controller
            && same_as_controller(&access.cluster, controller, c.settings.region.as_deref())
        {
            diags.warning_at(
                AttributePath::attr("cluster"),
                "Remote Cluster Is The Controller's Cluster",
                format!("The {} is the cluster Jenkins runs in. There the plugin authenticates with the controller's own service account: leave `server_url` and `credentials_id` of `jenkins_agent_cloud` empty and grant that service account a Role instead; this resource is not needed.", access.cluster.describe()),
            );
        }
        if access.credential.is_some()
            && let Some(c) = &configured
            && c.controller.is_none()
        {
            diags.error_at(
                AttributePath::attr("jenkins_credential"),
                "Missing Kubernetes Settings",
                "`jenkins_credential` is written to the controller's cluster: add a `kubernetes` block to the provider (for EKS, `kubernetes { eks_cluster_name = \"...\" }`), or remove `jenkins_credential` and use `expose_token`.",
            );
        }
        let jenkins_namespace = configured.as_ref().map(|c| c.jenkins().namespace.clone());
        let planned = &mut change.planned;
        fill_derived(planned, &access, jenkins_namespace.as_deref());
        let prior = ctx.prior;

        // The token stays unless a new token Secret is coming (rotation, or the old one is gone).
        let token_entry = format!("remote Secret {}/{}", access.namespace, access.token_secret_name());
        let prior_has_token = prior
            .get_attr("managed_objects")
            .and_then(Value::as_elements)
            .is_some_and(|o| o.iter().any(|e| e.as_str() == Some(token_entry.as_str())));
        let prior_sha = prior.get_attr("token_sha256").filter(|v| !v.is_null() && v.is_wholly_known()).cloned();
        let sha = match prior_sha {
            Some(s)
                if prior_has_token
                    && string(prior, "token_secret_name").as_deref() == Some(&access.token_secret_name()) =>
            {
                s
            }
            _ => Value::unknown(),
        };
        set(planned, "token_sha256", sha.clone());
        model::set_credential_attr(planned, "token_sha256", sha.clone());
        let token = if !access.expose_token {
            Value::Null
        } else {
            match prior.get_attr("token") {
                Some(t) if !sha.is_unknown() && !t.is_null() && t.is_wholly_known() => t.clone(),
                _ => Value::unknown(),
            }
        };
        set(planned, "token", token);

        // Where the cluster is: known for `host`, from the prior state for EKS.
        let keep = |name: &str| {
            prior.get_attr(name).filter(|v| !v.is_null() && v.is_wholly_known()).cloned().unwrap_or_else(Value::unknown)
        };
        match &access.cluster {
            Cluster::Direct { host, ca: Some(ca), .. } => {
                set(planned, "server_url", Value::string(host.clone()));
                let pem = crate::kube::ca::normalize_pem(ca).map(Value::String).unwrap_or_else(|_| Value::unknown());
                set(planned, "ca_certificate", pem);
            }
            Cluster::Direct { host, ca: None, .. } => {
                set(planned, "server_url", Value::string(host.clone()));
                let ca = keep("ca_certificate");
                set(planned, "ca_certificate", ca);
            }
            Cluster::Eks { .. } => {
                let url = keep("server_url");
                let ca = keep("ca_certificate");
                set(planned, "server_url", url);
                set(planned, "ca_certificate", ca);
            }
        }
        // A cloud planned after this access may name its namespace, service account or credential.
        if let Some(c) = &configured {
            created_objects(prior, planned).into_iter().for_each(|o| c.will_create(o));
        }
    }

    fn identity_schema(&self) -> Option<crate::framework::IdentitySchema> {
        Some(super::identities::remote_cluster_access())
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        super::identities::remote_cluster_access_of(state)
    }

    fn list_schema(&self) -> Option<Block> {
        Some(
            Block::new("The agent service accounts this provider made in a remote EKS cluster (labelled as ours, in any namespace), each with the state an import builds.")
                .attr(Attribute::string("eks_cluster_name").required().describe("The remote EKS cluster, reached as `cluster.eks_cluster_name` is (an import reaches it the same way)."))
                .attr(Attribute::string("namespace").optional().describe("Only the service accounts of this namespace; every namespace when unset.")),
        )
    }

    async fn list(&self, config: &Value, with_objects: bool, diags: &mut Diagnostics) -> Vec<Listed> {
        let Some(configured) = self.configured(diags) else { return Vec::new() };
        let name = string(config, "eks_cluster_name").unwrap_or_default();
        let cluster = Cluster::Eks { name: name.clone(), region: None, role_arn: None };
        let remote = match connection::connect(&configured, &cluster).await {
            Ok(r) => r,
            Err(e) => {
                unreachable_remote(diags, &cluster, e);
                return Vec::new();
            }
        };
        let sas: Api<ServiceAccount> = match string(config, "namespace") {
            Some(ns) => apply::api(remote.client.clone(), &ns),
            None => Api::all(remote.client.clone()),
        };
        let found = match sas.list(&ListParams::default().labels(&ownership::selector(model::OWNER))).await {
            Ok(l) => l.items,
            Err(e) => {
                return read_failed(diags, format!("the service accounts of {}", cluster.describe()), e)
                    .unwrap_or_default();
            }
        };
        let mut out = Vec::new();
        for sa in found {
            let (Some(ns), Some(sa)) = (sa.metadata.namespace, sa.metadata.name) else { continue };
            let id = format!("{name}/{ns}/{sa}");
            let Some(mut state) = self.import(&id, diags).await else { continue };
            if with_objects {
                match self.read_live(&state, diags).await {
                    Some(Some(read)) => state = read,
                    _ => continue,
                }
            }
            let Some(identity) = super::identities::remote_cluster_access_of(&state) else { continue };
            let display_name = format!("service account {ns}/{sa} in {}", cluster.describe());
            out.push(Listed { identity, display_name, object: with_objects.then_some(state) });
        }
        out
    }

    async fn import_identity(&self, identity: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let id = super::identities::import_id(super::identities::remote_cluster_access_import(identity), diags)?;
        self.import(&id, diags).await
    }

    async fn import(&self, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let (cluster, namespace, sa) = match model::parse_import_id(id) {
            Ok(parts) => parts,
            Err(e) => {
                diags.error("Invalid Import Id", e);
                return None;
            }
        };
        let access = Access {
            cluster: Cluster::Eks { name: cluster, region: None, role_arn: None },
            namespace,
            create_namespace: true,
            service_account: sa,
            extra_rules: Vec::new(),
            rotate_token_when: Default::default(),
            credential: None,
            expose_token: false,
        };
        // Only the keys; read() finds every object and fills the rest.
        Some(import_object(&access))
    }

    async fn create(&self, planned: &Value, _config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let state = self.converge(planned, None, diags).await;
        self.settle(planned);
        state
    }

    async fn read(&self, state: &Value, diags: &mut Diagnostics) -> Option<Option<Value>> {
        self.read_live(state, diags).await
    }

    async fn update(&self, prior: &Value, planned: &Value, _config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let state = self.converge(planned, Some(prior), diags).await;
        self.settle(planned);
        state
    }

    async fn delete(&self, prior: &Value, diags: &mut Diagnostics) {
        let Some(configured) = self.configured(diags) else { return };
        let Some(access) = recorded_access(prior, diags) else { return };
        // The credential first: Jenkins must never hold a token whose Secret is gone.
        if let Some(c) = &access.credential {
            let Some((controller, jns)) = self.controller(diags).await else { return };
            let api: Api<Secret> = apply::api(controller, &jns);
            if let Err(e) = apply::delete_owned_by(&api, &c.id, model::OWNER, Some(&access.owner_mark())).await {
                report_apply(diags, &format!("delete Secret {jns}/{}", c.id), e);
                return;
            }
        }
        let Some(remote) = self.remote(&configured, &access, diags).await else { return };
        let (ns, sa) = (access.namespace.clone(), access.service_account.clone());
        let client = remote.client;
        let token_name = access.token_secret_name();
        let secrets: Api<Secret> = apply::api(client.clone(), &ns);
        if let Err(e) = apply::delete_owned_by(&secrets, &token_name, model::OWNER, Some(&access.owner_mark())).await {
            return report_apply(diags, &format!("delete Secret {ns}/{token_name}"), e);
        }
        let bindings: Api<RoleBinding> = apply::api(client.clone(), &ns);
        if let Err(e) = apply::delete_owned_by(&bindings, &sa, model::OWNER, Some(&access.owner_mark())).await {
            return report_apply(diags, &format!("delete RoleBinding {ns}/{sa}"), e);
        }
        let roles: Api<Role> = apply::api(client.clone(), &ns);
        if let Err(e) = apply::delete_owned_by(&roles, &sa, model::OWNER, Some(&access.owner_mark())).await {
            return report_apply(diags, &format!("delete Role {ns}/{sa}"), e);
        }
        let sas: Api<ServiceAccount> = apply::api(client.clone(), &ns);
        if let Err(e) = apply::delete_owned_by(&sas, &sa, model::OWNER, Some(&access.owner_mark())).await {
            return report_apply(diags, &format!("delete ServiceAccount {ns}/{sa}"), e);
        }
        if !access.create_namespace {
            return;
        }
        let namespaces: Api<Namespace> = Api::all(client);
        if let Err(e) = apply::delete_owned_by(&namespaces, &ns, model::OWNER, Some(&access.owner_mark())).await {
            return report_apply(diags, &format!("delete Namespace {ns}"), e);
        }
        // Wait for it to be gone, so re-creating it right after does not hit a terminating namespace.
        let start = std::time::Instant::now();
        while start.elapsed() < NAMESPACE_WAIT {
            match apply::get(&namespaces, &ns).await {
                Ok(None) => return,
                Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(e) => return errors::report(diags, None, &format!("read Namespace {ns}"), &e),
            }
        }
        diags.warning(
            "Namespace Still Terminating",
            format!("Namespace {ns} was deleted but is still terminating after {} s; re-creating it will fail until it is gone.", NAMESPACE_WAIT.as_secs()),
        );
    }
}
