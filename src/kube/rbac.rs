//! RBAC rules as data: what the Jenkins Kubernetes plugin needs in its agent namespace, checks of
//! rules users add, and the conversion to and from the API's `PolicyRule`. Pure.
//!
//! The plugin's set follows the upstream `service-account.yml`, minus `secrets` (the controller
//! never reads Secrets in the agent namespace) and with `pods/exec` allowed `create` and `get`: a
//! WebSocket exec is a GET, and API servers from 1.35 check `create` for it too.

use k8s_openapi::api::rbac::v1::PolicyRule;

/// One Role rule, with empty lists where the API leaves fields out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    pub resource_names: Vec<String>,
}

/// Verbs the API server authorizes on resources (`*` is every verb).
pub const KNOWN_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "impersonate",
    "bind",
    "escalate",
    "use",
    "approve",
    "sign",
    "*",
];

fn rule(resources: &[&str], verbs: &[&str]) -> Rule {
    Rule {
        api_groups: vec![String::new()],
        resources: resources.iter().map(|s| s.to_string()).collect(),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        resource_names: Vec::new(),
    }
}

/// Exactly what the Kubernetes plugin uses in the agent namespace: run pods, exec into them, read
/// their logs, and watch events to report why a pod does not start.
pub fn plugin_rules() -> Vec<Rule> {
    vec![
        rule(&["pods"], &["create", "delete", "get", "list", "patch", "update", "watch"]),
        rule(&["pods/exec"], &["create", "get"]),
        rule(&["pods/log"], &["get", "list", "watch"]),
        rule(&["events"], &["watch"]),
    ]
}

/// What is wrong with a rule, as (field, message) pairs; empty when it is valid.
pub fn check_rule(r: &Rule) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if r.resources.is_empty() {
        out.push(("resources", "A rule needs at least one resource (e.g. `configmaps`).".to_string()));
    }
    for res in &r.resources {
        if res.is_empty() || res.contains(char::is_whitespace) || res.starts_with('/') {
            out.push(("resources", format!("{res:?} is not a resource name; use e.g. `pods` or `pods/log`.")));
        }
    }
    if r.verbs.is_empty() {
        out.push(("verbs", "A rule needs at least one verb.".to_string()));
    }
    for v in &r.verbs {
        if !KNOWN_VERBS.contains(&v.as_str()) {
            out.push(("verbs", format!("{v:?} is not a Kubernetes verb; use one of {}.", KNOWN_VERBS.join(", "))));
        }
    }
    for n in &r.resource_names {
        if n.is_empty() {
            out.push(("resource_names", "An empty resource name matches nothing; remove it.".to_string()));
        }
    }
    out
}

impl Rule {
    /// The API form; empty optional lists are left out, as the API server stores them.
    pub fn to_policy_rule(&self) -> PolicyRule {
        PolicyRule {
            api_groups: Some(self.api_groups.clone()),
            resources: Some(self.resources.clone()),
            verbs: self.verbs.clone(),
            resource_names: (!self.resource_names.is_empty()).then(|| self.resource_names.clone()),
            non_resource_urls: None,
        }
    }

    /// The rule a live `PolicyRule` holds, with absent lists empty.
    pub fn from_policy_rule(p: &PolicyRule) -> Rule {
        Rule {
            api_groups: p.api_groups.clone().unwrap_or_default(),
            resources: p.resources.clone().unwrap_or_default(),
            verbs: p.verbs.clone(),
            resource_names: p.resource_names.clone().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_gets_create_and_get_not_read_verbs_only() {
        let rules = plugin_rules();
        let exec = rules.iter().find(|r| r.resources == ["pods/exec"]).expect("pods/exec rule");
        assert_eq!(exec.verbs, ["create", "get"]);
        assert!(rules.iter().all(|r| !r.resources.contains(&"secrets".to_string())), "no Secrets access");
        assert!(rules.iter().all(|r| check_rule(r).is_empty()));
    }

    #[test]
    fn bad_rules_name_their_field() {
        let bad = Rule {
            api_groups: vec![String::new()],
            resources: vec![],
            verbs: vec!["read".into()],
            resource_names: vec![String::new()],
        };
        let fields: Vec<_> = check_rule(&bad).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["resources", "verbs", "resource_names"]);
    }

    #[test]
    fn policy_rule_round_trips() {
        for r in plugin_rules() {
            assert_eq!(Rule::from_policy_rule(&r.to_policy_rule()), r);
        }
    }
}
