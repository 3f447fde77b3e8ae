//! AWS faults met during a real apply: a throttled `sts:AssumeRole` and a failing (500)
//! `eks:DescribeCluster`, both armed for more attempts than the SDK's standard retry makes (3), so
//! only the provider's own retry budget (`aws::iam::with_retry`) rides them out. Every test asserts
//! that its faults fired: an apply that passes without meeting them proves nothing.

use super::support::Env;
use acceptance_tests::stack;
use acceptance_tests::terraform::terraforms;

/// One more failure than the SDK's standard retry mode's three attempts survive.
const BEYOND_SDK_RETRY: u32 = 4;

/// `jenkins_remote_cluster_access` in another account through `cluster.role_arn`, with the
/// credential written to the controller cluster (reached by EKS name in the test's own account):
/// AssumeRole is throttled, and DescribeCluster fails with 500 in both accounts.
#[test]
fn throttled_assume_role_and_failing_describe_cluster_are_ridden_out() {
    let tf = &terraforms()[0];
    let env = Env::new("awsf-sts");
    let other = stack::fresh_account();
    env.aws(&["eks", "delete-cluster", "--name", "remote"]);
    let (ok, out) = env.aws_in(
        &other,
        &[
            "eks",
            "create-cluster",
            "--name",
            "remote",
            "--role-arn",
            &format!("arn:aws:iam::{other}:role/eks-cluster"),
            "--resources-vpc-config",
            "subnetIds=subnet-1",
        ],
    );
    assert!(ok, "create-cluster in {other}: {out}");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        env.account
    );
    let (ok, out) = env.aws_in(
        &other,
        &["iam", "create-role", "--role-name", "jenkins-remote-admin", "--assume-role-policy-document", &trust],
    );
    assert!(ok, "create-role: {out}");
    let ns = format!("{}-agents", env.namespace);
    let config = format!(
        r#"{provider}
resource "jenkins_remote_cluster_access" "remote" {{
  cluster {{
    eks_cluster_name = "remote"
    role_arn         = "arn:aws:iam::{other}:role/jenkins-remote-admin"
  }}
  namespace = "{ns}"
  jenkins_credential {{
    id = "remote-agents"
  }}
}}
"#,
        provider = env.provider_block(),
    );
    let w = env.workdir("aws-faults-sts", tf);
    w.write_config(&config);

    let s = stack::shared();
    // AssumeRole is called with the test account's credentials; the remote cluster is then
    // described with the assumed session, in the other account; the controller in the own one.
    s.throttle(&env.account, "sts:AssumeRole", BEYOND_SDK_RETRY);
    s.server_errors(&other, "eks:DescribeCluster", BEYOND_SDK_RETRY);
    s.server_errors(&env.account, "eks:DescribeCluster", BEYOND_SDK_RETRY);
    w.apply();
    let fired = (s.fired(&env.account), s.fired(&other));
    s.assert_fired(&env.account, "throttle", "sts:AssumeRole", BEYOND_SDK_RETRY.into());
    s.assert_fired(&other, "server_error", "eks:DescribeCluster", BEYOND_SDK_RETRY.into());
    s.assert_fired(&env.account, "server_error", "eks:DescribeCluster", BEYOND_SDK_RETRY.into());
    s.clear_faults(&env.account);
    s.clear_faults(&other);

    let (ok, sa) = env.try_kubectl("remote", &["-n", &ns, "get", "serviceaccount", "jenkins-agent-controller"]);
    assert!(ok, "the service account was written through the assumed role: {sa}\nfired: {fired:?}");
    assert!(env.get_json("secret", "remote-agents").is_some(), "the credential reached the controller cluster");
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}

/// `jenkins_cross_account_chain` manages a target account's trust through an assumed admin role:
/// that AssumeRole, throttled beyond the SDK's own three attempts, is retried with IAM's budget
/// (it used to be a fail-fast credential load), and the apply converges.
#[test]
fn a_throttled_admin_assume_role_of_the_chain_is_ridden_out() {
    let tf = &terraforms()[0];
    let env = Env::new("awsf-chain");
    let target = stack::fresh_account();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    env.aws(&["iam", "create-role", "--role-name", "jenkins-ci-role", "--assume-role-policy-document", trust]);
    let body = acceptance_tests::terraform::example("resources/jenkins_cross_account_chain/resource.tf")
        .replace("111111111111", &env.account)
        .replace("222222222222", &target);
    let w = env.workdir("aws-faults-chain", tf);
    w.write_config(&format!("{}{body}", env.provider_block()));

    let s = stack::shared();
    s.throttle(&env.account, "sts:AssumeRole", BEYOND_SDK_RETRY);
    w.apply();
    s.assert_fired(&env.account, "throttle", "sts:AssumeRole", BEYOND_SDK_RETRY.into());
    s.clear_faults(&env.account);
    let (ok, out) = env.aws_in(&target, &["iam", "get-role", "--role-name", "jenkins-deploy-role"]);
    assert!(ok && out.contains(&env.account), "the target role trusts the source account's role: {out}");
    w.assert_plans_empty();
    w.destroy();
    w.cleanup();
}
