//! Server-side defaults, as the API server's defaulting functions set them on stored objects (never
//! on an applied configuration, so that no manager owns them), and the status a new object starts
//! with. Pure.

use crate::kinds::ResourceType;
use serde_json::{Value, json};

fn set_if_absent(obj: &mut Value, key: &str, value: Value) {
    if obj.is_object() && obj.get(key).is_none_or(Value::is_null) {
        obj[key] = value;
    }
}

/// Pod defaulting: requests default to limits (`SetDefaults_Pod`), a service account, a restart policy.
fn pod(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else { return };
    set_if_absent(spec, "serviceAccountName", json!("default"));
    set_if_absent(spec, "restartPolicy", json!("Always"));
    for list in ["initContainers", "containers"] {
        for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            let Some(limits) = c.pointer("/resources/limits").and_then(Value::as_object).cloned() else { continue };
            if !c["resources"].get("requests").is_some_and(Value::is_object) {
                c["resources"]["requests"] = json!({});
            }
            for (k, v) in limits {
                set_if_absent(&mut c["resources"]["requests"], &k, v);
            }
        }
    }
}

/// Service defaulting (`SetDefaults_Service` and the registry's): type, session affinity, IP family,
/// traffic policy, port protocol and targetPort.
fn service(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else { return };
    set_if_absent(spec, "type", json!("ClusterIP"));
    set_if_absent(spec, "sessionAffinity", json!("None"));
    if spec["type"] != "ExternalName" {
        set_if_absent(spec, "ipFamilies", json!(["IPv4"]));
        set_if_absent(spec, "ipFamilyPolicy", json!("SingleStack"));
        set_if_absent(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    for p in spec.get_mut("ports").and_then(Value::as_array_mut).into_iter().flatten() {
        set_if_absent(p, "protocol", json!("TCP"));
        if let Some(port) = p.get("port").cloned() {
            set_if_absent(p, "targetPort", port);
        }
    }
}

/// StatefulSet defaulting (`SetDefaults_StatefulSet`).
fn stateful_set(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else { return };
    set_if_absent(spec, "replicas", json!(1));
    set_if_absent(spec, "podManagementPolicy", json!("OrderedReady"));
    set_if_absent(spec, "updateStrategy", json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}));
    set_if_absent(spec, "revisionHistoryLimit", json!(10));
    set_if_absent(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
    );
}

/// Deployment defaulting (`SetDefaults_Deployment`, k8s.io/kubernetes `pkg/apis/apps/v1/defaults.go`).
fn deployment(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else { return };
    set_if_absent(spec, "replicas", json!(1));
    set_if_absent(spec, "strategy", json!({"type": "RollingUpdate"}));
    if spec["strategy"]["type"] == "RollingUpdate" {
        set_if_absent(&mut spec["strategy"], "rollingUpdate", json!({}));
        let ru = &mut spec["strategy"]["rollingUpdate"];
        set_if_absent(ru, "maxUnavailable", json!("25%"));
        set_if_absent(ru, "maxSurge", json!("25%"));
    }
    set_if_absent(spec, "revisionHistoryLimit", json!(10));
    set_if_absent(spec, "progressDeadlineSeconds", json!(600));
}

/// Applies the defaults of `rt`'s kind.
pub fn apply(rt: &ResourceType, obj: &mut Value) {
    match rt.kind {
        "Secret" => set_if_absent(obj, "type", json!("Opaque")),
        "Namespace" => {
            if obj.pointer("/spec/finalizers").is_none() {
                obj["spec"]["finalizers"] = json!(["kubernetes"]);
            }
            let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        }
        "Pod" => pod(obj),
        "Service" => service(obj),
        "StatefulSet" => stateful_set(obj),
        "Deployment" => deployment(obj),
        "LimitRange" => crate::admission::limits::default_limit_range(obj),
        _ => {}
    }
}

/// The QoS class of a pod spec: BestEffort without any cpu/memory request or limit, Guaranteed when
/// every container's cpu and memory limits are set and equal their requests, else Burstable.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = crate::admission::containers_of(spec, &["initContainers", "containers"]);
    let res = |c: &Value, f: &str| crate::admission::resource_list(c.pointer(&format!("/resources/{f}")));
    let any = containers
        .iter()
        .any(|c| ["requests", "limits"].iter().any(|f| res(c, f).keys().any(|k| k == "cpu" || k == "memory")));
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let (req, lim) = (res(c, "requests"), res(c, "limits"));
        ["cpu", "memory"].iter().all(|k| lim.get(*k).is_some_and(|l| req.get(*k).is_none_or(|r| r == l)))
    });
    if guaranteed { "Guaranteed" } else { "Burstable" }
}

/// The status a new object starts with, if its kind has one.
pub fn initial_status(rt: &ResourceType, obj: &Value) -> Option<Value> {
    match rt.kind {
        "Namespace" => Some(json!({"phase": "Active"})),
        "Pod" => Some(json!({"phase": "Pending", "qosClass": qos_class(obj.get("spec").unwrap_or(&Value::Null))})),
        "Service" => Some(json!({"loadBalancer": {}})),
        "StatefulSet" => Some(json!({"replicas": 0, "availableReplicas": 0})),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::by_plural;

    #[test]
    fn pods_get_requests_from_limits_and_a_qos_class() {
        let mut p =
            json!({"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}});
        apply(by_plural("", "pods").unwrap(), &mut p);
        assert_eq!(p["spec"]["containers"][0]["resources"]["requests"], json!({"cpu": "1", "memory": "1Gi"}));
        assert_eq!(p["spec"]["serviceAccountName"], "default");
        assert_eq!(qos_class(&p["spec"]), "Guaranteed");
        assert_eq!(qos_class(&json!({"containers": [{"name": "a"}]})), "BestEffort");
        assert_eq!(
            qos_class(&json!({"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]})),
            "Burstable"
        );
    }

    #[test]
    fn services_and_stateful_sets_get_their_defaults() {
        let mut s = json!({"spec": {"ports": [{"port": 8080}]}});
        apply(by_plural("", "services").unwrap(), &mut s);
        assert_eq!(s["spec"]["type"], "ClusterIP");
        assert_eq!(s["spec"]["ports"][0], json!({"port": 8080, "protocol": "TCP", "targetPort": 8080}));
        let mut sts = json!({"spec": {"selector": {}}});
        apply(by_plural("apps", "statefulsets").unwrap(), &mut sts);
        assert_eq!(sts["spec"]["replicas"], 1);
        assert_eq!(sts["spec"]["updateStrategy"]["type"], "RollingUpdate");
    }

    #[test]
    fn deployments_get_their_defaults() {
        let mut d = json!({"spec": {"selector": {}}});
        apply(by_plural("apps", "deployments").unwrap(), &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(
            (d["spec"]["revisionHistoryLimit"].as_i64(), d["spec"]["progressDeadlineSeconds"].as_i64()),
            (Some(10), Some(600))
        );
        let mut r = json!({"spec": {"strategy": {"type": "Recreate"}}});
        apply(by_plural("apps", "deployments").unwrap(), &mut r);
        assert_eq!(r["spec"]["strategy"], json!({"type": "Recreate"}));
    }
}
