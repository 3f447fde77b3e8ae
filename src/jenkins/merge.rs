//! The plugin's `merge` YAML strategy: a left fold of its own `combine(Pod, Pod)`, **not** a
//! Kubernetes strategic merge (reference §2). The child's spec is laid over a copy of the
//! parent's, so child spec fields the plugin does not copy are dropped.
//!
//! Must not: apply template fields or decorators (that is `inherit`), or do a strategic merge.

use serde_yaml_ng::{Mapping, Value};

fn get<'a>(m: &'a Mapping, k: &str) -> Option<&'a Value> {
    m.get(k).filter(|v| !v.is_null())
}

fn map_of<'a>(m: &'a Mapping, k: &str) -> Option<&'a Mapping> {
    get(m, k).and_then(Value::as_mapping)
}

fn list_of<'a>(m: &'a Mapping, k: &str) -> &'a [Value] {
    get(m, k).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default()
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Sequence(s)) => s.is_empty(),
        Some(Value::Mapping(m)) => m.is_empty(),
        _ => false,
    }
}

/// `out[k]` = child's value unless empty, else the parent's.
fn child_unless_empty(out: &mut Mapping, parent: &Mapping, child: &Mapping, k: &str) {
    let v = if is_empty(get(child, k)) { get(parent, k) } else { get(child, k) };
    set_opt(out, k, v.cloned());
}

/// `out[k]` = child's value unless null, else the parent's.
fn child_unless_null(out: &mut Mapping, parent: &Mapping, child: &Mapping, k: &str) {
    set_opt(out, k, get(child, k).or_else(|| get(parent, k)).cloned());
}

fn set_opt(out: &mut Mapping, k: &str, v: Option<Value>) {
    match v {
        Some(v) => {
            out.insert(k.into(), v);
        }
        None => {
            out.remove(k);
        }
    }
}

/// Map-merges `k` (child keys win).
fn merge_maps(out: &mut Mapping, parent: &Mapping, child: &Mapping, k: &str) {
    let mut m = map_of(parent, k).cloned().unwrap_or_default();
    for (key, v) in map_of(child, k).into_iter().flatten() {
        m.insert(key.clone(), v.clone());
    }
    set_opt(out, k, (!m.is_empty()).then_some(Value::Mapping(m)));
}

/// Merges two lists of mappings by a key field: the parent's order, then new child entries.
fn by_key(parent: &[Value], child: &[Value], key: &str, pair: &dyn Fn(&Mapping, &Mapping) -> Mapping) -> Vec<Value> {
    let key_of = |v: &Value| v.as_mapping().and_then(|m| m.get(key)).cloned();
    let mut out: Vec<Value> = parent.to_vec();
    for c in child {
        let k = key_of(c);
        match out.iter().position(|p| k.is_some() && key_of(p) == k) {
            Some(i) => {
                if let (Some(p), Some(cm)) = (out[i].as_mapping(), c.as_mapping()) {
                    out[i] = Value::Mapping(pair(p, cm));
                }
            }
            None => out.push(c.clone()),
        }
    }
    out
}

fn child_wins(_: &Mapping, c: &Mapping) -> Mapping {
    c.clone()
}

/// The child's value of each listed key, where it has one, replaces the parent's in `out`.
fn overlay(out: &mut Mapping, child: &Mapping, keys: &[&str]) {
    for k in keys {
        if let Some(v) = get(child, k) {
            out.insert((*k).into(), v.clone());
        }
    }
}

fn set_list(out: &mut Mapping, k: &str, items: Vec<Value>) {
    set_opt(out, k, (!items.is_empty()).then_some(Value::Sequence(items)));
}

/// The plugin's `combine` of two same-named containers.
fn combine_container(parent: &Mapping, child: &Mapping) -> Mapping {
    let mut out = parent.clone();
    for k in ["image", "imagePullPolicy", "command", "args", "workingDir"] {
        child_unless_empty(&mut out, parent, child, k);
    }
    child_unless_null(&mut out, parent, child, "tty");
    let mut res = map_of(parent, "resources").cloned().unwrap_or_default();
    if let Some(cr) = map_of(child, "resources") {
        let pr = res.clone();
        for k in ["requests", "limits"] {
            merge_maps(&mut res, &pr, cr, k);
        }
    }
    // The plugin always builds a resources object for a merged pair (`withNewResources()`), so it
    // is never null afterwards: an agent container merged this way gets no default requests.
    out.insert("resources".into(), Value::Mapping(res));
    // `combineEnvVars` drops entries without a name; `combinedEnvFromSources` those naming
    // neither a ConfigMap nor a Secret.
    let named = |e: &&Value| e.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
    let env: Vec<Value> = by_key(list_of(parent, "env"), list_of(child, "env"), "name", &child_wins);
    set_list(&mut out, "env", env.iter().filter(named).cloned().collect());
    let refers = |e: &&Value| {
        ["configMapRef", "secretRef"]
            .iter()
            .any(|k| e.get(k).and_then(|r| r.get("name")).and_then(Value::as_str).is_some_and(|n| !n.is_empty()))
    };
    let env_from: Vec<Value> =
        list_of(parent, "envFrom").iter().chain(list_of(child, "envFrom")).filter(refers).cloned().collect();
    set_list(&mut out, "envFrom", env_from);
    let mounts = by_key(list_of(parent, "volumeMounts"), list_of(child, "volumeMounts"), "mountPath", &child_wins);
    set_list(&mut out, "volumeMounts", mounts);
    if let Some(csc) = map_of(child, "securityContext") {
        let mut sc = map_of(parent, "securityContext").cloned().unwrap_or_default();
        overlay(&mut sc, csc, &["privileged", "runAsUser", "runAsGroup"]);
        if let Some(ccap) = map_of(csc, "capabilities") {
            let mut cap = map_of(&sc, "capabilities").cloned().unwrap_or_default();
            overlay(&mut cap, ccap, &["add", "drop"]);
            sc.insert("capabilities".into(), Value::Mapping(cap));
        }
        // `combine(Container, Container)` writes a context only when the result is privileged,
        // has a user or group, or has capabilities; otherwise the parent's stays as it was. Only
        // the listed fields come from the child.
        let written = sc.get("privileged").and_then(Value::as_bool) == Some(true)
            || ["runAsUser", "runAsGroup", "capabilities"].iter().any(|k| get(&sc, k).is_some());
        let sc = if written { Some(Value::Mapping(sc)) } else { get(parent, "securityContext").cloned() };
        set_opt(&mut out, "securityContext", sc);
    }
    out
}

/// `combine(parent, child)` of two pods, as the plugin's `merge` strategy folds them.
pub fn combine_pods(parent: &Mapping, child: &Mapping) -> Mapping {
    let mut out = parent.clone();
    let empty = Mapping::new();
    let pm = map_of(parent, "metadata").unwrap_or(&empty);
    let cm = map_of(child, "metadata").unwrap_or(&empty);
    let mut md = pm.clone();
    merge_maps(&mut md, pm, cm, "labels");
    merge_maps(&mut md, pm, cm, "annotations");
    child_unless_empty(&mut md, pm, cm, "name");
    child_unless_empty(&mut md, pm, cm, "namespace");
    set_opt(&mut out, "metadata", (!md.is_empty()).then_some(Value::Mapping(md)));

    let ps = map_of(parent, "spec").unwrap_or(&empty);
    let cs = map_of(child, "spec").unwrap_or(&empty);
    let mut spec = ps.clone();
    merge_maps(&mut spec, ps, cs, "nodeSelector");
    for k in ["serviceAccount", "serviceAccountName", "schedulerName"] {
        child_unless_empty(&mut spec, ps, cs, k);
    }
    for k in ["activeDeadlineSeconds", "hostNetwork", "shareProcessNamespace"] {
        child_unless_null(&mut spec, ps, cs, k);
    }
    for k in ["containers", "initContainers"] {
        set_list(&mut spec, k, by_key(list_of(ps, k), list_of(cs, k), "name", &combine_container));
    }
    set_list(&mut spec, "volumes", by_key(list_of(ps, "volumes"), list_of(cs, "volumes"), "name", &child_wins));
    let tolerations: Vec<Value> =
        list_of(ps, "tolerations").iter().chain(list_of(cs, "tolerations")).cloned().collect();
    set_list(&mut spec, "tolerations", tolerations);
    let mut secrets: Vec<Value> = list_of(ps, "imagePullSecrets").to_vec();
    for s in list_of(cs, "imagePullSecrets") {
        if !secrets.contains(s) {
            secrets.push(s.clone());
        }
    }
    set_list(&mut spec, "imagePullSecrets", secrets);
    if let Some(csc) = map_of(cs, "securityContext") {
        let mut sc = map_of(ps, "securityContext").cloned().unwrap_or_default();
        overlay(&mut sc, csc, &["runAsUser", "runAsGroup"]);
        spec.insert("securityContext".into(), Value::Mapping(sc));
    }
    set_opt(&mut out, "spec", (!spec.is_empty()).then_some(Value::Mapping(spec)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jenkins::pod::canonical_pod;
    use crate::jenkins::yaml::to_yaml;

    fn pod(s: &str) -> Mapping {
        serde_yaml_ng::from_str(s).unwrap()
    }

    #[test]
    fn merge_follows_the_plugin_not_strategic_merge() {
        let parent = pod(r#"
metadata: {labels: {a: "1", b: "1"}}
spec:
  affinity: {parent: kept}
  tolerations: [{key: p}]
  securityContext: {fsGroup: 1000, runAsUser: 1000}
  containers:
  - name: maven
    image: maven:3.8
    ports: [{containerPort: 8080}]
    env: [{name: A, value: parent}, {name: B, value: parent}]
    resources: {requests: {cpu: "1", memory: 1Gi}}
    volumeMounts: [{name: m2, mountPath: /root/.m2}]
  volumes: [{name: m2, emptyDir: {}}]
"#);
        let child = pod(r#"
metadata: {labels: {b: "2"}}
spec:
  affinity: {child: dropped}
  priorityClassName: dropped
  tolerations: [{key: p}]
  securityContext: {fsGroup: 2000, runAsUser: 0}
  containers:
  - name: maven
    image: maven:3.9
    ports: [{containerPort: 9090}]
    env: [{name: B, value: child}]
    resources: {requests: {memory: 2Gi}}
    volumeMounts: [{name: cache, mountPath: /root/.m2}]
  - name: sdk
    image: sdk
  volumes: [{name: m2, hostPath: {path: /x}}, {name: cache, emptyDir: {}}]
"#);
        let merged = canonical_pod(&combine_pods(&parent, &child));
        expect_test::expect![[r#"
            metadata:
              labels:
                a: "1"
                b: "2"
            spec:
              affinity:
                parent: kept
              securityContext:
                fsGroup: 1000
                runAsUser: 0
              tolerations:
                - key: p
                - key: p
              containers:
                - name: maven
                  image: maven:3.9
                  env:
                    - name: A
                      value: parent
                    - name: B
                      value: child
                  ports:
                    - containerPort: 8080
                  resources:
                    requests:
                      cpu: "1"
                      memory: "2Gi"
                  volumeMounts:
                    - name: cache
                      mountPath: /root/.m2
                - name: sdk
                  image: sdk
              volumes:
                - name: m2
                  hostPath:
                    path: /x
                - name: cache
                  emptyDir: {}
        "#]]
        .assert_eq(&to_yaml(&Value::Mapping(merged)));
    }
}
