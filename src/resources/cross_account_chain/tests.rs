//! Unit tests: the mapping from the schema to `awsconfig::Chain`, finding paths as Terraform
//! attribute paths, plan-time rendering without a configured provider, and the import inverse.

use super::*;
use crate::framework::testing::{config_from_json, plan, validate};
use serde_json::json;

fn resource() -> CrossAccountChain {
    CrossAccountChain { context: Arc::new(ProviderContext::default()) }
}

fn seed() -> serde_json::Value {
    json!({
        "namespace": "jenkins",
        "base": { "name": "prod", "role_arn": "arn:aws:iam::111111111111:role/jenkins-ci-role", "region": "us-east-1" },
        "hop": [{
            "name": "nonprod",
            "role_arn": "arn:aws:iam::222222222222:role/jenkins-deploy-role",
            "source_profile": "prod",
            "role_session_name": "jenkinssession",
            "external_id": "ci-42",
        }],
    })
}

fn object(json: serde_json::Value) -> Value {
    crate::framework::with_defaults(&schema().block, &config_from_json(&schema(), json))
}

#[test]
fn schema_maps_onto_the_chain() {
    let chain = chain_of(&object(seed())).expect("chain");
    assert_eq!(chain.base.name, "prod");
    assert_eq!(chain.base.identity, BaseIdentity::irsa());
    assert_eq!(chain.base.region.as_deref(), Some("us-east-1"));
    let hop = &chain.hops[0];
    assert_eq!(hop.source_profile.as_deref(), Some("prod"));
    assert_eq!(hop.role_session_name.as_deref(), Some("jenkinssession"));
    assert_eq!(hop.external_id.as_deref(), Some("ci-42"));
    assert_eq!(hop.credential_source, None);
    assert_eq!(source_role_of(&chain, hop), Some("arn:aws:iam::111111111111:role/jenkins-ci-role"));
}

#[test]
fn pod_identity_binding_maps_to_the_container_provider() {
    let mut j = seed();
    j["base"]["binding"] = json!("pod_identity");
    let chain = chain_of(&object(j)).expect("chain");
    assert_eq!(chain.base.identity, BaseIdentity::PodIdentity);
    assert!(awsconfig::render(&chain).contains("credential_source = EcsContainer"));
}

#[test]
fn finding_paths_become_attribute_paths() {
    let f = Finding {
        severity: awsconfig::Severity::Error,
        path: vec![PathSegment::Attr("hop"), PathSegment::Index(1), PathSegment::Attr("source_profile")],
        summary: String::new(),
        detail: String::new(),
    };
    assert_eq!(attribute_path(&f), AttributePath::attr("hop").then_index(1).then_attr("source_profile"));
    assert_eq!(f.path_string(), "hop[1].source_profile");
}

fn errors_at(json: serde_json::Value) -> Vec<(String, String)> {
    let config = config_from_json(&schema(), json);
    validate(&resource(), &config)
        .iter()
        .filter(|d| d.severity == crate::framework::Severity::Error)
        .map(|d| (d.summary.clone(), d.path.as_ref().map(|p| format!("{p:?}")).unwrap_or_default()))
        .collect()
}

#[test]
fn bad_chains_are_errors_at_their_attribute() {
    let mut loop_ = seed();
    loop_["hop"] = json!([
        { "name": "a", "role_arn": "arn:aws:iam::222222222222:role/a", "source_profile": "b" },
        { "name": "b", "role_arn": "arn:aws:iam::222222222222:role/b", "source_profile": "a" },
    ]);
    let e = errors_at(loop_);
    assert!(e.iter().any(|(s, p)| s == "Profile Chain Loop" && p.contains("source_profile")), "{e:?}");

    let mut long = seed();
    long["hop"][0]["duration_seconds"] = json!(7200);
    let e = errors_at(long);
    assert!(e.iter().any(|(s, p)| s == "Chained Session Over One Hour" && p.contains("duration_seconds")), "{e:?}");

    let mut both = seed();
    both["hop"][0]["credential_source"] = json!("Environment");
    let e = errors_at(both);
    assert!(e.iter().any(|(s, p)| s.starts_with("Both Source") && p.contains("credential_source")), "{e:?}");

    let mut token = seed();
    token["base"]["binding"] = json!("pod_identity");
    token["base"]["web_identity_token_file"] = json!("/t");
    let e = errors_at(token);
    assert!(e.iter().any(|(s, _)| s == "Token File With Pod Identity"), "{e:?}");

    let mut profile = seed();
    profile["aws_profile"] = json!("staging");
    let e = errors_at(profile);
    assert!(e.iter().any(|(s, p)| s == "Unknown Profile" && p.contains("aws_profile")), "{e:?}");

    let mut admin = seed();
    admin["hop"][0]["manage_trust"] = json!({ "admin_role_arn": "arn:aws:iam::333333333333:role/admin" });
    let e = errors_at(admin);
    assert!(e.iter().any(|(s, p)| s == "Admin Role In Another Account" && p.contains("admin_role_arn")), "{e:?}");

    assert!(errors_at(seed()).is_empty());
}

#[tokio::test]
async fn plan_renders_the_file_env_and_trust_without_a_provider() {
    let mut j = seed();
    j["hop"][0]["manage_trust"] = json!({ "admin_role_arn": "arn:aws:iam::222222222222:role/admin" });
    let config = config_from_json(&schema(), j);
    let out = plan(&resource(), &Value::Null, &config).await;
    assert!(!out.diags.has_error(), "{:#?}", out.diags);
    let p = &out.planned;
    let ini = string(p, "config_ini").expect("config_ini known at plan");
    assert!(ini.starts_with(awsconfig::HEADER), "{ini}");
    assert!(ini.contains(
        "[profile nonprod]\nrole_arn = arn:aws:iam::222222222222:role/jenkins-deploy-role\nsource_profile = prod\n"
    ));
    let env = string_map(p, "container_env");
    assert_eq!(env.get("AWS_CONFIG_FILE").map(String::as_str), Some("/etc/aws/config"));
    assert_eq!(env.get("AWS_PROFILE").map(String::as_str), Some("nonprod"));
    assert!(string(p, "mount_snippet").is_some_and(|s| s.contains("awsconfig-configmap") && !s.contains("subPath:")));
    let trusts = string_map(p, "trust_policies");
    let trust = trusts.get("arn:aws:iam::222222222222:role/jenkins-deploy-role").expect("trust planned");
    assert!(trust.contains("aws:PrincipalArn") && trust.contains("sts:ExternalId"), "{trust}");
    assert!(p.get_attr("created_roles").is_some_and(Value::is_unknown));
}

#[test]
fn import_inverts_the_mapping() {
    let j = seed();
    let obj = object(j);
    let chain = chain_of(&obj).expect("chain");
    let parsed = awsconfig::parse(&awsconfig::render(&chain)).expect("parse");
    let settings = Settings { mount_path: Some("/etc/aws".into()), ..Default::default() };
    let imported = imported_state("jenkins", "awsconfig-configmap", &parsed, &settings);
    assert_eq!(chain_of(&imported), Some(chain));
    assert_eq!(imported.get_attr("base"), obj.get_attr("base"));
    assert_eq!(string(&imported, "config_ini"), Some(awsconfig::render(&chain_of(&obj).expect("chain"))));
}

#[test]
fn grants_group_targets_by_source_role() {
    let mut j = seed();
    j["hop"] = json!([
        { "name": "a", "role_arn": "arn:aws:iam::222222222222:role/a", "source_profile": "prod" },
        { "name": "b", "role_arn": "arn:aws:iam::333333333333:role/b", "source_profile": "prod" },
        { "name": "c", "role_arn": "arn:aws:iam::444444444444:role/c", "source_profile": "b" },
    ]);
    let g = grants(&chain_of(&object(j)).expect("chain"));
    assert_eq!(g.len(), 2);
    assert_eq!(g["arn:aws:iam::111111111111:role/jenkins-ci-role"].len(), 2);
    assert_eq!(g["arn:aws:iam::333333333333:role/b"], vec!["arn:aws:iam::444444444444:role/c".to_string()]);
    assert_eq!(grant_policy_name("jenkins", "awsconfig-configmap"), "jenkins-chain-jenkins-awsconfig-configmap");
}

#[test]
fn a_new_or_moved_configmap_is_pending_and_an_unchanged_one_is_not() {
    let planned = object(seed());
    let created = created_configmap(&Value::Null, &planned).expect("a new chain creates its ConfigMap");
    assert_eq!(created.cluster, ClusterRef::Controller);
    assert_eq!(
        (created.kind, created.namespace.as_str(), created.name.as_str()),
        ("ConfigMap", "jenkins", "awsconfig-configmap")
    );
    assert_eq!(created.by, "jenkins_cross_account_chain");
    // The same ConfigMap in the prior state exists already (a drift re-creates from a null prior).
    assert_eq!(created_configmap(&planned, &planned), None);
    let mut moved = planned.clone();
    set(&mut moved, "configmap_name", Value::string("aws-deploy"));
    assert_eq!(created_configmap(&planned, &moved).map(|o| o.name), Some("aws-deploy".to_string()));
    // An unknown name registers nothing: no cloud can name it at plan either.
    let mut unknown = planned.clone();
    set(&mut unknown, "configmap_name", Value::unknown());
    assert_eq!(created_configmap(&Value::Null, &unknown), None);
}

/// The managed trust of the seed's hop, as `managed_trusts` resolves it.
fn seed_trust() -> ManagedTrust {
    ManagedTrust {
        hop_index: 0,
        target_role_arn: "arn:aws:iam::222222222222:role/jenkins-deploy-role".into(),
        source_role_arn: "arn:aws:iam::111111111111:role/jenkins-ci-role".into(),
        external_id: Some("ci-42".into()),
        admin_role_arn: "arn:aws:iam::222222222222:role/admin".into(),
        admin_external_id: None,
        robust: true,
    }
}

/// (severity, summary, path) of each diagnostic.
fn listed(diags: &Diagnostics) -> Vec<(crate::framework::Severity, String, String)> {
    diags
        .iter()
        .map(|d| (d.severity, d.summary.clone(), d.path.as_ref().map(|p| format!("{p:?}")).unwrap_or_default()))
        .collect()
}

/// A guard: validation refuses a bad source ARN first, but if one reached the trust builder the
/// error names the hop's `manage_trust` instead of writing a broken policy.
#[test]
fn a_trust_that_cannot_be_built_is_an_error_at_manage_trust() {
    let mut t = seed_trust();
    t.source_role_arn = "jenkins-ci-role".into();
    let mut diags = Diagnostics::new();
    let out = desired_trusts(&[seed_trust(), t], &mut diags);
    assert_eq!(out.len(), 1, "the good trust is still built: {out:?}");
    let got = listed(&diags);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, crate::framework::Severity::Error);
    assert_eq!(got[0].1, "Cannot Build The Trust Policy");
    assert!(got[0].2.contains("manage_trust"), "{got:?}");
}

/// The planned trust is checked against the hop's source: what the provider builds admits it;
/// a document that does not (an override, a future form) is an error naming why; one that is not
/// a policy at all cannot be checked, also an error.
#[test]
fn a_planned_trust_must_admit_the_hop_source() {
    let t = seed_trust();
    let mut diags = Diagnostics::new();
    sync::check_admission(&t, Some(&t.desired().expect("trust")), &mut diags);
    assert!(diags.is_empty(), "the built trust admits its source: {:?}", listed(&diags));
    sync::check_admission(&t, None, &mut diags);
    assert!(diags.is_empty(), "no planned trust, nothing to check");

    let other_id = ManagedTrust { external_id: Some("ci-43".into()), ..t.clone() }.desired().expect("trust");
    sync::check_admission(&t, Some(&other_id), &mut diags);
    let service = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    sync::check_admission(&t, Some(&service.to_string()), &mut diags);
    sync::check_admission(&t, Some(&"{not json".to_string()), &mut diags);
    let got = listed(&diags);
    let summaries: Vec<&str> = got.iter().map(|(_, s, _)| s.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Managed Trust Does Not Admit The Source",
            "Managed Trust Does Not Admit The Source",
            "Cannot Check The Trust Policy"
        ],
        "{got:?}"
    );
    assert!(
        got.iter().all(|(sev, _, path)| *sev == crate::framework::Severity::Error && path.contains("manage_trust"))
    );
    let detail = &diags.iter().next().expect("one").detail;
    assert!(detail.contains("jenkins-ci-role") && detail.contains("jenkins-deploy-role"), "{detail}");
}
