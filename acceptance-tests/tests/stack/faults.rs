//! The fault knobs: each one seen by aws-sdk-rust the way a real AWS fault would be.

use crate::support::{clients, clients_with, cluster, role, stack};
use acceptance_tests::stack::fresh_account;
use aws_config::retry::RetryConfig;
use aws_sdk_iam::error::ProvideErrorMetadata;
use std::time::Duration;

#[tokio::test]
async fn throttling_is_a_throttling_error_until_the_count_is_used_up() {
    let account = fresh_account();
    let c = clients_with(&account, RetryConfig::disabled()).await;
    role(&c, "r").await;
    stack().throttle(&account, "iam:GetRole", 2);
    for _ in 0..2 {
        let err = c.iam.get_role().role_name("r").send().await.expect_err("throttled");
        assert_eq!(err.code(), Some("Throttling"));
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    }
    c.iam.get_role().role_name("r").send().await.expect("third call passes");
}

#[tokio::test]
async fn the_sdk_standard_retries_ride_out_throttling() {
    let account = fresh_account();
    let c = clients(&account).await;
    role(&c, "r").await;
    stack().throttle(&account, "iam:GetRole", 2);
    c.iam.get_role().role_name("r").send().await.expect("retried past two throttles");
}

#[tokio::test]
async fn eks_throttling_and_server_errors_use_the_rest_json_shape() {
    let account = fresh_account();
    let c = clients_with(&account, RetryConfig::disabled()).await;
    let role_arn = role(&c, "cluster").await;
    cluster(&c, "ci", &role_arn).await;
    stack().throttle(&account, "eks:DescribeCluster", 1);
    let err = c.eks.describe_cluster().name("ci").send().await.expect_err("throttled");
    assert_eq!(err.code(), Some("ThrottlingException"));
    stack().server_errors(&account, "eks:*PodIdentityAssociation*", 1);
    let err = c.eks.list_pod_identity_associations().cluster_name("ci").send().await.expect_err("5xx");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(err.code(), Some("ServerException"));
    c.eks.list_pod_identity_associations().cluster_name("ci").send().await.expect("then fine");
}

#[tokio::test]
async fn iam_server_errors() {
    let account = fresh_account();
    let c = clients_with(&account, RetryConfig::disabled()).await;
    stack().server_errors(&account, "iam:ListRoles", 1);
    let err = c.iam.list_roles().send().await.expect_err("5xx");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    c.iam.list_roles().send().await.expect("then fine");
}

/// A chosen error (status and code) for the next N calls, in each service's error shape.
#[tokio::test]
async fn chosen_errors_answer_with_their_status_and_code() {
    let account = fresh_account();
    let c = clients_with(&account, RetryConfig::disabled()).await;
    role(&c, "r").await;
    stack().fail(&account, "iam:DeleteRole", 2, 409, "DeleteConflict");
    for _ in 0..2 {
        let err = c.iam.delete_role().role_name("r").send().await.expect_err("conflict");
        assert_eq!(err.code(), Some("DeleteConflict"));
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(409));
    }
    c.iam.delete_role().role_name("r").send().await.expect("third call deletes");
    let role_arn = role(&c, "cluster").await;
    cluster(&c, "ci", &role_arn).await;
    stack().fail(&account, "eks:DescribeCluster", 1, 403, "AccessDeniedException");
    let err = c.eks.describe_cluster().name("ci").send().await.expect_err("denied");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    c.eks.describe_cluster().name("ci").send().await.expect("then fine");
    assert!(stack().armed(&account).is_empty());
}

#[tokio::test]
async fn a_new_role_is_not_found_for_k_reads() {
    let account = fresh_account();
    let c = clients_with(&account, RetryConfig::disabled()).await;
    stack().new_role_not_found_reads(&account, 2);
    role(&c, "young").await;
    for _ in 0..2 {
        let err = c.iam.get_role().role_name("young").send().await.expect_err("not yet visible");
        assert!(err.into_service_error().is_no_such_entity_exception());
    }
    c.iam.get_role().role_name("young").send().await.expect("visible at last");
}

#[tokio::test]
async fn a_trust_policy_naming_a_young_role_is_an_invalid_principal_for_t_seconds() {
    let account = fresh_account();
    let c = clients_with(&account, RetryConfig::disabled()).await;
    stack().invalid_principal_for(&account, 1.0);
    let young = role(&c, "young").await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{young}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let err = c.iam.create_role().role_name("trusting").assume_role_policy_document(&trust).send().await;
    let err = err.expect_err("invalid principal");
    assert_eq!(err.code(), Some("MalformedPolicyDocument"));
    assert_eq!(err.message(), Some(format!(r#"Invalid principal in policy: "AWS":"{young}""#).as_str()));
    let upd = c.iam.update_assume_role_policy().role_name("young").policy_document(&trust).send().await;
    assert_eq!(upd.expect_err("also on update").code(), Some("MalformedPolicyDocument"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.iam.create_role().role_name("trusting").assume_role_policy_document(&trust).send().await.expect("now valid");
}

#[tokio::test]
async fn faults_stay_in_their_account() {
    let (noisy, quiet) = (fresh_account(), fresh_account());
    let q = clients_with(&quiet, RetryConfig::disabled()).await;
    role(&q, "r").await;
    stack().throttle(&noisy, "iam:*", 100);
    q.iam.get_role().role_name("r").send().await.expect("another account's faults don't apply");
    stack().clear_faults(&noisy);
    let n = clients_with(&noisy, RetryConfig::disabled()).await;
    n.iam.list_roles().send().await.expect("cleared");
}

/// STS speaks the query protocol: a throttled `AssumeRole` is `<ErrorResponse><Error><Code>Throttling`
/// with 400, a failing one `InternalFailure` with 500, as aws-sdk-rust (the provider's client)
/// parses them; each firing is counted.
#[tokio::test]
async fn sts_assume_role_throttling_and_server_errors_use_the_query_shape_and_are_counted() {
    use aws_sdk_sts::error::ProvideErrorMetadata as _;
    let account = fresh_account();
    let c = clients_with(&account, RetryConfig::disabled()).await;
    let arn = role(&c, "assumable").await;
    let assume = || c.sts.assume_role().role_arn(&arn).role_session_name("shape").send();
    stack().throttle(&account, "sts:AssumeRole", 2);
    stack().server_errors(&account, "sts:AssumeRole", 1);
    for _ in 0..2 {
        let err = assume().await.expect_err("throttled");
        assert_eq!(err.code(), Some("Throttling"));
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    }
    let err = assume().await.expect_err("5xx");
    assert_eq!(err.code(), Some("InternalFailure"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assume().await.expect("then the role is assumed");
    assert_eq!(stack().fired_count(&account, "throttle", "sts:AssumeRole"), 2);
    assert_eq!(stack().fired_count(&account, "server_error", "sts:AssumeRole"), 1);
}

/// EKS is REST-JSON: a failing `DescribeCluster` is a 500 with `x-amzn-ErrorType: ServerException`;
/// the firing is counted, and `GET /_stack/fired` stays within the account.
#[tokio::test]
async fn eks_describe_cluster_server_errors_are_counted_per_account() {
    let (account, other) = (fresh_account(), fresh_account());
    let c = clients_with(&account, RetryConfig::disabled()).await;
    let role_arn = role(&c, "cluster").await;
    cluster(&c, "ci", &role_arn).await;
    stack().server_errors(&account, "eks:DescribeCluster", 1);
    stack().server_errors(&other, "eks:DescribeCluster", 1);
    let err = c.eks.describe_cluster().name("ci").send().await.expect_err("5xx");
    assert_eq!(err.code(), Some("ServerException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    c.eks.describe_cluster().name("ci").send().await.expect("then fine");
    assert_eq!(stack().fired_count(&account, "server_error", "eks:DescribeCluster"), 1);
    assert!(stack().fired(&other).is_empty(), "the other account's rule never fired");
    assert!(stack().fired(&account).iter().all(|r| r["account"] == account.as_str()));
    stack().clear_faults(&other);
}

/// The IAM eventual-consistency knobs count their firings too: NoSuchEntity reads per role, and
/// each "Invalid principal" answer.
#[tokio::test]
async fn eventual_consistency_firings_are_counted() {
    let account = fresh_account();
    let c = clients_with(&account, RetryConfig::disabled()).await;
    stack().new_role_not_found_reads(&account, 1);
    stack().invalid_principal_for(&account, 30.0);
    let young = role(&c, "young").await;
    c.iam.get_role().role_name("young").send().await.expect_err("not yet visible");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{young}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let err = c.iam.create_role().role_name("trusting").assume_role_policy_document(&trust).send().await;
    assert_eq!(err.expect_err("invalid principal").code(), Some("MalformedPolicyDocument"));
    assert_eq!(stack().fired_count(&account, "new_role_not_found_reads", "iam:GetRole young"), 1);
    assert_eq!(stack().fired_count(&account, "invalid_principal", "iam:CreateRole"), 1);
    stack().clear_faults(&account);
    assert!(stack().fired(&account).is_empty(), "clearing an account's rules clears their counts");
}
