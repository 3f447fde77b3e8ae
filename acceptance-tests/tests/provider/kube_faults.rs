//! Kubernetes faults through real Terraform: the emulator's `/emulator/faults` rules make the next
//! requests of a verb on a path answer 429 (with `Retry-After: 1`) or 500, on every resource's
//! create, read, update and delete paths. Each phase must succeed AND consume every armed rule (a
//! knob that never fired fails the test). One rule outlasts the retry budget and the error must
//! name the object, the verb and the status.
//!
//! Rules are keyed by paths in the test's own namespaces, so tests running in parallel do not
//! take each other's faults; nothing here clears all rules.

use super::support::Env;
use acceptance_tests::stack::fresh_account;
use acceptance_tests::terraform::{Workdir, example, terraforms};
use serde_json::{Value as Json, json};

/// Arms `count` answers of `status` for `verb` requests under `path` in `cluster`.
pub(super) fn arm(env: &Env, w: &Workdir, cluster: &str, verb: &str, path: &str, status: u16, count: u32) {
    let file = w.dir.join("fault.json");
    let rule = json!({"verb": verb, "path_prefix": path, "status": status, "count": count});
    std::fs::write(&file, rule.to_string()).expect("write fault rule");
    env.kubectl(cluster, &["create", "--raw", "/emulator/faults", "-f", &file.display().to_string()]);
}

/// The rules of `cluster` still pending under `prefix`, as `verb path status ×count`.
pub(super) fn pending(env: &Env, cluster: &str, prefix: &str) -> Vec<String> {
    let out = env.kubectl(cluster, &["get", "--raw", "/emulator/faults"]);
    let list: Json = serde_json::from_str(&out).expect("fault list JSON");
    list["faults"]
        .as_array()
        .expect("faults array")
        .iter()
        .filter(|f| f["path_prefix"].as_str().is_some_and(|p| p.starts_with(prefix)))
        .map(|f| format!("{} {} {} x{}", f["verb"], f["path_prefix"], f["status"], f["count"]))
        .collect()
}

/// Arms 429 ×2 then 500 ×2 for each (cluster, verb, path), runs `run`, and asserts every armed
/// rule fired.
fn phase(env: &Env, w: &Workdir, name: &str, rules: &[(&str, &str, &str)], run: impl FnOnce()) {
    let each: Vec<_> = rules.iter().flat_map(|&(c, v, p)| [(c, v, p, 429), (c, v, p, 500)]).collect();
    phase_with(env, w, name, &each, run);
}

/// Arms `status` ×2 for each (cluster, verb, path, status), runs `run`, and asserts every armed
/// rule fired (none is left pending under its path).
fn phase_with(env: &Env, w: &Workdir, name: &str, rules: &[(&str, &str, &str, u16)], run: impl FnOnce()) {
    for &(cluster, verb, path, status) in rules {
        arm(env, w, cluster, verb, path, status, 2);
    }
    run();
    for (cluster, _, path, _) in rules {
        let left = pending(env, cluster, path);
        assert!(left.is_empty(), "{name}: faults armed on {cluster} never fired: {left:?}");
    }
}

fn apply_ok(w: &Workdir, what: &str) {
    let r = w.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(r.code, 0, "{what} failed under faults:\n{}", r.text());
}

fn plan_ok(w: &Workdir, what: &str) {
    let r = w.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 0, "{what}: plan under faults is not empty or failed:\n{}", r.text());
}

fn destroy_ok(w: &Workdir, what: &str) {
    let r = w.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(r.code, 0, "{what}: destroy failed under faults:\n{}", r.text());
}

const TEMPLATE: &str = r#"
resource "jenkins_pod_template" "t" {
  name   = "t"
  labels = ["t"]
  tool_container {
    name     = "maven"
    image    = "maven:3.9.9"
    requests = { cpu = "1", memory = "1Gi" }
  }
}
"#;

fn cloud(cap: u32) -> String {
    format!(
        r#"
resource "jenkins_agent_cloud" "eks" {{
  name          = "eks"
  namespace     = "agents"
  container_cap = {cap}
  templates     = [jenkins_pod_template.t]
}}
"#
    )
}

#[test]
fn agent_cloud_configmap_survives_throttling_and_server_errors() {
    let env = Env::new("fault-cloud");
    let w = env.workdir("fault-cloud", &terraforms()[0]);
    let cm = format!("/api/v1/namespaces/{}/configmaps/tf-jcasc-cloud-eks", env.namespace);
    let config = |cap| format!("{}{TEMPLATE}{}", env.provider_block(), cloud(cap));
    w.write_config(&config(10));
    phase(&env, &w, "create", &[("controller", "get", &cm), ("controller", "patch", &cm)], || apply_ok(&w, "create"));
    assert!(env.get_json("configmap", "tf-jcasc-cloud-eks").is_some(), "ConfigMap created");
    phase(&env, &w, "read", &[("controller", "get", &cm)], || plan_ok(&w, "read"));
    w.write_config(&config(20));
    phase(&env, &w, "update", &[("controller", "patch", &cm)], || apply_ok(&w, "update"));
    let data = env.get_json("configmap", "tf-jcasc-cloud-eks").expect("ConfigMap").to_string();
    assert!(data.contains("containerCap: 20"), "update landed: {data}");
    phase(&env, &w, "delete", &[("controller", "get", &cm), ("controller", "delete", &cm)], || {
        destroy_ok(&w, "delete")
    });
    assert!(env.get_json("configmap", "tf-jcasc-cloud-eks").is_none(), "ConfigMap deleted");
    w.cleanup();
}

#[test]
fn a_fault_past_the_budget_names_the_object_verb_and_status() {
    let env = Env::new("fault-budget");
    let w = env.workdir("fault-budget", &terraforms()[0]);
    let cm = format!("/api/v1/namespaces/{}/configmaps/tf-jcasc-cloud-eks", env.namespace);
    w.write_config(&format!("{}{TEMPLATE}{}", env.provider_block(), cloud(10)));
    // Exactly the five attempts of the budget, so nothing is left armed afterwards.
    arm(&env, &w, "controller", "patch", &cm, 500, 5);
    w.expect_error(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &[&format!("ConfigMap {}/tf-jcasc-cloud-eks", env.namespace), "apply", "HTTP 500", "retried 4 times"],
    );
    assert!(pending(&env, "controller", &cm).is_empty(), "all five attempts were made");
    destroy_ok(&w, "cleanup");
    w.cleanup();
}

/// The OIDC provider IAM needs for an IRSA trust of the controller cluster.
fn create_oidc_provider(env: &Env) {
    let out = env.aws(&["eks", "describe-cluster", "--name", "controller", "--output", "json"]);
    let json: Json = serde_json::from_str(&out).expect("describe-cluster JSON");
    let issuer = json["cluster"]["identity"]["oidc"]["issuer"].as_str().expect("issuer").to_string();
    env.aws(&["iam", "create-open-id-connect-provider", "--url", &issuer, "--client-id-list", "sts.amazonaws.com"]);
}

#[test]
fn irsa_service_account_annotation_survives_faults() {
    let env = Env::new("fault-irsa");
    let w = env.workdir("fault-irsa", &terraforms()[0]);
    create_oidc_provider(&env);
    env.kubectl("controller", &["-n", &env.namespace, "create", "serviceaccount", "jenkins"]);
    let sa = format!("/api/v1/namespaces/{}/serviceaccounts/jenkins", env.namespace);
    w.write_config(&format!(
        "{}\nresource \"jenkins_irsa_role\" \"ci\" {{\n  name             = \"ci-{ns}\"\n  clusters         = [\"controller\"]\n  service_accounts = [{{ namespace = \"{ns}\", name = \"jenkins\" }}]\n}}\n",
        env.provider_block(),
        ns = env.namespace
    ));
    phase(&env, &w, "create", &[("controller", "get", &sa), ("controller", "patch", &sa)], || apply_ok(&w, "create"));
    let obj = env.get_json("serviceaccount", "jenkins").expect("service account");
    assert!(obj.pointer("/metadata/annotations/eks.amazonaws.com~1role-arn").is_some(), "annotated: {obj}");
    phase(&env, &w, "read", &[("controller", "get", &sa)], || plan_ok(&w, "read"));
    phase(&env, &w, "delete", &[("controller", "get", &sa), ("controller", "patch", &sa)], || destroy_ok(&w, "delete"));
    let obj = env.get_json("serviceaccount", "jenkins").expect("the service account we did not create stays");
    assert!(obj.pointer("/metadata/annotations/eks.amazonaws.com~1role-arn").is_none(), "annotation removed: {obj}");
    w.cleanup();
}

#[test]
fn cross_account_chain_configmap_survives_faults() {
    let env = Env::new("fault-chain");
    let target = fresh_account();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    env.aws(&["iam", "create-role", "--role-name", "jenkins-ci-role", "--assume-role-policy-document", trust]);
    let w = env.workdir("fault-chain", &terraforms()[0]);
    let body = example("resources/jenkins_cross_account_chain/resource.tf")
        .replace("111111111111", &env.account)
        .replace("222222222222", &target);
    w.write_config(&format!("{}{body}", env.provider_block()));
    let cm = format!("/api/v1/namespaces/{}/configmaps/awsconfig-configmap", env.namespace);
    phase(&env, &w, "create", &[("controller", "get", &cm), ("controller", "patch", &cm)], || apply_ok(&w, "create"));
    assert!(env.get_json("configmap", "awsconfig-configmap").is_some(), "ConfigMap created");
    phase(&env, &w, "read", &[("controller", "get", &cm)], || plan_ok(&w, "read"));
    phase(&env, &w, "delete", &[("controller", "delete", &cm)], || destroy_ok(&w, "delete"));
    assert!(env.get_json("configmap", "awsconfig-configmap").is_none(), "ConfigMap deleted");
    w.cleanup();
}

#[test]
fn remote_cluster_access_objects_survive_faults() {
    let env = Env::new("fault-rca");
    let w = env.workdir("fault-rca", &terraforms()[0]);
    let rns = format!("{}-agents", env.namespace);
    let sa = "jenkins-agent-controller";
    w.write_config(&format!(
        "{}\nresource \"jenkins_remote_cluster_access\" \"remote\" {{\n  cluster {{\n    eks_cluster_name = \"remote\"\n  }}\n  namespace = \"{rns}\"\n  jenkins_credential {{\n    id = \"remote-agents\"\n  }}\n}}\n",
        env.provider_block()
    ));
    let namespace = format!("/api/v1/namespaces/{rns}");
    let account = format!("/api/v1/namespaces/{rns}/serviceaccounts/{sa}");
    let role = format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{rns}/roles/{sa}");
    let binding = format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{rns}/rolebindings/{sa}");
    let token = format!("/api/v1/namespaces/{rns}/secrets/{sa}-token");
    let credential = format!("/api/v1/namespaces/{}/secrets/remote-agents", env.namespace);
    // The namespace's path is a prefix of every other one, so its rules may be taken by any
    // object's request once that object's own are used up: each object gets one rule of two
    // answers (429 and 500 alternating), so no request sees more than four failures.
    let objects = [
        ("remote", account.as_str(), 429),
        ("remote", role.as_str(), 500),
        ("remote", binding.as_str(), 429),
        ("remote", token.as_str(), 500),
        ("controller", credential.as_str(), 429),
    ];
    let rules = |verb: &'static str, with_namespace: bool| {
        let mut v: Vec<(&str, &str, &str, u16)> = objects.iter().map(|&(c, p, s)| (c, verb, p, s)).collect();
        if with_namespace {
            v.push(("remote", verb, namespace.as_str(), 500));
        }
        v
    };
    phase_with(&env, &w, "create", &rules("patch", true), || apply_ok(&w, "create"));
    assert!(env.get_json("secret", "remote-agents").is_some(), "credential written");
    phase_with(&env, &w, "read", &rules("get", false), || plan_ok(&w, "read"));
    phase_with(&env, &w, "delete", &rules("delete", true), || destroy_ok(&w, "delete"));
    assert!(env.get_json("secret", "remote-agents").is_none(), "credential deleted");
    w.cleanup();
}
