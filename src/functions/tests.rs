//! Each function returns what its resource renders at plan for the same inputs (the resource's
//! plan is the reference), and refuses bad input as an error at the argument, naming the attribute.

use super::*;
use crate::cty::Type;
use crate::framework::testing::{config_from_json, plan};
use crate::resources::{agent_cloud::AgentCloud, cross_account_chain::CrossAccountChain, pod_template::PodTemplate};
use serde_json::json;

/// A JSON literal as Terraform hands a `dynamic` argument over: tuples for lists, objects for
/// blocks and maps.
fn literal(j: serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::int(n.as_i64().expect("integer")),
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(a) => Value::Tuple(a.into_iter().map(literal).collect()),
        serde_json::Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, literal(v))).collect()),
    }
}

fn call(name: &str, args: &[Value]) -> Result<Value, FunctionError> {
    let f = all().into_iter().find(|f| f.name() == name).expect("function");
    assert_eq!(f.parameters().len(), args.len());
    f.call(args)
}

fn text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => panic!("a string: {other:?}"),
    }
}

fn planned_string(p: &Value, name: &str) -> String {
    text(p.get_attr(name).cloned().expect(name))
}

const ARN: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC";

fn service_accounts(pairs: &[(&str, &str)]) -> Value {
    Value::List(
        pairs
            .iter()
            .map(|(ns, n)| {
                Value::Object([("namespace".into(), Value::string(*ns)), ("name".into(), Value::string(*n))].into())
            })
            .collect(),
    )
}

#[test]
fn irsa_trust_names_the_provider_and_exactly_the_service_accounts() {
    let out = call(
        "irsa_trust",
        &[Value::List(vec![Value::string(ARN)]), service_accounts(&[("jenkins", "jenkins"), ("jenkins", "agent")])],
    )
    .expect("trust");
    let doc: serde_json::Value = serde_json::from_str(&text(out)).expect("JSON");
    let st = &doc["Statement"][0];
    assert_eq!(st["Principal"]["Federated"], ARN);
    assert_eq!(st["Action"], "sts:AssumeRoleWithWebIdentity");
    let eq = &st["Condition"]["StringEquals"];
    assert_eq!(
        eq["oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"],
        json!(["system:serviceaccount:jenkins:agent", "system:serviceaccount:jenkins:jenkins"])
    );
    assert_eq!(eq["oidc.eks.us-east-1.amazonaws.com/id/ABC:aud"], "sts.amazonaws.com");
    let wild = call("irsa_trust", &[Value::List(vec![Value::string(ARN)]), service_accounts(&[("ci-*", "agent")])]);
    assert!(text(wild.expect("wildcard")).contains("StringLike"));
}

#[test]
fn irsa_trust_refuses_bad_arguments_at_the_argument() {
    let bad_arn = call("irsa_trust", &[Value::List(vec![Value::string("oidc.eks")]), service_accounts(&[("a", "b")])]);
    assert_eq!(bad_arn.as_ref().map_err(|e| e.argument), Err(Some(0)), "{bad_arn:?}");
    let none = call("irsa_trust", &[Value::List(vec![]), service_accounts(&[("a", "b")])]);
    assert_eq!(none.map_err(|e| e.argument), Err(Some(0)));
    let bad_sa = call("irsa_trust", &[Value::List(vec![Value::string(ARN)]), service_accounts(&[("Jenkins", "b")])]);
    let e = bad_sa.expect_err("an upper-case namespace");
    assert_eq!(e.argument, Some(1));
    assert!(e.text.contains("DNS label"), "{e:?}");
    let empty = call("irsa_trust", &[Value::List(vec![Value::string(ARN)]), Value::List(vec![])]);
    assert_eq!(empty.map_err(|e| e.argument), Err(Some(1)));
}

fn chain() -> serde_json::Value {
    json!({
        "namespace": "jenkins",
        "base": { "name": "prod", "role_arn": "arn:aws:iam::111111111111:role/jenkins-ci-role", "region": "us-east-1" },
        "hop": [{
            "name": "nonprod",
            "role_arn": "arn:aws:iam::222222222222:role/jenkins-deploy-role",
            "source_profile": "prod",
            "role_session_name": "jenkinssession",
        }],
    })
}

#[tokio::test]
async fn aws_config_is_the_chain_resources_file() {
    let resource = CrossAccountChain { context: Arc::default() };
    let config = config_from_json(&resource.schema(), chain());
    let planned = plan(&resource, &Value::Null, &config).await;
    assert!(!planned.diags.has_error(), "{:?}", planned.diags);
    let file = text(call("aws_config", &[literal(chain())]).expect("file"));
    assert_eq!(file, planned_string(&planned.planned, "config_ini"));
    assert!(file.contains("[profile nonprod]\nrole_arn = arn:aws:iam::222222222222:role/jenkins-deploy-role\n"));
}

#[test]
fn aws_config_refuses_what_the_resource_refuses() {
    let mut loop_ = chain();
    loop_["hop"][0]["source_profile"] = json!("nonprod");
    let e = call("aws_config", &[literal(loop_)]).expect_err("a hop sourcing itself");
    assert_eq!(e.argument, Some(0));
    assert!(e.text.contains("hop[0].source_profile"), "{e:?}");
    let mut typo = chain();
    typo["hop"][0]["role"] = json!("x");
    let e = call("aws_config", &[literal(typo)]).expect_err("an unknown attribute");
    assert!(e.text.contains("hop[0] has no attribute \"role\""), "{e:?}");
    let mut bad = chain();
    bad["base"]["role_arn"] = json!("jenkins-ci-role");
    let e = call("aws_config", &[literal(bad)]).expect_err("a bad ARN");
    assert!(e.text.contains("base.role_arn"), "{e:?}");
}

/// Two templates (a child inheriting the base) as `jenkins_pod_template` renders them.
async fn definitions() -> Vec<String> {
    let mut out = Vec::new();
    for t in [
        json!({ "name": "base", "tool_container": [{ "name": "maven", "image": "maven:3.9-eclipse-temurin-17" }] }),
        json!({ "name": "child", "inherit_from": ["base"], "labels": ["child"] }),
    ] {
        let config = config_from_json(&PodTemplate.schema(), t);
        let p = plan(&PodTemplate, &Value::Null, &config).await;
        assert!(!p.diags.has_error(), "{:?}", p.diags);
        out.push(planned_string(&p.planned, "definition"));
    }
    out
}

fn cloud(templates: &[String]) -> serde_json::Value {
    let templates: Vec<_> = templates.iter().map(|d| json!({ "definition": d })).collect();
    json!({ "name": "eks", "jenkins_url": "http://jenkins.jenkins.svc.cluster.local:8080", "templates": templates })
}

#[tokio::test]
async fn effective_pod_and_cloud_casc_are_the_cloud_resources_renderings() {
    let defs = definitions().await;
    let resource = AgentCloud { context: Arc::default() };
    let config = config_from_json(&resource.schema(), cloud(&defs));
    let planned = plan(&resource, &Value::Null, &config).await;
    assert!(!planned.diags.has_error(), "{:?}", planned.diags);
    let child = text(call("effective_pod", &[literal(cloud(&defs)), Value::string("child")]).expect("pod"));
    assert!(child.contains("maven:3.9-eclipse-temurin-17"), "the child inherits the base's container:\n{child}");
    // A template may be given as its definition string too.
    let mut strings = cloud(&defs);
    strings["templates"] = json!(defs);
    assert_eq!(text(call("effective_pod", &[literal(strings), Value::string("child")]).expect("pod")), child);
    let casc = text(call("cloud_casc", &[literal(cloud(&defs))]).expect("casc"));
    assert_eq!(
        crate::resources::agent_cloud::file_hash(&casc),
        planned_string(&planned.planned, "casc_sha256"),
        "the file whose hash the plan shows"
    );
    assert!(casc.contains("clouds:") && (casc.contains("name: \"eks\"") || casc.contains("name: eks")), "{casc}");
    // The resource's own object holds no definitions (write-only): the error says what to pass,
    // and `merge(jenkins_agent_cloud.eks, { templates = [...] })` renders the same.
    let e = call("effective_pod", &[planned.planned.clone(), Value::string("child")]).expect_err("write-only");
    assert!(e.text.contains("templates[0]") && e.text.contains("merge(jenkins_agent_cloud"), "{e:?}");
    let mut merged = planned.planned.clone();
    crate::resources::values::set(
        &mut merged,
        "templates",
        Value::Tuple(defs.iter().map(|d| Value::string(d.clone())).collect()),
    );
    assert_eq!(text(call("effective_pod", &[merged.clone(), Value::string("child")]).expect("pod")), child);
    assert_eq!(text(call("cloud_casc", &[merged]).expect("casc")), casc);
}

#[tokio::test]
async fn effective_pod_names_a_missing_template_and_the_clouds_errors() {
    let defs = definitions().await;
    let e = call("effective_pod", &[literal(cloud(&defs)), Value::string("nope")]).expect_err("no such template");
    assert_eq!(e.argument, Some(1));
    assert!(e.text.contains("\"nope\"") && e.text.contains("base, child"), "{e:?}");
    let orphan = vec![defs[1].clone()];
    let e = call("cloud_casc", &[literal(cloud(&orphan))]).expect_err("a parent missing from the cloud");
    assert_eq!(e.argument, Some(0));
    assert!(e.text.contains("templates[0]") && e.text.contains("base"), "{e:?}");
}

#[test]
fn every_function_declares_typed_parameters_and_a_string_result() {
    for f in all() {
        assert!(!f.summary().is_empty() && !f.description().is_empty(), "{}", f.name());
        assert_eq!(f.return_type(), Type::String, "{}", f.name());
        assert!(f.parameters().iter().all(|p| !p.description.is_empty()), "{}", f.name());
    }
}
