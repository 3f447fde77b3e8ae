//! `jenkins_remote_cluster_access` through real Terraform against two emulated clusters: the remote
//! cluster reached by EKS name with the resource's own signed token, the credential written to the
//! controller cluster. The issued token is then used the way the Kubernetes plugin uses it, with
//! RBAC on, so the permissions are proven and not only written.

use super::support::{Env, sha256};
use acceptance_tests::stack;
use acceptance_tests::terraform::{Workdir, terraforms};
use base64::Engine;
use std::process::{Command, Stdio};

const ADDRESS: &str = "jenkins_remote_cluster_access.remote";
const SA: &str = "jenkins-agent-controller";

/// The remote agent namespace of a test: unique, since the remote cluster is shared.
fn agents_namespace(env: &Env) -> String {
    format!("{}-agents", env.namespace)
}

fn access(env: &Env, body: &str) -> String {
    format!(
        r#"{provider}
resource "jenkins_remote_cluster_access" "remote" {{
  cluster {{
    eks_cluster_name = "remote"
  }}
  namespace = "{ns}"
{body}
}}
"#,
        provider = env.provider_block(),
        ns = agents_namespace(env),
    )
}

const CREDENTIAL: &str = r#"
  jenkins_credential {
    id          = "remote-agents"
    description = "Agents in the remote cluster"
  }
"#;

fn decode(b64: &serde_json::Value) -> String {
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).expect("base64 data");
    String::from_utf8(bytes).expect("utf-8 token")
}

fn remote_json(env: &Env, ns: &str, kind: &str, name: &str) -> Option<serde_json::Value> {
    let (ok, out) = env.try_kubectl("remote", &["-n", ns, "get", kind, name, "-o", "json"]);
    if !ok {
        assert!(out.contains("NotFound") || out.contains("not found"), "kubectl get {kind}/{name}: {out}");
        return None;
    }
    Some(serde_json::from_str(&out).expect("kubectl JSON"))
}

fn remote_token(env: &Env, ns: &str, secret: &str) -> String {
    let s = remote_json(env, ns, "secret", secret).unwrap_or_else(|| panic!("token Secret {secret} missing"));
    decode(&s["data"]["token"])
}

fn credential_text(env: &Env, id: &str) -> Option<String> {
    env.get_json("secret", id).map(|s| decode(&s["data"]["text"]))
}

/// kubectl against the remote cluster as the issued token (no admin), from a kubeconfig of its own.
struct AsToken {
    kubeconfig: std::path::PathBuf,
}

impl AsToken {
    fn new(w: &Workdir, token: &str) -> AsToken {
        let remote = stack::shared().kube.cluster("remote");
        let kubeconfig = w.dir.join("agent.kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: remote\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: jenkins\n  user:\n    token: {token}\ncontexts:\n- name: jenkins\n  context:\n    cluster: remote\n    user: jenkins\ncurrent-context: jenkins\n",
            remote.endpoint,
            remote.ca_file.display()
        );
        std::fs::write(&kubeconfig, text).expect("write kubeconfig");
        AsToken { kubeconfig }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> (bool, String) {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig").arg(&self.kubeconfig).args(args);
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kubectl");
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("kubectl output");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    fn can_i(&self, ns: &str, verb: &str, resource: &str) -> String {
        let (_, out) = self.run(&["auth", "can-i", verb, resource, "-n", ns], None);
        out.trim().to_string()
    }
}

/// What the plugin does with the token: create an agent pod, watch it, exec into it, read its log,
/// delete it; and what it must not do: anything outside the namespace, or read Secrets.
fn prove_rbac(w: &Workdir, env: &Env, ns: &str, token: &str) {
    let k = AsToken::new(w, token);
    assert_eq!(k.can_i(ns, "create", "pods/exec"), "yes");
    assert_eq!(k.can_i(ns, "get", "pods/exec"), "yes");
    assert_eq!(k.can_i(ns, "watch", "events"), "yes");
    assert_eq!(k.can_i(ns, "get", "secrets"), "no");
    assert_eq!(k.can_i(&env.namespace, "create", "pods"), "no", "nothing outside the agent namespace");

    let pod = format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"agent-1","namespace":"{ns}"}},"spec":{{"containers":[{{"name":"jnlp","image":"jenkins/inbound-agent"}}]}}}}"#
    );
    let (ok, out) = k.run(&["create", "-f", "-"], Some(&pod));
    assert!(ok, "create pod as the token: {out}");
    let (ok, out) = k.run(&["-n", ns, "wait", "--for=condition=Ready", "pod/agent-1", "--timeout=20s"], None);
    assert!(ok, "watch pod as the token: {out}");
    let (ok, out) = k.run(&["-n", ns, "get", "pods"], None);
    assert!(ok && out.contains("agent-1"), "list pods as the token: {out}");
    let (ok, out) = k.run(&["-n", ns, "exec", "agent-1", "--", "echo", "hi"], None);
    assert!(ok, "exec as the token: {out}");
    let (ok, out) = k.run(&["-n", ns, "logs", "agent-1"], None);
    assert!(ok, "logs as the token: {out}");
    let (ok, out) = k.run(&["-n", ns, "delete", "pod", "agent-1", "--wait=false"], None);
    assert!(ok, "delete pod as the token: {out}");

    let (ok, out) = k.run(&["-n", ns, "get", "secrets"], None);
    assert!(!ok && out.contains("forbidden"), "Secrets are refused: {out}");
    let (ok, out) = k.run(&["-n", "default", "get", "pods"], None);
    assert!(!ok && out.contains("forbidden"), "other namespaces are refused: {out}");
}

#[test]
fn lifecycle_rbac_proof_import_drift_rotation_destroy() {
    for tf in terraforms() {
        let env = Env::new("rca-life");
        let ns = agents_namespace(&env);
        let w = env.installed_workdir("remote-access-life", tf);
        w.write_config(&access(&env, CREDENTIAL));
        w.apply();
        w.assert_plans_empty();

        // The remote cluster: our namespace, service account, Role, binding and a filled token.
        let namespace = remote_json(&env, "default", "namespace", &ns).expect("namespace created");
        assert_eq!(namespace["metadata"]["labels"]["app.kubernetes.io/managed-by"], "terraform-provider-jenkins");
        assert!(remote_json(&env, &ns, "serviceaccount", SA).is_some(), "service account");
        let role = remote_json(&env, &ns, "role", SA).expect("role");
        let rules = role["rules"].as_array().expect("rules");
        let exec = rules.iter().find(|r| r["resources"][0] == "pods/exec").expect("pods/exec rule");
        assert_eq!(exec["verbs"], serde_json::json!(["create", "get"]));
        assert!(rules.iter().all(|r| r["resources"][0] != "secrets"), "{role}");
        let binding = remote_json(&env, &ns, "rolebinding", SA).expect("binding");
        assert_eq!(binding["subjects"][0]["name"], SA);
        assert_eq!(binding["roleRef"]["name"], SA);
        let token_secret = format!("{SA}-token");
        let token = remote_token(&env, &ns, &token_secret);
        assert!(!token.is_empty());

        // The controller: the credential in the kubernetes-credentials-provider format.
        let cred = env.get_json("secret", "remote-agents").expect("credential Secret");
        assert_eq!(cred["metadata"]["labels"]["jenkins.io/credentials-type"], "secretText", "{cred}");
        assert_eq!(cred["metadata"]["labels"]["jenkins.io/credentials-scope"], "global", "{cred}");
        assert_eq!(
            cred["metadata"]["annotations"]["jenkins.io/credentials-description"],
            "Agents in the remote cluster"
        );
        assert_eq!(credential_text(&env, "remote-agents").as_deref(), Some(token.as_str()));

        // State: the outputs for jenkins_agent_cloud and a fingerprint, never the token.
        let state = w.resource(ADDRESS);
        let remote = stack::shared().kube.cluster("remote");
        assert_eq!(state["server_url"], remote.endpoint.as_str());
        assert!(state["ca_certificate"].as_str().is_some_and(|c| c.starts_with("-----BEGIN CERTIFICATE")));
        assert_eq!(state["credentials_id"], "remote-agents");
        assert_eq!(state["token_sha256"], sha256(&token).as_str());
        assert!(state["token"].is_null());
        let shown = w.run(&["show", "-json"]).stdout;
        let file = std::fs::read_to_string(w.dir.join("terraform.tfstate")).expect("state file");
        assert!(!shown.contains(&token) && !file.contains(&token), "the token is in state");

        prove_rbac(&w, &env, &ns, &token);

        w.assert_import_round_trips(ADDRESS, &format!("remote/{ns}/{SA}"), &[]);

        // Drift: a hand-edited Role, a deleted binding, a deleted or tampered credential.
        env.kubectl(
            "remote",
            &["-n", &ns, "patch", "role", SA, "--type", "json", "-p", r#"[{"op":"remove","path":"/rules/1"}]"#],
        );
        w.assert_plan_shows(&["role_rules", "pods/exec"]);
        w.apply();
        w.assert_plans_empty();
        env.kubectl("remote", &["-n", &ns, "delete", "rolebinding", SA]);
        w.assert_plan_shows(&["RoleBinding"]);
        w.apply();
        w.assert_plans_empty();
        assert!(remote_json(&env, &ns, "rolebinding", SA).is_some(), "binding repaired");
        env.kubectl("controller", &["-n", &env.namespace, "delete", "secret", "remote-agents"]);
        w.assert_plan_shows(&["controller Secret"]);
        w.apply();
        w.assert_plans_empty();
        assert_eq!(credential_text(&env, "remote-agents").as_deref(), Some(token.as_str()));
        let tampered = base64::engine::general_purpose::STANDARD.encode("not-the-token");
        env.kubectl(
            "controller",
            &[
                "-n",
                &env.namespace,
                "patch",
                "secret",
                "remote-agents",
                "-p",
                &format!(r#"{{"data":{{"text":"{tampered}"}}}}"#),
            ],
        );
        w.assert_plan_shows(&["token_sha256"]);
        w.apply();
        w.assert_plans_empty();
        assert_eq!(credential_text(&env, "remote-agents").as_deref(), Some(token.as_str()));

        // Rotation: a new token Secret, the credential moved to it, the old token gone.
        w.write_config(&access(&env, &format!("{CREDENTIAL}\n  rotate_token_when = {{ rotated = \"1\" }}\n")));
        w.assert_plan_shows(&["token_sha256", "token_secret_name"]);
        w.apply();
        w.assert_plans_empty();
        let state = w.resource(ADDRESS);
        let new_secret = state["token_secret_name"].as_str().expect("token_secret_name").to_string();
        assert!(new_secret.starts_with(&format!("{SA}-token-")), "{new_secret}");
        let new_token = remote_token(&env, &ns, &new_secret);
        assert_ne!(new_token, token);
        assert_eq!(credential_text(&env, "remote-agents").as_deref(), Some(new_token.as_str()));
        assert!(remote_json(&env, &ns, "secret", &token_secret).is_none(), "old token Secret deleted");
        assert_eq!(state["token_sha256"], sha256(&new_token).as_str());
        let k = AsToken::new(&w, &token);
        assert_ne!(k.can_i(&ns, "create", "pods"), "yes", "the old token is revoked");
        w.assert_import_round_trips(ADDRESS, &format!("remote/{ns}/{SA}"), &[]);

        // Destroy: nothing left in either cluster.
        w.destroy();
        assert!(env.get_json("secret", "remote-agents").is_none(), "credential left behind");
        assert!(remote_json(&env, "default", "namespace", &ns).is_none(), "namespace left behind");
        w.cleanup();
    }
}

/// An existing namespace is used and kept; a service account someone else made is never adopted.
#[test]
fn existing_namespace_is_used_and_foreign_objects_refused() {
    let tf = &terraforms()[0];
    let env = Env::new("rca-existing");
    let ns = agents_namespace(&env);
    env.kubectl("remote", &["create", "namespace", &ns]);
    env.kubectl("remote", &["-n", &ns, "create", "serviceaccount", "someone-elses"]);
    let w = env.workdir("remote-access-existing", tf);

    w.write_config(&access(&env, "  create_namespace = false\n  service_account = \"someone-elses\"\n"));
    w.expect_error(&["apply", "-auto-approve", "-no-color"], &["Error: Object Owned By Someone Else", "never adopts"]);
    let sa = remote_json(&env, &ns, "serviceaccount", "someone-elses").expect("still there");
    assert!(sa["metadata"]["labels"].get("app.kubernetes.io/managed-by").is_none(), "untouched: {sa}");

    w.write_config(&access(&env, "  create_namespace = false\n  expose_token = true\n"));
    w.apply();
    w.assert_plans_empty();
    let state = w.resource(ADDRESS);
    let token = remote_token(&env, &ns, &format!("{SA}-token"));
    assert_eq!(state["token"], token.as_str(), "expose_token puts the token into state");
    assert!(state["credentials_id"].is_null());

    // A credential added later gets the same token; removed again, its Secret goes.
    w.write_config(&access(&env, &format!("  create_namespace = false\n  expose_token = true\n{CREDENTIAL}")));
    w.apply();
    w.assert_plans_empty();
    assert_eq!(credential_text(&env, "remote-agents").as_deref(), Some(token.as_str()));
    let renamed = CREDENTIAL.replace("\"remote-agents\"", "\"remote-agents-2\"");
    w.write_config(&access(&env, &format!("  create_namespace = false\n  expose_token = true\n{renamed}")));
    w.apply();
    w.assert_plans_empty();
    assert!(env.get_json("secret", "remote-agents").is_none(), "the old credential id is deleted");
    assert_eq!(credential_text(&env, "remote-agents-2").as_deref(), Some(token.as_str()));
    w.write_config(&access(&env, "  create_namespace = false\n  expose_token = true\n"));
    w.apply();
    w.assert_plans_empty();
    assert!(env.get_json("secret", "remote-agents-2").is_none(), "a removed credential is deleted");
    w.destroy();
    assert!(remote_json(&env, "default", "namespace", &ns).is_some(), "a namespace we did not create is kept");
    assert!(remote_json(&env, &ns, "serviceaccount", SA).is_none(), "our service account is gone");
    assert!(remote_json(&env, &ns, "serviceaccount", "someone-elses").is_some(), "nothing else is touched");
    w.cleanup();
}

/// Bad input fails at plan, naming the attribute, with nothing written; the controller's own
/// cluster as the remote one gets a warning.
#[test]
fn bad_input_fails_at_plan_and_same_cluster_warns() {
    let tf = &terraforms()[0];
    let env = Env::new("rca-bad");
    let ns = agents_namespace(&env);
    let w = env.workdir("remote-access-bad", tf);
    let cases: &[(&str, &[&str])] = &[
        (
            "  extra_rules {\n    resources = [\"configmaps\"]\n    verbs = [\"read\"]\n  }\n",
            &["Unknown Verb", "\"read\""],
        ),
        ("  extra_rules {\n    resources = []\n    verbs = [\"get\"]\n  }\n", &["Rule Without Resources"]),
        ("  jenkins_credential {\n    id = \"Remote_Token\"\n  }\n", &["Invalid Credential Id", "DNS-1123"]),
        ("  service_account = \"Jenkins\"\n", &["Invalid Service Account Name"]),
        ("  jenkins_credential {\n    id = \"x\"\n    scope = \"folder\"\n  }\n", &["scope"]),
    ];
    for (body, needles) in cases {
        w.write_config(&access(&env, body));
        w.expect_error(&["plan", "-no-color"], needles);
    }
    w.write_config(&access(&env, "").replace("eks_cluster_name = \"remote\"", "eks_cluster_name = \"controller\""));
    let r = w.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.text().contains("Remote Cluster Is The Controller's Cluster"), "{}", r.text());
    assert!(remote_json(&env, "default", "namespace", &ns).is_none(), "nothing written");

    // An existing namespace that is not there fails the apply before anything is written.
    w.write_config(&access(&env, "  create_namespace = false\n"));
    w.expect_error(&["apply", "-auto-approve", "-no-color"], &["Namespace Not Found", "create_namespace"]);
    assert!(remote_json(&env, "default", "namespace", &ns).is_none(), "nothing written");
    w.cleanup();
}

/// `cluster.role_arn`: the remote cluster lives in another account, reached by assuming a role
/// there. The cluster is removed from the test's own account, so only the assumed role's session
/// can describe it and sign the EKS token the remote API server accepts.
#[test]
fn a_cluster_in_another_account_is_reached_through_role_arn() {
    let tf = &terraforms()[0];
    let env = Env::new("rca-role");
    let ns = agents_namespace(&env);
    let other = stack::fresh_account();
    env.aws(&["eks", "delete-cluster", "--name", "remote"]);
    let (ok, out) = env.aws_in(
        &other,
        &[
            "eks",
            "create-cluster",
            "--name",
            "remote",
            "--role-arn",
            &format!("arn:aws:iam::{other}:role/eks-cluster"),
            "--resources-vpc-config",
            "subnetIds=subnet-1",
        ],
    );
    assert!(ok, "create-cluster in {other}: {out}");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        env.account
    );
    let (ok, out) = env.aws_in(
        &other,
        &["iam", "create-role", "--role-name", "jenkins-remote-admin", "--assume-role-policy-document", &trust],
    );
    assert!(ok, "create-role: {out}");
    let w = env.workdir("remote-access-role", tf);

    // Without the role, the cluster is not in the provider's account.
    w.write_config(&access(&env, ""));
    w.expect_error(&["apply", "-auto-approve", "-no-color"], &["Cannot Reach The Remote Cluster", "ResourceNotFound"]);
    assert!(remote_json(&env, "default", "namespace", &ns).is_none(), "nothing written");

    let role_arn = format!("arn:aws:iam::{other}:role/jenkins-remote-admin");
    w.write_config(&access(&env, "").replace(
        "eks_cluster_name = \"remote\"",
        &format!("eks_cluster_name = \"remote\"\n    role_arn         = \"{role_arn}\""),
    ));
    w.apply();
    w.assert_plans_empty();
    assert!(remote_json(&env, &ns, "serviceaccount", SA).is_some(), "written through the assumed role");
    let state = w.resource(ADDRESS);
    assert_eq!(state["cluster"]["role_arn"], role_arn.as_str(), "{state}");
    w.destroy();
    assert!(remote_json(&env, &ns, "serviceaccount", SA).is_none(), "destroyed through the assumed role");
    w.cleanup();
}

/// The registry example, pointed at the emulated remote cluster: its outputs feed a cloud whose
/// JCasC names the remote server, its CA and the credential, with WebSocket agents.
#[test]
fn registry_example_feeds_an_agent_cloud() {
    let tf = &terraforms()[0];
    let env = Env::new("rca-example");
    let ns = agents_namespace(&env);
    let example = acceptance_tests::terraform::example("resources/jenkins_remote_cluster_access/resource.tf")
        .replace("eks_cluster_name = \"ci-east\"", "eks_cluster_name = \"remote\"")
        .replace("region           = \"us-east-2\"", "")
        .replace("\"jenkins-agents\"", &format!("{ns:?}"));
    let templates = acceptance_tests::terraform::example("resources/jenkins_pod_template/resource.tf");
    let w = env.workdir("remote-access-example", tf);
    w.write_config(&format!("{}{templates}{example}", env.provider_block()));
    w.apply();
    w.assert_plans_empty();
    let access = w.resource("jenkins_remote_cluster_access.east");
    let casc = super::agent_cloud::live_file(&env, &w, "jenkins_agent_cloud.east");
    let remote = stack::shared().kube.cluster("remote");
    assert!(casc.contains(&remote.endpoint), "{casc}");
    assert!(casc.contains("credentialsId: ci-east-agents") && casc.contains("webSocket: true"), "{casc}");
    assert!(casc.contains(&format!("namespace: {ns}")), "{casc}");
    assert!(access["ca_certificate"].as_str().is_some_and(|c| c.contains("BEGIN CERTIFICATE")));
    let cred = env.get_json("secret", "ci-east-agents").expect("credential");
    assert_eq!(cred["metadata"]["labels"]["jenkins.io/credentials-scope"], "system");
    let role = remote_json(&env, &ns, "role", SA).expect("role");
    assert!(role["rules"].as_array().is_some_and(|r| r.iter().any(|r| r["resources"][0] == "configmaps")), "{role}");
    w.destroy();
    assert!(env.get_json("secret", "ci-east-agents").is_none());
    w.cleanup();
}

/// The service account deleted while the apply waits for its token (the token controller then
/// deletes the token Secret, as a real one does): the apply fails with "Service Account Token Not
/// Issued" saying why, before the credential is written, so Jenkins never gets a token that is
/// not there; the rerun re-creates the service account and converges.
#[test]
fn a_token_revoked_while_waiting_fails_the_apply_before_the_credential_and_the_rerun_converges() {
    let env = Env::new("rca-token");
    let ns = agents_namespace(&env);
    let w = env.workdir("remote-access-token", &terraforms()[0]);
    w.write_config(&access(&env, CREDENTIAL));
    // The token Secret's write is carried out at once but answered late: time to delete the
    // service account while the provider has not started waiting yet.
    let token_secret = format!("{SA}-token");
    let rule = serde_json::json!({
        "verb": "patch",
        "path_prefix": format!("/api/v1/namespaces/{ns}/secrets/{token_secret}"),
        "after_ms": 8000
    });
    let file = w.dir.join("fault.json");
    std::fs::write(&file, rule.to_string()).expect("write fault rule");
    env.kubectl("remote", &["create", "--raw", "/emulator/faults", "-f", &file.display().to_string()]);
    let r = std::thread::scope(|s| {
        let apply = s.spawn(|| w.run(&["apply", "-auto-approve", "-input=false", "-no-color"]));
        let start = std::time::Instant::now();
        while remote_json(&env, &ns, "secret", &token_secret).is_none() {
            assert!(start.elapsed().as_secs() < 60, "the token Secret was never written");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        env.kubectl("remote", &["-n", &ns, "delete", "serviceaccount", SA]);
        apply.join().expect("apply thread")
    });
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(r.text().replace("│ ", "").contains("Error: Service Account Token Not Issued\n"), "{}", r.text());
    // The detail, across Terraform's line wrapping.
    let flat = r.text().replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    let why = format!(
        "Secret {ns}/{token_secret} was deleted while waiting for its token; its service account probably does not exist"
    );
    assert!(flat.contains(&why), "{}", r.text());
    assert!(env.get_json("secret", "remote-agents").is_none(), "no credential without a token");
    assert!(w.run(&["state", "list"]).stdout.trim().is_empty(), "nothing in state");

    w.apply();
    w.assert_plans_empty();
    let token = remote_token(&env, &ns, &token_secret);
    assert_eq!(credential_text(&env, "remote-agents").as_deref(), Some(token.as_str()));
    w.destroy();
    assert!(env.get_json("secret", "remote-agents").is_none(), "credential left behind");
    assert!(remote_json(&env, "default", "namespace", &ns).is_none(), "namespace left behind");
    w.cleanup();
}

/// A finalizer someone else put on the namespace holds it `Terminating` after destroy deletes
/// it: destroy still succeeds (the namespace is going, nothing of ours is left in it), warning
/// that re-creating it fails until it is gone; once the finalizer is removed it goes.
#[test]
fn a_namespace_held_by_a_finalizer_warns_on_destroy_that_it_still_terminates() {
    let env = Env::new("rca-held");
    let ns = agents_namespace(&env);
    let w = env.workdir("remote-access-held", &terraforms()[0]);
    w.write_config(&access(&env, CREDENTIAL));
    w.apply();
    env.kubectl(
        "remote",
        &["patch", "namespace", &ns, "--type=merge", "-p", r#"{"metadata":{"finalizers":["example.com/hold"]}}"#],
    );
    let r = w.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(r.code, 0, "a warning, not an error:\n{}", r.text());
    let flat = r.text().replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Warning: Namespace Still Terminating")
            && flat.contains(&format!("Namespace {ns} was deleted but is still terminating after 60 s")),
        "{}",
        r.text()
    );
    assert!(w.run(&["state", "list"]).stdout.trim().is_empty(), "destroyed in state");
    let held = remote_json(&env, "default", "namespace", &ns).expect("the finalizer holds the namespace");
    assert_eq!(held["status"]["phase"], "Terminating", "{held}");
    assert!(env.get_json("secret", "remote-agents").is_none(), "the credential is gone all the same");
    env.kubectl("remote", &["patch", "namespace", &ns, "--type=merge", "-p", r#"{"metadata":{"finalizers":null}}"#]);
    env.kubectl("remote", &["wait", "--for=delete", &format!("namespace/{ns}"), "--timeout=10s"]);
    w.cleanup();
}
