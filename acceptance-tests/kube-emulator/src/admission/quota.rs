//! ResourceQuota admission for pods (`pods`, `count/pods`, `cpu`, `memory`, `requests.*`,
//! `limits.*`), with the real messages and order (kubernetes
//! `staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go` and
//! `pkg/quota/v1/evaluator/core/pods.go`):
//! first every quota's "must specify" constraint, then every quota's usage. Usage is computed from
//! the namespace's pods that are not Succeeded or Failed. Scopes are not supported. Pure.

use super::resource_list;
use crate::admission::limits::pod_totals;
use crate::quantity::{Format, Quantity};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

type List = BTreeMap<String, Quantity>;

/// Resources whose quota makes every container name a request or limit for them.
const MUST_SPECIFY: &[&str] = &["cpu", "limits.cpu", "limits.memory", "memory", "requests.cpu", "requests.memory"];
/// Resources the pod evaluator counts.
const POD_RESOURCES: &[&str] =
    &["count/pods", "cpu", "limits.cpu", "limits.memory", "memory", "pods", "requests.cpu", "requests.memory"];

/// What one set of requests and limits counts against a quota.
fn usage_of(requests: &List, limits: &List) -> List {
    let one = Quantity::parse("1").expect("literal");
    let mut u = List::from([("pods".to_string(), one), ("count/pods".to_string(), one)]);
    for res in ["cpu", "memory"] {
        if let Some(r) = requests.get(res) {
            u.insert(res.to_string(), *r);
            u.insert(format!("requests.{res}"), *r);
        }
        if let Some(l) = limits.get(res) {
            u.insert(format!("limits.{res}"), *l);
        }
    }
    u
}

/// What a pod counts against a quota (nothing once it has finished).
pub fn pod_usage(pod: &Value) -> List {
    if matches!(pod.pointer("/status/phase").and_then(Value::as_str), Some("Succeeded" | "Failed")) {
        return List::new();
    }
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    usage_of(&pod_totals(spec, "requests"), &pod_totals(spec, "limits"))
}

fn add(into: &mut List, other: &List) {
    for (k, v) in other {
        let sum = into.get(k).map(|t| t.add(*v)).unwrap_or(*v);
        into.insert(k.clone(), sum);
    }
}

fn pretty(list: &List, keys: &[String]) -> String {
    keys.iter().filter_map(|k| list.get(k).map(|v| format!("{k}={v}"))).collect::<Vec<_>>().join(",")
}

fn name_of(v: &Value) -> &str {
    v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
}

fn hard_of(quota: &Value) -> List {
    resource_list(quota.pointer("/spec/hard"))
        .into_iter()
        .filter(|(k, _)| POD_RESOURCES.contains(&k.as_str()))
        .collect()
}

/// Usage of the namespace's pods for a quota's resources (zero where nothing counts).
pub fn used(quota: &Value, pods: &[Value]) -> List {
    let hard = hard_of(quota);
    let mut total = List::new();
    for p in pods {
        add(&mut total, &pod_usage(p));
    }
    hard.keys()
        .map(|k| {
            let zero = Quantity::zero(if k.contains("memory") { Format::BinarySI } else { Format::DecimalSI });
            (k.clone(), total.get(k).copied().unwrap_or(zero))
        })
        .collect()
}

/// The `status` a quota shows: `hard` as declared, `used` from the pods.
pub fn status(quota: &Value, pods: &[Value]) -> Value {
    let hard = quota.pointer("/spec/hard").cloned().unwrap_or_else(|| json!({}));
    let mut used_json = serde_json::Map::new();
    for (k, v) in used(quota, pods) {
        used_json.insert(k, json!(v.to_string()));
    }
    json!({"hard": hard, "used": used_json})
}

/// `failed quota: …` for containers lacking a request or limit a quota constrains.
fn constraints(quota: &Value, spec: &Value) -> Option<String> {
    let hard = hard_of(quota);
    let required: Vec<&str> = hard.keys().map(String::as_str).filter(|k| MUST_SPECIFY.contains(k)).collect();
    if required.is_empty() {
        return None;
    }
    let mut missing: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for c in super::containers_of(spec, &["containers", "initContainers"]) {
        let have =
            usage_of(&resource_list(c.pointer("/resources/requests")), &resource_list(c.pointer("/resources/limits")));
        for r in &required {
            if !have.contains_key(*r) {
                missing.entry(r).or_default().insert(c.get("name").and_then(Value::as_str).unwrap_or("").to_string());
            }
        }
    }
    (!missing.is_empty()).then(|| {
        let parts: Vec<String> = missing
            .iter()
            .map(|(r, names)| format!("{r} for: {}", names.iter().cloned().collect::<Vec<_>>().join(",")))
            .collect();
        format!("failed quota: {}: must specify {}", name_of(quota), parts.join("; "))
    })
}

/// The refusal text (after `pods "NAME" is forbidden: `) for a new pod, or `None` if it fits every
/// quota. `quotas` are the namespace's, in name order; `pods` its existing pods.
pub fn check(quotas: &[Value], spec: &Value, pods: &[Value]) -> Option<String> {
    if let Some(msg) = quotas.iter().find_map(|q| constraints(q, spec)) {
        return Some(msg);
    }
    let requested = usage_of(&pod_totals(spec, "requests"), &pod_totals(spec, "limits"));
    for q in quotas {
        let hard = hard_of(q);
        let used = used(q, pods);
        let exceeded: Vec<String> = hard
            .iter()
            .filter(|(k, h)| requested.get(*k).is_some_and(|r| used.get(*k).map(|u| u.add(*r)).unwrap_or(*r) > **h))
            .map(|(k, _)| k.clone())
            .collect();
        if !exceeded.is_empty() {
            return Some(format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                name_of(q),
                pretty(&requested, &exceeded),
                pretty(&used, &exceeded),
                pretty(&hard, &exceeded)
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(name: &str, hard: Value) -> Value {
        json!({"metadata": {"name": name}, "spec": {"hard": hard}})
    }

    fn pod(cpu: &str, mem: &str) -> Value {
        json!({"spec": {"containers": [{"name": "jnlp", "resources": {
            "requests": {"cpu": cpu, "memory": mem}, "limits": {"cpu": cpu, "memory": mem}}}]},
            "status": {"phase": "Running"}})
    }

    #[test]
    fn containers_must_name_what_a_quota_constrains() {
        let q = quota("compute", json!({"limits.cpu": "2", "limits.memory": "2Gi", "pods": "10"}));
        let spec = json!({"containers": [{"name": "jnlp"}, {"name": "maven", "resources": {"limits": {"cpu": "1"}}}]});
        assert_eq!(
            check(&[q], &spec, &[]).unwrap(),
            "failed quota: compute: must specify limits.cpu for: jnlp; limits.memory for: jnlp,maven"
        );
    }

    #[test]
    fn usage_beyond_hard_is_refused_with_requested_used_and_limited() {
        let q = quota("compute", json!({"requests.cpu": "1", "requests.memory": "1Gi", "pods": "3"}));
        let existing = [pod("500m", "512Mi"), pod("250m", "256Mi")];
        let fits = pod("250m", "256Mi");
        assert_eq!(check(std::slice::from_ref(&q), &fits["spec"], &existing), None);
        let big = pod("500m", "512Mi");
        assert_eq!(
            check(std::slice::from_ref(&q), &big["spec"], &existing).unwrap(),
            "exceeded quota: compute, requested: requests.cpu=500m,requests.memory=512Mi, used: requests.cpu=750m,requests.memory=768Mi, limited: requests.cpu=1,requests.memory=1Gi"
        );
        let pods_only = quota("count", json!({"pods": "2"}));
        assert_eq!(
            check(std::slice::from_ref(&pods_only), &fits["spec"], &existing).unwrap(),
            "exceeded quota: count, requested: pods=1, used: pods=2, limited: pods=2"
        );
        let mut done = pod("1", "1Gi");
        done["status"]["phase"] = json!("Succeeded");
        assert_eq!(status(&pods_only, &[done])["used"], json!({"pods": "0"}));
        assert_eq!(
            status(&q, &existing)["used"],
            json!({"pods": "2", "requests.cpu": "750m", "requests.memory": "768Mi"})
        );
    }
}
