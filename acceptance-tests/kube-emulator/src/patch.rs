//! Patch formats other than server-side apply: JSON merge patch (RFC 7386), strategic merge patch
//! (merge patch plus merge-by-key for the served kinds' keyed lists, `$patch: delete|replace`; other
//! directives are dropped and other lists replaced), and JSON patch (RFC 6902). Pure.

use serde_json::Value;

/// RFC 7386: maps merge recursively, `null` deletes, everything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let t = target.as_object_mut().expect("made an object above");
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Lists merged by key in strategic merge patches: (kind, path, key).
const MERGE_KEYS: &[(&str, &[&str], &str)] = &[
    ("ServiceAccount", &["secrets"], "name"),
    ("Pod", &["spec", "containers"], "name"),
    ("Pod", &["spec", "initContainers"], "name"),
    ("Pod", &["spec", "volumes"], "name"),
    ("Pod", &["spec", "imagePullSecrets"], "name"),
    ("StatefulSet", &["spec", "template", "spec", "containers"], "name"),
    ("StatefulSet", &["spec", "template", "spec", "initContainers"], "name"),
    ("StatefulSet", &["spec", "template", "spec", "volumes"], "name"),
    ("StatefulSet", &["spec", "template", "spec", "imagePullSecrets"], "name"),
    ("Deployment", &["spec", "template", "spec", "containers"], "name"),
    ("Deployment", &["spec", "template", "spec", "initContainers"], "name"),
    ("Deployment", &["spec", "template", "spec", "volumes"], "name"),
    ("Deployment", &["spec", "template", "spec", "imagePullSecrets"], "name"),
];

/// Strategic merge patch for an object of `kind`.
pub fn strategic_merge(target: &mut Value, patch: &Value, kind: &str) {
    strategic_at(target, patch, kind, &mut vec![]);
}

fn strategic_at(target: &mut Value, patch: &Value, kind: &str, path: &mut Vec<String>) {
    let Some(p) = patch.as_object() else {
        *target = strip_directives(patch);
        return;
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            *target = strip_directives(patch);
            return;
        }
        Some("delete") => {
            *target = Value::Object(Default::default());
            return;
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let t = target.as_object_mut().expect("made an object above");
    for (k, v) in p.iter().filter(|(k, _)| !k.starts_with('$')) {
        path.push(k.clone());
        let key = MERGE_KEYS.iter().find(|(kd, kp, _)| *kd == kind && kp.iter().eq(path.iter())).map(|m| m.2);
        match (v, key) {
            (Value::Null, _) => {
                t.remove(k);
            }
            (Value::Array(items), Some(key)) => {
                let existing = t.entry(k.clone()).or_insert_with(|| Value::Array(vec![]));
                if !existing.is_array() {
                    *existing = Value::Array(vec![]);
                }
                let list = existing.as_array_mut().expect("made an array above");
                for item in items {
                    let id = item.get(key).cloned();
                    let pos = id.as_ref().and_then(|id| list.iter().position(|e| e.get(key) == Some(id)));
                    match (item.get("$patch").and_then(Value::as_str), pos) {
                        (Some("delete"), Some(i)) => {
                            list.remove(i);
                        }
                        (Some("delete"), None) => {}
                        (_, Some(i)) => strategic_at(&mut list[i], item, "", &mut vec![]),
                        (_, None) => list.push(strip_directives(item)),
                    }
                }
            }
            _ => strategic_at(t.entry(k.clone()).or_insert(Value::Null), v, kind, path),
        }
        path.pop();
    }
}

/// Removes strategic-merge directives (`$patch`, `$setElementOrder/...`, `$retainKeys`, ...).
pub fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter().filter(|(k, _)| !k.starts_with('$')).map(|(k, v)| (k.clone(), strip_directives(v))).collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(ptr: &str) -> Result<(String, String), String> {
    let idx = ptr.rfind('/').ok_or_else(|| format!("invalid JSON pointer {ptr:?}"))?;
    Ok((ptr[..idx].to_string(), unescape(&ptr[idx + 1..])))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    match doc.pointer_mut(&parent) {
        Some(Value::Object(m)) => {
            m.insert(last, value);
            Ok(())
        }
        Some(Value::Array(a)) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = last.parse().map_err(|_| format!("invalid array index {last:?}"))?;
            if i > a.len() {
                return Err(format!("array index {i} out of bounds"));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!("doc is missing path: {path:?}")),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    match doc.pointer_mut(&parent) {
        Some(Value::Object(m)) => m.remove(&last).ok_or_else(|| format!("doc is missing key: {path:?}")),
        Some(Value::Array(a)) => {
            let i: usize = last.parse().map_err(|_| format!("invalid array index {last:?}"))?;
            if i >= a.len() {
                return Err(format!("array index {i} out of bounds"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("doc is missing path: {path:?}")),
    }
}

/// RFC 6902 JSON patch.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops.as_array().ok_or("a JSON patch must be an array")?;
    for op in ops {
        let path = op.get("path").and_then(Value::as_str).ok_or("operation has no path")?;
        let value = || op.get("value").cloned().ok_or_else(|| "operation has no value".to_string());
        match op.get("op").and_then(Value::as_str).unwrap_or("") {
            "add" => add(doc, path, value()?)?,
            "remove" => {
                remove(doc, path)?;
            }
            "replace" => {
                remove(doc, path)?;
                add(doc, path, value()?)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path} failed"));
                }
            }
            "move" | "copy" => {
                let from = op.get("from").and_then(Value::as_str).ok_or("operation has no from")?;
                let v = if op["op"] == "move" {
                    remove(doc, from)?
                } else {
                    doc.pointer(from).cloned().ok_or_else(|| format!("doc is missing path: {from:?}"))?
                };
                add(doc, path, v)?;
            }
            other => return Err(format!("unknown operation {other:?}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_and_strategic() {
        let mut d = json!({"data": {"a": "1", "b": "2"}, "rules": [1, 2]});
        merge_patch(&mut d, &json!({"data": {"a": null, "c": "3"}, "rules": [3]}));
        assert_eq!(d, json!({"data": {"b": "2", "c": "3"}, "rules": [3]}));
        let s = strip_directives(&json!({"$setElementOrder/x": [], "data": {"$patch": "replace", "k": "v"}}));
        assert_eq!(s, json!({"data": {"k": "v"}}));
    }

    #[test]
    fn strategic_merges_keyed_lists() {
        let mut sa = json!({"imagePullSecrets": [{"name": "a"}], "secrets": [{"name": "t1"}, {"name": "t2"}], "metadata": {"name": "s"}});
        strategic_merge(
            &mut sa,
            &json!({"imagePullSecrets": [{"name": "b"}], "secrets": [{"name": "t1", "$patch": "delete"}],
                    "$setElementOrder/secrets": [{"name": "t2"}], "metadata": {"labels": {"x": "1"}}}),
            "ServiceAccount",
        );
        assert_eq!(
            sa,
            json!({"imagePullSecrets": [{"name": "b"}], "secrets": [{"name": "t2"}], "metadata": {"name": "s", "labels": {"x": "1"}}})
        );
        let mut role = json!({"rules": [{"verbs": ["get"]}]});
        strategic_merge(&mut role, &json!({"rules": [{"verbs": ["list"]}]}), "Role");
        assert_eq!(role, json!({"rules": [{"verbs": ["list"]}]}));
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}});
        strategic_merge(&mut pod, &json!({"spec": {"containers": [{"name": "b", "image": "2"}]}}), "Pod");
        assert_eq!(pod["spec"]["containers"][1], json!({"name": "b", "image": "2"}));
        assert_eq!(pod["spec"]["containers"].as_array().unwrap().len(), 2);
        // kubectl apply sends only the changed container fields of a workload's template.
        let mut d =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "1", "args": ["x"]}]}}}});
        let p = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "a"}],
                       "containers": [{"name": "a", "image": "2"}]}}}});
        strategic_merge(&mut d, &p, "Deployment");
        assert_eq!(d["spec"]["template"]["spec"]["containers"], json!([{"name": "a", "image": "2", "args": ["x"]}]));
    }

    #[test]
    fn json_patch_ops() {
        let mut d = json!({"data": {"a": "1"}, "list": [1]});
        json_patch(
            &mut d,
            &json!([{"op": "add", "path": "/data/b", "value": "2"}, {"op": "replace", "path": "/data/a", "value": "x"},
                    {"op": "add", "path": "/list/-", "value": 2}, {"op": "remove", "path": "/list/0"},
                    {"op": "test", "path": "/data/b", "value": "2"}]),
        )
        .unwrap();
        assert_eq!(d, json!({"data": {"a": "x", "b": "2"}, "list": [2]}));
        assert!(json_patch(&mut d, &json!([{"op": "test", "path": "/data/b", "value": "3"}])).is_err());
        assert!(json_patch(&mut d, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }
}
