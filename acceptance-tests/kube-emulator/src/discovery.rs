//! Discovery documents (`/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`) built from the
//! type table, in the legacy (unaggregated) format that kubectl and kube-rs fall back to. Pure.

use crate::kinds::{SUBRESOURCES, TYPES, VERBS};
use serde_json::{Value, json};

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33",
        "gitVersion": "v1.33.0-kube-emulator", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.0",
        "compiler": "gc", "platform": "linux/amd64",
    })
}

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]})
}

const AUTHZ: &str = "authorization.k8s.io";
const AUTHN: &str = "authentication.k8s.io";

fn groups() -> Vec<&'static str> {
    let mut g: Vec<&str> = TYPES.iter().map(|t| t.group).filter(|g| !g.is_empty()).collect();
    g.push(AUTHZ);
    g.push(AUTHN);
    g.dedup();
    g
}

/// `/apis`.
pub fn group_list() -> Value {
    let groups: Vec<Value> = groups()
        .into_iter()
        .map(|g| {
            let gv = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/api/v1` (group `""`) or `/apis/<group>/v1`; `None` for unknown groups or versions.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    if version != "v1" {
        return None;
    }
    let mut resources = vec![];
    for t in TYPES.iter().filter(|t| t.group == group) {
        resources.push(json!({
            "name": t.plural, "singularName": t.singular, "namespaced": t.namespaced, "kind": t.kind,
            "verbs": VERBS, "shortNames": t.short_names, "storageVersionHash": "",
        }));
        // The real server puts these in the `all` category (`kubectl get all`).
        if matches!(t.plural, "pods" | "statefulsets" | "deployments") {
            resources.last_mut().expect("just pushed")["categories"] = json!(["all"]);
        }
        for (parent, sub, verbs, kind) in SUBRESOURCES.iter().filter(|s| s.0 == t.plural) {
            let mut r = json!({"name": format!("{parent}/{sub}"), "singularName": "", "namespaced": t.namespaced,
                               "kind": kind, "verbs": verbs});
            if *sub == "token" {
                r["group"] = json!("authentication.k8s.io");
                r["version"] = json!("v1");
            }
            resources.push(r);
        }
    }
    if group == AUTHZ {
        resources.push(json!({"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview",
                              "namespaced": false, "kind": "SelfSubjectAccessReview", "verbs": ["create"]}));
    }
    if group == AUTHN {
        resources.push(json!({"name": "selfsubjectreviews", "singularName": "selfsubjectreview",
                              "namespaced": false, "kind": "SelfSubjectReview", "verbs": ["create"]}));
    }
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_core_and_rbac() {
        let core = resource_list("", "v1").unwrap();
        let names: Vec<&str> =
            core["resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert!(
            names.contains(&"namespaces") && names.contains(&"pods/exec") && names.contains(&"serviceaccounts/token")
        );
        let rbac = resource_list("rbac.authorization.k8s.io", "v1").unwrap();
        assert_eq!(rbac["groupVersion"], "rbac.authorization.k8s.io/v1");
        assert!(resource_list("authorization.k8s.io", "v1").is_some());
        assert!(resource_list("batch", "v1").is_none());
        let apps = resource_list("apps", "v1").unwrap();
        assert!(
            apps["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == "statefulsets" && r["kind"] == "StatefulSet")
        );
        let deploy = apps["resources"].as_array().unwrap().iter().find(|r| r["name"] == "deployments").unwrap();
        assert_eq!(
            (&deploy["kind"], &deploy["shortNames"], &deploy["categories"]),
            (&json!("Deployment"), &json!(["deploy"]), &json!(["all"]))
        );
        assert!(apps["resources"].as_array().unwrap().iter().any(|r| r["name"] == "deployments/status"));
        assert_eq!(group_list()["groups"].as_array().unwrap().len(), 4, "apps, rbac, authorization, authentication");
    }
}
