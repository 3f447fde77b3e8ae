//! `meta.k8s.io/v1` Table responses (what `kubectl get` asks for with `Accept: …;as=Table`): per-kind
//! columns like the real printers (pods: Ready, Status, Restarts, Age, IP, Node). Pure, given the time.

use crate::kinds::ResourceType;
use serde_json::{Value, json};

/// kubectl's short age format: `42s`, `3m5s`, `17m`, `5h`, `3d`.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn created_secs(obj: &Value) -> Option<i64> {
    let ts = obj.pointer("/metadata/creationTimestamp")?.as_str()?;
    let compact: String = ts.chars().filter(|c| c.is_ascii_digit() || *c == 'T' || *c == 'Z').collect();
    crate::clock::parse_amz_date(&compact)
}

fn len_of(v: Option<&Value>) -> usize {
    match v {
        Some(Value::Object(m)) => m.len(),
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    }
}

fn columns(rt: &ResourceType) -> Vec<(&'static str, &'static str, u8)> {
    let mut c = vec![("Name", "string", 0u8)];
    c.extend(match rt.kind {
        "Namespace" => vec![("Status", "string", 0), ("Age", "string", 0)],
        "ConfigMap" => vec![("Data", "integer", 0), ("Age", "string", 0)],
        "Secret" => vec![("Type", "string", 0), ("Data", "integer", 0), ("Age", "string", 0)],
        "Pod" => vec![
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
        ],
        "RoleBinding" | "ClusterRoleBinding" => vec![("Role", "string", 0), ("Age", "string", 0)],
        "Service" => vec![
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            ("Age", "string", 0),
        ],
        "StatefulSet" => vec![("Ready", "string", 0), ("Age", "string", 0)],
        "Deployment" => vec![
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        "ResourceQuota" => vec![("Age", "string", 0), ("Request", "string", 0), ("Limit", "string", 0)],
        _ => vec![("Age", "string", 0)],
    });
    c
}

fn cells(rt: &ResourceType, obj: &Value, now: i64) -> Vec<Value> {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
    let age = created_secs(obj).map(|c| age(now - c)).unwrap_or_else(|| "<unknown>".into());
    let mut out = vec![json!(s("/metadata/name"))];
    match rt.kind {
        "Namespace" => out.extend([json!(s("/status/phase")), json!(age)]),
        "ConfigMap" => out.extend([json!(len_of(obj.get("data")) + len_of(obj.get("binaryData"))), json!(age)]),
        "Secret" => out.extend([json!(s("/type")), json!(len_of(obj.get("data"))), json!(age)]),
        "Pod" => {
            let total = len_of(obj.pointer("/spec/containers"));
            let statuses = obj.pointer("/status/containerStatuses").and_then(Value::as_array);
            let ready = statuses.map(|a| a.iter().filter(|c| c["ready"] == true).count()).unwrap_or(0);
            let status = if obj.pointer("/metadata/deletionTimestamp").is_some() {
                "Terminating".into()
            } else {
                s("/status/phase")
            };
            let ip = s("/status/podIP");
            let node = s("/spec/nodeName");
            let none = |v: String| if v.is_empty() { "<none>".to_string() } else { v };
            out.extend([
                json!(format!("{ready}/{total}")),
                json!(status),
                json!("0"),
                json!(age),
                json!(none(ip)),
                json!(none(node)),
            ]);
        }
        "Service" => {
            let ports: Vec<String> = obj
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
                .collect();
            let ports = if ports.is_empty() { "<none>".to_string() } else { ports.join(",") };
            out.extend([
                json!(s("/spec/type")),
                json!(s("/spec/clusterIP")),
                json!("<none>"),
                json!(ports),
                json!(age),
            ]);
        }
        "ResourceQuota" => {
            let (mut requests, mut limits) = (vec![], vec![]);
            let hard = obj.pointer("/status/hard").and_then(Value::as_object);
            let mut names: Vec<&String> = hard.into_iter().flatten().map(|(k, _)| k).collect();
            names.sort();
            for name in names {
                let q =
                    |part: &str| obj.pointer(&format!("/status/{part}/{name}")).and_then(Value::as_str).unwrap_or("0");
                let text = format!("{name}: {}/{}", q("used"), q("hard"));
                if name.starts_with("limits.") { limits.push(text) } else { requests.push(text) }
            }
            out.extend([json!(age), json!(requests.join(", ")), json!(limits.join(", "))]);
        }
        "StatefulSet" => {
            let ready = obj.pointer("/status/readyReplicas").and_then(Value::as_i64).unwrap_or(0);
            let wanted = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            out.extend([json!(format!("{ready}/{wanted}")), json!(age)]);
        }
        "Deployment" => out.extend(deployment_cells(obj, age)),
        "RoleBinding" | "ClusterRoleBinding" => {
            out.extend([json!(format!("{}/{}", s("/roleRef/kind"), s("/roleRef/name"))), json!(age)]);
        }
        _ => out.push(json!(age)),
    }
    out
}

/// READY, UP-TO-DATE, AVAILABLE, AGE and the wide columns, as kubernetes
/// `pkg/printers/internalversion/printers.go` `printDeployment` fills them.
fn deployment_cells(obj: &Value, age: String) -> Vec<Value> {
    let n = |p: &str| obj.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let wanted = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let containers: Vec<&Value> =
        obj.pointer("/spec/template/spec/containers").and_then(Value::as_array).into_iter().flatten().collect();
    let join = |k: &str| containers.iter().filter_map(|c| c[k].as_str()).collect::<Vec<_>>().join(",");
    let selector: Vec<String> = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    vec![
        json!(format!("{}/{wanted}", n("/status/readyReplicas"))),
        json!(n("/status/updatedReplicas")),
        json!(n("/status/availableReplicas")),
        json!(age),
        json!(join("name")),
        json!(join("image")),
        json!(selector.join(",")),
    ]
}

/// A Table of the given objects.
pub fn table(rt: &ResourceType, objects: &[&Value], resource_version: &str, now: i64) -> Value {
    let defs: Vec<Value> = columns(rt)
        .into_iter()
        .map(|(name, ty, priority)| {
            let format = if name == "Name" { "name" } else { "" };
            json!({"name": name, "type": ty, "format": format, "description": name, "priority": priority})
        })
        .collect();
    let rows: Vec<Value> = objects.iter().map(|o| json!({"cells": cells(rt, o, now), "object": o})).collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
           "columnDefinitions": defs, "rows": rows})
}

/// Whether an Accept header asks for a Table first.
pub fn wants_table(accept: Option<&str>) -> bool {
    accept
        .and_then(|a| a.split(',').next())
        .is_some_and(|first| first.contains("as=Table") && first.contains("g=meta.k8s.io"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::by_plural;

    #[test]
    fn ages_and_pod_rows() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(185), "3m5s");
        assert_eq!(age(1200), "20m");
        assert_eq!(age(4 * 3600), "4h");
        let pod = json!({"metadata": {"name": "p", "creationTimestamp": "2026-11-23T12:00:00Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "n"},
            "status": {"phase": "Running", "podIP": "10.0.0.2", "containerStatuses": [{"ready": true}, {"ready": false}]}});
        let now = crate::clock::parse_amz_date("20261123T120030Z").unwrap();
        let t = table(by_plural("", "pods").unwrap(), &[&pod], "7", now);
        assert_eq!(t["rows"][0]["cells"], json!(["p", "1/2", "Running", "0", "30s", "10.0.0.2", "n"]));
        assert!(wants_table(Some("application/json;as=Table;v=v1;g=meta.k8s.io,application/json")));
        assert!(!wants_table(Some("application/json")));
        let d = json!({"metadata": {"name": "web", "creationTimestamp": "2026-11-23T12:00:00Z"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
            "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1}});
        let t = table(by_plural("apps", "deployments").unwrap(), &[&d], "7", now);
        assert_eq!(t["rows"][0]["cells"], json!(["web", "1/2", 2, 1, "30s", "c", "nginx", "app=web"]));
    }
}
