//! Template attributes that shape the pod directly (the plugin's `PodTemplate` fields besides the
//! YAML): read from a JCasC definition, combined with a parent's (`PodTemplateUtils.combine`), and
//! written into the pod `PodTemplateBuilder.build` makes from the fields. Our own
//! `jenkins_pod_template` emits none of them (it renders into the pod YAML); they come from
//! definitions written by hand, which a cloud accepts too.
//!
//! Must not: model container templates or template volumes (reported as not reflected).

use serde_yaml_ng::{Mapping, Value};

/// The JCasC attributes this module reads.
pub(crate) const FIELD_KEYS: &[&str] = &[
    "nodeSelector",
    "schedulerName",
    "runAsUser",
    "runAsGroup",
    "supplementalGroups",
    "hostNetwork",
    "annotations",
    "imagePullSecrets",
    "envVars",
];

/// The pod-shaping fields of one template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodFields {
    /// `nodeSelector`, as written (`k=v,k2=v2`).
    pub node_selector: Option<String>,
    /// `schedulerName`.
    pub scheduler_name: Option<String>,
    /// `runAsUser` (the plugin keeps only a parseable number).
    pub run_as_user: Option<i64>,
    /// `runAsGroup`.
    pub run_as_group: Option<i64>,
    /// `supplementalGroups`, as written (`1,2`).
    pub supplemental_groups: Option<String>,
    /// `hostNetwork`; `None` = unset.
    pub host_network: Option<bool>,
    /// `annotations`, in order, one per key.
    pub annotations: Vec<(String, String)>,
    /// `imagePullSecrets` names, in order, once each.
    pub image_pull_secrets: Vec<String>,
    /// `envVars`: name → the container `env` entry it builds.
    pub env_vars: Vec<(String, Value)>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn list<'a>(m: &'a Mapping, k: &str) -> Result<&'a [Value], String> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Sequence(s)) => Ok(s),
        Some(_) => Err(format!("`{k}` must be a list.")),
    }
}

fn field(v: &Value, k: &str) -> Option<String> {
    text(v.get(k))
}

fn env_entry(name: &str, rest: &[(&str, Value)]) -> Value {
    let mut m = Mapping::new();
    m.insert("name".into(), name.into());
    for (k, v) in rest {
        m.insert((*k).into(), v.clone());
    }
    Value::Mapping(m)
}

/// Reads the fields from a definition's mapping (strings already unescaped).
pub(crate) fn parse_fields(m: &Mapping) -> Result<PodFields, String> {
    let mut f = PodFields {
        node_selector: text(m.get("nodeSelector")).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        scheduler_name: text(m.get("schedulerName")),
        // `PodTemplateUtils.parseLong`: anything but a number is dropped.
        run_as_user: text(m.get("runAsUser")).and_then(|s| s.trim().parse().ok()),
        run_as_group: text(m.get("runAsGroup")).and_then(|s| s.trim().parse().ok()),
        supplemental_groups: text(m.get("supplementalGroups")),
        host_network: m.get("hostNetwork").and_then(Value::as_bool),
        ..PodFields::default()
    };
    for a in list(m, "annotations")? {
        let key = field(a, "key").ok_or("Each of `annotations` needs a `key`.")?;
        // `PodAnnotation` equality is by key: the first one of a key stays.
        if !f.annotations.iter().any(|(k, _)| *k == key) {
            f.annotations.push((key, field(a, "value").unwrap_or_default()));
        }
    }
    for s in list(m, "imagePullSecrets")? {
        let name = field(s, "name").ok_or("Each of `imagePullSecrets` needs a `name`.")?;
        if !f.image_pull_secrets.contains(&name) {
            f.image_pull_secrets.push(name);
        }
    }
    for (i, e) in list(m, "envVars")?.iter().enumerate() {
        let (key, built) = if let Some(kv) = e.get("envVar") {
            let key = field(kv, "key").unwrap_or_default();
            let value = field(kv, "value").unwrap_or_default();
            (key.clone(), env_entry(&key, &[("value", value.into())]))
        } else if let Some(sv) = e.get("secretEnvVar") {
            let key = field(sv, "key").unwrap_or_default();
            let mut r = Mapping::new();
            r.insert("key".into(), field(sv, "secretKey").unwrap_or_default().into());
            r.insert("name".into(), field(sv, "secretName").unwrap_or_default().into());
            r.insert("optional".into(), sv.get("optional").and_then(Value::as_bool).unwrap_or(false).into());
            let mut from = Mapping::new();
            from.insert("secretKeyRef".into(), Value::Mapping(r));
            (key.clone(), env_entry(&key, &[("valueFrom", Value::Mapping(from))]))
        } else {
            return Err(format!("`envVars[{i}]` is neither an `envVar` nor a `secretEnvVar`."));
        };
        f.env_vars.retain(|(k, _)| *k != key);
        f.env_vars.push((key, built));
    }
    Ok(f)
}

/// `combine(PodTemplate, PodTemplate)` of the fields: strings child unless empty, numbers and
/// `hostNetwork` child unless unset, annotations child first (one per key), pull secrets united
/// parent first, env vars by key (child wins, empty keys dropped).
pub(crate) fn combine_fields(p: &PodFields, c: &PodFields) -> PodFields {
    let or = |c: &Option<String>, p: &Option<String>| c.clone().or_else(|| p.clone());
    let mut annotations = c.annotations.clone();
    for (k, v) in &p.annotations {
        if !annotations.iter().any(|(ck, _)| ck == k) {
            annotations.push((k.clone(), v.clone()));
        }
    }
    let mut image_pull_secrets = p.image_pull_secrets.clone();
    for s in &c.image_pull_secrets {
        if !image_pull_secrets.contains(s) {
            image_pull_secrets.push(s.clone());
        }
    }
    let mut env_vars = p.env_vars.clone();
    for (k, v) in &c.env_vars {
        match env_vars.iter_mut().find(|(pk, _)| pk == k) {
            Some(slot) => slot.1 = v.clone(),
            None => env_vars.push((k.clone(), v.clone())),
        }
    }
    env_vars.retain(|(k, _)| !k.is_empty());
    PodFields {
        node_selector: or(&c.node_selector, &p.node_selector),
        scheduler_name: or(&c.scheduler_name, &p.scheduler_name),
        run_as_user: c.run_as_user.or(p.run_as_user),
        run_as_group: c.run_as_group.or(p.run_as_group),
        supplemental_groups: or(&c.supplemental_groups, &p.supplemental_groups),
        host_network: c.host_network.or(p.host_network),
        annotations,
        image_pull_secrets,
        env_vars,
    }
}

/// `getNodeSelectorMap`: `k=v` pairs split on `,`; malformed ones are ignored (the plugin logs
/// and skips them).
fn node_selector_map(s: &str) -> Mapping {
    let mut m = Mapping::new();
    for sel in s.split(',') {
        let parts: Vec<&str> = sel.split('=').collect();
        if let [k, v] = parts[..]
            && !k.is_empty()
            && !v.is_empty()
        {
            m.insert(k.into(), v.into());
        }
    }
    m
}

/// Writes the fields into the pod `build()` makes before the YAML is laid under it.
pub(crate) fn apply_fields(f: &PodFields, metadata: &mut Mapping, spec: &mut Mapping) {
    if !f.annotations.is_empty() {
        let mut ann = metadata.get("annotations").and_then(Value::as_mapping).cloned().unwrap_or_default();
        for (k, v) in &f.annotations {
            ann.insert(k.as_str().into(), v.as_str().into());
        }
        metadata.insert("annotations".into(), Value::Mapping(ann));
    }
    if let Some(sel) = f.node_selector.as_deref().map(node_selector_map).filter(|m| !m.is_empty()) {
        spec.insert("nodeSelector".into(), Value::Mapping(sel));
    }
    if let Some(s) = &f.scheduler_name {
        spec.insert("schedulerName".into(), s.as_str().into());
    }
    if !f.image_pull_secrets.is_empty() {
        let refs = f.image_pull_secrets.iter().map(|n| {
            let mut r = Mapping::new();
            r.insert("name".into(), n.as_str().into());
            Value::Mapping(r)
        });
        spec.insert("imagePullSecrets".into(), Value::Sequence(refs.collect()));
    }
    if f.run_as_user.is_some() || f.run_as_group.is_some() || f.supplemental_groups.is_some() {
        let mut sc = Mapping::new();
        if let Some(u) = f.run_as_user {
            sc.insert("runAsUser".into(), u.into());
        }
        if let Some(g) = f.run_as_group {
            sc.insert("runAsGroup".into(), g.into());
        }
        if let Some(groups) = &f.supplemental_groups {
            // `parseSupplementalGroupList`: blank or non-numeric ids are skipped.
            let ids: Vec<Value> = groups.split(',').filter_map(|g| g.parse::<i64>().ok()).map(Value::from).collect();
            sc.insert("supplementalGroups".into(), Value::Sequence(ids));
        }
        spec.insert("securityContext".into(), Value::Mapping(sc));
    }
    if let Some(h) = f.host_network {
        spec.insert("hostNetwork".into(), h.into());
    }
}
