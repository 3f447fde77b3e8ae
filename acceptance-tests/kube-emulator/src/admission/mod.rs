//! Pod admission as the API server runs it on create (also for `dryRun=All`): the mutating phase
//! (LimitRanger defaults, then ServiceAccount), then, after object validation, the validating
//! phase (LimitRanger limits, Pod Security, ResourceQuota), in the real plugin order
//! (kubernetes `pkg/kubeapiserver/options/plugins.go`). Each refusal is the text after
//! `pods "NAME" is forbidden: `. Pure: the caller gathers the namespace's objects.

pub mod limits;
pub mod pod_security;
pub mod quota;

use crate::quantity::Quantity;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What admission reads about the pod's namespace.
pub struct PodEnv<'a> {
    /// Labels of the namespace (Pod Security).
    pub namespace_labels: Option<&'a Value>,
    /// Whether the pod's service account exists.
    pub service_account_exists: bool,
    /// LimitRanges of the namespace, by name.
    pub limit_ranges: &'a [Value],
    /// ResourceQuotas of the namespace, by name.
    pub quotas: &'a [Value],
    /// Pods already in the namespace.
    pub pods: &'a [Value],
}

/// A `requests`/`limits`/`hard`-style map, parsed (strings or numbers; unparsable entries skipped,
/// validation reports them).
pub fn resource_list(v: Option<&Value>) -> BTreeMap<String, Quantity> {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Quantity::parse(&text).ok().map(|q| (k.clone(), q))
        })
        .collect()
}

/// The containers of the listed kinds, in that order.
pub fn containers_of<'a>(spec: &'a Value, lists: &[&str]) -> Vec<&'a Value> {
    lists.iter().flat_map(|k| spec.get(*k).and_then(Value::as_array).into_iter().flatten()).collect()
}

/// The mutating phase: LimitRange defaults (with their annotation), then the service account check
/// (`serviceAccountName` is already defaulted to `default`).
pub fn mutate(env: &PodEnv, ns: &str, pod: &mut Value) -> Result<(), String> {
    if let Some(spec) = pod.get_mut("spec")
        && let Some(note) = limits::apply_defaults(env.limit_ranges, spec)
    {
        pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] = json!(note);
    }
    if !env.service_account_exists {
        let sa = pod.pointer("/spec/serviceAccountName").and_then(Value::as_str).unwrap_or("default");
        return Err(format!("error looking up service account {ns}/{sa}: serviceaccount {sa:?} not found"));
    }
    Ok(())
}

/// The validating phase: LimitRange limits, Pod Security, ResourceQuota.
pub fn validate(env: &PodEnv, pod: &Value) -> Result<(), String> {
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let errors = limits::violations(env.limit_ranges, spec);
    match errors.len() {
        0 => {}
        1 => return Err(errors[0].clone()),
        _ => return Err(format!("[{}]", errors.join(", "))),
    }
    let (level, version) = pod_security::Level::of_namespace(env.namespace_labels);
    if let Some(msg) = pod_security::evaluate(level, &version, spec) {
        return Err(msg);
    }
    match quota::check(env.quotas, spec, env.pods) {
        Some(msg) => Err(msg),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_in_the_real_order() {
        let lr = json!({"spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}, "defaultRequest": {"cpu": "1"}, "max": {"cpu": "1"}}]}});
        let q = json!({"metadata": {"name": "q"}, "spec": {"hard": {"limits.cpu": "1"}}});
        let labels = json!({"pod-security.kubernetes.io/enforce": "baseline"});
        let env = PodEnv {
            namespace_labels: Some(&labels),
            service_account_exists: true,
            limit_ranges: std::slice::from_ref(&lr),
            quotas: std::slice::from_ref(&q),
            pods: &[],
        };
        // Defaults make the pod satisfy the quota's "must specify".
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "jnlp"}]}});
        mutate(&env, "ns", &mut pod).unwrap();
        assert_eq!(pod["spec"]["containers"][0]["resources"]["limits"]["cpu"], "1");
        assert!(pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"].is_string());
        validate(&env, &pod).unwrap();
        // LimitRanger refuses before Pod Security looks at the pod.
        pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("2");
        pod["spec"]["hostNetwork"] = json!(true);
        assert_eq!(validate(&env, &pod).unwrap_err(), "maximum cpu usage per Container is 1, but limit is 2");
        pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("1");
        assert!(
            validate(&env, &pod).unwrap_err().starts_with("violates PodSecurity \"baseline:latest\": host namespaces")
        );
        let missing = PodEnv { service_account_exists: false, ..env };
        let mut pod = json!({"spec": {"serviceAccountName": "jenkins", "containers": []}});
        assert_eq!(
            mutate(&missing, "ns", &mut pod).unwrap_err(),
            "error looking up service account ns/jenkins: serviceaccount \"jenkins\" not found"
        );
    }
}
