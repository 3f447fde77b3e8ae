//! What a pod names that the API server does not check at creation but the kubelet needs before
//! the containers start: ConfigMaps, Secrets and PersistentVolumeClaims named by volumes
//! (projected ones included), `envFrom` and `env[].valueFrom`, and image pull secrets. A missing
//! one leaves the agent pod in `ContainerCreating` or `CreateContainerConfigError` until the
//! plugin gives up. References marked `optional: true` are left out: the kubelet tolerates them.

use serde_json::Value;

/// The kind of object a pod refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefKind {
    ConfigMap,
    Secret,
    PersistentVolumeClaim,
}

impl RefKind {
    /// The kind as Kubernetes spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::ConfigMap => "ConfigMap",
            RefKind::Secret => "Secret",
            RefKind::PersistentVolumeClaim => "PersistentVolumeClaim",
        }
    }
}

/// One required object (and key, for `env[].valueFrom`), with where the pod names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    pub kind: RefKind,
    pub name: String,
    /// A key the object must hold, for key references.
    pub key: Option<String>,
    /// Where the pod names it, e.g. `volume "aws-config"` or `env AWS_KEY of container "aws"`.
    pub via: String,
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn optional(v: &Value) -> bool {
    v.get("optional").and_then(Value::as_bool).unwrap_or(false)
}

fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// The service account the pod runs as: `serviceAccountName`, the deprecated `serviceAccount`,
/// else `default`.
pub fn service_account(pod: &Value) -> String {
    let spec = &pod["spec"];
    str_at(spec, "serviceAccountName").or_else(|| str_at(spec, "serviceAccount")).unwrap_or("default").to_string()
}

/// Every required reference of `pod` (a Pod object as JSON), sorted and without duplicates.
pub fn pod_references(pod: &Value) -> Vec<Reference> {
    let spec = &pod["spec"];
    let mut out = Vec::new();
    let mut push = |kind, name: &str, key: Option<&str>, via: String| {
        out.push(Reference { kind, name: name.to_string(), key: key.map(str::to_string), via })
    };
    for volume in items(spec, "volumes") {
        let via = format!("volume {:?}", str_at(volume, "name").unwrap_or(""));
        if let Some(cm) = volume.get("configMap").filter(|c| !optional(c))
            && let Some(name) = str_at(cm, "name")
        {
            push(RefKind::ConfigMap, name, None, via.clone());
        }
        if let Some(s) = volume.get("secret").filter(|c| !optional(c))
            && let Some(name) = str_at(s, "secretName")
        {
            push(RefKind::Secret, name, None, via.clone());
        }
        if let Some(name) = volume.get("persistentVolumeClaim").and_then(|p| str_at(p, "claimName")) {
            push(RefKind::PersistentVolumeClaim, name, None, via.clone());
        }
        for source in volume.get("projected").into_iter().flat_map(|p| items(p, "sources")) {
            if let Some(cm) = source.get("configMap").filter(|c| !optional(c))
                && let Some(name) = str_at(cm, "name")
            {
                push(RefKind::ConfigMap, name, None, format!("{via} (projected)"));
            }
            if let Some(s) = source.get("secret").filter(|c| !optional(c))
                && let Some(name) = str_at(s, "name")
            {
                push(RefKind::Secret, name, None, format!("{via} (projected)"));
            }
        }
    }
    let containers = ["initContainers", "containers", "ephemeralContainers"].into_iter().flat_map(|k| items(spec, k));
    for c in containers {
        let container = str_at(c, "name").unwrap_or("");
        for from in items(c, "envFrom") {
            let via = format!("envFrom of container {container:?}");
            if let Some(r) = from.get("configMapRef").filter(|r| !optional(r))
                && let Some(name) = str_at(r, "name")
            {
                push(RefKind::ConfigMap, name, None, via.clone());
            }
            if let Some(r) = from.get("secretRef").filter(|r| !optional(r))
                && let Some(name) = str_at(r, "name")
            {
                push(RefKind::Secret, name, None, via);
            }
        }
        for env in items(c, "env") {
            let Some(from) = env.get("valueFrom") else { continue };
            let via = format!("env {} of container {container:?}", str_at(env, "name").unwrap_or(""));
            for (field, kind) in [("configMapKeyRef", RefKind::ConfigMap), ("secretKeyRef", RefKind::Secret)] {
                if let Some(r) = from.get(field).filter(|r| !optional(r))
                    && let Some(name) = str_at(r, "name")
                {
                    push(kind, name, str_at(r, "key"), via.clone());
                }
            }
        }
    }
    for s in items(spec, "imagePullSecrets") {
        if let Some(name) = str_at(s, "name") {
            push(RefKind::Secret, name, None, "imagePullSecrets".into());
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(refs: &[Reference]) -> Vec<String> {
        refs.iter()
            .map(|r| {
                format!(
                    "{} {}{} <- {}",
                    r.kind.as_str(),
                    r.name,
                    r.key.as_deref().map(|k| format!("[{k}]")).unwrap_or_default(),
                    r.via
                )
            })
            .collect()
    }

    #[test]
    fn every_place_a_pod_names_an_object() {
        let pod = json!({"spec": {
            "serviceAccountName": "agent",
            "imagePullSecrets": [{"name": "regcred"}],
            "volumes": [
                {"name": "aws", "configMap": {"name": "awsconfig"}},
                {"name": "opt", "configMap": {"name": "maybe", "optional": true}},
                {"name": "tls", "secret": {"secretName": "certs"}},
                {"name": "cache", "persistentVolumeClaim": {"claimName": "m2"}},
                {"name": "all", "projected": {"sources": [
                    {"configMap": {"name": "p-cm"}}, {"secret": {"name": "p-s", "optional": true}},
                    {"serviceAccountToken": {"path": "t"}}]}},
                {"name": "scratch", "emptyDir": {}}
            ],
            "initContainers": [{"name": "init", "envFrom": [{"secretRef": {"name": "init-env"}}]}],
            "containers": [{"name": "maven", "env": [
                {"name": "A", "value": "x"},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
                {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "o", "key": "k", "optional": true}}},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
            ], "envFrom": [{"configMapRef": {"name": "settings"}}]}]
        }});
        assert_eq!(service_account(&pod), "agent");
        assert_eq!(
            names(&pod_references(&pod)),
            [
                "ConfigMap awsconfig <- volume \"aws\"",
                "ConfigMap p-cm <- volume \"all\" (projected)",
                "ConfigMap settings <- envFrom of container \"maven\"",
                "Secret api[token] <- env TOKEN of container \"maven\"",
                "Secret certs <- volume \"tls\"",
                "Secret init-env <- envFrom of container \"init\"",
                "Secret regcred <- imagePullSecrets",
                "PersistentVolumeClaim m2 <- volume \"cache\"",
            ]
        );
    }

    #[test]
    fn a_pod_without_references_names_default() {
        let pod = json!({"spec": {"containers": [{"name": "jnlp", "image": "x"}]}});
        assert!(pod_references(&pod).is_empty());
        assert_eq!(service_account(&pod), "default");
        assert_eq!(service_account(&json!({"spec": {"serviceAccount": "old"}})), "old");
    }
}
