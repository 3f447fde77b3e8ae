//! Who the Kubernetes plugin is when it creates agent pods: for a cloud in the controller's own
//! cluster, the controller's service account (the chart's StatefulSet names it); for a remote
//! cloud, the bearer token in the kubernetes-credentials-provider Secret `credentials_id`.
//!
//! The controller's service account comes from `kube::controller::discover` (cached per process).

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;

/// What a credential Secret holds for the plugin.
pub enum Credential {
    /// No Secret of that name (yet).
    Missing,
    /// The Secret exists but holds no `secretText` `text`.
    NotSecretText,
    /// The bearer token. Never log or print it.
    Token(String),
}

/// Reads the kubernetes-credentials-provider Secret `id` in the Jenkins namespace.
pub async fn credential_token(client: &kube::Client, namespace: &str, id: &str) -> Result<Credential, kube::Error> {
    let Some(secret) = Api::<Secret>::namespaced(client.clone(), namespace).get_opt(id).await? else {
        return Ok(Credential::Missing);
    };
    let text = secret
        .data
        .as_ref()
        .and_then(|d| d.get("text"))
        .and_then(|b| String::from_utf8(b.0.clone()).ok())
        .or_else(|| secret.string_data.as_ref().and_then(|d| d.get("text")).cloned())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    Ok(text.map(Credential::Token).unwrap_or(Credential::NotSecretText))
}
