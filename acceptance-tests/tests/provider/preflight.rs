//! `jenkins_agent_cloud`'s admission preflight through real Terraform: agent pods that the cluster
//! would refuse, or that would never start, fail the plan on the template that causes it; what is
//! not known at plan is checked while the apply plans again, before the ConfigMap is written.

use super::support::Env;
use acceptance_tests::terraform::{Workdir, terraforms};

/// The remote agent namespace of a test: unique, since the remote cluster is shared.
fn agents_namespace(env: &Env) -> String {
    format!("{}-agents", env.namespace)
}

/// The remote cluster made ready for agents, its token delivered as credential `remote-agents`.
fn access(env: &Env) -> String {
    format!(
        r#"{provider}
resource "jenkins_remote_cluster_access" "remote" {{
  cluster {{
    eks_cluster_name = "remote"
  }}
  namespace       = "{ns}"
  service_account = "jenkins-agent-controller"
  jenkins_credential {{
    id = "remote-agents"
  }}
}}
"#,
        provider = env.provider_block(),
        ns = agents_namespace(env),
    )
}

/// A template named `name` with `body`, and the remote cloud running it.
fn remote_cloud(name: &str, body: &str) -> String {
    format!(
        r#"
resource "jenkins_pod_template" "t" {{
  name   = "{name}"
  labels = ["{name}"]
  tool_container {{
    name     = "maven"
    image    = "maven:3.9"
    requests = {{ cpu = "500m", memory = "512Mi" }}
    limits   = {{ memory = "512Mi" }}
  }}
{body}
}}

resource "jenkins_agent_cloud" "remote" {{
  name                  = "remote-agents"
  server_url            = jenkins_remote_cluster_access.remote.server_url
  server_ca_certificate = jenkins_remote_cluster_access.remote.ca_certificate
  namespace             = jenkins_remote_cluster_access.remote.namespace
  credentials_id        = jenkins_remote_cluster_access.remote.credentials_id
  jenkins_url           = "https://jenkins.example.com"
  agent_connection      = "websocket"
  templates             = [jenkins_pod_template.t]
}}
"#
    )
}

/// The seed's mistake: the controller's service account and its AWS config map, in a cluster
/// that has neither.
const SEED_BODY: &str = r#"
  service_account = "jenkins-serviceaccount"
  volume {
    name       = "aws-config-volume"
    config_map = "awsconfig-configmap"
    mount_path = "/root/.aws"
    read_only  = true
    containers = ["maven"]
  }
"#;

/// A template that fits the remote cluster: the service account the access resource made.
const REMOTE_BODY: &str = r#"
  service_account = jenkins_remote_cluster_access.remote.service_account
"#;

fn remote_endpoint() -> String {
    acceptance_tests::stack::shared().kube.cluster("remote").endpoint.clone()
}

/// Runs a command that must fail; its output (with Terraform's line wrapping undone) must hold
/// every needle. Returns that output.
fn fails(w: &Workdir, args: &[&str], needles: &[&str]) -> String {
    let r = w.run(args);
    let text = r.text().split_whitespace().collect::<Vec<_>>().join(" ");
    assert_ne!(r.code, 0, "`terraform {}` should fail:\n{}", args.join(" "), r.text());
    for n in needles {
        assert!(text.contains(n), "output of `terraform {}` lacks {n:?}:\n{}", args.join(" "), r.text());
    }
    assert!(!text.contains("Provider produced inconsistent"), "{text}");
    text
}

/// The same for a command that must succeed.
fn passes(w: &Workdir, args: &[&str]) -> String {
    let r = w.run(args);
    assert_eq!(r.code, 0, "`terraform {}` should succeed:\n{}", args.join(" "), r.text());
    r.text().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Applies the access alone, so the cloud's inputs are known at the next plan.
fn with_access(env: &Env, w: &Workdir) {
    w.write_config(&access(env));
    w.apply();
}

#[test]
fn the_seed_remote_cloud_fails_at_plan_naming_the_service_account_and_the_cluster() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-seed");
    let w = env.workdir("preflight-seed", tf);
    with_access(&env, &w);
    w.write_config(&format!("{}{}", access(&env), remote_cloud("base", SEED_BODY)));
    let text = fails(
        &w,
        &["plan", "-no-color"],
        &[
            "Agent Pod Would Not Start",
            "Template \"base\"",
            &format!("the cluster at {}", remote_endpoint()),
            "serviceaccount \"jenkins-serviceaccount\" not found",
            "Create service account \"jenkins-serviceaccount\"",
            "jenkins_agent_cloud.remote",
        ],
    );
    // The error is on the template's element; the token never shows.
    assert!(text.contains("`templates[0]`: Template \"base\""), "{text}");
    assert!(!text.contains("k8s-aws-v1.") && !text.to_lowercase().contains("bearer "), "{text}");
    // Destroy plans the configuration first; the refused cloud goes from it, as a user would do.
    w.write_config(&access(&env));
    w.destroy();
    w.cleanup();
}

#[test]
fn a_template_mounting_a_missing_configmap_fails_at_plan() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-cm");
    let w = env.workdir("preflight-configmap", tf);
    with_access(&env, &w);
    let body = format!(
        r#"{REMOTE_BODY}
  volume {{
    name       = "aws-config-volume"
    config_map = "awsconfig-configmap"
    mount_path = "/root/.aws"
    read_only  = true
    containers = ["maven"]
  }}
"#
    );
    w.write_config(&format!("{}{}", access(&env), remote_cloud("with-config", &body)));
    let ns = agents_namespace(&env);
    fails(
        &w,
        &["plan", "-no-color"],
        &[
            "Agent Pod Would Not Start",
            "Template \"with-config\"",
            &format!("ConfigMap {ns}/awsconfig-configmap does not exist"),
            "volume \"aws-config-volume\"",
            // The plugin's Role may not read ConfigMaps; the provider's own EKS identity did.
            "the provider's AWS identity (EKS cluster \"remote\")",
        ],
    );

    // Once the ConfigMap exists in the remote namespace, the same plan passes and applies.
    env.kubectl("remote", &["-n", &ns, "create", "configmap", "awsconfig-configmap", "--from-literal=config=x"]);
    w.apply();
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}

#[test]
fn unknown_inputs_warn_at_plan_and_are_checked_at_apply_before_writing() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-apply");
    let w = env.workdir("preflight-apply", tf);
    // Everything in one configuration: the cloud's server URL and credential come from a resource
    // this apply creates.
    w.write_config(&format!("{}{}", access(&env), remote_cloud("base", SEED_BODY)));
    let text = passes(&w, &["plan", "-no-color"]);
    assert!(text.contains("Warning: Agent Pods Not Checked") && text.contains("`server_url`"), "{text}");
    assert!(text.contains("before its ConfigMap is written"), "{text}");

    let text = fails(
        &w,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &["Agent Pod Would Not Start", "serviceaccount \"jenkins-serviceaccount\" not found"],
    );
    assert!(text.contains("jenkins_remote_cluster_access.remote: Creation complete"), "{text}");
    assert!(env.get_json("configmap", "tf-jcasc-cloud-remote-agents").is_none(), "the ConfigMap was written");

    // The fix applies, and then nothing is checked again while nothing changes.
    w.write_config(&format!("{}{}", access(&env), remote_cloud("base", REMOTE_BODY)));
    let r = w.apply();
    assert!(!r.text().contains("Agent Pod"), "{}", r.text());
    assert!(env.get_json("configmap", "tf-jcasc-cloud-remote-agents").is_some());
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}

#[test]
fn an_unknown_provider_configuration_warns_at_plan_and_checks_at_apply() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-prov");
    // The remote cluster's access in a configuration of its own.
    let a = env.workdir("preflight-provider-access", tf);
    with_access(&env, &a);
    let access_state = a.resource("jenkins_remote_cluster_access.remote");
    // The cloud's provider takes the controller's cluster name from a resource not created yet.
    let w = env.workdir("preflight-provider", tf);
    let config = |service_account: &str| {
        format!(
            r#"resource "terraform_data" "cluster" {{
  input = "controller"
}}
provider "jenkins" {{
  region = "us-east-1"
  kubernetes {{
    eks_cluster_name = terraform_data.cluster.output
  }}
  jenkins {{
    namespace = "{jns}"
  }}
}}
resource "jenkins_pod_template" "t" {{
  name            = "base"
  labels          = ["base"]
  service_account = "{service_account}"
}}
resource "jenkins_agent_cloud" "remote" {{
  name                  = "remote-agents"
  server_url            = "{url}"
  server_ca_certificate = <<-EOT
{ca}
EOT
  namespace             = "{ns}"
  credentials_id        = "remote-agents"
  jenkins_url           = "https://jenkins.example.com"
  agent_connection      = "websocket"
  templates             = [jenkins_pod_template.t]
}}
"#,
            jns = env.namespace,
            url = access_state["server_url"].as_str().expect("server_url"),
            ca = access_state["ca_certificate"].as_str().expect("ca_certificate").trim_end(),
            ns = agents_namespace(&env),
        )
    };
    w.write_config(&config("jenkins-serviceaccount"));
    let text = passes(&w, &["plan", "-no-color"]);
    assert!(text.contains("Agent Pods Not Checked") && text.contains("configuration is not known yet"), "{text}");
    fails(
        &w,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &["Agent Pod Would Not Start", "serviceaccount \"jenkins-serviceaccount\" not found"],
    );
    assert!(env.get_json("configmap", "tf-jcasc-cloud-remote-agents").is_none(), "the ConfigMap was written");
    w.write_config(&config("jenkins-agent-controller"));
    w.apply();
    assert!(env.get_json("configmap", "tf-jcasc-cloud-remote-agents").is_some());
    w.destroy();
    w.cleanup();
    a.destroy();
    a.cleanup();
}

/// `credentials_id` naming a Secret that holds no `text` key: the plugin would have no bearer token,
/// so the plan fails on that attribute before anything is written.
#[test]
fn a_credential_without_a_token_fails_at_plan_on_credentials_id() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-notoken");
    let w = env.workdir("preflight-notoken", tf);
    with_access(&env, &w);
    env.kubectl(
        "controller",
        &["-n", &env.namespace, "create", "secret", "generic", "plain-cred", "--from-literal=token=not-the-key"],
    );
    let cloud = remote_cloud("notoken", REMOTE_BODY).replace(
        "credentials_id        = jenkins_remote_cluster_access.remote.credentials_id",
        "credentials_id        = \"plain-cred\"",
    );
    assert!(cloud.contains("\"plain-cred\""), "the cloud names the Secret");
    w.write_config(&format!("{}{cloud}", access(&env)));
    let text = fails(
        &w,
        &["plan", "-no-color"],
        &["Error: Credential Holds No Token", &format!("Secret {}/plain-cred has no `text` key", env.namespace)],
    );
    assert!(text.contains("credentials_id = \"plain-cred\""), "the error points at the attribute:\n{text}");
    assert!(!text.contains("not-the-key"), "the Secret's value never shows");
    assert!(env.get_json("configmap", "tf-jcasc-cloud-remote-agents").is_none(), "nothing written");
    w.write_config(&access(&env));
    w.destroy();
    w.cleanup();
}

#[test]
fn a_remote_cloud_that_fits_its_cluster_passes() {
    for tf in terraforms() {
        let env = Env::new("pre-ok");
        let w = env.workdir("preflight-ok", tf);
        with_access(&env, &w);
        w.write_config(&format!("{}{}", access(&env), remote_cloud("remote-base", REMOTE_BODY)));
        let text = passes(&w, &["plan", "-no-color"]);
        assert!(!text.contains("Agent Pod"), "no preflight finding:\n{text}");
        w.apply();
        w.assert_plans_empty();
        w.destroy();
        w.cleanup();
    }
}

#[test]
fn a_template_a_limitrange_refuses_fails_at_plan() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-limit");
    let w = env.workdir("preflight-limitrange", tf);
    with_access(&env, &w);
    let ns = agents_namespace(&env);
    let limits = format!(
        r#"{{"apiVersion":"v1","kind":"LimitRange","metadata":{{"name":"small","namespace":"{ns}"}},"spec":{{"limits":[{{"type":"Container","max":{{"memory":"256Mi"}}}}]}}}}"#
    );
    let file = w.dir.join("limitrange.json");
    std::fs::write(&file, limits).expect("write LimitRange");
    env.kubectl("remote", &["create", "-f", &file.display().to_string()]);
    // The maven container's memory limit is 512Mi.
    w.write_config(&format!("{}{}", access(&env), remote_cloud("big", REMOTE_BODY)));
    fails(
        &w,
        &["plan", "-no-color"],
        &[
            "Agent Pod Would Not Start",
            "`templates[0]`: Template \"big\"",
            "maximum memory usage per Container is 256Mi, but limit is 512Mi",
            "has a LimitRange",
        ],
    );
    w.write_config(&access(&env));
    w.destroy();
    w.cleanup();
}

#[test]
fn a_template_the_namespace_pod_security_level_refuses_fails_at_plan() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-pss");
    let w = env.workdir("preflight-pss", tf);
    with_access(&env, &w);
    let ns = agents_namespace(&env);
    env.kubectl("remote", &["label", "namespace", &ns, "pod-security.kubernetes.io/enforce=restricted"]);
    w.write_config(&format!("{}{}", access(&env), remote_cloud("rooted", REMOTE_BODY)));
    fails(
        &w,
        &["plan", "-no-color"],
        &[
            "Agent Pod Would Not Start",
            "`templates[0]`: Template \"rooted\"",
            "violates PodSecurity \"restricted:latest\"",
            "restricted_pss_security_context",
        ],
    );
    w.write_config(&access(&env));
    w.destroy();
    w.cleanup();
}

/// The chart's controller in the test's Jenkins namespace: a StatefulSet `jenkins` running as
/// service account `jenkins-controller`, with the chart's config-reload sidecar watching that
/// namespace (the plan refuses a cloud no sidecar would load).
pub(super) fn controller(env: &Env, dir: &std::path::Path) {
    let ns = &env.namespace;
    let sts = format!(
        r#"{{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{{"name":"jenkins","namespace":"{ns}","labels":{{"app.kubernetes.io/component":"jenkins-controller","app.kubernetes.io/instance":"jenkins"}}}},"spec":{{"serviceName":"jenkins","selector":{{"matchLabels":{{"app":"jenkins"}}}},"template":{{"metadata":{{"labels":{{"app":"jenkins"}}}},"spec":{{"serviceAccountName":"jenkins-controller","containers":[{{"name":"jenkins","image":"jenkins/jenkins:lts"}},{{"name":"config-reload","image":"kiwigrid/k8s-sidecar:2.10.1","env":[{{"name":"LABEL","value":"jenkins-jenkins-config"}},{{"name":"FOLDER","value":"/var/jenkins_home/casc_configs"}},{{"name":"NAMESPACE","value":"{ns}"}}]}}]}}}}}}}}"#
    );
    let file = dir.join("statefulset.json");
    std::fs::write(&file, sts).expect("write StatefulSet");
    env.kubectl("controller", &["create", "-f", &file.display().to_string()]);
    env.kubectl("controller", &["-n", ns, "create", "serviceaccount", "jenkins-controller"]);
}

/// The chart's agent Role, bound to the controller's service account.
pub(super) fn grant_agents(env: &Env) {
    let ns = &env.namespace;
    env.kubectl(
        "controller",
        &[
            "-n",
            ns,
            "create",
            "role",
            "jenkins-schedule-agents",
            "--verb=create,get,list,watch,delete",
            "--resource=pods",
        ],
    );
    env.kubectl(
        "controller",
        &[
            "-n",
            ns,
            "create",
            "rolebinding",
            "jenkins-schedule-agents",
            "--role=jenkins-schedule-agents",
            &format!("--serviceaccount={ns}:jenkins-controller"),
        ],
    );
}

/// A cloud in the controller's own cluster, its agents in the Jenkins namespace.
fn local_cloud(env: &Env, body: &str) -> String {
    format!(
        r#"{provider}
resource "jenkins_pod_template" "t" {{
  name   = "local"
  labels = ["local"]
{body}
}}
resource "jenkins_agent_cloud" "local" {{
  name      = "local-agents"
  namespace = "{ns}"
  templates = [jenkins_pod_template.t]
}}
"#,
        provider = env.provider_block(),
        ns = env.namespace,
    )
}

#[test]
fn a_local_cloud_is_checked_as_the_controller_service_account() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-local");
    let w = env.workdir("preflight-local", tf);
    controller(&env, &w.dir);
    // Without the chart's Role the controller's service account may not create pods.
    w.write_config(&local_cloud(&env, ""));
    fails(
        &w,
        &["plan", "-no-color"],
        &[
            "Agent Pod Would Not Start",
            "Template \"local\" in the controller cluster",
            &format!("created as the controller's service account {}/jenkins-controller", env.namespace),
            "cannot create resource \"pods\"",
            "Grant the controller's service account",
        ],
    );

    // With it, a missing Secret is the next finding; the provider's own identity read it.
    let ns = env.namespace.clone();
    grant_agents(&env);
    let body = r#"
  volume {
    name       = "tls"
    secret     = "build-certs"
    mount_path = "/etc/tls"
  }
"#;
    w.write_config(&local_cloud(&env, body));
    fails(
        &w,
        &["plan", "-no-color"],
        &[
            "Template \"local\" in the controller cluster",
            &format!("Secret {ns}/build-certs does not exist"),
            "read with the provider's credentials",
        ],
    );
    env.kubectl("controller", &["-n", &ns, "create", "secret", "generic", "build-certs", "--from-literal=tls.crt=x"]);
    let r = w.apply();
    assert!(!r.text().contains("Agent Pod"), "{}", r.text());
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}

#[test]
fn an_irsa_role_that_trusts_only_the_controller_cluster_fails_a_remote_template_at_plan() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-irsa");
    let w = env.workdir("preflight-irsa", tf);
    let role = format!(
        r#"
resource "jenkins_irsa_role" "ci" {{
  name                   = "ci-{jns}"
  clusters               = ["controller"]
  service_accounts       = [{{ namespace = "{jns}", name = "jenkins" }}]
  create_service_account = true
  manage_oidc_provider   = true
}}
"#,
        jns = env.namespace
    );
    w.write_config(&format!("{}{role}", access(&env)));
    w.apply();
    let arn = w.resource("jenkins_irsa_role.ci")["arn"].as_str().expect("role arn").to_string();
    // The remote namespace's default service account names the controller's role.
    let ns = agents_namespace(&env);
    env.kubectl(
        "remote",
        &["-n", &ns, "annotate", "serviceaccount", "default", &format!("eks.amazonaws.com/role-arn={arn}")],
    );
    w.write_config(&format!("{}{role}{}", access(&env), remote_cloud("aws", "")));
    fails(
        &w,
        &["plan", "-no-color"],
        &[
            "Agent Pod Would Not Start",
            &format!("`templates[0]`: Template \"aws\" in the cluster at {}", remote_endpoint()),
            &format!("service account {ns}/default, whose IAM role {arn} does not trust"),
            &format!("system:serviceaccount:{ns}:default"),
            "put the cluster in `clusters`",
        ],
    );
    w.write_config(&format!("{}{role}", access(&env)));
    w.destroy();
    w.cleanup();
}

/// Arms a fault rule of the remote cluster's emulator (never clears: the cluster is shared, and a
/// rule scoped to a test's namespace touches no other test).
fn arm_remote_fault(rule: serde_json::Value) {
    let remote = acceptance_tests::stack::shared().kube.cluster("remote");
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-sS", "--cacert"])
        .arg(&remote.ca_file)
        .args(["-H", &format!("Authorization: Bearer {}", remote.admin_token)]);
    cmd.args(["-X", "POST", "-d", &rule.to_string()]);
    let out = cmd.arg(format!("{}/emulator/faults", remote.endpoint)).output().expect("curl");
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn nothing_is_called_while_the_cloud_does_not_change() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-quiet");
    let w = env.workdir("preflight-quiet", tf);
    with_access(&env, &w);
    w.write_config(&format!("{}{}", access(&env), remote_cloud("quiet", REMOTE_BODY)));
    w.apply();
    // Any pod creation in the agent namespace now fails with a server error.
    let ns = agents_namespace(&env);
    let rule = serde_json::json!({"verb": "create", "path_prefix": format!("/api/v1/namespaces/{ns}/pods"), "status": 500, "count": 1});
    arm_remote_fault(rule);
    // Plans of an unchanged cloud send no dry run: they stay clean and the rule stays armed.
    w.assert_plans_empty();
    // A change is dry-run again: the armed server error is what it meets, reported as not checked.
    w.write_config(
        &format!("{}{}", access(&env), remote_cloud("quiet", REMOTE_BODY)).replace("maven:3.9", "maven:3.9.9"),
    );
    let text = passes(&w, &["plan", "-no-color"]);
    assert!(text.contains("Agent Pods Not Checked") && text.contains("busy or failing (HTTP 500"), "{text}");
    // The rule was used up by that one dry run: the next plan checks and passes.
    let text = passes(&w, &["plan", "-no-color"]);
    assert!(!text.contains("Agent Pod"), "{text}");
    w.destroy();
    w.cleanup();
}

/// The profile chain (its ConfigMap `awsconfig-configmap` in the Jenkins namespace), an IRSA role
/// creating service account `agent-ci`, and a local cloud whose template mounts `config_map` (an
/// HCL expression) and runs as `service_account` (another).
fn same_apply(env: &Env, config_map: &str, service_account: &str, extra: &str) -> String {
    format!(
        r#"{provider}
resource "jenkins_irsa_role" "ci" {{
  name                   = "ci-{jns}"
  clusters               = ["controller"]
  service_accounts       = [{{ namespace = "{jns}", name = "agent-ci" }}]
  create_service_account = true
  manage_oidc_provider   = true
}}
resource "jenkins_cross_account_chain" "deploy" {{
  base {{
    name     = "prod"
    role_arn = "arn:aws:iam::{account}:role/ci-{jns}"
    region   = "us-east-1"
  }}
  hop {{
    name           = "nonprod"
    role_arn       = "arn:aws:iam::{account}:role/deploy"
    source_profile = "prod"
  }}
}}
resource "jenkins_pod_template" "t" {{
  name            = "local"
  labels          = ["local"]
  service_account = {service_account}
  volume {{
    name       = "aws-config"
    config_map = {config_map}
    mount_path = "/etc/aws"
    read_only  = true
  }}
}}
resource "jenkins_agent_cloud" "local" {{
  name      = "local-agents"
  namespace = "{jns}"
  templates = [jenkins_pod_template.t]
{extra}
}}
"#,
        provider = env.provider_block(),
        jns = env.namespace,
        account = env.account,
    )
}

/// `config` without its `jenkins_agent_cloud` block.
fn without_cloud(config: &str) -> String {
    let start = config.find("resource \"jenkins_agent_cloud\"").expect("a cloud");
    let end = start + config[start..].find("\n}\n").expect("the cloud's end") + 3;
    format!("{}{}", &config[..start], &config[end..])
}

/// The ConfigMap and service account come from references, so Terraform plans the chain and the
/// role before the cloud.
const BY_REFERENCE: (&str, &str) =
    ("jenkins_cross_account_chain.deploy.configmap_name", "one(jenkins_irsa_role.ci.service_accounts).name");

#[test]
fn what_the_same_apply_creates_warns_at_plan_and_one_apply_converges() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-same");
    let w = env.workdir("preflight-same-apply", tf);
    controller(&env, &w.dir);
    grant_agents(&env);
    let ns = env.namespace.clone();
    w.write_config(&same_apply(&env, BY_REFERENCE.0, BY_REFERENCE.1, ""));
    let text = passes(&w, &["plan", "-no-color"]);
    assert!(!text.contains("Agent Pod Would Not Start"), "{text}");
    assert!(
        text.contains(&format!(
            "ConfigMap {ns}/awsconfig-configmap does not exist yet; it is created by jenkins_cross_account_chain in this apply"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "service account {ns}/agent-ci does not exist yet; it is created by jenkins_irsa_role in this apply"
        )),
        "{text}"
    );
    assert!(text.contains("dry-run as service account `default` instead and admitted"), "{text}");
    // Two summaries, so Terraform does not fold the service account's warning into the ConfigMap's.
    assert!(text.contains("Warning: Agent Pod Needs What This Apply Creates"), "{text}");
    assert!(text.contains("Warning: Agent Pod Runs As What This Apply Creates"), "{text}");

    let r = w.apply();
    assert!(!r.text().contains("Agent Pod Would Not Start"), "{}", r.text());
    assert!(env.get_json("configmap", "tf-jcasc-cloud-local-agents").is_some(), "the cloud was written");
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}

#[test]
fn an_object_missing_when_the_apply_plans_the_cloud_again_fails_the_apply() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-gone");
    let w = env.workdir("preflight-gone", tf);
    controller(&env, &w.dir);
    grant_agents(&env);
    let ns = env.namespace.clone();
    let kubeconfig = acceptance_tests::stack::shared().kube.kubeconfig.clone().expect("the stack runs the emulator");
    // Between the chain's apply and the cloud's, the ConfigMap is deleted behind Terraform's back:
    // it is then neither there nor pending, and the apply's plan of the cloud must refuse it.
    let deleter = format!(
        r#"resource "terraform_data" "gone" {{
  input = jenkins_cross_account_chain.deploy.configmap_name
  provisioner "local-exec" {{
    command = "kubectl --kubeconfig {kubeconfig} --context controller -n {ns} delete configmap ${{self.input}}"
  }}
}}
"#,
        kubeconfig = kubeconfig.display(),
    );
    let config =
        format!("{}{deleter}", same_apply(&env, BY_REFERENCE.0, "\"default\"", "  depends_on = [terraform_data.gone]"));
    w.write_config(&config);
    let text = passes(&w, &["plan", "-no-color"]);
    assert!(text.contains("is created by jenkins_cross_account_chain in this apply"), "{text}");
    fails(
        &w,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &[
            "Agent Pod Would Not Start",
            &format!("ConfigMap {ns}/awsconfig-configmap does not exist (the pod names it in volume \"aws-config\""),
        ],
    );
    assert!(env.get_json("configmap", "tf-jcasc-cloud-local-agents").is_none(), "the ConfigMap was written");
    // Destroy plans the configuration first: the refused cloud goes from it, as a user would do.
    w.write_config(&without_cloud(&config));
    w.destroy();
    w.cleanup();
}

#[test]
fn a_literal_name_nobody_creates_still_fails_at_plan() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-nobody");
    let w = env.workdir("preflight-nobody", tf);
    controller(&env, &w.dir);
    grant_agents(&env);
    let ns = env.namespace.clone();
    w.write_config(&same_apply(&env, "\"nobody-creates-this\"", "\"default\"", ""));
    let text = fails(
        &w,
        &["plan", "-no-color"],
        &["Agent Pod Would Not Start", &format!("ConfigMap {ns}/nobody-creates-this does not exist (the pod names it")],
    );
    // The chain's ConfigMap is pending, but it is not the one the template names.
    assert!(!text.contains("in this apply"), "{text}");
    w.cleanup();
}

/// With `missing_objects_at_plan = "warning"` (what a Terragrunt plan over mocked outputs needs),
/// the same missing ConfigMap is a warning at plan naming it, and the apply still refuses the
/// cloud before its ConfigMap is written; once the object exists the apply goes through.
#[test]
fn a_lenient_plan_warns_and_the_apply_still_refuses_before_writing() {
    let tf = &terraforms()[0];
    let env = Env::new("pre-lenient");
    let w = env.workdir("preflight-lenient", tf);
    controller(&env, &w.dir);
    grant_agents(&env);
    let ns = env.namespace.clone();
    let lenient = |hcl: String| {
        hcl.replacen("provider \"jenkins\" {\n", "provider \"jenkins\" {\n  missing_objects_at_plan = \"warning\"\n", 1)
    };
    let config = lenient(same_apply(&env, "\"nobody-creates-this\"", "\"default\"", ""));
    assert!(config.contains("missing_objects_at_plan"), "{config}");
    w.write_config(&config);
    let text = passes(&w, &["plan", "-no-color"]);
    assert!(
        text.contains("Warning: Agent Pod Needs What Does Not Exist Yet")
            && text.contains(&format!("ConfigMap {ns}/nobody-creates-this does not exist yet"))
            && text.contains("checked again at apply"),
        "{text}"
    );
    fails(
        &w,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &["Agent Pod Would Not Start", &format!("ConfigMap {ns}/nobody-creates-this does not exist (the pod names it")],
    );
    assert!(env.get_json("configmap", "tf-jcasc-cloud-local-agents").is_none(), "the ConfigMap was written");
    env.kubectl("controller", &["-n", &ns, "create", "configmap", "nobody-creates-this", "--from-literal=config=x"]);
    w.apply();
    assert!(env.get_json("configmap", "tf-jcasc-cloud-local-agents").is_some(), "written once it exists");
    w.write_config(&without_cloud(&config));
    w.destroy();
    w.cleanup();
}
