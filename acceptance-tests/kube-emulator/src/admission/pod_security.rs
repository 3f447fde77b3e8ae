//! Pod Security admission (the `pod-security.kubernetes.io/enforce` namespace label): the baseline
//! and restricted checks with the real reasons and details, in the real order. Texts and order
//! from k8s.io/pod-security-admission `policy/check_*.go` and `policy/registry.go`: the checks run
//! in file-name order, baseline checks first; the baseline checks marked "overlap" (added
//! capabilities, hostPath volumes, Unconfined seccomp) only at the baseline level, because a
//! restricted check covers them. Not covered: AppArmor, SELinux options, sysctls, Windows host
//! process, probe/lifecycle host fields. Pure.

use serde_json::Value;
use std::collections::BTreeSet;

/// The enforce label.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// The enforce-version label.
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";

/// A policy level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// No checks.
    Privileged,
    /// Known privilege escalations.
    Baseline,
    /// Hardened pods.
    Restricted,
}

impl Level {
    /// The level a namespace's labels enforce (no label: privileged; unknown value: restricted, as
    /// the real admission treats an invalid level).
    pub fn of_namespace(labels: Option<&Value>) -> (Level, String) {
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        let level = match label(ENFORCE_LABEL) {
            None | Some("privileged") => Level::Privileged,
            Some("baseline") => Level::Baseline,
            Some(_) => Level::Restricted,
        };
        (level, label(ENFORCE_VERSION_LABEL).unwrap_or("latest").to_string())
    }

    fn name(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

fn pluralize(one: &'static str, many: &'static str, n: usize) -> &'static str {
    if n == 1 { one } else { many }
}

fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    items.iter().map(|s| format!("{:?}", s.as_ref())).collect::<Vec<_>>().join(", ")
}

/// Init containers, containers, ephemeral containers: the order the real checks visit them.
fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| spec.get(*k).and_then(Value::as_array).into_iter().flatten())
        .collect()
}

fn cname(c: &Value) -> String {
    c.get("name").and_then(Value::as_str).unwrap_or("").to_string()
}

fn sc<'a>(c: &'a Value, path: &str) -> Option<&'a Value> {
    c.pointer(&format!("/securityContext/{path}"))
}

type Check = fn(&Value) -> Option<(&'static str, String)>;

fn host_namespaces(spec: &Value) -> Option<(&'static str, String)> {
    let set: Vec<&str> = ["hostIPC", "hostNetwork", "hostPID"]
        .into_iter()
        .filter(|k| spec.get(*k) == Some(&Value::Bool(true)))
        .collect();
    (!set.is_empty()).then(|| ("host namespaces", set.join(", ")))
}

fn host_ports(spec: &Value) -> Option<(&'static str, String)> {
    let mut bad = vec![];
    let mut ports = BTreeSet::new();
    for c in containers(spec) {
        let mut uses = false;
        for p in c.get("ports").and_then(Value::as_array).into_iter().flatten() {
            if let Some(hp) = p.get("hostPort").and_then(Value::as_i64).filter(|hp| *hp != 0) {
                uses = true;
                ports.insert(hp.to_string());
            }
        }
        if uses {
            bad.push(cname(c));
        }
    }
    (!bad.is_empty()).then(|| {
        let ports: Vec<String> = ports.into_iter().collect();
        (
            "hostPort",
            format!(
                "{} {} {} {} {}",
                pluralize("container", "containers", bad.len()),
                join_quote(&bad),
                pluralize("uses", "use", bad.len()),
                pluralize("hostPort", "hostPorts", ports.len()),
                ports.join(", ")
            ),
        )
    })
}

fn privileged(spec: &Value) -> Option<(&'static str, String)> {
    let bad: Vec<String> =
        containers(spec).into_iter().filter(|c| sc(c, "privileged") == Some(&Value::Bool(true))).map(cname).collect();
    (!bad.is_empty()).then(|| {
        (
            "privileged",
            format!(
                "{} {} must not set securityContext.privileged=true",
                pluralize("container", "containers", bad.len()),
                join_quote(&bad)
            ),
        )
    })
}

fn proc_mount(spec: &Value) -> Option<(&'static str, String)> {
    let mut bad = vec![];
    let mut values = BTreeSet::new();
    for c in containers(spec) {
        if let Some(v) = sc(c, "procMount").and_then(Value::as_str).filter(|v| *v != "Default") {
            bad.push(cname(c));
            values.insert(v.to_string());
        }
    }
    (!bad.is_empty()).then(|| {
        let values: Vec<String> = values.into_iter().collect();
        (
            "procMount",
            format!(
                "{} {} must not set securityContext.procMount to {}",
                pluralize("container", "containers", bad.len()),
                join_quote(&bad),
                join_quote(&values)
            ),
        )
    })
}

const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn added_capabilities(c: &Value) -> Vec<String> {
    sc(c, "capabilities/add")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

fn capabilities_baseline(spec: &Value) -> Option<(&'static str, String)> {
    let mut bad = vec![];
    let mut caps = BTreeSet::new();
    for c in containers(spec) {
        let extra: Vec<String> =
            added_capabilities(c).into_iter().filter(|a| !DEFAULT_CAPABILITIES.contains(&a.as_str())).collect();
        if !extra.is_empty() {
            bad.push(cname(c));
            caps.extend(extra);
        }
    }
    (!bad.is_empty()).then(|| {
        let caps: Vec<String> = caps.into_iter().collect();
        (
            "non-default capabilities",
            format!(
                "{} {} must not include {} in securityContext.capabilities.add",
                pluralize("container", "containers", bad.len()),
                join_quote(&bad),
                join_quote(&caps)
            ),
        )
    })
}

fn host_path_volumes(spec: &Value) -> Option<(&'static str, String)> {
    let bad: Vec<String> = volumes(spec)
        .into_iter()
        .filter(|v| v.get("hostPath").is_some_and(|h| !h.is_null()))
        .map(|v| v.get("name").and_then(Value::as_str).unwrap_or("").to_string())
        .collect();
    (!bad.is_empty())
        .then(|| ("hostPath volumes", format!("{} {}", pluralize("volume", "volumes", bad.len()), join_quote(&bad))))
}

fn volumes(spec: &Value) -> Vec<&Value> {
    spec.get("volumes").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default()
}

fn seccomp_type(v: Option<&Value>) -> Option<&str> {
    v.and_then(|p| p.get("type")).and_then(Value::as_str)
}

fn seccomp_baseline(spec: &Value) -> Option<(&'static str, String)> {
    let mut setters = vec![];
    if seccomp_type(spec.pointer("/securityContext/seccompProfile")) == Some("Unconfined") {
        setters.push("pod".to_string());
    }
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| seccomp_type(sc(c, "seccompProfile")) == Some("Unconfined"))
        .map(cname)
        .collect();
    if !bad.is_empty() {
        setters.push(format!("{} {}", pluralize("container", "containers", bad.len()), join_quote(&bad)));
    }
    (!setters.is_empty()).then(|| {
        (
            "seccompProfile",
            format!("{} must not set securityContext.seccompProfile.type to \"Unconfined\"", setters.join(" and ")),
        )
    })
}

fn allow_privilege_escalation(spec: &Value) -> Option<(&'static str, String)> {
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| sc(c, "allowPrivilegeEscalation") != Some(&Value::Bool(false)))
        .map(cname)
        .collect();
    (!bad.is_empty()).then(|| {
        (
            "allowPrivilegeEscalation != false",
            format!(
                "{} {} must set securityContext.allowPrivilegeEscalation=false",
                pluralize("container", "containers", bad.len()),
                join_quote(&bad)
            ),
        )
    })
}

fn capabilities_restricted(spec: &Value) -> Option<(&'static str, String)> {
    let mut missing_drop = vec![];
    let mut adding = vec![];
    let mut forbidden = BTreeSet::new();
    for c in containers(spec) {
        let dropped_all = sc(c, "capabilities/drop")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
        if !dropped_all {
            missing_drop.push(cname(c));
        }
        let extra: Vec<String> = added_capabilities(c).into_iter().filter(|a| a != "NET_BIND_SERVICE").collect();
        if !extra.is_empty() {
            adding.push(cname(c));
            forbidden.extend(extra);
        }
    }
    let mut details = vec![];
    if !missing_drop.is_empty() {
        details.push(format!(
            "{} {} must set securityContext.capabilities.drop=[\"ALL\"]",
            pluralize("container", "containers", missing_drop.len()),
            join_quote(&missing_drop)
        ));
    }
    if !adding.is_empty() {
        let forbidden: Vec<String> = forbidden.into_iter().collect();
        details.push(format!(
            "{} {} must not include {} in securityContext.capabilities.add",
            pluralize("container", "containers", adding.len()),
            join_quote(&adding),
            join_quote(&forbidden)
        ));
    }
    (!details.is_empty()).then(|| ("unrestricted capabilities", details.join("; ")))
}

/// Volume sources the restricted level allows (a volume with no source defaults to emptyDir).
const ALLOWED_VOLUME_SOURCES: &[&str] =
    &["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

fn restricted_volumes(spec: &Value) -> Option<(&'static str, String)> {
    let mut bad = vec![];
    let mut types = BTreeSet::new();
    for v in volumes(spec) {
        let sources: Vec<&String> =
            v.as_object().into_iter().flatten().filter(|(k, s)| *k != "name" && !s.is_null()).map(|(k, _)| k).collect();
        let restricted: Vec<&&String> =
            sources.iter().filter(|s| !ALLOWED_VOLUME_SOURCES.contains(&s.as_str())).collect();
        if !restricted.is_empty() {
            bad.push(v.get("name").and_then(Value::as_str).unwrap_or("").to_string());
            types.extend(restricted.into_iter().map(|s| s.to_string()));
        }
    }
    (!bad.is_empty()).then(|| {
        let types: Vec<String> = types.into_iter().collect();
        (
            "restricted volume types",
            format!(
                "{} {} {} {} {}",
                pluralize("volume", "volumes", bad.len()),
                join_quote(&bad),
                pluralize("uses", "use", bad.len()),
                pluralize("restricted volume type", "restricted volume types", types.len()),
                join_quote(&types)
            ),
        )
    })
}

/// The pod-or-container pattern of runAsNonRoot and seccompProfile: explicit bad values first,
/// else containers that neither set a good value nor inherit one from the pod.
fn pod_or_container(spec: &Value, field: &str, good: impl Fn(&Value) -> bool) -> (Vec<String>, Vec<String>, bool) {
    let pod_value = spec.pointer(&format!("/securityContext/{field}")).filter(|v| !v.is_null());
    let mut setters = vec![];
    let pod_good = match pod_value {
        Some(v) if good(v) => true,
        Some(_) => {
            setters.push("pod".to_string());
            false
        }
        None => false,
    };
    let mut explicit = vec![];
    let mut implicit = vec![];
    for c in containers(spec) {
        match sc(c, field).filter(|v| !v.is_null()) {
            Some(v) if !good(v) => explicit.push(cname(c)),
            Some(_) => {}
            None if !pod_good => implicit.push(cname(c)),
            None => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(format!("{} {}", pluralize("container", "containers", explicit.len()), join_quote(&explicit)));
    }
    (setters, implicit, pod_good)
}

fn run_as_non_root(spec: &Value) -> Option<(&'static str, String)> {
    let (setters, implicit, _) = pod_or_container(spec, "runAsNonRoot", |v| v == &Value::Bool(true));
    if !setters.is_empty() {
        return Some((
            "runAsNonRoot != true",
            format!("{} must not set securityContext.runAsNonRoot=false", setters.join(" and ")),
        ));
    }
    (!implicit.is_empty()).then(|| {
        (
            "runAsNonRoot != true",
            format!(
                "pod or {} {} must set securityContext.runAsNonRoot=true",
                pluralize("container", "containers", implicit.len()),
                join_quote(&implicit)
            ),
        )
    })
}

fn run_as_user(spec: &Value) -> Option<(&'static str, String)> {
    let mut setters = vec![];
    if spec.pointer("/securityContext/runAsUser").and_then(Value::as_i64) == Some(0) {
        setters.push("pod".to_string());
    }
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| sc(c, "runAsUser").and_then(Value::as_i64) == Some(0))
        .map(cname)
        .collect();
    if !bad.is_empty() {
        setters.push(format!("{} {}", pluralize("container", "containers", bad.len()), join_quote(&bad)));
    }
    (!setters.is_empty()).then(|| ("runAsUser=0", format!("{} must not set runAsUser=0", setters.join(" and "))))
}

fn seccomp_restricted(spec: &Value) -> Option<(&'static str, String)> {
    let valid = |p: &Value| matches!(seccomp_type(Some(p)), Some("RuntimeDefault" | "Localhost"));
    let (setters, implicit, _) = pod_or_container(spec, "seccompProfile", valid);
    if !setters.is_empty() {
        let mut values = BTreeSet::new();
        if let Some(p) = spec.pointer("/securityContext/seccompProfile").filter(|p| !p.is_null() && !valid(p)) {
            values.insert(seccomp_type(Some(p)).unwrap_or("").to_string());
        }
        for c in containers(spec) {
            if let Some(p) = sc(c, "seccompProfile").filter(|p| !p.is_null() && !valid(p)) {
                values.insert(seccomp_type(Some(p)).unwrap_or("").to_string());
            }
        }
        let values: Vec<String> = values.into_iter().collect();
        return Some((
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(&values)
            ),
        ));
    }
    (!implicit.is_empty()).then(|| {
        (
            "seccompProfile",
            format!(
                "pod or {} {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                pluralize("container", "containers", implicit.len()),
                join_quote(&implicit)
            ),
        )
    })
}

/// Baseline checks every non-privileged level runs, in the real order.
const BASELINE: &[Check] = &[host_namespaces, host_ports, privileged, proc_mount];
/// Baseline checks a restricted check covers: run at the baseline level only.
const BASELINE_OVERLAP: &[Check] = &[capabilities_baseline, host_path_volumes, seccomp_baseline];
/// Restricted checks, in the real order.
const RESTRICTED: &[Check] = &[
    allow_privilege_escalation,
    capabilities_restricted,
    restricted_volumes,
    run_as_non_root,
    run_as_user,
    seccomp_restricted,
];

/// The refusal text (after `pods "NAME" is forbidden: `) for a pod spec, or `None` if allowed.
pub fn evaluate(level: Level, version: &str, spec: &Value) -> Option<String> {
    let extra = match level {
        Level::Privileged => return None,
        Level::Baseline => BASELINE_OVERLAP,
        Level::Restricted => RESTRICTED,
    };
    let failures: Vec<String> = BASELINE
        .iter()
        .chain(extra)
        .filter_map(|check| check(spec))
        .map(|(reason, detail)| if detail.is_empty() { reason.to_string() } else { format!("{reason} ({detail})") })
        .collect();
    (!failures.is_empty())
        .then(|| format!("violates PodSecurity \"{}:{version}\": {}", level.name(), failures.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jnlp() -> Value {
        json!({"containers": [{"name": "jnlp", "image": "jenkins/inbound-agent"}]})
    }

    #[test]
    fn an_unhardened_agent_fails_restricted_with_the_real_message() {
        assert_eq!(
            evaluate(Level::Restricted, "latest", &jnlp()).unwrap(),
            "violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"jnlp\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"jnlp\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"jnlp\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"jnlp\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
        assert_eq!(evaluate(Level::Baseline, "latest", &jnlp()), None);
        assert_eq!(evaluate(Level::Privileged, "latest", &json!({"hostNetwork": true})), None);
    }

    #[test]
    fn a_hardened_agent_passes_restricted() {
        let spec = json!({
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "jnlp", "securityContext": {"allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}],
            "volumes": [{"name": "ws", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "c"}}, {"name": "implicit"}]
        });
        assert_eq!(evaluate(Level::Restricted, "latest", &spec), None);
    }

    #[test]
    fn baseline_violations_in_order() {
        let spec = json!({
            "hostNetwork": true, "hostPID": true,
            "containers": [
                {"name": "a", "securityContext": {"privileged": true, "capabilities": {"add": ["NET_ADMIN", "CHOWN"]}},
                 "ports": [{"containerPort": 80, "hostPort": 80}]},
                {"name": "b", "securityContext": {"privileged": true}, "ports": [{"hostPort": 443}]}
            ],
            "volumes": [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]
        });
        assert_eq!(
            evaluate(Level::Baseline, "v1.33", &spec).unwrap(),
            "violates PodSecurity \"baseline:v1.33\": host namespaces (hostNetwork, hostPID), hostPort (containers \"a\", \"b\" use hostPorts 443, 80), privileged (containers \"a\", \"b\" must not set securityContext.privileged=true), non-default capabilities (container \"a\" must not include \"NET_ADMIN\" in securityContext.capabilities.add), hostPath volumes (volume \"docker\")"
        );
        let restricted = evaluate(Level::Restricted, "latest", &spec).unwrap();
        assert!(
            !restricted.contains("non-default capabilities") && !restricted.contains("hostPath volumes"),
            "{restricted}"
        );
        assert!(
            restricted.contains("restricted volume types (volume \"docker\" uses restricted volume type \"hostPath\")"),
            "{restricted}"
        );
        assert!(
            restricted.contains("containers \"a\", \"b\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"a\" must not include \"CHOWN\", \"NET_ADMIN\" in securityContext.capabilities.add"),
            "{restricted}"
        );
    }

    #[test]
    fn explicit_bad_values_are_named() {
        let spec = json!({
            "securityContext": {"runAsNonRoot": false, "runAsUser": 0, "seccompProfile": {"type": "Unconfined"}},
            "initContainers": [{"name": "init", "securityContext": {"runAsNonRoot": false}}],
            "containers": [{"name": "jnlp", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
        });
        let msg = evaluate(Level::Restricted, "latest", &spec).unwrap();
        assert!(
            msg.contains(
                "runAsNonRoot != true (pod and container \"init\" must not set securityContext.runAsNonRoot=false)"
            ),
            "{msg}"
        );
        assert!(msg.contains("runAsUser=0 (pod must not set runAsUser=0)"), "{msg}");
        assert!(
            msg.contains("seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")"),
            "{msg}"
        );
        assert_eq!(
            Level::of_namespace(Some(&json!({ENFORCE_LABEL: "restricted"}))),
            (Level::Restricted, "latest".to_string())
        );
        assert_eq!(Level::of_namespace(None).0, Level::Privileged);
    }
}
