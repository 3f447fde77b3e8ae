//! Kubernetes API errors as diagnostics: what failed, on which object, and what to do. Each
//! validation cause of a 422 becomes its own line. Messages never carry a token.

use crate::cty::AttributePath;
use crate::framework::Diagnostics;
use crate::kube::retry::Exhausted;

/// Adds an error diagnostic for a failed API call `action` (e.g. "apply ConfigMap jenkins/x").
pub fn report(diags: &mut Diagnostics, path: Option<AttributePath>, action: &str, err: &kube::Error) {
    let (summary, detail) = describe(action, err);
    match path {
        Some(p) => diags.error_at(p, summary, detail),
        None => diags.error(summary, detail),
    }
}

/// The summary and detail for an error of `action`.
pub fn describe(action: &str, err: &kube::Error) -> (String, String) {
    match err {
        kube::Error::Api(status) => {
            let mut detail =
                format!("Could not {action}: {} (HTTP {}, {}).", status.message, status.code, status.reason);
            if let Some(d) = &status.details {
                for c in &d.causes {
                    detail.push_str(&format!("\n- {}: {}", c.field, c.message));
                }
            }
            let hint = match status.code {
                401 => "Check the provider's `kubernetes` credentials: the cluster did not accept them.",
                403 => "The identity Terraform uses lacks RBAC permission for this; grant it or use another identity.",
                409 if status.message.contains("conflict with") => {
                    "Another field manager owns these fields. Remove them from the other tool, or delete the object so this resource can create it."
                }
                409 => "The object changed or exists already; run the plan again.",
                422 => "Fix the values named above.",
                429 | 500..=599 => "The API server is busy or failing; run the apply again.",
                _ => "",
            };
            if !hint.is_empty() {
                detail.push_str("\n\n");
                detail.push_str(hint);
            }
            ("Kubernetes API Error".into(), detail)
        }
        kube::Error::Service(e) if let Some(exhausted) = e.downcast_ref::<Exhausted>() => {
            let hint = match exhausted.last_status {
                Some(429) => {
                    "The API server is throttling this client; wait, or ask its operators about API priority and fairness limits, then run the apply again."
                }
                Some(_) => "The API server kept failing; check its health, then run the apply again.",
                None => {
                    "Check the cluster endpoint in the provider's `kubernetes` block and that the cluster is reachable, then run the apply again."
                }
            };
            let summary =
                if exhausted.last_status.is_some() { "Kubernetes API Error" } else { "Kubernetes Connection Error" };
            (summary.into(), format!("Could not {action}: {exhausted}.\n\n{hint}"))
        }
        other => (
            "Kubernetes Connection Error".into(),
            format!(
                "Could not {action}: {other}. Check the cluster endpoint and CA in the provider's `kubernetes` block and that the cluster is reachable."
            ),
        ),
    }
}

/// True when the error is the API's 404 for the object.
pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404)
}
