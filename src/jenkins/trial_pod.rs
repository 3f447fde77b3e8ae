//! The pod a preflight sends to the API server as a dry run: a template's effective pod with the
//! values only the plugin knows at launch filled in plausibly, so admission judges the pod the
//! plugin will create and not our placeholders.
//!
//! The plugin names agent pods `<template name>-<5 random characters>` and labels them with the
//! label digest and the controller's identity (`shared/reference/jenkins-side.md` §2); here the
//! suffix is derived from the template name, so the same template always gets the same trial name.

use super::inherit::RUNTIME;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What `effective_pods` shows for the agent image when the cloud leaves it to the plugin.
const PLUGIN_DEFAULT: &str = "(plugin default)";

/// A pod ready for a dry run, and the namespace it is created in.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialPod {
    pub name: String,
    pub namespace: String,
    /// The Pod object as JSON.
    pub pod: Value,
}

/// The trial pod for `template` from its effective pod YAML. `fallback_namespace` is used when the
/// pod, its template and the cloud name none (the plugin then uses its client's namespace).
pub fn trial_pod(template: &str, effective_yaml: &str, fallback_namespace: &str) -> Result<TrialPod, String> {
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(effective_yaml)
        .map_err(|e| format!("the effective pod of template {template:?} does not parse: {e}"))?;
    let mut pod = serde_json::to_value(yaml).map_err(|e| format!("the effective pod of {template:?}: {e}"))?;
    if !pod.is_object() {
        return Err(format!("the effective pod of template {template:?} is not a Pod object"));
    }
    fill_placeholders(&mut pod);
    let name = trial_name(template);
    let namespace = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(fallback_namespace)
        .to_string();
    let metadata = pod
        .as_object_mut()
        .and_then(|o| o.entry("metadata").or_insert_with(|| Value::Object(Default::default())).as_object_mut());
    if let Some(md) = metadata {
        md.insert("name".into(), Value::String(name.clone()));
        md.insert("namespace".into(), Value::String(namespace.clone()));
    }
    Ok(TrialPod { name, namespace, pod })
}

/// `<template>-preflight-xxxxx`, a valid DNS-1123 subdomain of at most 63 characters.
pub fn trial_name(template: &str) -> String {
    let mut base: String = template
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .collect();
    base = base.trim_matches('-').to_string();
    if base.is_empty() {
        base = "agent".into();
    }
    let digest = Sha256::digest(template.as_bytes());
    let suffix: String =
        digest.iter().take(5).map(|b| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[*b as usize % 36])).collect();
    let tail = format!("-preflight-{suffix}");
    base.truncate(63 - tail.len());
    format!("{}{tail}", base.trim_end_matches('-'))
}

/// Replaces the launch-time placeholders: `(runtime)` anywhere becomes a plausible value (valid
/// as a label value too), and the plugin's default agent image tag becomes `latest`.
fn fill_placeholders(v: &mut Value) {
    match v {
        Value::String(s) if s.contains(RUNTIME) => *s = s.replace(RUNTIME, "preflight"),
        Value::String(s) if s.contains(PLUGIN_DEFAULT) => *s = s.replace(PLUGIN_DEFAULT, "latest"),
        Value::Array(items) => items.iter_mut().for_each(fill_placeholders),
        Value::Object(map) => map.values_mut().for_each(fill_placeholders),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: "(runtime)"
  namespace: agents
  labels:
    jenkins/label-digest: "(runtime)"
spec:
  containers:
    - name: jnlp
      image: "jenkins/inbound-agent:(plugin default)"
      env:
        - name: JENKINS_SECRET
          value: "(runtime)"
      resources:
        requests:
          cpu: 100m
"#;

    #[test]
    fn placeholders_become_plausible_values() {
        let t = trial_pod("Base Agent", POD, "jenkins").unwrap();
        assert_eq!(t.namespace, "agents");
        assert!(
            t.name.starts_with("base-agent-preflight-") && t.name.len() == "base-agent-preflight-".len() + 5,
            "{}",
            t.name
        );
        assert_eq!(t.pod["metadata"]["name"], t.name.as_str());
        assert_eq!(t.pod["metadata"]["labels"]["jenkins/label-digest"], "preflight");
        assert_eq!(t.pod["spec"]["containers"][0]["image"], "jenkins/inbound-agent:latest");
        assert_eq!(t.pod["spec"]["containers"][0]["env"][0]["value"], "preflight");
        assert!(!t.pod.to_string().contains('('), "{}", t.pod);
    }

    #[test]
    fn namespace_falls_back_and_names_stay_valid() {
        let t = trial_pod("x", "apiVersion: v1\nkind: Pod\nspec: {containers: []}\n", "jenkins").unwrap();
        assert_eq!(t.namespace, "jenkins");
        assert_eq!(t.pod["metadata"]["namespace"], "jenkins");
        let long = trial_name(&"a".repeat(80));
        assert!(long.len() <= 63, "{long}");
        assert_eq!(trial_name("same"), trial_name("same"));
        assert_ne!(trial_name("one"), trial_name("two"));
    }

    #[test]
    fn a_non_pod_is_refused() {
        assert!(trial_pod("x", "- a\n- b\n", "jenkins").is_err());
    }
}
