//! The pod template through the framework pipeline with core's consistency checks asserted.

use super::PodTemplate;
use crate::cty::{AttributePath, Value};
use crate::framework::testing::{apply, config_from_json, plan, validate};
use crate::framework::{Resource, Severity};
use serde_json::json;

fn config(j: serde_json::Value) -> Value {
    config_from_json(&PodTemplate.schema(), j)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime")
}

fn maven() -> serde_json::Value {
    json!({"name": "maven", "image": "maven:3.9", "requests": {"cpu": "1", "memory": "1Gi"}})
}

#[test]
fn create_renders_at_plan_and_second_plan_is_empty() {
    rt().block_on(async {
        let cfg = config(json!({"name": "base", "labels": ["base"], "tool_container": [maven()]}));
        let out = plan(&PodTemplate, &Value::Null, &cfg).await;
        let def = out.planned.get_attr("definition").and_then(Value::as_str).expect("definition known at plan");
        let doc: serde_json::Value = serde_json::from_str(def).expect("canonical JSON");
        assert_eq!(doc["name"], "base");
        assert_eq!(doc["yaml"]["spec"]["containers"]["maven"]["image"], "maven:3.9", "the pod is an object: {def}");
        let (state, _) = apply(&PodTemplate, &Value::Null, &cfg).await;
        assert_eq!(state.get_attr("command"), None);
        let tc = &state.get_attr("tool_container").unwrap().as_elements().unwrap()[0];
        assert_eq!(tc.get_attr("command"), Some(&Value::List(vec![Value::string("cat")])), "default command");
        assert_eq!(tc.get_attr("tty"), Some(&Value::Bool(true)), "default tty");
    });
}

#[test]
fn update_keeps_id_and_changes_definition() {
    rt().block_on(async {
        let v1 = config(json!({"name": "t", "tool_container": [maven()]}));
        let (s1, _) = apply(&PodTemplate, &Value::Null, &v1).await;
        let mut m2 = maven();
        m2["image"] = json!("maven:3.9.9");
        let v2 = config(json!({"name": "t", "tool_container": [m2]}));
        let (s2, _) = apply(&PodTemplate, &s1, &v2).await;
        assert_eq!(s1.get_attr("id"), s2.get_attr("id"));
        assert_ne!(s1.get_attr("definition"), s2.get_attr("definition"));
    });
}

#[test]
fn renaming_requires_replacement() {
    rt().block_on(async {
        let (s1, _) = apply(&PodTemplate, &Value::Null, &config(json!({"name": "a"}))).await;
        let out = plan(&PodTemplate, &s1, &config(json!({"name": "b"}))).await;
        assert_eq!(out.requires_replace, vec![AttributePath::attr("name")]);
    });
}

#[test]
fn unknown_input_leaves_computed_unknown_until_apply() {
    rt().block_on(async {
        let cfg = config(json!({"name": "t", "tool_container": [{"name": "m", "image": "(unknown)"}]}));
        let out = plan(&PodTemplate, &Value::Null, &cfg).await;
        assert!(out.planned.get_attr("definition").is_some_and(Value::is_unknown));
        assert!(out.planned.get_attr("id").is_some_and(Value::is_unknown));
    });
}

#[test]
fn lint_warnings_come_back_at_plan() {
    rt().block_on(async {
        let cfg = config(
            json!({"name": "t", "tool_container": [{"name": "m", "image": "x", "command": ["true"], "tty": false}]}),
        );
        let out = plan(&PodTemplate, &Value::Null, &cfg).await;
        assert!(!out.diags.has_error(), "{:?}", out.diags);
        assert!(out.diags.iter().any(|d| d.severity == Severity::Warning), "{:?}", out.diags);
    });
}

#[test]
fn bad_input_is_an_error_naming_the_attribute() {
    let cases = [
        (json!({"name": "t", "pod_yaml": "spec: ["}), "pod_yaml"),
        (json!({"name": "t", "labels": ["a b"]}), "labels[0]"),
        (json!({"name": "t", "idle_minutes": -1}), "idle_minutes"),
        (json!({"name": "t", "yaml_merge_strategy": "strategic"}), "yaml_merge_strategy"),
        (json!({"name": "t", "inherit_from": ["t"]}), "inherit_from"),
        (json!({"name": "a".repeat(58)}), "name"),
        (json!({"name": "t", "tool_container": [{"name": "Bad_Name", "image": "x"}]}), "tool_container[0].name"),
        (json!({"name": "t", "volume": [{"name": "v", "mount_path": "/x"}]}), "volume[0]"),
    ];
    for (cfg, path) in cases {
        let diags = validate(&PodTemplate, &config(cfg.clone()));
        assert!(diags.has_error(), "{cfg}: expected an error");
        let paths: Vec<String> = diags.iter().filter_map(|d| d.path.as_ref().map(ToString::to_string)).collect();
        assert!(paths.iter().any(|p| p.starts_with(path)), "{cfg}: no diagnostic at {path}: {diags:?}");
    }
}

/// A state of schema version 0 (definition in the JCasC spelling, the pod again in
/// `pod_yaml_normalized`) upgrades to exactly what today's plan renders, so it plans no change.
#[test]
fn a_version_0_state_upgrades_to_todays_definition() {
    rt().block_on(async {
        let cfg = config(json!({"name": "base", "labels": ["base"], "tool_container": [maven()]}));
        let (state, _) = apply(&PodTemplate, &Value::Null, &cfg).await;
        let json = state.get_attr("definition").and_then(Value::as_str).expect("definition").to_owned();
        let mut old = state.clone();
        crate::resources::values::set(
            &mut old,
            "definition",
            Value::string(crate::jenkins::definition::to_casc(&json)),
        );
        assert!(old.get_attr("definition").and_then(Value::as_str).is_some_and(|d| d.starts_with("name: base")));
        let upgraded = PodTemplate.upgrade_state(0, old);
        assert_eq!(upgraded, state);
        assert_eq!(PodTemplate.upgrade_state(1, state.clone()), state, "a version-1 definition of this pod is today's");
        assert_eq!(PodTemplate.upgrade_state(2, state.clone()), state, "today's state passes through");
        let out = plan(&PodTemplate, &upgraded, &cfg).await;
        assert_eq!(out.planned, upgraded, "no change planned after the upgrade");
    });
}
