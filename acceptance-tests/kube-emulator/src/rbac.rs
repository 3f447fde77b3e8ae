//! RBAC evaluation: does a user (name + groups) hold a rule, through a RoleBinding in the request's
//! namespace or a ClusterRoleBinding, that allows the request attributes? Pure: works on the RBAC objects
//! handed in by the caller.

use serde_json::{Value, json};

/// An authenticated identity.
#[derive(Debug, Clone, PartialEq)]
pub struct UserInfo {
    /// `system:serviceaccount:ns:name`, `admin`, ...
    pub name: String,
    /// Groups, always including `system:authenticated`.
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A service account's identity with its standard groups.
    pub fn service_account(ns: &str, name: &str) -> Self {
        UserInfo {
            name: format!("system:serviceaccount:{ns}:{name}"),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".into(),
            ],
        }
    }

    /// Whether this user is a member of `system:masters`.
    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == "system:masters")
    }
}

/// What a request does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attributes {
    /// Kubernetes verb.
    pub verb: String,
    /// API group.
    pub group: String,
    /// Resource plural.
    pub resource: String,
    /// Subresource, `""` when none.
    pub subresource: String,
    /// Object name, `""` for collections.
    pub name: String,
    /// Namespace, `""` for cluster scope.
    pub namespace: String,
    /// For non-resource requests (discovery), the URL path.
    pub non_resource_path: Option<String>,
}

/// The RBAC objects to evaluate against.
#[derive(Default)]
pub struct Policy<'a> {
    /// Roles (all namespaces).
    pub roles: Vec<&'a Value>,
    /// RoleBindings (all namespaces).
    pub role_bindings: Vec<&'a Value>,
    /// ClusterRoles.
    pub cluster_roles: Vec<&'a Value>,
    /// ClusterRoleBindings.
    pub cluster_role_bindings: Vec<&'a Value>,
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn strs(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn subject_matches(user: &UserInfo, subject: &Value, binding_ns: &str) -> bool {
    let name = s(subject, "/name");
    match s(subject, "/kind") {
        "User" => user.name == name,
        "Group" => user.groups.iter().any(|g| g == name),
        "ServiceAccount" => {
            let ns = match s(subject, "/namespace") {
                "" => binding_ns,
                ns => ns,
            };
            user.name == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

/// Whether one PolicyRule allows the attributes.
pub fn rule_allows(rule: &Value, a: &Attributes) -> bool {
    let verbs = strs(rule, "verbs");
    let verb_ok = verbs.iter().any(|v| v == "*" || *v == a.verb);
    if let Some(path) = &a.non_resource_path {
        return verb_ok
            && strs(rule, "nonResourceURLs")
                .iter()
                .any(|u| u == "*" || u == path || u.strip_suffix('*').is_some_and(|prefix| path.starts_with(prefix)));
    }
    let groups = strs(rule, "apiGroups");
    let resources = strs(rule, "resources");
    let names = strs(rule, "resourceNames");
    let full = if a.subresource.is_empty() { a.resource.clone() } else { format!("{}/{}", a.resource, a.subresource) };
    let resource_ok = resources.iter().any(|r| {
        r == "*"
            || *r == full
            || (!a.subresource.is_empty()
                && (*r == format!("{}/*", a.resource) || *r == format!("*/{}", a.subresource)))
    });
    verb_ok
        && groups.iter().any(|g| g == "*" || *g == a.group)
        && resource_ok
        && (names.is_empty() || (!a.name.is_empty() && names.contains(&a.name)))
}

fn rules_of<'a>(policy: &Policy<'a>, role_ref: &Value, binding_ns: &str) -> Vec<&'a Value> {
    let name = s(role_ref, "/name");
    let found = match s(role_ref, "/kind") {
        "ClusterRole" => policy.cluster_roles.iter().find(|r| s(r, "/metadata/name") == name),
        "Role" => {
            policy.roles.iter().find(|r| s(r, "/metadata/name") == name && s(r, "/metadata/namespace") == binding_ns)
        }
        _ => None,
    };
    found.and_then(|r| r.get("rules")).and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default()
}

/// Whether RBAC allows the request. Members of `system:masters` may do anything; every
/// authenticated user may read discovery and OpenAPI documents.
pub fn allowed(user: &UserInfo, a: &Attributes, policy: &Policy) -> bool {
    if user.is_master() {
        return true;
    }
    if let Some(path) = &a.non_resource_path {
        let discovery = ["/api", "/apis", "/version", "/openapi", "/healthz", "/livez", "/readyz"];
        if a.verb == "get" && discovery.iter().any(|d| path == d || path.starts_with(&format!("{d}/"))) {
            return true;
        }
    }
    let bound = |binding: &Value, ns: &str| {
        binding
            .get("subjects")
            .and_then(Value::as_array)
            .is_some_and(|subs| subs.iter().any(|x| subject_matches(user, x, ns)))
    };
    for crb in &policy.cluster_role_bindings {
        if bound(crb, "")
            && rules_of(policy, crb.get("roleRef").unwrap_or(&Value::Null), "").iter().any(|r| rule_allows(r, a))
        {
            return true;
        }
    }
    if a.namespace.is_empty() {
        return false;
    }
    policy.role_bindings.iter().filter(|rb| s(rb, "/metadata/namespace") == a.namespace).any(|rb| {
        bound(rb, &a.namespace)
            && rules_of(policy, rb.get("roleRef").unwrap_or(&Value::Null), &a.namespace)
                .iter()
                .any(|r| rule_allows(r, a))
    })
}

/// The Forbidden message: `User "u" cannot list resource "secrets" in API group "" in the namespace "ns"`.
pub fn forbidden_message(user: &UserInfo, a: &Attributes) -> String {
    if let Some(path) = &a.non_resource_path {
        return format!("forbidden: User {:?} cannot {} path {:?}", user.name, a.verb, path);
    }
    let full = if a.subresource.is_empty() { a.resource.clone() } else { format!("{}/{}", a.resource, a.subresource) };
    let target = if a.name.is_empty() {
        a.resource.clone()
    } else {
        format!("{} {:?}", crate::status::qualified(&a.group, &a.resource), a.name)
    };
    let target = if a.name.is_empty() { crate::status::qualified(&a.group, &target) } else { target };
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace {:?}", a.namespace)
    };
    format!(
        "{target} is forbidden: User {:?} cannot {} resource {full:?} in API group {:?} {scope}",
        user.name, a.verb, a.group
    )
}

/// ClusterRoles and ClusterRoleBindings a fresh cluster carries (a subset of the real bootstrap policy).
pub fn bootstrap_objects() -> Vec<Value> {
    let rbac = "rbac.authorization.k8s.io/v1";
    let read = json!(["get", "list", "watch"]);
    let write = json!(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]);
    let labels = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    let role = |name: &str, rules: Value| json!({"apiVersion": rbac, "kind": "ClusterRole", "metadata": {"name": name, "labels": labels}, "rules": rules});
    vec![
        role(
            "cluster-admin",
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        ),
        role(
            "admin",
            json!([
                {"apiGroups": [""], "resources": ["pods", "pods/exec", "pods/log", "configmaps", "secrets", "serviceaccounts", "serviceaccounts/token"], "verbs": write},
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": write},
            ]),
        ),
        role(
            "edit",
            json!([{"apiGroups": [""], "resources": ["pods", "pods/exec", "pods/log", "configmaps", "secrets", "serviceaccounts", "serviceaccounts/token"], "verbs": write}]),
        ),
        role(
            "view",
            json!([{"apiGroups": [""], "resources": ["pods", "pods/log", "configmaps", "serviceaccounts"], "verbs": read}]),
        ),
        json!({"apiVersion": rbac, "kind": "ClusterRoleBinding", "metadata": {"name": "cluster-admin", "labels": labels},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]}),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(verb: &str, resource: &str, sub: &str, ns: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespace: ns.into(),
            ..Default::default()
        }
    }

    fn jenkins_role() -> Value {
        json!({"metadata": {"name": "jenkins", "namespace": "ci"}, "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["create","delete","get","list","patch","update","watch"]},
            {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create","delete","get","list","patch","update","watch"]},
            {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get","list","watch"]},
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
        ]})
    }

    #[test]
    fn jenkins_plugin_role() {
        let role = jenkins_role();
        let rb = json!({"metadata": {"name": "jenkins", "namespace": "ci"},
            "roleRef": {"kind": "Role", "name": "jenkins", "apiGroup": "rbac.authorization.k8s.io"},
            "subjects": [{"kind": "ServiceAccount", "name": "jenkins"}]});
        let policy = Policy { roles: vec![&role], role_bindings: vec![&rb], ..Default::default() };
        let sa = UserInfo::service_account("ci", "jenkins");
        assert!(allowed(&sa, &attrs("create", "pods", "exec", "ci"), &policy));
        assert!(allowed(&sa, &attrs("get", "pods", "log", "ci"), &policy));
        assert!(allowed(&sa, &attrs("watch", "pods", "", "ci"), &policy));
        assert!(allowed(&sa, &attrs("get", "secrets", "", "ci"), &policy));
        assert!(!allowed(&sa, &attrs("list", "secrets", "", "ci"), &policy));
        assert!(!allowed(&sa, &attrs("create", "pods", "log", "ci"), &policy));
        assert!(!allowed(&sa, &attrs("create", "pods", "", "other"), &policy));
        assert!(!allowed(&UserInfo::service_account("ci", "other"), &attrs("get", "pods", "", "ci"), &policy));
        let msg = forbidden_message(&sa, &attrs("list", "secrets", "", "ci"));
        assert_eq!(
            msg,
            "secrets is forbidden: User \"system:serviceaccount:ci:jenkins\" cannot list resource \"secrets\" in API group \"\" in the namespace \"ci\""
        );
    }

    #[test]
    fn groups_cluster_roles_and_names() {
        let boot = bootstrap_objects();
        let crb = json!({"metadata": {"name": "x"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "Group", "name": "system:serviceaccounts:ci"}]});
        let named = json!({"metadata": {"name": "one", "namespace": "ci"}, "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"], "verbs": ["get", "update"]}]});
        let rb = json!({"metadata": {"name": "one", "namespace": "ci"}, "roleRef": {"kind": "Role", "name": "one"},
            "subjects": [{"kind": "User", "name": "alice"}]});
        let policy = Policy {
            cluster_roles: boot.iter().filter(|o| o["kind"] == "ClusterRole").collect(),
            cluster_role_bindings: vec![&crb],
            roles: vec![&named],
            role_bindings: vec![&rb],
        };
        let sa = UserInfo::service_account("ci", "any");
        assert!(allowed(&sa, &attrs("list", "configmaps", "", "other-ns"), &policy));
        assert!(!allowed(&sa, &attrs("list", "secrets", "", "ci"), &policy));
        let alice = UserInfo { name: "alice".into(), groups: vec!["system:authenticated".into()] };
        let mut a = attrs("get", "configmaps", "", "ci");
        assert!(!allowed(&alice, &a, &policy));
        a.name = "a".into();
        assert!(allowed(&alice, &a, &policy));
        a.name = "b".into();
        assert!(!allowed(&alice, &a, &policy));
        let master = UserInfo { name: "x".into(), groups: vec!["system:masters".into()] };
        assert!(allowed(&master, &attrs("delete", "namespaces", "", ""), &policy));
    }
}
