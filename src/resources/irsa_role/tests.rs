//! Unit tests of the pure parts: validation with paths, plan-time rendering with an unconfigured
//! provider, reading a trust back for import, and state from IAM's view of a role.

use super::model::{self, Desired, ServiceAccount};
use super::*;
use crate::framework::testing::{config_from_json, plan, validate};
use serde_json::json;

fn resource() -> IrsaRole {
    IrsaRole::new(Arc::default())
}

/// A configuration with the set-typed attributes as sets, as Terraform sends them.
fn config(extra: serde_json::Value) -> Value {
    let mut j = json!({
        "name": "ci",
        "clusters": ["controller"],
        "service_accounts": [{"namespace": "jenkins", "name": "jenkins"}],
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        j[k] = v.clone();
    }
    let mut v = config_from_json(&schema(), j);
    for name in ["clusters", "service_accounts", "managed_policy_arns"] {
        if let Some(Value::List(items)) = v.get_attr(name).cloned() {
            // Nested attributes are objects, which the JSON helper reads as maps.
            let items = items
                .into_iter()
                .map(|i| match i {
                    Value::Map(m) => Value::Object(m),
                    other => other,
                })
                .collect();
            set(&mut v, name, Value::Set(items));
        }
    }
    v
}

fn errors(diags: &Diagnostics) -> Vec<(String, Option<String>)> {
    diags
        .iter()
        .filter(|d| d.severity == crate::framework::Severity::Error)
        .map(|d| (d.summary.clone(), d.path.as_ref().map(|p| p.to_string())))
        .collect()
}

#[test]
fn invalid_inline_policy_is_reported_at_its_key() {
    let diags = validate(&resource(), &config(json!({"inline_policies": {"bad": "{not json"}})));
    let errs = errors(&diags);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "Invalid Policy Document");
    assert!(errs[0].1.as_deref().is_some_and(|p| p.contains("inline_policies") && p.contains("bad")), "{errs:?}");
}

#[test]
fn pod_identity_refuses_wildcards_and_the_owner_tag_is_reserved() {
    let cfg = config(json!({
        "binding": "pod_identity",
        "service_accounts": [{"namespace": "jenkins", "name": "agent-*"}],
        "tags": {"jenkins-eks.io/resource": "x"},
    }));
    let summaries: Vec<String> = errors(&validate(&resource(), &cfg)).into_iter().map(|e| e.0).collect();
    assert!(summaries.contains(&"Wildcard Not Supported By Pod Identity".to_string()), "{summaries:?}");
    assert!(summaries.contains(&"Reserved Tag".to_string()), "{summaries:?}");
}

#[test]
fn aws_managed_policy_arns_are_accepted() {
    let cfg = config(json!({
        "name": "ci",
        "managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/x"],
    }));
    let summaries: Vec<String> = errors(&validate(&resource(), &cfg)).into_iter().map(|e| e.0).collect();
    assert!(!summaries.contains(&"Invalid Policy ARN".to_string()), "{summaries:?}");
}

#[test]
fn role_name_session_duration_and_policy_arns_are_checked() {
    let cfg = config(json!({
        "name": "bad name!",
        "max_session_duration": 100,
        "managed_policy_arns": ["arn:aws:s3:::bucket"],
    }));
    let summaries: Vec<String> = errors(&validate(&resource(), &cfg)).into_iter().map(|e| e.0).collect();
    assert!(summaries.contains(&"Invalid Role Name".to_string()), "{summaries:?}");
    assert!(summaries.contains(&"Invalid Policy ARN".to_string()), "{summaries:?}");
    assert_eq!(summaries.len(), 3, "{summaries:?}");
}

#[tokio::test]
async fn pod_identity_trust_renders_at_plan_without_a_provider() {
    let cfg = config(json!({"binding": "pod_identity"}));
    let out = plan(&resource(), &Value::Null, &cfg).await;
    assert!(!out.diags.has_error(), "{:?}", out.diags);
    let trust = string(&out.planned, "trust_policy").expect("trust known at plan");
    assert!(iam::equivalent(&trust, &iam::pod_identity_trust()).unwrap_or(false));
    assert!(trust.contains('\n'), "pretty, so the plan shows it line by line");
    assert!(out.planned.get_attr("pod_identity_association_ids").is_some_and(Value::is_unknown));
    assert_eq!(out.planned.get_attr("service_account_annotations"), Some(&Value::Map(BTreeMap::new())));
}

#[tokio::test]
async fn irsa_trust_stays_unknown_until_the_provider_is_configured_and_wildcards_warn() {
    let cfg = config(json!({"service_accounts": [{"namespace": "jenkins", "name": "agent-*"}]}));
    let out = plan(&resource(), &Value::Null, &cfg).await;
    assert!(!out.diags.has_error(), "{:?}", out.diags);
    assert!(out.planned.get_attr("trust_policy").is_some_and(Value::is_unknown));
    assert!(out.diags.iter().any(|d| d.summary == "Wildcard Service Account"), "{:?}", out.diags);
}

#[test]
fn a_rendered_trust_reads_back_for_import() {
    let issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC";
    let arn = iam::oidc_provider_arn(iam::Partition::parse("aws").expect("aws"), "111122223333", issuer).expect("arn");
    let subjects = vec!["system:serviceaccount:jenkins:b".to_string(), "system:serviceaccount:jenkins:a".to_string()];
    let trust = iam::irsa_trust(&[iam::ClusterSubject::new(&arn, issuer, &subjects).expect("subject")]);
    let parsed = model::parse_trust(&trust).expect("parses");
    assert_eq!(parsed.issuers.get("oidc.eks.us-east-1.amazonaws.com/id/abc"), Some(&arn));
    let names: Vec<&str> = parsed.service_accounts.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(model::parse_trust(&iam::pod_identity_trust()).is_err(), "pod identity trust has no subjects");
}

#[test]
fn state_from_iam_keeps_the_users_spelling_when_equivalent() {
    let user = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"*"}]}"#;
    let iam_text = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:getobject", "s3:PutObject"], "Resource": ["*"]}}"#;
    let mut state = config(json!({"inline_policies": {"p": user}}));
    let live = crate::aws::iam::LiveRole {
        name: "ci".into(),
        arn: "arn:aws:iam::111122223333:role/ci".into(),
        unique_id: "AROAEXAMPLE".into(),
        path: "/".into(),
        trust_policy: iam::pod_identity_trust(),
        max_session_duration: 3600,
        tags: BTreeMap::from([(OWNER_TAG.to_string(), "irsa-role/ci".to_string())]),
        inline_policies: BTreeMap::from([
            ("p".to_string(), iam_text.to_string()),
            ("extra".to_string(), user.to_string()),
        ]),
        ..Default::default()
    };
    let mut diags = Diagnostics::new();
    model::fill_from_live(&mut state, &live, &mut diags);
    let inline = string_map(&state, "inline_policies");
    assert_eq!(inline.get("p").map(String::as_str), Some(user), "equivalent: the user's text stays");
    assert!(inline.contains_key("extra"), "a policy added by hand shows, so the plan removes it");
    assert_eq!(state.get_attr("tags"), Some(&Value::Null), "our own tag is not the user's");
    assert_eq!(state.get_attr("managed_policy_arns"), Some(&Value::Null), "none attached, none configured");
}

#[test]
fn the_role_carries_the_owner_tag() {
    let d = Desired::from_value(&config(json!({"tags": {"team": "ci"}})));
    let spec = d.role_spec("{}");
    assert_eq!(spec.tags.get(OWNER_TAG).map(String::as_str), Some("irsa-role/ci"));
    assert_eq!(spec.tags.get("team").map(String::as_str), Some("ci"));
    assert_eq!(d.service_accounts, vec![ServiceAccount { namespace: "jenkins".into(), name: "jenkins".into() }]);
}

#[test]
fn created_service_accounts_are_those_the_prior_state_did_not_find() {
    let planned = crate::framework::with_defaults(
        &schema().block,
        &config(json!({
            "create_service_account": true,
            "service_accounts": [{"namespace": "jenkins", "name": "jenkins"}, {"namespace": "agents", "name": "ci"}],
        })),
    );
    let names = |objects: Vec<PendingObject>| -> Vec<String> {
        objects
            .into_iter()
            .inspect(|o| {
                assert_eq!((o.kind, &o.cluster, o.by), ("ServiceAccount", &ClusterRef::Controller, "jenkins_irsa_role"))
            })
            .map(|o| format!("{}/{}", o.namespace, o.name))
            .collect()
    };
    assert_eq!(names(created_service_accounts(&Value::Null, &planned)), ["agents/ci", "jenkins/jenkins"]);
    // The prior state found jenkins/jenkins annotated and agents/ci missing (read as empty).
    let mut prior = planned.clone();
    let found = BTreeMap::from([
        ("jenkins/jenkins".to_string(), Value::string("arn:aws:iam::1:role/ci")),
        ("agents/ci".to_string(), Value::string("")),
    ]);
    set(&mut prior, "service_account_annotations", Value::Map(found));
    assert_eq!(names(created_service_accounts(&prior, &planned)), ["agents/ci"]);
    // Without `create_service_account` nothing is created.
    let mut annotate_only = planned.clone();
    set(&mut annotate_only, "create_service_account", Value::Bool(false));
    assert!(created_service_accounts(&Value::Null, &annotate_only).is_empty());
}

/// Create and delete on a provider that was never configured (Terraform always configures it with
/// known values before an apply): each refuses by name, writes nothing and does not panic.
#[test]
fn create_and_delete_refuse_an_unconfigured_provider() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let r = resource();
    let planned = config_from_json(
        &r.schema(),
        json!({"name": "ci", "clusters": ["controller"], "service_accounts": [{"namespace": "jenkins", "name": "agents"}]}),
    );
    let mut d = Diagnostics::default();
    assert!(rt.block_on(r.create(&planned, &planned, &mut d)).is_none());
    assert_eq!(d.iter().map(|x| x.summary.as_str()).collect::<Vec<_>>(), ["Provider Configuration Unknown"], "{d:?}");
    let mut d = Diagnostics::default();
    rt.block_on(r.delete(&planned, &mut d));
    assert_eq!(d.iter().map(|x| x.summary.as_str()).collect::<Vec<_>>(), ["Provider Configuration Unknown"], "{d:?}");
    assert!(d.iter().all(|x| x.detail.contains("to delete the role")), "{d:?}");
}

#[test]
fn a_list_offers_roles_that_eks_workloads_assume_and_no_others() {
    let irsa = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"}}]}"#;
    let pod_identity = iam::pod_identity_trust();
    let github = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}}]}"#;
    let ec2 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["ec2.amazonaws.com"]}}]}"#;
    assert!(model::trusts_eks_workloads(irsa));
    assert!(model::trusts_eks_workloads(&pod_identity));
    assert!(!model::trusts_eks_workloads(github), "another OIDC issuer");
    assert!(!model::trusts_eks_workloads(ec2));
    assert!(!model::trusts_eks_workloads("not json"));
}
