//! A cluster created in the same apply: the provider's `eks_cluster_name` comes from a resource
//! (a `terraform_data` standing for the cluster module, whose provisioner registers the cluster
//! with EKS), so at plan the provider's configuration is unknown and the cluster does not exist
//! yet. The plan must succeed without a single AWS or Kubernetes call; the one apply creates the
//! cluster, then the IRSA role (with the cluster's OIDC provider and the agents' service account),
//! the pod template and the cloud, and the next plan is empty.

use super::preflight::{controller, grant_agents};
use super::support::Env;
use acceptance_tests::stack;
use acceptance_tests::terraform::terraforms;
use serde_json::Value as Json;

/// The emulator's request-log lines so far that touch `namespace` (every request is logged).
fn kube_requests_in(namespace: &str) -> usize {
    let log = std::fs::read_to_string(stack::shared().dir.join("kube.log")).unwrap_or_default();
    let needle = format!("/namespaces/{namespace}/");
    log.lines().filter(|l| l.contains(&needle)).count()
}

fn config(env: &Env, aws: &str) -> String {
    let ns = &env.namespace;
    format!(
        r#"resource "terraform_data" "cluster" {{
  input = "controller"
  provisioner "local-exec" {{
    command = "{aws} eks create-cluster --name controller --role-arn arn:aws:iam::{account}:role/eks-cluster --resources-vpc-config subnetIds=subnet-1 > /dev/null"
  }}
}}
provider "jenkins" {{
  region = "us-east-1"
  kubernetes {{
    eks_cluster_name = terraform_data.cluster.output
  }}
  jenkins {{
    namespace = "{ns}"
  }}
}}
resource "jenkins_irsa_role" "ci" {{
  name                   = "ci-{ns}"
  clusters               = [terraform_data.cluster.output]
  service_accounts       = [{{ namespace = "{ns}", name = "agents" }}]
  manage_oidc_provider   = true
  create_service_account = true
}}
resource "jenkins_pod_template" "t" {{
  name            = "local"
  labels          = ["local"]
  service_account = "agents"
  depends_on      = [jenkins_irsa_role.ci]
}}
resource "jenkins_agent_cloud" "local" {{
  name      = "local-agents"
  namespace = "{ns}"
  templates = [jenkins_pod_template.t]
}}
"#,
        account = env.account,
    )
}

#[test]
fn a_cluster_created_in_the_same_apply_plans_without_calls_and_converges_in_one_apply() {
    let tf = &terraforms()[0];
    // Only the remote cluster is registered: the controller's is the apply's to create.
    let env = Env::with_clusters("same-apply-cluster", &["remote"]);
    let w = env.workdir("same-apply-cluster", tf);
    controller(&env, &w.dir);
    grant_agents(&env);
    let venv = std::env::var("TFPJ_VENV").unwrap_or_else(|_| format!("{}/../.venv", env!("CARGO_MANIFEST_DIR")));
    w.write_config(&config(&env, &format!("{venv}/bin/aws")));

    // Every AWS call of this account fails while the plan runs, and the namespace's requests are
    // counted: the plan must make none of either.
    let s = stack::shared();
    s.fail(&env.account, "*", 1000, 500, "InternalFailure");
    let kube_before = kube_requests_in(&env.namespace);
    let plan = w.run(&["plan", "-no-color", "-input=false"]);
    let kube_during = kube_requests_in(&env.namespace) - kube_before;
    let aws_during = s.fired_count(&env.account, "error InternalFailure", "*");
    // The rule was live: a call made now meets it.
    let (ok, _) = env.aws_in(&env.account, &["eks", "list-clusters"]);
    let aws_after = s.fired_count(&env.account, "error InternalFailure", "*");
    s.clear_faults(&env.account);
    assert_eq!(plan.code, 0, "the plan succeeds while the cluster does not exist:\n{}", plan.text());
    assert!(
        plan.text().contains("Agent Pods Not Checked") && plan.text().contains("configuration is not known yet"),
        "the plan says what it could not check:\n{}",
        plan.text()
    );
    assert_eq!(aws_during, 0, "the plan called AWS:\n{}", plan.text());
    assert!(!ok && aws_after > 0, "the armed AWS fault never fired, so the count above proves nothing");
    assert_eq!(kube_during, 0, "the plan called Kubernetes in {}", env.namespace);

    // One apply: the cluster, then everything configured against it.
    w.apply();
    let issuer = {
        let out = env.aws(&["eks", "describe-cluster", "--name", "controller", "--output", "json"]);
        let json: Json = serde_json::from_str(&out).expect("describe-cluster JSON");
        json["cluster"]["identity"]["oidc"]["issuer"]
            .as_str()
            .expect("issuer")
            .trim_start_matches("https://")
            .to_string()
    };
    let providers = env.aws(&["iam", "list-open-id-connect-providers", "--output", "json"]);
    assert!(
        providers.contains(&format!("oidc-provider/{issuer}")),
        "the cluster's OIDC provider was made: {providers}"
    );
    let role = super::irsa_role::role(&env, &format!("ci-{}", env.namespace));
    let trust = role["AssumeRolePolicyDocument"].to_string();
    assert!(
        trust.contains(&format!("oidc-provider/{issuer}"))
            && trust.contains(&format!("system:serviceaccount:{}:agents", env.namespace)),
        "the role trusts the new cluster's agents: {trust}"
    );
    let sa = env.get_json("serviceaccount", "agents").expect("the agents' service account exists");
    assert_eq!(
        sa.pointer("/metadata/annotations/eks.amazonaws.com~1role-arn").and_then(Json::as_str),
        role["Arn"].as_str(),
        "{sa}"
    );
    let cm = env.get_json("configmap", "tf-jcasc-cloud-local-agents").expect("the cloud's ConfigMap");
    let file =
        cm["data"].as_object().and_then(|d| d.values().next()).and_then(Json::as_str).unwrap_or_default().to_string();
    assert!(
        file.contains("local-agents")
            && (file.contains("serviceAccount: \"agents\"") || file.contains("serviceAccount: agents")),
        "{file}"
    );
    w.assert_plans_empty();

    w.destroy();
    assert!(env.get_json("configmap", "tf-jcasc-cloud-local-agents").is_none(), "the ConfigMap is gone");
    assert!(env.get_json("serviceaccount", "agents").is_none(), "the service account we created is gone");
    assert!(!super::irsa_role::role_names(&env).contains(&format!("ci-{}", env.namespace)), "the role is gone");
    w.cleanup();
}
