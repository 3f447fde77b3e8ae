//! The `jenkins_restart_pods` action through real Terraform (≥ 1.14): a `jenkins_irsa_role`'s
//! `action_trigger` restarts the StatefulSet and Deployment that run under the role's service
//! account once the role is applied, so their pods are new (created after the annotation, as
//! EKS's webhook needs), and real `kubectl rollout status` agrees the rollouts finished; a workload
//! of another service account keeps its pods; a rollout that never finishes fails the action.

use super::irsa_role::create_oidc_provider;
use super::support::{Env, terraform_at_least};
use acceptance_tests::terraform::example;
use serde_json::Value as Json;

/// The emulator's knob for a rollout whose new pods never become ready.
const STALL: &str = "kube-emulator/rollout=stall";

/// The controller (a StatefulSet), a helper Deployment under the same service account, and a
/// Deployment under `default`.
fn workloads(ns: &str) -> String {
    let pod = |app: &str, sa: &str| {
        let sa = if sa.is_empty() { String::new() } else { format!("      serviceAccountName: {sa}\n") };
        format!(
            "  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n    spec:\n{sa}      containers:\n        - name: main\n          image: jenkins/jenkins:2.462.3-lts\n"
        )
    };
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: jenkins\n  namespace: {ns}\nspec:\n  serviceName: jenkins\n  replicas: 1\n{}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: helper\n  namespace: {ns}\nspec:\n  replicas: 2\n{}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: other\n  namespace: {ns}\nspec:\n  replicas: 1\n{}",
        pod("jenkins", "jenkins"),
        pod("helper", "jenkins"),
        pod("other", ""),
    )
}

/// The uids of the pods of `app`, sorted.
fn pod_uids(env: &Env, app: &str) -> Vec<String> {
    let out =
        env.kubectl("controller", &["-n", &env.namespace, "get", "pods", "-l", &format!("app={app}"), "-o", "json"]);
    let json: Json = serde_json::from_str(&out).expect("pods JSON");
    let mut uids: Vec<String> = json["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .filter_map(|p| p.pointer("/metadata/uid").and_then(Json::as_str).map(str::to_string))
        .collect();
    uids.sort();
    uids
}

/// `AWS_ROLE_ARN` of each live pod of `app`, as EKS's webhook set it at the pod's creation.
fn role_env(env: &Env, app: &str) -> Vec<Option<String>> {
    let out =
        env.kubectl("controller", &["-n", &env.namespace, "get", "pods", "-l", &format!("app={app}"), "-o", "json"]);
    let json: Json = serde_json::from_str(&out).expect("pods JSON");
    json["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .map(|p| {
            p.pointer("/spec/containers/0/env")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .find(|e| e["name"] == "AWS_ROLE_ARN")
                .and_then(|e| e["value"].as_str().map(str::to_string))
        })
        .collect()
}

/// Real `kubectl rollout status` of `workload` must report it done.
fn rolled_out(env: &Env, workload: &str) {
    env.kubectl("controller", &["-n", &env.namespace, "rollout", "status", workload, "--timeout=60s"]);
}

/// The registry example, in this test's namespace and account, its timeout a variable.
fn config(env: &Env) -> String {
    let ns = &env.namespace;
    let body = example("actions/jenkins_restart_pods/action.tf")
        .replace("namespace       = \"jenkins\"", &format!("namespace       = \"{ns}\""))
        .replace("namespace = \"jenkins\"", &format!("namespace = \"{ns}\""))
        .replace("\"jenkins-controller\"", &format!("\"controller-{ns}\""))
        .replace("[\"ci-east\"]", "[\"controller\"]")
        .replace("timeout_seconds = 600", "timeout_seconds = var.timeout");
    assert!(body.contains("var.timeout") && body.contains(&format!("\"{ns}\"")), "the example changed:\n{body}");
    // Two more, invoked on request: one that finds nothing, one whose StatefulSet cannot roll.
    let extra = |name: &str, account: &str| {
        format!(
            "action \"jenkins_restart_pods\" \"{name}\" {{\n  config {{\n    namespace       = \"{ns}\"\n    service_account = \"{account}\"\n  }}\n}}\n"
        )
    };
    format!(
        "{}\nvariable \"timeout\" {{\n  type    = number\n  default = 60\n}}\n{body}\n{}{}",
        env.provider_block(),
        extra("nobody", "nobody"),
        extra("legacy", "legacy")
    )
}

/// A StatefulSet that replaces pods only when they are deleted (`OnDelete`).
fn on_delete(ns: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: legacy\n  namespace: {ns}\nspec:\n  serviceName: legacy\n  replicas: 1\n  updateStrategy:\n    type: OnDelete\n  selector:\n    matchLabels:\n      app: legacy\n  template:\n    metadata:\n      labels:\n        app: legacy\n    spec:\n      serviceAccountName: legacy\n      containers:\n        - name: main\n          image: busybox:1.36\n"
    )
}

#[test]
fn a_new_role_restarts_the_pods_of_its_service_account_and_a_stalled_rollout_fails() {
    let Some(tf) = terraform_at_least(1, 14) else {
        eprintln!("no Terraform >= 1.14 under test: actions not checked");
        return;
    };
    let env = Env::new("action");
    let ns = env.namespace.clone();
    create_oidc_provider(&env, "controller");
    env.kubectl("controller", &["-n", &ns, "create", "serviceaccount", "jenkins"]);
    let w = env.workdir("action", tf);
    let file = w.dir.join("workloads.yaml");
    std::fs::write(&file, workloads(&ns)).expect("write workloads");
    env.kubectl("controller", &["apply", "-f", &file.display().to_string()]);
    for workload in ["statefulset/jenkins", "deployment/helper", "deployment/other"] {
        rolled_out(&env, workload);
    }
    let before: Vec<Vec<String>> = ["jenkins", "helper", "other"].iter().map(|a| pod_uids(&env, a)).collect();
    assert_eq!(role_env(&env, "jenkins"), [None], "no role before the apply");
    assert_eq!(before.iter().map(Vec::len).collect::<Vec<_>>(), [1, 2, 1], "{before:?}");

    w.write_config(&config(&env));
    let r = w.apply();
    let out = r.text();
    assert!(out.contains("Action started: action.jenkins_restart_pods.controller"), "{out}");
    assert!(out.contains(&format!("restarting statefulset {ns}/jenkins")), "{out}");
    assert!(out.contains(&format!("restarting deployment {ns}/helper")), "{out}");
    assert!(out.contains("Action complete: action.jenkins_restart_pods.controller"), "{out}");
    assert!(!out.contains(&format!("{ns}/other")), "another service account's workload is left alone: {out}");

    // Real kubectl agrees both rollouts finished, on new pods; `other` keeps its pod.
    rolled_out(&env, "statefulset/jenkins");
    rolled_out(&env, "deployment/helper");
    let after: Vec<Vec<String>> = ["jenkins", "helper", "other"].iter().map(|a| pod_uids(&env, a)).collect();
    for (i, app) in ["jenkins", "helper"].iter().enumerate() {
        assert_eq!(after[i].len(), before[i].len(), "{app}: {after:?}");
        assert!(after[i].iter().all(|u| !before[i].contains(u)), "{app}'s pods are new: {before:?} -> {after:?}");
    }
    assert_eq!(after[2], before[2], "other's pod is untouched");
    let sts = env.get_json("statefulset", "jenkins").expect("the StatefulSet");
    assert!(
        sts.pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt").is_some(),
        "restarted as kubectl does: {sts}"
    );
    // The new pods started after the role's annotation, so EKS's webhook gave them the role.
    let arn = w.resource("jenkins_irsa_role.controller")["arn"].as_str().expect("the role ARN").to_string();
    assert_eq!(role_env(&env, "jenkins"), [Some(arn.clone())]);
    assert_eq!(role_env(&env, "helper"), [Some(arn.clone()), Some(arn)]);
    assert!(out.contains("Running Pods Keep Their Old Credentials"), "the role's apply warned first: {out}");
    w.assert_plans_empty();

    // A rollout whose new pods never become ready: the action fails, naming it.
    env.kubectl("controller", &["-n", &ns, "annotate", "deployment/helper", STALL]);
    let r = w.expect_error(
        &["apply", "-auto-approve", "-no-color", "-invoke=action.jenkins_restart_pods.controller", "-var", "timeout=3"],
        &["Rollout Stalled", &format!("deployment {ns}/helper"), "rollout status"],
    );
    assert!(r.text().contains("Action failed"), "{}", r.text());
    env.kubectl("controller", &["-n", &ns, "annotate", "deployment/helper", "kube-emulator/rollout-"]);

    // Nothing runs as the account: a warning says so and nothing fails.
    let r = w.run(&["apply", "-auto-approve", "-no-color", "-invoke=action.jenkins_restart_pods.nobody"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.text().contains("No Workloads To Restart"), "{}", r.text());
    // An OnDelete StatefulSet cannot be rolled: the action says so at once instead of waiting.
    let file = w.dir.join("legacy.yaml");
    std::fs::write(&file, on_delete(&ns)).expect("write the legacy StatefulSet");
    env.kubectl("controller", &["apply", "-f", &file.display().to_string()]);
    w.expect_error(
        &["apply", "-auto-approve", "-no-color", "-invoke=action.jenkins_restart_pods.legacy"],
        &["Rollout Failed", "OnDelete", "RollingUpdate"],
    );

    w.destroy();
    w.cleanup();
}
