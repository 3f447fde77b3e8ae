//! A killed apply converges: `terraform apply` and its provider are SIGKILLed while the provider is
//! inside a resource's create (an emulator fault rule holds one call), after earlier objects were
//! written; a second `apply` must finish, adopt the half-made objects (they carry the resource's
//! owner mark), leave one of each and nothing more, and plan empty. An object another resource
//! marks is still refused.

use super::agent_cloud::live_file;
use super::cross_account_chain::{OTHER_TRUST, create_role, get_role, seed_config, trust_of};
use super::irsa_role::{role, role_names, role_policies, unannotated_role};
use super::jenkins_loop::{TEMPLATE, cloud, exported_cloud, with_standin};
use super::support::Env;
use acceptance_tests::jenkins::{Jenkins, Options};
use acceptance_tests::stack::{self, fresh_account};
use acceptance_tests::terraform::{Workdir, terraforms};
use serde_json::{Value as Json, json};
use std::time::{Duration, Instant};

/// Holds the next `verb` request under `path` of `cluster` for a long time (`before`: not carried
/// out yet; otherwise carried out and its answer held).
fn hold(env: &Env, w: &Workdir, cluster: &str, verb: &str, path: &str, before: bool) {
    let file = w.dir.join("hold.json");
    let key = if before { "latency_ms" } else { "after_ms" };
    let rule = json!({"verb": verb, "path_prefix": path, "count": 1, key: 120_000});
    std::fs::write(&file, rule.to_string()).expect("write fault rule");
    env.kubectl(cluster, &["create", "--raw", "/emulator/faults", "-f", &file.display().to_string()]);
}

/// True while a rule under `path` of `cluster` is still armed (its request has not come yet).
fn armed(env: &Env, cluster: &str, path: &str) -> bool {
    let out = env.kubectl(cluster, &["get", "--raw", "/emulator/faults"]);
    let list: Json = serde_json::from_str(&out).expect("fault list JSON");
    list["faults"].as_array().expect("faults").iter().any(|f| f["path_prefix"].as_str() == Some(path))
}

/// Starts `apply`, waits until the held request arrives, and SIGKILLs terraform's process group.
fn apply_killed_at(env: &Env, w: &Workdir, cluster: &str, path: &str) {
    apply_killed_when(w, path, || armed(env, cluster, path));
}

/// Starts `apply`, waits while `waiting` says the held call (`what`) has not come, and SIGKILLs
/// terraform's process group (the provider with it).
fn apply_killed_when(w: &Workdir, what: &str, waiting: impl Fn() -> bool) {
    let mut child = w.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let start = Instant::now();
    while waiting() {
        if let Some(status) = child.try_wait().expect("poll terraform") {
            panic!("apply ended ({status}) before it reached the held call {what}");
        }
        assert!(start.elapsed() < Duration::from_secs(120), "apply never reached {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pgid = child.id() as i32;
    // SAFETY: kill(2) on the process group terraform leads; no memory is involved.
    let rc = unsafe { libc_kill(-pgid, 9) };
    assert_eq!(rc, 0, "SIGKILL the apply");
    let _ = child.wait();
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// Names of the objects of `kind` in `ns` of `cluster` carrying the remote access's labels.
fn owned_names(env: &Env, cluster: &str, ns: &str, kind: &str) -> Vec<String> {
    let out = env.kubectl(
        cluster,
        &[
            "-n",
            ns,
            "get",
            kind,
            "-l",
            "app.kubernetes.io/managed-by=terraform-provider-jenkins,jenkins-eks.io/resource=remote-cluster-access",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ],
    );
    let mut names: Vec<String> = out.split_whitespace().map(str::to_string).collect();
    names.sort();
    names
}

fn access(env: &Env, ns: &str, sa: &str) -> String {
    format!(
        r#"{provider}
resource "jenkins_remote_cluster_access" "remote" {{
  cluster {{
    eks_cluster_name = "remote"
  }}
  namespace       = "{ns}"
  service_account = "{sa}"
  jenkins_credential {{
    id = "remote-agents"
  }}
}}
"#,
        provider = env.provider_block(),
    )
}

#[test]
fn remote_access_killed_after_its_namespace_converges_and_refuses_another_access() {
    let env = Env::new("killed-remote");
    let ns = format!("{}-agents", env.namespace);
    let w = env.workdir("killed-remote", &terraforms()[0]);
    w.write_config(&access(&env, &ns, "jenkins"));
    // Held before it is carried out: namespace, service account, Role and binding exist, the token
    // Secret does not, nor the credential.
    let token = format!("/api/v1/namespaces/{ns}/secrets/jenkins-token");
    hold(&env, &w, "remote", "patch", &token, true);
    apply_killed_at(&env, &w, "remote", &token);
    let (ok, _) = env.try_kubectl("remote", &["get", "namespace", &ns]);
    assert!(ok, "the namespace was written before the kill");
    assert!(env.get_json("secret", "remote-agents").is_none(), "the credential was not written before the kill");
    let state = w.run(&["state", "list"]);
    assert!(
        !state.stdout.contains("jenkins_remote_cluster_access"),
        "the killed create left no state: {}",
        state.stdout
    );

    w.apply();
    w.assert_plans_empty();
    assert_eq!(owned_names(&env, "remote", &ns, "serviceaccount"), ["jenkins"], "one service account");
    assert_eq!(owned_names(&env, "remote", &ns, "role"), ["jenkins"], "one Role");
    assert_eq!(owned_names(&env, "remote", &ns, "rolebinding"), ["jenkins"], "one RoleBinding");
    assert_eq!(owned_names(&env, "remote", &ns, "secret"), ["jenkins-token"], "one token Secret");
    let cred = env.get_json("secret", "remote-agents").expect("credential Secret");
    let mark = cred["metadata"]["annotations"]["jenkins-eks.io/owner"].as_str().unwrap_or_default().to_string();
    assert!(
        mark.starts_with("remote-cluster-access/") && mark.ends_with(&format!("/{ns}/jenkins")),
        "owner mark: {mark}"
    );

    // Another access that would create the same namespace is refused: the namespace is this one's.
    let other = Workdir::new("killed-remote-other", &terraforms()[0]).with_env(env.vars());
    other.write_config(&access(&env, &ns, "other").replace("remote-agents", "other-agents"));
    other.expect_error(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &["Namespace", &ns, "belongs to another", &mark],
    );
    let (made, _) = env.try_kubectl("remote", &["-n", &ns, "get", "serviceaccount", "other"]);
    assert!(!made, "the refused access wrote nothing in the namespace");
    other.destroy();
    assert!(
        owned_names(&env, "remote", &ns, "serviceaccount").contains(&"jenkins".to_string()),
        "refused destroy left ours"
    );

    w.destroy();
    assert!(env.get_json("secret", "remote-agents").is_none(), "credential deleted");
    other.cleanup();
    w.cleanup();
}

fn inline_policy_names(env: &Env, name: &str) -> Vec<String> {
    let out = env.aws(&["iam", "list-role-policies", "--role-name", name, "--output", "json"]);
    let json: Json = serde_json::from_str(&out).expect("list-role-policies JSON");
    json["PolicyNames"].as_array().into_iter().flatten().filter_map(|p| p.as_str().map(str::to_string)).collect()
}

fn owner_tag(env: &Env, name: &str) -> Option<String> {
    let tags = role(env, name)["Tags"].clone();
    let found = tags.as_array().into_iter().flatten().find(|t| t["Key"] == "jenkins-eks.io/resource");
    found.and_then(|t| t["Value"].as_str()).map(str::to_string)
}

/// CreateRole is carried out and its answer held, so the provider never learns of the role: the
/// apply is killed with the role made (tagged as ours) and nothing attached. The rerun adopts
/// that role by its owner tag, attaches exactly what is configured, and leaves one role; a role of
/// the same name marked by another owner is still refused.
#[test]
fn irsa_role_killed_after_create_role_adopts_its_own_role() {
    let (env, w, name, policy) = unannotated_role("killed-irsa");
    let s = stack::shared();
    s.hold_reply(&env.account, "iam:CreateRole", 120_000);
    apply_killed_when(&w, "iam:CreateRole", || s.hold_armed(&env.account, "iam:CreateRole"));
    s.clear_faults(&env.account);
    assert_eq!(role_names(&env), vec![name.clone()], "CreateRole was carried out before the kill");
    assert_eq!(owner_tag(&env, &name).as_deref(), Some(format!("irsa-role/{name}").as_str()), "marked as ours");
    assert!(role_policies(&env, &name).is_empty(), "nothing was attached before the kill");
    let state = w.run(&["state", "list"]);
    assert!(!state.stdout.contains("jenkins_irsa_role"), "the killed create left no state: {}", state.stdout);

    w.apply();
    w.assert_plans_empty();
    assert_eq!(role_names(&env), vec![name.clone()], "one role, no second one");
    assert_eq!(role_policies(&env, &name), vec![policy.clone()], "managed policies exactly as configured");
    assert_eq!(inline_policy_names(&env, &name), ["artifacts"], "inline policies exactly as configured");
    let local = env.aws(&["iam", "list-policies", "--scope", "Local", "--query", "Policies[].Arn", "--output", "text"]);
    assert_eq!(local.split_whitespace().collect::<Vec<_>>(), [policy.as_str()], "no orphaned managed policy");

    // The same role name marked by another owner: create refuses it and leaves it as it was.
    w.destroy();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    env.aws(&[
        "iam",
        "create-role",
        "--role-name",
        &name,
        "--assume-role-policy-document",
        trust,
        "--tags",
        "Key=jenkins-eks.io/resource,Value=irsa-role/someone-else",
    ]);
    w.expect_error(&["apply", "-auto-approve", "-input=false", "-no-color"], &["Role Already Exists", &name]);
    assert!(role_policies(&env, &name).is_empty(), "the other owner's role got no attachment");
    assert_eq!(owner_tag(&env, &name).as_deref(), Some("irsa-role/someone-else"), "its mark is untouched");
    env.aws(&["iam", "delete-role", "--role-name", &name]);
    w.cleanup();
}

/// Names of the ConfigMaps in `env`'s namespace the agent-cloud resources own by their labels.
fn cloud_configmaps(env: &Env) -> Vec<String> {
    let selector = "app.kubernetes.io/managed-by=terraform-provider-jenkins,jenkins-eks.io/resource=agent-cloud";
    let out = env.kubectl(
        "controller",
        &["-n", &env.namespace, "get", "configmap", "-l", selector, "-o", "jsonpath={.items[*].metadata.name}"],
    );
    out.split_whitespace().map(str::to_string).collect()
}

/// The cloud's ConfigMap write is carried out and its answer held, so the apply is killed after
/// the ConfigMap and before Jenkins confirmed anything. The sidecar loads the file anyway; the
/// rerun adopts the ConfigMap by its owner mark, Jenkins runs the cloud, one ConfigMap, empty
/// plans. A ConfigMap of that name marked by another cloud is refused and left as it was.
#[test]
fn agent_cloud_killed_after_its_configmap_converges() {
    let env = Env::new("killed-cloud");
    let jenkins = Jenkins::start(&env.namespace, "jenkins", Options::default());
    let (block, vars) = with_standin(&env, &jenkins);
    let w = env.workdir("killed-cloud", &terraforms()[0]).with_env(vars);
    w.write_config(&format!("{block}{TEMPLATE}{}", cloud("killed", 5)));
    let path = format!("/api/v1/namespaces/{}/configmaps/tf-jcasc-cloud-killed", env.namespace);
    hold(&env, &w, "controller", "patch", &path, false);
    apply_killed_at(&env, &w, "controller", &path);
    let cm = env.get_json("configmap", "tf-jcasc-cloud-killed").expect("the ConfigMap was written before the kill");
    assert_eq!(cm["metadata"]["annotations"]["jenkins-eks.io/owner"], "agent-cloud/killed", "owner mark: {cm}");
    let state = w.run(&["state", "list"]);
    assert!(!state.stdout.contains("jenkins_agent_cloud"), "the killed create left no state: {}", state.stdout);
    // The sidecar does not need the provider: Jenkins loads the half-applied file on its own.
    jenkins.wait_until(|| exported_cloud(&jenkins.export(), "killed").is_some(), "the cloud the killed apply wrote");

    let applied = w.apply();
    assert!(!applied.text().contains("Warning: Jenkins"), "Jenkins confirmed the rerun: {}", applied.text());
    w.assert_plans_empty();
    assert_eq!(cloud_configmaps(&env), ["tf-jcasc-cloud-killed"], "one ConfigMap");
    let casc = live_file(&env, &w, "jenkins_agent_cloud.killed");
    assert_eq!(jenkins.files().get("terraform/cloud-killed.yaml"), Some(&casc), "the sidecar's file is the state's");
    let live = exported_cloud(&jenkins.export(), "killed").expect("Jenkins runs the cloud");
    assert!(live.contains("containerCap: 5"), "{live}");

    // A ConfigMap of that name with our labels but another cloud's mark is not adopted.
    w.destroy();
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tf-jcasc-cloud-killed\n  namespace: {}\n  labels: {{app.kubernetes.io/managed-by: terraform-provider-jenkins, jenkins-eks.io/resource: agent-cloud}}\n  annotations: {{jenkins-eks.io/owner: agent-cloud/someone-else}}\ndata:\n  other.yaml: \"jenkins: {{}}\"\n",
        env.namespace
    );
    let file = w.dir.join("other.yaml");
    std::fs::write(&file, manifest).expect("write manifest");
    env.kubectl("controller", &["create", "-f", &file.display().to_string()]);
    w.expect_error(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &["tf-jcasc-cloud-killed", "belongs to another resource", "agent-cloud/someone-else"],
    );
    let other = env.get_json("configmap", "tf-jcasc-cloud-killed").expect("left in place");
    assert_eq!(other["data"], json!({"other.yaml": "jenkins: {}"}), "the other cloud's ConfigMap is untouched");
    env.kubectl("controller", &["-n", &env.namespace, "delete", "configmap", "tf-jcasc-cloud-killed"]);
    w.cleanup();
}

/// The chain replaces the trust of a target role it did not create; the answer of that
/// UpdateAssumeRolePolicy is held and the apply killed, before any state or ConfigMap write of the
/// old design. The original trust was recorded in the chain's ConfigMap first, so the rerun keeps
/// it (not our trust) as the one to restore, and destroy gives the role its own trust back.
#[test]
fn chain_killed_after_replacing_a_trust_still_restores_the_original() {
    let env = Env::new("killed-chain");
    let target = fresh_account();
    create_role(&env, &target, "jenkins-deploy-role", OTHER_TRUST);
    let w = env.workdir("killed-chain", &terraforms()[0]);
    w.write_config(
        &seed_config(&env, &target).replace("grant_source_permission = true", "grant_source_permission = false"),
    );
    let s = stack::shared();
    s.hold_reply(&target, "iam:UpdateAssumeRolePolicy", 120_000);
    apply_killed_when(&w, "iam:UpdateAssumeRolePolicy", || s.hold_armed(&target, "iam:UpdateAssumeRolePolicy"));
    s.clear_faults(&target);
    let trust = || trust_of(&get_role(&env, &target, "jenkins-deploy-role").expect("the role is kept"));
    assert!(trust().to_string().contains("aws:PrincipalArn"), "the trust was replaced before the kill: {}", trust());
    let state = w.run(&["state", "list"]);
    assert!(!state.stdout.contains("jenkins_cross_account_chain"), "the killed create left no state: {}", state.stdout);

    w.apply();
    w.assert_plans_empty();
    let arn = format!("arn:aws:iam::{target}:role/jenkins-deploy-role");
    let state = w.resource("jenkins_cross_account_chain.deploy");
    assert_eq!(state["created_roles"], json!([]), "the role is not taken for ours");
    let original = state["replaced_trusts"][&arn].as_str().unwrap_or_default().to_string();
    assert!(original.contains("ec2.amazonaws.com") && !original.contains("PrincipalArn"), "original kept: {original}");

    w.destroy();
    assert_eq!(trust(), serde_json::from_str::<Json>(OTHER_TRUST).expect("JSON"), "the original trust is back");
    w.cleanup();
}
