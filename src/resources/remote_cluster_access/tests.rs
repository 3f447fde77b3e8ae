//! Unit tests of the pure parts of `jenkins_remote_cluster_access`: names, fingerprints, the
//! objects both clusters get, import ids, validation, and plans checked against core's rules.

use super::model::{self, Access, Cluster, Credential};
use super::{RemoteClusterAccess, created_objects, planned_access, recorded_access, same_as_controller};
use crate::cty::{AttributePath, Value};
use crate::framework::{Diagnostics, Resource, testing};
use crate::kube::{ClusterSpec, ownership, rbac};
use serde_json::json;
use std::collections::BTreeMap;

fn resource() -> RemoteClusterAccess {
    RemoteClusterAccess { context: Default::default() }
}

fn config(j: serde_json::Value) -> Value {
    testing::config_from_json(&resource().schema(), j)
}

fn base() -> serde_json::Value {
    json!({"cluster": {"eks_cluster_name": "ci-east"}, "namespace": "jenkins-agents"})
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt").block_on(f)
}

fn access() -> Access {
    Access {
        cluster: Cluster::Eks { name: "ci-east".into(), region: None, role_arn: None },
        namespace: "agents".into(),
        create_namespace: true,
        service_account: "jenkins-agent-controller".into(),
        extra_rules: Vec::new(),
        rotate_token_when: BTreeMap::new(),
        credential: Some(Credential { id: "east".into(), description: "d".into(), scope: "system".into() }),
        expose_token: false,
    }
}

fn messages(d: &Diagnostics) -> Vec<(String, Option<AttributePath>)> {
    d.iter().map(|d| (d.summary.clone(), d.path.clone())).collect()
}

#[test]
fn fingerprint_is_sha256_hex() {
    assert_eq!(model::fingerprint("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

#[test]
fn token_secret_name_follows_rotation_only() {
    let none = BTreeMap::new();
    assert_eq!(model::token_secret_name("sa", &none), "sa-token");
    let a = BTreeMap::from([("rotated".to_string(), "1".to_string())]);
    let b = BTreeMap::from([("rotated".to_string(), "2".to_string())]);
    let name_a = model::token_secret_name("sa", &a);
    assert_eq!(name_a, model::token_secret_name("sa", &a.clone()), "deterministic");
    assert_ne!(name_a, model::token_secret_name("sa", &b));
    assert_eq!(name_a.len(), "sa-token-".len() + 8);
}

#[test]
fn credential_secret_is_kubernetes_credentials_provider_secret_text() {
    let a = access();
    let c = a.credential.clone().expect("credential");
    let s = model::credential_secret_object(&c, "jenkins", &a.id(), "t0ken");
    let labels = s.metadata.labels.clone().expect("labels");
    assert_eq!(labels["jenkins.io/credentials-type"], "secretText");
    assert_eq!(labels["jenkins.io/credentials-scope"], "system");
    assert!(ownership::is_ours(Some(&labels), model::OWNER));
    let ann = s.metadata.annotations.clone().expect("annotations");
    assert_eq!(ann["jenkins.io/credentials-description"], "d");
    assert_eq!(ann[model::ACCESS_ANNOTATION], "ci-east/agents/jenkins-agent-controller");
    assert_eq!(s.metadata.name.as_deref(), Some("east"));
    assert_eq!(s.metadata.namespace.as_deref(), Some("jenkins"));
    assert_eq!(s.data.as_ref().expect("data")["text"].0, b"t0ken");
    let (back, sha) = model::credential_of(&s);
    assert_eq!(back, c);
    assert_eq!(sha, Some(model::fingerprint("t0ken")));
}

#[test]
fn token_secret_records_its_service_account_and_rotation() {
    let mut a = access();
    a.rotate_token_when = BTreeMap::from([("rotated".to_string(), "2025-06".to_string())]);
    let s = model::token_secret_object(&a);
    assert_eq!(s.type_.as_deref(), Some("kubernetes.io/service-account-token"));
    let ann = s.metadata.annotations.clone().expect("annotations");
    assert_eq!(ann["kubernetes.io/service-account.name"], "jenkins-agent-controller");
    assert_eq!(model::rotation_of(&s), a.rotate_token_when);
    assert!(s.data.is_none(), "the token controller fills the token, never us");
}

#[test]
fn role_is_the_plugins_rules_then_extra_and_bound_to_the_service_account() {
    let mut a = access();
    let extra = rbac::Rule {
        api_groups: vec![String::new()],
        resources: vec!["configmaps".into()],
        verbs: vec!["get".into()],
        resource_names: vec![],
    };
    a.extra_rules = vec![extra.clone()];
    let rules: Vec<_> = model::role_object(&a).rules.expect("rules").iter().map(rbac::Rule::from_policy_rule).collect();
    assert_eq!(rules.len(), rbac::plugin_rules().len() + 1);
    assert_eq!(rules.last(), Some(&extra));
    assert_eq!(model::extra_of_live(&rules), vec![extra]);
    let b = model::role_binding_object(&a);
    assert_eq!(b.role_ref.name, "jenkins-agent-controller");
    let subject = &b.subjects.expect("subjects")[0];
    assert_eq!((subject.kind.as_str(), subject.namespace.as_deref()), ("ServiceAccount", Some("agents")));
}

#[test]
fn managed_objects_list_what_is_owned_in_destroy_order_reversed() {
    let mut a = access();
    assert_eq!(
        a.managed_objects("jenkins"),
        [
            "remote Namespace agents",
            "remote ServiceAccount agents/jenkins-agent-controller",
            "remote Role agents/jenkins-agent-controller",
            "remote RoleBinding agents/jenkins-agent-controller",
            "remote Secret agents/jenkins-agent-controller-token",
            "controller Secret jenkins/east",
        ]
    );
    a.create_namespace = false;
    a.credential = None;
    assert!(a.managed_objects("jenkins").iter().all(|o| !o.contains("Namespace") && !o.starts_with("controller")));
}

#[test]
fn import_ids() {
    assert_eq!(
        model::parse_import_id("ci-east/agents/jenkins").expect("valid"),
        ("ci-east".to_string(), "agents".to_string(), "jenkins".to_string())
    );
    assert!(model::parse_import_id("agents/jenkins").unwrap_err().contains("<eks_cluster_name>/<namespace>"));
    assert!(model::parse_import_id("https://x/agents/jenkins").is_err(), "a host cannot be imported");
    assert!(model::parse_import_id("c/Agents/jenkins").unwrap_err().contains("DNS-1123 label"));
}

#[test]
fn names() {
    assert!(model::check_dns_label("jenkins-agents", "Namespace").is_ok());
    assert!(model::check_dns_label("-x", "Namespace").is_err());
    assert!(model::check_dns_label(&"a".repeat(64), "Namespace").is_err());
    assert!(model::check_subdomain("ci.east-agents", 253, "Credential id").is_ok());
    assert!(model::check_subdomain("Remote_Token", 253, "Credential id").is_err());
    assert!(model::check_subdomain("a..b", 253, "Credential id").is_err());
}

#[test]
fn validation_names_the_attribute() {
    let r = resource();
    let bad_verb = config(json!({
        "cluster": {"eks_cluster_name": "ci-east"}, "namespace": "agents",
        "extra_rules": [{"resources": ["configmaps"], "verbs": ["get", "read"]}, {"resources": [], "verbs": ["get"]}],
        "jenkins_credential": {"id": "Bad_Id"}
    }));
    let d = testing::validate(&r, &bad_verb);
    let m = messages(&d);
    let rules = AttributePath::attr("extra_rules");
    assert!(m.contains(&("Unknown Verb".into(), Some(rules.then_index(0).then_attr("verbs").then_index(1)))), "{m:?}");
    assert!(m.contains(&("Rule Without Resources".into(), Some(rules.then_index(1).then_attr("resources")))), "{m:?}");
    assert!(m.iter().any(|(s, _)| s == "Invalid Credential Id"), "{m:?}");

    let both =
        config(json!({"cluster": {"eks_cluster_name": "a", "host": "https://x", "token": "t"}, "namespace": "agents"}));
    let m = messages(&testing::validate(&r, &both));
    assert!(m.iter().any(|(s, _)| s == "Conflicting Cluster Settings"), "{m:?}");
    let token_with_eks = config(json!({"cluster": {"eks_cluster_name": "a", "token": "t"}, "namespace": "agents"}));
    let m = messages(&testing::validate(&r, &token_with_eks));
    assert!(m.iter().any(|(s, _)| s == "Setting Needs host"), "{m:?}");
    let missing = config(json!({"namespace": "agents"}));
    assert!(messages(&testing::validate(&r, &missing)).iter().any(|(s, _)| s == "Missing cluster Block"));
    assert!(!testing::validate(&r, &config(base())).has_error());
    let unknown = config(json!({"cluster": {"eks_cluster_name": "(unknown)"}, "namespace": "(unknown)"}));
    assert!(!testing::validate(&r, &unknown).has_error(), "unknowns wait for apply");
}

#[test]
fn create_plan_knows_everything_but_the_token() {
    let r = resource();
    let mut j = base();
    j["extra_rules"] = json!([{"resources": ["configmaps"], "verbs": ["get"]}]);
    let out = block_on(testing::plan(&r, &Value::Null, &config(j)));
    assert!(!out.diags.has_error(), "{:?}", out.diags);
    let p = &out.planned;
    assert_eq!(p.get_attr("id"), Some(&Value::string("ci-east/jenkins-agents/jenkins-agent-controller")));
    assert_eq!(p.get_attr("token_secret_name"), Some(&Value::string("jenkins-agent-controller-token")));
    assert_eq!(p.get_attr("token"), Some(&Value::Null), "no token in the plan without expose_token");
    assert_eq!(p.get_attr("credentials_id"), Some(&Value::Null));
    assert!(p.get_attr("token_sha256").is_some_and(Value::is_unknown));
    assert!(p.get_attr("server_url").is_some_and(Value::is_unknown));
    let rules = p.get_attr("role_rules").and_then(Value::as_elements).expect("rules known at plan");
    assert_eq!(rules.len(), rbac::plugin_rules().len() + 1);
    assert!(p.get_attr("managed_objects").is_some_and(Value::is_wholly_known));
}

/// A state as apply would leave it for `cfg`.
fn applied(cfg: &Value) -> Value {
    let r = resource();
    let mut s = block_on(testing::plan(&r, &Value::Null, cfg)).planned;
    for (k, v) in [
        ("token_sha256", model::fingerprint("t")),
        ("server_url", "https://eks".into()),
        ("ca_certificate", "PEM".into()),
    ] {
        super::set(&mut s, k, Value::string(v));
    }
    model::set_credential_attr(&mut s, "token_sha256", Value::string(model::fingerprint("t")));
    if s.get_attr("managed_objects").is_some_and(Value::is_unknown) {
        let a = Access::from_value(&s).expect("known");
        super::set(&mut s, "managed_objects", model::string_list(&a.managed_objects("jenkins")));
    }
    s
}

#[test]
fn unchanged_config_plans_nothing_and_rotation_plans_a_new_token() {
    let r = resource();
    let cfg = config(base());
    let state = applied(&cfg);
    let again = block_on(testing::plan(&r, &state, &cfg));
    assert_eq!(again.planned, state, "second plan is empty");

    let mut j = base();
    j["rotate_token_when"] = json!({"rotated": "1"});
    let rotated = block_on(testing::plan(&r, &state, &config(j)));
    assert!(rotated.planned.get_attr("token_sha256").is_some_and(Value::is_unknown));
    assert_ne!(rotated.planned.get_attr("token_secret_name"), state.get_attr("token_secret_name"));
    assert!(rotated.requires_replace.is_empty(), "rotation is an update");
    assert_eq!(rotated.planned.get_attr("server_url"), state.get_attr("server_url"), "the cluster is unchanged");
}

#[test]
fn drift_read_back_shows_in_the_plan() {
    let r = resource();
    let cfg = config(base());
    let state = applied(&cfg);
    // Refresh found the binding gone and the Role edited.
    let mut drifted = state.clone();
    let objects: Vec<String> = Access::from_value(&state)
        .expect("known")
        .managed_objects("jenkins")
        .into_iter()
        .filter(|o| !o.contains("RoleBinding"))
        .collect();
    super::set(&mut drifted, "managed_objects", model::string_list(&objects));
    super::set(&mut drifted, "role_rules", model::rules_value(&rbac::plugin_rules()[1..]));
    let out = block_on(testing::plan(&r, &drifted, &cfg));
    assert_eq!(out.planned.get_attr("managed_objects"), state.get_attr("managed_objects"));
    assert_eq!(out.planned.get_attr("role_rules"), state.get_attr("role_rules"));
    assert_eq!(out.planned.get_attr("token_sha256"), state.get_attr("token_sha256"), "the token itself stays");

    // The token Secret gone: a new token is coming.
    let mut no_token = state.clone();
    let objects: Vec<String> = Access::from_value(&state)
        .expect("known")
        .managed_objects("jenkins")
        .into_iter()
        .filter(|o| !o.starts_with("remote Secret"))
        .collect();
    super::set(&mut no_token, "managed_objects", model::string_list(&objects));
    let out = block_on(testing::plan(&r, &no_token, &cfg));
    assert!(out.planned.get_attr("token_sha256").is_some_and(Value::is_unknown));
}

#[test]
fn a_host_connection_plans_its_url_and_ca() {
    let key = rcgen::KeyPair::generate().expect("key");
    let pem =
        rcgen::CertificateParams::new(vec!["ca".to_string()]).expect("params").self_signed(&key).expect("cert").pem();
    let cfg = config(
        json!({"cluster": {"host": "https://k8s.example.com", "cluster_ca_certificate": pem, "token": "t"}, "namespace": "agents"}),
    );
    let out = block_on(testing::plan(&resource(), &Value::Null, &cfg));
    assert_eq!(out.planned.get_attr("server_url"), Some(&Value::string("https://k8s.example.com")));
    assert!(
        out.planned.get_attr("ca_certificate").and_then(Value::as_str).is_some_and(|c| c.contains("BEGIN CERTIFICATE"))
    );
    assert_eq!(
        out.planned.get_attr("id"),
        Some(&Value::string("https://k8s.example.com/agents/jenkins-agent-controller"))
    );
}

#[test]
fn the_controllers_own_cluster_is_recognised() {
    let eks = |name: &str, region: Option<&str>| Cluster::Eks {
        name: name.into(),
        region: region.map(Into::into),
        role_arn: None,
    };
    let controller = ClusterSpec::Eks { cluster_name: "ci".into() };
    assert!(same_as_controller(&eks("ci", None), &controller, Some("us-east-1")));
    assert!(same_as_controller(&eks("ci", Some("us-east-1")), &controller, Some("us-east-1")));
    assert!(!same_as_controller(&eks("ci", Some("eu-west-1")), &controller, Some("us-east-1")));
    assert!(!same_as_controller(&eks("east", None), &controller, None));
    let direct = ClusterSpec::Direct { host: "https://a/".into(), ca_pem: None, token: None, insecure: false };
    let host = Cluster::Direct { host: "https://a".into(), ca: None, token: None };
    assert!(same_as_controller(&host, &direct, None));
}

#[test]
fn debug_never_shows_the_connection_token() {
    let c = Cluster::Direct { host: "https://x".into(), ca: None, token: Some("s3cret".into()) };
    assert!(!format!("{c:?}").contains("s3cret"));
}

#[test]
fn new_objects_are_pending_in_their_cluster_and_roles_are_not_listed() {
    let objects = |entries: &[&str]| Value::List(entries.iter().map(|e| Value::string(*e)).collect());
    let mut planned = Value::Object(BTreeMap::from([
        ("server_url".to_string(), Value::string("https://remote.example/")),
        (
            "managed_objects".to_string(),
            objects(&[
                "remote Namespace agents",
                "remote ServiceAccount agents/jenkins",
                "remote Role agents/jenkins",
                "remote RoleBinding agents/jenkins",
                "remote Secret agents/jenkins-token",
                "controller Secret jenkins/remote-agents",
            ]),
        ),
    ]));
    let shown = |prior: &Value, planned: &Value| -> Vec<String> {
        created_objects(prior, planned)
            .into_iter()
            .inspect(|o| assert_eq!(o.by, "jenkins_remote_cluster_access"))
            .map(|o| format!("{:?} {} {}/{}", o.cluster, o.kind, o.namespace, o.name))
            .collect()
    };
    let remote = "Remote(\"https://remote.example\")";
    assert_eq!(
        shown(&Value::Null, &planned),
        [
            format!("{remote} Namespace /agents"),
            format!("{remote} ServiceAccount agents/jenkins"),
            format!("{remote} Secret agents/jenkins-token"),
            "Controller Secret jenkins/remote-agents".to_string(),
        ]
    );
    // Only what the prior state did not find is created.
    let mut prior = planned.clone();
    crate::resources::values::set(
        &mut prior,
        "managed_objects",
        objects(&["remote Namespace agents", "remote Secret agents/jenkins-token"]),
    );
    assert_eq!(shown(&prior, &planned).len(), 2, "{:?}", shown(&prior, &planned));
    // While the remote server URL is unknown (EKS, first plan) only the controller's objects are given.
    crate::resources::values::set(&mut planned, "server_url", Value::unknown());
    assert_eq!(shown(&Value::Null, &planned), ["Controller Secret jenkins/remote-agents"]);
}

#[test]
fn an_apply_with_unknown_inputs_is_refused_as_a_provider_bug() {
    let r = resource();
    let unknown = config(json!({"cluster": {"eks_cluster_name": "ci-east"}, "namespace": "(unknown)"}));
    let planned = block_on(testing::plan(&r, &Value::Null, &unknown)).planned;
    let mut d = Diagnostics::new();
    assert_eq!(planned_access(&planned, &mut d), None);
    let m = messages(&d);
    assert_eq!(m, [("Unknown Values At Apply".to_string(), None)]);
    let detail = &d.iter().next().expect("one").detail;
    assert!(detail.contains("must be known at apply") && detail.contains("provider bug"), "{detail}");
    let mut d = Diagnostics::new();
    let known = block_on(testing::plan(&r, &Value::Null, &config(base()))).planned;
    assert!(planned_access(&known, &mut d).is_some() && d.is_empty(), "{d:?}");
}

#[test]
fn a_state_without_a_cluster_is_unreadable_and_says_to_apply_again() {
    let mut state = applied(&config(base()));
    let mut d = Diagnostics::new();
    assert!(recorded_access(&state, &mut d).is_some() && d.is_empty(), "{d:?}");
    super::set(&mut state, "cluster", Value::Null);
    assert_eq!(recorded_access(&state, &mut d), None);
    assert_eq!(messages(&d), [("Unreadable State".to_string(), None)]);
    let detail = &d.iter().next().expect("one").detail;
    assert!(detail.contains("terraform apply") && detail.contains("jenkins_remote_cluster_access"), "{detail}");
}

/// Terraform configures the provider with known values before any apply, so these guards are only
/// reachable by a caller that skips configuration: each still refuses with a diagnostic, not a panic.
#[test]
fn an_unconfigured_provider_is_refused_by_name() {
    let r = resource();
    let mut d = Diagnostics::default();
    assert!(r.configured(&mut d).is_none());
    let summaries: Vec<&str> = d.iter().map(|x| x.summary.as_str()).collect();
    assert_eq!(summaries, ["Provider Configuration Unknown"], "{d:?}");
    assert!(d.iter().all(|x| x.detail.contains("jenkins_remote_cluster_access")), "{d:?}");

    let mut d = Diagnostics::default();
    assert!(r.context.controller(&mut d, "jenkins_agent_cloud").is_none());
    assert_eq!(d.iter().map(|x| x.summary.as_str()).collect::<Vec<_>>(), ["Provider Configuration Unknown"]);
    assert!(d.iter().all(|x| x.detail.contains("`kubernetes` settings")), "{d:?}");
}
