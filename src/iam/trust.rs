//! Trust-policy and assume-permission builders: IRSA (one statement per cluster), EKS Pod
//! Identity, and the target-account trust of a cross-account hop. Output is deterministic,
//! pretty-printed JSON (two-space indent) so a plan shows the trust line by line.

use serde_json::{Map, Value, json};

use super::arn::{OidcProviderArn, RoleArn, check_external_id};
use super::document::CURRENT_VERSION;
use super::error::{IamError, Result};

/// The audience EKS projects into service-account tokens for IRSA.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";
/// The service principal of EKS Pod Identity.
pub const POD_IDENTITY_SERVICE: &str = "pods.eks.amazonaws.com";

/// One cluster's part of an IRSA trust: its IAM OIDC provider and the service accounts of that
/// cluster that may assume the role. Only constructed through [`ClusterSubject::new`], so a
/// statement can never lack a `:sub` condition (which would admit every pod of the cluster).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSubject {
    provider_arn: String,
    issuer: String,
    subjects: Vec<String>,
}

impl ClusterSubject {
    /// Checks the provider ARN, that it belongs to `issuer` (with or without `https://`), and the
    /// subjects (`system:serviceaccount:<namespace>:<name>`, `*`/`?` wildcards allowed). Subjects
    /// are sorted and deduplicated so the rendering does not depend on their order.
    pub fn new(provider_arn: &str, issuer: &str, subjects: &[String]) -> Result<Self> {
        let provider = OidcProviderArn::parse(provider_arn)?;
        let issuer_bare = issuer.trim().strip_prefix("https://").unwrap_or(issuer.trim()).trim_end_matches('/');
        if !issuer_bare.eq_ignore_ascii_case(&provider.issuer) {
            return Err(IamError::invalid(
                "OIDC provider ARN",
                provider_arn,
                format!(
                    "it is the provider of issuer {:?}, but the cluster's issuer is {issuer_bare:?}; use the \
                     provider created for that cluster's issuer",
                    provider.issuer
                ),
            ));
        }
        if subjects.is_empty() {
            return Err(IamError::invalid(
                "service-account subjects",
                "[]",
                "list at least one system:serviceaccount:<namespace>:<name>",
            ));
        }
        for s in subjects {
            check_subject(s)?;
        }
        let mut subjects = subjects.to_vec();
        subjects.sort();
        subjects.dedup();
        Ok(ClusterSubject { provider_arn: provider.to_string(), issuer: provider.issuer, subjects })
    }

    /// The provider ARN.
    pub fn provider_arn(&self) -> &str {
        &self.provider_arn
    }

    /// The issuer without scheme, the prefix of the condition keys.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The subjects, sorted.
    pub fn subjects(&self) -> &[String] {
        &self.subjects
    }

    /// Whether any subject needs `StringLike` (`StringEquals` compares `*` literally, the silent
    /// "Not authorized to perform sts:AssumeRoleWithWebIdentity" the module's users hit).
    pub fn has_wildcard(&self) -> bool {
        self.subjects.iter().any(|s| s.contains(['*', '?']))
    }
}

/// `system:serviceaccount:<namespace>:<name>` with the names checked.
pub fn service_account_subject(namespace: &str, name: &str) -> Result<String> {
    let s = format!("system:serviceaccount:{namespace}:{name}");
    check_subject(&s)?;
    Ok(s)
}

const SUBJECT_PREFIX: &str = "system:serviceaccount:";

/// Namespaces are DNS labels (≤ 63), service-account names DNS subdomains (≤ 253); with a
/// wildcard only the character set is checked, since `*` may stand for several parts.
fn check_subject(s: &str) -> Result<()> {
    let bad = |rule: &str| Err(IamError::invalid("service-account subject", s, rule.to_owned()));
    let Some(rest) = s.strip_prefix(SUBJECT_PREFIX) else {
        return bad("must be system:serviceaccount:<namespace>:<name>");
    };
    if s.contains(['*', '?']) {
        let ok = !rest.is_empty()
            && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.:*?".contains(c));
        return if ok { Ok(()) } else { bad("may contain only lowercase letters, digits, '-', '.', ':', '*' and '?'") };
    }
    let Some((ns, name)) = rest.split_once(':') else {
        return bad("must be system:serviceaccount:<namespace>:<name>");
    };
    let label = |x: &str, max: usize, dots: bool| {
        !x.is_empty()
            && x.len() <= max
            && x.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (dots && c == '.'))
            && x.split('.').all(|p| !p.is_empty() && !p.starts_with('-') && !p.ends_with('-'))
    };
    if !label(ns, 63, false) {
        return bad(
            "the namespace must be a DNS label: up to 63 lowercase letters, digits and '-', starting and ending alphanumeric",
        );
    }
    if !label(name, 253, true) {
        return bad(
            "the service-account name must be a DNS subdomain: up to 253 lowercase letters, digits, '-' and '.'",
        );
    }
    Ok(())
}

fn one_or_many(values: &[String]) -> Value {
    match values {
        [one] => Value::String(one.clone()),
        many => Value::Array(many.iter().cloned().map(Value::String).collect()),
    }
}

fn pretty(doc: &Value) -> String {
    // Serialising a `Value` cannot fail: all keys are strings.
    serde_json::to_string_pretty(doc).unwrap_or_default()
}

fn document(statements: Vec<Value>) -> Value {
    json!({ "Version": CURRENT_VERSION, "Statement": statements })
}

/// The IRSA trust: one statement per cluster, `Federated` = its OIDC provider,
/// `sts:AssumeRoleWithWebIdentity`, `<issuer>:sub` and `<issuer>:aud = sts.amazonaws.com`.
/// `sub` goes under `StringLike` exactly when one of the cluster's subjects has a wildcard; `aud`
/// always stays under `StringEquals`. An empty slice renders an empty `Statement` list, which IAM
/// refuses: callers require at least one cluster.
pub fn irsa_trust(clusters: &[ClusterSubject]) -> String {
    let statements = clusters
        .iter()
        .map(|c| {
            let sub_key = format!("{}:sub", c.issuer);
            let aud_key = format!("{}:aud", c.issuer);
            let sub = one_or_many(&c.subjects);
            let mut condition = Map::new();
            if c.has_wildcard() {
                condition.insert("StringEquals".into(), json!({ aud_key: STS_AUDIENCE }));
                condition.insert("StringLike".into(), json!({ sub_key: sub }));
            } else {
                let mut eq = Map::new();
                eq.insert(sub_key, sub);
                eq.insert(aud_key, Value::String(STS_AUDIENCE.into()));
                condition.insert("StringEquals".into(), Value::Object(eq));
            }
            json!({
                "Effect": "Allow",
                "Principal": { "Federated": c.provider_arn },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            })
        })
        .collect();
    pretty(&document(statements))
}

/// The EKS Pod Identity trust: `pods.eks.amazonaws.com` may `sts:AssumeRole` and
/// `sts:TagSession` (the agent always tags sessions).
pub fn pod_identity_trust() -> String {
    pretty(&document(vec![json!({
        "Effect": "Allow",
        "Principal": { "Service": POD_IDENTITY_SERVICE },
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    })]))
}

/// How a hop's target trust names the source role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopTrust {
    /// `Principal` = the source account's root, plus `ArnEquals aws:PrincipalArn` = the role ARN.
    /// IAM accepts it before the source role exists and it keeps working when the source role is
    /// recreated (a role-ARN principal is rewritten to a dead `AROA…` id instead).
    Robust,
    /// `Principal` = the source role ARN, as most documentation shows it.
    Simple,
}

/// The trust a hop's target role needs so that `source_role_arn` may `sts:AssumeRole` it, with
/// `StringEquals sts:ExternalId` when an external id is given.
pub fn cross_account_trust(source_role_arn: &str, external_id: Option<&str>, form: HopTrust) -> Result<String> {
    let source = RoleArn::parse(source_role_arn)?;
    if let Some(id) = external_id {
        check_external_id(id)?;
    }
    let source_arn = source.to_string();
    let mut condition = Map::new();
    let principal = match form {
        HopTrust::Robust => {
            condition.insert("ArnEquals".into(), json!({ "aws:PrincipalArn": source_arn }));
            source.account_root()
        }
        HopTrust::Simple => source_arn,
    };
    if let Some(id) = external_id {
        condition.insert("StringEquals".into(), json!({ "sts:ExternalId": id }));
    }
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": { "AWS": principal },
        "Action": "sts:AssumeRole",
    });
    if !condition.is_empty()
        && let Value::Object(m) = &mut statement
    {
        m.insert("Condition".into(), Value::Object(condition));
    }
    Ok(pretty(&document(vec![statement])))
}

/// The identity policy the source role needs to `sts:AssumeRole` each target (cross-account
/// hops need both this and the target's trust). Targets are sorted and deduplicated.
pub fn assume_role_permission(target_role_arns: &[&str]) -> Result<String> {
    if target_role_arns.is_empty() {
        return Err(IamError::invalid("target role ARNs", "", "list at least one role to assume"));
    }
    let mut targets =
        target_role_arns.iter().map(|a| RoleArn::parse(a).map(|r| r.to_string())).collect::<Result<Vec<_>>>()?;
    targets.sort();
    targets.dedup();
    Ok(pretty(&document(vec![json!({
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": one_or_many(&targets),
    })])))
}
