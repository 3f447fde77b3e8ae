//! Boundary tests of the pod-template rendering: the seed article's templates as snapshots, bad
//! input table, escaping, determinism, and conformance with the plugin's own JCasC test data.

use super::*;
use expect_test::{Expect, expect};
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeMap;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn base_fields(name: &str) -> PodTemplateSpec {
    PodTemplateSpec {
        name: name.into(),
        yaml_merge_strategy: "override".into(),
        node_usage_mode: "EXCLUSIVE".into(),
        pod_retention: "default".into(),
        show_raw_yaml: true,
        agent_container: "jnlp".into(),
        ..Default::default()
    }
}

fn tool(name: &str, image: &str) -> ToolContainer {
    ToolContainer {
        name: name.into(),
        image: image.into(),
        command: strings(&["cat"]),
        tty: true,
        requests: map(&[("cpu", "250m"), ("memory", "512Mi")]),
        limits: map(&[("memory", "1Gi")]),
        ..Default::default()
    }
}

fn volume(name: &str, source: VolumeSource, mount_path: &str, containers: Option<&[&str]>) -> VolumeSpec {
    VolumeSpec {
        name: name.into(),
        source,
        mount_path: mount_path.into(),
        read_only: false,
        sub_path: None,
        containers: containers.map(strings),
    }
}

/// The seed article's base template: one container per tool, docker socket, AWS config and cache.
fn seed_base() -> PodTemplateSpec {
    let mut kaniko = tool("kaniko", "gcr.io/kaniko-project/executor:debug");
    kaniko.command = strings(&["/busybox/cat"]);
    let mut ssh = tool("ssh-client", "kroniak/ssh-client:3.19");
    ssh.requests.clear();
    ssh.limits.clear();
    let aws = ["kubectl", "terraform", "aws-cli"];
    let mut config = volume(
        "aws-config-volume",
        VolumeSource::ConfigMap("awsconfig-configmap".into()),
        "/root/.aws/config",
        Some(&aws),
    );
    config.sub_path = Some("config".into());
    config.read_only = true;
    PodTemplateSpec {
        labels: strings(&["base", "eks-build"]),
        pod_yaml: Some("apiVersion: v1\nkind: Pod\nspec:\n  serviceAccountName: jenkins-serviceaccount\n".into()),
        tool_containers: vec![
            tool("maven", "maven:3.9-eclipse-temurin-17"),
            tool("node", "node:20-alpine"),
            tool("python", "python:3.12-slim"),
            tool("golang", "golang:1.22"),
            tool("kubectl", "bitnami/kubectl:1.30"),
            tool("terraform", "hashicorp/terraform:1.9"),
            tool("aws-cli", "amazon/aws-cli:2.17.0"),
            tool("docker", "docker:27-cli"),
            kaniko,
            ssh,
        ],
        volumes: vec![
            volume(
                "docker-sock-volume",
                VolumeSource::HostPath("/var/run/docker.sock".into()),
                "/var/run/docker.sock",
                Some(&["docker"]),
            ),
            config,
            volume("aws-volume", VolumeSource::EmptyDir, "/root/.aws", Some(&aws)),
        ],
        node_usage_mode: "NORMAL".into(),
        idle_minutes: 20,
        instance_cap: Some(50),
        ..base_fields("base")
    }
}

/// The seed's supplemental template: one extra container, merged over the base.
fn seed_supplemental() -> PodTemplateSpec {
    PodTemplateSpec {
        labels: strings(&["vendor-sdk"]),
        inherit_from: strings(&["base"]),
        yaml_merge_strategy: "merge".into(),
        pod_yaml: Some(
            r#"
spec:
  containers:
  - name: vendor-sdk
    image: registry.example.com/vendor/sdk:4.2
    command: [cat]
    tty: true
    envFrom:
    - configMapRef: {name: vendor-sdk-config}
    resources: {requests: {cpu: 500m, memory: 1Gi}}
"#
            .into(),
        ),
        ..base_fields("vendor-sdk")
    }
}

fn findings_text(findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("{:?} {} at {}\n", f.severity, f.summary, f.path)).collect()
}

fn check(spec: &PodTemplateSpec, expect: Expect) {
    let (rendered, findings) = render_pod_template(spec);
    let r = rendered.unwrap_or_else(|| panic!("errors: {findings:#?}"));
    let text = format!(
        "id: {}\n--- definition\n{}--- pod_yaml_normalized\n{}--- findings\n{}",
        r.id,
        r.definition,
        r.pod_yaml_normalized,
        findings_text(&findings)
    );
    expect.assert_eq(&text);
}

#[test]
fn seed_base_template() {
    check(
        &seed_base(),
        expect![[r#"
            id: cedaa4fc-5a62-57ac-8061-60b6575c9422
            --- definition
            name: base
            id: cedaa4fc-5a62-57ac-8061-60b6575c9422
            label: base eks-build
            nodeUsageMode: NORMAL
            yamlMergeStrategy: override
            idleMinutes: 20
            instanceCap: 50
            yaml: |
              apiVersion: v1
              kind: Pod
              spec:
                serviceAccountName: jenkins-serviceaccount
                containers:
                  - name: maven
                    image: maven:3.9-eclipse-temurin-17
                    command: [cat]
                    tty: true
                    resources:
                      requests:
                        cpu: "250m"
                        memory: "512Mi"
                      limits:
                        memory: "1Gi"
                  - name: node
                    image: node:20-alpine
                    command: [cat]
                    tty: true
                    resources:
                      requests:
                        cpu: "250m"
                        memory: "512Mi"
                      limits:
                        memory: "1Gi"
                  - name: python
                    image: python:3.12-slim
                    command: [cat]
                    tty: true
                    resources:
                      requests:
                        cpu: "250m"
                        memory: "512Mi"
                      limits:
                        memory: "1Gi"
                  - name: golang
                    image: golang:1.22
                    command: [cat]
                    tty: true
                    resources:
                      requests:
                        cpu: "250m"
                        memory: "512Mi"
                      limits:
                        memory: "1Gi"
                  - name: kubectl
                    image: bitnami/kubectl:1.30
                    command: [cat]
                    tty: true
                    resources:
                      requests:
                        cpu: "250m"
                        memory: "512Mi"
                      limits:
                        memory: "1Gi"
                    volumeMounts:
                      - name: aws-config-volume
                        mountPath: /root/.aws/config
                        subPath: config
                        readOnly: true
                      - name: aws-volume
                        mountPath: /root/.aws
                  - name: terraform
                    image: hashicorp/terraform:1.9
                    command: [cat]
                    tty: true
                    resources:
                      requests:
                        cpu: "250m"
                        memory: "512Mi"
                      limits:
                        memory: "1Gi"
                    volumeMounts:
                      - name: aws-config-volume
                        mountPath: /root/.aws/config
                        subPath: config
                        readOnly: true
                      - name: aws-volume
                        mountPath: /root/.aws
                  - name: aws-cli
                    image: amazon/aws-cli:2.17.0
                    command: [cat]
                    tty: true
                    resources:
                      requests:
                        cpu: "250m"
                        memory: "512Mi"
                      limits:
                        memory: "1Gi"
                    volumeMounts:
                      - name: aws-config-volume
                        mountPath: /root/.aws/config
                        subPath: config
                        readOnly: true
                      - name: aws-volume
                        mountPath: /root/.aws
                  - name: docker
                    image: docker:27-cli
                    command: [cat]
                    tty: true
                    resources:
                      requests:
                        cpu: "250m"
                        memory: "512Mi"
                      limits:
                        memory: "1Gi"
                    volumeMounts:
                      - name: docker-sock-volume
                        mountPath: /var/run/docker.sock
                  - name: kaniko
                    image: gcr.io/kaniko-project/executor:debug
                    command: [/busybox/cat]
                    tty: true
                    resources:
                      requests:
                        cpu: "250m"
                        memory: "512Mi"
                      limits:
                        memory: "1Gi"
                  - name: ssh-client
                    image: kroniak/ssh-client:3.19
                    command: [cat]
                    tty: true
                volumes:
                  - name: docker-sock-volume
                    hostPath:
                      path: /var/run/docker.sock
                  - name: aws-config-volume
                    configMap:
                      name: awsconfig-configmap
                  - name: aws-volume
                    emptyDir: {}
            --- pod_yaml_normalized
            apiVersion: v1
            kind: Pod
            spec:
              serviceAccountName: jenkins-serviceaccount
              containers:
                - name: maven
                  image: maven:3.9-eclipse-temurin-17
                  command: [cat]
                  tty: true
                  resources:
                    requests:
                      cpu: "250m"
                      memory: "512Mi"
                    limits:
                      memory: "1Gi"
                - name: node
                  image: node:20-alpine
                  command: [cat]
                  tty: true
                  resources:
                    requests:
                      cpu: "250m"
                      memory: "512Mi"
                    limits:
                      memory: "1Gi"
                - name: python
                  image: python:3.12-slim
                  command: [cat]
                  tty: true
                  resources:
                    requests:
                      cpu: "250m"
                      memory: "512Mi"
                    limits:
                      memory: "1Gi"
                - name: golang
                  image: golang:1.22
                  command: [cat]
                  tty: true
                  resources:
                    requests:
                      cpu: "250m"
                      memory: "512Mi"
                    limits:
                      memory: "1Gi"
                - name: kubectl
                  image: bitnami/kubectl:1.30
                  command: [cat]
                  tty: true
                  resources:
                    requests:
                      cpu: "250m"
                      memory: "512Mi"
                    limits:
                      memory: "1Gi"
                  volumeMounts:
                    - name: aws-config-volume
                      mountPath: /root/.aws/config
                      subPath: config
                      readOnly: true
                    - name: aws-volume
                      mountPath: /root/.aws
                - name: terraform
                  image: hashicorp/terraform:1.9
                  command: [cat]
                  tty: true
                  resources:
                    requests:
                      cpu: "250m"
                      memory: "512Mi"
                    limits:
                      memory: "1Gi"
                  volumeMounts:
                    - name: aws-config-volume
                      mountPath: /root/.aws/config
                      subPath: config
                      readOnly: true
                    - name: aws-volume
                      mountPath: /root/.aws
                - name: aws-cli
                  image: amazon/aws-cli:2.17.0
                  command: [cat]
                  tty: true
                  resources:
                    requests:
                      cpu: "250m"
                      memory: "512Mi"
                    limits:
                      memory: "1Gi"
                  volumeMounts:
                    - name: aws-config-volume
                      mountPath: /root/.aws/config
                      subPath: config
                      readOnly: true
                    - name: aws-volume
                      mountPath: /root/.aws
                - name: docker
                  image: docker:27-cli
                  command: [cat]
                  tty: true
                  resources:
                    requests:
                      cpu: "250m"
                      memory: "512Mi"
                    limits:
                      memory: "1Gi"
                  volumeMounts:
                    - name: docker-sock-volume
                      mountPath: /var/run/docker.sock
                - name: kaniko
                  image: gcr.io/kaniko-project/executor:debug
                  command: [/busybox/cat]
                  tty: true
                  resources:
                    requests:
                      cpu: "250m"
                      memory: "512Mi"
                    limits:
                      memory: "1Gi"
                - name: ssh-client
                  image: kroniak/ssh-client:3.19
                  command: [cat]
                  tty: true
              volumes:
                - name: docker-sock-volume
                  hostPath:
                    path: /var/run/docker.sock
                - name: aws-config-volume
                  configMap:
                    name: awsconfig-configmap
                - name: aws-volume
                  emptyDir: {}
            --- findings
            Warning Container May Run As Root at tool_container[0]
            Warning Container May Run As Root at tool_container[1]
            Warning Container May Run As Root at tool_container[2]
            Warning Container May Run As Root at tool_container[3]
            Warning Container May Run As Root at tool_container[4]
            Warning Container May Run As Root at tool_container[5]
            Warning Container May Run As Root at tool_container[6]
            Warning Container May Run As Root at tool_container[7]
            Warning Container May Run As Root at tool_container[8]
            Warning Mutable Image Tag at tool_container[8].image
            Warning Container May Run As Root at tool_container[9]
            Warning No Resource Requests Or Limits at tool_container[9]
            Warning Docker Socket Mounted at volume[0].host_path
        "#]],
    );
}

#[test]
fn seed_supplemental_template() {
    check(
        &seed_supplemental(),
        expect![[r#"
            id: a262adf1-101a-5731-80a8-fbc7c842c016
            --- definition
            name: vendor-sdk
            id: a262adf1-101a-5731-80a8-fbc7c842c016
            label: vendor-sdk
            inheritFrom: base
            nodeUsageMode: EXCLUSIVE
            yamlMergeStrategy: merge
            yaml: |
              apiVersion: v1
              kind: Pod
              spec:
                containers:
                  - name: vendor-sdk
                    image: registry.example.com/vendor/sdk:4.2
                    command: [cat]
                    tty: true
                    envFrom:
                      - configMapRef:
                          name: vendor-sdk-config
                    resources:
                      requests:
                        cpu: "500m"
                        memory: "1Gi"
            --- pod_yaml_normalized
            apiVersion: v1
            kind: Pod
            spec:
              containers:
                - name: vendor-sdk
                  image: registry.example.com/vendor/sdk:4.2
                  command: [cat]
                  tty: true
                  envFrom:
                    - configMapRef:
                        name: vendor-sdk-config
                  resources:
                    requests:
                      cpu: "500m"
                      memory: "1Gi"
            --- findings
            Warning Container May Run As Root at pod_yaml
            Warning Service Account Token Mounted at pod_yaml
        "#]],
    );
}

fn minimal() -> PodTemplateSpec {
    PodTemplateSpec { labels: strings(&["t"]), tool_containers: vec![tool("maven", "maven:3.9")], ..base_fields("t") }
}

/// (what is changed, expected severity, summary, path prefix)
type Case = (fn(&mut PodTemplateSpec), Severity, &'static str, &'static str);

const POD_WITH_MAVEN: &str = "spec:\n  containers:\n  - {name: maven, image: m, command: [cat], tty: true}\n";

#[test]
fn bad_input_gives_findings_at_the_right_path() {
    let cases: &[Case] = &[
        (|s| s.name = "Bad_Name".into(), Severity::Error, "Invalid Template Name", "name"),
        (|s| s.name = "a".repeat(58), Severity::Error, "Invalid Template Name", "name"),
        (|s| s.labels = strings(&["ok", "a b"]), Severity::Error, "Invalid Label", "labels[1]"),
        (|s| s.labels = strings(&["a&&b"]), Severity::Error, "Invalid Label", "labels[0]"),
        (
            |s| s.inherit_from = strings(&["base", "t"]),
            Severity::Error,
            "Template Inherits From Itself",
            "inherit_from[1]",
        ),
        (|s| s.idle_minutes = -1, Severity::Error, "Negative Value", "idle_minutes"),
        (|s| s.instance_cap = Some(-1), Severity::Error, "Negative Value", "instance_cap"),
        (
            |s| s.yaml_merge_strategy = "strategic".into(),
            Severity::Error,
            "Unknown YAML Merge Strategy",
            "yaml_merge_strategy",
        ),
        (|s| s.node_usage_mode = "normal".into(), Severity::Error, "Unknown Node Usage Mode", "node_usage_mode"),
        (|s| s.pod_retention = "onFailure".into(), Severity::Error, "Unknown Pod Retention", "pod_retention"),
        (|s| s.pod_yaml = Some("spec: [".into()), Severity::Error, "Invalid Pod YAML", "pod_yaml"),
        (|s| s.pod_yaml = Some("kind: Deployment".into()), Severity::Error, "Invalid Pod YAML", "pod_yaml"),
        (
            |s| s.pod_yaml = Some("spec: {containers: [{name: a}, {name: a}]}".into()),
            Severity::Error,
            "Duplicate Container Name",
            "pod_yaml",
        ),
        (
            |s| s.pod_yaml = Some("spec: {containers: [{name: A_b}]}".into()),
            Severity::Error,
            "Invalid Container Name",
            "pod_yaml",
        ),
        (
            |s| s.tool_containers.push(tool("Bad", "x")),
            Severity::Error,
            "Invalid Container Name",
            "tool_container[1].name",
        ),
        (
            |s| s.tool_containers.push(tool("maven", "x")),
            Severity::Error,
            "Duplicate Container Name",
            "tool_container[1].name",
        ),
        (
            |s| s.pod_yaml = Some(POD_WITH_MAVEN.into()),
            Severity::Error,
            "Duplicate Container Name",
            "tool_container[0].name",
        ),
        (|s| s.tool_containers[0].image = String::new(), Severity::Error, "Missing Image", "tool_container[0].image"),
        (
            |s| {
                s.volumes.push(volume("v", VolumeSource::EmptyDir, "/a", None));
                s.volumes.push(volume("v", VolumeSource::EmptyDir, "/b", None));
            },
            Severity::Error,
            "Duplicate Volume Name",
            "volume[1].name",
        ),
        (
            |s| {
                s.pod_yaml = Some("spec: {volumes: [{name: v, emptyDir: {}}]}".into());
                s.volumes.push(volume("v", VolumeSource::EmptyDir, "/a", None));
            },
            Severity::Error,
            "Duplicate Volume Name",
            "volume[0].name",
        ),
        (
            |s| s.volumes.push(volume("Bad", VolumeSource::EmptyDir, "/a", None)),
            Severity::Error,
            "Invalid Volume Name",
            "volume[0].name",
        ),
        (
            |s| s.volumes.push(volume("v", VolumeSource::EmptyDir, "/a", Some(&["maven", "nope"]))),
            Severity::Error,
            "Unknown Container",
            "volume[0].containers[1]",
        ),
        (
            |s| {
                s.volumes.push(volume("a", VolumeSource::EmptyDir, "/x", None));
                s.volumes.push(volume("b", VolumeSource::Secret("s".into()), "/x", None));
            },
            Severity::Error,
            "Duplicate Mount Path",
            "volume[1].mount_path",
        ),
        (
            |s| {
                s.tool_containers[0].command = strings(&["true"]);
                s.tool_containers[0].tty = false;
            },
            Severity::Warning,
            "Container Exits Immediately",
            "tool_container[0]",
        ),
        (
            |s| {
                s.pod_yaml = Some(
                    "spec: {containers: [{name: sh, image: x, command: [cat], resources: {limits: {cpu: 1}}}]}".into(),
                )
            },
            Severity::Warning,
            "Container Exits Immediately",
            "pod_yaml",
        ),
        (
            |s| {
                s.tool_containers[0].requests.clear();
                s.tool_containers[0].limits.clear();
            },
            Severity::Warning,
            "No Resource Requests Or Limits",
            "tool_container[0]",
        ),
        (
            |s| {
                s.volumes.push(volume(
                    "d",
                    VolumeSource::HostPath("/run/docker.sock".into()),
                    "/var/run/docker.sock",
                    None,
                ))
            },
            Severity::Warning,
            "Docker Socket Mounted",
            "volume[0].host_path",
        ),
        (
            |s| s.pod_yaml = Some("spec: {volumes: [{name: d, hostPath: {path: /var/run/docker.sock}}]}".into()),
            Severity::Warning,
            "Docker Socket Mounted",
            "pod_yaml",
        ),
        (
            |s| {
                s.pod_yaml = Some(
                    "spec: {securityContext: {runAsUser: 1000}, containers: [{name: k, image: k, tty: true, securityContext: {runAsUser: 0}, resources: {requests: {cpu: 1}}}]}"
                        .into(),
                )
            },
            Severity::Warning,
            "Containers Run As Different Users",
            "pod_yaml",
        ),
        (|s| s.labels.clear(), Severity::Warning, "Exclusive Template Without Labels", "labels"),
        (|s| s.instance_cap = Some(0), Severity::Warning, "Instance Cap Is Zero", "instance_cap"),
        (
            |s| s.inherit_from = strings(&["base"]),
            Severity::Warning,
            "Parent Pod YAML Is Replaced",
            "yaml_merge_strategy",
        ),
        (
            |s| {
                s.inherit_from = strings(&["base"]);
                s.yaml_merge_strategy = "merge".into();
                s.pod_yaml = Some("spec: {affinity: {}, priorityClassName: ci, tolerations: []}".into());
            },
            Severity::Warning,
            "Pod Fields Dropped By Merge",
            "pod_yaml",
        ),
        (
            |s| {
                s.service_account = Some("a".into());
                s.pod_yaml = Some("spec: {serviceAccountName: b}".into());
            },
            Severity::Warning,
            "Service Account Set Twice",
            "service_account",
        ),
    ];
    // The security rules want a non-root pod without the token; see `lint_tests` for each rule.
    let hardened = PodTemplateSpec {
        pod_yaml: Some("spec: {automountServiceAccountToken: false, securityContext: {runAsNonRoot: true}}".into()),
        ..minimal()
    };
    let (clean, clean_findings) = render_pod_template(&hardened);
    assert!(clean.is_some() && clean_findings.is_empty(), "{clean_findings:#?}");
    for (i, (change, severity, summary, path)) in cases.iter().enumerate() {
        let mut spec = minimal();
        change(&mut spec);
        let (rendered, findings) = render_pod_template(&spec);
        let hit = findings.iter().find(|f| f.summary == *summary);
        let hit = hit.unwrap_or_else(|| panic!("case {i} ({summary}): not found in {findings:#?}"));
        assert_eq!(hit.severity, *severity, "case {i}");
        assert!(hit.path.to_string().starts_with(path), "case {i}: {summary} at {} not {path}", hit.path);
        assert!(hit.detail.ends_with('.') && hit.detail.len() > 30, "case {i}: {}", hit.detail);
        assert_eq!(rendered.is_none(), *severity == Severity::Error, "case {i}: rendered iff no error");
    }
}

#[test]
fn dollar_brace_is_escaped_in_the_definition_only() {
    let mut spec = minimal();
    spec.tool_containers[0].env = map(&[("CACHE", "${HOME}/.m2"), ("PLAIN", "$HOME")]);
    spec.pod_yaml = Some("metadata:\n  annotations: {note: 'a ${b} ^${c}'}\n".into());
    let (r, _) = render_pod_template(&spec);
    let r = r.expect("renders");
    assert!(r.pod_yaml_normalized.contains("${HOME}/.m2") && !r.pod_yaml_normalized.contains("^${HOME}"));
    let bare = r.definition.match_indices("${").filter(|(i, _)| !r.definition[..*i].ends_with('^')).count();
    assert_eq!(bare, 0, "{}", r.definition);
    expect![[r#"
        name: t
        id: "86655f4b-c17a-5140-9eae-8f287850a329"
        label: t
        nodeUsageMode: EXCLUSIVE
        yamlMergeStrategy: override
        yaml: |
          apiVersion: v1
          kind: Pod
          metadata:
            annotations:
              note: "a ^${b} ^^${c}"
          spec:
            containers:
              - name: maven
                image: maven:3.9
                command: [cat]
                tty: true
                env:
                  - name: CACHE
                    value: "^${HOME}/.m2"
                  - name: PLAIN
                    value: "$HOME"
                resources:
                  requests:
                    cpu: "250m"
                    memory: "512Mi"
                  limits:
                    memory: "1Gi"
    "#]]
    .assert_eq(&r.definition);
    // What JCasC hands the plugin after unescaping is the normalised pod.
    let def: Value = serde_yaml_ng::from_str(&r.definition).unwrap();
    assert_eq!(unescape_casc(def["yaml"].as_str().unwrap()), r.pod_yaml_normalized);
}

#[test]
fn rendering_is_deterministic_and_ids_are_stable() {
    let a = render_pod_template(&seed_base());
    let b = render_pod_template(&seed_base());
    assert_eq!(a, b);
    // Key order in the user's YAML does not matter.
    let mut x = minimal();
    x.pod_yaml =
        Some("spec: {nodeSelector: {b: '1', a: '2'}, hostNetwork: false}\nmetadata: {labels: {z: '1', a: '2'}}".into());
    let mut y = minimal();
    y.pod_yaml =
        Some("metadata: {labels: {a: '2', z: '1'}}\nspec: {hostNetwork: false, nodeSelector: {a: '2', b: '1'}}".into());
    assert_eq!(render_pod_template(&x).0, render_pod_template(&y).0);
    // Derived ids never change between releases: a changed id orphans running agents.
    assert_eq!(template_id("base", None), "cedaa4fc-5a62-57ac-8061-60b6575c9422");
    assert_eq!(template_id("base", Some("")), template_id("base", None));
    assert_eq!(template_id("base", Some("sha-1234")), "sha-1234");
    assert_ne!(template_id("base", None), template_id("base2", None));
}

#[test]
fn empty_template_has_no_yaml_and_agent_mounts_get_a_stub() {
    let (r, f) = render_pod_template(&PodTemplateSpec { labels: strings(&["x"]), ..base_fields("empty") });
    let r = r.unwrap();
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(r.pod_yaml_normalized, "");
    assert!(!r.definition.contains("yaml:"), "{}", r.definition);

    let mut spec = minimal();
    spec.volumes.push(volume("cache", VolumeSource::EmptyDir, "/cache", Some(&["jnlp", "maven"])));
    let (r, f) = render_pod_template(&spec);
    assert!(f.iter().all(|f| f.severity == Severity::Warning), "{f:?}");
    let pod: Value = serde_yaml_ng::from_str(&r.unwrap().pod_yaml_normalized).unwrap();
    let names: Vec<&str> =
        pod["spec"]["containers"].as_sequence().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["maven", "jnlp"]);
    assert_eq!(pod["spec"]["containers"][1]["volumeMounts"][0]["mountPath"], Value::from("/cache"));
}

#[test]
fn star_mounts_into_yaml_and_tool_containers() {
    let mut spec = minimal();
    spec.pod_yaml =
        Some("spec: {containers: [{name: side, image: s, tty: true, resources: {requests: {cpu: 1}}}]}".into());
    spec.volumes.push(volume("v", VolumeSource::EmptyDir, "/v", Some(&["*"])));
    spec.volumes.push(volume("w", VolumeSource::EmptyDir, "/w", None));
    let (r, f) = render_pod_template(&spec);
    assert!(f.iter().all(|f| f.severity == Severity::Warning), "{f:?}");
    let pod: Value = serde_yaml_ng::from_str(&r.unwrap().pod_yaml_normalized).unwrap();
    for c in pod["spec"]["containers"].as_sequence().unwrap() {
        assert_eq!(c["volumeMounts"].as_sequence().map(Vec::len), Some(2), "{c:?}");
    }
}

// ---- conformance with the plugin's own JCasC test data -------------------------------------

fn conformance(file: &str) -> Value {
    let path = format!("{}/../shared/reference/conformance/kubernetes-plugin-casc/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap()
}

fn conformance_templates(file: &str) -> Vec<Mapping> {
    let doc = conformance(file);
    doc["jenkins"]["clouds"][0]["kubernetes"]["templates"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|t| t.as_mapping().unwrap().clone())
        .collect()
}

/// Plugin attributes in the test data the resource does not model (pod YAML covers them).
const NOT_MODELLED: &[&str] = &["hostNetwork", "slaveConnectTimeout", "workspaceVolume", "envVars", "volumes"];

fn words(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_str).map(|s| s.split_whitespace().map(str::to_owned).collect()).unwrap_or_default()
}

#[test]
fn conformance_template_attributes() {
    for t in conformance_templates("configuration-as-code.yaml") {
        let get = |k: &str| t.get(k);
        let int = |k: &str| get(k).and_then(Value::as_i64);
        let containers = get("containers").and_then(Value::as_sequence).cloned().unwrap_or_default();
        let spec = PodTemplateSpec {
            labels: words(get("label")),
            yaml_merge_strategy: get("yamlMergeStrategy").and_then(Value::as_str).unwrap_or_default().into(),
            inherit_yaml_merge_strategy: get("inheritYamlMergeStrategy").and_then(Value::as_bool).unwrap_or(false),
            idle_minutes: int("idleMinutes").unwrap_or(0),
            instance_cap: int("instanceCap"),
            active_deadline_seconds: int("activeDeadlineSeconds").unwrap_or(0),
            tool_containers: containers
                .iter()
                .map(|c| ToolContainer {
                    name: c["name"].as_str().unwrap().into(),
                    image: c["image"].as_str().unwrap().into(),
                    command: words(c.get("command")),
                    args: words(c.get("args")),
                    tty: c.get("ttyEnabled").and_then(Value::as_bool).unwrap_or(false),
                    working_dir: c.get("workingDir").and_then(Value::as_str).map(str::to_owned),
                    ..Default::default()
                })
                .collect(),
            ..base_fields(t["name"].as_str().unwrap())
        };
        let (r, findings) = render_pod_template(&spec);
        let r = r.unwrap_or_else(|| panic!("{findings:#?}"));
        let def: Mapping = serde_yaml_ng::from_str(&r.definition).unwrap();
        for k in def.keys() {
            assert!(super::inherit::KNOWN_KEYS.contains(&k.as_str().unwrap()), "unexpected key {k:?}");
        }
        for (k, v) in &t {
            let k = k.as_str().unwrap();
            if NOT_MODELLED.contains(&k) || k == "containers" {
                continue;
            }
            let ours = def.get(k);
            match (k, v) {
                // Defaults are left out of the definition.
                ("inheritYamlMergeStrategy", Value::Bool(false)) => assert_eq!(ours, None),
                _ => assert_eq!(ours, Some(v), "{}: {k}", spec.name),
            }
        }
        // Containers: same names, images, argv, tty and workingDir, as pod YAML fields.
        let pod: Value = serde_yaml_ng::from_str(&r.pod_yaml_normalized).unwrap_or(Value::Null);
        for (theirs, ours) in containers.iter().zip(pod["spec"]["containers"].as_sequence().into_iter().flatten()) {
            assert_eq!(ours["name"], theirs["name"]);
            assert_eq!(ours["image"], theirs["image"]);
            let list = |v: &Value| {
                v.as_sequence()
                    .map(|s| s.iter().map(|x| x.as_str().unwrap().to_owned()).collect::<Vec<_>>())
                    .unwrap_or_default()
            };
            assert_eq!(list(&ours["command"]), words(theirs.get("command")));
            assert_eq!(list(&ours["args"]), words(theirs.get("args")));
            assert_eq!(
                ours.get("tty").and_then(Value::as_bool).unwrap_or(false),
                theirs.get("ttyEnabled").and_then(Value::as_bool).unwrap_or(false)
            );
            assert_eq!(ours.get("workingDir"), theirs.get("workingDir"));
        }
    }
    // The strategies the plugin's data uses are the ones we accept, spelled the same.
    let used: Vec<String> = conformance_templates("configuration-as-code.yaml")
        .iter()
        .filter_map(|t| t.get("yamlMergeStrategy").and_then(Value::as_str).map(str::to_owned))
        .collect();
    assert_eq!(used, ["override", "merge"]);
    assert!(used.iter().all(|u| YAML_MERGE_STRATEGIES.contains(&u.as_str())));
}

#[test]
fn conformance_volumes_and_env() {
    // (file, plugin volume key, its source field, our source key, our source field)
    let cases = [
        ("casc_volume_hostPath.yaml", "hostPathVolume", "hostPath", "hostPath", "path"),
        ("casc_volume_configMap.yaml", "configMapVolume", "configMapName", "configMap", "name"),
        ("casc_volume_emptyDir.yaml", "emptyDirVolume", "", "emptyDir", ""),
    ];
    for (file, key, field, our_key, our_field) in cases {
        let t = &conformance_templates(file)[0];
        let v = &t["volumes"][0][key];
        let source = match key {
            "hostPathVolume" => VolumeSource::HostPath(v[field].as_str().unwrap().into()),
            "configMapVolume" => VolumeSource::ConfigMap(v[field].as_str().unwrap().into()),
            _ => VolumeSource::EmptyDir,
        };
        let mount = v["mountPath"].as_str().unwrap();
        let mut spec = minimal();
        spec.volumes.push(VolumeSpec { name: "volume-0".into(), ..volume("x", source, mount, None) });
        let (r, f) = render_pod_template(&spec);
        assert!(f.iter().all(|f| f.severity == Severity::Warning), "{f:?}");
        let pod: Value = serde_yaml_ng::from_str(&r.unwrap().pod_yaml_normalized).unwrap();
        let ours = &pod["spec"]["volumes"][0];
        if our_field.is_empty() {
            assert_eq!(ours[our_key], Value::Mapping(Mapping::new()), "{file}: emptyDir, memory medium off");
        } else {
            assert_eq!(ours[our_key][our_field], v[field], "{file}");
        }
        let m = &pod["spec"]["containers"][0]["volumeMounts"][0];
        assert_eq!((&m["name"], &m["mountPath"]), (&ours["name"], &v["mountPath"]), "{file}");
    }
    // envVar {key, value} becomes a container env entry {name, value}.
    let t = &conformance_templates("casc_envVar_keyValue.yaml")[0];
    let e = &t["envVars"][0]["envVar"];
    let mut spec = minimal();
    spec.tool_containers[0].env = map(&[(e["key"].as_str().unwrap(), e["value"].as_str().unwrap())]);
    let pod: Value = serde_yaml_ng::from_str(&render_pod_template(&spec).0.unwrap().pod_yaml_normalized).unwrap();
    let ours = &pod["spec"]["containers"][0]["env"][0];
    assert_eq!((&ours["name"], &ours["value"]), (&e["key"], &e["value"]));
}

// ---- phase 2: clouds -------------------------------------------------------------------------

use super::cloud::{AgentConnection, CloudSpec, render_cloud};

fn cloud(templates: Vec<String>) -> CloudSpec {
    CloudSpec {
        namespace: Some("jenkins".into()),
        jenkins_url: Some("http://jenkins.jenkins.svc.cluster.local:8080".into()),
        connection: AgentConnection::Tcp { tunnel: Some("jenkins-agent.jenkins.svc.cluster.local:50000".into()) },
        container_cap: Some(10),
        templates,
        ..CloudSpec::new("eks-agents")
    }
}

fn definition_of(spec: &PodTemplateSpec) -> String {
    render_pod_template(spec).0.expect("renders").definition
}

#[test]
fn cloud_casc_file() {
    let mut small = minimal();
    small.tool_containers[0].env = map(&[("M2", "${HOME}/.m2")]);
    let (r, f) = render_cloud(&cloud(vec![definition_of(&small)]));
    let r = r.unwrap_or_else(|| panic!("{f:#?}"));
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(
        (r.configmap_name.as_str(), r.data_key.as_str()),
        ("tf-jcasc-cloud-eks-agents", "cloud-eks-agents.yaml")
    );
    expect![[r##"
        # Managed by Terraform (jenkins_agent_cloud "eks-agents"); edits are overwritten.
        # revision: 62bcb6c17bf58110
        jenkins:
          clouds:
            - kubernetes:
                name: eks-agents
                namespace: jenkins
                jenkinsUrl: http://jenkins.jenkins.svc.cluster.local:8080
                jenkinsTunnel: jenkins-agent.jenkins.svc.cluster.local:50000
                containerCap: 10
                podLabels:
                  - key: jenkins/cloud
                    value: eks-agents
                templates:
                  - name: t
                    id: "86655f4b-c17a-5140-9eae-8f287850a329"
                    label: t
                    nodeUsageMode: EXCLUSIVE
                    yamlMergeStrategy: override
                    yaml: |
                      apiVersion: v1
                      kind: Pod
                      spec:
                        containers:
                          - name: maven
                            image: maven:3.9
                            command: [cat]
                            tty: true
                            env:
                              - name: M2
                                value: "^${HOME}/.m2"
                            resources:
                              requests:
                                cpu: "250m"
                                memory: "512Mi"
                              limits:
                                memory: "1Gi"
    "##]]
    .assert_eq(&r.casc_yaml);
    expect![[r#"
        apiVersion: v1
        kind: Pod
        metadata:
          name: "(runtime)"
          namespace: jenkins
          labels:
            jenkins/cloud: eks-agents
            jenkins/label: t
            jenkins/label-digest: "8efd86fb78a56a5145ed7739dcb00c78581c5375"
            kubernetes.jenkins.io/controller: http___jenkins_jenkins_svc_cluster_local_8080x
          annotations:
            kubernetes.jenkins.io/last-refresh: "(runtime)"
        spec:
          nodeSelector:
            kubernetes.io/os: linux
          restartPolicy: Never
          containers:
            - name: maven
              image: maven:3.9
              command: [cat]
              tty: true
              env:
                - name: M2
                  value: "${HOME}/.m2"
              resources:
                requests:
                  cpu: "250m"
                  memory: "512Mi"
                limits:
                  memory: "1Gi"
              volumeMounts:
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: jnlp
              image: jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21
              env:
                - name: JENKINS_SECRET
                  value: "(runtime)"
                - name: JENKINS_NAME
                  value: "(runtime)"
                - name: JENKINS_AGENT_NAME
                  value: "(runtime)"
                - name: JENKINS_AGENT_WORKDIR
                  value: /home/jenkins/agent
                - name: JENKINS_TUNNEL
                  value: jenkins-agent.jenkins.svc.cluster.local:50000
                - name: JENKINS_URL
                  value: http://jenkins.jenkins.svc.cluster.local:8080/
                - name: REMOTING_OPTS
                  value: "-noReconnectAfter 1d"
              resources:
                requests:
                  cpu: "100m"
                  memory: "256Mi"
              volumeMounts:
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
          volumes:
            - name: workspace-volume
              emptyDir:
                medium: ""
    "#]]
    .assert_eq(&r.effective_pods["t"]);
}

#[test]
fn cloud_seed_supplemental_effective_pod_merges_the_base() {
    let (r, f) = render_cloud(&cloud(vec![definition_of(&seed_base()), definition_of(&seed_supplemental())]));
    let r = r.unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(findings_text(&f), "");
    let pod: Value = serde_yaml_ng::from_str(&r.effective_pods["vendor-sdk"]).unwrap();
    let names: Vec<&str> =
        pod["spec"]["containers"].as_sequence().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "maven",
            "node",
            "python",
            "golang",
            "kubectl",
            "terraform",
            "aws-cli",
            "docker",
            "kaniko",
            "ssh-client",
            "vendor-sdk",
            "jnlp"
        ]
    );
    assert_eq!(pod["spec"]["serviceAccountName"], Value::from("jenkins-serviceaccount"));
    assert_eq!(r.template_ids["base"], template_id("base", None));
    expect![[r#"
        apiVersion: v1
        kind: Pod
        metadata:
          name: "(runtime)"
          namespace: jenkins
          labels:
            jenkins/cloud: eks-agents
            jenkins/label: vendor-sdk
            jenkins/label-digest: "3d01ae510c1675f815490554b38c69ba2e3b34fe"
            kubernetes.jenkins.io/controller: http___jenkins_jenkins_svc_cluster_local_8080x
          annotations:
            kubernetes.jenkins.io/last-refresh: "(runtime)"
        spec:
          serviceAccountName: jenkins-serviceaccount
          nodeSelector:
            kubernetes.io/os: linux
          restartPolicy: Never
          containers:
            - name: maven
              image: maven:3.9-eclipse-temurin-17
              command: [cat]
              tty: true
              resources:
                requests:
                  cpu: "250m"
                  memory: "512Mi"
                limits:
                  memory: "1Gi"
              volumeMounts:
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: node
              image: node:20-alpine
              command: [cat]
              tty: true
              resources:
                requests:
                  cpu: "250m"
                  memory: "512Mi"
                limits:
                  memory: "1Gi"
              volumeMounts:
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: python
              image: python:3.12-slim
              command: [cat]
              tty: true
              resources:
                requests:
                  cpu: "250m"
                  memory: "512Mi"
                limits:
                  memory: "1Gi"
              volumeMounts:
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: golang
              image: golang:1.22
              command: [cat]
              tty: true
              resources:
                requests:
                  cpu: "250m"
                  memory: "512Mi"
                limits:
                  memory: "1Gi"
              volumeMounts:
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: kubectl
              image: bitnami/kubectl:1.30
              command: [cat]
              tty: true
              resources:
                requests:
                  cpu: "250m"
                  memory: "512Mi"
                limits:
                  memory: "1Gi"
              volumeMounts:
                - name: aws-config-volume
                  mountPath: /root/.aws/config
                  subPath: config
                  readOnly: true
                - name: aws-volume
                  mountPath: /root/.aws
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: terraform
              image: hashicorp/terraform:1.9
              command: [cat]
              tty: true
              resources:
                requests:
                  cpu: "250m"
                  memory: "512Mi"
                limits:
                  memory: "1Gi"
              volumeMounts:
                - name: aws-config-volume
                  mountPath: /root/.aws/config
                  subPath: config
                  readOnly: true
                - name: aws-volume
                  mountPath: /root/.aws
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: aws-cli
              image: amazon/aws-cli:2.17.0
              command: [cat]
              tty: true
              resources:
                requests:
                  cpu: "250m"
                  memory: "512Mi"
                limits:
                  memory: "1Gi"
              volumeMounts:
                - name: aws-config-volume
                  mountPath: /root/.aws/config
                  subPath: config
                  readOnly: true
                - name: aws-volume
                  mountPath: /root/.aws
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: docker
              image: docker:27-cli
              command: [cat]
              tty: true
              resources:
                requests:
                  cpu: "250m"
                  memory: "512Mi"
                limits:
                  memory: "1Gi"
              volumeMounts:
                - name: docker-sock-volume
                  mountPath: /var/run/docker.sock
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: kaniko
              image: gcr.io/kaniko-project/executor:debug
              command: [/busybox/cat]
              tty: true
              resources:
                requests:
                  cpu: "250m"
                  memory: "512Mi"
                limits:
                  memory: "1Gi"
              volumeMounts:
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: ssh-client
              image: kroniak/ssh-client:3.19
              command: [cat]
              tty: true
              volumeMounts:
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: vendor-sdk
              image: registry.example.com/vendor/sdk:4.2
              command: [cat]
              tty: true
              envFrom:
                - configMapRef:
                    name: vendor-sdk-config
              resources:
                requests:
                  cpu: "500m"
                  memory: "1Gi"
              volumeMounts:
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
            - name: jnlp
              image: jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21
              env:
                - name: JENKINS_SECRET
                  value: "(runtime)"
                - name: JENKINS_NAME
                  value: "(runtime)"
                - name: JENKINS_AGENT_NAME
                  value: "(runtime)"
                - name: JENKINS_AGENT_WORKDIR
                  value: /home/jenkins/agent
                - name: JENKINS_TUNNEL
                  value: jenkins-agent.jenkins.svc.cluster.local:50000
                - name: JENKINS_URL
                  value: http://jenkins.jenkins.svc.cluster.local:8080/
                - name: REMOTING_OPTS
                  value: "-noReconnectAfter 1d"
              resources:
                requests:
                  cpu: "100m"
                  memory: "256Mi"
              volumeMounts:
                - name: workspace-volume
                  mountPath: /home/jenkins/agent
                  readOnly: false
          volumes:
            - name: docker-sock-volume
              hostPath:
                path: /var/run/docker.sock
            - name: aws-config-volume
              configMap:
                name: awsconfig-configmap
            - name: aws-volume
              emptyDir: {}
            - name: workspace-volume
              emptyDir:
                medium: ""
    "#]]
    .assert_eq(&r.effective_pods["vendor-sdk"]);
}

#[test]
fn override_keeps_only_the_last_yaml() {
    let mut child = seed_supplemental();
    child.yaml_merge_strategy = "override".into();
    let (r, _) = render_cloud(&cloud(vec![definition_of(&seed_base()), definition_of(&child)]));
    let pod: Value = serde_yaml_ng::from_str(&r.unwrap().effective_pods["vendor-sdk"]).unwrap();
    let names: Vec<&str> =
        pod["spec"]["containers"].as_sequence().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["vendor-sdk", "jnlp"]);
}

#[test]
fn cloud_findings() {
    let named = |n: &str, parents: &[&str], labels: &[&str]| {
        definition_of(&PodTemplateSpec {
            inherit_from: strings(parents),
            labels: strings(labels),
            yaml_merge_strategy: "merge".into(),
            ..base_fields(n)
        })
    };
    type CloudCase = (fn(&mut CloudSpec), Severity, &'static str, &'static str);
    let cases: &[CloudCase] = &[
        (|c| c.name = "kubernetes".into(), Severity::Error, "Invalid Cloud Name", "name"),
        (|c| c.templates.push("not: [yaml".into()), Severity::Error, "Invalid Template Definition", "templates[2]"),
        (|c| c.templates.push(c.templates[0].clone()), Severity::Error, "Duplicate Template Name", "templates[2]"),
        (|c| c.server_url = Some("http://x".into()), Severity::Error, "Insecure Server URL", "server_url"),
        (
            |c| {
                c.credentials_id = Some("k".into());
                c.namespace = None;
            },
            Severity::Error,
            "Namespace Required",
            "namespace",
        ),
        (|c| c.server_url = Some("https://x".into()), Severity::Warning, "", ""),
        (
            |c| c.connection = AgentConnection::Tcp { tunnel: Some("nohost".into()) },
            Severity::Error,
            "Invalid Jenkins Tunnel",
            "jenkins_tunnel",
        ),
        (|c| c.read_timeout_seconds = 10, Severity::Error, "Value Below Minimum", "read_timeout_seconds"),
        (
            |c| c.defaults_provider_template = Some("nope".into()),
            Severity::Error,
            "Unknown Defaults Template",
            "defaults_provider_template",
        ),
    ];
    let base = vec![named("a", &[], &["x"]), named("b", &["a"], &["y"])];
    for (i, (change, severity, summary, path)) in cases.iter().enumerate() {
        let mut c = cloud(base.clone());
        change(&mut c);
        let (_, f) = render_cloud(&c);
        if summary.is_empty() {
            // A remote server without jenkins_url is an error.
            assert!(f.iter().any(|f| f.summary == "Jenkins URL Required") || c.jenkins_url.is_some(), "case {i}");
            continue;
        }
        let hit = f.iter().find(|x| x.summary == *summary).unwrap_or_else(|| panic!("case {i}: {f:#?}"));
        assert_eq!((hit.severity, hit.path.to_string().as_str()), (*severity, *path), "case {i}");
    }
    // Unknown parents, cycles, duplicate ids, shared labels.
    let with = |defs: Vec<String>| findings_text(&render_cloud(&cloud(defs)).1);
    expect![[r#"
        Error Unknown Parent Template at templates[0]
    "#]]
    .assert_eq(&with(vec![named("a", &["ghost"], &["x"])]));
    expect![[r#"
        Error Inheritance Cycle at templates[0]
    "#]]
    .assert_eq(&with(vec![named("a", &["c"], &["x"]), named("b", &["a"], &["y"]), named("c", &["b"], &["z"])]));
    let same_id =
        definition_of(&PodTemplateSpec { id: Some("fixed".into()), labels: strings(&["x"]), ..base_fields("a") });
    let same_id2 =
        definition_of(&PodTemplateSpec { id: Some("fixed".into()), labels: strings(&["x"]), ..base_fields("b") });
    expect![[r#"
        Error Duplicate Template Id at templates[1]
        Warning Label Shared By Templates at templates[1]
    "#]]
    .assert_eq(&with(vec![same_id, same_id2]));
}

#[test]
fn conformance_cloud_attributes() {
    let doc = conformance("configuration-as-code.yaml");
    let theirs = doc["jenkins"]["clouds"][0]["kubernetes"].as_mapping().unwrap().clone();
    let mut c = cloud(vec![definition_of(&minimal())]);
    c.name = "kubernetes-test".into();
    c.container_cap = theirs["containerCap"].as_i64();
    c.jenkins_url = theirs["jenkinsUrl"].as_str().map(str::to_owned);
    c.max_requests_per_host = theirs["maxRequestsPerHost"].as_i64().unwrap();
    let (r, f) = render_cloud(&c);
    let r = r.unwrap_or_else(|| panic!("{f:#?}"));
    let ours: Value = serde_yaml_ng::from_str(&r.casc_yaml).unwrap();
    let ours = ours["jenkins"]["clouds"][0]["kubernetes"].as_mapping().unwrap().clone();
    for k in ["containerCap", "jenkinsUrl"] {
        assert_eq!(ours.get(k), theirs.get(k), "{k}");
    }
    // maxRequestsPerHost 32 is the plugin default and left out.
    assert_eq!(ours.get("maxRequestsPerHost"), None);
    assert!(ours["templates"].as_sequence().is_some_and(|t| t.len() == 1));
}
