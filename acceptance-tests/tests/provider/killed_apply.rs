//! A killed apply converges: `terraform apply` and its provider are SIGKILLed while the provider is
//! inside a resource's create (an emulator fault rule holds one call), after earlier objects were
//! written; a second `apply` must finish, adopt the half-made objects (they carry the resource's
//! owner mark), leave one of each and nothing more, and plan empty. An object another resource
//! marks is still refused.

use super::support::Env;
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
    let mut child = w.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let start = Instant::now();
    while armed(env, cluster, path) {
        if let Some(status) = child.try_wait().expect("poll terraform") {
            panic!("apply ended ({status}) before it reached the held call {path}");
        }
        assert!(start.elapsed() < Duration::from_secs(120), "apply never reached {path}");
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
