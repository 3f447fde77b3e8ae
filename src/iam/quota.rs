//! Policy size as IAM counts it, and the pre-check of a rendered trust against the account's
//! "Role trust policy length" quota (`ACLSizePerRole`), with a message that says what to do.
//!
//! How size is counted: IAM states its policy quotas "in non-whitespace characters"
//! (`GetAccountSummary`, `AssumeRolePolicySizeQuota`) and "does not count white space". We count
//! every character that is not JSON whitespace (space, tab, line feed, carriage return), inside
//! strings too. If IAM does count spaces inside strings, we undercount by those (trust policies
//! hardly have any) and IAM's own `LimitExceeded` still catches it; the other choice could refuse,
//! at plan, a trust that IAM would accept, which is worse.

use std::fmt;

use serde_json::Value;

use super::document::decode_policy_text;

/// The default role trust policy quota.
pub const DEFAULT_TRUST_QUOTA: usize = 2_048;
/// The highest trust quota Service Quotas grants, as documented when this was written (the
/// reference notes reports of 8,192; the quota itself is always taken from configuration).
pub const MAX_TRUST_QUOTA: usize = 4_096;
/// The aggregate size of all inline policies of a role.
pub const INLINE_POLICIES_QUOTA: usize = 10_240;
/// The size of one customer-managed policy.
pub const MANAGED_POLICY_QUOTA: usize = 6_144;

fn is_json_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Size of a policy as IAM counts it: characters other than whitespace. URL-encoded text is
/// decoded first.
pub fn policy_size(doc: &str) -> usize {
    let text = decode_policy_text(doc).unwrap_or(std::borrow::Cow::Borrowed(doc));
    text.chars().filter(|c| !is_json_whitespace(*c)).count()
}

/// Size of a trust policy as IAM counts it against the trust quota; see [`policy_size`].
pub fn trust_size(doc: &str) -> usize {
    policy_size(doc)
}

/// A trust that does not fit the quota, with what it takes to fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct QuotaError {
    /// Size of the trust as IAM counts it.
    pub length: usize,
    /// The quota it was checked against.
    pub quota: usize,
    /// Statements in the trust (one per cluster for IRSA); 0 when the text did not parse.
    pub statements: usize,
    /// Average size of one statement, separator included.
    pub per_statement: usize,
    /// How many statements of that size fit under the quota.
    pub fit: usize,
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for QuotaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the trust policy is {} characters long as IAM counts them (whitespace excluded), over the account's \
             role trust policy quota of {}. ",
            thousands(self.length),
            thousands(self.quota)
        )?;
        if self.statements > 0 {
            write!(
                f,
                "Each cluster adds about {} characters, so {} of the {} clusters fit in one role. Split the clusters \
                 across roles of at most {} each, or ",
                thousands(self.per_statement),
                self.fit,
                self.statements,
                self.fit
            )?;
        } else {
            f.write_str("Trust fewer principals in this role, or ")?;
        }
        write!(
            f,
            "raise the quota in Service Quotas (AWS Identity and Access Management (IAM), \"Role trust policy \
             length\", up to {}), then set the trust quota setting to the granted value.",
            thousands(MAX_TRUST_QUOTA)
        )
    }
}

/// Checks a rendered trust against `quota` (2,048 unless the account raised it).
pub fn check_trust_quota(rendered: &str, quota: usize) -> Result<(), QuotaError> {
    let length = trust_size(rendered);
    if length <= quota {
        return Ok(());
    }
    let text = decode_policy_text(rendered).unwrap_or(std::borrow::Cow::Borrowed(rendered));
    let statements: Vec<usize> = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => match m.get("Statement") {
            Some(Value::Array(items)) => items.iter().map(|s| policy_size(&s.to_string())).collect(),
            Some(s @ Value::Object(_)) => vec![policy_size(&s.to_string())],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let n = statements.len();
    if n == 0 {
        return Err(QuotaError { length, quota, statements: 0, per_statement: 0, fit: 0 });
    }
    let sum: usize = statements.iter().sum();
    // Size = base + n statements + (n - 1) commas; base is everything around the list.
    let base = length.saturating_sub(sum + n - 1);
    let per_statement = sum.div_ceil(n) + 1;
    let fit = (quota + 1).saturating_sub(base) / per_statement;
    Err(QuotaError { length, quota, statements: n, per_statement, fit })
}
