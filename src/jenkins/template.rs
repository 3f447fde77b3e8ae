//! The pod-template model and its rendering: the normalised Pod and the JCasC template object.
//!
//! Owns the decisions of how Terraform blocks become plugin configuration:
//! - `tool_container` and `volume` blocks are rendered **into the pod YAML**, not into the
//!   plugin's `containers`/`volumes` lists: plugin fields beat YAML and plugin volumes are never
//!   mounted into YAML containers (reference §2), so one YAML is the only faithful single source.
//! - A tool container named like a `pod_yaml` container is an error, not a merge: two sources for
//!   one container would hide which one wins.
//! - A volume listing the agent container (`jnlp`) when the YAML does not define it, or mounted
//!   into every container, gets a stub `{name: jnlp, volumeMounts: …}`; the plugin fills in the
//!   image and the rest. So "every container" means what the plugin's own template volumes mean:
//!   the tool containers and the agent.
//! - The definition only carries keys that differ from the plugin's defaults (fewer attributes
//!   to gate on the plugin version), except `nodeUsageMode`, always explicit because its default
//!   is widely misremembered; `yaml` is left out when the pod is empty, because under `override` an
//!   empty child YAML would still replace the parent's.
//!
//! Must not: do I/O, resolve inheritance (that needs the cloud), or produce random ids.

use super::escape::{escape_casc, map_strings};
use super::lint::LintContext;
use super::pod::{self, canonical_pod, entries, list_mut, name_of, parse_pod, spec_mut};
use super::yaml::to_yaml;
use super::{
    Finding, Findings, NODE_USAGE_MODES, YAML_MERGE_STRATEGIES, check_container_name, check_label, check_template_name,
    check_volume_name, lint, pod_retention_symbol,
};
use crate::cty::AttributePath;
use serde_yaml_ng::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Namespace of our template ids: `id = uuidv5(TEMPLATE_ID_NAMESPACE, name)`. Never change it:
/// every derived id, and so every running agent, would be orphaned at the next reload.
pub const TEMPLATE_ID_NAMESPACE: Uuid = Uuid::from_u128(0xf1397f9a_2674_455e_9f9a_a7261f6d5c68);

/// The default agent container name.
pub(crate) const DEFAULT_AGENT_CONTAINER: &str = "jnlp";

/// A pod template as the `jenkins_pod_template` resource describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodTemplateSpec {
    /// Template name: inheritance key and pod-name prefix.
    pub name: String,
    /// Explicit id; `None` derives one from `name`.
    pub id: Option<String>,
    /// Label atoms, space-joined into `label`.
    pub labels: Vec<String>,
    /// Parent template names, in order.
    pub inherit_from: Vec<String>,
    /// Raw pod YAML the template starts from.
    pub pod_yaml: Option<String>,
    /// Containers rendered into the pod.
    pub tool_containers: Vec<ToolContainer>,
    /// Volumes rendered into the pod and mounted into containers.
    pub volumes: Vec<VolumeSpec>,
    /// `override` or `merge`; empty leaves it unset so a parent's inherited strategy applies.
    pub yaml_merge_strategy: String,
    /// Children without a strategy use this template's.
    pub inherit_yaml_merge_strategy: bool,
    /// Minutes an idle agent is kept; 0 = single use.
    pub idle_minutes: i64,
    /// Most concurrent agents; `None` = unlimited.
    pub instance_cap: Option<i64>,
    /// Pod deadline in seconds; 0 = none.
    pub active_deadline_seconds: i64,
    /// `NORMAL` or `EXCLUSIVE`.
    pub node_usage_mode: String,
    /// Terraform spelling, see [`super::POD_RETENTIONS`].
    pub pod_retention: String,
    /// Print the pod YAML in build logs.
    pub show_raw_yaml: bool,
    /// The container running the agent.
    pub agent_container: String,
    /// Agent namespace; `None` = the cloud's.
    pub namespace: Option<String>,
    /// Agent service account (`serviceAccount` field, which beats the YAML's).
    pub service_account: Option<String>,
}

/// A build-tool container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolContainer {
    /// Container name (DNS label).
    pub name: String,
    /// Image.
    pub image: String,
    /// Entrypoint; empty keeps the image's.
    pub command: Vec<String>,
    /// Arguments.
    pub args: Vec<String>,
    /// Allocate a TTY.
    pub tty: bool,
    /// Working directory; `None` inherits the agent's.
    pub working_dir: Option<String>,
    /// Environment variables.
    pub env: BTreeMap<String, String>,
    /// Resource requests.
    pub requests: BTreeMap<String, String>,
    /// Resource limits.
    pub limits: BTreeMap<String, String>,
}

/// Where a volume's data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSource {
    /// A node path.
    HostPath(String),
    /// A ConfigMap by name.
    ConfigMap(String),
    /// A Secret by name.
    Secret(String),
    /// Scratch space living as long as the pod.
    EmptyDir,
}

/// A volume and where to mount it.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeSpec {
    /// Pod volume name.
    pub name: String,
    /// The source.
    pub source: VolumeSource,
    /// Mount path in each container.
    pub mount_path: String,
    /// Mount read-only.
    pub read_only: bool,
    /// Mount only this sub-path.
    pub sub_path: Option<String>,
    /// Target containers; `None` or `["*"]` = every container of the pod.
    pub containers: Option<Vec<String>>,
}

/// The computed attributes of a rendered template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The template id.
    pub id: String,
    /// The JCasC template object as YAML, `${` escaped.
    pub definition: String,
    /// The pod the template defines, canonical YAML; empty when it defines no pod content.
    pub pod_yaml_normalized: String,
}

/// The id the plugin tracks agents by: the given one, else a UUIDv5 of the name.
pub fn template_id(name: &str, given: Option<&str>) -> String {
    match given {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => Uuid::new_v5(&TEMPLATE_ID_NAMESPACE, name.as_bytes()).to_string(),
    }
}

/// Renders a template: its id, JCasC definition and normalised pod, plus every finding.
/// The rendering is `None` exactly when there is an error finding.
pub fn render_pod_template(spec: &PodTemplateSpec) -> (Option<Rendered>, Vec<Finding>) {
    render_pod_template_with(spec, &LintContext::default())
}

/// [`render_pod_template`] with lint told who the controller runs as.
pub fn render_pod_template_with(spec: &PodTemplateSpec, ctx: &LintContext) -> (Option<Rendered>, Vec<Finding>) {
    let mut f = Findings::default();
    check_fields(spec, &mut f);
    let built = build_pod(spec, &mut f);
    if let Some(b) = &built {
        lint::lint(spec, b, ctx, &mut f);
    }
    let Some(b) = built.filter(|_| !f.has_error()) else { return (None, f.0) };
    let pod_yaml_normalized = if has_content(&b.pod) { to_yaml(&Value::Mapping(b.pod.clone())) } else { String::new() };
    let id = template_id(&spec.name, spec.id.as_deref());
    let definition = definition(spec, &id, &pod_yaml_normalized);
    (Some(Rendered { id, definition, pod_yaml_normalized }), f.0)
}

/// A pod with anything beyond `apiVersion`/`kind`.
fn has_content(pod: &Mapping) -> bool {
    pod.iter().any(|(k, v)| {
        !matches!(k.as_str(), Some("apiVersion" | "kind"))
            && !matches!(v, Value::Null)
            && !matches!(v, Value::Mapping(m) if m.is_empty())
    })
}

fn path(attr: &str) -> AttributePath {
    AttributePath::attr(attr)
}

fn check_fields(spec: &PodTemplateSpec, f: &mut Findings) {
    if let Err(d) = check_template_name(&spec.name) {
        f.error(path("name"), "Invalid Template Name", d);
    }
    for (i, l) in spec.labels.iter().enumerate() {
        if let Err(d) = check_label(l) {
            f.error(path("labels").then_index(i as i64), "Invalid Label", d);
        }
    }
    for (i, p) in spec.inherit_from.iter().enumerate() {
        if *p == spec.name {
            f.error(
                path("inherit_from").then_index(i as i64),
                "Template Inherits From Itself",
                format!("Template {:?} lists itself in inherit_from; the plugin would recurse until it overflows the stack. Remove it.", spec.name),
            );
        } else if p.is_empty() || p.contains(char::is_whitespace) {
            f.error(
                path("inherit_from").then_index(i as i64),
                "Invalid Parent Name",
                format!("Parent name {p:?} is empty or contains whitespace; the plugin splits inheritFrom on spaces, so list each parent as its own element."),
            );
        }
    }
    if !spec.yaml_merge_strategy.is_empty() && !YAML_MERGE_STRATEGIES.contains(&spec.yaml_merge_strategy.as_str()) {
        f.error(
            path("yaml_merge_strategy"),
            "Unknown YAML Merge Strategy",
            format!(
                "yaml_merge_strategy is {:?}; the plugin knows only `override` and `merge`.",
                spec.yaml_merge_strategy
            ),
        );
    }
    if !NODE_USAGE_MODES.contains(&spec.node_usage_mode.as_str()) {
        f.error(
            path("node_usage_mode"),
            "Unknown Node Usage Mode",
            format!(
                "node_usage_mode is {:?}; use `NORMAL` or `EXCLUSIVE` (upper case, as Jenkins spells them).",
                spec.node_usage_mode
            ),
        );
    }
    if pod_retention_symbol(&spec.pod_retention).is_none() {
        f.error(
            path("pod_retention"),
            "Unknown Pod Retention",
            format!(
                "pod_retention is {:?}; use one of `default`, `never`, `on_failure`, `always`, `evicted`.",
                spec.pod_retention
            ),
        );
    }
    for (attr, value) in
        [("idle_minutes", spec.idle_minutes), ("active_deadline_seconds", spec.active_deadline_seconds)]
    {
        if value < 0 {
            f.error(path(attr), "Negative Value", format!("{attr} is {value}; use 0 (none) or a positive number."));
        }
    }
    if let Some(cap) = spec.instance_cap
        && cap < 0
    {
        f.error(path("instance_cap"), "Negative Value", format!("instance_cap is {cap}; leave it unset for no limit."));
    }
    if let Err(d) = check_container_name(&spec.agent_container) {
        f.error(path("agent_container"), "Invalid Container Name", d);
    }
    if let Some(id) = &spec.id
        && (id.trim() != id || id.contains(char::is_whitespace))
    {
        f.error(
            path("id"),
            "Invalid Template Id",
            format!("id {id:?} contains whitespace; use a plain identifier or leave it unset."),
        );
    }
}

/// The built pod and where each container and volume came from, for lint paths.
pub(crate) struct Built {
    pub(crate) pod: Mapping,
    /// Container name → the attribute it came from (`tool_container[i]` or `pod_yaml`).
    pub(crate) container_origin: BTreeMap<String, AttributePath>,
    /// Volume name → its block (`volume[i]`) or `pod_yaml`.
    pub(crate) volume_origin: BTreeMap<String, AttributePath>,
    /// Names of containers from `tool_container` blocks.
    pub(crate) tool_names: BTreeSet<String>,
}

fn build_pod(spec: &PodTemplateSpec, f: &mut Findings) -> Option<Built> {
    let yaml_path = path("pod_yaml");
    let mut pod = match spec.pod_yaml.as_deref().map(parse_pod) {
        None => Mapping::new(),
        Some(Ok(p)) => p,
        Some(Err(d)) => {
            f.error(yaml_path, "Invalid Pod YAML", d);
            return None;
        }
    };
    let mut built = Built {
        pod: Mapping::new(),
        container_origin: BTreeMap::new(),
        volume_origin: BTreeMap::new(),
        tool_names: BTreeSet::new(),
    };
    for list in ["initContainers", "containers"] {
        for c in entries(&pod, list) {
            let name = name_of(c).to_owned();
            if let Err(d) = check_container_name(&name) {
                f.error(yaml_path.clone(), "Invalid Container Name", format!("In pod_yaml `spec.{list}`: {d}"));
            }
            if built.container_origin.insert(name.clone(), yaml_path.clone()).is_some() {
                f.error(
                    yaml_path.clone(),
                    "Duplicate Container Name",
                    format!("pod_yaml defines two containers named {name:?}; rename one."),
                );
            }
        }
    }
    for v in entries(&pod, "volumes") {
        let name = name_of(v).to_owned();
        if built.volume_origin.insert(name.clone(), yaml_path.clone()).is_some() {
            f.error(
                yaml_path.clone(),
                "Duplicate Volume Name",
                format!("pod_yaml defines two volumes named {name:?}; rename one."),
            );
        }
    }

    for (i, tc) in spec.tool_containers.iter().enumerate() {
        let at = path("tool_container").then_index(i as i64);
        if let Err(d) = check_container_name(&tc.name) {
            f.error(at.then_attr("name"), "Invalid Container Name", d);
        }
        if tc.image.trim().is_empty() {
            f.error(
                at.then_attr("image"),
                "Missing Image",
                format!("Tool container {:?} has no image; set `image`.", tc.name),
            );
        }
        match built.container_origin.get(&tc.name) {
            Some(prev) => f.error(
                at.then_attr("name"),
                "Duplicate Container Name",
                format!(
                    "Two containers are named {:?} (the other comes from `{prev}`); a pod needs unique container names. Rename one, or describe the container in only one place.",
                    tc.name
                ),
            ),
            None => {
                built.container_origin.insert(tc.name.clone(), at.clone());
                built.tool_names.insert(tc.name.clone());
            }
        }
        list_mut(spec_mut(&mut pod), "containers").push(Value::Mapping(tool_container(tc)));
    }

    for (i, vol) in spec.volumes.iter().enumerate() {
        add_volume(spec, &mut pod, &mut built, i, vol, f);
    }

    if has_content(&pod) {
        pod.insert("apiVersion".into(), "v1".into());
        pod.insert("kind".into(), "Pod".into());
    }
    built.pod = canonical_pod(&pod);
    Some(built)
}

fn string_list(items: &[String]) -> Value {
    Value::Sequence(items.iter().map(|s| Value::String(s.clone())).collect())
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Mapping(m.iter().map(|(k, v)| (Value::String(k.clone()), Value::String(v.clone()))).collect())
}

fn tool_container(tc: &ToolContainer) -> Mapping {
    let mut c = Mapping::new();
    c.insert("name".into(), tc.name.clone().into());
    c.insert("image".into(), tc.image.clone().into());
    if !tc.command.is_empty() {
        c.insert("command".into(), string_list(&tc.command));
    }
    if !tc.args.is_empty() {
        c.insert("args".into(), string_list(&tc.args));
    }
    if tc.tty {
        c.insert("tty".into(), true.into());
    }
    if let Some(w) = &tc.working_dir {
        c.insert("workingDir".into(), w.clone().into());
    }
    if !tc.env.is_empty() {
        let env = tc.env.iter().map(|(k, v)| {
            let mut e = Mapping::new();
            e.insert("name".into(), k.clone().into());
            e.insert("value".into(), v.clone().into());
            Value::Mapping(e)
        });
        c.insert("env".into(), Value::Sequence(env.collect()));
    }
    let mut resources = Mapping::new();
    if !tc.requests.is_empty() {
        resources.insert("requests".into(), string_map(&tc.requests));
    }
    if !tc.limits.is_empty() {
        resources.insert("limits".into(), string_map(&tc.limits));
    }
    if !resources.is_empty() {
        c.insert("resources".into(), Value::Mapping(resources));
    }
    c
}

fn volume_entry(vol: &VolumeSpec) -> Mapping {
    let mut v = Mapping::new();
    v.insert("name".into(), vol.name.clone().into());
    let one = |k: &str, val: &str| {
        let mut m = Mapping::new();
        m.insert(k.into(), val.into());
        Value::Mapping(m)
    };
    let (key, source) = match &vol.source {
        VolumeSource::HostPath(p) => ("hostPath", one("path", p)),
        VolumeSource::ConfigMap(n) => ("configMap", one("name", n)),
        VolumeSource::Secret(n) => ("secret", one("secretName", n)),
        VolumeSource::EmptyDir => ("emptyDir", Value::Mapping(Mapping::new())),
    };
    v.insert(key.into(), source);
    v
}

fn add_volume(
    spec: &PodTemplateSpec,
    pod: &mut Mapping,
    built: &mut Built,
    i: usize,
    vol: &VolumeSpec,
    f: &mut Findings,
) {
    let at = path("volume").then_index(i as i64);
    if let Err(d) = check_volume_name(&vol.name) {
        f.error(at.then_attr("name"), "Invalid Volume Name", d);
    }
    if vol.mount_path.trim().is_empty() {
        f.error(
            at.then_attr("mount_path"),
            "Missing Mount Path",
            format!("Volume {:?} has an empty mount_path; set where to mount it.", vol.name),
        );
    }
    if let Some(prev) = built.volume_origin.get(&vol.name) {
        f.error(
            at.then_attr("name"),
            "Duplicate Volume Name",
            format!("Two volumes are named {:?} (the other comes from `{prev}`); rename one.", vol.name),
        );
        return;
    }
    built.volume_origin.insert(vol.name.clone(), at.clone());
    list_mut(spec_mut(pod), "volumes").push(Value::Mapping(volume_entry(vol)));

    // "Every container" includes the agent container the plugin adds, as it mounts its own
    // template volumes into it (`PodTemplateBuilder.build`, the created agent container).
    let mut existing: Vec<String> = entries(pod, "containers").into_iter().map(|c| name_of(c).to_owned()).collect();
    if !existing.contains(&spec.agent_container) {
        existing.push(spec.agent_container.clone());
    }
    let targets: Vec<(String, AttributePath)> = match &vol.containers {
        None => existing.iter().map(|n| (n.clone(), at.clone())).collect(),
        Some(list) if list.iter().any(|c| c == "*") => existing.iter().map(|n| (n.clone(), at.clone())).collect(),
        Some(list) => {
            list.iter().enumerate().map(|(j, n)| (n.clone(), at.then_attr("containers").then_index(j as i64))).collect()
        }
    };
    if targets.is_empty() {
        f.warning(
            at.clone(),
            "Volume Mounted Nowhere",
            format!(
                "Volume {:?} is mounted into no container; add a tool_container or list containers to mount it into.",
                vol.name
            ),
        );
    }
    let mut mount = Mapping::new();
    mount.insert("name".into(), vol.name.clone().into());
    mount.insert("mountPath".into(), vol.mount_path.clone().into());
    if let Some(sp) = &vol.sub_path {
        mount.insert("subPath".into(), sp.clone().into());
    }
    if vol.read_only {
        mount.insert("readOnly".into(), true.into());
    }
    let mut seen = BTreeSet::new();
    for (target, target_path) in targets {
        if !seen.insert(target.clone()) {
            continue;
        }
        let containers = list_mut(spec_mut(pod), "containers");
        let idx = containers.iter().position(|c| c.as_mapping().is_some_and(|m| name_of(m) == target));
        let idx = match idx {
            Some(idx) => idx,
            None if target == spec.agent_container => {
                let mut stub = Mapping::new();
                stub.insert("name".into(), target.clone().into());
                containers.push(Value::Mapping(stub));
                built.container_origin.insert(target.clone(), target_path.clone());
                containers.len() - 1
            }
            None => {
                f.error(
                    target_path,
                    "Unknown Container",
                    format!(
                        "Volume {:?} is to be mounted into container {target:?}, which the pod does not have; name a tool_container, a pod_yaml container or the agent container {:?}.",
                        vol.name, spec.agent_container
                    ),
                );
                continue;
            }
        };
        let Some(c) = containers[idx].as_mapping_mut() else { continue };
        let mounts = list_mut(c, "volumeMounts");
        let clash = mounts
            .iter()
            .filter_map(Value::as_mapping)
            .find(|m| m.get("mountPath") == Some(&Value::String(vol.mount_path.clone())));
        if let Some(other) = clash {
            f.error(
                at.then_attr("mount_path"),
                "Duplicate Mount Path",
                format!(
                    "Container {target:?} already mounts {:?} at {:?}; Kubernetes rejects two mounts at one path. Choose another mount_path.",
                    name_of(other),
                    vol.mount_path
                ),
            );
            continue;
        }
        mounts.push(Value::Mapping(mount.clone()));
    }
}

/// The JCasC template object, serialised and escaped.
fn definition(spec: &PodTemplateSpec, id: &str, pod_yaml: &str) -> String {
    let mut d = Mapping::new();
    let mut put = |k: &str, v: Value| {
        d.insert(k.into(), v);
    };
    put("name", spec.name.clone().into());
    put("id", id.into());
    if !spec.labels.is_empty() {
        put("label", spec.labels.join(" ").into());
    }
    if !spec.inherit_from.is_empty() {
        put("inheritFrom", spec.inherit_from.join(" ").into());
    }
    if let Some(ns) = spec.namespace.as_ref().filter(|s| !s.is_empty()) {
        put("namespace", ns.clone().into());
    }
    if let Some(sa) = spec.service_account.as_ref().filter(|s| !s.is_empty()) {
        put("serviceAccount", sa.clone().into());
    }
    put("nodeUsageMode", spec.node_usage_mode.clone().into());
    if !spec.yaml_merge_strategy.is_empty() {
        put("yamlMergeStrategy", spec.yaml_merge_strategy.clone().into());
    }
    if spec.inherit_yaml_merge_strategy {
        put("inheritYamlMergeStrategy", true.into());
    }
    if spec.idle_minutes != 0 {
        put("idleMinutes", spec.idle_minutes.into());
    }
    if let Some(cap) = spec.instance_cap {
        put("instanceCap", cap.into());
    }
    if spec.active_deadline_seconds != 0 {
        put("activeDeadlineSeconds", spec.active_deadline_seconds.into());
    }
    match pod_retention_symbol(&spec.pod_retention) {
        Some("default") | None => {}
        Some(sym) => put("podRetention", sym.into()),
    }
    if !spec.show_raw_yaml {
        put("showRawYaml", false.into());
    }
    if spec.agent_container != DEFAULT_AGENT_CONTAINER {
        put("agentContainer", spec.agent_container.clone().into());
    }
    if !pod_yaml.is_empty() {
        put("yaml", pod_yaml.into());
    }
    to_yaml(&map_strings(&Value::Mapping(d), &escape_casc))
}

/// Reads `spec.<key>` of a built pod (for lint).
pub(crate) fn pod_spec(pod: &Mapping) -> Option<&Mapping> {
    pod::spec(pod)
}
