//! Templates of one cloud: definitions parsed back into a model, validated across templates, and
//! unwrapped with the plugin's inheritance (`PodTemplateUtils.unwrap` and `combine`, reference §2).
//!
//! Must not: render JCasC (that is `cloud`) or build pods (that is `builder`).

use super::escape::{map_strings, unescape_casc};
use super::fields::{FIELD_KEYS, PodFields, combine_fields, parse_fields};
use super::{Findings, check_label};
use crate::cty::AttributePath;
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What a value known only at pod start shows as.
pub const RUNTIME: &str = "(runtime)";

/// Template attributes the model reads (JCasC names, reference §1); others are reported and ignored.
pub(crate) const KNOWN_KEYS: &[&str] = &[
    "name",
    "id",
    "label",
    "inheritFrom",
    "namespace",
    "serviceAccount",
    "nodeUsageMode",
    "yamlMergeStrategy",
    "inheritYamlMergeStrategy",
    "idleMinutes",
    "instanceCap",
    "activeDeadlineSeconds",
    "podRetention",
    "showRawYaml",
    "agentContainer",
    "yaml",
];

/// A template as JCasC would read it (strings unescaped), i.e. the plugin's `PodTemplate`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateDef {
    /// `name`.
    pub name: String,
    /// `id`.
    pub id: Option<String>,
    /// `label`, split on spaces.
    pub labels: Vec<String>,
    /// `inheritFrom`, split on spaces.
    pub inherit_from: Vec<String>,
    /// `namespace`.
    pub namespace: Option<String>,
    /// `serviceAccount`.
    pub service_account: Option<String>,
    /// `nodeUsageMode`; `None` = EXCLUSIVE.
    pub node_usage_mode: Option<String>,
    /// `yamlMergeStrategy`; `None` = unset.
    pub yaml_merge_strategy: Option<String>,
    /// `inheritYamlMergeStrategy`.
    pub inherit_yaml_merge_strategy: bool,
    /// `idleMinutes`.
    pub idle_minutes: i64,
    /// `instanceCap`; `None` = unlimited.
    pub instance_cap: Option<i64>,
    /// `activeDeadlineSeconds`.
    pub active_deadline_seconds: i64,
    /// `podRetention` symbol; `None` = default.
    pub pod_retention: Option<String>,
    /// `showRawYaml`.
    pub show_raw_yaml: bool,
    /// `agentContainer`; `None` = `jnlp`.
    pub agent_container: Option<String>,
    /// The yamls in force, parents first (one for a plain template).
    pub yamls: Vec<String>,
    /// Attributes that shape the pod directly (`nodeSelector`, `envVars`, …).
    pub fields: PodFields,
    /// Attributes present but not modelled.
    pub unmodelled: Vec<String>,
}

/// Parses one definition (a JCasC template object as YAML, `^${`-escaped).
pub fn parse_definition(text: &str) -> Result<TemplateDef, String> {
    let text = &super::definition::to_casc(text);
    let v: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        format!("The template definition does not parse ({e}); pass a `jenkins_pod_template` definition.")
    })?;
    let Value::Mapping(m) = map_strings(&v, &unescape_casc) else {
        return Err("The template definition is not a mapping; pass a `jenkins_pod_template` definition.".into());
    };
    let s = |k: &str| m.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let i = |k: &str| -> Result<Option<i64>, String> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(Value::String(t)) if t.is_empty() => Ok(None),
            Some(Value::String(t)) => {
                t.parse().map(Some).map_err(|_| format!("`{k}` is {t:?}; it must be a whole number."))
            }
            Some(_) => Err(format!("`{k}` must be a whole number.")),
        }
    };
    let words = |k: &str| s(k).map(|t| t.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
    let name = s("name").ok_or("The template definition has no `name`; every template needs one.")?;
    Ok(TemplateDef {
        name,
        id: s("id"),
        labels: words("label"),
        inherit_from: words("inheritFrom"),
        namespace: s("namespace"),
        service_account: s("serviceAccount"),
        node_usage_mode: s("nodeUsageMode"),
        yaml_merge_strategy: s("yamlMergeStrategy"),
        inherit_yaml_merge_strategy: m.get("inheritYamlMergeStrategy").and_then(Value::as_bool).unwrap_or(false),
        idle_minutes: i("idleMinutes")?.unwrap_or(0),
        instance_cap: i("instanceCap")?.filter(|c| *c >= 0),
        active_deadline_seconds: i("activeDeadlineSeconds")?.unwrap_or(0),
        pod_retention: s("podRetention").filter(|r| r != "default"),
        show_raw_yaml: m.get("showRawYaml").and_then(Value::as_bool).unwrap_or(true),
        agent_container: s("agentContainer"),
        yamls: s("yaml").into_iter().collect(),
        fields: parse_fields(&m)?,
        unmodelled: m
            .keys()
            .filter_map(Value::as_str)
            .filter(|k| !KNOWN_KEYS.contains(k) && !FIELD_KEYS.contains(k))
            .map(str::to_owned)
            .collect(),
    })
}

/// Cross-template checks: parse errors, duplicate names and ids, unknown parents, cycles, shared
/// labels. `path_of(i)` is the attribute of template `i`.
pub(crate) fn validate_templates(
    defs: &[Option<TemplateDef>],
    defaults_provider: Option<&str>,
    path_of: &dyn Fn(usize) -> AttributePath,
    f: &mut Findings,
) {
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut labels: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, d) in defs.iter().enumerate() {
        let Some(d) = d else { continue };
        if let Some(j) = names.insert(&d.name, i) {
            names.insert(&d.name, j);
            f.error(
                path_of(i),
                "Duplicate Template Name",
                format!(
                    "Templates {j} and {i} are both named {:?}; the plugin resolves names to the first, so rename one.",
                    d.name
                ),
            );
        }
        let id = super::template_id(&d.name, d.id.as_deref());
        if let Some(j) = ids.insert(id.clone(), i) {
            f.error(path_of(i), "Duplicate Template Id", format!("Templates {j} and {i} share the id {id:?}; agents would resolve to the wrong template. Give each its own id."));
        }
        for l in &d.labels {
            if check_label(l).is_ok()
                && let Some(j) = labels.insert(l, i)
            {
                labels.insert(l, j);
                f.warning(path_of(i), "Label Shared By Templates", format!("Templates {j} and {i} both carry label {l:?}; a job asking for it always gets the first one, template {j}."));
            }
        }
        if !d.unmodelled.is_empty() {
            f.warning(
                path_of(i),
                "Attributes Not Reflected",
                format!(
                    "Template {:?} sets {}, which effective_pods does not model; the plugin still applies them.",
                    d.name,
                    d.unmodelled.join(", ")
                ),
            );
        }
    }
    for (i, d) in defs.iter().enumerate() {
        let Some(d) = d else { continue };
        for p in &d.inherit_from {
            if !names.contains_key(p.as_str()) {
                f.error(path_of(i), "Unknown Parent Template", format!("Template {:?} inherits from {p:?}, which is not a template of this cloud; the plugin would silently ignore it. Add that template to `templates` or remove it from inherit_from.", d.name));
            }
        }
    }
    if let Some(dp) = defaults_provider
        && !names.contains_key(dp)
    {
        f.error(
            AttributePath::attr("defaults_provider_template"),
            "Unknown Defaults Template",
            format!(
                "defaults_provider_template is {dp:?}, which is not a template of this cloud; add it to `templates`."
            ),
        );
    }
    // Cycles: the plugin has no detection and overflows its stack.
    let by_name: BTreeMap<&str, &TemplateDef> = defs.iter().flatten().map(|d| (d.name.as_str(), d)).rev().collect();
    let mut reported = BTreeSet::new();
    for (i, d) in defs.iter().enumerate() {
        let Some(d) = d else { continue };
        let mut stack = vec![d.name.clone()];
        if let Some(cycle) = find_cycle(&by_name, &mut stack)
            && reported.insert(cycle.iter().cloned().collect::<BTreeSet<_>>())
        {
            f.error(path_of(i), "Inheritance Cycle", format!("Templates inherit in a cycle ({}); the plugin would recurse until its stack overflows. Break the cycle.", cycle.join(" → ")));
        }
    }
}

fn find_cycle(by_name: &BTreeMap<&str, &TemplateDef>, stack: &mut Vec<String>) -> Option<Vec<String>> {
    let last = stack.last()?.clone();
    let d = by_name.get(last.as_str())?;
    for p in &d.inherit_from {
        if let Some(pos) = stack.iter().position(|s| s == p) {
            let mut c = stack[pos..].to_vec();
            c.push(p.clone());
            return Some(c);
        }
        stack.push(p.clone());
        let found = find_cycle(by_name, stack);
        stack.pop();
        if found.is_some() {
            return found;
        }
    }
    None
}

/// `combine(parent, child)` of two templates (reference §2).
pub fn combine_templates(p: &TemplateDef, c: &TemplateDef) -> TemplateDef {
    let or = |c: &Option<String>, p: &Option<String>| c.clone().or_else(|| p.clone());
    TemplateDef {
        name: c.name.clone(),
        id: c.id.clone(),
        labels: c.labels.clone(),
        inherit_from: c.inherit_from.clone(),
        namespace: or(&c.namespace, &p.namespace),
        service_account: or(&c.service_account, &p.service_account),
        node_usage_mode: c.node_usage_mode.clone(),
        yaml_merge_strategy: match &c.yaml_merge_strategy {
            None if p.inherit_yaml_merge_strategy => p.yaml_merge_strategy.clone(),
            s => s.clone(),
        },
        inherit_yaml_merge_strategy: p.inherit_yaml_merge_strategy,
        idle_minutes: if c.idle_minutes != 0 { c.idle_minutes } else { p.idle_minutes },
        instance_cap: c.instance_cap.or(p.instance_cap),
        active_deadline_seconds: if c.active_deadline_seconds != 0 {
            c.active_deadline_seconds
        } else {
            p.active_deadline_seconds
        },
        pod_retention: c.pod_retention.clone(),
        show_raw_yaml: if c.show_raw_yaml { p.show_raw_yaml } else { false },
        agent_container: or(&c.agent_container, &p.agent_container),
        yamls: p.yamls.iter().chain(&c.yamls).cloned().collect(),
        fields: combine_fields(&p.fields, &c.fields),
        unmodelled: Vec::new(),
    }
}

/// The template with its parents folded in: `[defaults provider] + inheritFrom`, later wins;
/// unknown names are skipped as the plugin does. Callers reject cycles first.
pub fn unwrap_template(t: &TemplateDef, all: &[TemplateDef], defaults_provider: Option<&str>) -> TemplateDef {
    unwrap_depth(t, all, defaults_provider, 0)
}

fn unwrap_depth(t: &TemplateDef, all: &[TemplateDef], dp: Option<&str>, depth: usize) -> TemplateDef {
    let find = |n: &str| all.iter().find(|d| d.name == n);
    // The plugin does not skip the template itself: the defaults provider's own chain starts with
    // itself, so its yamls appear twice (harmless under override, doubled lists under merge).
    let mut chain: Vec<&str> = dp.into_iter().collect();
    chain.extend(t.inherit_from.iter().map(String::as_str));
    let mut parent: Option<TemplateDef> = None;
    for name in chain {
        let Some(next) = find(name) else { continue };
        if depth > 32 {
            break;
        }
        let next = unwrap_depth(next, all, None, depth + 1);
        parent = Some(match parent {
            None => next,
            Some(p) => combine_templates(&p, &next),
        });
    }
    match parent {
        None => t.clone(),
        Some(p) => combine_templates(&p, t),
    }
}
