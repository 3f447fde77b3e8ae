//! Server-side dry runs (`dryRun=All`): the API server runs authentication, RBAC and every
//! admission step (service account, ResourceQuota, LimitRange, Pod Security) and stores nothing.
//! Optionally as another user through impersonation headers, so RBAC judges the identity that will
//! really create the object, with the provider's own credentials.

use http::Request;

/// Who a dry run acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The client's own credentials.
    Own,
    /// `Impersonate-User: <user>`; for `system:serviceaccount:<ns>:<name>` the API server adds the
    /// service-account groups itself.
    Impersonate(String),
}

/// The impersonation user name of a service account.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

/// Dry-runs creating `pod` (a Pod object as JSON) in `namespace` as `identity`.
pub async fn create_pod(
    client: &kube::Client,
    namespace: &str,
    pod: &serde_json::Value,
    identity: &Identity,
) -> Result<(), kube::Error> {
    let body = serde_json::to_vec(pod).map_err(kube::Error::SerdeError)?;
    let mut request = Request::post(format!("/api/v1/namespaces/{namespace}/pods?dryRun=All"))
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Identity::Impersonate(user) = identity {
        request = request.header("Impersonate-User", user.as_str());
    }
    let request = request.body(body).map_err(kube::Error::HttpError)?;
    client.request::<serde_json::Value>(request).await.map(|_| ())
}

/// True when the API refused the impersonation itself, not the dry-run object.
pub fn is_impersonation_refused(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 403 && s.message.contains("cannot impersonate"))
}
