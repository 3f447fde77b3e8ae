//! Provider functions through real Terraform, on every Terraform under test: each function's
//! result, computed in an output, equals what its resource wrote to the live system (IAM's trust,
//! the chain's ConfigMap, the cloud's ConfigMap the sidecar reads, the cloud's effective pod); a
//! bad argument fails the plan at the call, naming the parameter. The registry examples apply too.

use super::agent_cloud::{configmap_data, live_file, templates};
use super::cross_account_chain::{OTHER_TRUST, create_role, get_role, trust_of};
use super::irsa_role::create_oidc_provider;
use super::support::Env;
use acceptance_tests::stack::fresh_account;
use acceptance_tests::terraform::{example, terraforms};
use serde_json::Value as Json;

fn config(env: &Env, target: &str) -> String {
    let chain = example("resources/jenkins_cross_account_chain/resource.tf")
        .replace("111111111111", &env.account)
        .replace("222222222222", target);
    format!(
        r#"{provider}
{templates}
{chain}
locals {{
  service_accounts = [{{ namespace = "{ns}", name = "jenkins" }}, {{ namespace = "{ns}", name = "agents" }}]
  cloud = {{
    name           = "fn"
    namespace      = "agents"
    jenkins_tunnel = "jenkins-agent:50000"
    templates      = [jenkins_pod_template.base, jenkins_pod_template.child]
  }}
  chain = {{
    base = {{ name = "prod", role_arn = "arn:aws:iam::{account}:role/jenkins-ci-role", region = "us-east-1" }}
    hop = [{{
      name              = "nonprod"
      role_arn          = "arn:aws:iam::{target}:role/jenkins-deploy-role"
      source_profile    = "prod"
      role_session_name = "jenkinssession"
      region            = "us-east-1"
    }}]
  }}
}}

resource "jenkins_irsa_role" "ci" {{
  name                      = "fn-{ns}"
  clusters                  = ["controller"]
  service_accounts          = local.service_accounts
  annotate_service_accounts = false
}}

resource "jenkins_agent_cloud" "fn" {{
  name           = local.cloud.name
  namespace      = local.cloud.namespace
  jenkins_tunnel = local.cloud.jenkins_tunnel
  templates      = local.cloud.templates
}}

output "trust" {{
  value = provider::jenkins::irsa_trust(values(jenkins_irsa_role.ci.oidc_provider_arns), local.service_accounts)
}}
output "fn_aws_config" {{
  value = provider::jenkins::aws_config(local.chain)
}}
output "cloud_casc" {{
  value = provider::jenkins::cloud_casc(local.cloud)
}}
output "child_pod" {{
  value = provider::jenkins::effective_pod(local.cloud, "child")
}}
output "child_pod_of_the_cloud" {{
  value = provider::jenkins::effective_pod(merge(jenkins_agent_cloud.fn, {{ templates = local.cloud.templates }}), "child")
}}
output "casc_of_the_cloud" {{
  value = provider::jenkins::cloud_casc(merge(jenkins_agent_cloud.fn, {{ templates = local.cloud.templates }}))
}}
"#,
        provider = env.provider_block(),
        templates = templates("maven:3.9-eclipse-temurin-17"),
        ns = env.namespace,
        account = env.account,
    )
}

fn output(outputs: &Json, name: &str) -> String {
    outputs[name]["value"].as_str().unwrap_or_else(|| panic!("output {name}: {outputs}")).to_string()
}

#[test]
fn each_function_returns_what_its_resource_wrote() {
    for tf in terraforms() {
        let env = Env::new("functions");
        let target = fresh_account();
        create_oidc_provider(&env, "controller");
        create_role(&env, &env.account, "jenkins-ci-role", OTHER_TRUST);
        let w = env.workdir("functions", tf);
        w.write_config(&config(&env, &target));
        w.apply();
        w.assert_plans_empty();
        let shown = w.run(&["output", "-json"]);
        let outputs: Json = serde_json::from_str(&shown.stdout).expect("output JSON");

        let live = get_role(&env, &env.account, &format!("fn-{}", env.namespace)).expect("the role");
        let trust: Json = serde_json::from_str(&output(&outputs, "trust")).expect("trust JSON");
        assert_eq!(trust, trust_of(&live), "[{}] irsa_trust is the trust IAM holds", tf.version);

        let cm = env.get_json("configmap", "awsconfig-configmap").expect("the chain's ConfigMap");
        assert_eq!(
            cm.pointer("/data/config").and_then(Json::as_str),
            Some(output(&outputs, "fn_aws_config").as_str()),
            "[{}] aws_config is the file in the chain's ConfigMap",
            tf.version
        );

        assert_eq!(
            configmap_data(&env, "fn").as_deref(),
            Some(output(&outputs, "cloud_casc").as_str()),
            "[{}] cloud_casc is the file the sidecar reads",
            tf.version
        );
        let file = live_file(&env, &w, "jenkins_agent_cloud.fn");
        assert_eq!(output(&outputs, "casc_of_the_cloud"), file, "[{}] on the resource itself", tf.version);
        let pod = output(&outputs, "child_pod");
        assert_eq!(output(&outputs, "child_pod_of_the_cloud"), pod, "[{}]", tf.version);
        assert!(pod.contains("maven:3.9-eclipse-temurin-17") && pod.contains("alpine/helm"), "{pod}");
        w.destroy();
        w.cleanup();
    }
}

#[test]
fn a_bad_argument_fails_the_plan_at_the_call_naming_the_parameter() {
    for tf in terraforms() {
        let env = Env::new("functions-bad");
        let w = env.workdir("functions-bad", tf);
        w.write_config(&format!(
            "{}\noutput \"trust\" {{\n  value = provider::jenkins::irsa_trust([\"oidc.eks.us-east-1.amazonaws.com\"], [{{ namespace = \"jenkins\", name = \"jenkins\" }}])\n}}\n",
            env.provider_block()
        ));
        w.expect_error(&["plan", "-no-color"], &["Invalid function argument", "oidc_provider_arns"]);
        w.write_config(&format!(
            "{}\noutput \"file\" {{\n  value = provider::jenkins::aws_config({{ base = {{ name = \"prod\", role_arn = \"arn:aws:iam::111111111111:role/ci\" }}, hop = [{{ name = \"x\", role_arn = \"arn:aws:iam::222222222222:role/d\", source_profile = \"missing\" }}] }})\n}}\n",
            env.provider_block()
        ));
        w.expect_error(&["plan", "-no-color"], &["Invalid function argument", "hop[0].source_profile"]);
        w.cleanup();
    }
}

#[test]
fn the_registry_examples_apply() {
    let tf = &terraforms()[0];
    let env = Env::new("functions-examples");
    let expected = [
        ("irsa_trust", "sts:AssumeRoleWithWebIdentity"),
        ("aws_config", "[profile nonprod]"),
        ("effective_pod", "image: maven:3.9-eclipse-temurin-17"),
        ("cloud_casc", "kubernetes:"),
    ];
    for (name, needle) in expected {
        let w = env.workdir(&format!("function-{name}"), tf);
        w.write_config(&format!("{}\n{}", env.provider_block(), example(&format!("functions/{name}/function.tf"))));
        w.apply();
        let shown = w.run(&["output", "-json"]);
        let outputs: Json = serde_json::from_str(&shown.stdout).expect("output JSON");
        let value = outputs.as_object().and_then(|o| o.values().next()).and_then(|v| v["value"].as_str());
        assert!(value.is_some_and(|v| v.contains(needle)), "{name}: {outputs}");
        w.destroy();
        w.cleanup();
    }
}
