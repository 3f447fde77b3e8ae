//! Writes that respect ownership: server-side apply of objects this provider owns, refusal of
//! objects someone else owns, and deletes that only touch our own objects.
//!
//! Our own objects are applied with `force`: a field another manager changed on an object we own
//! is drift, and apply repairs it. Objects without our labels are never written, nor objects whose
//! owner mark ([`ownership::OWNER_ANNOTATION`]) names another resource; one with the writer's own
//! mark is adopted (a create killed after this write finds it again).

use super::ownership::{self, FIELD_MANAGER};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::core::NamespaceResourceScope;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// Why an owned write failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The object exists and carries no (or other) ownership labels.
    #[error(
        "{kind} {} already exists and is not managed by this resource; this provider never adopts or overwrites objects it did not create. Delete or rename it, or choose another name.",
        object_ref(.namespace, .name)
    )]
    Foreign { kind: String, namespace: String, name: String },
    /// The object is ours by its labels but another resource of ours made it.
    #[error(
        "{kind} {} already exists and belongs to another resource ({owner}); two resources cannot own one object. Choose another name, or let only one resource create it.",
        object_ref(.namespace, .name)
    )]
    OtherOwner { kind: String, namespace: String, name: String, owner: String },
    /// The API refused the call.
    #[error(transparent)]
    Api(#[from] kube::Error),
}

/// `namespace/name`, or `name` for a cluster-scoped object (no namespace).
fn object_ref(namespace: &str, name: &str) -> String {
    if namespace.is_empty() { name.to_string() } else { format!("{namespace}/{name}") }
}

/// The namespaced API for `K`.
pub fn api<K>(client: kube::Client, namespace: &str) -> Api<K>
where
    K: kube::Resource<Scope = NamespaceResourceScope>,
    <K as kube::Resource>::DynamicType: Default,
{
    Api::namespaced(client, namespace)
}

/// Reads an object; `None` when it does not exist.
pub async fn get<K>(api: &Api<K>, name: &str) -> Result<Option<K>, kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug,
{
    api.get_opt(name).await
}

/// The refusal for `existing` as seen by resource kind `owner` with owner mark `mark`, if any.
fn refusal<K>(existing: &K, name: &str, owner: &str, mark: Option<&str>) -> Option<ApplyError>
where
    K: kube::Resource,
    <K as kube::Resource>::DynamicType: Default,
{
    let m = existing.meta();
    let kind = K::kind(&Default::default()).to_string();
    let namespace = m.namespace.clone().unwrap_or_default();
    let name = name.to_string();
    match ownership::owned(m.labels.as_ref(), m.annotations.as_ref(), owner, mark) {
        ownership::Owned::Ours => None,
        ownership::Owned::ByAnother(by) => Some(ApplyError::OtherOwner { kind, namespace, name, owner: by }),
        ownership::Owned::Foreign => Some(ApplyError::Foreign { kind, namespace, name }),
    }
}

/// Applies `desired` (which must carry our ownership labels for `owner`), refusing a foreign object
/// and one whose owner mark differs from `desired`'s.
pub async fn apply_owned<K>(api: &Api<K>, name: &str, owner: &str, desired: &K) -> Result<K, ApplyError>
where
    K: kube::Resource + Clone + DeserializeOwned + Serialize + Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let mark = desired.meta().annotations.as_ref().and_then(|a| a.get(ownership::OWNER_ANNOTATION));
    if let Some(existing) = api.get_opt(name).await?
        && let Some(refused) = refusal(&existing, name, owner, mark.map(String::as_str))
    {
        return Err(refused);
    }
    let params = PatchParams::apply(FIELD_MANAGER).force();
    Ok(api.patch(name, &params, &Patch::Apply(desired)).await?)
}

/// Deletes an object if it exists and is ours; a missing object is already deleted.
pub async fn delete_owned<K>(api: &Api<K>, name: &str, owner: &str) -> Result<(), ApplyError>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    delete_owned_by(api, name, owner, None).await
}

/// [`delete_owned`] that also leaves alone an object another resource's owner mark names.
pub async fn delete_owned_by<K>(api: &Api<K>, name: &str, owner: &str, mark: Option<&str>) -> Result<(), ApplyError>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    match api.get_opt(name).await? {
        None => Ok(()),
        Some(existing) if let Some(refused) = refusal(&existing, name, owner, mark) => Err(refused),
        Some(_) => match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(e) if super::errors::is_not_found(&e) => Ok(()),
            Err(e) => Err(e.into()),
        },
    }
}

/// Adds the diagnostic for a failed owned write: a foreign object is reported at `path` (the
/// attribute that names it) with what to do; an API error through [`super::errors::report`].
pub fn report(
    diags: &mut crate::framework::Diagnostics,
    path: crate::cty::AttributePath,
    action: &str,
    err: &ApplyError,
) {
    match err {
        ApplyError::Api(e) => super::errors::report(diags, None, action, e),
        foreign @ (ApplyError::Foreign { kind, .. } | ApplyError::OtherOwner { kind, .. }) => {
            diags.error_at(path, format!("{kind} Owned By Someone Else"), foreign.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal names a namespaced object `namespace/name` and a cluster-scoped one by name.
    #[test]
    fn a_refusal_names_the_object_as_kubectl_would() {
        let ns = ApplyError::Foreign { kind: "ConfigMap".into(), namespace: "jenkins".into(), name: "cm".into() };
        assert!(ns.to_string().starts_with("ConfigMap jenkins/cm already exists"), "{ns}");
        let cluster = ApplyError::OtherOwner {
            kind: "Namespace".into(),
            namespace: String::new(),
            name: "agents".into(),
            owner: "remote-cluster-access/x".into(),
        };
        assert!(cluster.to_string().starts_with("Namespace agents already exists"), "{cluster}");
    }
}
