//! `jenkins_agent_cloud` through real Terraform against the emulated controller cluster, reached
//! by EKS name with the provider's own signed token.

use super::support::{Env, sha256};
use acceptance_tests::terraform::{Workdir, terraforms};

pub(super) fn templates(image: &str) -> String {
    format!(
        r#"
resource "jenkins_pod_template" "base" {{
  name   = "base"
  labels = ["base"]
  tool_container {{
    name     = "maven"
    image    = "{image}"
    env      = {{ MAVEN_OPTS = "-Dhome=$${{HOME}}" }}
    requests = {{ cpu = "1", memory = "1Gi" }}
  }}
}}

resource "jenkins_pod_template" "child" {{
  name                = "child"
  labels              = ["child"]
  inherit_from        = [jenkins_pod_template.base.name]
  yaml_merge_strategy = "merge"
  tool_container {{
    name     = "helm"
    image    = "alpine/helm:3.15.2"
    requests = {{ cpu = "100m", memory = "128Mi" }}
  }}
}}
"#
    )
}

fn cloud(name: &str, extra: &str) -> String {
    format!(
        r#"
resource "jenkins_agent_cloud" "{name}" {{
  name           = "{name}"
  namespace      = "agents"
  jenkins_tunnel = "jenkins-agent:50000"
  container_cap  = 10
  pod_labels     = {{ "jenkins/cloud" = "{name}", team = "ci" }}
  {extra}
  templates = [jenkins_pod_template.base, jenkins_pod_template.child]
}}
"#
    )
}

pub(super) fn configmap_data(env: &Env, name: &str) -> Option<String> {
    let cm = env.get_json("configmap", &format!("tf-jcasc-cloud-{name}"))?;
    cm.pointer(&format!("/data/cloud-{name}.yaml")).and_then(|v| v.as_str()).map(str::to_string)
}

/// The file cloud `address` wrote, read from its ConfigMap (`configmap_name`, key `data_key`),
/// after checking that the state's `casc_sha256` is that file's hash.
pub(super) fn live_file(env: &Env, w: &Workdir, address: &str) -> String {
    let state = w.resource(address);
    let (name, key) =
        (state["configmap_name"].as_str().expect("configmap_name"), state["data_key"].as_str().expect("key"));
    let cm = env.get_json("configmap", name).unwrap_or_else(|| panic!("ConfigMap {name} of {address}"));
    let file = cm["data"][key].as_str().unwrap_or_else(|| panic!("key {key} in {cm}")).to_string();
    assert_eq!(
        state["casc_sha256"].as_str(),
        Some(sha256(&file).as_str()),
        "{address}: the state hashes the live file"
    );
    file
}

/// Outputs rendering the effective pod of each of `names` in cloud `address`, whose templates are
/// `templates` (an HCL list), by the provider's `effective_pod` function on the resource merged
/// with its templates (the resource's own definitions are write-only); named `<cloud>_<template>`.
pub(super) fn pod_outputs(address: &str, templates: &str, names: &[&str]) -> String {
    let cloud = address.rsplit('.').next().unwrap_or(address);
    names
        .iter()
        .map(|t| {
            format!("output \"{cloud}_{t}\" {{\n  value = provider::jenkins::effective_pod(merge({address}, {{ templates = {templates} }}), \"{t}\")\n}}\n")
        })
        .collect()
}

#[test]
fn lifecycle_create_import_update_drift_destroy() {
    for tf in terraforms() {
        let env = Env::new("cloud-life");
        let w = env.installed_workdir("agent-cloud-life", tf);
        let outputs = pod_outputs(
            "jenkins_agent_cloud.eks",
            "[jenkins_pod_template.base, jenkins_pod_template.child]",
            &["child"],
        );
        let config = |image: &str| format!("{}{}{}{outputs}", env.provider_block(), templates(image), cloud("eks", ""));
        w.write_config(&config("maven:3.9"));
        w.apply();
        w.assert_plans_empty();

        // The ConfigMap: labelled for the chart's sidecar and as ours, holding the file whose hash
        // is in state (the file itself is not).
        let state = w.resource("jenkins_agent_cloud.eks");
        assert!(state.get("casc_yaml").is_none() && state.get("effective_pods").is_none(), "{state}");
        let cm = env.get_json("configmap", "tf-jcasc-cloud-eks").expect("ConfigMap created");
        let labels = &cm["metadata"]["labels"];
        assert_eq!(labels["jenkins-jenkins-config"], "true", "{cm}");
        assert_eq!(labels["app.kubernetes.io/managed-by"], "terraform-provider-jenkins", "{cm}");
        assert_eq!(cm["metadata"]["annotations"]["k8s-sidecar-target-directory"], "terraform");
        let casc = live_file(&env, &w, "jenkins_agent_cloud.eks");
        assert!(casc.contains("^${HOME}"), "JCasC interpolation escaped:\n{casc}");
        assert!(!casc.contains("unclassified") && !casc.contains("numExecutors"), "{casc}");
        let child_pod = w.output("eks_child");
        let child_pod = child_pod.as_str().expect("effective pod");
        for needle in ["name: maven", "name: helm", "name: jnlp", "(runtime)"] {
            assert!(child_pod.contains(needle), "effective pod of child lacks {needle}:\n{child_pod}");
        }
        assert_eq!(state["template_ids"].as_object().map(|m| m.len()), Some(2));

        // Import by cloud name round-trips.
        w.assert_import_round_trips("jenkins_agent_cloud.eks", "eks", &[]);

        // A template change shows as a diff of the cloud's templates and a new hash, and applies.
        w.write_config(&config("maven:3.9.9"));
        w.assert_plan_shows(&["jenkins_agent_cloud.eks will be updated in-place", "maven:3.9.9", "casc_sha256"]);
        w.apply();
        w.assert_plans_empty();

        // A hand edit of the ConfigMap is drift: the plan shows it and apply undoes it.
        env.kubectl(
            "controller",
            &[
                "-n",
                &env.namespace,
                "patch",
                "configmap",
                "tf-jcasc-cloud-eks",
                "--type",
                "merge",
                "-p",
                r#"{"data":{"cloud-eks.yaml":"jenkins:\n  clouds: []\n"}}"#,
            ],
        );
        let drift = w.assert_plan_shows(&["jenkins_agent_cloud.eks will be updated in-place", "casc_sha256"]);
        assert!(
            drift.stdout.contains(&sha256("jenkins:\n  clouds: []\n")),
            "the edited file's hash:\n{}",
            drift.stdout
        );
        w.apply();
        w.assert_plans_empty();
        assert!(live_file(&env, &w, "jenkins_agent_cloud.eks").contains("maven:3.9.9"));

        // A deleted ConfigMap is gone from state at refresh and re-created.
        env.kubectl("controller", &["-n", &env.namespace, "delete", "configmap", "tf-jcasc-cloud-eks"]);
        w.assert_plan_shows(&["will be created"]);
        w.apply();
        w.assert_plans_empty();

        // Destroy warns about Jenkins' reload and removes the ConfigMap.
        let r = w.run(&["plan", "-destroy", "-no-color"]);
        assert!(r.text().contains("Jenkins Keeps The Cloud"), "{}", r.text());
        w.destroy();
        assert!(env.get_json("configmap", "tf-jcasc-cloud-eks").is_none(), "ConfigMap left behind");
        w.cleanup();
    }
}

#[test]
fn two_clouds_side_by_side() {
    let tf = &terraforms()[0];
    let env = Env::new("cloud-two");
    let w = env.workdir("agent-cloud-two", tf);
    w.write_config(&format!(
        "{}{}{}{}",
        env.provider_block(),
        templates("maven:3.9"),
        cloud("east", ""),
        cloud("west", "agent_connection = \"websocket\"\n  jnlp_registry = \"registry.local\"")
            .replace("jenkins_tunnel = \"jenkins-agent:50000\"", "")
    ));
    w.apply();
    w.assert_plans_empty();
    let east = configmap_data(&env, "east").expect("east");
    let west = configmap_data(&env, "west").expect("west");
    assert!(east.contains("name: east") && east.contains("jenkinsTunnel"), "{east}");
    assert!(west.contains("name: west") && west.contains("webSocket: true"), "{west}");
    assert!(west.contains("jnlpregistry: registry.local"), "{west}");
    w.destroy();
    assert!(configmap_data(&env, "east").is_none() && configmap_data(&env, "west").is_none());
    w.cleanup();
}

/// The part of an effective pod's YAML describing container `name` (up to the next container or
/// the volumes).
fn container_section<'a>(pod: &'a str, name: &str) -> &'a str {
    let start = pod.find(&format!("- name: {name}\n")).unwrap_or_else(|| panic!("no container {name}:\n{pod}"));
    let rest = &pod[start + 1..];
    let end =
        [rest.find("\n    - name: "), rest.find("\n  volumes:")].into_iter().flatten().min().unwrap_or(rest.len());
    &rest[..end]
}

/// The effective pod (the `effective_pod` function on the applied cloud) is what the plugin
/// builds: the connection environment per mode, the plugin's agent image, volumes mounted into the
/// agent too, no invented working directories.
#[test]
fn effective_pods_are_what_the_plugin_builds() {
    let tf = &terraforms()[0];
    let env = Env::new("cloud-effective");
    let w = env.workdir("agent-cloud-effective", tf);
    let templates = r#"
resource "jenkins_pod_template" "t" {
  name   = "t"
  labels = ["t"]
  tool_container {
    name     = "maven"
    image    = "maven:3.9.9"
    requests = { cpu = "1", memory = "1Gi" }
  }
  volume {
    name       = "cache"
    empty_dir  = true
    mount_path = "/cache"
  }
}
"#;
    let clouds = r#"
resource "jenkins_agent_cloud" "direct" {
  name             = "direct"
  namespace        = "agents"
  agent_connection = "direct"
  templates        = [jenkins_pod_template.t]
}

resource "jenkins_agent_cloud" "ws" {
  name             = "ws"
  namespace        = "agents"
  jenkins_url      = "http://jenkins.example.com"
  agent_connection = "websocket"
  templates        = [jenkins_pod_template.t]
}
"#;
    let t = "[jenkins_pod_template.t]";
    let outputs =
        pod_outputs("jenkins_agent_cloud.direct", t, &["t"]) + &pod_outputs("jenkins_agent_cloud.ws", t, &["t"]);
    w.write_config(&format!("{}{templates}{clouds}{outputs}", env.provider_block()));
    w.apply();
    w.assert_plans_empty();
    let direct = w.output("direct_t");
    let pod = direct.as_str().expect("effective pod");
    let jnlp = container_section(pod, "jnlp");
    for needle in [
        "JENKINS_DIRECT_CONNECTION",
        "value: JNLP4-connect",
        "JENKINS_INSTANCE_IDENTITY",
        "image: jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21",
        "mountPath: /cache",
    ] {
        assert!(jnlp.contains(needle), "jnlp lacks {needle}:\n{pod}");
    }
    assert!(!jnlp.contains("JENKINS_URL"), "a direct connection has no JENKINS_URL:\n{pod}");
    assert!(!pod.contains("workingDir"), "no container sets a workingDir:\n{pod}");
    let maven = container_section(pod, "maven");
    assert!(maven.contains("mountPath: /cache") && maven.contains("mountPath: /home/jenkins/agent"), "{pod}");
    let ws = w.output("ws_t");
    let pod = ws.as_str().expect("effective pod");
    let jnlp = container_section(pod, "jnlp");
    assert!(
        jnlp.contains("value: \"http://jenkins.example.com/\"") || jnlp.contains("value: http://jenkins.example.com/"),
        "{pod}"
    );
    assert!(jnlp.contains("JENKINS_WEB_SOCKET"), "{pod}");
    assert!(pod.contains("kubernetes.jenkins.io/controller: http___jenkins_example_comx"), "{pod}");
    w.destroy();
    w.cleanup();
}

/// The provider pointed at an EKS cluster that does not exist: refresh, destroy and create each fail
/// naming the cluster, and nothing is lost: the cloud made before stays in state and in its cluster.
#[test]
fn an_unreachable_controller_cluster_fails_read_delete_and_create_naming_it() {
    let tf = &terraforms()[0];
    let env = Env::new("cloud-unreach");
    let w = env.workdir("agent-cloud-unreachable", tf);
    let good = env.provider_block();
    w.write_config(&format!("{good}{}{}", templates("maven:3.9"), cloud("reach", "")));
    w.apply();
    let gone = good.replace("eks_cluster_name = \"controller\"", "eks_cluster_name = \"gone-cluster\"");
    assert_ne!(gone, good, "the provider block names the controller cluster");
    let needles = ["Error: Cannot Reach The Controller Cluster", "gone-cluster"];

    w.write_config(&format!("{gone}{}{}", templates("maven:3.9"), cloud("reach", "")));
    w.expect_error(&["plan", "-no-color"], &needles);
    w.expect_error(&["destroy", "-refresh=false", "-auto-approve", "-no-color"], &needles);
    w.write_config(&format!("{gone}{}{}{}", templates("maven:3.9"), cloud("reach", ""), cloud("never", "")));
    w.expect_error(&["apply", "-refresh=false", "-auto-approve", "-no-color"], &needles);

    assert!(configmap_data(&env, "reach").is_some(), "the failed destroy deleted nothing");
    assert!(env.get_json("configmap", "tf-jcasc-cloud-never").is_none(), "the failed create wrote nothing");
    w.write_config(&format!("{good}{}{}", templates("maven:3.9"), cloud("reach", "")));
    w.assert_plans_empty();
    w.destroy();
    assert!(configmap_data(&env, "reach").is_none(), "destroyed once the cluster is reachable");
    w.cleanup();
}

#[test]
fn a_configmap_someone_else_made_is_never_adopted() {
    let tf = &terraforms()[0];
    let env = Env::new("cloud-foreign");
    env.kubectl(
        "controller",
        &["-n", &env.namespace, "create", "configmap", "tf-jcasc-cloud-eks", "--from-literal=x=y"],
    );
    let w = env.workdir("agent-cloud-foreign", tf);
    w.write_config(&format!("{}{}{}", env.provider_block(), templates("maven:3.9"), cloud("eks", "")));
    w.expect_error(
        &["apply", "-auto-approve", "-no-color"],
        &["Error: ConfigMap Owned By Someone Else", "never adopts"],
    );
    let cm = env.get_json("configmap", "tf-jcasc-cloud-eks").expect("still there");
    assert_eq!(cm["data"]["x"], "y", "the foreign ConfigMap is untouched");
    w.cleanup();
}

#[test]
fn a_cloud_name_the_chart_already_defines_is_refused_at_plan() {
    let tf = &terraforms()[0];
    let env = Env::new("cloud-chart");
    env.kubectl(
        "controller",
        &[
            "-n",
            &env.namespace,
            "create",
            "configmap",
            "jenkins-jenkins-config-clouds",
            "--from-literal=clouds.yaml=jenkins:\n  clouds:\n  - kubernetes:\n      name: eks\n",
        ],
    );
    env.kubectl(
        "controller",
        &["-n", &env.namespace, "label", "configmap", "jenkins-jenkins-config-clouds", "jenkins-jenkins-config=true"],
    );
    let w = env.workdir("agent-cloud-chart", tf);
    w.write_config(&format!("{}{}{}", env.provider_block(), templates("maven:3.9"), cloud("eks", "")));
    w.expect_error(&["plan", "-no-color"], &["Cloud Name Already Defined", "jenkins-jenkins-config-clouds"]);
    assert!(env.get_json("configmap", "tf-jcasc-cloud-eks").is_none(), "nothing written");
    w.cleanup();
}

/// Each bad input fails at validate or plan, naming the attribute, with nothing written.
#[test]
fn bad_input_gets_a_clear_diagnostic() {
    let dup = r#"templates = [jenkins_pod_template.base, jenkins_pod_template.base]"#;
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("reserved-name", "kubernetes", "", &["name", "chart"]),
        ("timeout-clamped", "c", "connect_timeout_seconds = 3", &["connect_timeout_seconds", "5"]),
        ("tunnel-websocket", "c", "agent_connection = \"websocket\"", &["jenkins_tunnel"]),
        ("http-server", "c", "server_url = \"http://k8s\"\n  jenkins_url = \"https://j\"", &["server_url", "https"]),
        (
            "remote-no-namespace",
            "c",
            "server_url = \"https://k8s\"\n  jenkins_url = \"https://j\"\n  namespace = null",
            &["namespace"],
        ),
        ("duplicate-template", "c", dup, &["templates[1]"]),
        (
            "template-name-mismatch",
            "c",
            "templates = [{ name = \"other\", definition = jenkins_pod_template.base.definition }]",
            &["Template Name Does Not Match Its Definition", "templates[0].name"],
        ),
    ];
    for tf in terraforms() {
        for (name, cloud_name, extra, needles) in cases {
            let w = Workdir::new(&format!("agent-cloud-bad-{name}"), tf);
            let mut body = cloud(cloud_name, extra)
                .replace("resource \"jenkins_agent_cloud\" \"kubernetes\"", "resource \"jenkins_agent_cloud\" \"c\"");
            if extra.contains("templates =") {
                body = body.replace("  templates = [jenkins_pod_template.base, jenkins_pod_template.child]\n", "");
            }
            if extra.contains("namespace = null") {
                body = body.replace("  namespace      = \"agents\"\n", "");
            }
            w.write_config(&format!("provider \"jenkins\" {{}}\n{}{body}", templates("maven:3.9")));
            w.expect_error(&["plan", "-no-color"], needles);
            w.cleanup();
        }
        // A cycle through inherit_from is refused (the plugin itself would overflow its stack).
        let w = Workdir::new("agent-cloud-bad-cycle", tf);
        w.write_config(
            r#"
resource "jenkins_pod_template" "a" {
  name         = "a"
  inherit_from = ["b"]
}
resource "jenkins_pod_template" "b" {
  name         = "b"
  inherit_from = ["a"]
}
resource "jenkins_agent_cloud" "c" {
  name      = "c"
  templates = [jenkins_pod_template.a, jenkins_pod_template.b]
}
"#,
        );
        w.expect_error(&["plan", "-no-color"], &["templates[", "ycle"]);
        w.cleanup();

        // A parent that is not in this cloud (the plugin would silently ignore it), and an id two
        // templates share (the plugin would confuse their agents).
        let w = Workdir::new("agent-cloud-bad-parent-and-id", tf);
        w.write_config(
            r#"
resource "jenkins_pod_template" "a" {
  name         = "a"
  labels       = ["a"]
  inherit_from = ["base"]
}
resource "jenkins_pod_template" "b" {
  name   = "b"
  id     = "same-id"
  labels = ["b"]
}
resource "jenkins_pod_template" "c" {
  name   = "c"
  id     = "same-id"
  labels = ["c"]
}
resource "jenkins_agent_cloud" "c" {
  name      = "c"
  templates = [jenkins_pod_template.a, jenkins_pod_template.b, jenkins_pod_template.c]
}
"#,
        );
        w.expect_error(&["plan", "-no-color"], &["templates[0]", "base", "templates[2]", "same-id"]);
        w.cleanup();
    }
}

/// Lint that does not block: two templates sharing a label (a job always gets the first) and a
/// remote cloud on TCP without a tunnel its agents can reach.
#[test]
fn lint_warnings_show_at_plan() {
    let tf = &terraforms()[0];
    let w = Workdir::new("agent-cloud-lint", tf);
    w.write_config(
        r#"
resource "jenkins_pod_template" "a" {
  name   = "a"
  labels = ["build"]
}
resource "jenkins_pod_template" "b" {
  name   = "b"
  labels = ["build"]
}
resource "jenkins_agent_cloud" "c" {
  name        = "c"
  server_url  = "https://remote.example"
  namespace   = "agents"
  jenkins_url = "https://jenkins.example"
  templates   = [jenkins_pod_template.a, jenkins_pod_template.b]
}
"#,
    );
    let r = w.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "warnings, not errors:\n{}", r.text());
    let text = r.text();
    assert!(text.contains("Label Shared By Templates"), "{text}");
    assert!(text.contains("TCP Agents In A Remote Cluster"), "{text}");
    w.cleanup();
}

/// The part of a plan a pull-request comment shows: from "Terraform will perform the following
/// actions" to the "Plan:" line, as issue 14 measures it.
fn resource_changes(plan: &str) -> &str {
    let start = plan.find("Terraform will perform the following actions").unwrap_or(0);
    let end = plan[start..].find("\nPlan:").map(|e| start + e).unwrap_or(plan.len());
    &plan[start..end]
}

/// One tool image bumped in the base template: the plan's resource changes, their size and how
/// often the old image appears, printed and pinned so they cannot silently grow back. The
/// definition is canonical JSON (a key-by-key diff), the cloud's `templates` are nested objects
/// (only the changed one shows) and its file is in state as a hash.
#[test]
fn an_image_bump_plans_in_few_lines() {
    let tf = &terraforms()[0];
    let env = Env::new("cloud-bump");
    let w = env.workdir("cloud-bump", tf);
    let old = "maven:3.9-eclipse-temurin-17";
    let config = |image: &str| format!("{}{}{}", env.provider_block(), templates(image), cloud("bump", ""));
    w.write_config(&config(old));
    w.apply();
    w.write_config(&config("maven:3.9-eclipse-temurin-21"));
    let r = w.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let changes = resource_changes(&r.stdout);
    let (lines, chars, shown) = (changes.lines().count(), changes.len(), changes.matches(old).count());
    eprintln!("image bump: {lines} lines, {chars} characters, old image shown {shown} times\n{changes}");
    // The template's definition shows the image once, as one changed JSON key.
    let definition = changes.split("# jenkins_pod_template.base").nth(1).unwrap_or_default();
    let definition = definition.split("\n    }\n").next().unwrap_or_default();
    assert_eq!(definition.matches(old).count(), 2, "argument and definition, once each:\n{definition}");
    assert!(definition.contains("jsonencode("), "a structural diff of the definition:\n{definition}");
    // Issue 14's goal: at most 80 lines, 5,000 characters, the old image 4 times. The cloud shows
    // the new hash of its file; its templates' definitions are write-only, in no plan twice.
    assert!(lines <= 80 && chars <= 5_000 && shown <= 4, "the image bump grew: {lines} lines, {chars} chars, {shown}×");
    assert!(!changes.contains("casc_yaml") && !changes.contains("effective_pods"), "no whole document:\n{changes}");
    let cloud = changes.split("# jenkins_agent_cloud.bump").nth(1).unwrap_or_default();
    let cloud = cloud.split("\n    }\n").next().unwrap_or_default();
    assert!(cloud.contains("~ casc_sha256") && !cloud.contains(old), "the cloud: its file's hash\n{cloud}");
    w.destroy();
    w.cleanup();
}

/// The state fixture of a cloud at schema version 1 (its templates a list of definition strings,
/// the file itself in `casc_yaml`, the effective pods in `effective_pods`), as the provider of
/// that schema wrote it applying `templates("maven:3.9")` and `cloud("eks", "")` with the
/// templates given as `.definition` strings. It is rewritten by running this test with
/// `TFPJ_WRITE_V1_FIXTURE=1` and `TFPJ_PROVIDER_DIR` pointing at a build of that provider.
const V1_FIXTURE: &str = "tests/provider/fixtures/agent_cloud_schema_v1.state.json";

/// A state of schema version 1 is upgraded: with and without refresh no resource change is
/// planned (the live ConfigMap hashes to what the old state held), and the next apply stores
/// version 2 with the file's hash instead of the file and no effective pods.
#[test]
fn a_state_of_schema_version_1_plans_no_change() {
    let fixture_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(V1_FIXTURE);
    let tf = &terraforms()[0];
    let env = Env::new("cloud-v1");
    let w = env.workdir("agent-cloud-v1", tf);
    if std::env::var_os("TFPJ_WRITE_V1_FIXTURE").is_some() {
        let old = cloud("eks", "").replace(
            "jenkins_pod_template.base, jenkins_pod_template.child",
            "jenkins_pod_template.base.definition, jenkins_pod_template.child.definition",
        );
        w.write_config(&format!("{}{}{old}", env.provider_block(), templates("maven:3.9")));
        w.apply();
        std::fs::copy(w.dir.join("terraform.tfstate"), &fixture_path).expect("write the fixture");
        w.destroy();
        return w.cleanup();
    }
    let fixture = std::fs::read_to_string(&fixture_path).expect("fixture");
    assert!(fixture.contains("\"casc_yaml\"") && fixture.contains("\"effective_pods\""), "a version-1 state");
    // Today's provider writes the ConfigMap (the same file the old one wrote); then the state is
    // the old provider's.
    w.write_config(&format!("{}{}{}", env.provider_block(), templates("maven:3.9"), cloud("eks", "")));
    w.apply();
    let live = live_file(&env, &w, "jenkins_agent_cloud.eks");
    std::fs::write(w.dir.join("terraform.tfstate"), &fixture).expect("write state");
    let old: serde_json::Value = serde_json::from_str(&fixture).expect("JSON");
    let old_cloud = old["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["type"] == "jenkins_agent_cloud"))
        .expect("the cloud");
    assert_eq!(old_cloud["instances"][0]["schema_version"], 1);
    assert_eq!(
        old_cloud["instances"][0]["attributes"]["casc_yaml"].as_str(),
        Some(live.as_str()),
        "the old state held the live file"
    );
    for args in [
        &["plan", "-detailed-exitcode", "-input=false", "-no-color"][..],
        &["plan", "-detailed-exitcode", "-refresh=false", "-input=false", "-no-color"],
    ] {
        let r = w.run(args);
        assert_eq!(r.code, 0, "{args:?}: a version-1 state plans no change:\n{}", r.text());
    }
    w.apply();
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.dir.join("terraform.tfstate")).expect("state")).expect("JSON");
    let instance = &state["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["type"] == "jenkins_agent_cloud"))
        .expect("the cloud")["instances"][0];
    assert_eq!(instance["schema_version"], 2, "{instance}");
    let attributes = &instance["attributes"];
    assert!(attributes.get("casc_yaml").is_none() && attributes.get("effective_pods").is_none(), "{attributes}");
    assert_eq!(attributes["casc_sha256"].as_str(), Some(sha256(&live).as_str()));
    assert_eq!(
        attributes["templates"],
        serde_json::json!([{ "definition": null, "name": "base" }, { "definition": null, "name": "child" }]),
        "the definitions are write-only"
    );
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}
