//! List resources (protocol 6.10) through real `terraform query` (Terraform ≥ 1.14): a `list`
//! block finds the clouds this provider wrote, each with its identity, and
//! `-generate-config-out` writes an `import` block by identity and a resource block for each, which
//! imports the clouds and then plans no change.

use super::agent_cloud::templates;
use super::support::{Env, terraform_at_least};

fn cloud(name: &str) -> String {
    format!(
        "resource \"jenkins_agent_cloud\" \"{name}\" {{\n  name           = \"{name}\"\n  namespace      = \"agents\"\n  jenkins_tunnel = \"jenkins-agent:50000\"\n  templates      = [jenkins_pod_template.base, jenkins_pod_template.child]\n}}\n"
    )
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
    let list = "list \"jenkins_agent_cloud\" \"all\" {\n  provider         = jenkins\n  include_resource = true\n}\n";
    std::fs::write(q.dir.join("clouds.tfquery.hcl"), list).expect("write the query");
    let r = q.run(&["query", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    for name in ["qa", "qb"] {
        let line = format!("cloud {name} (ConfigMap {}/tf-jcasc-cloud-{name})", env.namespace);
        assert!(r.stdout.contains(&line), "{line} in:\n{}", r.stdout);
    }
    let r = q.run(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let generated = std::fs::read_to_string(q.dir.join("generated.tf")).expect("generated.tf");
    eprintln!("generated.tf:\n{generated}");
    for name in ["qa", "qb"] {
        assert!(
            generated.contains(&format!("name = \"{name}\"")) || generated.contains(&format!("\"{name}\"")),
            "{generated}"
        );
    }
    assert!(generated.contains("import {") && generated.contains("identity"), "{generated}");
    assert!(
        generated.contains(&format!("namespace = \"{}\"", env.namespace)),
        "the identity's namespace:\n{generated}"
    );

    // The generated configuration is the adoption: it imports both clouds and then plans no
    // change, the templates' write-only definitions filled from the live files.
    let plan = q.run(&["plan", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.text());
    assert!(plan.stdout.contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."), "{}", plan.stdout);
    q.apply();
    q.assert_plans_empty();
    let adopted = q.show();
    let found = adopted["values"]["root_module"]["resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(found.len(), 2, "both clouds adopted: {adopted}");
    for r in &found {
        let templates = r["values"]["templates"].as_array().cloned().unwrap_or_default();
        let names: Vec<_> = templates.iter().map(|t| t["name"].as_str().unwrap_or_default().to_string()).collect();
        assert_eq!(names, ["base", "child"], "{r}");
        assert!(templates.iter().all(|t| t["definition"].is_null()), "write-only definitions stay out of state: {r}");
    }
    // The clouds now have two owners' states; the first destroys them.
    q.cleanup();
    w.destroy();
    w.cleanup();
}
