//! Jenkins in the loop, through real Terraform: where the sidecar looks, the plan-time checks of the
//! merged JCasC view, applies that return once the Jenkins stand-in's export shows the change (the
//! chart's real config-reload sidecar in between), a rejected reload, and what the apply says when
//! Jenkins is not there to confirm.

use super::support::{Env, sha256};
use acceptance_tests::jenkins::{Jenkins, Options};
use acceptance_tests::terraform::{Run, Workdir, terraforms};

/// Terraform's output with whitespace collapsed: it wraps diagnostics at 78 columns.
fn flat(r: &Run) -> String {
    r.text().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A command that must fail, its (unwrapped) output holding every needle.
fn fails_with(w: &Workdir, args: &[&str], needles: &[&str]) -> String {
    let r = w.run(args);
    let text = flat(&r);
    assert_ne!(r.code, 0, "`terraform {}` should fail:\n{}", args.join(" "), r.text());
    for n in needles {
        assert!(text.contains(n), "output of `terraform {}` lacks {n:?}:\n{}", args.join(" "), r.text());
    }
    assert!(!text.contains("Provider produced inconsistent"), "{text}");
    text
}

/// The provider block with extra settings in its `jenkins` block.
fn provider(env: &Env, jenkins: &str) -> String {
    format!(
        "provider \"jenkins\" {{\n  region = \"us-east-1\"\n  kubernetes {{\n    eks_cluster_name = \"controller\"\n  }}\n  jenkins {{\n    namespace = \"{}\"\n    {jenkins}\n  }}\n}}\n",
        env.namespace
    )
}

pub(super) const TEMPLATE: &str = r#"
resource "jenkins_pod_template" "base" {
  name   = "base"
  labels = ["base"]
  tool_container {
    name  = "maven"
    image = "maven:3.9"
  }
}
"#;

pub(super) fn cloud(name: &str, cap: u32) -> String {
    format!(
        r#"
resource "jenkins_agent_cloud" "{name}" {{
  name          = "{name}"
  container_cap = {cap}
  templates     = [jenkins_pod_template.base]
}}
"#
    )
}

/// A ConfigMap as the chart makes them: the sidecar's label, one data key.
fn chart_configmap(env: &Env, name: &str, label: &str, key: &str, text: &str, target_dir: Option<&str>) {
    env.kubectl(
        "controller",
        &["-n", &env.namespace, "create", "configmap", name, &format!("--from-literal={key}={text}")],
    );
    env.kubectl("controller", &["-n", &env.namespace, "label", "configmap", name, &format!("{label}=true")]);
    if let Some(dir) = target_dir {
        env.kubectl(
            "controller",
            &["-n", &env.namespace, "annotate", "configmap", name, &format!("k8s-sidecar-target-directory={dir}")],
        );
    }
}

fn chart_cloud(name: &str) -> String {
    format!(
        "jenkins:\n  numExecutors: 0\n  clouds:\n  - kubernetes:\n      name: \"{name}\"\n      serverUrl: \"https://kubernetes.default\"\n"
    )
}

#[test]
fn release_ci_gets_the_label_its_sidecar_watches_and_one_warning_per_run() {
    for tf in terraforms() {
        let env = Env::new("loop-release");
        let w = env.workdir("loop-release", tf);
        w.write_config(&format!(
            "{}{TEMPLATE}{}{}",
            provider(&env, "helm_release = \"ci\""),
            cloud("alpha", 5),
            cloud("beta", 5)
        ));
        let plan = flat(&w.plan_changes());
        assert_eq!(plan.matches("Warning: Jenkins Not Asked").count(), 1, "one warning per plan:\n{plan}");
        assert!(plan.contains("nothing verifies that Jenkins accepts the files and runs the clouds"), "{plan}");
        let applied = flat(&w.apply());
        assert_eq!(applied.matches("Warning: Apply Not Confirmed By Jenkins").count(), 1, "one per apply:\n{applied}");
        assert!(applied.contains("did not wait for Jenkins"), "{applied}");
        w.assert_plans_empty();
        for name in ["alpha", "beta"] {
            let cm = env.get_json("configmap", &format!("tf-jcasc-cloud-{name}")).expect("ConfigMap written");
            let labels = &cm["metadata"]["labels"];
            // The chart names release `ci` `ci-jenkins`; its sidecar watches `ci-jenkins-jenkins-config`.
            assert_eq!(labels["ci-jenkins-jenkins-config"], "true", "{cm}");
            assert!(labels.get("ci-jenkins-config").is_none(), "{cm}");
        }
        w.destroy();
        w.cleanup();
    }
}

#[test]
fn a_cloud_name_or_file_the_sidecars_other_configmaps_hold_fails_at_plan() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-merge");
    let w = env.workdir("loop-merge", tf);
    let label = "jenkins-jenkins-config";
    chart_configmap(
        &env,
        "jenkins-jenkins-jcasc-config",
        label,
        "jcasc-default-config.yaml",
        &chart_cloud("dup"),
        None,
    );

    w.write_config(&format!("{}{TEMPLATE}{}", provider(&env, ""), cloud("dup", 5)));
    fails_with(
        &w,
        &["plan", "-no-color"],
        &["Cloud Name Already Defined", "jenkins-jenkins-jcasc-config (key jcasc-default-config.yaml)", "\"dup\""],
    );

    // Another ConfigMap that writes the same file into the same folder would clobber ours.
    chart_configmap(&env, "someone-elses", label, "cloud-clash.yaml", "jenkins: {}\n", Some("terraform"));
    w.write_config(&format!("{}{TEMPLATE}{}", provider(&env, ""), cloud("clash", 5)));
    fails_with(&w, &["plan", "-no-color"], &["ConfigMap Key Clash", "someone-elses", "cloud-clash.yaml"]);

    // An update is checked too: a chart file that defines the cloud's name after it was created.
    w.write_config(&format!("{}{TEMPLATE}{}", provider(&env, ""), cloud("later", 5)));
    w.apply();
    chart_configmap(&env, "jenkins-jenkins-config-extra", label, "extra.yaml", &chart_cloud("later"), None);
    w.write_config(&format!("{}{TEMPLATE}{}", provider(&env, ""), cloud("later", 6)));
    fails_with(
        &w,
        &["plan", "-no-color"],
        &[
            "Cloud Name Already Defined",
            "jenkins-jenkins-config-extra (key extra.yaml)",
            // The chart's two files clash with each other, whatever this cloud does: a warning.
            "Warning: The Sidecar's Files Already Conflict",
            "`jenkins.numExecutors` is set by",
        ],
    );
    w.write_config(&format!("{}{TEMPLATE}", provider(&env, "")));
    w.apply();
    w.cleanup();
}

#[test]
fn an_unreachable_jenkins_leaves_the_apply_saying_what_it_could_not_confirm() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-down");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let secret = "tok-never-shown-9f2";
    let w = env.workdir("loop-down", tf).with_env([("JENKINS_API_TOKEN", secret)]);
    let jenkins = format!("url = \"http://127.0.0.1:{port}\"\n    username = \"terraform\"");
    w.write_config(&format!("{}{TEMPLATE}{}", provider(&env, &jenkins), cloud("offline", 5)));
    let plan = flat(&w.plan_changes());
    assert!(plan.contains("Jenkins Did Not Check The Cloud") && plan.contains("unreachable"), "{plan}");
    let applied = flat(&w.apply());
    assert!(applied.contains("Jenkins Did Not Confirm The Cloud"), "{applied}");
    assert!(applied.contains("not confirmed that Jenkins accepts it and runs the cloud"), "{applied}");
    assert!(!plan.contains(secret) && !applied.contains(secret), "the token never shows");
    assert!(env.get_json("configmap", "tf-jcasc-cloud-offline").is_some(), "the ConfigMap is written regardless");
    w.destroy();
    w.cleanup();
}

/// The provider block that talks to the stand-in as its admin (the token through the environment).
pub(super) fn with_standin(env: &Env, jenkins: &Jenkins) -> (String, Vec<(String, String)>) {
    let (user, token) = jenkins.admin();
    let block = provider(env, &format!("url = \"{}\"\n    username = \"{user}\"", jenkins.url()));
    (block, vec![("JENKINS_API_TOKEN".to_string(), token)])
}

fn timed_cloud(name: &str, cap: u32, timeout: &str) -> String {
    cloud(name, cap).replace(
        "  templates     =",
        &format!("  timeouts {{\n    create = \"{timeout}\"\n    update = \"{timeout}\"\n    delete = \"{timeout}\"\n  }}\n  templates     ="),
    )
}

/// The part of an export about one cloud (from its `- kubernetes:` item to the next).
pub(super) fn exported_cloud(export: &str, name: &str) -> Option<String> {
    export
        .split("- kubernetes:")
        .skip(1)
        .find(|part| part.lines().any(|l| l.trim() == format!("name: {name}") || l.trim() == format!("name: '{name}'")))
        .map(str::to_string)
}

const SEVEN: [&str; 7] = ["c1", "c2", "c3", "c4", "c5", "c6", "c7"];

#[test]
fn seven_clouds_are_created_changed_and_destroyed_with_jenkins_confirming_each_apply() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-seven");
    let jenkins = Jenkins::start(&env.namespace, "jenkins", Options::default());
    let (block, vars) = with_standin(&env, &jenkins);
    let w = env.workdir("loop-seven", tf).with_env(vars);
    let config = |cap: u32| {
        let clouds: String = SEVEN.iter().map(|n| cloud(n, cap)).collect();
        format!("{block}{TEMPLATE}{clouds}")
    };

    for (step, cap) in [("create", 5), ("update", 6)] {
        let before = jenkins.reload_count();
        w.write_config(&config(cap));
        let plan = flat(&w.plan_changes());
        assert!(!plan.contains("Jenkins Not Asked") && !plan.contains("Jenkins Did Not Check"), "{plan}");
        let applied = flat(&w.apply());
        assert!(!applied.contains("Warning: Jenkins"), "[{step}] {applied}");
        // No waiting here: the apply returned only once the export showed every cloud as planned.
        let export = jenkins.export();
        let files = jenkins.files();
        for name in SEVEN {
            let state = w.resource(&format!("jenkins_agent_cloud.{name}"));
            let file = files.get(&format!("terraform/cloud-{name}.yaml"));
            let hash = file.map(|f| sha256(f));
            assert_eq!(hash.as_deref(), state["casc_sha256"].as_str(), "[{step}] the sidecar's file of {name}");
            let live =
                exported_cloud(&export, name).unwrap_or_else(|| panic!("[{step}] {name} not exported:\n{export}"));
            assert!(live.contains(&format!("containerCap: {cap}")), "[{step}] {name} runs another version:\n{live}");
            let id = state["template_ids"]["base"].as_str().expect("template id");
            assert!(live.contains(id), "[{step}] {name} lacks template {id}:\n{live}");
        }
        assert!(jenkins.reload_count() > before, "[{step}] the sidecar POSTed a reload");
        w.assert_plans_empty();
    }

    w.destroy();
    let export = jenkins.export();
    for name in SEVEN {
        assert!(exported_cloud(&export, name).is_none(), "{name} still runs after destroy:\n{export}");
    }
    assert!(exported_cloud(&export, "kubernetes").is_some(), "the chart's cloud stays:\n{export}");
    w.cleanup();
}

/// Reloads the stand-in was told to fail and has not failed yet.
fn pending_rejections(jenkins: &Jenkins) -> usize {
    let r = jenkins.request("GET", "/_standin/state", None, None);
    let state: serde_json::Value = serde_json::from_str(&r.body).expect("state JSON");
    state["reject"].as_array().map(|a| a.iter().map(|r| r[0].as_u64().unwrap_or(0) as usize).sum()).unwrap_or(0)
}

#[test]
fn a_reload_jenkins_rejects_fails_the_apply_with_its_message_and_a_rerun_after_the_fix_converges() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-reject");
    let jenkins = Jenkins::start(&env.namespace, "jenkins", Options::default());
    let (block, vars) = with_standin(&env, &jenkins);
    let w = env.workdir("loop-reject", tf).with_env(vars);
    w.write_config(&format!("{block}{TEMPLATE}{}", timed_cloud("picky", 5, "1m")));
    jenkins.reject_next(40, "Invalid configuration elements for type: class KubernetesCloud : picky-test");
    fails_with(
        &w,
        &["apply", "-auto-approve", "-no-color"],
        &["Jenkins Rejected The Cloud", "Invalid configuration elements for type: class KubernetesCloud : picky-test"],
    );
    assert!(exported_cloud(&jenkins.export(), "picky").is_none(), "nothing of a failed reload is applied");

    // The fix: Jenkins stops rejecting. The state says the file was not loaded, so the plan is not empty.
    while pending_rejections(&jenkins) > 0 {
        jenkins.token_reload(jenkins.pod());
    }
    w.plan_changes();
    w.apply();
    assert!(exported_cloud(&jenkins.export(), "picky").is_some(), "the rerun loaded the cloud");
    w.assert_plans_empty();

    // A rejected update: the state keeps the marker (an update is not tainted), so the rerun writes again.
    w.write_config(&format!("{block}{TEMPLATE}{}", timed_cloud("picky", 6, "1m")));
    jenkins.reject_next(40, "Invalid configuration elements for type: class KubernetesCloud : picky-update");
    fails_with(&w, &["apply", "-auto-approve", "-no-color"], &["Jenkins Rejected The Cloud", "picky-update"]);
    let live = exported_cloud(&jenkins.export(), "picky").expect("the old version still runs");
    assert!(live.contains("containerCap: 5"), "{live}");
    let marked = w.resource("jenkins_agent_cloud.picky")["casc_sha256"].as_str().unwrap_or_default().to_string();
    assert!(marked.contains("Jenkins did not load this file"), "{marked}");
    while pending_rejections(&jenkins) > 0 {
        jenkins.token_reload(jenkins.pod());
    }
    let plan = flat(&w.plan_changes());
    assert!(plan.contains("Jenkins did not load this file"), "the plan shows the marker going away:\n{plan}");
    w.apply();
    let live = exported_cloud(&jenkins.export(), "picky").expect("picky runs");
    assert!(live.contains("containerCap: 6"), "{live}");
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}

#[test]
fn with_jenkins_down_the_apply_says_what_it_could_not_confirm_and_the_cloud_loads_when_it_is_back() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-stopped");
    let jenkins = Jenkins::start(&env.namespace, "jenkins", Options::default());
    let (block, vars) = with_standin(&env, &jenkins);
    let w = env.workdir("loop-stopped", tf).with_env(vars.clone());
    w.write_config(&format!("{block}{TEMPLATE}{}", cloud("later", 5)));
    jenkins.stop();
    let applied = flat(&w.apply());
    assert!(applied.contains("Jenkins Did Not Confirm The Cloud") && applied.contains("unreachable"), "{applied}");
    assert!(!applied.contains(&vars[0].1), "the token never shows");
    jenkins.resume();
    jenkins.wait_until(|| exported_cloud(&jenkins.export(), "later").is_some(), "the cloud once Jenkins is back");
    w.assert_plans_empty();
    // Down again for the destroy: the ConfigMap goes, and the destroy says the removal is unconfirmed.
    jenkins.stop();
    let r = w.run(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let destroyed = flat(&r);
    assert!(destroyed.contains("Warning: Jenkins Did Not Confirm The Removal"), "{destroyed}");
    assert!(destroyed.contains("The ConfigMap of cloud \"later\" was deleted"), "{destroyed}");
    assert!(!destroyed.contains(&vars[0].1), "the token never shows");
    assert!(env.get_json("configmap", "tf-jcasc-cloud-later").is_none(), "the ConfigMap is gone regardless");
    jenkins.resume();
    jenkins.wait_until(|| exported_cloud(&jenkins.export(), "later").is_none(), "the cloud gone once Jenkins is back");
    w.cleanup();
}

/// A reload slower than the cloud's timeouts (the stand-in waits 7 s before reading the folder, inside
/// the sidecar's 10 s request timeout): the apply fails saying what Jenkins still shows and which
/// timeout to raise, and the marker left in state makes the rerun write again and converge. A slow
/// reload on destroy is a warning: the ConfigMap is gone either way.
#[test]
fn a_reload_slower_than_the_timeout_fails_the_apply_and_the_rerun_converges() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-slow");
    let jenkins = Jenkins::start(&env.namespace, "jenkins", Options::default());
    let (block, vars) = with_standin(&env, &jenkins);
    let w = env.workdir("loop-slow", tf).with_env(vars);
    w.write_config(&format!("{block}{TEMPLATE}{}", timed_cloud("sluggish", 5, "2s")));
    jenkins.slow(7_000);
    fails_with(
        &w,
        &["apply", "-auto-approve", "-no-color"],
        &["Error: Jenkins Did Not Load The Cloud", "after 2s", "`timeouts.create`", "-c config-reload"],
    );
    assert!(env.get_json("configmap", "tf-jcasc-cloud-sluggish").is_some(), "the ConfigMap was written");
    jenkins.slow(0);
    jenkins.wait_until(|| exported_cloud(&jenkins.export(), "sluggish").is_some(), "the slow reload landing");
    // The plan shows the marked file being written again; the apply then returns confirmed.
    w.plan_changes();
    let applied = flat(&w.apply());
    assert!(!applied.contains("Did Not"), "{applied}");
    w.assert_plans_empty();

    jenkins.slow(7_000);
    let r = w.run(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let destroyed = flat(&r);
    assert!(
        destroyed.contains("Warning: Jenkins Still Runs The Cloud") && destroyed.contains("after 2s"),
        "{destroyed}"
    );
    assert!(env.get_json("configmap", "tf-jcasc-cloud-sluggish").is_none(), "the ConfigMap is gone");
    jenkins.slow(0);
    jenkins.wait_until(|| exported_cloud(&jenkins.export(), "sluggish").is_none(), "the slow reload dropping it");
    w.cleanup();
}

/// The controller's StatefulSets cannot be listed (500 past the retry budget): the plan warns once
/// that it assumed the chart's default label, and still plans; the rule must have fired.
#[test]
fn an_unlistable_controller_warns_that_the_default_label_was_assumed() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-unread");
    let w = env.workdir("loop-unread", tf);
    w.write_config(&format!("{}{TEMPLATE}{}", provider(&env, ""), cloud("assumed", 5)));
    let path = format!("/apis/apps/v1/namespaces/{}/statefulsets", env.namespace);
    super::kube_faults::arm(&env, &w, "controller", "list", &path, 500, 10);
    let plan = flat(&w.plan_changes());
    assert_eq!(plan.matches("Warning: Controller Not Read").count(), 1, "once per plan:\n{plan}");
    assert!(plan.contains("could not be listed") && plan.contains("\"jenkins-jenkins-config\""), "{plan}");
    let left = super::kube_faults::pending(&env, "controller", &path);
    assert!(left.is_empty(), "the fault never fired in full: {left:?}");
    w.cleanup();
}

/// The label comes from the controller's StatefulSet: with no `helm_release` (whose default
/// `jenkins` would guess label `jenkins-jenkins-config`), release `ci`'s sidecar still loads the cloud.
#[test]
fn release_ci_gets_a_configmap_its_sidecar_loads_read_from_the_statefulset() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-ci");
    let jenkins = Jenkins::start(&env.namespace, "ci", Options::default());
    assert_eq!(jenkins.label(), "ci-jenkins-jenkins-config");
    assert!(
        jenkins.skipped_objects().iter().all(|o| !o.to_string().contains("StatefulSet")),
        "{:?}",
        jenkins.skipped_objects()
    );
    let (block, vars) = with_standin(&env, &jenkins);
    let w = env.workdir("loop-ci", tf).with_env(vars);
    w.write_config(&format!("{block}{TEMPLATE}{}", cloud("ci-agents", 5)));
    w.apply();
    let cm = env.get_json("configmap", "tf-jcasc-cloud-ci-agents").expect("ConfigMap written");
    assert_eq!(cm["metadata"]["labels"]["ci-jenkins-jenkins-config"], "true", "{cm}");
    assert!(exported_cloud(&jenkins.export(), "ci-agents").is_some(), "{}", jenkins.export());
    assert!(jenkins.files().contains_key("terraform/cloud-ci-agents.yaml"));
    w.destroy();
    w.cleanup();
}

/// The chart's controller StatefulSet (as `jenkins-controller-statefulset.yaml` renders it, trimmed
/// to what the provider reads) with the sidecar's `NAMESPACE` set to `search_namespace`. The stand-in
/// harness cannot start a sidecar there (the chart's Role does not reach it), and the plan needs
/// only the StatefulSet.
fn controller_statefulset(env: &Env, dir: &std::path::Path, search_namespace: &str) {
    let env_list = format!(
        "            - {{name: LABEL, value: jenkins-jenkins-config}}\n            - {{name: FOLDER, value: /var/jenkins_home/casc_configs}}\n            - {{name: NAMESPACE, value: \"{search_namespace}\"}}\n"
    );
    let yaml = format!(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: jenkins
  labels: {{"app.kubernetes.io/component": jenkins-controller, "app.kubernetes.io/instance": jenkins}}
spec:
  serviceName: jenkins
  replicas: 1
  selector:
    matchLabels: {{"app.kubernetes.io/component": jenkins-controller, "app.kubernetes.io/instance": jenkins}}
  template:
    metadata:
      labels: {{"app.kubernetes.io/component": jenkins-controller, "app.kubernetes.io/instance": jenkins}}
    spec:
      serviceAccountName: jenkins
      initContainers:
        - name: config-reload-init
          image: docker.io/kiwigrid/k8s-sidecar:2.10.1
          env:
            - {{name: METHOD, value: LIST}}
{env_list}      containers:
        - name: jenkins
          image: docker.io/jenkins/jenkins:2.568.2-jdk21
        - name: config-reload
          image: docker.io/kiwigrid/k8s-sidecar:2.10.1
          env:
{env_list}"#
    );
    let file = dir.join("controller-statefulset.yaml");
    std::fs::write(&file, yaml).expect("write StatefulSet");
    // Replaced rather than re-applied: the emulator's client-side apply of a changed StatefulSet
    // loses the containers' images.
    env.kubectl("controller", &["-n", &env.namespace, "delete", "statefulset", "jenkins", "--ignore-not-found"]);
    env.kubectl("controller", &["-n", &env.namespace, "create", "-f", &file.display().to_string()]);
}

#[test]
fn a_sidecar_watching_another_namespace_is_a_plan_error_naming_what_was_found() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-elsewhere");
    let w = env.workdir("loop-elsewhere", tf);
    controller_statefulset(&env, &w.dir, "elsewhere");
    w.write_config(&format!("{}{TEMPLATE}{}", provider(&env, ""), cloud("lost", 5)));
    fails_with(
        &w,
        &["plan", "-no-color"],
        &[
            "The Sidecar Would Not Load This Cloud",
            &format!("StatefulSet {}/jenkins, container config-reload has NAMESPACE=\"elsewhere\"", env.namespace),
            "searchNamespace",
        ],
    );
    assert!(env.get_json("configmap", "tf-jcasc-cloud-lost").is_none(), "nothing written");

    // A list that holds our namespace is watched (and the controller may start agents there, as the
    // chart's agent Role lets it; the preflight checks that too).
    controller_statefulset(&env, &w.dir, &format!("elsewhere,{}", env.namespace));
    let ns = env.namespace.as_str();
    env.kubectl("controller", &["-n", ns, "create", "serviceaccount", "jenkins"]);
    env.kubectl(
        "controller",
        &["-n", ns, "create", "role", "agents", "--verb=create,get,list,watch,delete", "--resource=pods"],
    );
    env.kubectl(
        "controller",
        &["-n", ns, "create", "rolebinding", "agents", "--role=agents", &format!("--serviceaccount={ns}:jenkins")],
    );
    w.apply();
    let cm = env.get_json("configmap", "tf-jcasc-cloud-lost").expect("ConfigMap written");
    assert_eq!(cm["metadata"]["labels"]["jenkins-jenkins-config"], "true", "{cm}");
    w.destroy();
    w.cleanup();
}

/// JCasC replaces `jenkins.clouds` only when some file sets it: with the chart's default file gone,
/// destroying the last cloud cannot remove it from Jenkins, and the destroy says so at once.
#[test]
fn destroying_a_cloud_when_no_other_file_sets_clouds_warns_that_jenkins_keeps_it() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-kept");
    let jenkins = Jenkins::start(&env.namespace, "jenkins", Options::default());
    let (block, vars) = with_standin(&env, &jenkins);
    let w = env.workdir("loop-kept", tf).with_env(vars);
    w.write_config(&format!("{block}{TEMPLATE}{}", cloud("kept", 5)));
    w.apply();
    env.kubectl("controller", &["-n", &env.namespace, "delete", "configmap", "jenkins-jenkins-jcasc-config"]);
    jenkins.wait_until(
        || !jenkins.files().contains_key("jcasc-default-config.yaml"),
        "the sidecar removing the chart's file",
    );
    let r = w.run(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let text = flat(&r);
    // The plan of the destroy says it first, the delete then finds no file that sets the clouds.
    assert!(text.contains("Warning: Jenkins Keeps The Cloud Until Its Next Reload"), "{text}");
    assert!(text.contains("Running agents of this cloud are not stopped"), "{text}");
    assert!(
        text.contains("Warning: Jenkins Keeps The Cloud ")
            && text.contains("no other file the sidecar loads sets `jenkins.clouds`"),
        "{text}"
    );
    assert!(exported_cloud(&jenkins.export(), "kept").is_some(), "the stand-in keeps it too, as JCasC does");
    w.cleanup();
}

/// A user with Overall/SystemRead only: the plan says the check was skipped and why, and the apply
/// still waits for the export (which that permission allows).
#[test]
fn a_read_only_user_skips_the_check_with_a_warning_and_still_waits_for_the_export() {
    let tf = &terraforms()[0];
    let env = Env::new("loop-reader");
    let jenkins = Jenkins::start(&env.namespace, "jenkins", Options::default());
    let (user, token) = jenkins.reader();
    let block = provider(&env, &format!("url = \"{}\"\n    username = \"{user}\"", jenkins.url()));
    let w = env.workdir("loop-reader", tf).with_env([("JENKINS_API_TOKEN", token.as_str())]);
    w.write_config(&format!("{block}{TEMPLATE}{}", cloud("readable", 5)));
    let plan = flat(&w.plan_changes());
    assert!(plan.contains("Jenkins Did Not Check The Cloud") && plan.contains("lacks Overall/Administer"), "{plan}");
    let applied = flat(&w.apply());
    assert!(!applied.contains("Did Not Confirm") && !applied.contains("Not Confirmed"), "{applied}");
    assert!(exported_cloud(&jenkins.export(), "readable").is_some(), "the apply returned once the export showed it");
    assert!(!plan.contains(&token) && !applied.contains(&token), "the token never shows");
    w.destroy();
    w.cleanup();
}
