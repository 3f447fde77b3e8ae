//! moto's own IAM and STS, as the provider sees them through aws-sdk-rust.

use crate::support::{POD_IDENTITY_TRUST, clients, percent_decode, role};
use acceptance_tests::stack::fresh_account;

#[tokio::test]
async fn role_trust_policy_comes_back_url_encoded_and_decodes_to_what_was_sent() {
    let c = clients(&fresh_account()).await;
    role(&c, "jenkins-agent").await;
    let got = c.iam.get_role().role_name("jenkins-agent").send().await.expect("GetRole").role.expect("role");
    let encoded = got.assume_role_policy_document.expect("trust policy");
    assert!(encoded.contains("%22"), "IAM sends policy documents URL-encoded: {encoded}");
    assert_eq!(percent_decode(&encoded), POD_IDENTITY_TRUST);
}

#[tokio::test]
async fn missing_role_is_no_such_entity() {
    let c = clients(&fresh_account()).await;
    let err = c.iam.get_role().role_name("absent").send().await.expect_err("no such role");
    assert!(err.into_service_error().is_no_such_entity_exception());
}

#[tokio::test]
async fn caller_identity_is_in_the_account_the_access_key_names() {
    let account = fresh_account();
    let c = clients(&account).await;
    let me = c.sts.get_caller_identity().send().await.expect("GetCallerIdentity");
    assert_eq!(me.account.as_deref(), Some(account.as_str()));
    assert_eq!(me.arn.as_deref(), Some(format!("arn:aws:sts::{account}:user/moto").as_str()));
}

#[tokio::test]
async fn accounts_are_isolated() {
    let (a, b) = (clients(&fresh_account()).await, clients(&fresh_account()).await);
    role(&a, "only-in-a").await;
    let err = b.iam.get_role().role_name("only-in-a").send().await.expect_err("isolated");
    assert!(err.into_service_error().is_no_such_entity_exception());
    role(&b, "only-in-a").await; // the same name is free in the other account
}
