//! Data sources through real Terraform against the local stack, on every Terraform under test:
//! `jenkins_eks_cluster` reads what EKS and IAM hold (checked against the AWS CLI), and
//! `jenkins_controller` what the chart installed (checked against kubectl), feeding a cloud that
//! Jenkins then runs. Missing objects fail the plan naming them.

use super::irsa_role::create_oidc_provider;
use super::jenkins_loop::exported_cloud;
use super::preflight::controller;
use super::support::Env;
use acceptance_tests::jenkins::{Jenkins, Options};
use acceptance_tests::terraform::{Workdir, example, terraforms};
use base64::Engine;
use serde_json::Value as Json;

fn outputs(w: &Workdir) -> Json {
    let r = w.run(&["output", "-json"]);
    assert_eq!(r.code, 0, "{}", r.text());
    serde_json::from_str(&r.stdout).expect("output JSON")
}

fn value(outputs: &Json, name: &str) -> Json {
    outputs[name]["value"].clone()
}

#[test]
fn eks_cluster_reads_what_eks_and_iam_hold() {
    for tf in terraforms() {
        let env = Env::new("ds-eks");
        let w = env.workdir("ds-eks", tf);
        w.write_config(&format!(
            "{}\ndata \"jenkins_eks_cluster\" \"c\" {{\n  name = \"controller\"\n}}\noutput \"c\" {{\n  value = data.jenkins_eks_cluster.c\n}}\n",
            env.provider_block()
        ));
        w.apply();
        let described: Json =
            serde_json::from_str(&env.aws(&["eks", "describe-cluster", "--name", "controller", "--output", "json"]))
                .expect("describe-cluster JSON");
        let cluster = &described["cluster"];
        let got = value(&outputs(&w), "c");
        assert_eq!(got["arn"], cluster["arn"], "[{}] {got}", tf.version);
        assert_eq!(got["endpoint"], cluster["endpoint"]);
        assert_eq!(got["oidc_issuer"], cluster["identity"]["oidc"]["issuer"]);
        let pem = base64::engine::general_purpose::STANDARD
            .decode(cluster["certificateAuthority"]["data"].as_str().expect("CA data"))
            .expect("base64 CA");
        assert_eq!(got["ca_certificate"].as_str().map(str::trim), Some(String::from_utf8_lossy(&pem).trim()));
        assert_eq!(got["oidc_provider_arn"], "", "no IAM OIDC provider yet: {got}");

        // Once the provider exists, the next read has its ARN (what IAM lists).
        create_oidc_provider(&env, "controller");
        w.apply();
        let listed: Json =
            serde_json::from_str(&env.aws(&["iam", "list-open-id-connect-providers", "--output", "json"]))
                .expect("list JSON");
        let arn = listed["OpenIDConnectProviderList"][0]["Arn"].clone();
        assert_eq!(value(&outputs(&w), "c")["oidc_provider_arn"], arn, "[{}]", tf.version);
        w.assert_plans_empty();

        w.write_config(&format!(
            "{}\ndata \"jenkins_eks_cluster\" \"c\" {{\n  name = \"nowhere\"\n}}\n",
            env.provider_block()
        ));
        w.expect_error(&["plan", "-no-color"], &["EKS Cluster Not Found", "\"nowhere\""]);
        w.cleanup();
    }
}

#[test]
fn controller_reads_the_charts_jenkins_and_a_cloud_built_from_it_runs() {
    for tf in terraforms() {
        let env = Env::new("ds-ctl");
        let jenkins = Jenkins::start(&env.namespace, "ci", Options::default());
        let (user, token) = jenkins.admin();
        let w = env.workdir("ds-controller", tf).with_env([
            ("JENKINS_URL", jenkins.url().to_string()),
            ("JENKINS_USER", user),
            ("JENKINS_API_TOKEN", token),
        ]);
        let provider = env.provider_block().replace("  jenkins {\n", "  jenkins {\n    helm_release = \"ci\"\n");
        w.write_config(&format!(
            "{provider}\n{}\noutput \"j\" {{\n  value = data.jenkins_controller.this\n}}\n",
            example("data-sources/jenkins_controller/data-source.tf")
        ));
        w.apply();
        let got = value(&outputs(&w), "j");

        // What kubectl sees of the chart's objects.
        let sts = env.get_json("statefulset", "ci-jenkins").expect("the chart's StatefulSet");
        let sa = sts["spec"]["template"]["spec"]["serviceAccountName"].as_str().expect("service account");
        let sidecar = sts["spec"]["template"]["spec"]["containers"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "config-reload"))
            .cloned()
            .expect("the sidecar");
        let env_of = |k: &str| {
            sidecar["env"].as_array().and_then(|e| e.iter().find(|v| v["name"] == k)).map(|v| v["value"].clone())
        };
        let port = |svc: &str| {
            env.get_json("service", svc).expect("the chart's service")["spec"]["ports"][0]["port"]
                .as_i64()
                .expect("port")
        };
        let ns = &env.namespace;
        assert_eq!(got["fullname"], "ci-jenkins", "[{}] {got}", tf.version);
        assert_eq!(got["helm_release"], "ci");
        assert_eq!(got["namespace"], ns.as_str());
        assert_eq!(got["service_account"], sa);
        assert_eq!(Some(got["sidecar_label"].clone()), env_of("LABEL"));
        assert_eq!(
            got["jenkins_url"],
            format!("http://ci-jenkins.{ns}.svc.cluster.local:{}", port("ci-jenkins")).as_str()
        );
        assert_eq!(
            got["jenkins_tunnel"],
            format!("ci-jenkins-agent.{ns}.svc.cluster.local:{}", port("ci-jenkins-agent")).as_str()
        );
        // The cloud built from them is what Jenkins runs.
        let cloud = exported_cloud(&jenkins.export(), "eks").expect("Jenkins runs the cloud");
        assert!(cloud.contains(got["jenkins_tunnel"].as_str().expect("tunnel")), "{cloud}");
        w.assert_plans_empty();
        w.destroy();
        w.cleanup();
    }
}

/// No controller: the plan fails naming the namespace. A controller StatefulSet without the
/// chart's Services: a warning, and the addresses are empty rather than made up.
#[test]
fn a_namespace_without_a_controller_fails_the_plan_naming_it() {
    let env = Env::new("ds-none");
    let w = env.workdir("ds-none", &terraforms()[0]);
    let config = format!(
        "{}\ndata \"jenkins_controller\" \"this\" {{}}\noutput \"j\" {{\n  value = data.jenkins_controller.this\n}}\n",
        env.provider_block()
    );
    w.write_config(&config);
    w.expect_error(&["plan", "-no-color"], &["Controller Not Found", &env.namespace]);

    controller(&env, &w.dir);
    let r = w.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.text().contains("Warning: Chart Service Not Found"), "{}", r.text());
    let got = value(&outputs(&w), "j");
    assert_eq!(got["fullname"], "jenkins", "{got}");
    assert_eq!(got["service_account"], "jenkins-controller");
    assert_eq!(got["sidecar_label"], "jenkins-jenkins-config");
    assert_eq!((got["jenkins_url"].as_str(), got["jenkins_tunnel"].as_str()), (Some(""), Some("")), "{got}");
    w.cleanup();
}
