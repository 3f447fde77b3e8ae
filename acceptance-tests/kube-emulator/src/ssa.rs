//! Server-side apply and field ownership: field sets of leaf paths, `managedFields` in FieldsV1 (`f:`)
//! notation, conflicts between managers, `force`, removal of fields an applier dropped, and ownership
//! recorded for Update operations (create, update, merge patch). Lists are atomic. Pure: works on JSON values.

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// A path of map keys from the object root.
pub type Path = Vec<String>;
/// A set of owned leaf paths.
pub type FieldSet = BTreeSet<Path>;

/// Metadata fields that belong to the server, never to a manager.
const SYSTEM_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    /// Manager name.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// apiVersion the manager used.
    pub api_version: String,
    /// RFC 3339 time of the last change.
    pub time: String,
    /// Owned leaf paths.
    pub fields: FieldSet,
}

/// One conflict: the other manager's entry, and the field.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// How the other manager is named in messages.
    pub manager: String,
    /// `.data.key`.
    pub field: String,
}

/// Removes server-owned parts (system metadata, status) from a client-supplied object.
pub fn strip_system(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in SYSTEM_METADATA {
            if !matches!(*k, "name" | "namespace") {
                m.remove(*k);
            }
        }
    }
    if let Some(m) = o.as_object_mut() {
        m.remove("status");
    }
    o
}

/// The leaf paths of an object that managers can own.
pub fn leaves(obj: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(map) = obj.as_object() else { return out };
    for (k, v) in map {
        match k.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                if let Some(m) = v.as_object() {
                    for (mk, mv) in m {
                        if !SYSTEM_METADATA.contains(&mk.as_str()) {
                            walk(vec!["metadata".into(), mk.clone()], mv, &mut out);
                        }
                    }
                }
            }
            _ => walk(vec![k.clone()], v, &mut out),
        }
    }
    out
}

fn walk(path: Path, v: &Value, out: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                let mut p = path.clone();
                p.push(k.clone());
                walk(p, child, out);
            }
        }
        _ => {
            out.insert(path);
        }
    }
}

/// Whether one path is a prefix of the other.
pub fn overlaps(a: &Path, b: &Path) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// The value at a path, if present.
pub fn get<'a>(obj: &'a Value, path: &Path) -> Option<&'a Value> {
    path.iter().try_fold(obj, |v, k| v.get(k))
}

/// Removes the value at a path, then any maps it leaves empty on the way up (except the root).
fn remove(obj: &mut Value, path: &Path) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut cur = &mut *obj;
    for k in parents {
        match cur.get_mut(k) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.remove(last);
    }
    if parents.len() > 1 || (parents.len() == 1 && parents[0] != "metadata") {
        let is_empty = get(obj, &parents.to_vec()).and_then(Value::as_object).is_some_and(Map::is_empty);
        if is_empty {
            remove(obj, &parents.to_vec());
        }
    }
}

/// Merges `patch` into `base`: maps recursively, everything else (scalars, lists) replaced.
pub fn merge_into(base: &mut Value, patch: &Value) {
    match (base.as_object_mut(), patch.as_object()) {
        (Some(b), Some(p)) => {
            for (k, v) in p {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge_into(existing, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        _ => *base = patch.clone(),
    }
}

/// Encodes a field set in FieldsV1 notation.
pub fn to_fields_v1(fields: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in fields {
        let mut cur = &mut root;
        for seg in path {
            cur = cur
                .entry(format!("f:{seg}"))
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("fieldsV1 nodes are maps");
        }
    }
    Value::Object(root)
}

/// Decodes FieldsV1 into leaf paths (nodes with keyed list members are treated as atomic leaves).
pub fn from_fields_v1(v: &Value) -> FieldSet {
    fn go(prefix: &Path, v: &Value, out: &mut FieldSet) {
        let children: Vec<(&String, &Value)> =
            v.as_object().map(|m| m.iter().filter(|(k, _)| k.starts_with("f:")).collect()).unwrap_or_default();
        if children.is_empty() {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
            return;
        }
        for (k, child) in children {
            let mut p = prefix.clone();
            p.push(k[2..].to_string());
            go(&p, child, out);
        }
    }
    let mut out = FieldSet::new();
    go(&vec![], v, &mut out);
    out
}

/// Reads `metadata.managedFields`.
pub fn read_managers(obj: &Value) -> Vec<ManagedEntry> {
    let Some(list) = obj.pointer("/metadata/managedFields").and_then(Value::as_array) else { return vec![] };
    list.iter()
        .map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            ManagedEntry {
                manager: s("manager"),
                operation: s("operation"),
                api_version: s("apiVersion"),
                time: s("time"),
                fields: e.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
            }
        })
        .collect()
}

/// Writes `metadata.managedFields` (dropping entries that own nothing).
pub fn write_managers(obj: &mut Value, entries: &[ManagedEntry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            json!({
                "manager": e.manager, "operation": e.operation, "apiVersion": e.api_version, "time": e.time,
                "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(&e.fields),
            })
        })
        .collect();
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            m.remove("managedFields");
        } else {
            m.insert("managedFields".into(), Value::Array(list));
        }
    }
}

fn describe(e: &ManagedEntry) -> String {
    if e.operation == "Update" {
        format!("{:?} using {}", e.manager, e.api_version)
    } else {
        format!("{:?}", e.manager)
    }
}

/// Renders the path as the API server does: `.data.key`.
pub fn path_string(p: &Path) -> String {
    p.iter().map(|s| format!(".{s}")).collect()
}

/// The `Apply failed with N conflict(s): ...` message.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    let n = conflicts.len();
    let mut managers: Vec<&str> = conflicts.iter().map(|c| c.manager.as_str()).collect();
    managers.dedup();
    let body: Vec<String> = managers
        .iter()
        .map(|m| {
            let fields: Vec<&str> = conflicts.iter().filter(|c| c.manager == *m).map(|c| c.field.as_str()).collect();
            if fields.len() == 1 {
                format!("conflict with {m}: {}", fields[0])
            } else {
                format!("conflicts with {m}:\n- {}", fields.join("\n- "))
            }
        })
        .collect();
    format!("Apply failed with {n} conflict{}: {}", if n == 1 { "" } else { "s" }, body.join("\n"))
}

/// Whether applying `applied` (which sets path `p`) changes what another manager owns at `q`
/// (`p` and `q` overlap). Maps merge, so setting a map never clobbers keys below it.
fn clashes(live: &Value, applied: &Value, p: &Path, q: &Path) -> bool {
    if p.len() < q.len() {
        return !get(applied, p).is_some_and(Value::is_object) && get(live, q).is_some();
    }
    if q.len() < p.len() {
        return !get(live, q).is_some_and(Value::is_object);
    }
    get(live, p) != get(applied, p)
}

/// Inputs to one apply.
pub struct ApplyRequest<'a> {
    /// The live object, if any (with its managedFields).
    pub live: Option<&'a Value>,
    /// The applied configuration, already normalised and stripped of server fields.
    pub applied: &'a Value,
    /// The field manager.
    pub manager: &'a str,
    /// Whether to take ownership on conflict.
    pub force: bool,
    /// apiVersion of the request.
    pub api_version: &'a str,
    /// Time stamp for the entry.
    pub now: &'a str,
}

/// Applies a configuration: returns the merged object with updated managedFields, or the conflicts.
pub fn apply(req: &ApplyRequest) -> Result<Value, Vec<Conflict>> {
    let empty = json!({});
    let live = req.live.unwrap_or(&empty);
    let mut entries = read_managers(live);
    let fa = leaves(req.applied);
    let is_self = |e: &ManagedEntry| e.manager == req.manager && e.operation == "Apply";

    let mut conflicts = vec![];
    let mut forced: Vec<(usize, Path)> = vec![];
    for (i, e) in entries.iter().enumerate().filter(|(_, e)| !is_self(e)) {
        for q in &e.fields {
            for p in fa.iter().filter(|p| overlaps(p, q)) {
                if clashes(live, req.applied, p, q) {
                    conflicts.push(Conflict { manager: describe(e), field: path_string(q) });
                    forced.push((i, q.clone()));
                    break;
                }
            }
        }
    }
    if !conflicts.is_empty() && !req.force {
        return Err(conflicts);
    }
    for (i, q) in forced {
        entries[i].fields.remove(&q);
    }

    let previous = entries.iter().find(|e| is_self(e)).map(|e| e.fields.clone()).unwrap_or_default();
    let mut merged = live.clone();
    for p in previous.iter().filter(|p| !fa.iter().any(|a| a.starts_with(p))) {
        let owned_elsewhere = entries.iter().filter(|e| !is_self(e)).any(|e| e.fields.iter().any(|q| overlaps(p, q)));
        if !owned_elsewhere {
            remove(&mut merged, p);
        }
    }
    merge_into(&mut merged, req.applied);

    match entries.iter_mut().find(|e| is_self(e)) {
        Some(e) => {
            e.fields = fa;
            e.time = req.now.to_string();
            e.api_version = req.api_version.to_string();
        }
        None => entries.push(ManagedEntry {
            manager: req.manager.to_string(),
            operation: "Apply".into(),
            api_version: req.api_version.to_string(),
            time: req.now.to_string(),
            fields: fa,
        }),
    }
    prune(&mut entries, &merged);
    write_managers(&mut merged, &entries);
    Ok(merged)
}

/// Records an Update operation (create, update, patch) by `manager` from `live` to `new`,
/// writing managedFields into `new`.
pub fn record_update(live: Option<&Value>, new: &mut Value, manager: &str, api_version: &str, now: &str) {
    let mut entries = live.map(read_managers).unwrap_or_default();
    let changed: FieldSet = leaves(new).into_iter().filter(|p| live.is_none_or(|l| get(l, p) != get(new, p))).collect();
    if !changed.is_empty() {
        for e in entries.iter_mut().filter(|e| !(e.manager == manager && e.operation == "Update")) {
            e.fields.retain(|q| !changed.iter().any(|p| overlaps(p, q)));
        }
        match entries.iter_mut().find(|e| e.manager == manager && e.operation == "Update") {
            Some(e) => {
                e.fields.extend(changed);
                e.time = now.to_string();
            }
            None => entries.push(ManagedEntry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version: api_version.to_string(),
                time: now.to_string(),
                fields: changed,
            }),
        }
    }
    prune(&mut entries, new);
    write_managers(new, &entries);
}

/// Drops owned paths that no longer exist in the object.
fn prune(entries: &mut Vec<ManagedEntry>, obj: &Value) {
    for e in entries.iter_mut() {
        e.fields.retain(|p| get(obj, p).is_some());
    }
    entries.retain(|e| !e.fields.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Path {
        s.split('.').map(String::from).collect()
    }

    fn apply_as(live: Option<&Value>, applied: Value, m: &str, force: bool) -> Result<Value, Vec<Conflict>> {
        apply(&ApplyRequest { live, applied: &applied, manager: m, force, api_version: "v1", now: "t" })
    }

    #[test]
    fn fields_v1_round_trip() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "labels": {"a": "1"}, "uid": "u"}, "data": {"k1": "v", "k2": "w"}});
        let set = leaves(&obj);
        assert_eq!(set, [p("data.k1"), p("data.k2"), p("metadata.labels.a")].into_iter().collect());
        let v1 = to_fields_v1(&set);
        assert_eq!(v1, json!({"f:data": {"f:k1": {}, "f:k2": {}}, "f:metadata": {"f:labels": {"f:a": {}}}}));
        assert_eq!(from_fields_v1(&v1), set);
    }

    #[test]
    fn lists_are_atomic() {
        let set = leaves(&json!({"rules": [{"verbs": ["get"]}], "metadata": {"name": "r"}}));
        assert_eq!(set, [p("rules")].into_iter().collect());
    }

    #[test]
    fn apply_creates_then_removes_dropped_fields() {
        let base = json!({"metadata": {"name": "x"}});
        let a = apply_as(None, json!({"metadata": {"name": "x"}, "data": {"k1": "a", "k2": "b"}}), "m", false).unwrap();
        assert_eq!(a["data"], json!({"k1": "a", "k2": "b"}));
        let b = apply_as(Some(&a), json!({"metadata": {"name": "x"}, "data": {"k1": "a"}}), "m", false).unwrap();
        assert_eq!(b["data"], json!({"k1": "a"}));
        let c = apply_as(Some(&b), base, "m", false).unwrap();
        assert!(c.get("data").is_none());
        assert!(c.pointer("/metadata/managedFields").is_none());
    }

    #[test]
    fn conflicts_and_force() {
        let a = apply_as(None, json!({"metadata": {"name": "x"}, "data": {"k": "a"}}), "one", false).unwrap();
        // Same value: shared ownership, no conflict.
        let shared = apply_as(Some(&a), json!({"metadata": {"name": "x"}, "data": {"k": "a"}}), "two", false).unwrap();
        assert_eq!(read_managers(&shared).len(), 2);
        let err = apply_as(Some(&a), json!({"metadata": {"name": "x"}, "data": {"k": "b"}}), "two", false).unwrap_err();
        assert_eq!(err, vec![Conflict { manager: "\"one\"".into(), field: ".data.k".into() }]);
        assert_eq!(conflict_message(&err), "Apply failed with 1 conflict: conflict with \"one\": .data.k");
        let forced = apply_as(Some(&a), json!({"metadata": {"name": "x"}, "data": {"k": "b"}}), "two", true).unwrap();
        let ms = read_managers(&forced);
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].manager, "two");
        assert_eq!(forced["data"]["k"], "b");
        // "one" no longer owns k, and dropping it from "one"'s apply leaves k alone.
        let after = apply_as(Some(&forced), json!({"metadata": {"name": "x"}}), "one", false).unwrap();
        assert_eq!(after["data"]["k"], "b");
    }

    #[test]
    fn empty_map_neither_conflicts_nor_keeps_dropped_keys() {
        let a =
            apply_as(None, json!({"metadata": {"name": "x"}, "data": {"k1": "a", "k2": "b"}}), "one", false).unwrap();
        let b = apply_as(Some(&a), json!({"metadata": {"name": "x"}, "data": {"k1": "z"}}), "two", true).unwrap();
        let c = apply_as(Some(&b), json!({"metadata": {"name": "x"}, "data": {}}), "one", false).unwrap();
        assert_eq!(c["data"], json!({"k1": "z"}));
        let err = apply_as(Some(&c), json!({"metadata": {"name": "x"}, "data": "scalar"}), "one", false).unwrap_err();
        assert_eq!(err[0].field, ".data.k1");
    }

    #[test]
    fn dropped_field_kept_when_shared() {
        let a = apply_as(None, json!({"metadata": {"name": "x"}, "data": {"k": "a"}}), "one", false).unwrap();
        let b = apply_as(Some(&a), json!({"metadata": {"name": "x"}, "data": {"k": "a"}}), "two", false).unwrap();
        let c = apply_as(Some(&b), json!({"metadata": {"name": "x"}}), "one", false).unwrap();
        assert_eq!(c["data"]["k"], "a");
    }

    #[test]
    fn update_takes_ownership() {
        let a = apply_as(None, json!({"metadata": {"name": "x"}, "data": {"k": "a", "j": "1"}}), "one", false).unwrap();
        let mut b = a.clone();
        b["data"]["k"] = json!("z");
        record_update(Some(&a), &mut b, "editor", "v1", "t");
        let ms = read_managers(&b);
        assert_eq!(ms[0].fields, [p("data.j")].into_iter().collect());
        assert_eq!(ms[1].manager, "editor");
        assert_eq!(ms[1].operation, "Update");
        assert_eq!(ms[1].fields, [p("data.k")].into_iter().collect());
        let err = apply_as(Some(&b), json!({"metadata": {"name": "x"}, "data": {"k": "a"}}), "one", false).unwrap_err();
        assert_eq!(err[0].manager, "\"editor\" using v1");
    }
}
