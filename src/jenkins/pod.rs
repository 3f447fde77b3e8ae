//! Pod YAML: parsing what a user wrote, and the canonical form every rendering goes through.
//!
//! Owns: the "is this a Pod the plugin accepts" check (kind `Pod` or absent, apiVersion `v1` or
//! absent, as the plugin parses YAML without `kind`), and canonical key order so the same pod gives
//! byte-identical text whatever order its keys were written in.
//! Must not: apply Kubernetes defaults or merge pods (`merge` does the plugin's merge).

use serde_yaml_ng::{Mapping, Value};

/// Parses pod YAML. An empty document is an empty pod.
pub fn parse_pod(text: &str) -> Result<Mapping, String> {
    let v: Value = serde_yaml_ng::from_str(text)
        .map_err(|e| format!("The pod YAML does not parse ({e}); write a single YAML document describing a Pod."))?;
    let m = match v {
        Value::Null => return Ok(Mapping::new()),
        Value::Mapping(m) => m,
        _ => {
            return Err(
                "The pod YAML is not a mapping; write a Pod object (`apiVersion: v1`, `kind: Pod`, `spec: …`).".into(),
            );
        }
    };
    check_tree(&Value::Mapping(m.clone()))?;
    match m.get("kind") {
        None | Some(Value::Null) => {}
        Some(Value::String(k)) if k == "Pod" => {}
        Some(k) => {
            return Err(format!(
                "The pod YAML has kind {}; the plugin reads it as a Pod, so write `kind: Pod` or leave kind out.",
                short(k)
            ));
        }
    }
    match m.get("apiVersion") {
        None | Some(Value::Null) => {}
        Some(Value::String(a)) if a == "v1" => {}
        Some(a) => {
            return Err(format!(
                "The pod YAML has apiVersion {}; Pods are `v1`, so write `apiVersion: v1` or leave it out.",
                short(a)
            ));
        }
    }
    if let Some(md) = m.get("metadata")
        && !matches!(md, Value::Mapping(_) | Value::Null)
    {
        return Err("`metadata` in the pod YAML is not a mapping; write it as `metadata: {labels: …}`.".into());
    }
    let Some(spec) = m.get("spec") else { return Ok(m) };
    let spec = match spec {
        Value::Null => return Ok(m),
        Value::Mapping(s) => s,
        _ => return Err("`spec` in the pod YAML is not a mapping; write the PodSpec under `spec:`.".into()),
    };
    for list in ["containers", "initContainers", "volumes"] {
        match spec.get(list) {
            None | Some(Value::Null) => {}
            Some(Value::Sequence(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let name = item.as_mapping().and_then(|c| c.get("name")).and_then(Value::as_str);
                    if name.is_none() {
                        return Err(format!(
                            "`spec.{list}[{i}]` in the pod YAML has no `name`; every entry of `{list}` needs a string name."
                        ));
                    }
                }
            }
            Some(_) => {
                return Err(format!(
                    "`spec.{list}` in the pod YAML is not a list; write it as a YAML sequence (`- name: …`)."
                ));
            }
        }
    }
    Ok(m)
}

/// Rejects what cannot be rendered back faithfully: non-string keys and custom tags.
fn check_tree(v: &Value) -> Result<(), String> {
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                if !k.is_string() {
                    return Err(format!(
                        "The pod YAML has a non-string key {}; Kubernetes objects only have string keys, so quote it.",
                        short(k)
                    ));
                }
                check_tree(v)?;
            }
            Ok(())
        }
        Value::Sequence(s) => s.iter().try_for_each(check_tree),
        Value::Tagged(t) => {
            Err(format!("The pod YAML uses the tag {}; remove the tag, Kubernetes objects are plain YAML.", t.tag))
        }
        _ => Ok(()),
    }
}

fn short(v: &Value) -> String {
    let s = serde_yaml_ng::to_string(v).unwrap_or_default();
    let s = s.trim_end();
    if s.len() > 40 { format!("{:?}…", &s[..40.min(s.len())]) } else { format!("{s:?}") }
}

/// The shape a mapping has, which decides its key order.
#[derive(Clone, Copy)]
enum Shape {
    Pod,
    Metadata,
    Spec,
    Container,
    Volume,
    Mount,
    Env,
    Resources,
    Other,
}

/// Keys that come first, in this order; the rest follow sorted, then `LAST`.
fn order(shape: Shape) -> (&'static [&'static str], &'static [&'static str]) {
    match shape {
        Shape::Pod => (&["apiVersion", "kind", "metadata", "spec"], &[]),
        Shape::Metadata => (&["name", "namespace", "labels", "annotations"], &[]),
        Shape::Spec => (&["serviceAccountName", "serviceAccount"], &["initContainers", "containers", "volumes"]),
        Shape::Container => (
            &["name", "image", "imagePullPolicy", "command", "args", "tty", "stdin", "workingDir", "env", "envFrom"],
            &["resources", "securityContext", "volumeMounts"],
        ),
        Shape::Volume | Shape::Env => (&["name", "value"], &[]),
        Shape::Mount => (&["name", "mountPath", "subPath", "readOnly"], &[]),
        Shape::Resources => (&["requests", "limits"], &[]),
        Shape::Other => (&[], &[]),
    }
}

fn child_shape(shape: Shape, key: &str) -> (Shape, bool) {
    // (shape of the value, or of each element when the bool says it is a list of them)
    match (shape, key) {
        (Shape::Pod, "metadata") => (Shape::Metadata, false),
        (Shape::Pod, "spec") => (Shape::Spec, false),
        (Shape::Spec, "containers" | "initContainers" | "ephemeralContainers") => (Shape::Container, true),
        (Shape::Spec, "volumes") => (Shape::Volume, true),
        (Shape::Container, "volumeMounts") => (Shape::Mount, true),
        (Shape::Container, "env") => (Shape::Env, true),
        (Shape::Container, "resources") => (Shape::Resources, false),
        _ => (Shape::Other, false),
    }
}

/// The canonical form of a pod: keys in a fixed order, lists in their given order, and volume
/// modes written `0644` (YAML 1.1 octal, as the plugin reads them) turned into numbers.
pub fn canonical_pod(pod: &Mapping) -> Mapping {
    canonical_mapping(pod, Shape::Pod)
}

fn canonical_mapping(m: &Mapping, shape: Shape) -> Mapping {
    let (first, last) = order(shape);
    let key = |k: &Value| k.as_str().unwrap_or_default().to_owned();
    let mut rest: Vec<(&Value, &Value)> =
        m.iter().filter(|(k, _)| !first.contains(&key(k).as_str()) && !last.contains(&key(k).as_str())).collect();
    rest.sort_by_key(|(k, _)| key(k));
    let mut out = Mapping::new();
    let pick = |name: &str| m.iter().find(|(k, _)| k.as_str() == Some(name));
    let firsts = first.iter().filter_map(|n| pick(n));
    let lasts = last.iter().filter_map(|n| pick(n));
    for (k, v) in firsts.chain(rest).chain(lasts) {
        let name = key(k);
        let (child, is_list) = child_shape(shape, &name);
        let v = match v {
            Value::Sequence(items) if is_list => Value::Sequence(
                items
                    .iter()
                    .map(|i| match i {
                        Value::Mapping(im) => Value::Mapping(canonical_mapping(im, child)),
                        other => canonical_value(other, Shape::Other),
                    })
                    .collect(),
            ),
            Value::String(s) if (name == "defaultMode" || name == "mode") && is_octal(s) => {
                Value::Number(i64::from_str_radix(s, 8).unwrap_or_default().into())
            }
            other => canonical_value(other, child),
        };
        out.insert(k.clone(), v);
    }
    out
}

fn canonical_value(v: &Value, shape: Shape) -> Value {
    match v {
        Value::Mapping(m) => Value::Mapping(canonical_mapping(m, shape)),
        Value::Sequence(items) => Value::Sequence(items.iter().map(|i| canonical_value(i, Shape::Other)).collect()),
        other => other.clone(),
    }
}

fn is_octal(s: &str) -> bool {
    s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// Accessors used by rendering and lint.
pub(crate) fn spec(pod: &Mapping) -> Option<&Mapping> {
    pod.get("spec").and_then(Value::as_mapping)
}

/// The pod's `spec`, created when absent.
pub(crate) fn spec_mut(pod: &mut Mapping) -> &mut Mapping {
    if !matches!(pod.get("spec"), Some(Value::Mapping(_))) {
        pod.insert("spec".into(), Value::Mapping(Mapping::new()));
    }
    pod.get_mut("spec").and_then(Value::as_mapping_mut).expect("spec was just made a mapping")
}

/// The list `key` of a mapping, created when absent.
pub(crate) fn list_mut<'a>(m: &'a mut Mapping, key: &str) -> &'a mut Vec<Value> {
    if !matches!(m.get(key), Some(Value::Sequence(_))) {
        m.insert(key.into(), Value::Sequence(Vec::new()));
    }
    m.get_mut(key).and_then(Value::as_sequence_mut).expect("list was just made a sequence")
}

/// The mappings of `spec.<key>` (containers, volumes).
pub(crate) fn entries<'a>(pod: &'a Mapping, key: &str) -> Vec<&'a Mapping> {
    spec(pod)
        .and_then(|s| s.get(key))
        .and_then(Value::as_sequence)
        .map(|items| items.iter().filter_map(Value::as_mapping).collect())
        .unwrap_or_default()
}

/// `name` of a container or volume.
pub(crate) fn name_of(m: &Mapping) -> &str {
    m.get("name").and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_is_not_a_pod() {
        let cases = [
            ("spec: [", "does not parse"),
            ("- a", "not a mapping"),
            ("kind: Deployment", "kind \"Deployment\""),
            ("apiVersion: apps/v1", "apiVersion \"apps/v1\""),
            ("spec: 3", "`spec`"),
            ("spec: {containers: {a: b}}", "not a list"),
            ("spec: {containers: [{image: x}]}", "no `name`"),
            ("spec: {nodeSelector: {1: a}}", "non-string key"),
            ("spec: !custom {}", "tag"),
            ("a: 1\n---\nb: 2\n", "does not parse"),
        ];
        for (input, needle) in cases {
            let err = parse_pod(input).expect_err(input);
            assert!(err.contains(needle), "{input}: {err}");
        }
        assert!(parse_pod("").unwrap().is_empty());
        assert!(parse_pod("spec: {containers: [{name: a}]}").is_ok());
        assert!(parse_pod("apiVersion: v1\nkind: Pod\n").is_ok());
    }

    #[test]
    fn canonical_order_is_independent_of_input_order() {
        let a = "spec:\n  volumes: [{emptyDir: {}, name: v}]\n  containers:\n  - {tty: true, name: c, image: i, zeta: 1, alpha: 2}\n  nodeSelector: {b: '1', a: '2'}\nkind: Pod\n";
        let b = "kind: Pod\nspec:\n  nodeSelector: {a: '2', b: '1'}\n  containers:\n  - {alpha: 2, image: i, name: c, tty: true, zeta: 1}\n  volumes: [{name: v, emptyDir: {}}]\n";
        let ca = canonical_pod(&parse_pod(a).unwrap());
        let cb = canonical_pod(&parse_pod(b).unwrap());
        assert_eq!(ca, cb);
        let text = crate::jenkins::yaml::to_yaml(&Value::Mapping(ca));
        expect_test::expect![[r#"
            kind: Pod
            spec:
              nodeSelector:
                a: "2"
                b: "1"
              containers:
                - name: c
                  image: i
                  tty: true
                  alpha: 2
                  zeta: 1
              volumes:
                - name: v
                  emptyDir: {}
        "#]]
        .assert_eq(&text);
    }

    #[test]
    fn octal_modes_become_numbers() {
        let p = canonical_pod(
            &parse_pod("spec: {volumes: [{name: v, secret: {secretName: s, defaultMode: 0644}}]}").unwrap(),
        );
        let v = &entries(&p, "volumes")[0];
        assert_eq!(v["secret"]["defaultMode"], Value::Number(420.into()));
    }
}
