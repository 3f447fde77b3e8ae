//! The two spellings of a template definition.
//!
//! In Terraform a definition is canonical JSON with the pod as a nested object under `yaml`:
//! Terraform's plan renderer diffs a JSON string structurally (`jsonencode(...)`, unchanged keys
//! and list elements hidden) but a multi-line YAML string line by line with every unchanged line
//! (hashicorp/terraform `internal/command/jsonformat/computed/renderers/primitive.go`, see
//! `shared/reference/ecosystem.md` §4.2). In the JCasC file it is the plugin's template object,
//! with `yaml` the pod's text. Strings are `^${`-escaped in both.
//!
//! In the JSON spelling the pod's `containers` and `initContainers` are objects keyed by container
//! name, in the pod's order: the renderer shows the elements next to a changed JSON array element
//! in full (its `renderers/list.go`, `displayContext`), so a bumped image would print the
//! neighbouring containers, while an object hides its unchanged keys.
//! Must not: change what the file holds: [`to_casc`] of [`to_json`] gives back the same text.

use super::escape::{escape_casc, map_strings, unescape_casc};
use super::yaml::to_yaml;
use serde_yaml_ng::Value;

/// The JCasC template text (its `yaml` a string) as canonical JSON (its `yaml` the pod object).
pub fn to_json(casc: &str) -> Result<String, String> {
    let mut v: Value = serde_yaml_ng::from_str(casc).map_err(|e| format!("the template does not parse: {e}"))?;
    if let Some(Value::String(text)) = v.get("yaml").cloned() {
        let pod: Value = serde_yaml_ng::from_str(&unescape_casc(&text))
            .map_err(|e| format!("the template's pod does not parse: {e}"))?;
        if let Value::Mapping(m) = &mut v {
            let mut pod = map_strings(&pod, &escape_casc);
            reshape_containers(&mut pod, keyed);
            m.insert("yaml".into(), pod);
        }
    }
    let mut out = serde_json::to_string_pretty(&v).map_err(|e| format!("the template is not JSON-shaped: {e}"))?;
    out.push('\n');
    Ok(out)
}

/// A definition in any spelling (JCasC, or JSON as this or an older provider wrote it) as today's
/// canonical JSON; text that does not parse comes back unchanged (the caller's parser reports what
/// is wrong with it).
pub fn json_spelling(definition: &str) -> String {
    // Only a JSON spelling (maybe an older one) goes back to JCasC first; JCasC text is read once.
    let casc = if definition.trim_start().starts_with('{') { to_casc(definition) } else { definition.to_owned() };
    to_json(&casc).unwrap_or_else(|_| definition.to_owned())
}

/// The pod's container lists under `spec`, reshaped by `f`.
fn reshape_containers(pod: &mut Value, f: fn(&Value) -> Option<Value>) {
    let Some(Value::Mapping(spec)) = pod.get_mut("spec") else { return };
    for key in ["initContainers", "containers"] {
        if let Some(list) = spec.get_mut(key)
            && let Some(reshaped) = f(list)
        {
            *list = reshaped;
        }
    }
}

/// A list of containers as an object keyed by their names, in order; `None` (stays a list) when a
/// container has no name or two share one, as a hand-written pod may.
fn keyed(list: &Value) -> Option<Value> {
    let Value::Sequence(items) = list else { return None };
    let mut out = serde_yaml_ng::Mapping::new();
    for c in items {
        let name = c.get("name").and_then(Value::as_str)?;
        if out.insert(name.into(), c.clone()).is_some() {
            return None;
        }
    }
    Some(Value::Mapping(out))
}

/// The keyed object of [`keyed`] as the pod's list again (each container keeps its `name`).
fn unkeyed(v: &Value) -> Option<Value> {
    let Value::Mapping(m) = v else { return None };
    m.values().all(Value::is_mapping).then(|| Value::Sequence(m.values().cloned().collect()))
}

/// A definition in either spelling as the JCasC template text. Text that is not a mapping with
/// an object `yaml` comes back unchanged (the caller's parser reports what is wrong with it).
pub fn to_casc(definition: &str) -> String {
    let Ok(mut v) = serde_yaml_ng::from_str::<Value>(definition) else { return definition.to_owned() };
    let Some(pod @ Value::Mapping(_)) = v.get("yaml").cloned() else {
        return if definition.trim_start().starts_with('{') { to_yaml(&v) } else { definition.to_owned() };
    };
    let mut pod = map_strings(&pod, &unescape_casc);
    reshape_containers(&mut pod, unkeyed);
    let text = escape_casc(&to_yaml(&pod));
    if let Value::Mapping(m) = &mut v {
        m.insert("yaml".into(), Value::String(text));
    }
    to_yaml(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASC: &str = "name: base\nid: x\nnodeUsageMode: NORMAL\nyaml: |\n  apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n    - name: maven\n      image: maven:3.9\n      env:\n      - name: A\n        value: ^${HOME}\n";

    #[test]
    fn json_holds_the_pod_as_an_object_and_gives_back_the_same_file_text() {
        let json = to_json(CASC).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["yaml"]["spec"]["containers"]["maven"]["image"], "maven:3.9");
        assert_eq!(v["yaml"]["spec"]["containers"]["maven"]["env"][0]["value"], "^${HOME}");
        assert!(json.lines().count() > 10, "pretty-printed so the renderer diffs it by key:\n{json}");
        // The file text is the emitter's, as every rendered definition is.
        let casc = to_casc(&json);
        assert_eq!(to_casc(&to_json(&casc).unwrap()), casc);
        assert_eq!(to_casc(&casc), casc, "the JCasC spelling passes through");
        assert!(casc.contains("image: maven:3.9") && casc.contains("^${HOME}"), "{casc}");
    }

    #[test]
    fn a_template_without_a_pod_round_trips() {
        let casc = "name: t\nid: x\nnodeUsageMode: EXCLUSIVE\n";
        assert_eq!(to_casc(&to_json(casc).unwrap()), casc);
    }

    /// Containers keyed by name keep the pod's order (not the names' order) in the file, and a
    /// definition an older provider wrote (containers as a list) takes today's spelling.
    #[test]
    fn containers_are_keyed_by_name_in_the_pods_order() {
        let casc = "name: t\nid: x\nyaml: |\n  spec:\n    initContainers:\n    - name: init\n      image: busybox\n    containers:\n    - name: zeta\n      image: z\n    - name: alpha\n      image: a\n";
        let json = to_json(casc).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["yaml"]["spec"]["containers"]["alpha"]["image"], "a", "{json}");
        assert_eq!(v["yaml"]["spec"]["initContainers"]["init"]["name"], "init", "{json}");
        assert!(json.find("\"zeta\"").unwrap() < json.find("\"alpha\"").unwrap(), "the pod's order:\n{json}");
        let file = to_casc(&json);
        assert!(file.find("name: zeta").unwrap() < file.find("name: alpha").unwrap(), "{file}");
        assert_eq!(to_casc(&to_json(&file).unwrap()), file);
        let older = serde_json::json!({ "name": "t", "id": "x", "yaml": { "spec": { "containers": [{ "name": "zeta", "image": "z" }, { "name": "alpha", "image": "a" }] } } });
        let respelled = json_spelling(&serde_json::to_string_pretty(&older).unwrap());
        let r: serde_json::Value = serde_json::from_str(&respelled).unwrap();
        assert_eq!(r["yaml"]["spec"]["containers"]["zeta"]["image"], "z", "{respelled}");
        assert_eq!(json_spelling(&respelled), respelled, "today's spelling is a fixed point");
    }

    /// A pod whose containers cannot be keyed (a missing or shared name) keeps its list.
    #[test]
    fn containers_without_unique_names_stay_a_list() {
        let casc = "name: t\nid: x\nyaml: |\n  spec:\n    containers:\n    - name: a\n      image: one\n    - name: a\n      image: two\n    - image: three\n";
        let json = to_json(casc).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(v["yaml"]["spec"]["containers"].is_array(), "{json}");
        let file = to_casc(&json);
        assert!(file.contains("image: one") && file.contains("image: two") && file.contains("image: three"), "{file}");
        assert_eq!(to_casc(&to_json(&file).unwrap()), file);
    }
}
