//! Object validation with the API server's messages: names (DNS-1123 subdomain/label, path segment),
//! label keys and values, ConfigMap/Secret data keys, per-kind required fields, and immutable fields on
//! update. Pure: returns `status::Cause`s, never touches the store.

use crate::kinds::ResourceType;
use crate::status::Cause;
use serde_json::{Value, json};

/// Which rule a kind's `metadata.name` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain (most kinds).
    Subdomain,
    /// RFC 1123 label (Namespace).
    Label,
    /// Any string usable as a path segment (RBAC kinds).
    PathSegment,
}

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const QUALIFIED_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const IMMUTABLE_MSG: &str = "field is immutable when `immutable` is set";

fn is_label_chars(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// RFC 1123 label: at most 63 characters of `[a-z0-9-]`, alphanumeric at both ends.
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && is_label_chars(s)
}

/// RFC 1123 subdomain: at most 253 characters, dot-separated labels.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label_chars)
}

/// ConfigMap and Secret keys: `[-._a-zA-Z0-9]+`, not `.` or `..`, at most 253 characters.
pub fn is_config_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s != "."
        && s != ".."
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
}

fn is_qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Validates an object name against a rule; `None` when valid, else the message detail(s).
pub fn name_problems(rule: NameRule, name: &str) -> Vec<String> {
    match rule {
        NameRule::Subdomain if !is_dns1123_subdomain(name) => {
            if name.len() > 253 {
                vec!["must be no more than 253 characters".into()]
            } else {
                vec![SUBDOMAIN_MSG.into()]
            }
        }
        NameRule::Label if !is_dns1123_label(name) => {
            if name.len() > 63 {
                vec!["must be no more than 63 characters".into()]
            } else {
                vec![LABEL_MSG.into()]
            }
        }
        NameRule::PathSegment => {
            if name == "." || name == ".." {
                vec![format!("may not be '{name}'")]
            } else if name.contains('/') || name.contains('%') {
                vec![format!("may not contain '{}'", if name.contains('/') { "/" } else { "%" })]
            } else {
                vec![]
            }
        }
        _ => vec![],
    }
}

fn label_key_problems(key: &str) -> Vec<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let mut out = vec![];
    if let Some(p) = prefix
        && !is_dns1123_subdomain(p)
    {
        out.push(format!("prefix part {SUBDOMAIN_MSG}"));
    }
    if !is_qualified_part(name) {
        out.push(QUALIFIED_MSG.into());
    }
    out
}

fn is_label_value(v: &str) -> bool {
    v.is_empty() || is_qualified_part(v)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str)
}

fn validate_metadata(rt: &ResourceType, obj: &Value, out: &mut Vec<Cause>) {
    let name = str_at(obj, &["metadata", "name"]).unwrap_or("");
    if name.is_empty() {
        out.push(Cause::required("metadata.name", "name or generateName is required"));
    } else {
        for p in name_problems(rt.name_rule, name) {
            out.push(Cause::invalid("metadata.name", name, &p));
        }
    }
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            for p in label_key_problems(k) {
                out.push(Cause::invalid("metadata.labels", k, &p));
            }
            match v.as_str() {
                Some(s) if is_label_value(s) => {}
                Some(s) => out.push(Cause::invalid(&format!("metadata.labels[{k}]"), s, LABEL_VALUE_MSG)),
                None => out.push(Cause::invalid(&format!("metadata.labels[{k}]"), &v.to_string(), "must be a string")),
            }
        }
    }
    if let Some(ann) = obj.pointer("/metadata/annotations").and_then(Value::as_object) {
        for k in ann.keys() {
            for p in label_key_problems(k) {
                out.push(Cause::invalid("metadata.annotations", k, &p));
            }
        }
    }
}

/// Largest total size of a ConfigMap's or Secret's data.
const MAX_DATA_BYTES: usize = 1024 * 1024;

fn validate_data_keys(obj: &Value, out: &mut Vec<Cause>) {
    let size: usize = ["data", "binaryData"]
        .iter()
        .filter_map(|f| obj.get(*f).and_then(Value::as_object))
        .flat_map(|m| m.iter().map(|(k, v)| k.len() + v.as_str().map_or(0, str::len)))
        .sum();
    if size > MAX_DATA_BYTES {
        out.push(Cause {
            reason: "FieldValueTooLong".into(),
            message: format!("Too long: must have at most {MAX_DATA_BYTES} bytes"),
            field: "data".into(),
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for field in ["data", "binaryData"] {
        if let Some(map) = obj.get(field).and_then(Value::as_object) {
            for k in map.keys() {
                if !is_config_key(k) {
                    out.push(Cause::invalid(&format!("{field}[{k}]"), k, CONFIG_KEY_MSG));
                }
                if !seen.insert(k.clone()) {
                    out.push(Cause::invalid(&format!("data[{k}]"), k, "duplicate of key present in binaryData"));
                }
            }
        }
    }
}

fn validate_rules(obj: &Value, out: &mut Vec<Cause>) {
    let Some(rules) = obj.get("rules").and_then(Value::as_array) else { return };
    for (i, r) in rules.iter().enumerate() {
        let empty = |k: &str| r.get(k).and_then(Value::as_array).is_none_or(|a| a.is_empty());
        if empty("verbs") {
            out.push(Cause::required(&format!("rules[{i}].verbs"), "verbs must contain at least one value"));
        }
        if empty("nonResourceURLs") {
            if empty("apiGroups") {
                out.push(Cause::required(
                    &format!("rules[{i}].apiGroups"),
                    "resource rules must supply at least one api group",
                ));
            }
            if empty("resources") {
                out.push(Cause::required(
                    &format!("rules[{i}].resources"),
                    "resource rules must supply at least one resource",
                ));
            }
        }
    }
}

fn validate_binding(rt: &ResourceType, obj: &Value, out: &mut Vec<Cause>) {
    let role_ref = obj.get("roleRef");
    let kind = role_ref.and_then(|r| r.get("kind")).and_then(Value::as_str).unwrap_or("");
    let allowed: &[&str] = if rt.namespaced { &["Role", "ClusterRole"] } else { &["ClusterRole"] };
    if !allowed.contains(&kind) {
        out.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!(
                "Unsupported value: {kind:?}: supported values: {}",
                allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")
            ),
            field: "roleRef.kind".into(),
        });
    }
    let group = role_ref.and_then(|r| r.get("apiGroup")).and_then(Value::as_str).unwrap_or("");
    if group != "rbac.authorization.k8s.io" {
        out.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!("Unsupported value: {group:?}: supported values: \"rbac.authorization.k8s.io\""),
            field: "roleRef.apiGroup".into(),
        });
    }
    if role_ref.and_then(|r| r.get("name")).and_then(Value::as_str).unwrap_or("").is_empty() {
        out.push(Cause::required("roleRef.name", ""));
    }
    for (i, s) in obj.get("subjects").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let kind = s.get("kind").and_then(Value::as_str).unwrap_or("");
        if !["ServiceAccount", "User", "Group"].contains(&kind) {
            out.push(Cause {
                reason: "FieldValueNotSupported".into(),
                message: format!(
                    "Unsupported value: {kind:?}: supported values: \"ServiceAccount\", \"User\", \"Group\""
                ),
                field: format!("subjects[{i}].kind"),
            });
        }
        if s.get("name").and_then(Value::as_str).unwrap_or("").is_empty() {
            out.push(Cause::required(&format!("subjects[{i}].name"), ""));
        }
        if kind == "ServiceAccount"
            && !rt.namespaced
            && s.get("namespace").and_then(Value::as_str).unwrap_or("").is_empty()
        {
            out.push(Cause::required(&format!("subjects[{i}].namespace"), ""));
        }
    }
}

fn validate_pod(obj: &Value, out: &mut Vec<Cause>) {
    let containers = obj.pointer("/spec/containers").and_then(Value::as_array);
    match containers {
        None => out.push(Cause::required("spec.containers", "")),
        Some(cs) if cs.is_empty() => out.push(Cause::required("spec.containers", "")),
        Some(cs) => {
            for (i, c) in cs.iter().enumerate() {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                if name.is_empty() {
                    out.push(Cause::required(&format!("spec.containers[{i}].name"), ""));
                } else if !is_dns1123_label(name) {
                    out.push(Cause::invalid(&format!("spec.containers[{i}].name"), name, LABEL_MSG));
                }
                if c.get("image").and_then(Value::as_str).unwrap_or("").is_empty() {
                    out.push(Cause::required(&format!("spec.containers[{i}].image"), ""));
                }
            }
        }
    }
    for list in ["initContainers", "containers"] {
        for (i, c) in obj.pointer(&format!("/spec/{list}")).and_then(Value::as_array).into_iter().flatten().enumerate()
        {
            validate_requests_within_limits(c, &format!("spec.{list}[{i}].resources"), out);
        }
    }
}

/// A request above its limit is invalid (core validation `ValidateResourceRequirements`).
fn validate_requests_within_limits(container: &Value, path: &str, out: &mut Vec<Cause>) {
    let limits = crate::admission::resource_list(container.pointer("/resources/limits"));
    for (res, req) in crate::admission::resource_list(container.pointer("/resources/requests")) {
        if let Some(lim) = limits.get(&res)
            && req > *lim
        {
            out.push(Cause::invalid(
                &format!("{path}.requests[{res}]"),
                &req.to_string(),
                &format!("must be less than or equal to {res} limit of {lim}"),
            ));
        }
    }
}

/// Whether every quantity of the object decodes (the real server refuses the body with 400 otherwise).
pub fn quantities_decode(rt: &ResourceType, obj: &Value) -> bool {
    let mut maps: Vec<&Value> = vec![];
    match rt.kind {
        "Pod" => {
            for list in ["initContainers", "containers"] {
                for c in obj.pointer(&format!("/spec/{list}")).and_then(Value::as_array).into_iter().flatten() {
                    maps.extend(c.pointer("/resources/requests"));
                    maps.extend(c.pointer("/resources/limits"));
                }
            }
        }
        "ResourceQuota" => maps.extend(obj.pointer("/spec/hard")),
        "LimitRange" => {
            for item in obj.pointer("/spec/limits").and_then(Value::as_array).into_iter().flatten() {
                for f in ["min", "max", "default", "defaultRequest", "maxLimitRequestRatio"] {
                    maps.extend(item.get(f));
                }
            }
        }
        _ => {}
    }
    maps.iter().flat_map(|m| m.as_object().into_iter().flatten()).all(|(_, v)| match v {
        Value::String(s) => crate::quantity::Quantity::parse(s).is_ok(),
        Value::Number(n) => crate::quantity::Quantity::parse(&n.to_string()).is_ok(),
        Value::Null => true,
        _ => false,
    })
}

/// Go's `%#v` of a `map[string]string`, as the real messages print label maps.
fn go_map(v: Option<&Value>) -> String {
    let mut pairs: Vec<(String, String)> = v
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect();
    pairs.sort();
    let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

/// The checks StatefulSets and Deployments share (apps validation `ValidateStatefulSetSpec`,
/// `ValidateDeploymentSpec`): replicas not negative, a non-empty selector matching the template's
/// labels, and a valid pod template. `what` is the kind as the messages name it.
fn validate_workload(obj: &Value, what: &str, out: &mut Vec<Cause>) {
    if let Some(r) = obj.pointer("/spec/replicas").and_then(Value::as_i64).filter(|r| *r < 0) {
        out.push(Cause::invalid("spec.replicas", &r.to_string(), "must be greater than or equal to 0"));
    }
    let Some(selector) = obj.pointer("/spec/selector").filter(|s| !s.is_null()) else {
        out.push(Cause::required("spec.selector", ""));
        return;
    };
    let labels = obj.pointer("/spec/template/metadata/labels");
    let matches = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
    let empty = selector.get("matchLabels").and_then(Value::as_object).is_none_or(|m| m.is_empty())
        && selector.get("matchExpressions").and_then(Value::as_array).is_none_or(|m| m.is_empty());
    if empty {
        out.push(Cause::invalid("spec.selector", "{}", &format!("empty selector is invalid for {what}")));
    } else if !matches {
        out.push(Cause::invalid(
            "spec.template.metadata.labels",
            &go_map(labels),
            "`selector` does not match template `labels`",
        ));
    }
    let template = json!({"spec": obj.pointer("/spec/template/spec").cloned().unwrap_or(Value::Null)});
    let mut causes = vec![];
    validate_pod(&template, &mut causes);
    out.extend(causes.into_iter().map(|mut c| {
        c.field = format!("spec.template.{}", c.field);
        c
    }));
}

/// A Deployment's strategy type is `RollingUpdate` or `Recreate`, and only the former has
/// `rollingUpdate` (apps validation `ValidateDeploymentStrategy`).
fn validate_deployment(obj: &Value, out: &mut Vec<Cause>) {
    validate_workload(obj, "deployment", out);
    let t = obj.pointer("/spec/strategy/type").and_then(Value::as_str).unwrap_or("");
    if !matches!(t, "RollingUpdate" | "Recreate") {
        out.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!("Unsupported value: {t:?}: supported values: \"Recreate\", \"RollingUpdate\""),
            field: "spec.strategy.type".into(),
        });
    } else if t == "Recreate" && obj.pointer("/spec/strategy/rollingUpdate").is_some_and(|r| !r.is_null()) {
        out.push(Cause::forbidden(
            "spec.strategy.rollingUpdate",
            "may not be specified when strategy `type` is 'Recreate'",
        ));
    }
}

/// Validates an object about to be stored (create, or the result of an update).
pub fn validate_object(rt: &ResourceType, obj: &Value) -> Vec<Cause> {
    let mut out = vec![];
    validate_metadata(rt, obj, &mut out);
    match rt.kind {
        "ConfigMap" | "Secret" => validate_data_keys(obj, &mut out),
        "Role" | "ClusterRole" => validate_rules(obj, &mut out),
        "RoleBinding" | "ClusterRoleBinding" => validate_binding(rt, obj, &mut out),
        "Pod" => validate_pod(obj, &mut out),
        "StatefulSet" => validate_workload(obj, "statefulset", &mut out),
        "Deployment" => validate_deployment(obj, &mut out),
        _ => {}
    }
    out
}

/// The StatefulSet spec fields an update may change (apps validation `ValidateStatefulSetUpdate`).
const STATEFULSET_MUTABLE: &[&str] =
    &["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

/// Validates an update from `old` to `new` for immutable fields (on top of [`validate_object`]).
pub fn validate_update(rt: &ResourceType, old: &Value, new: &Value) -> Vec<Cause> {
    let mut out = vec![];
    match rt.kind {
        "ConfigMap" | "Secret" => {
            if old.get("immutable").and_then(Value::as_bool) == Some(true) {
                for f in ["data", "binaryData"] {
                    if old.get(f) != new.get(f) {
                        out.push(Cause::forbidden(f, IMMUTABLE_MSG));
                    }
                }
                if new.get("immutable").and_then(Value::as_bool) != Some(true) {
                    out.push(Cause::forbidden("immutable", IMMUTABLE_MSG));
                }
            }
            if rt.kind == "Secret" && old.get("type") != new.get("type") {
                let t = new.get("type").and_then(Value::as_str).unwrap_or("");
                out.push(Cause::invalid("type", t, "field is immutable"));
            }
        }
        "RoleBinding" | "ClusterRoleBinding" if old.get("roleRef") != new.get("roleRef") => {
            let shown = new.get("roleRef").map(|r| r.to_string()).unwrap_or_default();
            out.push(Cause::invalid("roleRef", &shown, "cannot change roleRef"));
        }
        "StatefulSet" => {
            let frozen = |v: &Value| {
                let mut spec = v.get("spec").cloned().unwrap_or(Value::Null);
                if let Some(o) = spec.as_object_mut() {
                    o.retain(|k, _| !STATEFULSET_MUTABLE.contains(&k.as_str()));
                }
                spec
            };
            if frozen(old) != frozen(new) {
                out.push(Cause::forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
            }
        }
        "Deployment" if old.pointer("/spec/selector") != new.pointer("/spec/selector") => {
            let shown = new.pointer("/spec/selector").map(Value::to_string).unwrap_or_default();
            out.push(Cause::invalid("spec.selector", &shown, "field is immutable"));
        }
        "Pod" if old.pointer("/spec/containers") != new.pointer("/spec/containers") => {
            let old_images: Vec<_> = pod_without_images(old);
            if old_images != pod_without_images(new) {
                out.push(Cause::forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"));
            }
        }
        _ => {}
    }
    out
}

fn pod_without_images(pod: &Value) -> Vec<Value> {
    let mut cs = pod.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default();
    for c in &mut cs {
        if let Some(o) = c.as_object_mut() {
            o.remove("image");
        }
    }
    cs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::by_plural;
    use serde_json::json;

    #[test]
    fn names() {
        assert!(is_dns1123_subdomain("a.b-c.d9"));
        assert!(!is_dns1123_subdomain("Bad_Name"));
        assert!(!is_dns1123_subdomain("-a"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(is_dns1123_label("kube-system"));
        assert!(!is_dns1123_label("a.b"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(name_problems(NameRule::PathSegment, "system:jenkins").is_empty());
        assert!(!name_problems(NameRule::PathSegment, "a/b").is_empty());
    }

    #[test]
    fn config_keys() {
        assert!(is_config_key("KEY_name-1.txt"));
        assert!(!is_config_key("bad key"));
        assert!(!is_config_key(".."));
        let cm = by_plural("", "configmaps").unwrap();
        let causes = validate_object(cm, &json!({"metadata": {"name": "x"}, "data": {"bad key": "v"}}));
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "data[bad key]");
    }

    #[test]
    fn invalid_name_cause() {
        let cm = by_plural("", "configmaps").unwrap();
        let causes = validate_object(cm, &json!({"metadata": {"name": "Bad_Name"}}));
        assert_eq!(causes[0].reason, "FieldValueInvalid");
        assert_eq!(causes[0].field, "metadata.name");
        assert!(causes[0].message.starts_with("Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));
    }

    #[test]
    fn immutable_fields() {
        let rb = by_plural("rbac.authorization.k8s.io", "rolebindings").unwrap();
        let a = json!({"roleRef": {"kind": "Role", "name": "a", "apiGroup": "rbac.authorization.k8s.io"}});
        let b = json!({"roleRef": {"kind": "Role", "name": "b", "apiGroup": "rbac.authorization.k8s.io"}});
        assert_eq!(validate_update(rb, &a, &b)[0].field, "roleRef");
        assert!(validate_update(rb, &a, &a).is_empty());
        let cm = by_plural("", "configmaps").unwrap();
        let old = json!({"immutable": true, "data": {"a": "1"}});
        let new = json!({"immutable": true, "data": {"a": "2"}});
        assert_eq!(validate_update(cm, &old, &new)[0].field, "data");
    }

    #[test]
    fn binding_and_rules() {
        let role = by_plural("rbac.authorization.k8s.io", "roles").unwrap();
        let c = validate_object(
            role,
            &json!({"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]}),
        );
        assert_eq!(c[0].field, "rules[0].verbs");
        let crb = by_plural("rbac.authorization.k8s.io", "clusterrolebindings").unwrap();
        let c = validate_object(
            crb,
            &json!({"metadata": {"name": "r"}, "roleRef": {"kind": "Role", "name": "x", "apiGroup": "rbac.authorization.k8s.io"},
                    "subjects": [{"kind": "ServiceAccount", "name": "s"}]}),
        );
        let fields: Vec<_> = c.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["roleRef.kind", "subjects[0].namespace"]);
    }

    #[test]
    fn deployments_need_a_matching_selector_that_never_changes() {
        let deploy = by_plural("apps", "deployments").unwrap();
        let d = |sel: &str, strategy: &str| {
            json!({"metadata": {"name": "d"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": sel}},
                   "strategy": {"type": strategy},
                   "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
        };
        assert!(validate_object(deploy, &d("a", "RollingUpdate")).is_empty());
        let c = validate_object(deploy, &d("b", "Recreate"));
        assert_eq!(c[0].field, "spec.template.metadata.labels");
        assert!(c[0].message.contains("`selector` does not match template `labels`"), "{}", c[0].message);
        assert_eq!(validate_object(deploy, &d("a", "Blue"))[0].field, "spec.strategy.type");
        let mut none = d("a", "Recreate");
        none["spec"].as_object_mut().unwrap().remove("selector");
        assert_eq!(validate_object(deploy, &none)[0].field, "spec.selector");
        assert_eq!(validate_update(deploy, &d("a", "Recreate"), &d("b", "Recreate"))[0].field, "spec.selector");
        assert!(validate_update(deploy, &d("a", "Recreate"), &d("a", "RollingUpdate")).is_empty());
    }
}
