//! AWS call errors as diagnostics: which call failed, AWS's code and message, and what to do.
//! AWS messages never carry credentials; nothing here adds any.

use super::iam::CallError;
use crate::cty::AttributePath;
use crate::framework::Diagnostics;

/// Adds an error diagnostic for a failed AWS call made to `action` (e.g. "create role ci").
pub fn report(diags: &mut Diagnostics, path: Option<AttributePath>, action: &str, err: &CallError) {
    let (summary, detail) = describe(action, err);
    match path {
        Some(p) => diags.error_at(p, summary, detail),
        None => diags.error(summary, detail),
    }
}

/// The summary and detail for a failed call.
pub fn describe(action: &str, err: &CallError) -> (String, String) {
    let tries = if err.attempts > 1 { format!(" after {} attempts", err.attempts) } else { String::new() };
    let mut detail = format!("Could not {action}: {} answered {}{tries}: {}", err.operation, err.code, err.message);
    let hint = err.hint().map(str::to_string).or_else(|| {
        let h = match err.code.as_str() {
            "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
                "the identity Terraform runs as lacks this IAM/EKS permission; grant it or use another identity"
            }
            c if iam_throttled(c) => "AWS kept throttling for the whole retry budget; run the apply again later",
            "ServiceFailure" | "InternalFailure" | "RequestTimeout" | "ServerException" => {
                "AWS failed or was unreachable for the whole retry budget; check connectivity and run the apply again"
            }
            "MalformedPolicyDocument" => "fix the policy document IAM refused",
            "LimitExceeded" => "an IAM quota is exhausted; remove policies or raise the quota in Service Quotas",
            "NoSuchEntity" => "the object named does not exist; check the name or ARN",
            _ => return None,
        };
        Some(h.to_string())
    });
    if let Some(h) = hint {
        detail.push_str(".\n\n");
        let mut chars = h.chars();
        if let Some(first) = chars.next() {
            detail.extend(first.to_uppercase());
            detail.push_str(chars.as_str());
        }
    }
    detail.push('.');
    ("AWS API Error".to_string(), detail)
}

fn iam_throttled(code: &str) -> bool {
    crate::iam::is_throttling(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_error_carries_the_known_fix() {
        let e = CallError {
            operation: "iam:CreateRole",
            code: "LimitExceeded".into(),
            message: "Cannot exceed quota for ACLSizePerRole: 2048".into(),
            attempts: 1,
        };
        let (summary, detail) = describe("create role ci", &e);
        assert_eq!(summary, "AWS API Error");
        assert!(detail.contains("iam:CreateRole answered LimitExceeded"), "{detail}");
        assert!(detail.contains("Service Quotas"), "{detail}");
    }

    #[test]
    fn retries_are_counted_in_the_message() {
        let e = CallError {
            operation: "iam:GetRole",
            code: "Throttling".into(),
            message: "Rate exceeded".into(),
            attempts: 25,
        };
        let (_, detail) = describe("read role ci", &e);
        assert!(detail.contains("after 25 attempts") && detail.contains("run the apply again later"), "{detail}");
    }
}
