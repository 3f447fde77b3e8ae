//! The plugin's `PodTemplateBuilder.build()` for an unwrapped template: the pod the controller
//! really creates from the JCasC we emit (reference §2 build order), followed step by step with
//! the Java method each step comes from named in its comment.
//!
//! Must not: resolve inheritance (that is `inherit`), or guess values only known when a pod
//! starts (agent secret, pod name, the controller's advertised TCP port): those show as
//! `(runtime)`.

use super::fields::apply_fields;
use super::inherit::{RUNTIME, TemplateDef};
use super::merge::combine_pods;
use super::pod::{canonical_pod, parse_pod};
use super::template::DEFAULT_AGENT_CONTAINER;
use super::yaml::to_yaml;
use serde_yaml_ng::{Mapping, Value};
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;

/// The kubernetes-plugin source the effective pod and the conformance suite follow. One place,
/// so a plugin upgrade is one reviewed change: the agent image tag comes from this version's
/// `src/main/resources/…/kubernetes/Dockerfile`.
pub const KUBERNETES_PLUGIN: PluginVersion = PluginVersion {
    release: "4423.vb_59f230b_ce53",
    changelist: "999999-SNAPSHOT",
    commit: "a82d78a0087e9eaa10ec2339b48891549345c1a4",
    agent_image: "jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21",
};

/// A kubernetes-plugin version, as far as the pods it builds depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginVersion {
    /// The latest release tag the commit descends from (`git describe`).
    pub release: &'static str,
    /// `pom.xml` `changelist` at the commit.
    pub changelist: &'static str,
    /// The jenkinsci/kubernetes-plugin commit read.
    pub commit: &'static str,
    /// `DEFAULT_AGENT_IMAGE`: the `FROM` of the plugin's resource `Dockerfile`.
    pub agent_image: &'static str,
}

/// `ContainerTemplate.DEFAULT_WORKING_DIR`.
pub const DEFAULT_WORKING_DIR: &str = "/home/jenkins/agent";

/// `PodTemplateBuilder.DEFAULT_JNLP_CONTAINER_{CPU,MEMORY}_REQUEST` (no default limits).
pub const DEFAULT_AGENT_REQUESTS: [(&str, &str); 2] = [("cpu", "100m"), ("memory", "256Mi")];

const WORKSPACE_VOLUME: &str = "workspace-volume";

/// Cloud settings the effective pod depends on.
#[derive(Debug, Clone, Default)]
pub struct PodContext {
    /// Cloud namespace.
    pub namespace: Option<String>,
    /// Cloud `podLabels`.
    pub pod_labels: BTreeMap<String, String>,
    /// Agent image registry prefix.
    pub jnlp_registry: Option<String>,
    /// `jenkinsUrl`; `None` shows `(runtime)` (the plugin then falls back to
    /// `KUBERNETES_JENKINS_URL` or the controller's configured URL).
    pub jenkins_url: Option<String>,
    /// `jenkinsTunnel`.
    pub jenkins_tunnel: Option<String>,
    /// WebSocket agents.
    pub web_socket: bool,
    /// Direct connection (no `JENKINS_URL`).
    pub direct_connection: bool,
    /// Restricted-PSS patching of every container.
    pub restricted_pss: bool,
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn entry(pairs: &[(&str, Value)]) -> Value {
    Value::Mapping(pairs.iter().map(|(k, v)| (s(k), v.clone())).collect())
}

/// `PodTemplateUtils.sanitizeLabel`: the last 57 characters, anything but `[_a-zA-Z0-9-]` as
/// `_`, a non-alphanumeric first or last character as `x`.
pub fn sanitize_label(input: &str) -> String {
    const MAX: usize = 63 - 1 - 5;
    let chars: Vec<char> = input.chars().collect();
    let tail = &chars[chars.len().saturating_sub(MAX)..];
    let mut out: Vec<char> =
        tail.iter().map(|&c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    if let Some(first) = out.first_mut()
        && !first.is_ascii_alphanumeric()
    {
        *first = 'x';
    }
    if let Some(last) = out.last_mut()
        && !last.is_ascii_alphanumeric()
    {
        *last = 'x';
    }
    out.into_iter().collect()
}

/// `PodTemplate.recomputeLabelDerivedFields`: the pod labels a template's `label` gives.
fn template_labels(labels: &[String]) -> [(&'static str, String); 2] {
    let label = labels.join(" ");
    if label.trim().is_empty() {
        return [("jenkins/label", "slave-default".into()), ("jenkins/label-digest", "0".into())];
    }
    let label = label.trim();
    let digest: String = Sha1::digest(label.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    [("jenkins/label", sanitize_label(label)), ("jenkins/label-digest", digest)]
}

/// `KubernetesCloud.getJenkinsUrlOrNull`: the configured URL with a `/` appended.
fn jenkins_url(ctx: &PodContext) -> Option<String> {
    ctx.jenkins_url.as_ref().map(|u| if u.ends_with('/') { u.clone() } else { format!("{u}/") })
}

/// The YAML pod of the template's strategy (`Overrides.merge`: the last yaml; `Merge.merge`: a
/// left fold of `combine(Pod, Pod)` starting from the first pod itself); `None` without yamls.
fn yamls_pod(t: &TemplateDef) -> Result<Option<Mapping>, String> {
    let parsed: Vec<Mapping> = t.yamls.iter().map(|y| parse_pod(y)).collect::<Result<_, _>>()?;
    Ok(match t.yaml_merge_strategy.as_deref() {
        Some("merge") => {
            parsed.split_first().map(|(first, rest)| rest.iter().fold(first.clone(), |acc, p| combine_pods(&acc, p)))
        }
        _ => parsed.last().cloned(),
    })
}

/// The pod `build()` makes from the template's own fields, before the YAML is laid under it.
/// Only the fields our model reads appear; the workspace volume is always there (the template's
/// `workspaceVolume`, an `emptyDir` by default), so it replaces a YAML volume of that name.
fn fields_pod(t: &TemplateDef, ctx: &PodContext) -> Mapping {
    let mut labels = Mapping::new();
    let cloud_labels = if ctx.pod_labels.is_empty() {
        // `KubernetesCloud.getPodLabelsMap` with no podLabels.
        BTreeMap::from([("jenkins".to_owned(), "slave".to_owned())])
    } else {
        ctx.pod_labels.clone()
    };
    for (k, v) in cloud_labels {
        labels.insert(s(&k), s(&v));
    }
    for (k, v) in template_labels(&t.labels) {
        labels.insert(s(k), s(&v));
    }
    let controller = jenkins_url(ctx).map(|u| sanitize_label(&u)).unwrap_or_else(|| RUNTIME.to_owned());
    labels.insert(s("kubernetes.jenkins.io/controller"), s(&controller));
    // `getAnnotationsMap` always stamps the garbage collector's refresh time.
    let annotations = entry(&[("kubernetes.jenkins.io/last-refresh", s(RUNTIME))]);
    let mut metadata = Mapping::new();
    metadata.insert(s("name"), s(RUNTIME));
    metadata.insert(s("labels"), Value::Mapping(labels));
    metadata.insert(s("annotations"), annotations);
    let mut spec = Mapping::new();
    apply_fields(&t.fields, &mut metadata, &mut spec);
    if t.active_deadline_seconds > 0 {
        spec.insert(s("activeDeadlineSeconds"), Value::from(t.active_deadline_seconds));
    }
    let workspace = entry(&[("name", s(WORKSPACE_VOLUME)), ("emptyDir", entry(&[("medium", s(""))]))]);
    spec.insert(s("volumes"), Value::Sequence(vec![workspace]));
    if let Some(sa) = &t.service_account {
        spec.insert(s("serviceAccountName"), s(sa));
    }
    let mut pod = Mapping::new();
    pod.insert(s("metadata"), Value::Mapping(metadata));
    pod.insert(s("spec"), Value::Mapping(spec));
    pod
}

/// `PodTemplateBuilder.agentEnvVars`: the agent's connection settings per connection mode.
fn agent_env(ctx: &PodContext, workdir: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("JENKINS_SECRET".into(), RUNTIME.into()),
        ("JENKINS_NAME".into(), RUNTIME.into()),
        ("JENKINS_AGENT_NAME".into(), RUNTIME.into()),
        ("JENKINS_AGENT_WORKDIR".into(), workdir.into()),
    ];
    if let Some(tunnel) = ctx.jenkins_tunnel.as_ref().filter(|t| !t.trim().is_empty()) {
        env.push(("JENKINS_TUNNEL".into(), tunnel.clone()));
    }
    if ctx.direct_connection {
        // The controller's advertised TCP host:port and instance identity.
        env.push(("JENKINS_DIRECT_CONNECTION".into(), RUNTIME.into()));
        env.push(("JENKINS_PROTOCOLS".into(), "JNLP4-connect".into()));
        env.push(("JENKINS_INSTANCE_IDENTITY".into(), RUNTIME.into()));
    } else {
        env.push(("JENKINS_URL".into(), jenkins_url(ctx).unwrap_or_else(|| RUNTIME.into())));
        if ctx.web_socket {
            env.push(("JENKINS_WEB_SOCKET".into(), "true".into()));
        }
    }
    env.push(("REMOTING_OPTS".into(), "-noReconnectAfter 1d".into()));
    env
}

fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(t)) => t.trim().is_empty(),
        _ => false,
    }
}

fn str_at<'a>(m: &'a Mapping, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

/// The pod the plugin builds for an unwrapped template (`PodTemplateBuilder.build` and the
/// `PodDecorator`s), as canonical YAML. Values only known at pod start show as `(runtime)`.
pub fn effective_pod(t: &TemplateDef, ctx: &PodContext) -> Result<String, String> {
    // `pod = combine(template.getYamlsPod(), fields)`: the template's fields beat the YAML.
    let fields = fields_pod(t, ctx);
    let mut pod = match yamls_pod(t)? {
        Some(yaml) => combine_pods(&yaml, &fields),
        None => fields,
    };
    pod.insert(s("apiVersion"), s("v1"));
    pod.insert(s("kind"), s("Pod"));
    // Namespace: the YAML's, else the template's, else the cloud's (blank counts as unset, as the
    // launcher reads it).
    let md = mapping_at(&mut pod, "metadata");
    if is_blank(md.get("namespace"))
        && let Some(ns) = t.namespace.clone().or_else(|| ctx.namespace.clone())
    {
        md.insert(s("namespace"), s(&ns));
    }
    // The agent container, found by name or appended empty.
    let agent = t.agent_container.clone().unwrap_or_else(|| DEFAULT_AGENT_CONTAINER.to_owned());
    let spec = mapping_at(&mut pod, "spec");
    let containers = seq_at(spec, "containers");
    let idx = match containers.iter().position(|c| c.get("name").and_then(Value::as_str) == Some(&agent)) {
        Some(i) => i,
        None => {
            containers.push(entry(&[("name", s(&agent))]));
            containers.len() - 1
        }
    };
    // Containers without a workingDir take the agent's, which may itself be unset: then none is
    // written and the image's WORKDIR applies (the workspace is still mounted at the default).
    let agent_workdir = containers[idx].get("workingDir").and_then(Value::as_str).map(str::to_owned);
    if let Some(wd) = &agent_workdir {
        for c in containers.iter_mut().filter_map(Value::as_mapping_mut) {
            if c.get("workingDir").is_none_or(Value::is_null) {
                c.insert(s("workingDir"), s(wd));
            }
        }
    }
    let Some(a) = containers[idx].as_mapping_mut() else { return Err("agent container is not a mapping".into()) };
    if is_blank(a.get("image")) {
        // `Util.ensureEndsWith(jnlpregistry, "/") + DEFAULT_AGENT_IMAGE`.
        let registry = match ctx.jnlp_registry.as_deref().filter(|r| !r.is_empty()) {
            Some(r) if r.ends_with('/') => r.to_owned(),
            Some(r) => format!("{r}/"),
            None => String::new(),
        };
        a.insert(s("image"), s(&format!("{registry}{}", KUBERNETES_PLUGIN.agent_image)));
    }
    // Env, later wins: connection settings < the template's `envVars` < the container's own `env`.
    let workdir = agent_workdir.as_deref().unwrap_or(DEFAULT_WORKING_DIR);
    let mut env: Vec<Value> =
        agent_env(ctx, workdir).iter().map(|(k, v)| entry(&[("name", s(k)), ("value", s(v))])).collect();
    let template_env = t.fields.env_vars.iter().map(|(_, e)| e.clone());
    for e in template_env.chain(a.get("env").and_then(Value::as_sequence).cloned().unwrap_or_default()) {
        let name = e.get("name").cloned();
        env.retain(|m| m.get("name") != name.as_ref());
        env.push(e);
    }
    a.insert(s("env"), Value::Sequence(env));
    if a.get("resources").is_none_or(Value::is_null) {
        let requests = DEFAULT_AGENT_REQUESTS.map(|(k, v)| (k, s(v)));
        a.insert(s("resources"), entry(&[("requests", entry(&requests))]));
    }
    decorate(spec, ctx);
    Ok(to_yaml(&Value::Mapping(canonical_pod(&pod))))
}

/// The plugin's `PodDecorator`s: `DefaultWorkspaceVolume`, `DefaultRestartPolicy`,
/// `DefaultNodeSelector`, `RestrictedPssSecurityContextInjector`.
fn decorate(spec: &mut Mapping, ctx: &PodContext) {
    let volumes = seq_at(spec, "volumes");
    if !volumes.iter().any(|v| v.get("name").and_then(Value::as_str) == Some(WORKSPACE_VOLUME)) {
        volumes.push(entry(&[("name", s(WORKSPACE_VOLUME)), ("emptyDir", entry(&[]))]));
    }
    // The workspace at each container's workingDir (or the default), unless something is
    // already mounted there; init containers get none.
    for c in seq_at(spec, "containers").iter_mut().filter_map(Value::as_mapping_mut) {
        let wd = str_at(c, "workingDir").unwrap_or(DEFAULT_WORKING_DIR).to_owned();
        let mounts = seq_at(c, "volumeMounts");
        if !mounts.iter().any(|m| m.get("mountPath").and_then(Value::as_str) == Some(&wd)) {
            mounts.push(entry(&[
                ("name", s(WORKSPACE_VOLUME)),
                ("mountPath", s(&wd)),
                ("readOnly", Value::Bool(false)),
            ]));
        }
    }
    if is_blank(spec.get("restartPolicy")) {
        spec.insert(s("restartPolicy"), s("Never"));
    }
    let no_selector = spec.get("nodeSelector").and_then(Value::as_mapping).is_none_or(Mapping::is_empty);
    let node_affinity = spec.get("affinity").and_then(|a| a.get("nodeAffinity")).is_some_and(|n| !n.is_null());
    if no_selector && !node_affinity && spec.get("runtimeClassName").is_none_or(Value::is_null) {
        spec.insert(s("nodeSelector"), entry(&[("kubernetes.io/os", s("linux"))]));
    }
    if ctx.restricted_pss {
        for list in ["initContainers", "containers"] {
            if let Some(Value::Sequence(cs)) = spec.get_mut(list) {
                cs.iter_mut().filter_map(Value::as_mapping_mut).for_each(restrict);
            }
        }
    }
}

/// The restricted-PSS injector: each of its four settings only where the container leaves it
/// unset, in containers and init containers alike.
fn restrict(c: &mut Mapping) {
    let sc = mapping_at(c, "securityContext");
    for (k, v) in [
        ("allowPrivilegeEscalation", Value::Bool(false)),
        ("runAsNonRoot", Value::Bool(true)),
        ("seccompProfile", entry(&[("type", s("RuntimeDefault"))])),
        ("capabilities", entry(&[("drop", Value::Sequence(vec![s("ALL")]))])),
    ] {
        if sc.get(k).is_none_or(Value::is_null) {
            sc.insert(s(k), v);
        }
    }
}

fn mapping_at<'a>(m: &'a mut Mapping, k: &str) -> &'a mut Mapping {
    if !matches!(m.get(k), Some(Value::Mapping(_))) {
        m.insert(s(k), Value::Mapping(Mapping::new()));
    }
    m.get_mut(k).and_then(Value::as_mapping_mut).expect("just made a mapping")
}

fn seq_at<'a>(m: &'a mut Mapping, k: &str) -> &'a mut Vec<Value> {
    super::pod::list_mut(m, k)
}

#[cfg(test)]
mod tests {
    use super::sanitize_label;

    /// PodTemplateUtilsTest#shouldSanitizeJenkinsLabel, every case.
    #[test]
    fn sanitize_label_as_the_plugin() {
        for (input, want) in [
            ("foo", "foo"),
            ("foo bar #3", "foo_bar__3"),
            ("This/Thing", "This_Thing"),
            ("/whatever", "xwhatever"),
            (
                "way-way-way-too-prolix-for-the-sixty-three-character-limit-in-kubernetes",
                "xprolix-for-the-sixty-three-character-limit-in-kubernetes",
            ),
            ("label1", "label1"),
            ("label1 label2", "label1_label2"),
            (
                "label1 label2 verylooooooooooooooooooooooooooooonglabelover63chars",
                "bel2_verylooooooooooooooooooooooooooooonglabelover63chars",
            ),
            (":foo:bar", "xfoo_bar"),
            (":foo:bar:", "xfoo_barx"),
            (
                "label1 label2 verylooooooooooooooooooooooooooooonglabelendinginunderscore_",
                "ylooooooooooooooooooooooooooooonglabelendinginunderscorex",
            ),
        ] {
            assert_eq!(sanitize_label(input), want, "{input}");
        }
    }
}
