//! SDK clients for one account of the shared stack.

use acceptance_tests::stack::{self, REGION, Stack, access_key_for};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_iam::config::{Credentials, Region};

/// Clients of the three services, all acting in one account.
pub struct Clients {
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub eks: aws_sdk_eks::Client,
}

/// Clients for `account` with the SDK's standard retries (what the provider uses).
pub async fn clients(account: &str) -> Clients {
    clients_with(account, RetryConfig::standard()).await
}

/// Clients for `account` with the given retry policy (`RetryConfig::disabled()` to see each fault).
pub async fn clients_with(account: &str, retry: RetryConfig) -> Clients {
    let stack = stack::shared();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&stack.moto_url)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(access_key_for(account), "testing", None, None, "stack-tests"))
        .retry_config(retry)
        .load()
        .await;
    Clients {
        iam: aws_sdk_iam::Client::new(&config),
        sts: aws_sdk_sts::Client::new(&config),
        eks: aws_sdk_eks::Client::new(&config),
    }
}

/// A trust policy for EKS Pod Identity.
pub const POD_IDENTITY_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                 "Action": ["sts:AssumeRole", "sts:TagSession"]}]
}"#;

/// Creates a role and returns its ARN.
pub async fn role(c: &Clients, name: &str) -> String {
    let out = c.iam.create_role().role_name(name).assume_role_policy_document(POD_IDENTITY_TRUST).send().await;
    out.expect("CreateRole").role.expect("role").arn
}

/// Creates an EKS cluster (access entries enabled) and returns it.
pub async fn cluster(c: &Clients, name: &str, role_arn: &str) -> aws_sdk_eks::types::Cluster {
    use aws_sdk_eks::types::{AuthenticationMode, CreateAccessConfigRequest, VpcConfigRequest};
    let access = CreateAccessConfigRequest::builder().authentication_mode(AuthenticationMode::ApiAndConfigMap).build();
    let out = c
        .eks
        .create_cluster()
        .name(name)
        .role_arn(role_arn)
        .resources_vpc_config(VpcConfigRequest::builder().subnet_ids("subnet-1").build())
        .access_config(access)
        .send()
        .await;
    out.expect("CreateCluster").cluster.expect("cluster")
}

/// Percent-decoding of IAM's policy documents (the SDK hands them over encoded, as IAM sends them).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("utf-8 policy")
}

/// The shared stack (started on first use).
pub fn stack() -> &'static Stack {
    stack::shared()
}
