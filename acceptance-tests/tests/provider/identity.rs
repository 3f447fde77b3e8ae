//! Resource identity (protocol 6.9) through real Terraform ≥ 1.12 (the pinned 1.15; 1.11 has no
//! identity): the four resources that own remote objects store an identity with their state, and
//! `import { identity = {...} }` adopts each object again with no change planned; an identity the
//! provider cannot serve fails the plan saying why.

use super::agent_cloud::templates;
use super::cross_account_chain::{OTHER_TRUST, create_role, seed_config};
use super::irsa_role::create_oidc_provider;
use super::support::{Env, terraform_at_least};
use acceptance_tests::stack::fresh_account;
use acceptance_tests::terraform::Workdir;
use serde_json::{Value as Json, json};

const OWNED: [&str; 4] = [
    "jenkins_irsa_role.ci",
    "jenkins_cross_account_chain.deploy",
    "jenkins_remote_cluster_access.remote",
    "jenkins_agent_cloud.idc",
];

fn config(env: &Env, target: &str, imports: &str) -> String {
    format!(
        r#"{provider_and_chain}
{templates}
resource "jenkins_irsa_role" "ci" {{
  name             = "id-{ns}"
  clusters         = ["controller"]
  service_accounts = [{{ namespace = "{ns}", name = "jenkins" }}]
}}

resource "jenkins_remote_cluster_access" "remote" {{
  cluster {{
    eks_cluster_name = "remote"
  }}
  namespace = "{ns}-agents"
  jenkins_credential {{
    id = "remote-{ns}"
  }}
}}

resource "jenkins_agent_cloud" "idc" {{
  name           = "idc"
  namespace      = "agents"
  jenkins_tunnel = "jenkins-agent:50000"
  templates      = [jenkins_pod_template.base, jenkins_pod_template.child]
}}
{imports}"#,
        provider_and_chain = seed_config(env, target),
        templates = templates("maven:3.9"),
        ns = env.namespace,
    )
}

/// Each owned resource's identity, as Terraform stored it in the state file.
fn identities(w: &Workdir) -> Json {
    let state: Json =
        serde_json::from_str(&std::fs::read_to_string(w.dir.join("terraform.tfstate")).expect("state")).expect("JSON");
    let mut out = serde_json::Map::new();
    for r in state["resources"].as_array().expect("resources") {
        let address = format!("{}.{}", r["type"].as_str().unwrap_or_default(), r["name"].as_str().unwrap_or_default());
        if OWNED.contains(&address.as_str()) {
            out.insert(address, r["instances"][0]["identity"].clone());
        }
    }
    Json::Object(out)
}

/// `import` blocks naming each of `OWNED` by its identity in `ids`.
fn import_blocks(ids: &Json) -> String {
    OWNED
        .iter()
        .map(|address| {
            let fields: Vec<String> =
                ids[*address].as_object().expect("an identity").iter().map(|(k, v)| format!("    {k} = {v}")).collect();
            format!("import {{\n  to = {address}\n  identity = {{\n{}\n  }}\n}}\n", fields.join("\n"))
        })
        .collect()
}

#[test]
fn every_owned_object_round_trips_through_import_by_identity() {
    let Some(tf) = terraform_at_least(1, 12) else {
        eprintln!("no Terraform >= 1.12 under test: resource identity not checked");
        return;
    };
    let env = Env::new("identity");
    let target = fresh_account();
    create_oidc_provider(&env, "controller");
    create_role(&env, &env.account, "jenkins-ci-role", OTHER_TRUST);
    // The chart's controller service account, which the role annotates (an import reads that back).
    env.kubectl("controller", &["-n", &env.namespace, "create", "serviceaccount", "jenkins"]);
    let w = env.workdir("identity", tf);
    w.write_config(&config(&env, &target, ""));
    w.apply();
    w.assert_plans_empty();

    // What names each object, stored by Terraform next to the state.
    let ids = identities(&w);
    let chain = w.resource("jenkins_cross_account_chain.deploy");
    assert_eq!(
        ids["jenkins_irsa_role.ci"],
        json!({ "account_id": env.account, "name": format!("id-{}", env.namespace) })
    );
    assert_eq!(
        ids["jenkins_cross_account_chain.deploy"],
        json!({ "configmap_name": chain["configmap_name"], "namespace": chain["namespace"] })
    );
    assert_eq!(
        ids["jenkins_remote_cluster_access.remote"],
        json!({ "cluster": "remote", "namespace": format!("{}-agents", env.namespace), "service_account": "jenkins-agent-controller" })
    );
    assert_eq!(ids["jenkins_agent_cloud.idc"], json!({ "name": "idc", "namespace": env.namespace }));

    // Forgotten, then adopted by identity alone: nothing to add or change, and empty plans after.
    for address in OWNED {
        let r = w.run(&["state", "rm", "-no-color", address]);
        assert_eq!(r.code, 0, "{}", r.text());
    }
    w.write_config(&config(&env, &target, &import_blocks(&ids)));
    let plan = w.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(plan.code, 0, "{}", plan.text());
    assert!(plan.stdout.contains("4 to import, 0 to add, 0 to change, 0 to destroy"), "{}", plan.stdout);
    let applied = w.apply();
    assert!(applied.stdout.contains("4 imported, 0 added, 0 changed, 0 destroyed"), "{}", applied.stdout);
    w.write_config(&config(&env, &target, ""));
    w.assert_plans_empty();
    assert_eq!(identities(&w), ids, "the same identities after the import");

    // An identity this provider cannot serve fails the plan saying why, before anything is read.
    w.run(&["state", "rm", "-no-color", "jenkins_agent_cloud.idc"]);
    let elsewhere = "import {\n  to = jenkins_agent_cloud.idc\n  identity = {\n    name      = \"idc\"\n    namespace = \"elsewhere\"\n  }\n}\n";
    w.write_config(&config(&env, &target, elsewhere));
    w.expect_error(
        &["plan", "-no-color", "-input=false"],
        &["Invalid Import Identity", "\"elsewhere\"", "jenkins.namespace"],
    );
    let wrong_account = format!(
        "import {{\n  to = jenkins_irsa_role.other\n  identity = {{\n    name       = \"id-{ns}\"\n    account_id = \"{target}\"\n  }}\n}}\nresource \"jenkins_irsa_role\" \"other\" {{\n  name                      = \"id-{ns}\"\n  clusters                  = [\"controller\"]\n  service_accounts          = [{{ namespace = \"{ns}\", name = \"jenkins\" }}]\n  annotate_service_accounts = false\n}}\n",
        ns = env.namespace
    );
    w.write_config(&config(&env, &target, &wrong_account));
    w.expect_error(&["plan", "-no-color", "-input=false"], &["Invalid Import Identity", &target, &env.account]);
    w.write_config(&config(&env, &target, ""));
    w.apply();
    w.destroy();
    w.cleanup();
}
