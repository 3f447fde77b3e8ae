//! Reads what pods refer to, one list per kind and namespace however many templates name it.
//! Only names and data keys are kept: Secret values are dropped as soon as the list is read.

use crate::jenkins::references::RefKind;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, ServiceAccount};
use kube::api::{Api, ListParams};
use std::collections::{BTreeMap, BTreeSet};

/// Object name → the keys it holds (empty for kinds without keys).
pub type Present = BTreeMap<String, BTreeSet<String>>;

/// Lists the objects of `kind` in `namespace`.
pub async fn list(client: &kube::Client, namespace: &str, kind: RefKind) -> Result<Present, kube::Error> {
    let params = ListParams::default();
    let name = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| m.name.clone().unwrap_or_default();
    Ok(match kind {
        RefKind::ConfigMap => Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .list(&params)
            .await?
            .items
            .into_iter()
            .map(|c| {
                let keys = c.data.iter().flat_map(|d| d.keys()).chain(c.binary_data.iter().flat_map(|d| d.keys()));
                (name(&c.metadata), keys.cloned().collect())
            })
            .collect(),
        RefKind::Secret => Api::<Secret>::namespaced(client.clone(), namespace)
            .list(&params)
            .await?
            .items
            .into_iter()
            .map(|s| {
                let keys = s.data.iter().flat_map(|d| d.keys()).chain(s.string_data.iter().flat_map(|d| d.keys()));
                (name(&s.metadata), keys.cloned().collect())
            })
            .collect(),
        RefKind::PersistentVolumeClaim => Api::<PersistentVolumeClaim>::namespaced(client.clone(), namespace)
            .list(&params)
            .await?
            .items
            .into_iter()
            .map(|p| (name(&p.metadata), BTreeSet::new()))
            .collect(),
    })
}

/// A service account's annotations; `None` when it does not exist.
pub async fn service_account_annotations(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, String>>, kube::Error> {
    let sa = Api::<ServiceAccount>::namespaced(client.clone(), namespace).get_opt(name).await?;
    Ok(sa.map(|s| s.metadata.annotations.unwrap_or_default()))
}
