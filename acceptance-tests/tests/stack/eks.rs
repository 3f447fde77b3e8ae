//! The EKS the launcher adds to moto: real endpoints and CAs, issuers, Pod Identity, access entries.

use crate::support::{Clients, clients, cluster, role, stack};
use acceptance_tests::stack::fresh_account;
use aws_sdk_eks::types::{AccessScope, AccessScopeType, AuthenticationMode, VpcConfigRequest};
use base64::Engine;

const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

fn ca_pem(c: &aws_sdk_eks::types::Cluster) -> String {
    let data = c.certificate_authority.as_ref().and_then(|ca| ca.data.as_deref()).expect("CA data");
    let pem = base64::engine::general_purpose::STANDARD.decode(data).expect("CA data is base64");
    String::from_utf8(pem).expect("PEM text")
}

fn issuer(c: &aws_sdk_eks::types::Cluster) -> String {
    c.identity.as_ref().and_then(|i| i.oidc.as_ref()).and_then(|o| o.issuer.clone()).expect("issuer")
}

#[tokio::test]
async fn describe_cluster_gives_the_emulator_endpoint_and_its_real_ca() {
    let c = clients(&fresh_account()).await;
    let role_arn = role(&c, "cluster").await;
    let created = cluster(&c, "controller", &role_arn).await;
    let described = c.eks.describe_cluster().name("controller").send().await.expect("Describe").cluster.unwrap();
    assert_eq!(created.endpoint, described.endpoint);
    let pem = ca_pem(&described);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    match stack().kube.clusters.get("controller") {
        Some(kube) => {
            assert_eq!(described.endpoint.as_deref(), Some(kube.endpoint.as_str()));
            assert_eq!(pem, kube.ca_pem);
        }
        None => assert_eq!(described.endpoint.as_deref(), Some("https://127.0.0.1:1")), // TFPJ_STACK_NO_KUBE
    }
    let access = described.access_config.expect("accessConfig is echoed");
    assert_eq!(access.authentication_mode, Some(AuthenticationMode::ApiAndConfigMap));
    assert_eq!(access.bootstrap_cluster_creator_admin_permissions, Some(true));
}

#[tokio::test]
async fn clusters_the_emulator_does_not_serve_get_a_dead_endpoint_and_distinct_stable_issuers() {
    let account = fresh_account();
    let c = clients(&account).await;
    let role_arn = role(&c, "cluster").await;
    let a = cluster(&c, "elsewhere-a", &role_arn).await;
    let b = cluster(&c, "elsewhere-b", &role_arn).await;
    assert_eq!(a.endpoint.as_deref(), Some("https://127.0.0.1:1"));
    if let Some(controller) = stack().kube.clusters.get("controller") {
        assert_eq!(ca_pem(&a), controller.ca_pem, "unserved clusters present the controller's CA");
    }
    let (ia, ib) = (issuer(&a), issuer(&b));
    assert_ne!(ia, ib);
    let id = ia.strip_prefix("https://oidc.eks.us-east-1.amazonaws.com/id/").expect("EKS issuer form");
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()), "{id}");
    c.eks.delete_cluster().name("elsewhere-a").send().await.expect("DeleteCluster");
    let again = cluster(&c, "elsewhere-a", &role_arn).await;
    assert_eq!(issuer(&again), ia, "stable for (account, region, name)");
    if let Some(remote) = stack().kube.clusters.get("remote") {
        let r = cluster(&c, "remote", &role_arn).await;
        assert_eq!(r.endpoint.as_deref(), Some(remote.endpoint.as_str()));
        assert_ne!(issuer(&r), ia);
        let controller = cluster(&c, "controller", &role_arn).await;
        assert!(issuer(&controller).starts_with("https://oidc.eks.us-east-1.amazonaws.com/id/"));
        assert_ne!(issuer(&r), issuer(&controller), "the two emulated clusters have distinct issuers");
    }
}

#[tokio::test]
async fn pod_identity_associations_crud_and_errors() {
    let c = clients(&fresh_account()).await;
    let role_arn = role(&c, "jenkins-agent").await;
    let other_role = role(&c, "jenkins-agent-2").await;
    cluster(&c, "ci", &role_arn).await;
    let create = |ns: &'static str, sa: &'static str, r: String| {
        c.eks.create_pod_identity_association().cluster_name("ci").namespace(ns).service_account(sa).role_arn(r).send()
    };
    let a = create("jenkins", "agent", role_arn.clone()).await.expect("Create").association.unwrap();
    let id = a.association_id.clone().unwrap();
    assert!(id.starts_with("a-") && id.len() == 19, "{id}");
    let account = role_arn.split(':').nth(4).unwrap();
    assert_eq!(a.association_arn.unwrap(), format!("arn:aws:eks:us-east-1:{account}:podidentityassociation/ci/{id}"));

    let dup = create("jenkins", "agent", role_arn.clone()).await.expect_err("duplicate");
    assert!(dup.into_service_error().is_resource_in_use_exception());
    let bad = create("jenkins", "other", format!("{role_arn}-missing")).await.expect_err("unknown role");
    assert!(bad.into_service_error().is_invalid_parameter_exception());
    let err = c
        .eks
        .create_pod_identity_association()
        .cluster_name("no-such-cluster")
        .namespace("jenkins")
        .service_account("agent")
        .role_arn(&role_arn)
        .send()
        .await
        .expect_err("unknown cluster");
    assert!(err.into_service_error().is_resource_not_found_exception());

    create("other", "agent", role_arn.clone()).await.expect("second");
    let listed = c.eks.list_pod_identity_associations().cluster_name("ci").namespace("jenkins").send().await;
    let listed = listed.expect("List").associations.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].association_id.as_deref(), Some(id.as_str()));

    let updated = c.eks.update_pod_identity_association().cluster_name("ci").association_id(&id).role_arn(&other_role);
    assert_eq!(updated.send().await.expect("Update").association.unwrap().role_arn, Some(other_role.clone()));
    let got = c.eks.describe_pod_identity_association().cluster_name("ci").association_id(&id).send().await;
    assert_eq!(got.expect("Describe").association.unwrap().role_arn, Some(other_role));
    c.eks.delete_pod_identity_association().cluster_name("ci").association_id(&id).send().await.expect("Delete");
    let gone = c.eks.describe_pod_identity_association().cluster_name("ci").association_id(&id).send().await;
    assert!(gone.expect_err("deleted").into_service_error().is_resource_not_found_exception());
}

async fn access_policies(c: &Clients, principal: &str) -> Vec<String> {
    let out = c.eks.list_associated_access_policies().cluster_name("ci").principal_arn(principal).send().await;
    out.expect("ListAssociatedAccessPolicies")
        .associated_access_policies
        .unwrap()
        .into_iter()
        .filter_map(|p| p.policy_arn)
        .collect()
}

#[tokio::test]
async fn access_entries_and_access_policies() {
    let c = clients(&fresh_account()).await;
    let cluster_role = role(&c, "cluster").await;
    cluster(&c, "ci", &cluster_role).await;
    let principal = {
        let out = c
            .iam
            .create_role()
            .role_name("admin")
            .path("/team/")
            .assume_role_policy_document(crate::support::POD_IDENTITY_TRUST);
        out.send().await.expect("CreateRole").role.unwrap().arn
    };
    let entry =
        c.eks.create_access_entry().cluster_name("ci").principal_arn(&principal).kubernetes_groups("ops").send().await;
    let entry = entry.expect("CreateAccessEntry").access_entry.unwrap();
    assert_eq!(entry.r#type.as_deref(), Some("STANDARD"));
    let account = principal.split(':').nth(4).unwrap();
    assert_eq!(entry.username, Some(format!("arn:aws:sts::{account}:assumed-role/admin/{{{{SessionName}}}}")));
    let dup = c.eks.create_access_entry().cluster_name("ci").principal_arn(&principal).send().await;
    assert!(dup.expect_err("duplicate").into_service_error().is_resource_in_use_exception());

    let got = c.eks.describe_access_entry().cluster_name("ci").principal_arn(&principal).send().await;
    assert_eq!(got.expect("Describe").access_entry.unwrap().kubernetes_groups, Some(vec!["ops".to_string()]));
    let scope = AccessScope::builder().r#type(AccessScopeType::Namespace).namespaces("jenkins").build();
    let assoc = c
        .eks
        .associate_access_policy()
        .cluster_name("ci")
        .principal_arn(&principal)
        .policy_arn(VIEW)
        .access_scope(scope);
    let assoc = assoc.send().await.expect("AssociateAccessPolicy").associated_access_policy.unwrap();
    assert_eq!(assoc.access_scope.unwrap().namespaces, Some(vec!["jenkins".to_string()]));
    assert_eq!(access_policies(&c, &principal).await, vec![VIEW.to_string()]);
    let listed = c.eks.list_access_entries().cluster_name("ci").associated_policy_arn(VIEW).send().await;
    assert_eq!(listed.expect("ListAccessEntries").access_entries, Some(vec![principal.clone()]));

    let dis = c.eks.disassociate_access_policy().cluster_name("ci").principal_arn(&principal).policy_arn(VIEW);
    dis.send().await.expect("DisassociateAccessPolicy");
    assert!(access_policies(&c, &principal).await.is_empty());
    c.eks.delete_access_entry().cluster_name("ci").principal_arn(&principal).send().await.expect("Delete");
    let gone = c.eks.describe_access_entry().cluster_name("ci").principal_arn(&principal).send().await;
    assert!(gone.expect_err("deleted").into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn access_entries_need_an_api_authentication_mode_and_an_existing_principal() {
    let c = clients(&fresh_account()).await;
    let role_arn = role(&c, "cluster").await;
    let vpc = VpcConfigRequest::builder().subnet_ids("subnet-1").build();
    c.eks.create_cluster().name("legacy").role_arn(&role_arn).resources_vpc_config(vpc).send().await.expect("Create");
    let err = c.eks.create_access_entry().cluster_name("legacy").principal_arn(&role_arn).send().await;
    assert!(err.expect_err("CONFIG_MAP").into_service_error().is_invalid_request_exception());

    cluster(&c, "ci", &role_arn).await;
    let ghost = format!("{role_arn}-ghost");
    let err = c.eks.create_access_entry().cluster_name("ci").principal_arn(&ghost).send().await;
    assert!(err.expect_err("no such principal").into_service_error().is_invalid_parameter_exception());
}
