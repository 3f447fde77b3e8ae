//! Writes that respect ownership: server-side apply of objects this provider owns, refusal of
//! objects someone else owns, and deletes that only touch our own objects.
//!
//! Our own objects are applied with `force`: a field another manager changed on an object we own
//! is drift, and apply repairs it. Objects without our labels are never written.

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
        "{kind} {namespace}/{name} already exists and is not managed by this resource; this provider never adopts or overwrites objects it did not create. Delete or rename it, or choose another name."
    )]
    Foreign { kind: String, namespace: String, name: String },
    /// The API refused the call.
    #[error(transparent)]
    Api(#[from] kube::Error),
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

/// Applies `desired` (which must carry our ownership labels for `owner`), refusing a foreign object.
pub async fn apply_owned<K>(api: &Api<K>, name: &str, owner: &str, desired: &K) -> Result<K, ApplyError>
where
    K: kube::Resource + Clone + DeserializeOwned + Serialize + Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    if let Some(existing) = api.get_opt(name).await?
        && !ownership::is_ours(existing.meta().labels.as_ref(), owner)
    {
        return Err(ApplyError::Foreign {
            kind: K::kind(&Default::default()).to_string(),
            namespace: existing.meta().namespace.clone().unwrap_or_default(),
            name: name.to_string(),
        });
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
    match api.get_opt(name).await? {
        None => Ok(()),
        Some(existing) if !ownership::is_ours(existing.meta().labels.as_ref(), owner) => Err(ApplyError::Foreign {
            kind: K::kind(&Default::default()).to_string(),
            namespace: existing.meta().namespace.clone().unwrap_or_default(),
            name: name.to_string(),
        }),
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
        foreign @ ApplyError::Foreign { kind, .. } => {
            diags.error_at(path, format!("{kind} Owned By Someone Else"), foreign.to_string())
        }
    }
}
