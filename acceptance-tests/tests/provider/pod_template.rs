//! `jenkins_pod_template` through real Terraform.

use acceptance_tests::terraform::{Workdir, apply_case, example, terraforms};
use serde_json::Value as Json;

#[test]
fn seed_example_applies_with_empty_replans() {
    let hcl = example("resources/jenkins_pod_template/resource.tf");
    apply_case("pod-template-example", &hcl, |w| {
        let base = w.resource("jenkins_pod_template.base");
        let def: Json = serde_json::from_str(base["definition"].as_str().expect("definition")).expect("JSON");
        // The pod is an object in the definition, its containers keyed by name (each keeps it).
        let keyed = def["yaml"]["spec"]["containers"].as_object().expect("containers keyed by name");
        let containers: Vec<&str> = keyed
            .iter()
            .filter(|(key, c)| c["name"].as_str() == Some(key.as_str()))
            .map(|(key, _)| key.as_str())
            .collect();
        for tool in
            ["maven", "node", "python", "golang", "kubectl", "terraform", "aws-cli", "docker", "kaniko", "ssh-client"]
        {
            assert!(containers.contains(&tool), "definition lacks container {tool}:\n{def}");
        }
        assert_eq!(def["name"], "base");
        let id = base["id"].as_str().expect("id");
        assert_eq!(id.len(), 36, "id is a UUID: {id}");
        let pod = def["yaml"].to_string();
        assert!(pod.contains("/var/run/docker.sock") && pod.contains("awsconfig-configmap"), "{pod}");
        assert!(base.get("pod_yaml_normalized").is_none(), "the pod is in state once: {base}");
        let helm = w.resource("jenkins_pod_template.helm");
        let hdef: Json = serde_json::from_str(helm["definition"].as_str().expect("definition")).expect("JSON");
        assert_eq!(hdef["inheritFrom"], "base", "{hdef}");
        assert_eq!(hdef["idleMinutes"], 20, "{hdef}");
    });
}

/// A state written by schema version 0 (the definition in its JCasC spelling, the pod a second
/// time in `pod_yaml_normalized`; the fixture is the seed example applied by that provider) is
/// upgraded by the provider: no resource change is planned (the example's output follows the new
/// spelling), and the next apply stores today's version (2).
#[test]
fn a_state_of_schema_version_0_plans_no_change() {
    let fixture = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/provider/fixtures/pod_template_schema_v0.state.json"),
    )
    .expect("fixture");
    assert!(fixture.contains("pod_yaml_normalized") && fixture.contains("\"schema_version\": 0"));
    for tf in terraforms() {
        let w = Workdir::new("pod-template-v0", tf);
        w.write_config(&example("resources/jenkins_pod_template/resource.tf"));
        std::fs::write(w.dir.join("terraform.tfstate"), &fixture).expect("write state");
        // No resource changes; only the example's output, which holds the old spelling, follows.
        let r = w.run(&["plan", "-input=false", "-no-color"]);
        assert_eq!(r.code, 0, "{}", r.text());
        let text = r.text();
        assert!(
            !text.contains("Terraform will perform the following actions") && text.contains("~ base_definition"),
            "[{}] a version-0 state plans no resource change:\n{text}",
            tf.version
        );
        w.apply();
        let state: Json =
            serde_json::from_str(&std::fs::read_to_string(w.dir.join("terraform.tfstate")).expect("state"))
                .expect("JSON");
        for r in state["resources"].as_array().expect("resources") {
            let instance = &r["instances"][0];
            assert_eq!(instance["schema_version"], 2, "[{}] {instance}", tf.version);
            assert!(instance["attributes"].get("pod_yaml_normalized").is_none());
            assert!(instance["attributes"]["definition"].as_str().is_some_and(|d| d.starts_with('{')));
        }
        w.assert_plans_empty();
        w.cleanup();
    }
}

#[test]
fn lint_warnings_show_at_plan() {
    for tf in terraforms() {
        let w = Workdir::new("pod-template-lint", tf);
        w.write_config(
            r#"
resource "jenkins_pod_template" "t" {
  name = "lint"
  tool_container {
    name    = "sleepy"
    image   = "busybox"
    command = ["true"]
    tty     = false
  }
  volume {
    name       = "sock"
    host_path  = "/var/run/docker.sock"
    mount_path = "/var/run/docker.sock"
  }
}
"#,
        );
        let r = w.run(&["plan", "-no-color"]);
        assert_eq!(r.code, 0, "{}", r.text());
        let text = r.text();
        assert!(text.contains("Warning:"), "{text}");
        assert!(text.contains("docker.sock"), "{text}");
        assert!(text.contains("sleepy"), "{text}");
        w.cleanup();
    }
}

/// The build-pod security rules warn at plan, each naming the attribute that causes it; a hardened
/// template plans without a warning.
#[test]
fn security_lint_warns_at_the_attribute_and_a_hardened_template_is_quiet() {
    let risky = r#"
resource "jenkins_pod_template" "t" {
  name            = "risky"
  labels          = ["risky"]
  service_account = "jenkins"
  tool_container {
    name     = "maven"
    image    = "maven:latest"
    requests = { cpu = "1", memory = "1Gi" }
  }
}
"#;
    let tf = &terraforms()[0];
    let w = Workdir::new("pod-template-security-lint", tf);
    w.write_config(risky);
    let r = w.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let text = r.text();
    for needle in [
        "Agents Run As The Controller's Service Account",
        "service_account = \"jenkins\"",
        "Mutable Image Tag",
        "Container May Run As Root",
        "Service Account Token Mounted",
    ] {
        assert!(text.contains(needle), "plan lacks {needle:?}:\n{text}");
    }
    let hardened = risky.replace("\"jenkins\"", "\"builds\"").replace("maven:latest", "maven:3.9.9").replace(
        "  tool_container {",
        "  pod_yaml = \"spec: {automountServiceAccountToken: false, securityContext: {runAsNonRoot: true, runAsUser: 1000}}\"\n  tool_container {",
    );
    w.write_config(&hardened);
    let r = w.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    // Only Terraform's own dev-overrides warning remains.
    assert_eq!(r.text().matches("Warning:").count(), 1, "{}", r.text());
    w.cleanup();
}

#[test]
fn changing_a_tool_updates_in_place_and_renaming_replaces() {
    let v1 = r#"
resource "jenkins_pod_template" "t" {
  name = "upd"
  tool_container {
    name     = "maven"
    image    = "maven:3.9"
    requests = { cpu = "1", memory = "1Gi" }
  }
}
"#;
    for tf in terraforms() {
        let w = Workdir::new("pod-template-update", tf);
        w.write_config(v1);
        w.apply();
        w.assert_plans_empty();
        let before = w.resource("jenkins_pod_template.t");
        w.write_config(&v1.replace("maven:3.9", "maven:3.9.9"));
        let plan = w.plan_changes();
        assert!(plan.stdout.contains("updated in-place"), "{}", plan.stdout);
        assert!(plan.stdout.contains("maven:3.9.9"), "{}", plan.stdout);
        w.apply();
        w.assert_plans_empty();
        let after = w.resource("jenkins_pod_template.t");
        assert_eq!(before["id"], after["id"], "id is stable across updates");
        assert_ne!(before["definition"], after["definition"]);
        w.write_config(&v1.replace("name = \"upd\"", "name = \"upd2\"").replace("maven:3.9", "maven:3.9.9"));
        let plan = w.plan_changes();
        assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
        w.apply();
        w.assert_plans_empty();
        w.destroy();
        w.cleanup();
    }
}

#[test]
fn unknown_inputs_plan_as_known_after_apply() {
    let hcl = r#"
resource "terraform_data" "image" {
  input = "maven:3.9"
}
resource "jenkins_pod_template" "t" {
  name = "late"
  tool_container {
    name     = "maven"
    image    = terraform_data.image.output
    requests = { cpu = "1" }
  }
}
"#;
    apply_case("pod-template-unknown", hcl, |w| {
        let t = w.resource("jenkins_pod_template.t");
        assert!(t["definition"].as_str().unwrap_or("").contains("maven:3.9"));
    });
}

#[test]
fn import_is_refused_with_a_reason() {
    for tf in terraforms() {
        let w = Workdir::new("pod-template-import", tf);
        w.write_config("resource \"jenkins_pod_template\" \"t\" {\n  name = \"x\"\n}\n");
        w.expect_error(
            &["import", "-no-color", "jenkins_pod_template.t", "x"],
            &["Nothing To Import", "writes nothing"],
        );
        w.cleanup();
    }
}

/// Each bad input must fail before anything is written, naming the attribute.
#[test]
fn bad_input_gets_a_clear_diagnostic() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("pod-yaml-unparsable", "pod_yaml = \"spec: [\"", &["pod_yaml"]),
        ("pod-yaml-not-a-pod", "pod_yaml = \"apiVersion: v1\\nkind: Service\\n\"", &["pod_yaml", "Pod"]),
        (
            "duplicate-containers",
            "tool_container {\n name = \"a\"\n image = \"x\"\n}\ntool_container {\n name = \"a\"\n image = \"y\"\n}",
            &["tool_container[1].name"],
        ),
        ("container-not-dns", "tool_container {\n name = \"Maven_X\"\n image = \"x\"\n}", &["tool_container[0].name"]),
        ("label-whitespace", "labels = [\"a b\"]", &["labels[0]"]),
        ("label-operator", "labels = [\"a&&b\"]", &["labels[0]"]),
        ("inherit-self", "inherit_from = [\"NAME\"]", &["inherit_from"]),
        ("idle-negative", "idle_minutes = -1", &["idle_minutes"]),
        ("merge-strategy", "yaml_merge_strategy = \"strategic\"", &["yaml_merge_strategy", "override"]),
    ];
    for tf in terraforms() {
        for (name, body, needles) in cases {
            let w = Workdir::new(&format!("pod-template-bad-{name}"), tf);
            let body = body.replace("NAME", "bad");
            w.write_config(&format!("resource \"jenkins_pod_template\" \"t\" {{\n  name = \"bad\"\n  {body}\n}}\n"));
            w.expect_error(&["plan", "-no-color"], needles);
            w.cleanup();
        }
        let w = Workdir::new("pod-template-bad-long-name", tf);
        w.write_config(&format!("resource \"jenkins_pod_template\" \"t\" {{\n  name = \"{}\"\n}}\n", "a".repeat(58)));
        w.expect_error(&["validate", "-no-color"], &["name", "57"]);
        w.cleanup();
    }
}
