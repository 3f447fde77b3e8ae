//! One test per rule of reference §2 (inheritance, YAML strategies, build order), each a small
//! case whose expected pod fragment is written out by hand from the rule quoted above it.
//!
//! Templates come from `render_pod_template` (the Terraform side) or from hand-written definition
//! YAML through `parse_definition` (plugin JCasC keys); pods are computed through the public path:
//! `render_cloud` → `effective_pods[name]`, or `unwrap_template` + `effective_pod`.

use super::cloud::{AgentConnection, CloudSpec, render_cloud};
use super::*;
use serde_yaml_ng::Value;

// ---- helpers ---------------------------------------------------------------------------------

/// A template with the plugin's defaults; shared with `conformance_tests`.
pub(super) fn tpl(name: &str) -> PodTemplateSpec {
    PodTemplateSpec {
        name: name.into(),
        node_usage_mode: "NORMAL".into(),
        pod_retention: "default".into(),
        show_raw_yaml: true,
        agent_container: "jnlp".into(),
        ..Default::default()
    }
}

fn with_yaml(name: &str, yaml: &str) -> PodTemplateSpec {
    PodTemplateSpec { pod_yaml: Some(yaml.into()), ..tpl(name) }
}

/// `child` inheriting from `parents`, with the `merge` strategy.
fn merging(child: PodTemplateSpec, parents: &[&str]) -> PodTemplateSpec {
    PodTemplateSpec {
        inherit_from: parents.iter().map(|p| p.to_string()).collect(),
        yaml_merge_strategy: "merge".into(),
        ..child
    }
}

fn def(spec: &PodTemplateSpec) -> String {
    let (r, f) = render_pod_template(spec);
    r.unwrap_or_else(|| panic!("{f:#?}")).definition
}

fn cloud(templates: Vec<String>) -> CloudSpec {
    CloudSpec {
        namespace: Some("cloud-ns".into()),
        jenkins_url: Some("http://jenkins:8080".into()),
        templates,
        ..CloudSpec::new("rules")
    }
}

fn pod_in(c: &CloudSpec, name: &str) -> Value {
    let (r, f) = render_cloud(c);
    let r = r.unwrap_or_else(|| panic!("{f:#?}"));
    serde_yaml_ng::from_str(&r.effective_pods[name]).unwrap()
}

/// The effective pod of `name` in a cloud holding `specs`.
fn pod_of(specs: &[PodTemplateSpec], name: &str) -> Value {
    pod_in(&cloud(specs.iter().map(def).collect()), name)
}

/// The effective pod of a child `c` (merge) over a parent `p`, both given as pod YAML.
fn merged(parent_yaml: &str, child_yaml: &str) -> Value {
    pod_of(&[with_yaml("p", parent_yaml), merging(with_yaml("c", child_yaml), &["p"])], "c")
}

fn parse_all(texts: &[&str]) -> Vec<TemplateDef> {
    texts.iter().map(|t| parse_definition(t).unwrap()).collect()
}

fn unwrap_named(all: &[TemplateDef], name: &str, dp: Option<&str>) -> TemplateDef {
    unwrap_template(all.iter().find(|d| d.name == name).unwrap(), all, dp)
}

/// The effective pod of `name` among hand-written definitions, with an empty cloud context.
fn direct(texts: &[&str], name: &str, dp: Option<&str>) -> Value {
    let all = parse_all(texts);
    serde_yaml_ng::from_str(&effective_pod(&unwrap_named(&all, name, dp), &PodContext::default()).unwrap()).unwrap()
}

fn y(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap()
}

fn names(pod: &Value, list: &str) -> Vec<String> {
    pod["spec"][list]
        .as_sequence()
        .map(|s| s.iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

fn container<'a>(pod: &'a Value, name: &str) -> &'a Value {
    pod["spec"]["containers"]
        .as_sequence()
        .and_then(|s| s.iter().find(|c| c["name"].as_str() == Some(name)))
        .unwrap_or_else(|| panic!("no container {name} in {pod:?}"))
}

fn env_of(c: &Value) -> Vec<(String, String)> {
    c["env"]
        .as_sequence()
        .map(|s| {
            s.iter()
                .map(|e| (e["name"].as_str().unwrap().to_owned(), e["value"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

// ---- resolution ------------------------------------------------------------------------------

#[test]
fn resolution_defaults_provider_first_then_inherit_from_in_order() {
    // "Chain = [defaultsProviderTemplate?] + inheritFrom … yamls concatenate parent first:
    // defaults provider, parents in order, child."
    let all = parse_all(&[
        "{name: dflt, yaml: 'metadata: {labels: {from: dflt}}'}",
        "{name: a, yaml: 'metadata: {labels: {from: a}}'}",
        "{name: b, yaml: 'metadata: {labels: {from: b}}'}",
        "{name: c, inheritFrom: 'a b', yaml: 'metadata: {labels: {from: c}}'}",
    ]);
    let c = unwrap_named(&all, "c", Some("dflt"));
    assert_eq!(
        c.yamls,
        [
            "metadata: {labels: {from: dflt}}",
            "metadata: {labels: {from: a}}",
            "metadata: {labels: {from: b}}",
            "metadata: {labels: {from: c}}"
        ]
    );
}

#[test]
fn resolution_later_parent_wins() {
    // "Fold parent = combine(parent, unwrap(next)), then combine(parent, child); later wins."
    let all = parse_all(&[
        "{name: dflt, serviceAccount: sa-dflt, idleMinutes: 1, namespace: ns-dflt}",
        "{name: a, serviceAccount: sa-a, idleMinutes: 2}",
        "{name: b, serviceAccount: sa-b}",
        "{name: c, inheritFrom: 'a b'}",
    ]);
    let c = unwrap_named(&all, "c", Some("dflt"));
    // b beats a beats dflt; a field only dflt sets survives.
    assert_eq!(
        (c.service_account.as_deref(), c.idle_minutes, c.namespace.as_deref()),
        (Some("sa-b"), 2, Some("ns-dflt"))
    );
}

#[test]
fn resolution_missing_parent_is_silently_ignored_by_unwrap() {
    // "Each name resolves to the first template with that name in the same cloud; missing names
    // are silently ignored."
    let all = parse_all(&["{name: a, serviceAccount: sa-a}", "{name: c, inheritFrom: 'ghost a'}"]);
    let c = unwrap_named(&all, "c", Some("also-missing"));
    assert_eq!((c.name.as_str(), c.service_account.as_deref()), ("c", Some("sa-a")));
}

#[test]
fn resolution_missing_parent_is_a_cloud_error() {
    // Our validation reports what the plugin would silently ignore.
    let mut child = tpl("c");
    child.inherit_from = vec!["ghost".into()];
    let (r, f) = render_cloud(&cloud(vec![def(&child)]));
    assert!(r.is_none());
    assert!(f.iter().any(|x| x.summary == "Unknown Parent Template"), "{f:?}");
}

#[test]
fn resolution_names_resolve_within_the_cloud_first_match() {
    // "Each name resolves to the first template with that name in the same cloud": only the
    // templates handed to unwrap exist, and the first of two equal names wins.
    let all = parse_all(&[
        "{name: a, serviceAccount: first}",
        "{name: a, serviceAccount: second}",
        "{name: c, inheritFrom: a}",
    ]);
    assert_eq!(unwrap_named(&all, "c", None).service_account.as_deref(), Some("first"));
    // A parent defined in another cloud is not seen: this cloud rejects it.
    let other = cloud(vec![def(&tpl("a"))]);
    assert!(render_cloud(&other).0.is_some());
    let mut child = tpl("c");
    child.inherit_from = vec!["a".into()];
    assert!(render_cloud(&cloud(vec![def(&child)])).0.is_none());
}

#[test]
fn resolution_defaults_provider_chain_includes_itself() {
    // Chain = [defaultsProviderTemplate] + inheritFrom for every template, the defaults provider
    // included (the plugin does not skip it): its yaml is combined with itself, so under merge its
    // tolerations appear twice.
    let all = parse_all(&["{name: dflt, yamlMergeStrategy: merge, yaml: 'spec: {tolerations: [{key: k}]}'}"]);
    assert_eq!(unwrap_named(&all, "dflt", Some("dflt")).yamls.len(), 2);
    let pod = direct(
        &["{name: dflt, yamlMergeStrategy: merge, yaml: 'spec: {tolerations: [{key: k}]}'}"],
        "dflt",
        Some("dflt"),
    );
    assert_eq!(pod["spec"]["tolerations"], y("[{key: k}, {key: k}]"));
}

#[test]
fn resolution_parents_are_unwrapped_without_the_defaults_provider() {
    // "parent = combine(parent, unwrap(next))": a parent is unwrapped with its own inheritFrom
    // only, so the defaults provider enters a child's chain once, first.
    let all = parse_all(&[
        "{name: dflt, yaml: 'spec: {tolerations: [{key: d}]}'}",
        "{name: gp, yaml: 'spec: {tolerations: [{key: g}]}'}",
        "{name: p, inheritFrom: gp, yaml: 'spec: {tolerations: [{key: p}]}'}",
        "{name: c, inheritFrom: p, yamlMergeStrategy: merge}",
    ]);
    let c = unwrap_named(&all, "c", Some("dflt"));
    assert_eq!(
        c.yamls,
        ["spec: {tolerations: [{key: d}]}", "spec: {tolerations: [{key: g}]}", "spec: {tolerations: [{key: p}]}"]
    );
    let pod: Value = y(&effective_pod(&c, &PodContext::default()).unwrap());
    assert_eq!(pod["spec"]["tolerations"], y("[{key: d}, {key: g}, {key: p}]"));
}

// ---- combine(PodTemplate) --------------------------------------------------------------------

#[test]
fn combine_child_only_fields() {
    // "Child only: name, label, podRetention, nodeUsageMode."
    let all = parse_all(&[
        "{name: p, label: 'pl', podRetention: always, nodeUsageMode: NORMAL}",
        "{name: c, inheritFrom: p}",
    ]);
    let c = unwrap_named(&all, "c", None);
    assert_eq!(c.name, "c");
    assert!(c.labels.is_empty());
    assert_eq!((c.pod_retention.as_deref(), c.node_usage_mode.as_deref()), (None, None));
    // So the pod carries the unlabelled template's `jenkins/label`, not the parent's
    // (`PodTemplate.recomputeLabelDerivedFields` with a null label).
    let pod = direct(&["{name: p, label: 'pl'}", "{name: c, inheritFrom: p}"], "c", None);
    assert_eq!(pod["metadata"]["labels"]["jenkins/label"], y("slave-default"));
    assert_eq!(pod["metadata"]["labels"]["jenkins/label-digest"], y("'0'"));
}

#[test]
fn combine_child_unless_empty_fields() {
    // "Child unless empty: namespace, nodeSelector, serviceAccount, schedulerName, agentContainer."
    let parent = "{name: p, namespace: ns-p, serviceAccount: sa-p, agentContainer: agent-p}";
    let pod = direct(&[parent, "{name: c, inheritFrom: p, namespace: '', serviceAccount: ''}"], "c", None);
    assert_eq!(pod["metadata"]["namespace"], y("ns-p"));
    assert_eq!(pod["spec"]["serviceAccountName"], y("sa-p"));
    assert_eq!(names(&pod, "containers"), ["agent-p"]);
    let pod = direct(
        &[parent, "{name: c, inheritFrom: p, namespace: ns-c, serviceAccount: sa-c, agentContainer: agent-c}"],
        "c",
        None,
    );
    assert_eq!(pod["metadata"]["namespace"], y("ns-c"));
    assert_eq!(pod["spec"]["serviceAccountName"], y("sa-c"));
    assert_eq!(names(&pod, "containers"), ["agent-c"]);
}

#[test]
fn combine_child_unless_default_cannot_reset_to_zero() {
    // "Child unless default: instanceCap (MAX), idleMinutes and activeDeadlineSeconds (0, so a
    // child cannot reset them to 0)."
    let mut p = tpl("p");
    p.instance_cap = Some(3);
    p.idle_minutes = 10;
    p.active_deadline_seconds = 600;
    let mut c = tpl("c");
    c.inherit_from = vec!["p".into()];
    let all = parse_all(&[&def(&p), &def(&c)]);
    let u = unwrap_named(&all, "c", None);
    assert_eq!((u.instance_cap, u.idle_minutes, u.active_deadline_seconds), (Some(3), 10, 600));
    assert_eq!(pod_of(&[p.clone(), c.clone()], "c")["spec"]["activeDeadlineSeconds"], y("600"));
    // A non-default child value wins.
    c.instance_cap = Some(1);
    c.idle_minutes = 5;
    c.active_deadline_seconds = 60;
    let all = parse_all(&[&def(&p), &def(&c)]);
    let u = unwrap_named(&all, "c", None);
    assert_eq!((u.instance_cap, u.idle_minutes, u.active_deadline_seconds), (Some(1), 5, 60));
}

#[test]
fn combine_show_raw_yaml() {
    // "showRawYaml: a child `true` takes the parent's."
    let all = parse_all(&[
        "{name: p, showRawYaml: false}",
        "{name: c, inheritFrom: p}",
        "{name: d, inheritFrom: p, showRawYaml: false}",
    ]);
    assert!(!unwrap_named(&all, "c", None).show_raw_yaml);
    let all = parse_all(&["{name: p}", "{name: d, inheritFrom: p, showRawYaml: false}"]);
    assert!(!unwrap_named(&all, "d", None).show_raw_yaml);
}

#[test]
fn combine_plugin_lists_are_out_of_the_model_and_reported() {
    // Containers by name, volumes by mountPath and combine(ContainerTemplate) act on plugin
    // attributes our model does not read: they are listed as unmodelled and the cloud warns,
    // rather than being silently mis-merged. (envVars and nodeSelector are modelled: `fields`.)
    let text = "{name: c, envVars: [{envVar: {key: A, value: '1'}}], containers: [{name: x, image: i}], volumes: [], nodeSelector: 'a=b'}";
    let d = parse_definition(text).unwrap();
    assert_eq!(d.unmodelled, ["containers", "volumes"]);
    let (r, f) = render_cloud(&cloud(vec![text.into()]));
    assert!(r.is_some());
    assert!(f.iter().any(|x| x.summary == "Attributes Not Reflected"), "{f:?}");
}

#[test]
fn combine_yaml_merge_strategy_childs_else_inherited() {
    // "yamlMergeStrategy: the child's; if null and the parent has inheritYamlMergeStrategy, the
    // parent's. The result keeps the parent's flag."
    let all = parse_all(&[
        "{name: p, yamlMergeStrategy: merge, inheritYamlMergeStrategy: true}",
        "{name: q, yamlMergeStrategy: merge}",
        "{name: c1, inheritFrom: p}",
        "{name: c2, inheritFrom: p, yamlMergeStrategy: override}",
        "{name: c3, inheritFrom: q}",
        "{name: c4, inheritFrom: q, inheritYamlMergeStrategy: true}",
    ]);
    let s = |n: &str| {
        let u = unwrap_named(&all, n, None);
        (u.yaml_merge_strategy, u.inherit_yaml_merge_strategy)
    };
    assert_eq!(s("c1"), (Some("merge".into()), true));
    assert_eq!(s("c2"), (Some("override".into()), true));
    assert_eq!(s("c3"), (None, false));
    assert_eq!(s("c4"), (None, false));
}

#[test]
fn combine_inherited_merge_strategy_applies_to_the_pod() {
    // Same rule, seen in the pod: a child without a strategy merges when its parent says
    // `inheritYamlMergeStrategy`, and overrides otherwise (null = Override).
    let mut p = with_yaml("p", "spec: {containers: [{name: a, image: a}]}");
    p.yaml_merge_strategy = "merge".into();
    let c = PodTemplateSpec {
        inherit_from: vec!["p".into()],
        ..with_yaml("c", "spec: {containers: [{name: b, image: b}]}")
    };
    assert_eq!(names(&pod_of(&[p.clone(), c.clone()], "c"), "containers"), ["b", "jnlp"]);
    p.inherit_yaml_merge_strategy = true;
    assert_eq!(names(&pod_of(&[p, c], "c"), "containers"), ["a", "b", "jnlp"]);
}

// ---- override --------------------------------------------------------------------------------

#[test]
fn override_uses_only_the_childs_yaml() {
    // "Override parses only the last yaml of the list: the child's if present."
    let p = with_yaml("p", "spec: {containers: [{name: a, image: a}], tolerations: [{key: p}]}");
    let c = PodTemplateSpec {
        inherit_from: vec!["p".into()],
        yaml_merge_strategy: "override".into(),
        ..with_yaml("c", "spec: {containers: [{name: b, image: b}]}")
    };
    let pod = pod_of(&[p, c], "c");
    assert_eq!(names(&pod, "containers"), ["b", "jnlp"]);
    assert!(pod["spec"].get("tolerations").is_none());
}

#[test]
fn override_without_child_yaml_uses_the_last_parents() {
    // "…else the last parent's."
    let a = with_yaml("a", "spec: {containers: [{name: a, image: a}]}");
    let b = with_yaml("b", "spec: {containers: [{name: b, image: b}]}");
    let c = PodTemplateSpec { inherit_from: vec!["a".into(), "b".into()], ..tpl("c") };
    assert_eq!(names(&pod_of(&[a, b, c], "c"), "containers"), ["b", "jnlp"]);
}

// ---- merge -----------------------------------------------------------------------------------

#[test]
fn merge_labels_and_annotations_map_merged_child_wins() {
    // "Labels and annotations are map-merged (child wins)."
    let pod = merged(
        "metadata: {labels: {a: p, b: p}, annotations: {x: p, y: p}}",
        "metadata: {labels: {b: c}, annotations: {y: c, z: c}}",
    );
    assert_eq!(pod["metadata"]["labels"]["a"], y("p"));
    assert_eq!(pod["metadata"]["labels"]["b"], y("c"));
    // The builder's own fields add the garbage collector's refresh stamp.
    assert_eq!(pod["metadata"]["annotations"], y("{x: p, y: c, z: c, kubernetes.jenkins.io/last-refresh: (runtime)}"));
}

#[test]
fn merge_containers_by_name_parent_order_first() {
    // "containers and initContainers merge by name: the parent's order first, then new ones."
    let pod = merged(
        "spec: {initContainers: [{name: i1, image: i}], containers: [{name: a, image: a}, {name: b, image: b}]}",
        "spec: {initContainers: [{name: i2, image: i}], containers: [{name: c, image: c}, {name: a, image: a2}]}",
    );
    assert_eq!(names(&pod, "containers"), ["a", "b", "c", "jnlp"]);
    assert_eq!(names(&pod, "initContainers"), ["i1", "i2"]);
    assert_eq!(container(&pod, "a")["image"], y("a2"));
}

#[test]
fn merge_container_scalars_child_unless_empty() {
    // "image, imagePullPolicy, command, args, workingDir: child unless empty."
    let pod = merged(
        "spec: {containers: [{name: a, image: a:1, imagePullPolicy: Always, command: [cat], args: [x], workingDir: /p}]}",
        "spec: {containers: [{name: a, image: '', command: [], workingDir: /c}]}",
    );
    let a = container(&pod, "a");
    assert_eq!(
        (&a["image"], &a["imagePullPolicy"], &a["command"], &a["args"], &a["workingDir"]),
        (&y("a:1"), &y("Always"), &y("[cat]"), &y("[x]"), &y("/c"))
    );
}

#[test]
fn merge_container_tty_child_unless_null() {
    // "tty: child unless null."
    let parent = "spec: {containers: [{name: a, image: a, tty: true}]}";
    assert_eq!(container(&merged(parent, "spec: {containers: [{name: a}]}"), "a")["tty"], y("true"));
    assert_eq!(container(&merged(parent, "spec: {containers: [{name: a, tty: false}]}"), "a")["tty"], y("false"));
}

#[test]
fn merge_container_resources_per_key() {
    // "resources merge per key."
    let pod = merged(
        "spec: {containers: [{name: a, image: a, resources: {requests: {cpu: '1', memory: 1Gi}, limits: {memory: 2Gi}}}]}",
        "spec: {containers: [{name: a, resources: {requests: {memory: 3Gi}, limits: {cpu: '2'}}}]}",
    );
    assert_eq!(
        container(&pod, "a")["resources"],
        y("{requests: {cpu: '1', memory: 3Gi}, limits: {memory: 2Gi, cpu: '2'}}")
    );
}

#[test]
fn merge_container_env_by_name_and_env_from_concatenated() {
    // "env by name; envFrom concatenated."
    let pod = merged(
        "spec: {containers: [{name: a, image: a, env: [{name: A, value: p}, {name: B, value: p}], envFrom: [{configMapRef: {name: p}}]}]}",
        "spec: {containers: [{name: a, env: [{name: B, value: c}, {name: C, value: c}], envFrom: [{configMapRef: {name: p}}]}]}",
    );
    let a = container(&pod, "a");
    assert_eq!(env_of(a), pairs(&[("A", "p"), ("B", "c"), ("C", "c")]));
    assert_eq!(a["envFrom"], y("[{configMapRef: {name: p}}, {configMapRef: {name: p}}]"));
}

#[test]
fn merge_container_volume_mounts_by_mount_path() {
    // "volumeMounts by mountPath."
    let pod = merged(
        "spec: {containers: [{name: a, image: a, workingDir: /w, volumeMounts: [{name: v1, mountPath: /x}, {name: v2, mountPath: /y}]}]}",
        "spec: {containers: [{name: a, volumeMounts: [{name: v3, mountPath: /x}]}]}",
    );
    let mounts: Vec<(String, String)> = container(&pod, "a")["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap().into(), m["mountPath"].as_str().unwrap().into()))
        .collect();
    assert_eq!(mounts, pairs(&[("v3", "/x"), ("v2", "/y"), ("workspace-volume", "/w")]));
}

#[test]
fn merge_container_security_context_only_listed_fields() {
    // "securityContext: only privileged, runAsUser, runAsGroup, capabilities.add/.drop (child
    // list replaces)."
    let pod = merged(
        "spec: {containers: [{name: a, image: a, securityContext: {runAsUser: 1, readOnlyRootFilesystem: true, capabilities: {add: [NET_ADMIN], drop: [ALL]}}}]}",
        "spec: {containers: [{name: a, securityContext: {runAsUser: 2, runAsGroup: 3, privileged: true, runAsNonRoot: true, capabilities: {add: [SYS_TIME]}}}]}",
    );
    assert_eq!(
        container(&pod, "a")["securityContext"],
        y(
            "{runAsUser: 2, runAsGroup: 3, privileged: true, readOnlyRootFilesystem: true, capabilities: {add: [SYS_TIME], drop: [ALL]}}"
        )
    );
    // A child context with none of the listed fields adds no context of its own.
    let pod = merged(
        "spec: {containers: [{name: a, image: a}]}",
        "spec: {containers: [{name: a, securityContext: {runAsNonRoot: true}}]}",
    );
    assert!(container(&pod, "a").get("securityContext").is_none());
}

#[test]
fn merge_container_ports_and_probes_are_the_parents() {
    // "everything else (ports, probes, lifecycle, other securityContext fields) is the parent's only."
    let pod = merged(
        "spec: {containers: [{name: a, image: a, ports: [{containerPort: 80}]}]}",
        "spec: {containers: [{name: a, ports: [{containerPort: 90}], readinessProbe: {exec: {command: [x]}}, lifecycle: {preStop: {exec: {command: [y]}}}}]}",
    );
    let a = container(&pod, "a");
    assert_eq!(a["ports"], y("[{containerPort: 80}]"));
    assert!(a.get("readinessProbe").is_none() && a.get("lifecycle").is_none());
}

#[test]
fn merge_node_selector_map_merged() {
    // "Spec: nodeSelector map-merged."
    let pod = merged("spec: {nodeSelector: {a: p, b: p}}", "spec: {nodeSelector: {b: c}}");
    assert_eq!(pod["spec"]["nodeSelector"], y("{a: p, b: c}"));
}

#[test]
fn merge_service_account_name_child_unless_empty() {
    // "serviceAccount[Name], schedulerName: child unless empty."
    let pod = merged(
        "spec: {serviceAccountName: sa-p, schedulerName: s-p}",
        "spec: {serviceAccountName: '', schedulerName: s-c}",
    );
    assert_eq!((&pod["spec"]["serviceAccountName"], &pod["spec"]["schedulerName"]), (&y("sa-p"), &y("s-c")));
    let pod = merged("spec: {serviceAccountName: sa-p}", "spec: {serviceAccountName: sa-c}");
    assert_eq!(pod["spec"]["serviceAccountName"], y("sa-c"));
}

#[test]
fn merge_child_unless_null_spec_scalars() {
    // "activeDeadlineSeconds, hostNetwork, shareProcessNamespace: child unless null."
    let pod = merged(
        "spec: {activeDeadlineSeconds: 10, hostNetwork: true, shareProcessNamespace: true}",
        "spec: {hostNetwork: false}",
    );
    assert_eq!(
        (&pod["spec"]["activeDeadlineSeconds"], &pod["spec"]["hostNetwork"], &pod["spec"]["shareProcessNamespace"]),
        (&y("10"), &y("false"), &y("true"))
    );
}

#[test]
fn merge_volumes_by_name_child_wins() {
    // "volumes by name (child wins)."
    let pod = merged(
        "spec: {volumes: [{name: v, emptyDir: {}}, {name: w, emptyDir: {}}]}",
        "spec: {volumes: [{name: v, hostPath: {path: /h}}]}",
    );
    assert_eq!(
        pod["spec"]["volumes"],
        y(
            "[{name: v, hostPath: {path: /h}}, {name: w, emptyDir: {}}, {name: workspace-volume, emptyDir: {medium: ''}}]"
        )
    );
}

#[test]
fn merge_tolerations_concatenated_without_dedupe() {
    // "tolerations concatenated without dedupe."
    let pod = merged(
        "spec: {tolerations: [{key: k, operator: Exists}]}",
        "spec: {tolerations: [{key: k, operator: Exists}, {key: l}]}",
    );
    assert_eq!(pod["spec"]["tolerations"], y("[{key: k, operator: Exists}, {key: k, operator: Exists}, {key: l}]"));
}

#[test]
fn merge_image_pull_secrets_union() {
    // "imagePullSecrets union."
    let pod =
        merged("spec: {imagePullSecrets: [{name: a}, {name: b}]}", "spec: {imagePullSecrets: [{name: b}, {name: c}]}");
    assert_eq!(pod["spec"]["imagePullSecrets"], y("[{name: a}, {name: b}, {name: c}]"));
}

#[test]
fn merge_pod_security_context_only_run_as_user_and_group() {
    // "Pod securityContext: only runAsUser/runAsGroup; the child's fsGroup, supplementalGroups,
    // seccompProfile are dropped."
    let pod = merged(
        "spec: {securityContext: {runAsUser: 1, fsGroup: 1}}",
        "spec: {securityContext: {runAsUser: 2, runAsGroup: 2, fsGroup: 2, supplementalGroups: [5], seccompProfile: {type: RuntimeDefault}}}",
    );
    assert_eq!(pod["spec"]["securityContext"], y("{runAsUser: 2, runAsGroup: 2, fsGroup: 1}"));
}

#[test]
fn merge_drops_other_child_spec_fields_when_a_parent_yaml_exists() {
    // "Every other child spec field is dropped when a parent yaml exists: affinity,
    // priorityClassName, …" (and the parent's own are kept).
    let pod = merged(
        "spec: {priorityClassName: parent-prio}",
        "spec: {affinity: {podAffinity: {}}, priorityClassName: child-prio, terminationGracePeriodSeconds: 5, dnsPolicy: None}",
    );
    let spec = &pod["spec"];
    assert_eq!(spec["priorityClassName"], y("parent-prio"));
    assert!(
        spec.get("affinity").is_none()
            && spec.get("terminationGracePeriodSeconds").is_none()
            && spec.get("dnsPolicy").is_none()
    );
}

#[test]
fn merge_keeps_spec_fields_of_a_lone_yaml() {
    // "…when a parent yaml exists": `combine(List<Pod>)` starts from the first pod, so without a
    // parent yaml the child's affinity and priorityClassName are kept.
    let root = merging(with_yaml("r", "spec: {affinity: {podAffinity: {}}, priorityClassName: prio}"), &[]);
    let pod = pod_of(std::slice::from_ref(&root), "r");
    assert_eq!((&pod["spec"]["affinity"], &pod["spec"]["priorityClassName"]), (&y("{podAffinity: {}}"), &y("prio")));
    // Also when the parent has no yaml at all.
    let child = merging(with_yaml("c", "spec: {priorityClassName: prio}"), &["p"]);
    assert_eq!(pod_of(&[tpl("p"), child], "c")["spec"]["priorityClassName"], y("prio"));
}

// ---- build order -----------------------------------------------------------------------------

#[test]
fn build_fields_beat_yaml() {
    // "pod = combine(yamlPod as parent, fieldsPod as child), so fields beat yaml."
    let mut t = with_yaml("t", "spec: {serviceAccountName: from-yaml, activeDeadlineSeconds: 5}");
    t.service_account = Some("from-field".into());
    t.active_deadline_seconds = 50;
    let pod = pod_of(&[t], "t");
    assert_eq!(
        (&pod["spec"]["serviceAccountName"], &pod["spec"]["activeDeadlineSeconds"]),
        (&y("from-field"), &y("50"))
    );
}

#[test]
fn build_tool_container_overrides_a_parents_yaml_container() {
    // "A containerTemplate always sets tty … and workingDir, overriding a same-named yaml
    // container": our tool_container is rendered into the child's yaml, so under merge its tty
    // and workingDir replace the parent's same-named container's (the plugin `containers`
    // attribute itself is out of the model).
    let p = with_yaml(
        "p",
        "spec: {containers: [{name: tool, image: old, tty: false, workingDir: /old, ports: [{containerPort: 1}]}]}",
    );
    let mut c = merging(tpl("c"), &["p"]);
    c.tool_containers = vec![ToolContainer {
        name: "tool".into(),
        image: "new".into(),
        command: vec!["cat".into()],
        tty: true,
        working_dir: Some("/new".into()),
        ..Default::default()
    }];
    let pod = pod_of(&[p, c], "c");
    let tool = container(&pod, "tool");
    assert_eq!(
        (&tool["image"], &tool["tty"], &tool["workingDir"], &tool["ports"]),
        (&y("new"), &y("true"), &y("/new"), &y("[{containerPort: 1}]"))
    );
}

#[test]
fn build_template_volumes_reach_the_created_agent_container() {
    // "Template volumes are mounted only into containerTemplate containers and an auto-created
    // agent container": our volume blocks are rendered into the yaml with explicit targets
    // (plugin `volumes` are out of the model); one aimed at the agent creates its stub, which
    // the build then completes with the agent defaults.
    let mut t = with_yaml("t", "spec: {containers: [{name: tool, image: i}]}");
    t.volumes = vec![VolumeSpec {
        name: "cache".into(),
        source: VolumeSource::EmptyDir,
        mount_path: "/cache".into(),
        read_only: false,
        sub_path: None,
        containers: Some(vec!["jnlp".into()]),
    }];
    let pod = pod_of(&[t], "t");
    let mounts = |c: &str| -> Vec<String> {
        container(&pod, c)["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|m| m["mountPath"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(mounts("jnlp"), ["/cache", "/home/jenkins/agent"]);
    assert_eq!(mounts("tool"), ["/home/jenkins/agent"]);
    assert_eq!(container(&pod, "jnlp")["resources"], y("{requests: {cpu: 100m, memory: 256Mi}}"));
}

#[test]
fn build_namespace_yaml_then_template_then_cloud() {
    // "Namespace: yaml, then template, then cloud."
    let mut t = with_yaml("t", "metadata: {namespace: from-yaml}");
    t.namespace = Some("from-template".into());
    assert_eq!(pod_of(std::slice::from_ref(&t), "t")["metadata"]["namespace"], y("from-yaml"));
    t.pod_yaml = Some("metadata: {namespace: ''}".into());
    assert_eq!(pod_of(std::slice::from_ref(&t), "t")["metadata"]["namespace"], y("from-template"));
    t.namespace = None;
    assert_eq!(pod_of(&[t], "t")["metadata"]["namespace"], y("cloud-ns"));
}

#[test]
fn build_agent_container_created_with_defaults() {
    // "Agent container is found, or created … A blank image becomes jenkins/inbound-agent:<tag>;
    // env JENKINS_* …, REMOTING_OPTS; null resources → requests 100m/256Mi, no limits."
    let pod = pod_of(&[with_yaml("t", "spec: {containers: [{name: tool, image: i}]}")], "t");
    assert_eq!(names(&pod, "containers"), ["tool", "jnlp"]);
    let jnlp = container(&pod, "jnlp");
    assert_eq!(jnlp["image"], y(&format!("'{}'", KUBERNETES_PLUGIN.agent_image)));
    assert_eq!(
        env_of(jnlp),
        pairs(&[
            ("JENKINS_SECRET", "(runtime)"),
            ("JENKINS_NAME", "(runtime)"),
            ("JENKINS_AGENT_NAME", "(runtime)"),
            ("JENKINS_AGENT_WORKDIR", "/home/jenkins/agent"),
            ("JENKINS_URL", "http://jenkins:8080/"),
            ("REMOTING_OPTS", "-noReconnectAfter 1d"),
        ])
    );
    assert_eq!(jnlp["resources"], y("{requests: {cpu: 100m, memory: 256Mi}}"));
    // A created agent has no workingDir, so none is written anywhere (the workspace is still
    // mounted at the default).
    assert!(jnlp.get("workingDir").is_none());
    assert!(container(&pod, "tool").get("workingDir").is_none());
}

#[test]
fn build_agent_container_found_keeps_its_own_settings() {
    // "found … Env, later wins: JENKINS_* < template envVars < the container's own env"; only
    // null resources get the defaults; a blank image gets the default with the registry prefix.
    let t = with_yaml(
        "t",
        "spec: {containers: [{name: agent, image: my/agent, env: [{name: JENKINS_URL, value: http://mine}], resources: {limits: {memory: 1Gi}}}]}",
    );
    let t = PodTemplateSpec { agent_container: "agent".into(), ..t };
    let pod = pod_of(&[t], "t");
    assert_eq!(names(&pod, "containers"), ["agent"]);
    let agent = container(&pod, "agent");
    assert_eq!(agent["image"], y("my/agent"));
    assert_eq!(agent["resources"], y("{limits: {memory: 1Gi}}"));
    assert!(env_of(agent).contains(&("JENKINS_URL".into(), "http://mine".into())));
    assert_eq!(env_of(agent).iter().filter(|(k, _)| k == "JENKINS_URL").count(), 1);
    let all = parse_all(&["{name: t}"]);
    let ctx = PodContext { jnlp_registry: Some("registry.local/".into()), ..Default::default() };
    let pod: Value = y(&effective_pod(&all[0], &ctx).unwrap());
    assert_eq!(container(&pod, "jnlp")["image"], y(&format!("'registry.local/{}'", KUBERNETES_PLUGIN.agent_image)));
}

#[test]
fn build_agent_env_follows_the_connection() {
    // "Env: JENKINS_SECRET/NAME/AGENT_NAME/AGENT_WORKDIR/TUNNEL/URL/WEB_SOCKET" as the cloud
    // connects (`PodTemplateBuilder.agentEnvVars`): the URL with a `/` appended; a direct
    // connection has no JENKINS_URL but the controller's TCP endpoint and protocol.
    let env = |connection: AgentConnection| {
        let mut c = cloud(vec![def(&tpl("t"))]);
        c.connection = connection;
        let pod = pod_in(&c, "t");
        env_of(container(&pod, "jnlp")).into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>()
    };
    let fixed = ["JENKINS_SECRET=(runtime)", "JENKINS_NAME=(runtime)", "JENKINS_AGENT_NAME=(runtime)"];
    let with = |rest: &[&str]| -> Vec<String> {
        fixed.iter().chain(&["JENKINS_AGENT_WORKDIR=/home/jenkins/agent"]).chain(rest).map(|s| s.to_string()).collect()
    };
    assert_eq!(
        env(AgentConnection::Tcp { tunnel: Some("agent:50000".into()) }),
        with(&["JENKINS_TUNNEL=agent:50000", "JENKINS_URL=http://jenkins:8080/", "REMOTING_OPTS=-noReconnectAfter 1d"])
    );
    assert_eq!(
        env(AgentConnection::WebSocket),
        with(&["JENKINS_URL=http://jenkins:8080/", "JENKINS_WEB_SOCKET=true", "REMOTING_OPTS=-noReconnectAfter 1d"])
    );
    assert_eq!(
        env(AgentConnection::Direct),
        with(&[
            "JENKINS_DIRECT_CONNECTION=(runtime)",
            "JENKINS_PROTOCOLS=JNLP4-connect",
            "JENKINS_INSTANCE_IDENTITY=(runtime)",
            "REMOTING_OPTS=-noReconnectAfter 1d"
        ])
    );
}

#[test]
fn build_agent_merged_from_two_yamls_gets_no_default_requests() {
    // "null resources → requests 100m/256Mi": a same-named pair merged by `combine(Container)`
    // always gets a (possibly empty) resources object, so it is no longer null.
    let pod = merged("spec: {containers: [{name: jnlp, workingDir: /w}]}", "spec: {containers: [{name: jnlp}]}");
    assert_eq!(container(&pod, "jnlp")["resources"], y("{}"));
    let pod = merged("spec: {containers: [{name: tool, image: i}]}", "spec: {containers: [{name: other, image: i}]}");
    assert_eq!(container(&pod, "jnlp")["resources"], y("{requests: {cpu: 100m, memory: 256Mi}}"));
}

#[test]
fn build_containers_without_working_dir_inherit_the_agents() {
    // "Containers without workingDir inherit the agent's"; the workspace volume goes there.
    let pod = pod_of(
        &[with_yaml(
            "t",
            "spec: {containers: [{name: jnlp, workingDir: /agent}, {name: tool, image: i}, {name: own, image: i, workingDir: /own}]}",
        )],
        "t",
    );
    assert_eq!(container(&pod, "tool")["workingDir"], y("/agent"));
    assert_eq!(container(&pod, "own")["workingDir"], y("/own"));
    assert!(env_of(container(&pod, "jnlp")).contains(&("JENKINS_AGENT_WORKDIR".into(), "/agent".into())));
}

#[test]
fn decorator_linux_node_selector_unless_one_is_set() {
    // "nodeSelector kubernetes.io/os=linux, unless a nodeSelector, nodeAffinity or
    // runtimeClassName is set."
    let sel = |yaml: &str| pod_of(&[with_yaml("t", yaml)], "t")["spec"].get("nodeSelector").cloned();
    assert_eq!(sel("metadata: {labels: {a: b}}"), Some(y("{kubernetes.io/os: linux}")));
    assert_eq!(sel("spec: {nodeSelector: {disk: ssd}}"), Some(y("{disk: ssd}")));
    assert_eq!(sel("spec: {affinity: {nodeAffinity: {}}}"), None);
    assert_eq!(sel("spec: {runtimeClassName: gvisor}"), None);
}

#[test]
fn decorator_restart_policy_never() {
    // "restartPolicy: Never."
    assert_eq!(pod_of(&[tpl("t")], "t")["spec"]["restartPolicy"], y("Never"));
}

#[test]
fn decorator_workspace_volume_at_each_working_dir() {
    // "emptyDir workspace-volume at each container's workingDir (default /home/jenkins/agent)."
    let pod = pod_of(
        &[with_yaml("t", "spec: {containers: [{name: a, image: a, workingDir: /a}, {name: b, image: b}]}")],
        "t",
    );
    for (c, wd) in [("a", "/a"), ("b", "/home/jenkins/agent"), ("jnlp", "/home/jenkins/agent")] {
        assert_eq!(
            container(&pod, c)["volumeMounts"],
            y(&format!("[{{name: workspace-volume, mountPath: {wd}, readOnly: false}}]")),
            "{c}"
        );
    }
    assert_eq!(pod["spec"]["volumes"], y("[{name: workspace-volume, emptyDir: {medium: ''}}]"));
}

#[test]
fn decorator_restricted_pss_fills_only_unset_fields() {
    // "restrictedPssSecurityContext … Patches all containers where unset: no privilege
    // escalation, runAsNonRoot, seccomp RuntimeDefault, drop ALL" (init containers too).
    let mut c = cloud(vec![def(&with_yaml(
        "t",
        "spec: {initContainers: [{name: init, image: i}], containers: [{name: a, image: a, securityContext: {runAsNonRoot: false, capabilities: {add: [NET_ADMIN]}}}]}",
    ))]);
    c.restricted_pss_security_context = true;
    let pod = pod_in(&c, "t");
    assert_eq!(
        container(&pod, "a")["securityContext"],
        y(
            "{runAsNonRoot: false, capabilities: {add: [NET_ADMIN]}, allowPrivilegeEscalation: false, seccompProfile: {type: RuntimeDefault}}"
        )
    );
    let full = y(
        "{allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}, capabilities: {drop: [ALL]}}",
    );
    assert_eq!(pod["spec"]["initContainers"][0]["securityContext"], full);
    assert_eq!(container(&pod, "jnlp")["securityContext"], full);
}
