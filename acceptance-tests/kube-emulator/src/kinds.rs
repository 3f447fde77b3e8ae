//! The resource types the emulator serves: plural, kind, group, scope, short names and verbs.
//! A static table; discovery, routing and validation all read it.

/// One served resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, `""` for core.
    pub group: &'static str,
    /// API version within the group.
    pub version: &'static str,
    /// Plural resource name used in URLs.
    pub plural: &'static str,
    /// Singular name for discovery.
    pub singular: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// kubectl short names.
    pub short_names: &'static [&'static str],
    /// Name rule: see [`crate::validation::NameRule`].
    pub name_rule: crate::validation::NameRule,
}

use crate::validation::NameRule;

const RBAC: &str = "rbac.authorization.k8s.io";

/// Verbs every served type supports.
pub const VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// All served types.
pub const TYPES: &[ResourceType] = &[
    ResourceType {
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short_names: &["ns"],
        name_rule: NameRule::Label,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        kind: "ServiceAccount",
        namespaced: true,
        short_names: &["sa"],
        name_rule: NameRule::Subdomain,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        namespaced: true,
        short_names: &[],
        name_rule: NameRule::Subdomain,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        short_names: &["cm"],
        name_rule: NameRule::Subdomain,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        short_names: &["po"],
        name_rule: NameRule::Subdomain,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        name_rule: NameRule::Subdomain,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "services",
        singular: "service",
        kind: "Service",
        namespaced: true,
        short_names: &["svc"],
        name_rule: NameRule::Label,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "resourcequotas",
        singular: "resourcequota",
        kind: "ResourceQuota",
        namespaced: true,
        short_names: &["quota"],
        name_rule: NameRule::Subdomain,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "limitranges",
        singular: "limitrange",
        kind: "LimitRange",
        namespaced: true,
        short_names: &["limits"],
        name_rule: NameRule::Subdomain,
    },
    ResourceType {
        group: "apps",
        version: "v1",
        plural: "statefulsets",
        singular: "statefulset",
        kind: "StatefulSet",
        namespaced: true,
        short_names: &["sts"],
        name_rule: NameRule::Subdomain,
    },
    ResourceType {
        group: "apps",
        version: "v1",
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        namespaced: true,
        short_names: &["deploy"],
        name_rule: NameRule::Subdomain,
    },
    ResourceType {
        group: RBAC,
        version: "v1",
        plural: "roles",
        singular: "role",
        kind: "Role",
        namespaced: true,
        short_names: &[],
        name_rule: NameRule::PathSegment,
    },
    ResourceType {
        group: RBAC,
        version: "v1",
        plural: "rolebindings",
        singular: "rolebinding",
        kind: "RoleBinding",
        namespaced: true,
        short_names: &[],
        name_rule: NameRule::PathSegment,
    },
    ResourceType {
        group: RBAC,
        version: "v1",
        plural: "clusterroles",
        singular: "clusterrole",
        kind: "ClusterRole",
        namespaced: false,
        short_names: &[],
        name_rule: NameRule::PathSegment,
    },
    ResourceType {
        group: RBAC,
        version: "v1",
        plural: "clusterrolebindings",
        singular: "clusterrolebinding",
        kind: "ClusterRoleBinding",
        namespaced: false,
        short_names: &[],
        name_rule: NameRule::PathSegment,
    },
];

/// Subresources served, as (parent plural, subresource, verbs, kind).
pub const SUBRESOURCES: &[(&str, &str, &[&str], &str)] = &[
    ("pods", "exec", &["create", "get"], "PodExecOptions"),
    ("pods", "log", &["get"], "Pod"),
    ("pods", "status", &["get"], "Pod"),
    ("serviceaccounts", "token", &["create"], "TokenRequest"),
    ("namespaces", "status", &["get"], "Namespace"),
    ("statefulsets", "status", &["get"], "StatefulSet"),
    ("deployments", "status", &["get"], "Deployment"),
];

impl ResourceType {
    /// `v1` or `rbac.authorization.k8s.io/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }
}

/// Looks a type up by group and plural.
pub fn by_plural(group: &str, plural: &str) -> Option<&'static ResourceType> {
    TYPES.iter().find(|t| t.group == group && t.plural == plural)
}

/// Looks a type up by apiVersion and kind.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    TYPES.iter().find(|t| t.kind == kind && t.api_version() == api_version)
}
