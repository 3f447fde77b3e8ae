//! The kubernetes-plugin's own tests as our conformance suite: every assertion of
//! `PodTemplateBuilderTest` and `PodTemplateUtilsTest` (jenkinsci/kubernetes-plugin, the version
//! in [`KUBERNETES_PLUGIN`]) that our model can express, as a table row: the templates (JCasC
//! definitions as a cloud accepts them, or as `jenkins_pod_template` emits them), the cloud, and
//! what the plugin builds, checked on `effective_pods` after a round trip through the `casc_yaml`
//! we emit (rendered, parsed back with `parse_cloud`, rendered again).
//!
//! Inputs and expectations are written here from the Java tests; the test resource files named in
//! `source` are restated with only the parts the assertions read.
//!
//! Skipped methods, and why (not expressible: the model reads no such attribute, or the behaviour
//! needs Jenkins runtime objects):
//! - `PodTemplateBuilderTest`: `testValidateDockerRegistryPrefixOverride*` (the controller's
//!   `dockerRegistryPrefix` system property, not JCasC); `…ForInitContainer` (also
//!   `agentInjection`); `testBuildWithCustomWorkspaceVolume`, `testBuildWithDynamicPVCWorkspaceVolume`
//!   (`workspaceVolume`); `testBuildFromTemplate`, `testInheritsFromWithYaml`,
//!   `testOverridesContainerSpec` (plugin `containers` and `volumes`: our schema renders
//!   containers and volumes into the pod YAML instead, and reports these attributes as "Attributes
//!   Not Reflected"). `yamlOverrideVolume` is kept without its container template and ConfigMap
//!   volume.
//! - `PodTemplateUtilsTest`: `shouldReturnContainerTemplateWhenParentIsNull`,
//!   `shouldOverrideTheImageAndInheritTheRest`, `shouldCombineAllEnvVars`,
//!   `shouldCombineAllSecretEnvVars`, `shouldFilterOutNullOrEmptySecretEnvVars`,
//!   `shouldCombineAllPorts`, `testSplitCommandLine` (`ContainerTemplate`s);
//!   `shouldFilterOutNullOrEmptyPodSecretEnvVars` (a `secretEnvVar` without a key is not valid
//!   JCasC); `shouldCombineAllMounts`, `shouldCombineAllToolLocations` (template `volumes`,
//!   `nodeProperties`);
//!   `shouldIgnoreMissingProperties`, `shouldSubstitute*` (`SUBSTITUTE_ENV`, off by default; we
//!   escape `${` instead); `testValidateLabel*` (the UI's label check; ours is `check_label`).
//!   `shouldFilterOutNullOrEmptyEnvVars` is kept as its YAML analogue (`combineEnvVars(Container,
//!   Container)` filters the same way).

use super::cloud::{AgentConnection, CloudSpec, render_cloud};
use super::cloud_parse::parse_cloud;
use super::*;
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeMap;

/// What a row checks: a template's effective pod, its unwrapped template, or `combine(a, b)`.
#[derive(Clone)]
enum Target {
    Pod(&'static str),
    Unwrapped(&'static str),
    Combined(&'static str, &'static str),
}

/// One behaviour of the plugin, from one of its tests.
struct Case {
    source: &'static str,
    cloud: CloudSpec,
    templates: Vec<String>,
    target: Target,
    /// Path → expected YAML value; `~` means absent. Paths: `a.b`, `list[name]` (the entry of
    /// that `name`), `list[key=value]`, `{a.b}` for a key holding dots, `#` for a list's length.
    expect: Vec<(&'static str, &'static str)>,
}

fn case(source: &'static str) -> Case {
    // The plugin's tests use a cloud named `test` with no podLabels (so `jenkins=slave`).
    let cloud = CloudSpec {
        jenkins_url: Some("http://jenkins.example.com".into()),
        pod_labels: Some(BTreeMap::new()),
        ..CloudSpec::new("test")
    };
    Case { source, cloud, templates: Vec::new(), target: Target::Pod("t"), expect: Vec::new() }
}

impl Case {
    /// Adds a template: `attrs` as flow YAML, plus its pod `yaml` if any.
    fn tpl(mut self, attrs: &str, yaml: Option<&str>) -> Self {
        let mut m: Mapping = serde_yaml_ng::from_str(attrs).expect(attrs);
        if let Some(y) = yaml {
            m.insert("yaml".into(), y.into());
        }
        self.templates.push(serde_yaml_ng::to_string(&m).unwrap());
        self
    }

    /// Adds a template as `jenkins_pod_template` emits it.
    fn emitted(mut self, spec: PodTemplateSpec) -> Self {
        let (r, f) = render_pod_template(&spec);
        self.templates.push(r.unwrap_or_else(|| panic!("{}: {f:#?}", self.source)).definition);
        self
    }

    fn with(mut self, f: impl FnOnce(&mut CloudSpec)) -> Self {
        f(&mut self.cloud);
        self
    }

    fn on(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    fn expect(mut self, pairs: &[(&'static str, &'static str)]) -> Self {
        self.expect.extend_from_slice(pairs);
        self
    }
}

/// Parent `p` and child `c` (inheriting, `merge`) with the given pod YAMLs.
fn merge_case(source: &'static str, parent: &str, child: &str) -> Case {
    case(source)
        .tpl("{name: p}", Some(parent))
        .tpl("{name: c, inheritFrom: p, yamlMergeStrategy: merge}", Some(child))
        .on(Target::Pod("c"))
}

/// `pod-busybox.yaml`: a busybox tool container mounting one of two volumes.
const POD_BUSYBOX: &str = r#"
metadata: {labels: {some-label: some-label-value}}
spec:
  affinity: {podAntiAffinity: {}}
  containers:
  - name: busybox
    image: busybox
    resources:
      requests: {example.com/dongle: 42}
      limits: {example.com/dongle: 42}
    command: [cat]
    tty: true
    env: [{name: CONTAINER_ENV_VAR, value: container-env-var-value}]
    volumeMounts: [{mountPath: /container/data, name: host-volume}]
  volumes:
  - {name: empty-volume, emptyDir: {}}
  - {name: host-volume, hostPath: {path: /host/data}}
"#;

/// `pod-overrides.yaml`: the agent container itself, mounting a volume at the workspace path.
const POD_OVERRIDES: &str = r#"
metadata: {namespace: yaml-namespace}
spec:
  containers:
  - name: jnlp
    image: jenkins-jnlp-override
    securityContext: {runAsUser: 3000, runAsGroup: 4000}
    volumeMounts: [{mountPath: /home/jenkins/agent, name: host-volume}]
    resources:
      limits: {cpu: 2, memory: 2Gi}
      requests: {cpu: 200m, memory: 256Mi}
  volumes:
  - {name: host-volume, hostPath: {path: /host/data}}
"#;

const TOLERATING_PARENT: &str = "spec: {tolerations: [{key: reservedFor, operator: Exists, effect: NoSchedule}]}";

/// `validatePod` + `validateJnlpContainer` of `testBuildFromYaml`, for either connection.
fn busybox_expectations(direct: bool) -> Vec<(&'static str, &'static str)> {
    let mut e = vec![
        ("metadata.labels.some-label", "some-label-value"),
        ("metadata.labels.jenkins", "slave"),
        ("spec.restartPolicy", "Never"),
        ("spec.containers.#", "2"),
        ("spec.containers[busybox].image", "busybox"),
        ("spec.containers[jnlp].image", "jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21"),
        ("spec.volumes.#", "3"),
        ("spec.volumes[workspace-volume].emptyDir", "{medium: ''}"),
        ("spec.volumes[empty-volume].emptyDir", "{}"),
        ("spec.volumes[host-volume].hostPath.path", "/host/data"),
        // "when using yaml we don't mount all volumes, just the ones explicitly listed"
        (
            "spec.containers[busybox].volumeMounts",
            "[{name: host-volume, mountPath: /container/data}, {name: workspace-volume, mountPath: /home/jenkins/agent, readOnly: false}]",
        ),
        (
            "spec.containers[jnlp].volumeMounts",
            "[{name: workspace-volume, mountPath: /home/jenkins/agent, readOnly: false}]",
        ),
        ("spec.containers[busybox].env", "[{name: CONTAINER_ENV_VAR, value: container-env-var-value}]"),
        ("spec.containers[busybox].resources.requests.{example.com/dongle}", "42"),
        ("spec.containers[busybox].resources.limits.{example.com/dongle}", "42"),
        ("spec.containers[jnlp].command", "~"),
        ("spec.containers[jnlp].args", "~"),
        ("spec.containers[jnlp].env[JENKINS_SECRET].value", "(runtime)"),
        ("spec.containers[jnlp].env[JENKINS_NAME].value", "(runtime)"),
        ("spec.containers[jnlp].env[JENKINS_AGENT_NAME].value", "(runtime)"),
        ("spec.containers[jnlp].env[JENKINS_AGENT_WORKDIR].value", "/home/jenkins/agent"),
        ("spec.containers[jnlp].env[REMOTING_OPTS].value", "-noReconnectAfter 1d"),
        ("spec.containers[jnlp].env[JENKINS_WEB_SOCKET]", "~"),
    ];
    if direct {
        e.extend([
            ("spec.containers[jnlp].env.#", "8"),
            ("spec.containers[jnlp].env[JENKINS_URL]", "~"),
            ("spec.containers[jnlp].env[JENKINS_PROTOCOLS].value", "JNLP4-connect"),
            ("spec.containers[jnlp].env[JENKINS_DIRECT_CONNECTION].value", "(runtime)"),
            ("spec.containers[jnlp].env[JENKINS_INSTANCE_IDENTITY].value", "(runtime)"),
        ]);
    } else {
        e.extend([
            ("spec.containers[jnlp].env.#", "6"),
            ("spec.containers[jnlp].env[JENKINS_URL].value", "http://jenkins.example.com/"),
            ("spec.containers[jnlp].env[JENKINS_PROTOCOLS]", "~"),
        ]);
    }
    e
}

/// `pod-overrides.yaml` as the only YAML (`testOverridesFromYaml`).
fn overrides_expectations() -> Vec<(&'static str, &'static str)> {
    vec![
        ("metadata.namespace", "yaml-namespace"),
        ("spec.containers.#", "1"),
        ("spec.containers[jnlp].volumeMounts.#", "1"),
        ("spec.containers[jnlp].resources", "{limits: {cpu: 2, memory: 2Gi}, requests: {cpu: 200m, memory: 256Mi}}"),
        ("spec.containers[jnlp].image", "jenkins-jnlp-override"),
    ]
}

fn cases() -> Vec<Case> {
    vec![
        // ---- PodTemplateBuilderTest -----------------------------------------------------------
        case("PodTemplateBuilderTest#testBuildFromYaml(directConnection=false) (pod-busybox.yaml)")
            .tpl("{name: t}", Some(POD_BUSYBOX))
            .expect(&busybox_expectations(false)),
        case("PodTemplateBuilderTest#testBuildFromYaml(directConnection=true) (pod-busybox.yaml)")
            .tpl("{name: t}", Some(POD_BUSYBOX))
            .with(|c| c.connection = AgentConnection::Direct)
            .expect(&busybox_expectations(true)),
        case("PodTemplateBuilderTest#testBuildFromYaml, websocket (agentEnvVars: JENKINS_WEB_SOCKET with the URL)")
            .tpl("{name: t}", Some(POD_BUSYBOX))
            .with(|c| c.connection = AgentConnection::WebSocket)
            .expect(&[
                ("spec.containers[jnlp].env[JENKINS_URL].value", "http://jenkins.example.com/"),
                ("spec.containers[jnlp].env[JENKINS_WEB_SOCKET].value", "'true'"),
                ("spec.containers[jnlp].env[JENKINS_TUNNEL]", "~"),
            ]),
        case("PodTemplateBuilderTest#testBuildFromYaml, tcp with tunnel (agentEnvVars: JENKINS_TUNNEL)")
            .tpl("{name: t}", Some(POD_BUSYBOX))
            .with(|c| c.connection = AgentConnection::Tcp { tunnel: Some("jenkins-agent:50000".into()) })
            .expect(&[
                ("spec.containers[jnlp].env[JENKINS_TUNNEL].value", "jenkins-agent:50000"),
                ("spec.containers[jnlp].env[JENKINS_URL].value", "http://jenkins.example.com/"),
                ("spec.containers[jnlp].env[JENKINS_WEB_SOCKET]", "~"),
            ]),
        case("PodTemplateBuilderTest#testBuildJnlpFromYamlWithNullEnv (pod-jnlp-nullenv.yaml)")
            .tpl("{name: t}", Some("spec: {containers: [{name: jnlp, image: jnlp-agent, env: null}]}"))
            .expect(&[
                ("spec.containers[jnlp].image", "jnlp-agent"),
                ("spec.containers[jnlp].env[JENKINS_SECRET].value", "(runtime)"),
            ]),
        case("PodTemplateBuilderTest#testInjectRestrictedPssSecurityContextInJnlp (pod-busybox.yaml)")
            .tpl("{name: t}", Some(POD_BUSYBOX))
            .with(|c| c.restricted_pss_security_context = true)
            .expect(&[
                ("spec.containers[jnlp].securityContext.allowPrivilegeEscalation", "false"),
                ("spec.containers[jnlp].securityContext.capabilities.drop", "[ALL]"),
                ("spec.containers[jnlp].securityContext.runAsNonRoot", "true"),
                ("spec.containers[jnlp].securityContext.seccompProfile.type", "RuntimeDefault"),
            ]),
        case("PodTemplateBuilderTest#testValidateDockerRegistryUIOverride (pod-busybox.yaml)")
            .tpl("{name: t}", Some(POD_BUSYBOX))
            .with(|c| c.jnlp_registry = Some("registry.example.com".into()))
            .expect(&[
                ("spec.containers.#", "2"),
                ("spec.containers[busybox].image", "busybox"),
                ("spec.containers[jnlp].image", "registry.example.com/jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21"),
                ("metadata.labels.jenkins", "slave"),
            ]),
        case("PodTemplateBuilderTest#testValidateDockerRegistryUIOverrideWithSlashSuffix (pod-busybox.yaml)")
            .tpl("{name: t}", Some(POD_BUSYBOX))
            .with(|c| c.jnlp_registry = Some("registry.example.com/".into()))
            .expect(&[("spec.containers[jnlp].image", "registry.example.com/jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21")]),
        case("PodTemplateBuilderTest#namespaceFromCloud")
            .tpl("{name: t}", None)
            .with(|c| c.namespace = Some("cloud-namespace".into()))
            .expect(&[("metadata.namespace", "cloud-namespace")]),
        case("PodTemplateBuilderTest#namespaceFromTemplate")
            .tpl("{name: t, namespace: template-namespace}", None)
            .with(|c| c.namespace = Some("cloud-namespace".into()))
            .expect(&[("metadata.namespace", "template-namespace")]),
        case("PodTemplateBuilderTest#defaultRequests")
            .tpl("{name: t}", None)
            .expect(&[
                ("spec.containers.#", "1"),
                ("spec.containers[jnlp].resources", "{requests: {cpu: 100m, memory: 256Mi}}"),
                // The created agent has no workingDir of its own: none is written.
                ("spec.containers[jnlp].workingDir", "~"),
            ]),
        case("PodTemplateBuilderTest#testOverridesFromYaml(directConnection=false) (pod-overrides.yaml)")
            .tpl("{name: t, namespace: template-namespace}", Some(POD_OVERRIDES))
            .expect(&overrides_expectations())
            .expect(&[("spec.containers[jnlp].env[JENKINS_URL].value", "http://jenkins.example.com/")]),
        case("PodTemplateBuilderTest#testOverridesFromYaml(directConnection=true) (pod-overrides.yaml)")
            .tpl("{name: t, namespace: template-namespace}", Some(POD_OVERRIDES))
            .with(|c| c.connection = AgentConnection::Direct)
            .expect(&overrides_expectations())
            .expect(&[("spec.containers[jnlp].env[JENKINS_URL]", "~")]),
        case("PodTemplateBuilderTest#inheritYamlMergeStrategy (parent merge, not inherited)")
            .tpl("{name: p, yamlMergeStrategy: merge}", Some(TOLERATING_PARENT))
            .tpl("{name: c, inheritFrom: p}", Some("spec:\n"))
            .on(Target::Pod("c"))
            .expect(&[("spec.tolerations", "~")]),
        case("PodTemplateBuilderTest#inheritYamlMergeStrategy (parent merge, inherited)")
            .tpl("{name: p, yamlMergeStrategy: merge, inheritYamlMergeStrategy: true}", Some(TOLERATING_PARENT))
            .tpl("{name: c, inheritFrom: p}", Some("spec:\n"))
            .on(Target::Pod("c"))
            .expect(&[("spec.tolerations.#", "1")]),
        case("PodTemplateBuilderTest#inheritYamlMergeStrategy (parent override, inherited)")
            .tpl("{name: p, yamlMergeStrategy: override, inheritYamlMergeStrategy: true}", Some(TOLERATING_PARENT))
            .tpl("{name: c, inheritFrom: p}", Some("spec:\n"))
            .on(Target::Pod("c"))
            .expect(&[("spec.tolerations", "~")]),
        case("PodTemplateBuilderTest#inheritYamlMergeStrategy (child override over inherited merge)")
            .tpl("{name: p, yamlMergeStrategy: merge, inheritYamlMergeStrategy: true}", Some(TOLERATING_PARENT))
            .tpl("{name: c, inheritFrom: p, yamlMergeStrategy: override}", Some("spec:\n"))
            .on(Target::Pod("c"))
            .expect(&[("spec.tolerations", "~")]),
        case("PodTemplateBuilderTest#inheritYamlMergeStrategy (child merge over inherited override)")
            .tpl("{name: p, yamlMergeStrategy: override, inheritYamlMergeStrategy: true}", Some(TOLERATING_PARENT))
            .tpl("{name: c, inheritFrom: p, yamlMergeStrategy: merge}", Some("spec:\n"))
            .on(Target::Pod("c"))
            .expect(&[("spec.tolerations.#", "1")]),
        // Our schema deliberately differs: a `pod_yaml` that describes nothing is left out of the
        // definition, so the parent's YAML stays in force under `override` (reference §8).
        case("PodTemplateBuilderTest#inheritYamlMergeStrategy, child as jenkins_pod_template emits it (empty pod_yaml left out)")
            .tpl("{name: p}", Some(TOLERATING_PARENT))
            .emitted(PodTemplateSpec {
                pod_yaml: Some("spec:\n".into()),
                inherit_from: vec!["p".into()],
                ..super::rules_tests::tpl("c")
            })
            .on(Target::Pod("c"))
            .expect(&[("spec.tolerations.#", "1")]),
        merge_case(
            "PodTemplateBuilderTest#yamlMergeContainers",
            "metadata: {labels: {some-label: some-label-value}}\nspec: {containers: [{name: container1, image: busybox, command: [cat], tty: true}]}",
            "spec: {containers: [{name: container2, image: busybox, command: [cat], tty: true}]}",
        )
        .expect(&[
            ("metadata.labels.some-label", "some-label-value"),
            ("spec.containers.#", "3"),
            ("spec.containers[container1].image", "busybox"),
            ("spec.containers[container2].image", "busybox"),
        ]),
        merge_case(
            "PodTemplateBuilderTest#yamlOverrideContainer",
            "metadata: {labels: {some-label: some-label-value}}\nspec: {containers: [{name: container, image: busybox, command: [cat], tty: true}]}",
            "spec: {containers: [{name: container, image: busybox2, command: [cat], tty: true}]}",
        )
        .expect(&[
            ("metadata.labels.some-label", "some-label-value"),
            ("spec.containers.#", "2"),
            ("spec.containers[container].image", "busybox2"),
        ]),
        merge_case(
            "PodTemplateBuilderTest#yamlOverrideContainerEnvvar (JENKINS-58374)",
            "spec: {containers: [{name: jnlp, env: [{name: VAR1, value: '1'}, {name: VAR2, value: '1'}]}]}",
            "spec: {containers: [{name: jnlp, env: [{name: VAR1, value: '2'}]}]}",
        )
        .expect(&[("spec.containers[jnlp].env[VAR1].value", "'2'"), ("spec.containers[jnlp].env[VAR2].value", "'1'")]),
        merge_case(
            "PodTemplateBuilderTest#yamlOverrideVolume (without the child's container template and ConfigMap volume)",
            "metadata: {labels: {some-label: some-label-value}}\nspec:\n  containers: [{name: jnlp, volumeMounts: [{name: host-volume, mountPath: /etc/config, subPath: mypath}]}]\n  volumes: [{name: host-volume, hostPath: {path: /host/data}}]",
            "spec: {volumes: [{name: host-volume, hostPath: {path: /host/data2}}]}",
        )
        .expect(&[
            ("metadata.labels.some-label", "some-label-value"),
            ("spec.volumes[host-volume].hostPath.path", "/host/data2"),
            ("spec.containers.#", "1"),
            ("spec.containers[jnlp].volumeMounts[host-volume].mountPath", "/etc/config"),
            ("spec.containers[jnlp].volumeMounts[host-volume].subPath", "mypath"),
        ]),
        merge_case(
            "PodTemplateBuilderTest#yamlOverrideHostNetwork",
            "spec: {hostNetwork: false, containers: [{name: container, image: busybox, securityContext: {runAsUser: 1000, runAsGroup: 1000}}]}",
            "spec: {hostNetwork: true, containers: [{name: container, image: busybox2, securityContext: {runAsUser: 2000, runAsGroup: 2000}}]}",
        )
        .expect(&[("spec.hostNetwork", "true")]),
        merge_case(
            "PodTemplateBuilderTest#yamlOverrideSchedulerName",
            "spec: {schedulerName: default-scheduler}",
            "spec: {schedulerName: custom-scheduler}",
        )
        .expect(&[("spec.schedulerName", "custom-scheduler")]),
        merge_case(
            "PodTemplateBuilderTest#yamlOverrideSecurityContext",
            "spec: {securityContext: {runAsUser: 2000, runAsGroup: 2000}, containers: [{name: container, image: busybox, securityContext: {runAsUser: 1000, runAsGroup: 1000}}]}",
            "spec: {securityContext: {runAsUser: 3000, runAsGroup: 3000}, containers: [{name: container, image: busybox2, securityContext: {runAsUser: 2000, runAsGroup: 2000}}]}",
        )
        .expect(&[
            ("spec.containers.#", "2"),
            ("spec.securityContext", "{runAsUser: 3000, runAsGroup: 3000}"),
            ("spec.containers[container].securityContext", "{runAsUser: 2000, runAsGroup: 2000}"),
        ]),
        merge_case(
            "PodTemplateBuilderTest#yamlMergeVolumes",
            "metadata: {labels: {some-label: some-label-value}}\nspec: {volumes: [{name: host-volume, hostPath: {path: /host/data}}]}",
            "spec: {volumes: [{name: host-volume2, hostPath: {path: /host/data2}}]}",
        )
        .expect(&[
            ("metadata.labels.some-label", "some-label-value"),
            ("spec.volumes.#", "3"),
            ("spec.volumes[host-volume].hostPath.path", "/host/data"),
            ("spec.volumes[host-volume2].hostPath.path", "/host/data2"),
        ]),
        case("PodTemplateBuilderTest#whenRuntimeClassNameIsSetDoNotSetDefaultNodeSelector")
            .tpl("{name: t}", Some("spec: {runtimeClassName: windows}"))
            .expect(&[("spec.runtimeClassName", "windows"), ("spec.nodeSelector", "~")]),
        // Our `volume` blocks stand for the plugin's template volumes, which `build()` mounts into
        // every container template and into the agent container it creates.
        case("PodTemplateBuilderTest#testBuildFromTemplate, volumes as `volume` blocks (mounted into the agent too)")
            .emitted(PodTemplateSpec {
                tool_containers: vec![ToolContainer {
                    name: "busybox".into(),
                    image: "busybox".into(),
                    command: vec!["cat".into()],
                    tty: true,
                    ..Default::default()
                }],
                volumes: vec![
                    VolumeSpec {
                        name: "data".into(),
                        source: VolumeSource::HostPath("/host/data".into()),
                        mount_path: "/container/data".into(),
                        read_only: false,
                        sub_path: None,
                        containers: None,
                    },
                    VolumeSpec {
                        name: "scratch".into(),
                        source: VolumeSource::EmptyDir,
                        mount_path: "/empty/dir".into(),
                        read_only: false,
                        sub_path: None,
                        containers: Some(vec!["*".into()]),
                    },
                ],
                ..super::rules_tests::tpl("t")
            })
            .expect(&[
                ("spec.containers.#", "2"),
                ("spec.volumes.#", "3"),
                ("spec.containers[busybox].volumeMounts.#", "3"),
                ("spec.containers[jnlp].volumeMounts.#", "3"),
                ("spec.containers[jnlp].volumeMounts[mountPath=/container/data].name", "data"),
                ("spec.containers[jnlp].volumeMounts[mountPath=/empty/dir].name", "scratch"),
                ("spec.containers[jnlp].image", "jenkins/inbound-agent:3355.v388858a_47b_33-3-jdk21"),
            ]),
        // Our `tool_container` blocks are rendered into the pod YAML, not into the plugin's
        // container templates (which `combine(PodTemplate)` merges by name whatever the YAML
        // strategy): under the default `override` the child's YAML replaces the parent's.
        case("PodTemplateUtilsTest#shouldUnwrapMultipleParents, containers as tool_container blocks under override")
            .emitted(PodTemplateSpec {
                tool_containers: vec![ToolContainer { name: "maven".into(), image: "maven:1".into(), tty: true, ..Default::default() }],
                ..super::rules_tests::tpl("parent")
            })
            .emitted(PodTemplateSpec {
                inherit_from: vec!["parent".into()],
                tool_containers: vec![ToolContainer { name: "node".into(), image: "node:2".into(), tty: true, ..Default::default() }],
                ..super::rules_tests::tpl("t")
            })
            .expect(&[("spec.containers", "~names: [node, jnlp]")]),
        case("PodTemplateUtilsTest#shouldUnwrapMultipleParents, containers as tool_container blocks under merge")
            .emitted(PodTemplateSpec {
                tool_containers: vec![ToolContainer { name: "maven".into(), image: "maven:1".into(), tty: true, ..Default::default() }],
                ..super::rules_tests::tpl("parent")
            })
            .emitted(PodTemplateSpec {
                inherit_from: vec!["parent".into()],
                yaml_merge_strategy: "merge".into(),
                tool_containers: vec![
                    ToolContainer { name: "maven".into(), image: "maven:2".into(), tty: true, ..Default::default() },
                    ToolContainer { name: "node".into(), image: "node:2".into(), tty: true, ..Default::default() },
                ],
                ..super::rules_tests::tpl("t")
            })
            .expect(&[("spec.containers", "~names: [maven, node, jnlp]"), ("spec.containers[maven].image", "maven:2")]),
        // ---- PodTemplateUtilsTest -------------------------------------------------------------
        case("PodTemplateUtilsTest#shouldReturnPodTemplateWhenParentIsNull")
            .tpl("{name: t, serviceAccount: sa1}", None)
            .expect(&[("spec.serviceAccountName", "sa1")]),
        case("PodTemplateUtilsTest#shouldOverrideServiceAccountIfSpecified (child sets one)")
            .tpl("{name: p, serviceAccount: sa}", None)
            .tpl("{name: c, inheritFrom: p, serviceAccount: sa1}", None)
            .on(Target::Pod("c"))
            .expect(&[("spec.serviceAccountName", "sa1")]),
        case("PodTemplateUtilsTest#shouldOverrideServiceAccountIfSpecified (child sets none)")
            .tpl("{name: p, serviceAccount: sa}", None)
            .tpl("{name: c, inheritFrom: p}", None)
            .on(Target::Pod("c"))
            .expect(&[("spec.serviceAccountName", "sa")]),
        // `nodeSelector` must be `k=v`: the test's `key:value` is kept through the combine but
        // builds no selector (`getNodeSelectorMap` skips it), so the Linux default applies.
        case("PodTemplateUtilsTest#shouldOverrideNodeSelectorIfSpecified (child sets one)")
            .tpl("{name: p, nodeSelector: 'key:value'}", None)
            .tpl("{name: c, inheritFrom: p, nodeSelector: 'key:value1'}", None)
            .on(Target::Unwrapped("c"))
            .expect(&[("nodeSelector", "'key:value1'")]),
        case("PodTemplateUtilsTest#shouldOverrideNodeSelectorIfSpecified (child sets none)")
            .tpl("{name: p, nodeSelector: 'key:value'}", None)
            .tpl("{name: c, inheritFrom: p}", None)
            .on(Target::Unwrapped("c"))
            .expect(&[("nodeSelector", "'key:value'")]),
        case("PodTemplateUtilsTest#shouldOverrideNodeSelectorIfSpecified, built (malformed selectors skipped)")
            .tpl("{name: p, nodeSelector: 'key:value'}", None)
            .tpl("{name: c, inheritFrom: p, nodeSelector: 'disk=ssd,key:value1,zone=a'}", None)
            .on(Target::Pod("c"))
            .expect(&[("spec.nodeSelector", "{disk: ssd, zone: a}")]),
        case("PodTemplateUtilsTest#shouldCombineAllImagePullSecrets (template1)")
            .tpl("{name: p, imagePullSecrets: [{name: secret1}]}", None)
            .tpl("{name: c, inheritFrom: p, imagePullSecrets: [{name: secret1}, {name: secret2}, {name: secret3}]}", None)
            .on(Target::Pod("c"))
            .expect(&[("spec.imagePullSecrets", "[{name: secret1}, {name: secret2}, {name: secret3}]")]),
        case("PodTemplateUtilsTest#shouldCombineAllImagePullSecrets (template2)")
            .tpl("{name: p, imagePullSecrets: [{name: secret1}]}", None)
            .tpl("{name: c, inheritFrom: p, imagePullSecrets: [{name: secret2}, {name: secret3}]}", None)
            .on(Target::Pod("c"))
            .expect(&[("spec.imagePullSecrets.#", "3")]),
        case("PodTemplateUtilsTest#shouldCombineAllImagePullSecrets (template3)")
            .tpl("{name: p, imagePullSecrets: [{name: secret1}]}", None)
            .tpl("{name: c, inheritFrom: p}", None)
            .on(Target::Pod("c"))
            .expect(&[("spec.imagePullSecrets", "[{name: secret1}]")]),
        case("PodTemplateUtilsTest#shouldCombineAllAnnotations")
            .tpl("{name: p, annotations: [{key: key1, value: value1}, {key: key2, value: value2}]}", None)
            .tpl("{name: c, inheritFrom: p, annotations: [{key: key1, value: value3}]}", None)
            .on(Target::Pod("c"))
            .expect(&[
                ("metadata.annotations.key1", "value3"),
                ("metadata.annotations.key2", "value2"),
                ("metadata.annotations.{kubernetes.jenkins.io/last-refresh}", "(runtime)"),
            ]),
        case("PodTemplateUtilsTest#shouldCombineAllPodKeyValueEnvVars")
            .tpl("{name: p, envVars: [{envVar: {key: key-1, value: value-1}}]}", None)
            .tpl("{name: c, inheritFrom: p, envVars: [{envVar: {key: key-2, value: value-2}}, {envVar: {key: key-3, value: value-3}}]}", None)
            .on(Target::Pod("c"))
            .expect(&[
                ("spec.containers[jnlp].env[key-1].value", "value-1"),
                ("spec.containers[jnlp].env[key-2].value", "value-2"),
                ("spec.containers[jnlp].env[key-3].value", "value-3"),
            ]),
        case("PodTemplateUtilsTest#shouldFilterOutNullOrEmptyPodKeyValueEnvVars")
            .tpl("{name: p, envVars: [{envVar: {key: '', value: value-1}}]}", None)
            .tpl("{name: c, inheritFrom: p, envVars: [{envVar: {value: value-2}}]}", None)
            .on(Target::Pod("c"))
            .expect(&[("spec.containers[jnlp].env[]", "~"), ("spec.containers[jnlp].env.#", "6")]),
        case("PodTemplateUtilsTest#shouldCombineAllPodSecretEnvVars")
            .tpl("{name: p, envVars: [{secretEnvVar: {key: key-1, secretName: secret-1, secretKey: secret-key-1, optional: false}}]}", None)
            .tpl(
                "{name: c, inheritFrom: p, envVars: [{secretEnvVar: {key: key-2, secretName: secret-2, secretKey: secret-key-2, optional: false}}, {secretEnvVar: {key: key-3, secretName: secret-3, secretKey: secret-key-3, optional: false}}]}",
                None,
            )
            .on(Target::Pod("c"))
            .expect(&[
                ("spec.containers[jnlp].env[key-1].valueFrom", "{secretKeyRef: {key: secret-key-1, name: secret-1, optional: false}}"),
                ("spec.containers[jnlp].env[key-3].valueFrom.secretKeyRef.name", "secret-3"),
            ]),
        // A template env var sits between the connection settings and the agent's own env.
        case("PodTemplateBuilderTest#agentEnvVars < defaultEnvVars < the agent container's env")
            .tpl("{name: t, envVars: [{envVar: {key: JENKINS_URL, value: http://template}}, {envVar: {key: A, value: template}}]}", Some("spec: {containers: [{name: jnlp, env: [{name: A, value: own}]}]}"))
            .expect(&[("spec.containers[jnlp].env[JENKINS_URL].value", "http://template"), ("spec.containers[jnlp].env[A].value", "own")]),
        case("PodTemplateBuilderTest#testBuildFromTemplate, pod fields (without container templates and volumes)")
            .tpl("{name: t, runAsUser: '1000', runAsGroup: '1000', supplementalGroups: '5001,5002', hostNetwork: false}", None)
            .expect(&[
                ("spec.securityContext", "{runAsUser: 1000, runAsGroup: 1000, supplementalGroups: [5001, 5002]}"),
                ("spec.hostNetwork", "false"),
            ]),
        // With a YAML under the fields, `combine(Pod, Pod)` keeps only runAsUser/runAsGroup of
        // the fields' context (kp#2849): the supplemental groups are lost.
        case("PodTemplateBuilderTest#testBuildFromTemplate, pod fields over a YAML")
            .tpl("{name: t, runAsUser: '1000', supplementalGroups: '5001,5002', schedulerName: custom}", Some("spec: {schedulerName: yaml, securityContext: {runAsUser: 1, fsGroup: 2}}"))
            .expect(&[("spec.securityContext", "{runAsUser: 1000, fsGroup: 2}"), ("spec.schedulerName", "custom")]),
        merge_case(
            "PodTemplateUtilsTest#shouldCombineAllLabels",
            "metadata: {labels: {label1: pod1, label2: pod1}}",
            "metadata: {labels: {label1: pod2, label3: pod2}}",
        )
        .expect(&[
            ("metadata.labels.label1", "pod2"),
            ("metadata.labels.label2", "pod1"),
            ("metadata.labels.label3", "pod2"),
        ]),
        case("PodTemplateUtilsTest#shouldUnwrapParent")
            .tpl(
                "{name: p, label: parent, serviceAccount: sa, agentContainer: agentContainer, showRawYaml: false}",
                Some("metadata: {labels: {from: parent}}"),
            )
            .tpl("{name: t, inheritFrom: p, serviceAccount: sa1}", Some("metadata: {labels: {from: child}}"))
            .on(Target::Unwrapped("t"))
            .expect(&[
                ("serviceAccount", "sa1"),
                ("yamls", "['metadata: {labels: {from: parent}}', 'metadata: {labels: {from: child}}']"),
                ("agentContainer", "agentContainer"),
                ("showRawYaml", "false"),
            ]),
        case("PodTemplateUtilsTest#shouldDropNoDataWhenIdentical")
            .tpl(
                "{name: Name, namespace: NameSpace, label: Label, serviceAccount: ServiceAccount, nodeUsageMode: EXCLUSIVE, inheritFrom: Inherit, instanceCap: 99, idleMinutes: 99, activeDeadlineSeconds: 99}",
                Some("metadata: {labels: {a: b}}"),
            )
            .on(Target::Combined("Name", "Name"))
            .expect(&[
                ("name", "Name"),
                ("namespace", "NameSpace"),
                ("label", "Label"),
                ("serviceAccount", "ServiceAccount"),
                ("nodeUsageMode", "EXCLUSIVE"),
                ("inheritFrom", "Inherit"),
                ("instanceCap", "99"),
                ("idleMinutes", "99"),
                ("activeDeadlineSeconds", "99"),
                ("yamls.#", "2"),
            ]),
        case("PodTemplateUtilsTest#shouldUnwrapMultipleParents (without container templates and pull secrets)")
            .tpl("{name: parent, label: parent, serviceAccount: sa}", None)
            .tpl("{name: template1, label: template1, inheritFrom: parent, serviceAccount: sa1}", None)
            .tpl("{name: template2, label: template2}", None)
            .tpl("{name: t, inheritFrom: template1 template2}", None)
            .on(Target::Unwrapped("t"))
            .expect(&[("serviceAccount", "sa1"), ("label", "~")]),
        merge_case(
            "PodTemplateUtilsTest#shouldCombineInitContainers",
            "spec: {initContainers: [{name: init-parent}]}",
            "spec: {initContainers: [{name: init-child}]}",
        )
        .expect(&[("spec.initContainers.#", "2"), ("spec.initContainers", "[{name: init-parent}, {name: init-child}]")]),
        merge_case(
            "PodTemplateUtilsTest#childShouldOverrideParentInitContainer",
            "spec: {initContainers: [{name: init, image: image-parent}]}",
            "spec: {initContainers: [{name: init, image: image-child}]}",
        )
        .expect(&[("spec.initContainers.#", "1"), ("spec.initContainers[init].image", "image-child")]),
        merge_case(
            "PodTemplateUtilsTest#childShouldOverrideParentActiveDeadlineSeconds",
            "spec: {activeDeadlineSeconds: 1}",
            "spec: {activeDeadlineSeconds: 2}",
        )
        .expect(&[("spec.activeDeadlineSeconds", "2")]),
        merge_case("PodTemplateUtilsTest#shouldCombineActiveDeadlineSeconds", "spec: {activeDeadlineSeconds: 1}", "spec: {}")
            .expect(&[("spec.activeDeadlineSeconds", "1")]),
        merge_case(
            "PodTemplateUtilsTest#shouldFilterOutNullOrEmptyEnvVars (YAML analogue: combineEnvVars(Container, Container))",
            "spec: {containers: [{name: tool, image: i, env: [{name: '', value: value-1}]}]}",
            "spec: {containers: [{name: tool, env: [{name: null, value: value-2}]}]}",
        )
        .expect(&[("spec.containers[tool].env", "~")]),
        merge_case(
            "PodTemplateUtilsTest#shouldCombineAllEnvFromSourcesWithoutChangingOrder",
            "spec: {containers: [{name: tool, image: i, envFrom: [{configMapRef: {name: config-map-1}}, {secretRef: {name: secret-1}}]}]}",
            "spec: {containers: [{name: tool, envFrom: [{configMapRef: {name: config-map-2, optional: true}}, {secretRef: {name: secret-2, optional: true}}]}]}",
        )
        .expect(&[
            (
                "spec.containers[tool].envFrom",
                "[{configMapRef: {name: config-map-1}}, {secretRef: {name: secret-1}}, {configMapRef: {name: config-map-2, optional: true}}, {secretRef: {name: secret-2, optional: true}}]",
            ),
            ("spec.containers[tool].securityContext", "~"),
        ]),
        merge_case(
            "PodTemplateUtilsTest#shouldFilterOutEnvFromSourcesWithNullOrEmptyKey",
            "spec: {containers: [{name: tool, image: i, envFrom: [{}, {configMapRef: {}}, {configMapRef: {name: ''}}, {secretRef: {}}, {secretRef: {name: ''}}]}]}",
            "spec: {containers: [{name: tool}]}",
        )
        .expect(&[("spec.containers[tool].envFrom", "~")]),
        merge_case(
            "PodTemplateUtilsTest#shouldTreatNullEnvFromSouresAsEmpty",
            "spec: {containers: [{name: tool, image: i, env: null}]}",
            "spec: {containers: [{name: tool, env: null}]}",
        )
        .expect(&[("spec.containers[tool].env", "~")]),
        merge_case(
            "PodTemplateUtilsTest#shouldCombineAllPodMounts",
            "spec: {containers: [{name: jnlp, volumeMounts: [{mountPath: /host/mnt1, name: volume-1, readOnly: false}, {mountPath: /host/mnt2, name: volume-2, readOnly: false}]}]}",
            "spec: {containers: [{name: jnlp, volumeMounts: [{mountPath: /host/mnt3, name: volume-3, readOnly: false}, {mountPath: /host/mnt1, name: volume-4, readOnly: false}]}]}",
        )
        .expect(&[
            ("spec.containers.#", "1"),
            // The three of the YAML (by mountPath, the child's /host/mnt1 wins) and the workspace.
            ("spec.containers[jnlp].volumeMounts.#", "4"),
            ("spec.containers[jnlp].volumeMounts[mountPath=/host/mnt1].name", "volume-4"),
            ("spec.containers[jnlp].volumeMounts[mountPath=/host/mnt2].name", "volume-2"),
            ("spec.containers[jnlp].volumeMounts[mountPath=/host/mnt3].name", "volume-3"),
        ]),
        merge_case(
            "PodTemplateUtilsTest#shouldCombineAllTolerations",
            "spec: {tolerations: [{effect: effect1, key: key1, operator: oper1, tolerationSeconds: 1, value: val1}, {effect: effect2, key: key2, operator: oper2, tolerationSeconds: 2, value: val2}]}",
            "spec: {tolerations: [{effect: effect3, key: key3, operator: oper3, tolerationSeconds: 3, value: val3}, {effect: effect4, key: key4, operator: oper4, tolerationSeconds: 4, value: val4}]}",
        )
        .expect(&[("spec.tolerations.#", "4"), ("spec.tolerations[key=key1].value", "val1"), ("spec.tolerations[key=key4].value", "val4")]),
        merge_case(
            "PodTemplateUtilsTest#shouldCombineAllResources",
            "spec: {containers: [{name: tool, image: i, resources: {limits: {cpu: '1', memory: 1Gi}, requests: {cpu: 100m, memory: 156Mi}}}]}",
            "spec: {containers: [{name: tool, resources: {limits: {cpu: '2', memory: 2Gi}, requests: {cpu: 200m, memory: 256Mi}}}]}",
        )
        .expect(&[("spec.containers[tool].resources", "{limits: {cpu: '2', memory: 2Gi}, requests: {cpu: 200m, memory: 256Mi}}")]),
        merge_case(
            "PodTemplateUtilsTest#shouldCombineContainersInOrder",
            "spec: {containers: [{name: mysql}, {name: jnlp}]}",
            "spec: {containers: [{name: alpine}, {name: node}, {name: mvn}]}",
        )
        .expect(&[("spec.containers", "~names: [mysql, jnlp, alpine, node, mvn]")]),
        case("PodTemplateUtilsTest#testParseYaml (JENKINS-57116)")
            .tpl("{name: t}", Some("{}"))
            .expect(&[("spec.containers.#", "1"), ("spec.containers[jnlp].resources.requests.cpu", "100m")]),
        case("PodTemplateUtilsTest#octalParsing (PodTemplateUtilsTest/octal.yaml)")
            .tpl(
                "{name: t}",
                Some(
                    "spec:\n  volumes:\n  - {name: volume1, configMap: {name: cm1, defaultMode: 0755}}\n  - {name: volume2, secret: {secretName: secret1, defaultMode: 0744}}\n  - name: volume3\n    projected:\n      defaultMode: 0644\n      sources:\n      - configMap: {name: cm2, items: [{key: username, path: my-group/my-username, mode: 0400}]}\n      - secret: {name: secret2, items: [{key: username, path: my-group/my-username, mode: 0600}]}\n",
                ),
            )
            .expect(&[
                ("spec.volumes[volume1].configMap.defaultMode", "493"),
                ("spec.volumes[volume2].secret.defaultMode", "484"),
                ("spec.volumes[volume3].projected.defaultMode", "420"),
                ("spec.volumes[volume3].projected.sources", "[{configMap: {name: cm2, items: [{key: username, path: my-group/my-username, mode: 256}]}}, {secret: {name: secret2, items: [{key: username, path: my-group/my-username, mode: 384}]}}]"),
            ]),
        case("PodTemplateUtilsTest#decimalParsing (PodTemplateUtilsTest/decimal.yaml)")
            .tpl("{name: t}", Some("spec: {volumes: [{name: volume1, configMap: {name: cm1, defaultMode: 493}}]}"))
            .expect(&[("spec.volumes[volume1].configMap.defaultMode", "493")]),
        merge_case(
            "PodTemplateUtilsTest#shouldIgnoreContainerEmptyArgs (JENKINS-72886)",
            "spec: {containers: [{name: tool, image: i, args: [arg1, arg2], command: [parent command]}]}",
            "spec: {containers: [{name: tool}]}",
        )
        .expect(&[("spec.containers[tool].args", "[arg1, arg2]"), ("spec.containers[tool].command", "[parent command]")]),
        case("PodTemplateUtilsTest#shouldSanitizeJenkinsLabel (the template's jenkins/label)")
            .tpl("{name: t, label: label1 label2}", None)
            .expect(&[
                ("metadata.labels.{jenkins/label}", "label1_label2"),
                // SHA-1 of "label1 label2".
                ("metadata.labels.{jenkins/label-digest}", "'d64702ffd8402e405f2f81909e39b5b7c52544b6'"),
            ]),
        merge_case(
            "PodTemplateUtilsTest#shouldCombineCapabilities (add from the parent, drop from the child)",
            "spec: {containers: [{name: tool, image: i, securityContext: {runAsUser: 1000, capabilities: {add: [TO_ADD]}}}]}",
            "spec: {containers: [{name: tool, securityContext: {capabilities: {drop: [TO_DROP]}}}]}",
        )
        .expect(&[("spec.containers[tool].securityContext", "{runAsUser: 1000, capabilities: {add: [TO_ADD], drop: [TO_DROP]}}")]),
        merge_case(
            "PodTemplateUtilsTest#shouldCombineCapabilities (child without a context keeps the parent's)",
            "spec: {containers: [{name: tool, image: i, securityContext: {capabilities: {drop: [TO_DROP]}}}]}",
            "spec: {containers: [{name: tool, image: j}]}",
        )
        .expect(&[("spec.containers[tool].securityContext", "{capabilities: {drop: [TO_DROP]}}")]),
        merge_case(
            "PodTemplateUtilsTest#shouldOverrideCapabilitiesWithTemplate",
            "spec: {containers: [{name: tool, image: i, securityContext: {capabilities: {add: [CONTAINER1_ADD], drop: [CONTAINER1_DROP]}}}]}",
            "spec: {containers: [{name: tool, securityContext: {capabilities: {add: [CONTAINER2_ADD], drop: [CONTAINER2_DROP]}}}]}",
        )
        .expect(&[("spec.containers[tool].securityContext.capabilities", "{add: [CONTAINER2_ADD], drop: [CONTAINER2_DROP]}")]),
        merge_case(
            "PodTemplateUtilsTest#shouldRetainNullsWhenCombiningCapabilities (neither has a context)",
            "spec: {containers: [{name: tool, image: i}]}",
            "spec: {containers: [{name: tool}]}",
        )
        .expect(&[("spec.containers[tool].securityContext", "~")]),
        merge_case(
            "PodTemplateUtilsTest#shouldRetainNullsWhenCombiningCapabilities (child privileged)",
            "spec: {containers: [{name: tool, image: i}]}",
            "spec: {containers: [{name: tool, securityContext: {privileged: true}}]}",
        )
        .expect(&[("spec.containers[tool].securityContext", "{privileged: true}")]),
        merge_case(
            "PodTemplateUtilsTest#shouldRetainNullsWhenCombiningCapabilities (a context with nothing the combine keeps)",
            "spec: {containers: [{name: tool, image: i}]}",
            "spec: {containers: [{name: tool, securityContext: {privileged: false, runAsNonRoot: true}}]}",
        )
        .expect(&[("spec.containers[tool].securityContext", "~")]),
        merge_case("PodTemplateUtilsTest#shouldOverrideShareProcessNamespaceIfSpecified (1)", "spec: {}", "spec: {shareProcessNamespace: false}")
            .expect(&[("spec.shareProcessNamespace", "false")]),
        merge_case("PodTemplateUtilsTest#shouldOverrideShareProcessNamespaceIfSpecified (2)", "spec: {}", "spec: {}")
            .expect(&[("spec.shareProcessNamespace", "~")]),
        merge_case(
            "PodTemplateUtilsTest#shouldOverrideShareProcessNamespaceIfSpecified (3)",
            "spec: {shareProcessNamespace: true}",
            "spec: {shareProcessNamespace: false}",
        )
        .expect(&[("spec.shareProcessNamespace", "false")]),
        merge_case("PodTemplateUtilsTest#shouldOverrideShareProcessNamespaceIfSpecified (4)", "spec: {shareProcessNamespace: true}", "spec: {}")
            .expect(&[("spec.shareProcessNamespace", "true")]),
    ]
}

/// A template as a YAML mapping, with the plugin's attribute names, for path checks.
fn template_value(t: &TemplateDef) -> Value {
    let mut m = Mapping::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    };
    let text = |o: &Option<String>| o.clone().map(Value::String);
    put("name", Some(t.name.clone().into()));
    put("label", (!t.labels.is_empty()).then(|| t.labels.join(" ").into()));
    put("inheritFrom", (!t.inherit_from.is_empty()).then(|| t.inherit_from.join(" ").into()));
    put("namespace", text(&t.namespace));
    put("serviceAccount", text(&t.service_account));
    put("nodeUsageMode", text(&t.node_usage_mode));
    put("yamlMergeStrategy", text(&t.yaml_merge_strategy));
    put("agentContainer", text(&t.agent_container));
    put("nodeSelector", text(&t.fields.node_selector));
    put("idleMinutes", Some(t.idle_minutes.into()));
    put("instanceCap", t.instance_cap.map(Value::from));
    put("activeDeadlineSeconds", Some(t.active_deadline_seconds.into()));
    put("showRawYaml", Some(t.show_raw_yaml.into()));
    put("yamls", Some(Value::Sequence(t.yamls.iter().map(|y| Value::String(y.trim_end().to_owned())).collect())));
    Value::Mapping(m)
}

/// Splits a path on dots outside `[…]` and `{…}`.
fn segments(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0;
    for ch in path.chars() {
        match ch {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            '.' if depth == 0 => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        out.last_mut().unwrap().push(ch);
    }
    out
}

/// The value at `path`, `None` when absent (`#` gives a list's length, 0 when absent).
fn at(root: &Value, path: &str) -> Option<Value> {
    let mut cur = Some(root.clone());
    for seg in segments(path) {
        if seg == "#" {
            return Some(Value::from(cur.and_then(|v| v.as_sequence().map(Vec::len)).unwrap_or(0) as u64));
        }
        let (key, select) = match seg.split_once('[') {
            Some((k, rest)) => (k.to_owned(), Some(rest.trim_end_matches(']').to_owned())),
            None => (seg.trim_start_matches('{').trim_end_matches('}').to_owned(), None),
        };
        cur = cur.and_then(|v| v.get(key.as_str()).cloned()).filter(|v| !v.is_null());
        if let Some(sel) = select {
            let (field, want) = sel.split_once('=').unwrap_or(("name", sel.as_str()));
            cur = cur.and_then(|v| {
                v.as_sequence()?.iter().find(|e| e.get(field).and_then(Value::as_str) == Some(want)).cloned()
            });
        }
    }
    cur
}

fn check(case: &Case) -> Vec<String> {
    let mut failures = Vec::new();
    let subject: Value = match &case.target {
        Target::Pod(name) => {
            let (first, f) = render_cloud(&CloudSpec { templates: case.templates.clone(), ..case.cloud.clone() });
            let Some(first) = first else { return vec![format!("cloud does not render: {f:#?}")] };
            // The very file we emit, read back: its pods must be the same.
            let reread = parse_cloud(&first.casc_yaml).unwrap_or_else(|e| panic!("{}: {e}", case.source));
            let (again, _) = render_cloud(&reread);
            let again = again.expect("the emitted file renders again");
            assert_eq!(again.effective_pods, first.effective_pods, "{}: pods differ after a round trip", case.source);
            serde_yaml_ng::from_str(&first.effective_pods[*name]).unwrap()
        }
        Target::Unwrapped(name) => {
            let all: Vec<TemplateDef> = case.templates.iter().map(|t| parse_definition(t).unwrap()).collect();
            let t = all.iter().find(|t| t.name == *name).expect("target template");
            template_value(&unwrap_template(t, &all, case.cloud.defaults_provider_template.as_deref()))
        }
        Target::Combined(p, c) => {
            let all: Vec<TemplateDef> = case.templates.iter().map(|t| parse_definition(t).unwrap()).collect();
            let find = |n: &str| all.iter().find(|t| t.name == n).expect("combined template");
            template_value(&combine_templates(find(p), find(c)))
        }
    };
    for (path, want) in &case.expect {
        let got = at(&subject, path);
        let ok = match *want {
            "~" => got.is_none(),
            w if w.starts_with("~names: ") => {
                let want: Value = serde_yaml_ng::from_str(&w["~names: ".len()..]).unwrap();
                let names: Vec<Value> = got
                    .as_ref()
                    .and_then(Value::as_sequence)
                    .map(|s| s.iter().filter_map(|c| c.get("name").cloned()).collect())
                    .unwrap_or_default();
                Value::Sequence(names) == want
            }
            w => got.as_ref() == Some(&serde_yaml_ng::from_str::<Value>(w).unwrap()),
        };
        if !ok {
            failures.push(format!(
                "{path}: want {want}, got {}",
                got.map(|g| serde_yaml_ng::to_string(&g).unwrap().trim_end().to_owned()).unwrap_or("(absent)".into())
            ));
        }
    }
    failures
}

#[test]
fn the_plugins_own_tests_hold_for_effective_pods() {
    let cases = cases();
    let mut report = Vec::new();
    for c in &cases {
        let failures = check(c);
        if !failures.is_empty() {
            report.push(format!("{}\n  {}", c.source, failures.join("\n  ")));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} behaviours differ from the plugin:\n{}",
        report.len(),
        cases.len(),
        report.join("\n")
    );
}
