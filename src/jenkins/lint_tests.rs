//! One test per lint rule: a clean template triggers none, and each case changes it just enough
//! to trigger exactly that rule, at the attribute that causes it. Removing a rule fails its test.

use super::cloud::{AgentConnection, CloudSpec, render_cloud, render_cloud_with};
use super::*;
use std::collections::BTreeMap;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A non-root pod without the service-account token.
const HARDENED: &str =
    "spec: {automountServiceAccountToken: false, securityContext: {runAsNonRoot: true, runAsUser: 1000}}";

fn maven() -> ToolContainer {
    ToolContainer {
        name: "maven".into(),
        image: "maven:3.9.9-eclipse-temurin-21".into(),
        command: strings(&["cat"]),
        tty: true,
        requests: BTreeMap::from([("cpu".into(), "500m".into()), ("memory".into(), "1Gi".into())]),
        ..Default::default()
    }
}

/// Triggers no rule.
fn clean() -> PodTemplateSpec {
    PodTemplateSpec {
        name: "build".into(),
        labels: strings(&["build"]),
        pod_yaml: Some(HARDENED.into()),
        tool_containers: vec![maven()],
        node_usage_mode: "EXCLUSIVE".into(),
        pod_retention: "default".into(),
        show_raw_yaml: true,
        agent_container: "jnlp".into(),
        service_account: Some("builds".into()),
        ..Default::default()
    }
}

fn volume(name: &str, source: VolumeSource, containers: Option<&[&str]>) -> VolumeSpec {
    VolumeSpec {
        name: name.into(),
        source,
        mount_path: "/mnt".into(),
        read_only: false,
        sub_path: None,
        containers: containers.map(strings),
    }
}

/// The findings as `summary at path` lines.
fn findings(spec: &PodTemplateSpec, ctx: &LintContext) -> Vec<String> {
    let (_, f) = render_pod_template_with(spec, ctx);
    f.iter().map(|f| format!("{:?} {} at {}", f.severity, f.summary, f.path)).collect()
}

/// `change` applied to the clean template triggers exactly `summary` at `path`.
fn triggers(change: impl FnOnce(&mut PodTemplateSpec), summary: &str, path: &str) {
    let mut spec = clean();
    change(&mut spec);
    assert_eq!(findings(&spec, &LintContext::default()), [format!("Warning {summary} at {path}")]);
}

#[test]
fn the_clean_template_triggers_no_rule() {
    assert_eq!(findings(&clean(), &LintContext::default()), Vec::<String>::new());
    let (r, f) = render_cloud(&cloud(vec![clean()]));
    assert!(r.is_some() && f.is_empty(), "{f:#?}");
}

#[test]
fn container_exits_immediately() {
    triggers(
        |s| {
            s.tool_containers[0].command.clear();
            s.tool_containers[0].tty = false;
        },
        "Container Exits Immediately",
        "tool_container[0]",
    );
}

#[test]
fn no_resource_requests_or_limits() {
    triggers(|s| s.tool_containers[0].requests.clear(), "No Resource Requests Or Limits", "tool_container[0]");
}

#[test]
fn docker_socket_mounted() {
    triggers(
        |s| s.volumes.push(volume("docker", VolumeSource::HostPath("/var/run/docker.sock".into()), Some(&["maven"]))),
        "Docker Socket Mounted",
        "volume[0].host_path",
    );
}

#[test]
fn containers_run_as_different_users() {
    triggers(
        |s| {
            s.pod_yaml = Some(
                "spec: {automountServiceAccountToken: false, securityContext: {runAsNonRoot: true, runAsUser: 1000}, containers: [{name: side, image: 'busybox:1.36', command: [cat], tty: true, securityContext: {runAsUser: 2000}, resources: {requests: {cpu: 10m}}}]}".into(),
            );
        },
        "Containers Run As Different Users",
        "pod_yaml",
    );
}

#[test]
fn exclusive_template_without_labels() {
    triggers(|s| s.labels.clear(), "Exclusive Template Without Labels", "labels");
}

#[test]
fn instance_cap_is_zero() {
    triggers(|s| s.instance_cap = Some(0), "Instance Cap Is Zero", "instance_cap");
}

#[test]
fn parent_pod_yaml_is_replaced() {
    triggers(
        |s| {
            s.inherit_from = strings(&["base"]);
            s.yaml_merge_strategy = "override".into();
        },
        "Parent Pod YAML Is Replaced",
        "yaml_merge_strategy",
    );
}

#[test]
fn pod_fields_dropped_by_merge() {
    // The plugin's merge keeps no child `automountServiceAccountToken` (nor the pod context's
    // `runAsNonRoot`): hardening belongs in the parent.
    triggers(
        |s| {
            s.inherit_from = strings(&["base"]);
            s.yaml_merge_strategy = "merge".into();
        },
        "Pod Fields Dropped By Merge",
        "pod_yaml",
    );
}

#[test]
fn service_account_set_twice() {
    triggers(
        |s| s.pod_yaml = Some(HARDENED.replace("spec: {", "spec: {serviceAccountName: other, ")),
        "Service Account Set Twice",
        "service_account",
    );
}

#[test]
fn volume_mounted_nowhere() {
    triggers(
        |s| s.volumes.push(volume("scratch", VolumeSource::EmptyDir, Some(&[]))),
        "Volume Mounted Nowhere",
        "volume[0]",
    );
}

#[test]
fn agents_run_as_the_controllers_service_account() {
    triggers(
        |s| s.service_account = Some("jenkins".into()),
        "Agents Run As The Controller's Service Account",
        "service_account",
    );
    // Set in the pod YAML instead, the finding points there.
    triggers(
        |s| {
            s.service_account = None;
            s.pod_yaml = Some(HARDENED.replace("spec: {", "spec: {serviceAccountName: jenkins, "));
        },
        "Agents Run As The Controller's Service Account",
        "pod_yaml",
    );
    // The controller's name is an input: another chart release runs as another account.
    let ctx = LintContext { controller_service_account: "ci-controller".into() };
    let mut spec = clean();
    spec.service_account = Some("jenkins".into());
    assert_eq!(findings(&spec, &ctx), Vec::<String>::new());
    spec.service_account = Some("ci-controller".into());
    assert_eq!(findings(&spec, &ctx), ["Warning Agents Run As The Controller's Service Account at service_account"]);
}

#[test]
fn container_may_run_as_root() {
    triggers(
        |s| s.pod_yaml = Some("spec: {automountServiceAccountToken: false}".into()),
        "Container May Run As Root",
        "tool_container[0]",
    );
    // A container context of its own, or a non-root pod, settles it.
    let mut spec = clean();
    spec.pod_yaml = Some(
        "spec: {automountServiceAccountToken: false, securityContext: {runAsUser: 0}, containers: [{name: side, image: 'busybox:1.36', command: [cat], tty: true, resources: {requests: {cpu: 10m}}, securityContext: {runAsUser: 0, allowPrivilegeEscalation: false}}]}".into(),
    );
    spec.tool_containers.clear();
    assert_eq!(findings(&spec, &LintContext::default()), Vec::<String>::new());
}

#[test]
fn service_account_token_mounted() {
    triggers(
        |s| s.pod_yaml = Some("spec: {securityContext: {runAsNonRoot: true, runAsUser: 1000}}".into()),
        "Service Account Token Mounted",
        "pod_yaml",
    );
    // A Kubernetes client among the containers needs the token.
    let mut spec = clean();
    spec.pod_yaml = Some("spec: {securityContext: {runAsNonRoot: true, runAsUser: 1000}}".into());
    spec.tool_containers.push(ToolContainer {
        name: "kubectl".into(),
        image: "bitnami/kubectl:1.30".into(),
        ..maven()
    });
    assert_eq!(findings(&spec, &LintContext::default()), Vec::<String>::new());
    // So does one running a client, but a name merely containing a short client's is no client.
    spec.tool_containers[1] = ToolContainer {
        name: "deploy".into(),
        image: "alpine:3.20".into(),
        args: strings(&["helm", "upgrade"]),
        ..maven()
    };
    assert_eq!(findings(&spec, &LintContext::default()), Vec::<String>::new());
    spec.tool_containers[1] = ToolContainer { name: "docker".into(), image: "docker:27-cli".into(), ..maven() };
    assert_eq!(findings(&spec, &LintContext::default()), ["Warning Service Account Token Mounted at pod_yaml"]);
}

#[test]
fn mutable_image_tag() {
    triggers(|s| s.tool_containers[0].image = "maven:latest".into(), "Mutable Image Tag", "tool_container[0].image");
    triggers(|s| s.tool_containers[0].image = "maven".into(), "Mutable Image Tag", "tool_container[0].image");
    triggers(
        |s| s.tool_containers[0].image = "registry.local:5000/tools/maven".into(),
        "Mutable Image Tag",
        "tool_container[0].image",
    );
    triggers(
        |s| s.tool_containers[0].image = "gcr.io/kaniko-project/executor:debug".into(),
        "Mutable Image Tag",
        "tool_container[0].image",
    );
    for pinned in ["maven:3.9", "registry.local:5000/maven:v2", "maven@sha256:0123abcd", "node:20-alpine"] {
        let mut spec = clean();
        spec.tool_containers[0].image = pinned.into();
        assert_eq!(findings(&spec, &LintContext::default()), Vec::<String>::new(), "{pinned}");
    }
}

// ---- cloud rules ---------------------------------------------------------------------------

fn definition(spec: &PodTemplateSpec) -> String {
    let (r, f) = render_pod_template(spec);
    r.unwrap_or_else(|| panic!("{f:#?}")).definition
}

fn cloud(templates: Vec<PodTemplateSpec>) -> CloudSpec {
    CloudSpec {
        namespace: Some("agents".into()),
        jenkins_url: Some("http://jenkins:8080".into()),
        templates: templates.iter().map(definition).collect(),
        ..CloudSpec::new("lint")
    }
}

fn cloud_findings(c: &CloudSpec, ctx: &LintContext) -> Vec<String> {
    let (_, f) = render_cloud_with(c, ctx);
    f.iter().map(|f| format!("{:?} {} at {}", f.severity, f.summary, f.path)).collect()
}

#[test]
fn cloud_agents_inheriting_the_controllers_service_account() {
    // The parent's account reaches the child through inheritance; the effective pod shows it.
    let parent = PodTemplateSpec { name: "base".into(), service_account: Some("ci-controller".into()), ..clean() };
    let child = PodTemplateSpec {
        name: "child".into(),
        labels: strings(&["child"]),
        service_account: None,
        inherit_from: strings(&["base"]),
        ..clean()
    };
    let c = cloud(vec![parent, child]);
    let ctx = LintContext { controller_service_account: "ci-controller".into() };
    assert_eq!(
        cloud_findings(&c, &ctx),
        [
            "Warning Agents Run As The Controller's Service Account at templates[0]",
            "Warning Agents Run As The Controller's Service Account at templates[1]",
        ]
    );
    assert_eq!(cloud_findings(&c, &LintContext::default()), Vec::<String>::new());
}

#[test]
fn cloud_label_shared_by_templates() {
    let other = PodTemplateSpec { name: "other".into(), ..clean() };
    assert_eq!(
        cloud_findings(&cloud(vec![clean(), other]), &LintContext::default()),
        ["Warning Label Shared By Templates at templates[1]"]
    );
}

#[test]
fn cloud_attributes_not_reflected() {
    let mut c = cloud(vec![clean()]);
    c.templates[0].push_str("volumes: []\n");
    assert_eq!(cloud_findings(&c, &LintContext::default()), ["Warning Attributes Not Reflected at templates[0]"]);
}

#[test]
fn cloud_tcp_agents_in_a_remote_cluster() {
    let mut c = cloud(vec![clean()]);
    c.server_url = Some("https://remote.example.com".into());
    assert_eq!(
        cloud_findings(&c, &LintContext::default()),
        ["Warning TCP Agents In A Remote Cluster at agent_connection"]
    );
}

#[test]
fn cloud_tunnel_not_reachable_from_the_remote_cluster() {
    let mut c = cloud(vec![clean()]);
    c.server_url = Some("https://remote.example.com".into());
    c.connection = AgentConnection::Tcp { tunnel: Some("jenkins-agent.jenkins.svc:50000".into()) };
    assert_eq!(
        cloud_findings(&c, &LintContext::default()),
        ["Warning Tunnel Not Reachable From The Remote Cluster at jenkins_tunnel"]
    );
}
