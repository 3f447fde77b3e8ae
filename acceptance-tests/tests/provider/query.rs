//! List resources (protocol 6.10) through real `terraform query` (Terraform ≥ 1.14): a `list`
//! block finds the clouds this provider wrote, or the IAM roles EKS workloads assume, each with
//! its identity, and
//! `-generate-config-out` writes an `import` block by identity and a resource block for each, which
//! imports the clouds and then plans no change.

use super::agent_cloud::templates;
use super::cross_account_chain::{OTHER_TRUST, create_role};
use super::irsa_role::create_oidc_provider;
use super::support::{Env, terraform_at_least};
use acceptance_tests::terraform::{Workdir, example};
use serde_json::Value as Json;

fn cloud(name: &str) -> String {
    format!(
        "resource \"jenkins_agent_cloud\" \"{name}\" {{\n  name           = \"{name}\"\n  namespace      = \"agents\"\n  jenkins_tunnel = \"jenkins-agent:50000\"\n  templates      = [jenkins_pod_template.base, jenkins_pod_template.child]\n}}\n"
    )
}

/// `terraform query` of `list` (written as `file`) in `q`, which must succeed; its output.
fn query(q: &Workdir, file: &str, list: &str) -> String {
    std::fs::write(q.dir.join(file), list).expect("write the query");
    let r = q.run(&["query", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    r.text()
}

/// The adoption: `-generate-config-out`, then the generated file imports `count` objects with no
/// change planned, applies, and plans empty. Returns the generated file and the adopted state.
fn adopt(q: &Workdir, count: usize) -> (String, Json) {
    let r = q.run(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let generated = std::fs::read_to_string(q.dir.join("generated.tf")).expect("generated.tf");
    eprintln!("generated.tf:\n{generated}");
    let plan = q.run(&["plan", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.text());
    let summary = format!("Plan: {count} to import, 0 to add, 0 to change, 0 to destroy.");
    assert!(plan.stdout.contains(&summary), "{summary} in:\n{}", plan.stdout);
    q.apply();
    q.assert_plans_empty();
    (generated, q.show())
}

#[test]
fn terraform_query_lists_the_clouds_with_their_identities_and_generates_imports() {
    let Some(tf) = terraform_at_least(1, 14) else {
        eprintln!("no Terraform >= 1.14 under test: list resources not checked");
        return;
    };
    let env = Env::new("query");
    let w = env.workdir("query-made", tf);
    w.write_config(&format!("{}{}{}{}", env.provider_block(), templates("maven:3.9"), cloud("qa"), cloud("qb")));
    w.apply();

    // Another working directory that knows nothing but the provider: what is there to adopt?
    let q = env.workdir("query", tf);
    q.write_config(&env.provider_block());
    let out = query(&q, "clouds.tfquery.hcl", &example("list-resources/jenkins_agent_cloud/list-resource.tfquery.hcl"));
    for name in ["qa", "qb"] {
        let line = format!("cloud {name} (ConfigMap {}/tf-jcasc-cloud-{name})", env.namespace);
        assert!(out.contains(&line), "{line} in:\n{out}");
    }
    // The generated configuration is the adoption: it imports both clouds and then plans no
    // change, the templates' write-only definitions filled from the live files.
    let (generated, adopted) = adopt(&q, 2);
    assert!(generated.contains("import {") && generated.contains("identity"), "{generated}");
    assert!(
        generated.contains(&format!("namespace = \"{}\"", env.namespace)),
        "the identity's namespace:\n{generated}"
    );
    let found = adopted["values"]["root_module"]["resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(found.len(), 2, "both clouds adopted: {adopted}");
    for r in &found {
        let templates = r["values"]["templates"].as_array().cloned().unwrap_or_default();
        let names: Vec<_> = templates.iter().map(|t| t["name"].as_str().unwrap_or_default().to_string()).collect();
        assert_eq!(names, ["base", "child"], "{r}");
        assert!(templates.iter().all(|t| t["definition"].is_null()), "write-only definitions stay out of state: {r}");
    }
    // The chart's own clouds (here a file like the chart's default config): listed on request,
    // marked as not this provider's, and refused by an import with what to do instead.
    let chart = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: jenkins-jenkins-config\n  namespace: {ns}\n  labels:\n    jenkins-jenkins-config: \"true\"\ndata:\n  jcasc-default-config.yaml: |\n    jenkins:\n      clouds:\n      - kubernetes:\n          name: \"kubernetes\"\n          serverUrl: \"https://kubernetes.default\"\n      - kubernetes:\n          name: \"extra\"\n",
        ns = env.namespace
    );
    let file = q.dir.join("chart.yaml");
    std::fs::write(&file, chart).expect("write the chart's ConfigMap");
    env.kubectl("controller", &["apply", "-f", &file.display().to_string()]);
    let c = env.workdir("query-chart", tf);
    c.write_config(&env.provider_block());
    let list = "list \"jenkins_agent_cloud\" \"all\" {\n  provider = jenkins\n  config {\n    include_chart_clouds = true\n  }\n}\n";
    let out = query(&c, "clouds.tfquery.hcl", list);
    let marked = format!(
        "cloud kubernetes defined by ConfigMap {}/jenkins-jenkins-config (jcasc-default-config.yaml), not by this provider",
        env.namespace
    );
    assert!(out.contains(&marked) && out.contains("cloud qa (ConfigMap"), "{out}");
    assert!(out.contains("cloud extra defined by ConfigMap"), "{out}");
    c.write_config(&format!(
        "{}import {{\n  to = jenkins_agent_cloud.chart\n  id = \"extra\"\n}}\nresource \"jenkins_agent_cloud\" \"chart\" {{\n  name      = \"extra\"\n  templates = []\n}}\n",
        env.provider_block()
    ));
    c.expect_error(
        &["plan", "-no-color"],
        &["Cannot Import The Cloud", "which this provider does not own", "remove it from the chart's values"],
    );
    c.cleanup();

    // The clouds now have two owners' states; the first destroys them.
    q.cleanup();
    w.destroy();
    w.cleanup();
}

#[test]
fn terraform_query_offers_the_roles_eks_workloads_assume_and_adopts_them() {
    let Some(tf) = terraform_at_least(1, 14) else {
        eprintln!("no Terraform >= 1.14 under test: list resources not checked");
        return;
    };
    let env = Env::new("query-roles");
    create_oidc_provider(&env, "controller");
    env.kubectl("controller", &["-n", &env.namespace, "create", "serviceaccount", "jenkins"]);
    let ns = &env.namespace;
    let w = env.workdir("query-roles-made", tf);
    w.write_config(&format!(
        "{}resource \"jenkins_irsa_role\" \"ci\" {{\n  name             = \"ci-{ns}\"\n  description      = \"Jenkins CI\"\n  clusters         = [\"controller\"]\n  service_accounts = [{{ namespace = \"{ns}\", name = \"jenkins\" }}]\n  tags             = {{ team = \"ci\" }}\n}}\n",
        env.provider_block()
    ));
    w.apply();
    // Not for EKS workloads: never offered.
    create_role(&env, &env.account, "ec2-only", OTHER_TRUST);
    // For EKS workloads, but through an issuer of no cluster here: offered only with a reason.
    let stray = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{{"Federated":"arn:aws:iam::{}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/GONE"}},"Condition":{{"StringEquals":{{"oidc.eks.eu-west-1.amazonaws.com/id/GONE:sub":"system:serviceaccount:x:y"}}}}}}]}}"#,
        env.account
    );
    create_role(&env, &env.account, "stray-eks", &stray);

    let q = env.workdir("query-roles", tf);
    q.write_config(&env.provider_block());
    let out = query(&q, "roles.tfquery.hcl", &example("list-resources/jenkins_irsa_role/list-resource.tfquery.hcl"));
    assert!(out.contains(&format!("role ci-{ns} (arn:aws:iam::{}:role/ci-{ns})", env.account)), "{out}");
    assert!(!out.contains("ec2-only"), "{out}");
    assert!(out.contains("Role Not Listed") && out.contains("stray-eks"), "{out}");
    let (_, adopted) = adopt(&q, 1);
    let role = &adopted["values"]["root_module"]["resources"][0]["values"];
    assert_eq!(role["name"], format!("ci-{ns}"), "{adopted}");
    assert_eq!(role["description"], "Jenkins CI", "{adopted}");
    q.cleanup();
    w.destroy();
    w.cleanup();
}

#[test]
fn terraform_query_offers_the_agent_service_accounts_of_a_remote_cluster_and_adopts_them() {
    let Some(tf) = terraform_at_least(1, 14) else {
        eprintln!("no Terraform >= 1.14 under test: list resources not checked");
        return;
    };
    let env = Env::new("query-remote");
    let ns = &env.namespace;
    let w = env.workdir("query-remote-made", tf);
    w.write_config(&format!(
        "{}resource \"jenkins_remote_cluster_access\" \"east\" {{\n  cluster {{\n    eks_cluster_name = \"remote\"\n  }}\n  namespace = \"{ns}-agents\"\n  extra_rules {{\n    resources = [\"configmaps\"]\n    verbs     = [\"get\", \"list\"]\n  }}\n  jenkins_credential {{\n    id = \"remote-{ns}\"\n  }}\n}}\n",
        env.provider_block()
    ));
    w.apply();

    let q = env.workdir("query-remote", tf);
    q.write_config(&env.provider_block());
    let list = example("list-resources/jenkins_remote_cluster_access/list-resource.tfquery.hcl")
        .replace("\"ci-east\"", "\"remote\"")
        .replace("\"jenkins-agents\"", &format!("\"{ns}-agents\""));
    assert!(list.contains(&format!("\"{ns}-agents\"")), "the example changed:\n{list}");
    let out = query(&q, "remote.tfquery.hcl", &list);
    let line = format!("service account {ns}-agents/jenkins-agent-controller in EKS cluster \"remote\"");
    assert!(out.contains(&line), "{line} in:\n{out}");
    let (_, adopted) = adopt(&q, 1);
    let access = &adopted["values"]["root_module"]["resources"][0]["values"];
    assert_eq!(access["credentials_id"], format!("remote-{ns}"), "{adopted}");
    assert_eq!(access["extra_rules"][0]["resources"][0], "configmaps", "{adopted}");
    q.cleanup();
    w.destroy();
    w.cleanup();
}
