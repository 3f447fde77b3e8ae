//! Just enough OpenAPI v3 for kubectl: the `/openapi/v3` index and one document per group-version whose
//! PATCH operations carry `x-kubernetes-group-version-kind` and the `fieldValidation` query parameter, so
//! kubectl validates on the server and computes client-side apply patches from its built-in types
//! (the documents declare no strategic-merge request body on purpose). No schemas. Pure.

use crate::kinds::TYPES;
use serde_json::{Value, json};

fn gv_path(group: &str) -> String {
    if group.is_empty() { "api/v1".into() } else { format!("apis/{group}/v1") }
}

/// `/openapi/v3`.
pub fn index() -> Value {
    let mut paths = serde_json::Map::new();
    for t in TYPES {
        let p = gv_path(t.group);
        paths.insert(p.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=kube-emulator-1")}));
    }
    json!({"paths": paths})
}

/// `/openapi/v3/<gv path>`, or `None` if no served type has that group-version.
pub fn group_version(path: &str) -> Option<Value> {
    let types: Vec<_> = TYPES.iter().filter(|t| gv_path(t.group) == path).collect();
    if types.is_empty() {
        return None;
    }
    let param = |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
    let mut paths = serde_json::Map::new();
    for t in types {
        let base = format!("/{}", gv_path(t.group));
        let item = if t.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}/{{name}}", t.plural)
        } else {
            format!("{base}/{}/{{name}}", t.plural)
        };
        let gvk = json!({"group": t.group, "version": t.version, "kind": t.kind});
        paths.insert(
            item,
            json!({
                "get": {"operationId": format!("read{}", t.kind), "x-kubernetes-action": "get",
                        "x-kubernetes-group-version-kind": gvk, "responses": {"200": {"description": "OK"}}},
                "patch": {"operationId": format!("patch{}", t.kind), "x-kubernetes-action": "patch",
                          "x-kubernetes-group-version-kind": gvk,
                          "parameters": [param("dryRun"), param("fieldManager"), param("fieldValidation"), param("force")],
                          "responses": {"200": {"description": "OK"}}},
            }),
        );
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.33.0-kube-emulator"}, "paths": paths}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_documents() {
        let idx = index();
        assert!(idx["paths"]["apis/rbac.authorization.k8s.io/v1"]["serverRelativeURL"].is_string());
        let core = group_version("api/v1").unwrap();
        let cm = &core["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
        assert_eq!(cm["x-kubernetes-group-version-kind"]["kind"], "ConfigMap");
        assert!(group_version("apis/batch/v1").is_none());
        let apps = group_version("apis/apps/v1").unwrap();
        let sts = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]["patch"];
        assert_eq!(sts["x-kubernetes-group-version-kind"]["kind"], "StatefulSet");
        let deploy = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(deploy["x-kubernetes-group-version-kind"]["kind"], "Deployment");
    }
}
