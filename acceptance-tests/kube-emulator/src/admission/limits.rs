//! LimitRanger admission: LimitRange defaults for containers that lack them (and the
//! `kubernetes.io/limit-ranger` annotation saying so), then `min`, `max` and
//! `maxLimitRequestRatio` per Container and per Pod, with the real messages
//! (kubernetes `plugin/pkg/admission/limitranger/admission.go`), and the server-side defaults of a
//! LimitRange itself (`SetDefaults_LimitRangeItem`). Pure.

use super::{containers_of, resource_list};
use crate::quantity::{Format, Quantity};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// `default` from `max`, `defaultRequest` from `default` then `min`, for `Container` items, as the
/// API server defaults a stored LimitRange.
pub fn default_limit_range(obj: &mut Value) {
    let Some(items) = obj.pointer_mut("/spec/limits").and_then(Value::as_array_mut) else { return };
    for item in items.iter_mut().filter(|i| i.get("type").and_then(Value::as_str) == Some("Container")) {
        let fill = |item: &mut Value, to: &str, from: &str| {
            let source = item.get(from).and_then(Value::as_object).cloned().unwrap_or_default();
            let target = item[to].as_object_mut().map(std::mem::take).unwrap_or_default();
            let mut target: Map<String, Value> = target;
            for (k, v) in source {
                target.entry(k).or_insert(v);
            }
            item[to] = Value::Object(target);
        };
        fill(item, "default", "max");
        fill(item, "defaultRequest", "default");
        fill(item, "defaultRequest", "min");
    }
}

fn items_of<'a>(limit_ranges: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    limit_ranges
        .iter()
        .flat_map(|lr| lr.pointer("/spec/limits").and_then(Value::as_array).into_iter().flatten())
        .filter(move |i| i.get("type").and_then(Value::as_str) == Some(kind))
}

/// Applies the `Container` defaults to every container lacking them; returns the annotation value
/// (`LimitRanger plugin set: cpu, memory request for container jnlp; …`) if anything was set.
pub fn apply_defaults(limit_ranges: &[Value], spec: &mut Value) -> Option<String> {
    let mut default_requests = Map::new();
    let mut default_limits = Map::new();
    for item in items_of(limit_ranges, "Container") {
        for (k, v) in item.get("defaultRequest").and_then(Value::as_object).into_iter().flatten() {
            default_requests.insert(k.clone(), v.clone());
        }
        for (k, v) in item.get("default").and_then(Value::as_object).into_iter().flatten() {
            default_limits.insert(k.clone(), v.clone());
        }
    }
    if default_requests.is_empty() && default_limits.is_empty() {
        return None;
    }
    let mut notes = vec![];
    for (list, prefix) in [("containers", "container"), ("initContainers", "init container")] {
        for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            if !c.get("resources").is_some_and(Value::is_object) {
                c["resources"] = json!({});
            }
            let mut set = |field: &str, defaults: &Map<String, Value>| {
                if !c["resources"].get(field).is_some_and(Value::is_object) {
                    c["resources"][field] = json!({});
                }
                let mut names = vec![];
                for (k, v) in defaults {
                    if c["resources"][field].get(k).is_none() {
                        c["resources"][field][k] = v.clone();
                        names.push(k.clone());
                    }
                }
                names.sort();
                names
            };
            let limits = set("limits", &default_limits);
            let requests = set("requests", &default_requests);
            if !requests.is_empty() {
                notes.push(format!("{} request for {prefix} {name}", requests.join(", ")));
            }
            if !limits.is_empty() {
                notes.push(format!("{} limit for {prefix} {name}", limits.join(", ")));
            }
        }
    }
    (!notes.is_empty()).then(|| format!("LimitRanger plugin set: {}", notes.join("; ")))
}

type List = BTreeMap<String, Quantity>;

fn min_constraint(kind: &str, res: &str, enforced: &Quantity, req: &List, lim: &List) -> Option<String> {
    let Some(r) = req.get(res) else {
        return Some(format!("minimum {res} usage per {kind} is {enforced}.  No request is specified"));
    };
    if r < enforced {
        return Some(format!("minimum {res} usage per {kind} is {enforced}, but request is {r}"));
    }
    match lim.get(res) {
        Some(l) if l < enforced => Some(format!("minimum {res} usage per {kind} is {enforced}, but limit is {l}")),
        _ => None,
    }
}

fn max_constraint(kind: &str, res: &str, enforced: &Quantity, req: &List, lim: &List) -> Option<String> {
    let Some(l) = lim.get(res) else {
        return Some(format!("maximum {res} usage per {kind} is {enforced}.  No limit is specified"));
    };
    if l > enforced {
        return Some(format!("maximum {res} usage per {kind} is {enforced}, but limit is {l}"));
    }
    match req.get(res) {
        Some(r) if r > enforced => Some(format!("maximum {res} usage per {kind} is {enforced}, but request is {r}")),
        _ => None,
    }
}

fn ratio_constraint(kind: &str, res: &str, enforced: &Quantity, req: &List, lim: &List) -> Option<String> {
    let r = req.get(res).filter(|r| r.nanos() != 0);
    let l = lim.get(res).filter(|l| l.nanos() != 0);
    let Some(r) = r else {
        return Some(format!(
            "{res} max limit to request ratio per {kind} is {enforced}, but no request is specified or request is 0"
        ));
    };
    let Some(l) = l else {
        return Some(format!(
            "{res} max limit to request ratio per {kind} is {enforced}, but no limit is specified or limit is 0"
        ));
    };
    let observed = l.nanos() as f64 / r.nanos() as f64;
    (observed * 1000.0 > enforced.milli() as f64).then(|| {
        format!("{res} max limit to request ratio per {kind} is {enforced}, but provided ratio is {observed:.6}")
    })
}

fn check_item(item: &Value, kind: &str, req: &List, lim: &List, errors: &mut Vec<String>) {
    type Constraint = fn(&str, &str, &Quantity, &List, &List) -> Option<String>;
    let constraints: [(&str, Constraint); 3] =
        [("min", min_constraint), ("max", max_constraint), ("maxLimitRequestRatio", ratio_constraint)];
    for (field, constraint) in constraints {
        for (res, v) in resource_list(item.get(field)) {
            errors.extend(constraint(kind, &res, &v, req, lim));
        }
    }
}

/// Pod totals: the sum over containers, raised to any init container's value.
pub fn pod_totals(spec: &Value, field: &str) -> List {
    let mut total = List::new();
    for c in spec.get("containers").and_then(Value::as_array).into_iter().flatten() {
        for (k, v) in resource_list(c.pointer(&format!("/resources/{field}"))) {
            let sum = total.get(&k).map(|t| t.add(v)).unwrap_or(v);
            total.insert(k, sum);
        }
    }
    for c in spec.get("initContainers").and_then(Value::as_array).into_iter().flatten() {
        for (k, v) in resource_list(c.pointer(&format!("/resources/{field}"))) {
            if total.get(&k).is_none_or(|t| v > *t) {
                total.insert(k, v);
            }
        }
    }
    total
}

/// LimitRanger's own pod totals: a resource is summed (and printed as a plain decimal) only if every
/// container sets it, then raised to any init container's value.
fn limit_ranger_totals(spec: &Value, field: &str) -> List {
    let lists: Vec<List> = spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| resource_list(c.pointer(&format!("/resources/{field}"))))
        .collect();
    let mut total = List::new();
    let keys: std::collections::BTreeSet<&String> = lists.iter().flat_map(|l| l.keys()).collect();
    for k in keys {
        if lists.iter().all(|l| l.contains_key(k)) {
            let sum = lists.iter().map(|l| l[k]).reduce(Quantity::add).expect("at least one list has the key");
            total.insert(k.clone(), sum.in_format(Format::DecimalSI));
        }
    }
    for c in spec.get("initContainers").and_then(Value::as_array).into_iter().flatten() {
        for (k, v) in resource_list(c.pointer(&format!("/resources/{field}"))) {
            if total.get(&k).is_none_or(|t| v > *t) {
                total.insert(k, v);
            }
        }
    }
    total
}

/// Every `min`/`max`/`maxLimitRequestRatio` violation, `Container` items per container (init
/// containers after the others), then `Pod` items on the pod's totals.
pub fn violations(limit_ranges: &[Value], spec: &Value) -> Vec<String> {
    let mut errors = vec![];
    for lr in limit_ranges {
        for item in lr.pointer("/spec/limits").and_then(Value::as_array).into_iter().flatten() {
            match item.get("type").and_then(Value::as_str) {
                Some("Container") => {
                    for c in containers_of(spec, &["containers", "initContainers"]) {
                        let req = resource_list(c.pointer("/resources/requests"));
                        let lim = resource_list(c.pointer("/resources/limits"));
                        check_item(item, "Container", &req, &lim, &mut errors);
                    }
                }
                Some("Pod") => {
                    let (req, lim) = (limit_ranger_totals(spec, "requests"), limit_ranger_totals(spec, "limits"));
                    check_item(item, "Pod", &req, &lim, &mut errors);
                }
                _ => {}
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(limits: Value) -> Value {
        let mut lr = json!({"metadata": {"name": "lr"}, "spec": {"limits": limits}});
        default_limit_range(&mut lr);
        lr
    }

    #[test]
    fn a_stored_limit_range_gets_the_server_defaults() {
        let lr = range(json!([{"type": "Container", "max": {"memory": "1Gi"}, "min": {"cpu": "100m"}}]));
        assert_eq!(lr["spec"]["limits"][0]["default"], json!({"memory": "1Gi"}));
        assert_eq!(lr["spec"]["limits"][0]["defaultRequest"], json!({"memory": "1Gi", "cpu": "100m"}));
    }

    #[test]
    fn defaults_fill_only_what_containers_lack_and_say_so() {
        let lr = range(json!([{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"},
                                "defaultRequest": {"cpu": "250m", "memory": "256Mi"}}]));
        let mut spec = json!({"containers": [
            {"name": "jnlp"},
            {"name": "maven", "resources": {"limits": {"memory": "2Gi"}, "requests": {"memory": "2Gi"}}}
        ]});
        let note = apply_defaults(&[lr], &mut spec).unwrap();
        assert_eq!(
            spec["containers"][0]["resources"],
            json!({"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "250m", "memory": "256Mi"}})
        );
        assert_eq!(spec["containers"][1]["resources"]["limits"], json!({"memory": "2Gi", "cpu": "500m"}));
        assert_eq!(
            note,
            "LimitRanger plugin set: cpu, memory request for container jnlp; cpu, memory limit for container jnlp; cpu request for container maven; cpu limit for container maven"
        );
        assert_eq!(apply_defaults(&[], &mut spec), None);
    }

    #[test]
    fn violations_use_the_real_messages() {
        let lr = range(json!([
            {"type": "Container", "max": {"memory": "1Gi"}, "min": {"cpu": "100m"}, "maxLimitRequestRatio": {"cpu": "2"}},
            {"type": "Pod", "max": {"cpu": "2"}}
        ]));
        let spec = json!({"containers": [
            {"name": "a", "resources": {"limits": {"memory": "2Gi", "cpu": "3"}, "requests": {"cpu": "1", "memory": "1Gi"}}},
        ]});
        assert_eq!(
            violations(std::slice::from_ref(&lr), &spec),
            [
                "maximum memory usage per Container is 1Gi, but limit is 2Gi",
                "cpu max limit to request ratio per Container is 2, but provided ratio is 3.000000",
                "maximum cpu usage per Pod is 2, but limit is 3",
            ]
        );
        let no_request =
            json!({"containers": [{"name": "a", "resources": {"limits": {"memory": "1Gi", "cpu": "200m"}}}]});
        assert!(
            violations(std::slice::from_ref(&lr), &no_request)
                .contains(&"minimum cpu usage per Container is 100m.  No request is specified".to_string())
        );
        let two = json!({"containers": [
            {"name": "a", "resources": {"limits": {"memory": "1Gi", "cpu": "1500m"}, "requests": {"cpu": "1"}}},
            {"name": "b", "resources": {"limits": {"memory": "1Gi"}, "requests": {"cpu": "1"}}},
        ]});
        let lr2 = range(json!([{"type": "Pod", "max": {"memory": "1Gi", "cpu": "2"}}]));
        assert_eq!(
            violations(std::slice::from_ref(&lr2), &two),
            [
                "maximum cpu usage per Pod is 2.  No limit is specified",
                "maximum memory usage per Pod is 1Gi, but limit is 2147483648",
            ]
        );
        let ok = json!({"containers": [{"name": "a", "resources": {"limits": {"memory": "1Gi", "cpu": "200m"}, "requests": {"cpu": "100m"}}}]});
        assert!(violations(&[lr], &ok).is_empty());
    }
}
