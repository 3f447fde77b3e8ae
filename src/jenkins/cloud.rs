//! A Kubernetes-plugin cloud: its settings, the cross-template checks, each template's effective
//! pod, and the JCasC file holding only `jenkins.clouds[0].kubernetes` with its templates inline
//! (reference §1, §3, §9). A template cannot live in another file than its cloud.
//!
//! Must not: emit scalars outside the cloud (they collide with the chart's file and fail the whole
//! load), emit deprecated attributes (`capOnlyOnAlivePods`), or do I/O.

use super::builder::{PodContext, effective_pod};
use super::escape::{escape_casc, map_strings};
use super::inherit::{TemplateDef, parse_definition, unwrap_template, validate_templates};
use super::lint::{LintContext, controller_account_warning, service_account_of};
use super::yaml::to_yaml;
use super::{Finding, Findings, pod_retention_symbol, template_id};
use crate::cty::AttributePath;
use serde_yaml_ng::{Mapping, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The sidecar subdirectory our files go to (`k8s-sidecar-target-directory`); no leading dot,
/// since JCasC skips dot-directories.
pub const SIDECAR_SUBDIR: &str = "terraform";

/// The Helm chart's own cloud name, never ours.
pub const RESERVED_CLOUD_NAMES: &[&str] = &["kubernetes"];

/// How agents connect back to the controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentConnection {
    /// The inbound TCP port, optionally through `jenkinsTunnel`.
    Tcp {
        /// `host:port`, `host:` or `:port`.
        tunnel: Option<String>,
    },
    /// WebSocket over the controller's HTTP port.
    WebSocket,
    /// Direct connection, no `JENKINS_URL`.
    Direct,
}

/// Deleting agent pods the controller no longer knows (plugin 4214+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GarbageCollection {
    /// Namespaces to collect in.
    pub namespaces: Vec<String>,
    /// Seconds, at least 120.
    pub timeout_seconds: i64,
}

/// A cloud as the `jenkins_agent_cloud` resource describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudSpec {
    pub name: String,
    pub server_url: Option<String>,
    pub server_ca_certificate: Option<String>,
    pub skip_tls_verify: bool,
    pub namespace: Option<String>,
    pub credentials_id: Option<String>,
    pub jenkins_url: Option<String>,
    pub connection: AgentConnection,
    pub container_cap: Option<i64>,
    pub max_requests_per_host: i64,
    pub connect_timeout_seconds: i64,
    pub read_timeout_seconds: i64,
    pub retention_timeout_minutes: i64,
    pub wait_for_pod_seconds: i64,
    /// Terraform spelling: `never`, `on_failure`, `always`, `evicted`.
    pub pod_retention: String,
    /// `None` = `{"jenkins/cloud": name}`.
    pub pod_labels: Option<BTreeMap<String, String>>,
    pub usage_restricted: bool,
    pub use_jenkins_proxy: bool,
    pub add_controller_proxy_env_vars: bool,
    pub restricted_pss_security_context: bool,
    /// Registry prefix of the agent image (`jnlpregistry`), for clusters that cannot pull from Docker Hub.
    pub jnlp_registry: Option<String>,
    pub defaults_provider_template: Option<String>,
    pub garbage_collection: Option<GarbageCollection>,
    /// `jenkins_pod_template` definitions.
    pub templates: Vec<String>,
}

/// The plugin's defaults (and clamps' floors) for cloud settings: omitted from the JCasC file when
/// unchanged, restored when a file is read back, and the schema's defaults.
pub const DEFAULT_MAX_REQUESTS_PER_HOST: i64 = 32;
pub const DEFAULT_CONNECT_TIMEOUT_SECONDS: i64 = 5;
pub const DEFAULT_READ_TIMEOUT_SECONDS: i64 = 15;
pub const DEFAULT_RETENTION_TIMEOUT_MINUTES: i64 = 5;
pub const DEFAULT_WAIT_FOR_POD_SECONDS: i64 = 600;
pub const DEFAULT_GC_TIMEOUT_SECONDS: i64 = 300;

impl CloudSpec {
    /// A cloud named `name` with every setting at the plugin's default and no templates.
    pub fn new(name: impl Into<String>) -> Self {
        CloudSpec {
            name: name.into(),
            server_url: None,
            server_ca_certificate: None,
            skip_tls_verify: false,
            namespace: None,
            credentials_id: None,
            jenkins_url: None,
            connection: AgentConnection::Tcp { tunnel: None },
            container_cap: None,
            max_requests_per_host: DEFAULT_MAX_REQUESTS_PER_HOST,
            connect_timeout_seconds: DEFAULT_CONNECT_TIMEOUT_SECONDS,
            read_timeout_seconds: DEFAULT_READ_TIMEOUT_SECONDS,
            retention_timeout_minutes: DEFAULT_RETENTION_TIMEOUT_MINUTES,
            wait_for_pod_seconds: DEFAULT_WAIT_FOR_POD_SECONDS,
            pod_retention: "never".into(),
            pod_labels: None,
            usage_restricted: false,
            use_jenkins_proxy: false,
            add_controller_proxy_env_vars: false,
            restricted_pss_security_context: false,
            jnlp_registry: None,
            defaults_provider_template: None,
            garbage_collection: None,
            templates: Vec::new(),
        }
    }
}

/// The computed attributes of a cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedCloud {
    /// The JCasC file content.
    pub casc_yaml: String,
    /// `tf-jcasc-cloud-<name>` (hashed when the name is not DNS-safe).
    pub configmap_name: String,
    /// `cloud-<name>.yaml`: the file name in the sidecar folder.
    pub data_key: String,
    /// Template name → id.
    pub template_ids: BTreeMap<String, String>,
    /// Template name → effective pod YAML.
    pub effective_pods: BTreeMap<String, String>,
}

/// A cloud name: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`, not the chart's `kubernetes`.
pub fn check_cloud_name(s: &str) -> Result<(), String> {
    let ok = s.len() <= 63
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !ok {
        return Err(format!(
            "Cloud name {s:?} must be 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit."
        ));
    }
    if RESERVED_CLOUD_NAMES.contains(&s) {
        return Err(format!(
            "Cloud name {s:?} is the Helm chart's own cloud; a second cloud of that name breaks the JCasC load. Choose another name."
        ));
    }
    Ok(())
}

fn sha_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The ConfigMap name for a cloud.
pub fn configmap_name(cloud: &str) -> String {
    let dns = cloud.len() <= 47
        && cloud.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !cloud.ends_with('-');
    if dns { format!("tf-jcasc-cloud-{cloud}") } else { format!("tf-jcasc-cloud-{}", &sha_hex(cloud)[..16]) }
}

fn path(a: &str) -> AttributePath {
    AttributePath::attr(a)
}

fn check_settings(c: &CloudSpec, f: &mut Findings) {
    if let Err(d) = check_cloud_name(&c.name) {
        f.error(path("name"), "Invalid Cloud Name", d);
    }
    if let Some(u) = &c.server_url
        && !u.starts_with("https://")
    {
        f.error(
            path("server_url"),
            "Insecure Server URL",
            format!("server_url is {u:?}; the API server must be reached over https://."),
        );
    }
    let remote = c.server_url.is_some() || c.credentials_id.is_some();
    if remote && c.namespace.is_none() {
        f.error(path("namespace"), "Namespace Required", "With server_url or credentials_id set the plugin falls back to the `default` namespace; set namespace explicitly.");
    }
    if c.server_url.is_some() && c.jenkins_url.is_none() {
        f.error(path("jenkins_url"), "Jenkins URL Required", "Agents in a remote cluster cannot use the in-cluster service name; set jenkins_url to an address they can reach.");
    }
    if c.server_url.is_some() {
        match &c.connection {
            AgentConnection::Tcp { tunnel: None } => f.warning(
                path("agent_connection"),
                "TCP Agents In A Remote Cluster",
                "Agents in another cluster must reach the controller's inbound TCP port (50000) at the host of jenkins_url. Use agent_connection = \"websocket\" (the recommended way out of the controller's cluster), or set a jenkins_tunnel the remote cluster can reach.",
            ),
            AgentConnection::Tcp { tunnel: Some(t) } if t.contains(".svc") => f.warning(
                path("jenkins_tunnel"),
                "Tunnel Not Reachable From The Remote Cluster",
                format!("jenkins_tunnel {t:?} is a service name of the controller's cluster, which agents in another cluster cannot resolve. Expose the inbound port (e.g. a load balancer) and use its address, or use agent_connection = \"websocket\"."),
            ),
            _ => {}
        }
    }
    if let AgentConnection::Tcp { tunnel: Some(t) } = &c.connection {
        let ok = t.split_once(':').is_some_and(|(h, p)| {
            !(h.contains(['/', ' ']) || h.is_empty() && p.is_empty())
                && (p.is_empty() || p.parse::<u16>().is_ok_and(|n| n > 0))
        });
        if !ok {
            f.error(
                path("jenkins_tunnel"),
                "Invalid Jenkins Tunnel",
                format!("jenkins_tunnel is {t:?}; write `host:port`, `host:` or `:port`."),
            );
        }
    }
    for (attr, v, min) in [
        ("connect_timeout_seconds", c.connect_timeout_seconds, 5),
        ("read_timeout_seconds", c.read_timeout_seconds, 15),
        ("retention_timeout_minutes", c.retention_timeout_minutes, 5),
        ("max_requests_per_host", c.max_requests_per_host, 1),
        ("wait_for_pod_seconds", c.wait_for_pod_seconds, 0),
    ] {
        if v < min {
            f.error(path(attr), "Value Below Minimum", format!("{attr} is {v}; the plugin silently raises it to {min}, which would show as a diff forever. Use at least {min}."));
        }
    }
    if !matches!(c.pod_retention.as_str(), "never" | "on_failure" | "always" | "evicted") {
        f.error(
            path("pod_retention"),
            "Unknown Pod Retention",
            format!("pod_retention is {:?}; use never, on_failure, always or evicted.", c.pod_retention),
        );
    }
    if let Some(gc) = &c.garbage_collection
        && gc.timeout_seconds < 120
    {
        f.error(
            path("garbage_collection").then_attr("timeout_seconds"),
            "Value Below Minimum",
            "garbage_collection.timeout_seconds must be at least 120.",
        );
    }
}

fn pod_labels(c: &CloudSpec) -> BTreeMap<String, String> {
    c.pod_labels.clone().unwrap_or_else(|| BTreeMap::from([("jenkins/cloud".to_owned(), c.name.clone())]))
}

/// The `kubernetes:` object, templates inline (still `^${`-escaped as their definitions are).
fn cloud_object(c: &CloudSpec, templates: Vec<Value>) -> Mapping {
    let mut m = Mapping::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    let text = |s: &str| Value::String(escape_casc(s));
    put("name", text(&c.name));
    if let Some(u) = &c.server_url {
        put("serverUrl", text(u));
    }
    if let Some(ca) = &c.server_ca_certificate {
        put("serverCertificate", text(ca));
    }
    if c.skip_tls_verify {
        put("skipTlsVerify", true.into());
    }
    if let Some(ns) = &c.namespace {
        put("namespace", text(ns));
    }
    if let Some(id) = &c.credentials_id {
        put("credentialsId", text(id));
    }
    if let Some(u) = &c.jenkins_url {
        put("jenkinsUrl", text(u));
    }
    match &c.connection {
        AgentConnection::Tcp { tunnel: Some(t) } => put("jenkinsTunnel", text(t)),
        AgentConnection::Tcp { tunnel: None } => {}
        AgentConnection::WebSocket => put("webSocket", true.into()),
        AgentConnection::Direct => put("directConnection", true.into()),
    }
    if let Some(cap) = c.container_cap {
        put("containerCap", cap.into());
    }
    for (k, v, default) in [
        ("maxRequestsPerHost", c.max_requests_per_host, DEFAULT_MAX_REQUESTS_PER_HOST),
        ("connectTimeout", c.connect_timeout_seconds, DEFAULT_CONNECT_TIMEOUT_SECONDS),
        ("readTimeout", c.read_timeout_seconds, DEFAULT_READ_TIMEOUT_SECONDS),
        ("retentionTimeout", c.retention_timeout_minutes, DEFAULT_RETENTION_TIMEOUT_MINUTES),
        ("waitForPodSec", c.wait_for_pod_seconds, DEFAULT_WAIT_FOR_POD_SECONDS),
    ] {
        if v != default {
            put(k, v.into());
        }
    }
    match pod_retention_symbol(&c.pod_retention) {
        Some("never") | None => {}
        Some(sym) => put("podRetention", sym.into()),
    }
    let labels: Vec<Value> = pod_labels(c)
        .iter()
        .map(|(k, v)| {
            let mut e = Mapping::new();
            e.insert("key".into(), text(k));
            e.insert("value".into(), text(v));
            Value::Mapping(e)
        })
        .collect();
    put("podLabels", Value::Sequence(labels));
    for (k, on) in [
        ("usageRestricted", c.usage_restricted),
        ("useJenkinsProxy", c.use_jenkins_proxy),
        ("addMasterProxyEnvVars", c.add_controller_proxy_env_vars),
        ("restrictedPssSecurityContext", c.restricted_pss_security_context),
    ] {
        if on {
            put(k, true.into());
        }
    }
    if let Some(r) = &c.jnlp_registry {
        put("jnlpregistry", text(r));
    }
    if let Some(d) = &c.defaults_provider_template {
        put("defaultsProviderTemplate", text(d));
    }
    if let Some(gc) = &c.garbage_collection {
        let mut g = Mapping::new();
        g.insert("namespaces".into(), text(&gc.namespaces.join("\n")));
        g.insert("timeout".into(), gc.timeout_seconds.into());
        put("garbageCollection", Value::Mapping(g));
    }
    if !templates.is_empty() {
        put("templates", Value::Sequence(templates));
    }
    m
}

/// Renders a cloud: its JCasC file, ConfigMap name and key, template ids and effective pods.
/// `None` exactly when there is an error finding. Lint assumes the chart's default controller
/// service account; [`render_cloud_with`] takes another.
pub fn render_cloud(c: &CloudSpec) -> (Option<RenderedCloud>, Vec<Finding>) {
    render_cloud_with(c, &LintContext::default())
}

/// [`render_cloud`] with lint told who the controller runs as: effective pods (inheritance
/// included) running as the controller's service account are warned about at their template.
pub fn render_cloud_with(c: &CloudSpec, lint: &LintContext) -> (Option<RenderedCloud>, Vec<Finding>) {
    let mut f = Findings::default();
    check_settings(c, &mut f);
    let at = |i: usize| AttributePath::attr("templates").then_index(i as i64);
    let mut defs: Vec<Option<TemplateDef>> = Vec::new();
    let mut inline: Vec<Value> = Vec::new();
    for (i, text) in c.templates.iter().enumerate() {
        match parse_definition(text) {
            Ok(d) => {
                defs.push(Some(d));
                inline.push(serde_yaml_ng::from_str(&super::definition::to_casc(text)).unwrap_or(Value::Null));
            }
            Err(e) => {
                f.error(at(i), "Invalid Template Definition", e);
                defs.push(None);
            }
        }
    }
    validate_templates(&defs, c.defaults_provider_template.as_deref(), &at, &mut f);
    if f.has_error() {
        return (None, f.0);
    }
    let all: Vec<TemplateDef> = defs.into_iter().flatten().collect();
    let ctx = PodContext {
        namespace: c.namespace.clone(),
        pod_labels: pod_labels(c),
        jnlp_registry: c.jnlp_registry.clone(),
        jenkins_url: c.jenkins_url.clone(),
        jenkins_tunnel: match &c.connection {
            AgentConnection::Tcp { tunnel } => tunnel.clone(),
            _ => None,
        },
        web_socket: c.connection == AgentConnection::WebSocket,
        direct_connection: c.connection == AgentConnection::Direct,
        restricted_pss: c.restricted_pss_security_context,
    };
    let mut template_ids = BTreeMap::new();
    let mut effective_pods = BTreeMap::new();
    for (i, t) in all.iter().enumerate() {
        template_ids.insert(t.name.clone(), template_id(&t.name, t.id.as_deref()));
        let unwrapped = unwrap_template(t, &all, c.defaults_provider_template.as_deref());
        match effective_pod(&unwrapped, &ctx) {
            Ok(p) => {
                let pod: Mapping = serde_yaml_ng::from_str(&p).unwrap_or_default();
                if let Some(sa) = service_account_of(&pod).filter(|sa| *sa == lint.controller_service_account) {
                    controller_account_warning(at(i), sa, &mut f);
                }
                effective_pods.insert(t.name.clone(), p);
            }
            Err(e) => f.error(at(i), "Invalid Template Definition", e),
        }
    }
    if f.has_error() {
        return (None, f.0);
    }
    let mut cloud = Mapping::new();
    cloud.insert("kubernetes".into(), Value::Mapping(cloud_object(c, inline)));
    let mut jenkins = Mapping::new();
    jenkins.insert("clouds".into(), Value::Sequence(vec![Value::Mapping(cloud)]));
    let mut doc = Mapping::new();
    doc.insert("jenkins".into(), Value::Mapping(jenkins));
    // Strings are already escaped (settings above, templates in their definitions).
    let body = to_yaml(&map_strings(&Value::Mapping(doc), &|s| s.to_owned()));
    let casc_yaml = format!(
        "# Managed by Terraform (jenkins_agent_cloud {:?}); edits are overwritten.\n# revision: {}\n{body}",
        c.name,
        &sha_hex(&body)[..16]
    );
    let rendered = RenderedCloud {
        casc_yaml,
        configmap_name: configmap_name(&c.name),
        data_key: format!("cloud-{}.yaml", c.name),
        template_ids,
        effective_pods,
    };
    (Some(rendered), f.0)
}
