//! ARNs and IAM/STS name rules: role ARNs, OIDC provider ARNs, account ids, partitions, role names
//! and paths, external ids, session names and durations. Validation only; no lookups.

use std::fmt;

use super::error::{IamError, Result};

/// Shortest session STS issues (AssumeRole `DurationSeconds` minimum).
pub const MIN_SESSION_DURATION: u32 = 900;
/// Bounds of a role's `MaxSessionDuration` (1 h to 12 h).
pub const MAX_SESSION_DURATION: u32 = 43_200;
const MIN_MAX_SESSION_DURATION: u32 = 3_600;
/// STS caps sessions of roles assumed by role chaining at one hour.
const CHAINED_SESSION_CAP: u32 = 3_600;

/// The AWS partitions the provider serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Partition {
    /// Commercial regions.
    Aws,
    /// China regions.
    AwsCn,
    /// GovCloud (US).
    AwsUsGov,
}

impl Partition {
    /// The partition as it appears in ARNs.
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }

    /// Parses the ARN spelling.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "aws" => Ok(Partition::Aws),
            "aws-cn" => Ok(Partition::AwsCn),
            "aws-us-gov" => Ok(Partition::AwsUsGov),
            _ => Err(IamError::invalid("partition", s, "expected one of aws, aws-cn, aws-us-gov")),
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed ARN: `arn:<partition>:<service>:<region>:<account>:<resource>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    /// Partition.
    pub partition: Partition,
    /// Service namespace, e.g. `iam`.
    pub service: String,
    /// Region; empty for global services such as IAM.
    pub region: String,
    /// Account id; empty for some services (S3 buckets).
    pub account: String,
    /// Everything after the fifth colon (may itself contain colons).
    pub resource: String,
}

impl Arn {
    /// Parses and checks the fixed parts; the account, when present, must be 12 digits.
    pub fn parse(s: &str) -> Result<Self> {
        let mut parts = s.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(IamError::invalid(
                "ARN",
                s,
                "expected arn:<partition>:<service>:<region>:<account>:<resource>",
            ));
        };
        let partition = Partition::parse(partition).map_err(|_| {
            IamError::invalid("ARN", s, format!("partition {partition:?} is not one of aws, aws-cn, aws-us-gov"))
        })?;
        if service.is_empty() || resource.is_empty() {
            return Err(IamError::invalid("ARN", s, "the service and resource parts must not be empty"));
        }
        // AWS-managed policies live in the pseudo-account `aws`: arn:aws:iam::aws:policy/ReadOnlyAccess.
        let aws_managed = service == "iam" && account == "aws" && resource.starts_with("policy/");
        if !account.is_empty() && !aws_managed && !is_account_id(account) {
            return Err(IamError::invalid("ARN", s, "the account part must be a 12-digit AWS account id"));
        }
        Ok(Arn {
            partition,
            service: service.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            resource: resource.to_owned(),
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:{}:{}:{}:{}", self.partition, self.service, self.region, self.account, self.resource)
    }
}

/// An IAM role ARN, `arn:<p>:iam::<account>:role<path><name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleArn {
    /// Partition.
    pub partition: Partition,
    /// 12-digit account id.
    pub account: String,
    /// Role path, `/` or `/a/b/`.
    pub path: String,
    /// Role name.
    pub name: String,
}

impl RoleArn {
    /// Parses a role ARN. A session ARN (`arn:aws:sts::…:assumed-role/…`) is refused with a hint,
    /// because trust policies and profiles need the role ARN.
    pub fn parse(s: &str) -> Result<Self> {
        let arn = Arn::parse(s)?;
        if arn.service == "sts" && arn.resource.starts_with("assumed-role/") {
            return Err(IamError::invalid(
                "role ARN",
                s,
                "this is an STS session ARN; use the role's ARN, arn:<partition>:iam::<account>:role/<name>",
            ));
        }
        let Some(rest) = arn.resource.strip_prefix("role/").filter(|_| arn.service == "iam") else {
            return Err(IamError::invalid("role ARN", s, "expected arn:<partition>:iam::<account>:role/<name>"));
        };
        if !arn.region.is_empty() || arn.account.is_empty() {
            return Err(IamError::invalid(
                "role ARN",
                s,
                "IAM ARNs have an empty region and a 12-digit account: arn:aws:iam::123456789012:role/<name>",
            ));
        }
        let (path, name) = match rest.rfind('/') {
            Some(i) => (format!("/{}", &rest[..=i]), &rest[i + 1..]),
            None => ("/".to_owned(), rest),
        };
        check_role_path(&path).map_err(|e| IamError::invalid("role ARN", s, e.to_string()))?;
        check_role_name(name).map_err(|e| IamError::invalid("role ARN", s, e.to_string()))?;
        Ok(RoleArn { partition: arn.partition, account: arn.account, path, name: name.to_owned() })
    }

    /// The `arn:<p>:iam::<account>:root` principal of the role's account.
    pub fn account_root(&self) -> String {
        account_root_arn(self.partition, &self.account)
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:iam::{}:role{}{}", self.partition, self.account, self.path, self.name)
    }
}

/// An IAM OIDC identity provider ARN, `arn:<p>:iam::<account>:oidc-provider/<issuer host+path>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OidcProviderArn {
    /// Partition.
    pub partition: Partition,
    /// 12-digit account id.
    pub account: String,
    /// Issuer without `https://` and without a trailing slash; the prefix of the condition keys.
    pub issuer: String,
}

impl OidcProviderArn {
    /// Parses an OIDC provider ARN.
    pub fn parse(s: &str) -> Result<Self> {
        let arn = Arn::parse(s)?;
        let issuer = match arn.resource.strip_prefix("oidc-provider/") {
            Some(i) if arn.service == "iam" && arn.region.is_empty() && !arn.account.is_empty() => i,
            _ => {
                return Err(IamError::invalid(
                    "OIDC provider ARN",
                    s,
                    "expected arn:<partition>:iam::<account>:oidc-provider/<issuer host and path>",
                ));
            }
        };
        let issuer = check_issuer(issuer).map_err(|e| IamError::invalid("OIDC provider ARN", s, e.to_string()))?;
        Ok(OidcProviderArn { partition: arn.partition, account: arn.account, issuer })
    }
}

impl fmt::Display for OidcProviderArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:iam::{}:oidc-provider/{}", self.partition, self.account, self.issuer)
    }
}

/// Strips `https://` and a trailing `/` and checks what is left is a host with an optional path.
fn check_issuer(issuer: &str) -> Result<String> {
    let bare = issuer.strip_prefix("https://").unwrap_or(issuer).trim_end_matches('/');
    let host = bare.split('/').next().unwrap_or("");
    let ok_host = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    let ok_rest = bare.chars().all(|c| c.is_ascii_graphic() && !matches!(c, '?' | '#'));
    if bare.contains("://") || !ok_host || !ok_rest {
        return Err(IamError::invalid(
            "OIDC issuer",
            issuer,
            "expected https://<host>[/<path>], e.g. https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF",
        ));
    }
    Ok(bare.to_owned())
}

/// The IAM OIDC provider ARN for an issuer URL (as `DescribeCluster` returns it) in an account.
pub fn oidc_provider_arn(partition: Partition, account: &str, issuer_url: &str) -> Result<String> {
    check_account_id(account)?;
    let issuer = check_issuer(issuer_url)?;
    Ok(OidcProviderArn { partition, account: account.to_owned(), issuer }.to_string())
}

/// The account principal `arn:<p>:iam::<account>:root` (the account id itself means the same).
pub fn account_root_arn(partition: Partition, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:root")
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Account ids are exactly 12 digits (leading zeros are significant).
pub fn check_account_id(s: &str) -> Result<()> {
    if is_account_id(s) { Ok(()) } else { Err(IamError::invalid("account id", s, "must be exactly 12 digits")) }
}

/// The character set IAM allows in role names and session names: `[\w+=,.@-]`.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
}

/// Role names: 1 to 64 characters of letters, digits and `+=,.@_-`.
pub fn check_role_name(s: &str) -> Result<()> {
    let n = s.chars().count();
    if n == 0 || n > 64 {
        return Err(IamError::invalid("role name", s, format!("must be 1 to 64 characters long, not {n}")));
    }
    if let Some(c) = s.chars().find(|c| !is_name_char(*c)) {
        return Err(IamError::invalid(
            "role name",
            s,
            format!("{c:?} is not allowed; use letters, digits and + = , . @ _ -"),
        ));
    }
    Ok(())
}

/// Role paths: `/`, or 1 to 512 characters starting and ending with `/`, printable ASCII between.
pub fn check_role_path(s: &str) -> Result<()> {
    if s.is_empty() || s.len() > 512 {
        return Err(IamError::invalid("role path", s, "must be 1 to 512 characters long"));
    }
    if !s.starts_with('/') || !s.ends_with('/') {
        return Err(IamError::invalid("role path", s, "must start and end with '/', e.g. /jenkins/"));
    }
    if let Some(c) = s.chars().find(|c| !('\u{21}'..='\u{7e}').contains(c)) {
        return Err(IamError::invalid("role path", s, format!("{c:?} is not allowed; use printable ASCII")));
    }
    Ok(())
}

/// Session names (`role_session_name`): 2 to 64 characters of letters, digits and `+=,.@_-`.
pub fn check_role_session_name(s: &str) -> Result<()> {
    let n = s.chars().count();
    if !(2..=64).contains(&n) {
        return Err(IamError::invalid("role session name", s, format!("must be 2 to 64 characters long, not {n}")));
    }
    if let Some(c) = s.chars().find(|c| !is_name_char(*c)) {
        return Err(IamError::invalid(
            "role session name",
            s,
            format!("{c:?} is not allowed; use letters, digits and + = , . @ _ -"),
        ));
    }
    Ok(())
}

/// External ids: 2 to 1,224 characters of letters, digits and `+=,.@:/_-`, no whitespace.
pub fn check_external_id(s: &str) -> Result<()> {
    let n = s.chars().count();
    if !(2..=1224).contains(&n) {
        return Err(IamError::invalid("external id", s, format!("must be 2 to 1224 characters long, not {n}")));
    }
    if let Some(c) = s.chars().find(|c| !(is_name_char(*c) || matches!(c, ':' | '/'))) {
        return Err(IamError::invalid(
            "external id",
            s,
            format!("{c:?} is not allowed; use letters, digits and + = , . @ : / _ -"),
        ));
    }
    Ok(())
}

/// A role's `MaxSessionDuration`: 3,600 to 43,200 seconds.
pub fn check_max_session_duration(seconds: i64) -> Result<()> {
    if (i64::from(MIN_MAX_SESSION_DURATION)..=i64::from(MAX_SESSION_DURATION)).contains(&seconds) {
        Ok(())
    } else {
        Err(IamError::invalid(
            "max session duration",
            seconds.to_string(),
            "must be between 3600 (1 hour) and 43200 (12 hours) seconds",
        ))
    }
}

/// `duration_seconds` of a chained hop: 900 to 3,600 seconds, because STS refuses more than one
/// hour for a role assumed with credentials that themselves came from a role.
pub fn check_chained_duration(seconds: i64) -> Result<()> {
    if seconds > i64::from(CHAINED_SESSION_CAP) {
        return Err(IamError::invalid(
            "duration_seconds",
            seconds.to_string(),
            "a chained hop is capped at 3600 seconds by STS (\"exceeds the 1 hour session limit for roles \
             assumed by role chaining\"); set 3600 or less",
        ));
    }
    if seconds < i64::from(MIN_SESSION_DURATION) {
        return Err(IamError::invalid("duration_seconds", seconds.to_string(), "must be at least 900 seconds"));
    }
    Ok(())
}

/// Whether a principal is an IAM unique id (`AROA…` role, `AIDA…` user) rather than an ARN. IAM
/// rewrites a principal to this form when the role or user it named was deleted; the trust then
/// admits nobody, and re-applying the ARN is the only repair, so callers report it instead of
/// showing a diff that never settles.
pub fn is_unique_id_principal(principal: &str) -> bool {
    let p = principal.trim();
    (p.starts_with("AROA") || p.starts_with("AIDA"))
        && (16..=128).contains(&p.len())
        && p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}
