//! Warnings about templates that render but probably do not do what was meant (reference §7).
//!
//! Must not: report errors that block rendering (those belong to `template`), or need other
//! templates (cross-template rules belong to the cloud).

use super::Findings;
use super::template::{Built, PodTemplateSpec, pod_spec};
use crate::cty::AttributePath;
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeSet;

/// Spec fields the plugin's `merge` keeps from a child pod (reference §2); any other child spec
/// field is dropped when a parent has YAML.
const MERGE_KEPT_SPEC_FIELDS: &[&str] = &[
    "containers",
    "initContainers",
    "nodeSelector",
    "serviceAccount",
    "serviceAccountName",
    "schedulerName",
    "activeDeadlineSeconds",
    "hostNetwork",
    "shareProcessNamespace",
    "volumes",
    "tolerations",
    "imagePullSecrets",
    "securityContext",
];

/// What lint needs to know beyond the template: who the controller runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintContext {
    /// The Jenkins controller's service account (the Helm chart's default is `jenkins`). Agents
    /// running under it inherit its Kubernetes rights and, with IRSA, its AWS role.
    pub controller_service_account: String,
}

/// The Helm chart's default controller service account name (`serviceAccount.name` unset:
/// the release's full name, `jenkins` for a release called `jenkins`).
pub const DEFAULT_CONTROLLER_SERVICE_ACCOUNT: &str = "jenkins";

impl Default for LintContext {
    fn default() -> Self {
        LintContext { controller_service_account: DEFAULT_CONTROLLER_SERVICE_ACCOUNT.into() }
    }
}

pub(crate) fn lint(spec: &PodTemplateSpec, b: &Built, ctx: &LintContext, f: &mut Findings) {
    let containers: Vec<&Mapping> = container_list(&b.pod);
    for c in &containers {
        let name = str_of(c, "name");
        if name == spec.agent_container {
            continue;
        }
        let at = b.container_origin.get(name).cloned().unwrap_or_else(|| AttributePath::attr("pod_yaml"));
        keep_alive(c, b.tool_names.contains(name), &at, f);
        runs_as_root(&b.pod, c, &at, f);
        let image_at = if b.tool_names.contains(name) { at.then_attr("image") } else { at.clone() };
        mutable_tag_warning(c, &image_at, f);
        let res = c.get("resources").and_then(Value::as_mapping);
        let set = |k: &str| res.and_then(|r| r.get(k)).and_then(Value::as_mapping).is_some_and(|m| !m.is_empty());
        if !set("requests") && !set("limits") {
            f.warning(
                at.clone(),
                "No Resource Requests Or Limits",
                format!("Container {name:?} sets neither requests nor limits; the scheduler packs it blindly and a runaway build can starve the node. Set `requests` (and a memory `limits`)."),
            );
        }
    }
    docker_socket(b, f);
    mixed_uids(&b.pod, &containers, f);
    controller_account(spec, &b.pod, ctx, f);
    token_mounted(spec, &b.pod, &containers, f);
    if spec.node_usage_mode == "EXCLUSIVE" && spec.labels.is_empty() {
        f.warning(
            AttributePath::attr("labels"),
            "Exclusive Template Without Labels",
            "node_usage_mode is EXCLUSIVE, so only jobs asking for one of the template's labels use it, but it has no labels: nothing can ever select it. Add labels, or use NORMAL.",
        );
    }
    if spec.instance_cap == Some(0) {
        f.warning(
            AttributePath::attr("instance_cap"),
            "Instance Cap Is Zero",
            "instance_cap = 0 lets the plugin start no agent at all from this template; leave it unset for no limit.",
        );
    }
    let own_yaml = spec.pod_yaml.as_deref().is_some_and(|y| !y.trim().is_empty())
        || !spec.tool_containers.is_empty()
        || !spec.volumes.is_empty();
    if !spec.inherit_from.is_empty() && own_yaml && spec.yaml_merge_strategy == "override" {
        f.warning(
            AttributePath::attr("yaml_merge_strategy"),
            "Parent Pod YAML Is Replaced",
            "This template inherits and has its own pod YAML with yaml_merge_strategy `override`: the plugin then uses only this YAML, and a parent's YAML containers and volumes are lost. Use `merge` to combine them.",
        );
    }
    if !spec.inherit_from.is_empty()
        && spec.yaml_merge_strategy == "merge"
        && let Some(s) = pod_spec(&b.pod)
    {
        let dropped: Vec<&str> =
            s.keys().filter_map(Value::as_str).filter(|k| !MERGE_KEPT_SPEC_FIELDS.contains(k)).collect();
        if !dropped.is_empty() {
            f.warning(
                AttributePath::attr("pod_yaml"),
                "Pod Fields Dropped By Merge",
                format!(
                    "With `merge` and a parent that has YAML, the plugin keeps only some pod spec fields of the child; these would be dropped: {}. Move them to the parent template.",
                    dropped.join(", ")
                ),
            );
        }
    }
    if let (Some(sa), Some(s)) = (spec.service_account.as_deref(), pod_spec(&b.pod))
        && let Some(yaml_sa) = s.get("serviceAccountName").and_then(Value::as_str)
        && yaml_sa != sa
    {
        f.warning(
            AttributePath::attr("service_account"),
            "Service Account Set Twice",
            format!("service_account is {sa:?} but pod_yaml sets serviceAccountName {yaml_sa:?}; the field wins. Set it in one place."),
        );
    }
}

/// The service account a pod runs as: `serviceAccountName`, else the deprecated `serviceAccount`.
pub(crate) fn service_account_of(pod: &Mapping) -> Option<&str> {
    let s = pod_spec(pod)?;
    ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|k| s.get(*k).and_then(Value::as_str).filter(|n| !n.is_empty()))
}

/// The warning for a pod running as the controller's service account, shared with the cloud's
/// check of effective pods.
pub(crate) fn controller_account_warning(at: AttributePath, sa: &str, f: &mut Findings) {
    f.warning(
        at,
        "Agents Run As The Controller's Service Account",
        format!("Agent pods run as service account {sa:?}, the Jenkins controller's: every build inherits the controller's Kubernetes rights (it may create pods and read secrets) and, with IRSA, its AWS role. Give agents their own service account (e.g. an `irsa_role` with only what builds need)."),
    );
}

fn controller_account(spec: &PodTemplateSpec, pod: &Mapping, ctx: &LintContext, f: &mut Findings) {
    let (sa, at) = match spec.service_account.as_deref().filter(|s| !s.is_empty()) {
        Some(sa) => (sa, AttributePath::attr("service_account")),
        None => match service_account_of(pod) {
            Some(sa) => (sa, AttributePath::attr("pod_yaml")),
            None => return,
        },
    };
    if sa == ctx.controller_service_account {
        controller_account_warning(at, sa, f);
    }
}

fn non_root(sc: Option<&Mapping>) -> bool {
    sc.is_some_and(|sc| {
        sc.get("runAsNonRoot").and_then(Value::as_bool) == Some(true)
            || sc.get("runAsUser").and_then(Value::as_i64).is_some_and(|u| u > 0)
    })
}

/// A container with no securityContext of its own runs as its image's user (root for most tool
/// images) with privilege escalation allowed, unless the pod's context makes it non-root.
fn runs_as_root(pod: &Mapping, c: &Mapping, at: &AttributePath, f: &mut Findings) {
    let own = c.get("securityContext").and_then(Value::as_mapping).filter(|m| !m.is_empty());
    let pod_sc = pod_spec(pod).and_then(|s| s.get("securityContext")).and_then(Value::as_mapping);
    if own.is_some() || non_root(pod_sc) {
        return;
    }
    let name = str_of(c, "name");
    f.warning(
        at.clone(),
        "Container May Run As Root",
        format!("Container {name:?} has no securityContext and the pod sets neither runAsNonRoot nor a non-zero runAsUser, so it runs as its image's user (root for most tool images) with privilege escalation allowed. Set `spec.securityContext: {{runAsNonRoot: true, runAsUser: 1000}}` in pod_yaml (or a container securityContext with allowPrivilegeEscalation: false), or enable the cloud's restricted_pss_security_context."),
    );
}

/// Image or command words that say a container talks to the Kubernetes API.
const API_CLIENTS: &[&str] = &["kubectl", "helm", "kustomize", "kube", "k8s", "argocd", "flux", "skaffold", "oc"];

fn needs_api(c: &Mapping) -> bool {
    let image = str_of(c, "image").to_ascii_lowercase();
    let repo = image.split(['@', ':']).next().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned();
    let mut argv = words(c, "command");
    argv.extend(words(c, "args"));
    // The image's repository name (short names only as a whole word: `docker` is not `oc`), a
    // program run, or (for the longer names) one in a script.
    let in_repo = |w: &str| {
        repo == w
            || repo.starts_with(&format!("{w}-"))
            || repo.ends_with(&format!("-{w}"))
            || w.len() > 3 && repo.contains(w)
    };
    API_CLIENTS.iter().any(|w| in_repo(w))
        || argv.iter().any(|a| {
            let base = a.rsplit('/').next().unwrap_or(a);
            API_CLIENTS.iter().any(|w| base == *w || w.len() > 3 && a.contains(&format!("{w} ")))
        })
}

fn token_mounted(spec: &PodTemplateSpec, pod: &Mapping, containers: &[&Mapping], f: &mut Findings) {
    // Judged where the template has build containers of its own; a template without any gets
    // its pod from a parent, whose lint judges it.
    let automount = pod_spec(pod).and_then(|s| s.get("automountServiceAccountToken")).and_then(Value::as_bool);
    let tools: Vec<&&Mapping> = containers.iter().filter(|c| str_of(c, "name") != spec.agent_container).collect();
    if automount == Some(false) || tools.is_empty() || tools.iter().any(|c| needs_api(c)) {
        return;
    }
    f.warning(
        AttributePath::attr("pod_yaml"),
        "Service Account Token Mounted",
        "No container of this pod looks like a Kubernetes client (kubectl, helm, …), yet the service account token is mounted into every container: any build step can use the account's rights. Set `spec.automountServiceAccountToken: false` in pod_yaml (IRSA keeps working: it mounts its own web-identity token).",
    );
}

/// `latest`, no tag, or a tag without a digit (`stable`, `alpine`); a digest pins the image.
pub(crate) fn mutable_tag(image: &str) -> Option<String> {
    if image.contains('@') || image.trim().is_empty() {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("no tag (so `latest`)".into()),
        Some((_, "latest")) => Some("the tag `latest`".into()),
        Some((_, tag)) if !tag.bytes().any(|b| b.is_ascii_digit()) => {
            Some(format!("the tag `{tag}`, which names no version"))
        }
        Some(_) => None,
    }
}

fn mutable_tag_warning(c: &Mapping, at: &AttributePath, f: &mut Findings) {
    let image = str_of(c, "image");
    let Some(why) = mutable_tag(image) else { return };
    let name = str_of(c, "name");
    f.warning(
        at.clone(),
        "Mutable Image Tag",
        format!("Container {name:?} uses image {image:?} with {why}: it writes into the shared workspace, so artifacts of two builds can come from different tool versions, and a re-pushed tag changes builds silently. Pin a version tag or a digest (`image@sha256:…`)."),
    );
}

fn container_list(pod: &Mapping) -> Vec<&Mapping> {
    pod_spec(pod)
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_sequence)
        .map(|s| s.iter().filter_map(Value::as_mapping).collect())
        .unwrap_or_default()
}

fn str_of<'a>(m: &'a Mapping, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn words(m: &Mapping, k: &str) -> Vec<String> {
    m.get(k)
        .and_then(Value::as_sequence)
        .map(|s| s.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Commands that block on stdin, so they stay up only with a TTY.
const STDIN_READERS: &[&str] = &["cat", "sh", "bash", "ash", "dash", "zsh"];

/// A command line that keeps running on its own: `sleep infinity`, `sleep 3600`, `tail -f …`,
/// or a shell script that sleeps or loops.
pub(crate) fn is_long_running(argv: &[String]) -> bool {
    let Some(first) = argv.first() else { return false };
    let base = first.rsplit('/').next().unwrap_or(first);
    match base {
        "sleep" => argv.get(1).is_some_and(|a| a == "infinity" || a.parse::<f64>().is_ok_and(|n| n >= 60.0)),
        "tail" => argv.iter().any(|a| a == "-f" || a == "-F"),
        _ if STDIN_READERS.contains(&base) => argv.iter().position(|a| a == "-c").is_some_and(|i| {
            argv.get(i + 1).is_some_and(|script| {
                script.contains("sleep infinity") || script.contains("tail -f") || script.contains("while true")
            })
        }),
        _ => false,
    }
}

fn keep_alive(c: &Mapping, tool: bool, at: &AttributePath, f: &mut Findings) {
    let mut argv = words(c, "command");
    let has_command = !argv.is_empty();
    argv.extend(words(c, "args"));
    let tty = c.get("tty").and_then(Value::as_bool).unwrap_or(false);
    if tty || is_long_running(&argv) {
        return;
    }
    let base = argv.first().map(|a| a.rsplit('/').next().unwrap_or(a)).unwrap_or_default();
    // A pod_yaml container with its own entrypoint may well be a service; only judge tool
    // containers and YAML containers that run a stdin reader.
    if !(tool || has_command && STDIN_READERS.contains(&base)) {
        return;
    }
    let name = str_of(c, "name");
    f.warning(
        at.clone(),
        "Container Exits Immediately",
        format!(
            "Container {name:?} runs {} without a TTY, so it exits before a pipeline `container('{name}')` step can exec into it. Use command [\"cat\"] with tty = true, or [\"sleep\", \"infinity\"].",
            if argv.is_empty() { "its image's entrypoint".to_owned() } else { format!("{:?}", argv.join(" ")) }
        ),
    );
}

fn docker_socket(b: &Built, f: &mut Findings) {
    for v in container_or_volume(&b.pod, "volumes") {
        let hp = v.get("hostPath").and_then(Value::as_mapping).and_then(|h| h.get("path")).and_then(Value::as_str);
        if let Some(p) = hp.filter(|p| p.ends_with("docker.sock")) {
            let name = str_of(v, "name");
            let at = match b.volume_origin.get(name) {
                Some(o) if o.to_string().starts_with("volume") => o.then_attr("host_path"),
                Some(o) => o.clone(),
                None => AttributePath::attr("pod_yaml"),
            };
            f.warning(
                at,
                "Docker Socket Mounted",
                format!(
                    "Volume {name:?} mounts the node's {p}: builds get root on the node, and EKS nodes run containerd (dockershim was removed in 1.24) so the socket is usually absent. Build images with kaniko or buildkit instead."
                ),
            );
        }
    }
}

fn container_or_volume<'a>(pod: &'a Mapping, key: &str) -> Vec<&'a Mapping> {
    pod_spec(pod)
        .and_then(|s| s.get(key))
        .and_then(Value::as_sequence)
        .map(|s| s.iter().filter_map(Value::as_mapping).collect())
        .unwrap_or_default()
}

fn run_as_user(m: &Mapping) -> Option<String> {
    let v = m.get("securityContext").and_then(Value::as_mapping)?.get("runAsUser")?;
    Some(serde_yaml_ng::to_string(v).unwrap_or_default().trim().to_owned())
}

fn mixed_uids(pod: &Mapping, containers: &[&Mapping], f: &mut Findings) {
    let pod_uid = pod_spec(pod).and_then(run_as_user);
    let uids: BTreeSet<Option<String>> =
        containers.iter().map(|c| run_as_user(c).or_else(|| pod_uid.clone())).collect();
    let explicit = uids.iter().flatten().count();
    if uids.len() > 1 && explicit > 0 {
        let shown: Vec<String> = uids.iter().map(|u| u.clone().unwrap_or_else(|| "image default".into())).collect();
        f.warning(
            AttributePath::attr("pod_yaml"),
            "Containers Run As Different Users",
            format!(
                "Containers run as different users ({}); the workspace is shared, so files written by one are not writable by another and `sh` steps can hang. Set one runAsUser in the pod securityContext.",
                shown.join(", ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::is_long_running;

    #[test]
    fn long_running_commands() {
        let yes: &[&[&str]] = &[
            &["sleep", "infinity"],
            &["sleep", "3600"],
            &["tail", "-f", "/dev/null"],
            &["sh", "-c", "sleep infinity"],
            &["/bin/bash", "-c", "while true; do sleep 1; done"],
        ];
        for argv in yes {
            let v: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
            assert!(is_long_running(&v), "{argv:?}");
        }
        let no: &[&[&str]] = &[&["cat"], &["true"], &["sleep", "1"], &["sh"], &["sh", "-c", "make"], &[]];
        for argv in no {
            let v: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
            assert!(!is_long_running(&v), "{argv:?}");
        }
    }
}
