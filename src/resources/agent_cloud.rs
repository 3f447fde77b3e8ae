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
    Attribute, Block, Diagnostics, NestedBlock, PlanChange, PlanContext, Resource, Schema, Validator,
};
use crate::jenkins::{self, LintContext, cloud::AgentConnection, cloud::CloudSpec, cloud::GarbageCollection};
use crate::kube::{apply, errors};
use crate::provider::ProviderContext;
use async_trait::async_trait;
use k8s_openapi::api::core::v1::ConfigMap;
use std::collections::BTreeMap;
use std::sync::Arc;

mod jenkins_loop;

/// The ownership label value of objects this resource writes.
const OWNER: &str = "agent-cloud";

/// The resource type; holds the provider context for its cluster connection.
pub struct AgentCloud {
    pub context: Arc<ProviderContext>,
}

/// Attributes computed from the others; everything else is configuration.
const COMPUTED: [&str; 5] = ["casc_yaml", "configmap_name", "data_key", "template_ids", "effective_pods"];

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
        "A Kubernetes-plugin cloud with its pod templates, delivered as a ConfigMap the Helm chart's config-reload sidecar loads into Jenkins without a restart. `effective_pods` shows, at plan, the pod the plugin will create for each template.\n\nAt plan each effective pod is dry-run (`dryRun=All`) in its agent namespace as the identity the plugin will use (the controller's service account, impersonated, for a local cloud; the `credentials_id` token for a remote one), and the ConfigMaps, Secrets, PVCs and image pull secrets it names, and the IRSA trust of its service account, are checked. A pod that would be refused or never start is an error on its `templates` element; what cannot be checked yet is a warning, and is checked when the apply plans the cloud again, before the ConfigMap is written. So is an object another resource of this plan creates (the profile chain's ConfigMap, an IRSA role's service account, a remote access's namespace, service account and credential) when the cloud depends on that resource, by reference or `depends_on`: one apply creates the whole stack.",
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
    .attr(Attribute::string_list("templates").optional().describe("Pod templates: `jenkins_pod_template.<x>.definition` values. Preflight findings are reported on the element of the template that causes them."))
    .attr(Attribute::string("casc_yaml").computed().describe("The JCasC file this cloud becomes, as the sidecar writes it. After an apply Jenkins did not load, it ends with a marker line, so the next plan writes the file again."))
    .attr(Attribute::string("configmap_name").computed().describe("The ConfigMap holding `casc_yaml`."))
    .attr(Attribute::string("data_key").computed().describe("The ConfigMap key (the file name in the sidecar's folder)."))
    .attr(Attribute::string_map("template_ids").computed().describe("Template name → id."))
    .attr(Attribute::string_map("effective_pods").computed().describe("Template name → the pod the plugin will create for it, after inheritance and YAML merge; runtime values show as `(runtime)`."))
    .block(NestedBlock::single("garbage_collection", gc_block()))
    .block(NestedBlock::single("timeouts", jenkins_loop::timeouts_block()));
    // Version 1: `templates` hold `jenkins_pod_template` definitions in their JSON spelling.
    Schema::new(block).versioned(1)
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
        templates: strings(v, "templates"),
    }
}

/// Renders the cloud into the computed attributes of `target`; findings become diagnostics.
fn render_into(object: &Value, target: &mut Value, diags: &mut Diagnostics, lint: Option<&LintContext>) -> bool {
    let warnings = lint.is_some();
    let connection = string(object, "agent_connection").unwrap_or_else(|| "tcp".into());
    if connection != "tcp" && string(object, "jenkins_tunnel").is_some() {
        diags.error_at(
            AttributePath::attr("jenkins_tunnel"),
            "Tunnel Without TCP",
            format!("`jenkins_tunnel` applies to `agent_connection = \"tcp\"` only (this cloud uses {connection:?}); the plugin rejects it with WebSocket. Remove `jenkins_tunnel` or use tcp."),
        );
        return false;
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
    let Some(r) = rendered else { return false };
    set(target, "casc_yaml", Value::String(r.casc_yaml));
    set(target, "configmap_name", Value::String(r.configmap_name));
    set(target, "data_key", Value::String(r.data_key));
    set(target, "template_ids", string_map_value(r.template_ids));
    set(target, "effective_pods", string_map_value(r.effective_pods));
    true
}

/// The computed attributes a plan shows, rendered into `target` without preflight or lint (the
/// provider functions' view); false when a diagnostic says why not.
pub(crate) fn render_computed(object: &Value, target: &mut Value, diags: &mut Diagnostics) -> bool {
    render_into(object, target, diags, None)
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

/// The ConfigMap this cloud becomes, with the sidecar's label (key `label`), ours, and the
/// cloud's owner mark, so a create killed after this write adopts it when it runs again.
fn desired_configmap(state: &Value, namespace: &str, label: &str) -> ConfigMap {
    let mut labels = crate::kube::ownership::labels(OWNER);
    labels.insert(label.to_string(), crate::kube::controller::OUR_LABEL_VALUE.into());
    let name = string(state, "configmap_name").unwrap_or_default();
    let key = string(state, "data_key").unwrap_or_default();
    let content = string(state, "casc_yaml").unwrap_or_default();
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
    // Keep what is live, so a hand edit after the last apply still shows at the next plan.
    set(&mut state, "casc_yaml", Value::string(live));
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
        Value::List(c.templates.iter().map(|t| Value::String(jenkins::definition::json_spelling(t))).collect())
    });
    set(&mut v, "templates", templates.unwrap_or(Value::Null));
    v
}

impl AgentCloud {
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

    async fn write(&self, planned: &Value, op: &str, diags: &mut Diagnostics) -> Option<Value> {
        let (configured, connector) = self.context.controller(diags, "jenkins_agent_cloud")?;
        let mut state = planned.clone();
        if !render_into(planned, &mut state, diags, None) {
            return None;
        }
        // A plan lenient about missing objects (`missing_objects_at_plan = "warning"`) only warned:
        // the real check, before anything is written.
        if configured.settings.missing_objects_warn_at_plan {
            preflight::check(&self.context, &Value::Null, &state, true, diags).await;
            if diags.has_error() {
                return None;
            }
        }
        let jenkins = configured.jenkins();
        let client = match connector.client().await {
            Ok(c) => c,
            Err(e) => {
                diags.error("Cannot Reach The Controller Cluster", format!("{e}."));
                return None;
            }
        };
        let watch = jenkins_loop::watch(&configured, client.clone()).await;
        let cm = desired_configmap(&state, &jenkins.namespace, &watch.label);
        let name = string(&state, "configmap_name").unwrap_or_default();
        let api = apply::api::<ConfigMap>(client, &jenkins.namespace);
        let before = jenkins_loop::before_write(&configured, &string(&state, "name").unwrap_or_default()).await;
        match apply::apply_owned(&api, &name, OWNER, &cm).await {
            Ok(_) => Some(jenkins_loop::after_write(&configured, state, before, op, diags).await),
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

    fn schema(&self) -> Schema {
        schema()
    }

    /// Version 0 held the templates' JCasC (YAML) spelling, as `jenkins_pod_template` then
    /// emitted it; today's configurations pass the JSON spelling, so the state follows.
    fn upgrade_state(&self, version: i64, mut state: Value) -> Value {
        if version < 1
            && let Some(Value::List(items)) = state.get_attr("templates").cloned()
        {
            let json = items
                .into_iter()
                .map(|t| match t {
                    Value::String(s) => Value::String(jenkins::definition::json_spelling(&s)),
                    other => other,
                })
                .collect();
            set(&mut state, "templates", Value::List(json));
        }
        state
    }

    fn validate(&self, schema: &Schema, config: &Value, diags: &mut Diagnostics) {
        check_when_known(&schema.block, config, &COMPUTED, diags, |object, local| {
            render_into(object, &mut object.clone(), local, None);
        });
    }

    async fn modify_plan(&self, ctx: PlanContext<'_>, change: &mut PlanChange, diags: &mut Diagnostics) {
        if !inputs_known(&change.planned) {
            preflight::warn_unknown(&change.planned, diags);
            return;
        }
        let input = change.planned.clone();
        let lint = self.lint_context().await;
        if !render_into(&input, &mut change.planned, diags, Some(&lint)) {
            return;
        }
        // Checked whenever the file changes (create, update, or a failed apply's marker).
        if string(&change.planned, "casc_yaml") != string(ctx.prior, "casc_yaml")
            && let Some(configured) = self.context.get()
        {
            jenkins_loop::plan_checks(&configured, &change.planned, diags).await;
        }
        preflight::check(&self.context, ctx.prior, &change.planned, false, diags).await;
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

    async fn create(&self, planned: &Value, _config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        self.write(planned, "create", diags).await
    }

    async fn read(&self, state: &Value, diags: &mut Diagnostics) -> Option<Option<Value>> {
        let (configured, connector) = self.context.controller(diags, "jenkins_agent_cloud")?;
        let client = match connector.client().await {
            Ok(c) => c,
            Err(e) => {
                diags.error("Cannot Reach The Controller Cluster", format!("{e}."));
                return None;
            }
        };
        let namespace = &configured.jenkins().namespace;
        let name = string(state, "configmap_name").unwrap_or_default();
        let key = string(state, "data_key").unwrap_or_default();
        let api = apply::api::<ConfigMap>(client, namespace);
        match apply::get(&api, &name).await {
            Ok(None) => Some(None),
            Ok(Some(cm)) if !is_own(&cm, &string(state, "name").unwrap_or_default()) => Some(None),
            Ok(Some(cm)) => {
                let live = cm.data.as_ref().and_then(|d| d.get(&key)).cloned().unwrap_or_default();
                if state.get_attr("casc_yaml").is_none_or(Value::is_null) {
                    return imported_state(&live, diags).map(Some);
                }
                // Drift in the file shows as a diff of casc_yaml, which the plan re-renders.
                let mut next = state.clone();
                let casc = jenkins_loop::refreshed_casc(string(state, "casc_yaml").as_deref(), &live);
                set(&mut next, "casc_yaml", Value::String(casc));
                Some(Some(next))
            }
            Err(e) => {
                errors::report(diags, None, &format!("read ConfigMap {namespace}/{name}"), &e);
                None
            }
        }
    }

    async fn update(&self, _prior: &Value, planned: &Value, _config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        self.write(planned, "update", diags).await
    }

    async fn delete(&self, prior: &Value, diags: &mut Diagnostics) {
        let Some((configured, connector)) = self.context.controller(diags, "jenkins_agent_cloud") else { return };
        let client = match connector.client().await {
            Ok(c) => c,
            Err(e) => {
                diags.error("Cannot Reach The Controller Cluster", format!("{e}."));
                return;
            }
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

    /// The written ConfigMap names its cloud; its own mark and no mark are adopted, another's not.
    #[test]
    fn the_configmap_carries_and_honours_the_clouds_mark() {
        let mut state = schema().block.null_object();
        set(&mut state, "name", Value::string("alpha"));
        let written = desired_configmap(&state, "jenkins", "jenkins-jenkins-config");
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

    /// A version-0 state's templates (the JCasC spelling) become the JSON spelling today's
    /// `jenkins_pod_template` emits, and render the same file.
    #[test]
    fn version_0_templates_take_the_json_spelling_and_the_file_stays() {
        // As version 0 wrote it (the emitter's layout).
        let casc = "name: base\nid: x\nyaml: |\n  apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n      - name: maven\n        image: maven:3.9\n";
        let mut state = schema().block.null_object();
        set(&mut state, "name", Value::string("eks"));
        set(&mut state, "templates", Value::List(vec![Value::string(casc)]));
        let cloud = AgentCloud { context: Arc::default() };
        let upgraded = cloud.upgrade_state(0, state.clone());
        let json = strings(&upgraded, "templates").pop().expect("one template");
        let doc: serde_json::Value = serde_json::from_str(&json).expect("JSON spelling");
        assert_eq!(doc["yaml"]["spec"]["containers"][0]["image"], "maven:3.9");
        assert_eq!(jenkins::definition::to_casc(&json), jenkins::definition::to_casc(casc), "the same file text");
        assert_eq!(cloud.upgrade_state(1, upgraded.clone()), upgraded, "today's state passes through");
    }
}
