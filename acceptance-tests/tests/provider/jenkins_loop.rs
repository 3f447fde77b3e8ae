//! Jenkins in the loop, through real Terraform: where the sidecar looks, the plan-time checks of the
//! merged JCasC view, and what the apply says when Jenkins is not there to confirm.

use super::support::Env;
use acceptance_tests::terraform::terraforms;

/// The provider block with extra settings in its `jenkins` block.
fn provider(env: &Env, jenkins: &str) -> String {
    format!(
        "provider \"jenkins\" {{\n  region = \"us-east-1\"\n  kubernetes {{\n    eks_cluster_name = \"controller\"\n  }}\n  jenkins {{\n    namespace = \"{}\"\n    {jenkins}\n  }}\n}}\n",
        env.namespace
    )
}

const TEMPLATE: &str = r#"
resource "jenkins_pod_template" "base" {
  name   = "base"
  labels = ["base"]
  tool_container {
    name  = "maven"
    image = "maven:3.9"
  }
}
"#;

fn cloud(name: &str, cap: u32) -> String {
    format!(
        r#"
resource "jenkins_agent_cloud" "{name}" {{
  name          = "{name}"
  namespace     = "agents"
  container_cap = {cap}
  templates     = [jenkins_pod_template.base.definition]
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
        let plan = w.plan_changes().text();
        assert_eq!(plan.matches("Warning: Jenkins Not Asked").count(), 1, "one warning per plan:\n{plan}");
        assert!(plan.contains("nothing verifies that Jenkins accepts the files and runs the clouds"), "{plan}");
        let applied = w.apply().text();
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
    w.expect_error(
        &["plan", "-no-color"],
        &["Cloud Name Already Defined", "jenkins-jenkins-jcasc-config (key jcasc-default-config.yaml)", "\"dup\""],
    );

    // Another ConfigMap that writes the same file into the same folder would clobber ours.
    chart_configmap(&env, "someone-elses", label, "cloud-clash.yaml", "jenkins: {}\n", Some("terraform"));
    w.write_config(&format!("{}{TEMPLATE}{}", provider(&env, ""), cloud("clash", 5)));
    w.expect_error(&["plan", "-no-color"], &["ConfigMap Key Clash", "someone-elses", "cloud-clash.yaml"]);

    // An update is checked too: a chart file that defines the cloud's name after it was created.
    w.write_config(&format!("{}{TEMPLATE}{}", provider(&env, ""), cloud("later", 5)));
    w.apply();
    chart_configmap(&env, "jenkins-jenkins-config-extra", label, "extra.yaml", &chart_cloud("later"), None);
    w.write_config(&format!("{}{TEMPLATE}{}", provider(&env, ""), cloud("later", 6)));
    w.expect_error(
        &["plan", "-no-color"],
        &[
            "Cloud Name Already Defined",
            "jenkins-jenkins-config-extra (key extra.yaml)",
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
    let plan = w.plan_changes().text();
    assert!(plan.contains("Jenkins Did Not Check The Cloud") && plan.contains("unreachable"), "{plan}");
    let applied = w.apply().text();
    assert!(applied.contains("Jenkins Did Not Confirm The Cloud"), "{applied}");
    assert!(applied.contains("not confirmed that Jenkins accepts it and runs the cloud"), "{applied}");
    assert!(!plan.contains(secret) && !applied.contains(secret), "the token never shows");
    assert!(env.get_json("configmap", "tf-jcasc-cloud-offline").is_some(), "the ConfigMap is written regardless");
    w.destroy();
    w.cleanup();
}
