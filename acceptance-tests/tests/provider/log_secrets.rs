//! No secret in any log: a demo-sized configuration (an IRSA role, a cross-account chain with
//! external ids, remote cluster access with its token, a cloud) applied, planned and destroyed
//! with Terraform's and the provider's logs at trace. Terraform's log file (which carries every
//! line the provider writes to stderr) and Terraform's stderr are then searched for every secret
//! the run handled; a hit fails the test and names only where it was, never the secret.

use super::support::Env;
use acceptance_tests::stack::fresh_account;
use acceptance_tests::terraform::{example, terraforms};
use base64::Engine;
use serde_json::Value as Json;

const SA: &str = "jenkins-agent-controller";

/// A value no log line can contain by chance.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    format!("{prefix}{}x{nanos}", std::process::id())
}

fn config(env: &Env, target: &str, admin_external_id: &str, external_id: &str) -> String {
    let ns = &env.namespace;
    let chain = example("resources/jenkins_cross_account_chain/resource.tf")
        .replace("111111111111", &env.account)
        .replace("222222222222", target)
        .replace(
            "role_session_name = \"jenkinssession\"",
            &format!("role_session_name = \"jenkinssession\"\n    external_id       = \"{external_id}\""),
        )
        .replace(
            "admin_role_arn = \"arn:aws:iam::",
            &format!("admin_external_id = \"{admin_external_id}\"\n      admin_role_arn = \"arn:aws:iam::"),
        );
    assert!(chain.contains(admin_external_id) && chain.contains(external_id), "the example changed:\n{chain}");
    format!(
        r#"{provider}
resource "jenkins_irsa_role" "ci" {{
  name             = "ci-{ns}"
  clusters         = ["controller"]
  service_accounts = [{{ namespace = "{ns}", name = "jenkins" }}]
}}

{chain}

resource "jenkins_remote_cluster_access" "remote" {{
  cluster {{
    eks_cluster_name = "remote"
  }}
  namespace = "{ns}-agents"
  jenkins_credential {{
    id = "remote-agents"
  }}
}}

resource "jenkins_pod_template" "t" {{
  name   = "t"
  labels = ["t"]
  tool_container {{
    name     = "maven"
    image    = "maven:3.9.9"
    requests = {{ cpu = "1", memory = "1Gi" }}
  }}
}}

resource "jenkins_agent_cloud" "remote" {{
  name           = "remote"
  namespace      = jenkins_remote_cluster_access.remote.namespace
  server_url     = jenkins_remote_cluster_access.remote.server_url
  server_ca_certificate = jenkins_remote_cluster_access.remote.ca_certificate
  credentials_id = jenkins_remote_cluster_access.remote.credentials_id
  jenkins_url    = "http://jenkins.example.com"
  templates      = [jenkins_pod_template.t]
}}
"#,
        provider = env.provider_block(),
    )
}

/// Where each secret occurs in `texts` (source name → text): `label in source, line N`.
fn findings(secrets: &[(&str, String)], texts: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (label, secret) in secrets {
        assert!(secret.len() >= 6, "{label} is too short to search for meaningfully");
        for (source, text) in texts {
            for (i, line) in text.lines().enumerate() {
                if line.contains(secret.as_str()) {
                    out.push(format!("{label} in {source}, line {}", i + 1));
                }
            }
        }
    }
    out
}

fn remote_token(env: &Env, ns: &str) -> String {
    let out = env.kubectl("remote", &["-n", ns, "get", "secret", &format!("{SA}-token"), "-o", "json"]);
    let secret: Json = serde_json::from_str(&out).expect("secret JSON");
    let b64 = secret["data"]["token"].as_str().expect("token data");
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).expect("base64")).expect("utf-8")
}

#[test]
fn no_secret_reaches_any_log_at_trace() {
    let env = Env::new("log-secrets");
    let target = fresh_account();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    env.aws(&["iam", "create-role", "--role-name", "jenkins-ci-role", "--assume-role-policy-document", trust]);
    let out = env.aws(&["eks", "describe-cluster", "--name", "controller", "--output", "json"]);
    let issuer =
        serde_json::from_str::<Json>(&out).expect("describe-cluster JSON")["cluster"]["identity"]["oidc"]["issuer"]
            .as_str()
            .expect("issuer")
            .to_string();
    env.aws(&["iam", "create-open-id-connect-provider", "--url", &issuer, "--client-id-list", "sts.amazonaws.com"]);
    env.kubectl("controller", &["-n", &env.namespace, "create", "serviceaccount", "jenkins"]);

    // The emulator checks EKS token signatures with the stack's secret key, so that stays; a
    // session token of our own (nothing checks it) makes session tokens searchable.
    let secret_key = env.vars().into_iter().find(|(k, _)| k == "AWS_SECRET_ACCESS_KEY").expect("stack secret key").1;
    let session_token = unique("tfpjSessionToken");
    let admin_external_id = unique("tfpjAdminXid");
    let external_id = unique("tfpjHopXid");
    let w = env.workdir("log-secrets", &terraforms()[0]);
    let log = w.dir.join("terraform-trace.log");
    let w = w.with_env([
        ("TF_LOG", "trace".to_string()),
        ("TF_LOG_PROVIDER", "trace".to_string()),
        ("TF_LOG_PATH", log.display().to_string()),
        ("AWS_SESSION_TOKEN", session_token.clone()),
    ]);
    w.write_config(&config(&env, &target, &admin_external_id, &external_id));

    // One throttled write of the token's credential, so the provider's own retry line (which
    // names the object) is in the log too and is searched with the rest.
    let fault = w.dir.join("fault.json");
    let path = format!("/api/v1/namespaces/{}/secrets/remote-agents", env.namespace);
    std::fs::write(
        &fault,
        serde_json::json!({"verb": "patch", "path_prefix": path, "status": 429, "count": 1}).to_string(),
    )
    .expect("write fault rule");
    env.kubectl("controller", &["create", "--raw", "/emulator/faults", "-f", &fault.display().to_string()]);

    let mut stderr = Vec::new();
    let apply = w.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(apply.code, 0, "apply failed:\n{}", apply.text());
    stderr.push(("apply stderr".to_string(), apply.stderr));
    let token = remote_token(&env, &format!("{}-agents", env.namespace));
    let plan = w.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 0, "plan after apply is not empty:\n{}", plan.text());
    stderr.push(("plan stderr".to_string(), plan.stderr));
    let destroy = w.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(destroy.code, 0, "destroy failed:\n{}", destroy.text());
    stderr.push(("destroy stderr".to_string(), destroy.stderr));

    let trace = std::fs::read_to_string(&log).expect("Terraform wrote its log");
    // The log really is at trace and really carries the provider's lines and Kubernetes calls.
    assert!(trace.contains("[TRACE]"), "no trace lines in {}", log.display());
    assert!(trace.contains("terraform-provider-jenkins"), "no provider lines in {}", log.display());
    assert!(
        trace.contains("retrying Kubernetes request"),
        "the provider's debug lines are missing from {}",
        log.display()
    );
    let mut texts = vec![("Terraform's log".to_string(), trace)];
    texts.extend(stderr);
    let secrets = [
        ("the remote service-account token", token),
        ("an EKS bearer token", "k8s-aws-v1.".to_string()),
        ("the AWS secret access key", secret_key),
        ("the AWS session token", session_token),
        ("the admin role's external id", admin_external_id),
        ("the hop's external id", external_id),
    ];
    let found = findings(&secrets, &texts);
    assert!(found.is_empty(), "secrets in logs:\n{}", found.join("\n"));
    w.cleanup();
}
