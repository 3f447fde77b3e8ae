//! `irsa_trust(oidc_provider_arns, service_accounts)`: the trust `jenkins_irsa_role` writes for
//! `binding = "irsa"`, from the clusters' IAM OIDC provider ARNs instead of their EKS names.

use crate::cty::{Type, Value};
use crate::framework::{Function, FunctionError, Parameter};
use crate::iam;

pub struct IrsaTrust;

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) | Value::Set(items) => {
            items.iter().filter_map(|i| if let Value::String(s) = i { Some(s.clone()) } else { None }).collect()
        }
        _ => Vec::new(),
    }
}

impl Function for IrsaTrust {
    fn name(&self) -> &'static str {
        "irsa_trust"
    }

    fn summary(&self) -> &'static str {
        "The IRSA trust policy jenkins_irsa_role would write."
    }

    fn description(&self) -> &'static str {
        "Returns the trust policy (JSON) that `jenkins_irsa_role` writes with `binding = \"irsa\"`: one statement per \
cluster, `Federated` = its IAM OIDC provider, `sts:AssumeRoleWithWebIdentity`, and `<issuer>:sub` / `<issuer>:aud` \
conditions naming exactly the given service accounts (`StringLike` when one has a `*` or `?`). The role resource \
finds each cluster's provider from its EKS name; here the provider ARNs are given, so the function needs no AWS \
call, e.g. `aws_iam_openid_connect_provider.eks.arn`."
    }

    fn parameters(&self) -> Vec<Parameter> {
        vec![
            Parameter::new(
                "oidc_provider_arns",
                Type::list(Type::String),
                "IAM OIDC provider ARNs, one per cluster: `arn:aws:iam::<account>:oidc-provider/<issuer without https://>`.",
            ),
            Parameter::new(
                "service_accounts",
                Type::list(Type::object([("namespace", Type::String), ("name", Type::String)])),
                "Service accounts that may assume the role, as `{ namespace = \"…\", name = \"…\" }` (wildcards allowed).",
            ),
        ]
    }

    fn return_type(&self) -> Type {
        Type::String
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let arns = strings(&args[0]);
        if arns.is_empty() {
            return Err(FunctionError::at(0, "List at least one IAM OIDC provider ARN."));
        }
        let accounts = match &args[1] {
            Value::List(items) => items.clone(),
            _ => Vec::new(),
        };
        let mut subjects = Vec::new();
        for sa in &accounts {
            let field = |k: &str| match sa.get_attr(k) {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            let subject = iam::service_account_subject(&field("namespace"), &field("name"))
                .map_err(|e| FunctionError::at(1, format!("{e}.")))?;
            subjects.push(subject);
        }
        let mut clusters = Vec::new();
        for arn in &arns {
            let provider = iam::OidcProviderArn::parse(arn).map_err(|e| FunctionError::at(0, format!("{e}.")))?;
            let cluster = iam::ClusterSubject::new(arn, &provider.issuer, &subjects)
                .map_err(|e| FunctionError::at(1, format!("{e}.")))?;
            clusters.push(cluster);
        }
        Ok(Value::String(iam::irsa_trust(&clusters)))
    }
}
