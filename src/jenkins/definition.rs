//! The two spellings of a template definition.
//!
//! In Terraform a definition is canonical JSON with the pod as a nested object under `yaml`:
//! Terraform's plan renderer diffs a JSON string structurally (`jsonencode(...)`, unchanged keys
//! and list elements hidden) but a multi-line YAML string line by line with every unchanged line
//! (hashicorp/terraform `internal/command/jsonformat/computed/renderers/primitive.go`, see
//! `shared/reference/ecosystem.md` §4.2). In the JCasC file it is the plugin's template object,
//! with `yaml` the pod's text. Strings are `^${`-escaped in both.
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
            m.insert("yaml".into(), map_strings(&pod, &escape_casc));
        }
    }
    let mut out = serde_json::to_string_pretty(&v).map_err(|e| format!("the template is not JSON-shaped: {e}"))?;
    out.push('\n');
    Ok(out)
}

/// A definition in either spelling as canonical JSON; text that does not parse comes back unchanged
/// (the caller's parser reports what is wrong with it).
pub fn json_spelling(definition: &str) -> String {
    if definition.trim_start().starts_with('{') {
        return definition.to_owned();
    }
    to_json(definition).unwrap_or_else(|_| definition.to_owned())
}

/// A definition in either spelling as the JCasC template text. Text that is not a mapping with
/// an object `yaml` comes back unchanged (the caller's parser reports what is wrong with it).
pub fn to_casc(definition: &str) -> String {
    let Ok(mut v) = serde_yaml_ng::from_str::<Value>(definition) else { return definition.to_owned() };
    let Some(pod @ Value::Mapping(_)) = v.get("yaml").cloned() else {
        return if definition.trim_start().starts_with('{') { to_yaml(&v) } else { definition.to_owned() };
    };
    let text = escape_casc(&to_yaml(&map_strings(&pod, &unescape_casc)));
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
        assert_eq!(v["yaml"]["spec"]["containers"][0]["image"], "maven:3.9");
        assert_eq!(v["yaml"]["spec"]["containers"][0]["env"][0]["value"], "^${HOME}");
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
}
