//! Pod admission as the API server runs it on create (also for `dryRun=All`): the mutating phase
//! (LimitRanger defaults, then ServiceAccount, then EKS's pod identity webhook), then, after object validation, the validating
//! phase (LimitRanger limits, Pod Security, ResourceQuota), in the real plugin order
//! (kubernetes `pkg/kubeapiserver/options/plugins.go`). Each refusal is the text after
//! `pods "NAME" is forbidden: `. Pure: the caller gathers the namespace's objects.

pub mod eks_web_identity;
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
    /// The pod's service account, if it exists.
    pub service_account: Option<&'a Value>,
    /// The random part of the token volume's name (`kube-api-access-<suffix>`).
    pub token_volume_suffix: &'a str,
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

/// Where the ServiceAccount plugin mounts the token.
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The mutating phase: LimitRange defaults (with their annotation), then the ServiceAccount plugin
/// (`serviceAccountName` is already defaulted to `default`): the account must exist; its token is
/// mounted unless automounting is off, and its image pull secrets are copied when the pod has none
/// (kubernetes `plugin/pkg/admission/serviceaccount/admission.go`).
pub fn mutate(env: &PodEnv, ns: &str, pod: &mut Value) -> Result<(), String> {
    if let Some(spec) = pod.get_mut("spec")
        && let Some(note) = limits::apply_defaults(env.limit_ranges, spec)
    {
        pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] = json!(note);
    }
    let Some(sa) = env.service_account else {
        let sa = pod.pointer("/spec/serviceAccountName").and_then(Value::as_str).unwrap_or("default");
        return Err(format!("error looking up service account {ns}/{sa}: serviceaccount {sa:?} not found"));
    };
    let Some(spec) = pod.get_mut("spec").filter(|s| s.is_object()) else { return Ok(()) };
    let automount = spec
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool)
        .or_else(|| sa.get("automountServiceAccountToken").and_then(Value::as_bool))
        .unwrap_or(true);
    if automount {
        mount_token(spec, env.token_volume_suffix);
    }
    let has_pull_secrets = spec.get("imagePullSecrets").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    if let Some(secrets) =
        sa.get("imagePullSecrets").filter(|s| !has_pull_secrets && s.as_array().is_some_and(|a| !a.is_empty()))
    {
        spec["imagePullSecrets"] = secrets.clone();
    }
    // Then the mutating webhooks: EKS's pod identity webhook.
    eks_web_identity::inject(sa, pod);
    Ok(())
}

/// The projected `kube-api-access-*` volume (token, cluster CA, namespace) and its read-only mount in
/// every container that has nothing mounted at [`TOKEN_MOUNT_PATH`].
fn mount_token(spec: &mut Value, suffix: &str) {
    let name = format!("kube-api-access-{suffix}");
    let mut mounted_any = false;
    for list in ["initContainers", "containers"] {
        for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            let mounts = c.get("volumeMounts").and_then(Value::as_array);
            if mounts.is_some_and(|m| {
                m.iter().any(|vm| vm.get("mountPath").and_then(Value::as_str) == Some(TOKEN_MOUNT_PATH))
            }) {
                continue;
            }
            let mount = json!({"name": name, "readOnly": true, "mountPath": TOKEN_MOUNT_PATH});
            match c.get_mut("volumeMounts").and_then(Value::as_array_mut) {
                Some(m) => m.push(mount),
                None => c["volumeMounts"] = json!([mount]),
            }
            mounted_any = true;
        }
    }
    if !mounted_any {
        return;
    }
    let volume = json!({"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
    ]}});
    match spec.get_mut("volumes").and_then(Value::as_array_mut) {
        Some(v) => v.push(volume),
        None => spec["volumes"] = json!([volume]),
    }
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
        let sa = json!({"metadata": {"name": "default"}, "imagePullSecrets": [{"name": "registry"}]});
        let env = PodEnv {
            namespace_labels: Some(&labels),
            service_account: Some(&sa),
            token_volume_suffix: "abcde",
            limit_ranges: std::slice::from_ref(&lr),
            quotas: std::slice::from_ref(&q),
            pods: &[],
        };
        // Defaults make the pod satisfy the quota's "must specify".
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "jnlp"}]}});
        mutate(&env, "ns", &mut pod).unwrap();
        assert_eq!(pod["spec"]["containers"][0]["resources"]["limits"]["cpu"], "1");
        assert!(pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"].is_string());
        assert_eq!(
            pod["spec"]["containers"][0]["volumeMounts"],
            json!([{"name": "kube-api-access-abcde", "readOnly": true, "mountPath": TOKEN_MOUNT_PATH}])
        );
        assert_eq!(pod["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["path"], "token");
        assert_eq!(pod["spec"]["imagePullSecrets"], json!([{"name": "registry"}]));
        validate(&env, &pod).unwrap();
        // LimitRanger refuses before Pod Security looks at the pod.
        pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("2");
        pod["spec"]["hostNetwork"] = json!(true);
        assert_eq!(validate(&env, &pod).unwrap_err(), "maximum cpu usage per Container is 1, but limit is 2");
        pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!("1");
        assert!(
            validate(&env, &pod).unwrap_err().starts_with("violates PodSecurity \"baseline:latest\": host namespaces")
        );
        let mut quiet = json!({"spec": {"automountServiceAccountToken": false, "containers": [{"name": "a"}]}});
        mutate(&env, "ns", &mut quiet).unwrap();
        assert!(quiet["spec"].get("volumes").is_none(), "automounting off: no token volume");
        let missing = PodEnv { service_account: None, ..env };
        let mut pod = json!({"spec": {"serviceAccountName": "jenkins", "containers": []}});
        assert_eq!(
            mutate(&missing, "ns", &mut pod).unwrap_err(),
            "error looking up service account ns/jenkins: serviceaccount \"jenkins\" not found"
        );
    }
}
