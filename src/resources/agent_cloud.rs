//! `jenkins_agent_cloud`: one Kubernetes-plugin cloud, with its templates inline, as one ConfigMap
//! that the Helm chart's config-reload sidecar loads into Jenkins without a restart.
//!
//! The ConfigMap holds only `jenkins.clouds[0].kubernetes`, so JCasC's merge with the chart's own
//! file can never conflict. It is written by server-side apply with our field manager, carries our
//! ownership labels and the cloud's owner mark (`agent-cloud/<name>`), and a ConfigMap of that name
//! without the labels, or with another cloud's mark, is never touched. `jenkins_loop`
//! reads where the sidecar looks, checks the merged JCasC view (and, with its API, Jenkins) at plan,
//! and makes applies return once Jenkins runs the change.

mod preflight;

use super::values::{boolean, check_when_known, int, set, string, string_map, strings};
use crate::cty::{AttributePath, Value};
use crate::framework::{
    Attribute, Block, Diagnostics, Listed, NestedBlock, Nesting, PlanChange, PlanContext, Resource, Schema, Validator,
};
use crate::jenkins::cloud::{AgentConnection, CloudSpec, GarbageCollection, RenderedCloud};
use crate::jenkins::{self, LintContext};
use crate::kube::{apply, errors};
use crate::provider::{Configured, ProviderContext};
use async_trait::async_trait;
use k8s_openapi::api::core::v1::ConfigMap;
use std::collections::BTreeMap;
use std::sync::Arc;

mod jenkins_loop;

#[cfg(test)]
pub(crate) use jenkins_loop::file_hash;

/// The ownership label value of objects this resource writes.
const OWNER: &str = "agent-cloud";

/// The resource type; holds the provider context for its cluster connection.
pub struct AgentCloud {
    pub context: Arc<ProviderContext>,
}

/// Attributes computed from the others; everything else is configuration.
const COMPUTED: [&str; 4] = ["casc_sha256", "configmap_name", "data_key", "template_ids"];

fn gc_block() -> Block {
    Block::new("Deletes agent pods the controller no longer knows about (plugin 4214+).")
        .attr(Attribute::string_list("namespaces").required().describe("Namespaces to collect in."))
        .attr(
            Attribute::number("timeout_seconds")
                .default(Value::int(jenkins::cloud::DEFAULT_GC_TIMEOUT_SECONDS))
                .describe("How long a pod may be unknown before it is deleted.")
                .validate(Validator::int_at_least(120)),
        )
}

fn schema() -> Schema {
    let block = Block::new(
        "A Kubernetes-plugin cloud with its pod templates, delivered as a ConfigMap the Helm chart's config-reload sidecar loads into Jenkins without a restart.\n\nA plan shows what changed in the cloud's own arguments, its templates by name, and the new `casc_sha256`: never the whole file, and never a template's definition again (a template's change shows once, in its own plan; here the definitions are write-only). The whole documents are one call away, in an output or `terraform console`: the file is `provider::jenkins::cloud_casc(merge(jenkins_agent_cloud.<x>, { templates = [jenkins_pod_template.<a>, …] }))`, the pod the plugin creates for a template is `provider::jenkins::effective_pod(<the same>, \"<template>\")`, and the live file is in the ConfigMap `configmap_name`, key `data_key`.\n\nAt plan each effective pod is dry-run (`dryRun=All`) in its agent namespace as the identity the plugin will use (the controller's service account, impersonated, for a local cloud; the `credentials_id` token for a remote one), and the ConfigMaps, Secrets, PVCs and image pull secrets it names, and the IRSA trust of its service account, are checked. A pod that would be refused or never start is an error on its `templates` element; what cannot be checked yet is a warning, and is checked when the apply plans the cloud again, before the ConfigMap is written. So is an object another resource of this plan creates (the profile chain's ConfigMap, an IRSA role's service account, a remote access's namespace, service account and credential) when the cloud depends on that resource, by reference or `depends_on`: one apply creates the whole stack.",
    )
    .attr(
        Attribute::string("name")
            .required()
            .requires_replace()
            .describe("The cloud name. Agents remember it, so renaming replaces the cloud. `kubernetes` is the chart's own cloud and is refused.")
            .validate(Validator::string(
                "Letters, digits, `_`, `.` and `-`, starting with a letter or digit, at most 63 characters.",
                "Invalid Cloud Name",
                jenkins::cloud::check_cloud_name,
            )),
    )
    .attr(Attribute::string("server_url").optional().describe("The Kubernetes API server of the agents' cluster (https). Null: the controller's own cluster, through its service account."))
    .attr(Attribute::string("server_ca_certificate").optional().describe("The API server's CA: PEM, or base64 of the PEM as EKS gives it."))
    .attr(Attribute::bool("skip_tls_verify").default(Value::Bool(false)).describe("Skip TLS verification of `server_url`."))
    .attr(Attribute::string("namespace").optional().describe("Namespace for agent pods. Required with `server_url` or `credentials_id`, because the plugin then falls back to `default`."))
    .attr(Attribute::string("credentials_id").optional().describe("Jenkins credential the plugin authenticates with (e.g. `jenkins_remote_cluster_access.x.credentials_id`)."))
    .attr(Attribute::string("jenkins_url").optional().describe("The URL agents connect back to; required for a remote cluster."))
    .attr(
        Attribute::string("agent_connection")
            .default(Value::string("tcp"))
            .describe("How agents connect: `tcp` (inbound port, optionally through `jenkins_tunnel`), `websocket` (recommended outside the controller's cluster) or `direct`.")
            .validate(Validator::one_of(&["tcp", "websocket", "direct"])),
    )
    .attr(Attribute::string("jenkins_tunnel").optional().describe("`host:port` of the inbound agent port, only with `tcp`."))
    .attr(Attribute::number("container_cap").optional().describe("Most agent pods at once; null is unlimited.").validate(Validator::int_at_least(1)))
    .attr(Attribute::number("max_requests_per_host").default(Value::int(jenkins::cloud::DEFAULT_MAX_REQUESTS_PER_HOST)).describe("Concurrent API requests.").validate(Validator::int_at_least(1)))
    .attr(Attribute::number("connect_timeout_seconds").default(Value::int(jenkins::cloud::DEFAULT_CONNECT_TIMEOUT_SECONDS)).describe("API connect timeout.").validate(Validator::int_at_least(5)))
    .attr(Attribute::number("read_timeout_seconds").default(Value::int(jenkins::cloud::DEFAULT_READ_TIMEOUT_SECONDS)).describe("API read timeout.").validate(Validator::int_at_least(15)))
    .attr(Attribute::number("retention_timeout_minutes").default(Value::int(jenkins::cloud::DEFAULT_RETENTION_TIMEOUT_MINUTES)).describe("Idle timeout of single-use agents.").validate(Validator::int_at_least(5)))
    .attr(Attribute::number("wait_for_pod_seconds").default(Value::int(jenkins::cloud::DEFAULT_WAIT_FOR_POD_SECONDS)).describe("How long to wait for a pod to be running.").validate(Validator::int_at_least(0)))
    .attr(
        Attribute::string("pod_retention")
            .default(Value::string("never"))
            .describe("When to keep finished agent pods.")
            .validate(Validator::one_of(&["never", "on_failure", "always", "evicted"])),
    )
    .attr(Attribute::string_map("pod_labels").optional().describe("Labels on every agent pod; pods with these labels count toward `container_cap`, so keep them unique per cloud. Null: `jenkins/cloud = <name>`."))
    .attr(Attribute::bool("usage_restricted").default(Value::Bool(false)).describe("Only jobs allowed to use this cloud may."))
    .attr(Attribute::bool("use_jenkins_proxy").default(Value::Bool(false)).describe("Reach the API server through Jenkins' proxy."))
    .attr(Attribute::bool("add_controller_proxy_env_vars").default(Value::Bool(false)).describe("Pass the controller's proxy variables to agents."))
    .attr(Attribute::string("jnlp_registry").optional().describe("Registry prefix for the agent image (`<prefix>/jenkins/inbound-agent`), for clusters that cannot pull from Docker Hub."))
    .attr(Attribute::bool("restricted_pss_security_context").default(Value::Bool(false)).describe("Patch every container to the restricted Pod Security Standard."))
    .attr(Attribute::string("defaults_provider_template").optional().describe("A template of this cloud every other template inherits from first."))
    .attr(
        Attribute::nested(
            "templates",
            Nesting::List,
            vec![
                Attribute::string("definition").required().write_only().describe("The template's `definition`. Write-only: it is in the template's own state already, so the cloud's state and plans hold only its name, and the file's hash shows when it changes."),
                Attribute::string("name").optional().computed().describe("The template's name, from its definition when not set (it must match)."),
            ],
        )
        .optional()
        .describe("Pod templates, in the order the plugin matches labels: the `jenkins_pod_template` resources themselves (`[jenkins_pod_template.base, …]`; their `name` and `definition` are taken) or `{ definition = … }` objects. A plan names each template once; what changed in one shows in that template's own plan. Preflight findings are reported on the element of the template that causes them."),
    )
    .attr(Attribute::string("casc_sha256").computed().describe("SHA-256 of the JCasC file this cloud becomes (`provider::jenkins::cloud_casc` renders it). Refresh hashes the live file, so an edit made outside Terraform shows here and the next apply writes the file again; so does a note after the hash when Jenkins did not load the file at the last apply."))
    .attr(Attribute::string("configmap_name").computed().describe("The ConfigMap holding the file."))
    .attr(Attribute::string("data_key").computed().describe("The ConfigMap key (the file name in the sidecar's folder)."))
    .attr(Attribute::string_map("template_ids").computed().describe("Template name → id."))
    .block(NestedBlock::single("garbage_collection", gc_block()))
    .block(NestedBlock::single("timeouts", jenkins_loop::timeouts_block()));
    // Version 1: `templates` hold `jenkins_pod_template` definitions in their JSON spelling.
    // Version 2: `casc_sha256` replaces the file (`casc_yaml`) and `effective_pods` leaves state.
    Schema::new(block).versioned(2)
}

/// True when every configured input of the rendering is known.
fn inputs_known(config: &Value) -> bool {
    super::values::known_except(config, &COMPUTED)
}

fn spec(v: &Value) -> CloudSpec {
    let connection = match string(v, "agent_connection").as_deref() {
        Some("websocket") => AgentConnection::WebSocket,
        Some("direct") => AgentConnection::Direct,
        _ => AgentConnection::Tcp { tunnel: string(v, "jenkins_tunnel") },
    };
    let garbage_collection = v.get_attr("garbage_collection").filter(|g| !g.is_null()).map(|g| GarbageCollection {
        namespaces: strings(g, "namespaces"),
        timeout_seconds: int(g, "timeout_seconds").unwrap_or(jenkins::cloud::DEFAULT_GC_TIMEOUT_SECONDS),
    });
    let pod_labels = match v.get_attr("pod_labels") {
        Some(Value::Null) | None => None,
        Some(_) => Some(string_map(v, "pod_labels")),
    };
    CloudSpec {
        name: string(v, "name").unwrap_or_default(),
        server_url: string(v, "server_url"),
        server_ca_certificate: string(v, "server_ca_certificate"),
        skip_tls_verify: boolean(v, "skip_tls_verify").unwrap_or(false),
        namespace: string(v, "namespace"),
        credentials_id: string(v, "credentials_id"),
        jenkins_url: string(v, "jenkins_url"),
        connection,
        container_cap: int(v, "container_cap"),
        max_requests_per_host: int(v, "max_requests_per_host").unwrap_or(jenkins::cloud::DEFAULT_MAX_REQUESTS_PER_HOST),
        connect_timeout_seconds: int(v, "connect_timeout_seconds")
            .unwrap_or(jenkins::cloud::DEFAULT_CONNECT_TIMEOUT_SECONDS),
        read_timeout_seconds: int(v, "read_timeout_seconds").unwrap_or(jenkins::cloud::DEFAULT_READ_TIMEOUT_SECONDS),
        retention_timeout_minutes: int(v, "retention_timeout_minutes")
            .unwrap_or(jenkins::cloud::DEFAULT_RETENTION_TIMEOUT_MINUTES),
        wait_for_pod_seconds: int(v, "wait_for_pod_seconds").unwrap_or(jenkins::cloud::DEFAULT_WAIT_FOR_POD_SECONDS),
        pod_retention: string(v, "pod_retention").unwrap_or_else(|| "never".into()),
        pod_labels,
        usage_restricted: boolean(v, "usage_restricted").unwrap_or(false),
        use_jenkins_proxy: boolean(v, "use_jenkins_proxy").unwrap_or(false),
        add_controller_proxy_env_vars: boolean(v, "add_controller_proxy_env_vars").unwrap_or(false),
        restricted_pss_security_context: boolean(v, "restricted_pss_security_context").unwrap_or(false),
        jnlp_registry: string(v, "jnlp_registry"),
        defaults_provider_template: string(v, "defaults_provider_template"),
        garbage_collection,
        templates: template_definitions(v),
    }
}

/// The `definition` of each element of `templates`, in order (an unknown one as empty text).
pub(super) fn template_definitions(v: &Value) -> Vec<String> {
    match v.get_attr("templates").and_then(Value::as_elements) {
        Some(items) => items.iter().map(|t| string(t, "definition").unwrap_or_default()).collect(),
        None => Vec::new(),
    }
}

/// A `templates` element of JCasC template text `casc`, its definition in `spelling`: the
/// configuration's view (definition set) and, with [`forget_definitions`], the state's (the
/// write-only definition null).
fn template_value(casc: &str, spelling: fn(&str) -> String) -> Value {
    let name = jenkins::parse_definition(casc).map(|d| d.name).unwrap_or_default();
    Value::Object(BTreeMap::from([
        ("definition".to_string(), Value::String(spelling(casc))),
        ("name".to_string(), Value::String(name)),
    ]))
}

/// The templates of `v` as state keeps them: each one's name, its write-only definition null.
fn forget_definitions(v: &mut Value) {
    if let Some(Value::List(items)) = v.get_attr_mut("templates") {
        for item in items.iter_mut() {
            set(item, "definition", Value::Null);
        }
    }
}

/// `v` (a plan or state, whose write-only definitions are null) with the configuration's
/// `templates`, which hold them: what the cloud renders from.
fn with_config_templates(v: &Value, config: &Value) -> Value {
    let mut input = v.clone();
    set(&mut input, "templates", config.get_attr("templates").cloned().unwrap_or(Value::Null));
    input
}

/// Each template's name into `planned.templates` (from its definition where the configuration
/// leaves it null); a configured name that is not its definition's is an error on it.
fn plan_template_names(input: &Value, planned: &mut Value, diags: &mut Diagnostics) {
    let Some(items) = input.get_attr("templates").and_then(Value::as_elements) else { return };
    let names: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let own = string(t, "definition").and_then(|d| jenkins::parse_definition(&d).ok()).map(|d| d.name);
            match (string(t, "name"), own) {
                (Some(given), Some(own)) if given != own => {
                    diags.error_at(
                        AttributePath::attr("templates").then_index(i as i64).then_attr("name"),
                        "Template Name Does Not Match Its Definition",
                        format!("`templates[{i}].name` is {given:?} but its definition is template {own:?}. Leave `name` out, or pass the template itself (`jenkins_pod_template.<x>`)."),
                    );
                    Value::String(given)
                }
                (Some(given), _) => Value::String(given),
                (None, Some(own)) => Value::String(own),
                (None, None) => Value::unknown(),
            }
        })
        .collect();
    if let Some(Value::List(planned_items)) = planned.get_attr_mut("templates") {
        for (item, name) in planned_items.iter_mut().zip(names) {
            set(item, "name", name);
        }
    }
}

/// Renders the cloud into the computed attributes of `target`; findings become diagnostics.
/// Returns the whole rendering (the file, the effective pods), which state keeps only the hash of.
fn render_into(
    object: &Value,
    target: &mut Value,
    diags: &mut Diagnostics,
    lint: Option<&LintContext>,
) -> Option<RenderedCloud> {
    let warnings = lint.is_some();
    let connection = string(object, "agent_connection").unwrap_or_else(|| "tcp".into());
    if connection != "tcp" && string(object, "jenkins_tunnel").is_some() {
        diags.error_at(
            AttributePath::attr("jenkins_tunnel"),
            "Tunnel Without TCP",
            format!("`jenkins_tunnel` applies to `agent_connection = \"tcp\"` only (this cloud uses {connection:?}); the plugin rejects it with WebSocket. Remove `jenkins_tunnel` or use tcp."),
        );
        return None;
    }
    let (rendered, findings) =
        jenkins::cloud::render_cloud_with(&spec(object), lint.unwrap_or(&LintContext::default()));
    for f in findings {
        match f.severity {
            jenkins::Severity::Error => diags.error_at(f.path, f.summary, f.detail),
            jenkins::Severity::Warning if warnings => diags.warning_at(f.path, f.summary, f.detail),
            jenkins::Severity::Warning => {}
        }
    }
    let r = rendered?;
    set(target, "casc_sha256", Value::String(jenkins_loop::file_hash(&r.casc_yaml)));
    set(target, "configmap_name", Value::String(r.configmap_name.clone()));
    set(target, "data_key", Value::String(r.data_key.clone()));
    set(target, "template_ids", string_map_value(r.template_ids.clone()));
    Some(r)
}

/// The cloud `object` rendered as a plan renders it, without preflight or lint (the provider
/// functions' view); `None` when a diagnostic says why not.
pub(crate) fn render(object: &Value, diags: &mut Diagnostics) -> Option<RenderedCloud> {
    render_into(object, &mut object.clone(), diags, None)
}

fn string_map_value(m: BTreeMap<String, String>) -> Value {
    Value::Map(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// The owner mark of the cloud named `cloud`: its import id is its name. Two clouds whose names
/// map to one ConfigMap name (a hashed name equal to a plain one) thus never share the object.
fn owner_mark(cloud: &str) -> String {
    crate::kube::ownership::owner_mark(OWNER, cloud)
}

/// True when `cm` is this cloud's: our labels, and its mark or none (written before marks).
fn is_own(cm: &ConfigMap, cloud: &str) -> bool {
    let mark = owner_mark(cloud);
    let m = &cm.metadata;
    crate::kube::ownership::owned(m.labels.as_ref(), m.annotations.as_ref(), OWNER, Some(&mark))
        == crate::kube::ownership::Owned::Ours
}

/// The ConfigMap holding file `content` of this cloud, with the sidecar's label (key `label`),
/// ours, and the cloud's owner mark, so a create killed after this write adopts it when it runs
/// again.
fn desired_configmap(state: &Value, content: String, namespace: &str, label: &str) -> ConfigMap {
    let mut labels = crate::kube::ownership::labels(OWNER);
    labels.insert(label.to_string(), crate::kube::controller::OUR_LABEL_VALUE.into());
    let name = string(state, "configmap_name").unwrap_or_default();
    let key = string(state, "data_key").unwrap_or_default();
    ConfigMap {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name),
            namespace: Some(namespace.to_string()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([
                ("k8s-sidecar-target-directory".to_string(), jenkins::cloud::SIDECAR_SUBDIR.to_string()),
                (
                    crate::kube::ownership::OWNER_ANNOTATION.to_string(),
                    owner_mark(&string(state, "name").unwrap_or_default()),
                ),
            ])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(key, content)])),
        ..Default::default()
    }
}

/// `(where, cloud name)` of each cloud the files of `configmaps` define that are not this
/// provider's (the chart's `jenkins.clouds`, another tool's).
fn foreign_clouds(configmaps: &[ConfigMap]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for cm in configmaps.iter().filter(|cm| !crate::kube::ownership::is_ours(cm.metadata.labels.as_ref(), OWNER)) {
        let at = format!(
            "ConfigMap {}/{}",
            cm.metadata.namespace.as_deref().unwrap_or_default(),
            cm.metadata.name.as_deref().unwrap_or_default()
        );
        for (key, text) in cm.data.iter().flatten() {
            out.extend(jenkins::cloud_parse::cloud_names_in(text).into_iter().map(|n| (format!("{at} ({key})"), n)));
        }
    }
    out
}

/// The full state of an imported cloud, from its live JCasC file.
fn imported_state(live: &str, diags: &mut Diagnostics) -> Option<Value> {
    let spec = match jenkins::cloud_parse::parse_cloud(live) {
        Ok(s) => s,
        Err(e) => {
            diags.error(
                "Cannot Import The Cloud",
                format!("Its ConfigMap does not hold a cloud this provider wrote: {e}."),
            );
            return None;
        }
    };
    let mut state = spec_value(&spec);
    let rendered = state.clone();
    render_into(&rendered, &mut state, diags, None);
    forget_definitions(&mut state);
    // The live file's hash, so a hand edit after the last apply still shows at the next plan.
    set(&mut state, "casc_sha256", Value::String(jenkins_loop::file_hash(live)));
    Some(state)
}

fn opt_string(v: &Option<String>) -> Value {
    v.as_ref().map(|s| Value::string(s.clone())).unwrap_or(Value::Null)
}

/// The resource object of a cloud's settings (the inverse of [`spec`]).
fn spec_value(c: &CloudSpec) -> Value {
    let mut v = schema().block.null_object();
    set(&mut v, "name", Value::string(c.name.clone()));
    set(&mut v, "server_url", opt_string(&c.server_url));
    set(&mut v, "server_ca_certificate", opt_string(&c.server_ca_certificate));
    set(&mut v, "skip_tls_verify", Value::Bool(c.skip_tls_verify));
    set(&mut v, "namespace", opt_string(&c.namespace));
    set(&mut v, "credentials_id", opt_string(&c.credentials_id));
    set(&mut v, "jenkins_url", opt_string(&c.jenkins_url));
    let (connection, tunnel) = match &c.connection {
        AgentConnection::Tcp { tunnel } => ("tcp", tunnel.clone()),
        AgentConnection::WebSocket => ("websocket", None),
        AgentConnection::Direct => ("direct", None),
    };
    set(&mut v, "agent_connection", Value::string(connection));
    set(&mut v, "jenkins_tunnel", opt_string(&tunnel));
    set(&mut v, "container_cap", c.container_cap.map(Value::int).unwrap_or(Value::Null));
    set(&mut v, "max_requests_per_host", Value::int(c.max_requests_per_host));
    set(&mut v, "connect_timeout_seconds", Value::int(c.connect_timeout_seconds));
    set(&mut v, "read_timeout_seconds", Value::int(c.read_timeout_seconds));
    set(&mut v, "retention_timeout_minutes", Value::int(c.retention_timeout_minutes));
    set(&mut v, "wait_for_pod_seconds", Value::int(c.wait_for_pod_seconds));
    set(&mut v, "pod_retention", Value::string(c.pod_retention.clone()));
    set(&mut v, "pod_labels", c.pod_labels.clone().map(string_map_value).unwrap_or(Value::Null));
    set(&mut v, "usage_restricted", Value::Bool(c.usage_restricted));
    set(&mut v, "use_jenkins_proxy", Value::Bool(c.use_jenkins_proxy));
    set(&mut v, "add_controller_proxy_env_vars", Value::Bool(c.add_controller_proxy_env_vars));
    set(&mut v, "restricted_pss_security_context", Value::Bool(c.restricted_pss_security_context));
    set(&mut v, "jnlp_registry", opt_string(&c.jnlp_registry));
    set(&mut v, "defaults_provider_template", opt_string(&c.defaults_provider_template));
    let gc = c.garbage_collection.as_ref().map(|g| {
        Value::Object(BTreeMap::from([
            ("namespaces".to_string(), Value::List(g.namespaces.iter().cloned().map(Value::String).collect())),
            ("timeout_seconds".to_string(), Value::int(g.timeout_seconds)),
        ]))
    });
    set(&mut v, "garbage_collection", gc.unwrap_or(Value::Null));
    // Imported templates in the spelling `jenkins_pod_template` emits, so an import round-trips.
    let templates = (!c.templates.is_empty()).then(|| {
        Value::List(c.templates.iter().map(|t| template_value(t, jenkins::definition::json_spelling)).collect())
    });
    set(&mut v, "templates", templates.unwrap_or(Value::Null));
    v
}

impl AgentCloud {
    /// An import of a cloud that only another file defines (the chart's) says so, instead of
    /// Terraform's "non-existent remote object".
    async fn refuse_foreign_import(&self, name: &str, diags: &mut Diagnostics) {
        let Some((configured, client)) = self.context.controller_client(&mut Diagnostics::new(), "").await else {
            return;
        };
        let found = Self::foreign_clouds_live(&configured, client).await;
        if let Some((origin, _)) = found.iter().find(|(_, n)| n == name) {
            diags.error(
                "Cannot Import The Cloud",
                format!("Cloud {name:?} is defined by {origin}, which this provider does not own (the Helm chart's `jenkins.clouds` are). To manage it here, remove it from the chart's values, then declare a `jenkins_agent_cloud` with its settings and apply it without an import (the chart's default cloud `kubernetes` under another name)."),
            );
        }
    }

    /// [`foreign_clouds`] of the ConfigMaps the sidecar lists now.
    async fn foreign_clouds_live(configured: &Configured, client: kube::Client) -> Vec<(String, String)> {
        let watch = jenkins_loop::watch(configured, client.clone()).await;
        foreign_clouds(&jenkins_loop::sidecar_configmaps(client, &watch).await)
    }

    /// The clouds the sidecar's other files define (not ours), for a list to show as such.
    async fn chart_clouds(&self, configured: &Configured, client: kube::Client, namespace: &str) -> Vec<Listed> {
        let mut out = Vec::new();
        for (origin, name) in Self::foreign_clouds_live(configured, client).await {
            let identity = super::identities::agent_cloud()
                .value(&[("name", Some(name.clone())), ("namespace", Some(namespace.to_string()))]);
            let Some(identity) = identity else { continue };
            let display_name = format!("cloud {name} defined by {origin}, not by this provider");
            out.push(Listed { identity, display_name, object: None });
        }
        out
    }

    /// The cloud's live JCasC file; `None` inside when its ConfigMap is gone or not this cloud's.
    async fn live_file(&self, state: &Value, diags: &mut Diagnostics) -> Option<Option<String>> {
        let (configured, client) = self.context.controller_client(diags, "jenkins_agent_cloud").await?;
        let namespace = &configured.jenkins().namespace;
        let name = string(state, "configmap_name").unwrap_or_default();
        let key = string(state, "data_key").unwrap_or_default();
        let api = apply::api::<ConfigMap>(client, namespace);
        match apply::get(&api, &name).await {
            Ok(None) => Some(None),
            Ok(Some(cm)) if !is_own(&cm, &string(state, "name").unwrap_or_default()) => Some(None),
            Ok(Some(cm)) => Some(Some(cm.data.as_ref().and_then(|d| d.get(&key)).cloned().unwrap_or_default())),
            Err(e) => {
                errors::report(diags, None, &format!("read ConfigMap {namespace}/{name}"), &e);
                None
            }
        }
    }

    /// Who the controller runs as, for the lint that warns about agents sharing its service account:
    /// the chart's StatefulSet says, else the chart's default (its fullname). No API call while the
    /// provider configuration is unknown.
    async fn lint_context(&self) -> LintContext {
        let Some(configured) = self.context.get() else { return LintContext::default() };
        let fallback = LintContext { controller_service_account: configured.jenkins().fullname.clone() };
        let Some(connector) = configured.controller.clone() else { return fallback };
        let Ok(client) = connector.client().await else { return fallback };
        match configured.jenkins_controller(client).await {
            Ok(Some(c)) => LintContext {
                controller_service_account: c.service_account.clone().unwrap_or_else(|| "default".into()),
            },
            _ => fallback,
        }
    }

    async fn write(&self, planned: &Value, config: &Value, op: &str, diags: &mut Diagnostics) -> Option<Value> {
        let (configured, _) = self.context.controller(diags, "jenkins_agent_cloud")?;
        let mut state = planned.clone();
        let rendered = render_into(&with_config_templates(planned, config), &mut state, diags, None)?;
        // A plan lenient about missing objects (`missing_objects_at_plan = "warning"`) only warned:
        // the real check, before anything is written.
        if configured.settings.missing_objects_warn_at_plan {
            let checked = with_config_templates(&state, config);
            preflight::check(&self.context, &Value::Null, &checked, &rendered.effective_pods, true, diags).await;
            if diags.has_error() {
                return None;
            }
        }
        let jenkins = configured.jenkins();
        let (_, client) = self.context.controller_client(diags, "jenkins_agent_cloud").await?;
        let watch = jenkins_loop::watch(&configured, client.clone()).await;
        let cm = desired_configmap(&state, rendered.casc_yaml.clone(), &jenkins.namespace, &watch.label);
        let name = string(&state, "configmap_name").unwrap_or_default();
        let api = apply::api::<ConfigMap>(client, &jenkins.namespace);
        let before = jenkins_loop::before_write(&configured, &string(&state, "name").unwrap_or_default()).await;
        match apply::apply_owned(&api, &name, OWNER, &cm).await {
            Ok(_) => Some(jenkins_loop::after_write(&configured, state, &rendered.casc_yaml, before, op, diags).await),
            Err(e) => {
                let action = format!("apply ConfigMap {}/{name}", jenkins.namespace);
                apply::report(diags, AttributePath::attr("name"), &action, &e);
                None
            }
        }
    }
}

#[async_trait]
impl Resource for AgentCloud {
    fn type_name(&self) -> &'static str {
        "jenkins_agent_cloud"
    }

    fn identity_schema(&self) -> Option<crate::framework::IdentitySchema> {
        Some(super::identities::agent_cloud())
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        let configured = self.context.get()?;
        super::identities::agent_cloud_of(state, Some(&configured.jenkins().namespace))
    }

    fn list_schema(&self) -> Option<Block> {
        Some(
            Block::new(
                "The clouds this provider wrote in the provider's Jenkins namespace (`jenkins.namespace`), each with the state an import builds.",
            )
            .attr(Attribute::bool("include_chart_clouds").optional().describe(
                "Also list the clouds the sidecar's other JCasC files define (the Helm chart's own `jenkins.clouds`), each named `... defined by ConfigMap <namespace>/<name>, not by this provider`. They cannot be imported: move such a cloud into a `jenkins_agent_cloud` by removing it from the chart's values and applying the resource. Leave this unset for `-generate-config-out`.",
            )),
        )
    }

    async fn list(&self, config: &Value, with_objects: bool, diags: &mut Diagnostics) -> Vec<Listed> {
        let Some((configured, client)) = self.context.controller_client(diags, "jenkins_agent_cloud").await else {
            return Vec::new();
        };
        let namespace = configured.jenkins().namespace.clone();
        let api = apply::api::<ConfigMap>(client.clone(), &namespace);
        let selector = crate::kube::ownership::selector(OWNER);
        let found = match api.list(&kube::api::ListParams::default().labels(&selector)).await {
            Ok(l) => l.items,
            Err(e) => {
                errors::report(diags, None, &format!("list ConfigMaps in {namespace}"), &e);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for cm in found {
            // A ConfigMap whose file is not a cloud this provider wrote is not listed (as import refuses it).
            let Some(live) = cm.data.as_ref().and_then(|d| d.values().next()).cloned() else { continue };
            let Some(state) = imported_state(&live, &mut Diagnostics::new()) else { continue };
            let Some(name) = string(&state, "name").filter(|n| is_own(&cm, n)) else { continue };
            let Some(identity) = super::identities::agent_cloud_of(&state, Some(&namespace)) else { continue };
            let display_name =
                format!("cloud {name} (ConfigMap {namespace}/{})", cm.metadata.name.clone().unwrap_or_default());
            out.push(Listed { identity, display_name, object: with_objects.then_some(state) });
        }
        if boolean(config, "include_chart_clouds") == Some(true) {
            out.extend(self.chart_clouds(&configured, client, &namespace).await);
        }
        out
    }

    async fn import_identity(&self, identity: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let (configured, _) = self.context.controller(diags, "jenkins_agent_cloud")?;
        let id = super::identities::import_id(
            super::identities::agent_cloud_import(identity, &configured.jenkins().namespace),
            diags,
        )?;
        self.import(&id, diags).await
    }

    fn schema(&self) -> Schema {
        schema()
    }

    /// Versions 0 and 1 held `templates` as a list of definition strings, and the file itself
    /// (`casc_yaml`, maybe with a failed apply's marker line), which becomes its hash with the
    /// note; their definitions (version 0's in the JCasC spelling, version 1's with the containers
    /// as a list) take today's spelling, as `jenkins_pod_template` emits it.
    fn upgrade_stored(&self, version: i64, stored: &mut serde_json::Value) {
        use serde_json::Value as J;
        if version >= 2 {
            return;
        }
        // Today the definitions are write-only (null in state): each element keeps its name.
        if let Some(J::Array(items)) = stored.get_mut("templates") {
            for t in items.iter_mut() {
                if let J::String(s) = t {
                    let name = jenkins::parse_definition(s).map(|d| d.name).unwrap_or_default();
                    *t = serde_json::json!({ "definition": null, "name": name });
                }
            }
        }
        if let Some(casc) = stored.get("casc_yaml").and_then(J::as_str) {
            let hash = jenkins_loop::hash_of_stored_file(casc);
            stored["casc_sha256"] = J::String(hash);
        }
    }

    fn validate(&self, schema: &Schema, config: &Value, diags: &mut Diagnostics) {
        check_when_known(&schema.block, config, &COMPUTED, diags, |object, local| {
            render_into(object, &mut object.clone(), local, None);
        });
    }

    async fn modify_plan(&self, ctx: PlanContext<'_>, change: &mut PlanChange, diags: &mut Diagnostics) {
        // The definitions are write-only: the plan has them null, the configuration holds them.
        let input = with_config_templates(&change.planned, ctx.config);
        if !inputs_known(&input) {
            preflight::warn_unknown(&input, diags);
            return;
        }
        plan_template_names(&input, &mut change.planned, diags);
        let lint = self.lint_context().await;
        let Some(rendered) = render_into(&input, &mut change.planned, diags, Some(&lint)) else { return };
        if diags.has_error() {
            return;
        }
        let checked = with_config_templates(&change.planned, ctx.config);
        // Checked whenever the file changes (create, update, or a failed apply's note).
        if string(&checked, "casc_sha256") != string(ctx.prior, "casc_sha256")
            && let Some(configured) = self.context.get()
        {
            jenkins_loop::plan_checks(&configured, &checked, &rendered.casc_yaml, diags).await;
        }
        preflight::check(&self.context, ctx.prior, &checked, &rendered.effective_pods, false, diags).await;
    }

    async fn plan_destroy(&self, prior: &Value, diags: &mut Diagnostics) {
        diags.warning(
            "Jenkins Keeps The Cloud Until Its Next Reload",
            format!(
                "Destroying deletes ConfigMap {:?}; the sidecar then removes the file and reloads JCasC. Jenkins drops cloud {:?} only while another file still defines `jenkins.clouds` (the Helm chart's default config does). Running agents of this cloud are not stopped.",
                string(prior, "configmap_name").unwrap_or_default(),
                string(prior, "name").unwrap_or_default()
            ),
        );
    }

    async fn import(&self, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        if let Err(e) = jenkins::cloud::check_cloud_name(id) {
            diags.error("Invalid Import Id", format!("Import a cloud by its name. {e}"));
            return None;
        }
        // Only the keys; read() finds the ConfigMap and fills every attribute from it.
        let mut state = schema().block.null_object();
        set(&mut state, "name", Value::string(id));
        set(&mut state, "configmap_name", Value::string(jenkins::cloud::configmap_name(id)));
        set(&mut state, "data_key", Value::string(format!("cloud-{id}.yaml")));
        Some(state)
    }

    async fn create(&self, planned: &Value, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        self.write(planned, config, "create", diags).await
    }

    async fn read(&self, state: &Value, diags: &mut Diagnostics) -> Option<Option<Value>> {
        let importing = state.get_attr("casc_sha256").is_none_or(Value::is_null);
        let Some(live) = self.live_file(state, diags).await? else {
            if importing {
                self.refuse_foreign_import(&string(state, "name").unwrap_or_default(), diags).await;
            }
            return Some(None);
        };
        if importing {
            return imported_state(&live, diags).map(Some);
        }
        // Drift in the file shows as a new casc_sha256, which the plan re-renders.
        let mut next = state.clone();
        let hash = jenkins_loop::refreshed_hash(string(state, "casc_sha256").as_deref(), &live);
        set(&mut next, "casc_sha256", Value::String(hash));
        Some(Some(next))
    }

    /// The state with the live file's template definitions, which state keeps null: generated
    /// configuration that renders the file the cloud has, so it imports and then plans no change.
    async fn generate_config(&self, state: &Value, diags: &mut Diagnostics) -> Option<Value> {
        // Between the import's read and this call the ConfigMap went away, or its file changed.
        let Some(live) = self.live_file(state, diags).await? else {
            diags.error("Cannot Import The Cloud", "Its ConfigMap is gone; run the import again.");
            return None;
        };
        let spec = jenkins::cloud_parse::parse_cloud(&live)
            .map_err(|e| {
                diags.error(
                    "Cannot Import The Cloud",
                    format!("Its ConfigMap does not hold a cloud this provider wrote: {e}."),
                )
            })
            .ok()?;
        // Each definition in the file's own (JCasC) spelling: Terraform writes a JSON string as
        // `jsonencode(...)` with its keys sorted, which would render a different file.
        let templates = spec.templates.iter().map(|casc| template_value(casc, str::to_owned));
        let mut config = state.clone();
        set(&mut config, "templates", Value::List(templates.collect()));
        Some(config)
    }

    async fn update(&self, _prior: &Value, planned: &Value, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        self.write(planned, config, "update", diags).await
    }

    async fn delete(&self, prior: &Value, diags: &mut Diagnostics) {
        let Some((configured, client)) = self.context.controller_client(diags, "jenkins_agent_cloud").await else {
            return;
        };
        let namespace = &configured.jenkins().namespace;
        let name = string(prior, "configmap_name").unwrap_or_default();
        let api = apply::api::<ConfigMap>(client.clone(), namespace);
        let mark = owner_mark(&string(prior, "name").unwrap_or_default());
        match apply::delete_owned_by(&api, &name, OWNER, Some(&mark)).await {
            Ok(()) => jenkins_loop::after_delete(&configured, client, prior, diags).await,
            Err(apply::ApplyError::Api(e)) => {
                errors::report(diags, None, &format!("delete ConfigMap {namespace}/{name}"), &e)
            }
            Err(e) => diags.error("ConfigMap Owned By Someone Else", e.to_string()),
        }
    }
}

#[cfg(test)]
mod owner_tests {
    use super::*;
    use crate::kube::ownership::{OWNER_ANNOTATION, labels};

    fn configmap(labels: BTreeMap<String, String>, mark: Option<&str>) -> ConfigMap {
        let mut cm = ConfigMap::default();
        cm.metadata.labels = Some(labels);
        cm.metadata.annotations = mark.map(|m| BTreeMap::from([(OWNER_ANNOTATION.to_string(), m.to_string())]));
        cm
    }

    /// Clouds of files that are not ours are the chart's: listed with where they are defined.
    #[test]
    fn the_clouds_of_other_files_are_found_with_their_origin() {
        let chart =
            "jenkins:\n  clouds:\n  - kubernetes:\n      name: kubernetes\n  - kubernetes:\n      name: extra\n";
        let mut theirs = configmap(BTreeMap::from([("jenkins-jenkins-config".to_string(), "true".to_string())]), None);
        theirs.metadata.namespace = Some("ci".into());
        theirs.metadata.name = Some("jenkins-jenkins-config".into());
        theirs.data = Some(BTreeMap::from([("jcasc-default-config.yaml".to_string(), chart.to_string())]));
        let mut ours = configmap(
            BTreeMap::from([
                (crate::kube::MANAGED_BY_LABEL.to_string(), crate::kube::MANAGED_BY.to_string()),
                (crate::kube::RESOURCE_LABEL.to_string(), OWNER.to_string()),
            ]),
            None,
        );
        ours.data = Some(BTreeMap::from([("cloud-qa.yaml".to_string(), chart.replace("kubernetes\n  -", "qa\n  -"))]));
        let found = foreign_clouds(&[theirs, ours]);
        let at = "ConfigMap ci/jenkins-jenkins-config (jcasc-default-config.yaml)".to_string();
        assert_eq!(found, [(at.clone(), "kubernetes".to_string()), (at, "extra".to_string())]);
    }

    /// The written ConfigMap names its cloud; its own mark and no mark are adopted, another's not.
    #[test]
    fn the_configmap_carries_and_honours_the_clouds_mark() {
        let mut state = schema().block.null_object();
        set(&mut state, "name", Value::string("alpha"));
        let written = desired_configmap(&state, String::new(), "jenkins", "jenkins-jenkins-config");
        assert_eq!(written.metadata.annotations.as_ref().unwrap()[OWNER_ANNOTATION], "agent-cloud/alpha");
        assert!(is_own(&written, "alpha"));
        assert!(is_own(&configmap(labels(OWNER), None), "alpha"), "a ConfigMap written before marks");
        assert!(!is_own(&configmap(labels(OWNER), Some("agent-cloud/beta")), "alpha"));
        assert!(!is_own(&configmap(labels("cross-account-chain"), Some("agent-cloud/alpha")), "alpha"));
    }
}

#[cfg(test)]
mod upgrade_tests {
    use super::*;
    use serde_json::json;

    fn upgraded(version: i64, mut stored: serde_json::Value) -> serde_json::Value {
        AgentCloud { context: Arc::default() }.upgrade_stored(version, &mut stored);
        stored
    }

    /// Versions 0 and 1 kept the templates' definitions (version 0's in the JCasC spelling); today
    /// they are write-only, so each element keeps its name only.
    #[test]
    fn stored_templates_keep_their_names_and_drop_the_write_only_definitions() {
        // As version 0 wrote it (the emitter's layout).
        let casc = "name: base\nid: x\nyaml: |\n  apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n      - name: maven\n        image: maven:3.9\n";
        let state = upgraded(0, json!({ "name": "eks", "templates": [casc] }));
        assert_eq!(state["templates"], json!([{ "definition": null, "name": "base" }]));
        let definition = jenkins::definition::json_spelling(casc);
        let v1 = upgraded(1, json!({ "templates": [definition] }));
        assert_eq!(v1["templates"], json!([{ "definition": null, "name": "base" }]));
        let today = json!({ "templates": [{ "definition": null, "name": "base" }] });
        assert_eq!(upgraded(2, today.clone()), today, "today's state passes through");
    }

    /// Versions 0 and 1 kept the file; version 2 keeps its hash, with the note of a failed apply
    /// when the stored file ended with its marker line.
    #[test]
    fn the_stored_file_becomes_its_hash_and_a_failed_applys_marker_its_note() {
        let file = "jenkins:\n  clouds:\n  - kubernetes:\n      name: eks\n";
        let plain = upgraded(1, json!({ "casc_yaml": file }));
        assert_eq!(plain["casc_sha256"].as_str(), Some(jenkins_loop::file_hash(file).as_str()));
        let marked = format!(
            "{file}# terraform-provider-jenkins: Jenkins did not load this file at the last apply; the next apply writes it again.\n"
        );
        let failed = upgraded(1, json!({ "casc_yaml": marked }));
        let note = jenkins_loop::mark_unloaded(&jenkins_loop::file_hash(file));
        assert_eq!(failed["casc_sha256"].as_str(), Some(note.as_str()));
    }
}
