//! EKS's pod identity webhook (a mutating webhook every EKS cluster runs, after the built-in
//! mutating plugins): a pod whose service account carries `eks.amazonaws.com/role-arn` gets the
//! role's web-identity environment and a projected token for STS in each container, at creation
//! only, which is why running pods keep the credentials they started with.
//! Facts from aws/amazon-eks-pod-identity-webhook `README.md` (the annotated example pod):
//! `AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE` under
//! `/var/run/secrets/eks.amazonaws.com/serviceaccount/`, the `aws-token` projected volume (audience
//! `eks.amazonaws.com/audience`, default `sts.amazonaws.com`; `expirationSeconds` from the pod's or
//! the account's `eks.amazonaws.com/token-expiration`, default 86400), `AWS_STS_REGIONAL_ENDPOINTS`
//! when the account asks, and `eks.amazonaws.com/skip-containers`.

use serde_json::{Value, json};

/// The annotation naming the role.
pub const ROLE_ARN: &str = "eks.amazonaws.com/role-arn";
const MOUNT_PATH: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/";
const VOLUME: &str = "aws-token";

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Adds the role's environment, mount and volume to `pod` when `sa` names a role.
pub fn inject(sa: &Value, pod: &mut Value) {
    let Some(role) = annotation(sa, ROLE_ARN).map(str::to_string) else { return };
    let audience = annotation(sa, "eks.amazonaws.com/audience").unwrap_or("sts.amazonaws.com").to_string();
    let expiration = annotation(pod, "eks.amazonaws.com/token-expiration")
        .or_else(|| annotation(sa, "eks.amazonaws.com/token-expiration"))
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(86400);
    let regional = annotation(sa, "eks.amazonaws.com/sts-regional-endpoints") == Some("true");
    let skip: Vec<String> = annotation(pod, "eks.amazonaws.com/skip-containers")
        .map(|s| s.split(',').map(|n| n.trim().to_string()).collect())
        .unwrap_or_default();
    let Some(spec) = pod.get_mut("spec").filter(|s| s.is_object()) else { return };
    let mut env = vec![
        json!({"name": "AWS_ROLE_ARN", "value": role}),
        json!({"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": format!("{MOUNT_PATH}token")}),
    ];
    if regional {
        env.push(json!({"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"}));
    }
    for list in ["initContainers", "containers"] {
        for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            if c.get("name").and_then(Value::as_str).is_some_and(|n| skip.iter().any(|s| s == n)) {
                continue;
            }
            add_missing(c, "env", &env, "name");
            add_missing(
                c,
                "volumeMounts",
                &[json!({"name": VOLUME, "readOnly": true, "mountPath": MOUNT_PATH})],
                "mountPath",
            );
        }
    }
    let volume = json!({"name": VOLUME, "projected": {"sources": [
        {"serviceAccountToken": {"audience": audience, "expirationSeconds": expiration, "path": "token"}}
    ]}});
    add_missing(spec, "volumes", &[volume], "name");
}

/// Appends each of `items` to the list `key` of `obj` unless one with the same `by` is there.
fn add_missing(obj: &mut Value, key: &str, items: &[Value], by: &str) {
    if !obj.get(key).is_some_and(Value::is_array) {
        obj[key] = json!([]);
    }
    let Some(list) = obj.get_mut(key).and_then(Value::as_array_mut) else { return };
    for item in items {
        if !list.iter().any(|e| e.get(by) == item.get(by)) {
            list.push(item.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_annotation_reaches_each_container_once() {
        let sa = json!({"metadata": {"annotations": {ROLE_ARN: "arn:aws:iam::111122223333:role/ci"}}});
        let mut pod = json!({
            "metadata": {"annotations": {"eks.amazonaws.com/skip-containers": "sidecar"}},
            "spec": {"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}]}, {"name": "sidecar"}]}
        });
        inject(&sa, &mut pod);
        inject(&sa, &mut pod);
        let main = &pod["spec"]["containers"][0];
        assert_eq!(main["env"].as_array().map(Vec::len), Some(3), "{pod}");
        assert_eq!(main["env"][1], json!({"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::111122223333:role/ci"}));
        assert_eq!(main["volumeMounts"][0]["mountPath"], MOUNT_PATH);
        assert!(pod["spec"]["containers"][1].get("env").is_none(), "skipped: {pod}");
        let token = &pod["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"];
        assert_eq!(token, &json!({"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}));
        assert_eq!(pod["spec"]["volumes"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn no_annotation_changes_nothing() {
        let mut pod = json!({"spec": {"containers": [{"name": "main"}]}});
        let before = pod.clone();
        inject(&json!({"metadata": {}}), &mut pod);
        assert_eq!(pod, before);
    }
}
