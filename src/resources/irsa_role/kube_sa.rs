//! The service-account side of IRSA: the `eks.amazonaws.com/role-arn` annotation written by
//! server-side apply with our field manager and nothing else (so another owner, e.g. Helm, keeps
//! its object), removal by applying without it, and service accounts we created ourselves.

use super::model::ServiceAccount;
use crate::kube::ownership::{self, FIELD_MANAGER};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount as Sa};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use std::collections::BTreeMap;

/// The annotation the EKS pod identity webhook reads.
pub const ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// Our ownership label value on service accounts this resource created.
const OWNER: &str = "irsa-role";

/// What writing the annotation did.
#[derive(Debug, PartialEq, Eq)]
pub enum Bound {
    /// The service account does not exist and we may not create it.
    Missing,
    /// It already had this ARN.
    Unchanged,
    /// It got this ARN now; pods already running under it keep their old credentials.
    Changed { running_pods: Vec<String> },
}

fn api(client: &kube::Client, sa: &ServiceAccount) -> Api<Sa> {
    Api::namespaced(client.clone(), &sa.namespace)
}

fn object(sa: &ServiceAccount, annotation: Option<&str>, labels: bool) -> Sa {
    Sa {
        metadata: ObjectMeta {
            name: Some(sa.name.clone()),
            namespace: Some(sa.namespace.clone()),
            annotations: annotation.map(|a| BTreeMap::from([(ROLE_ANNOTATION.to_string(), a.to_string())])),
            labels: labels.then(|| ownership::labels(OWNER)),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The annotation's current value.
pub async fn annotation(client: &kube::Client, sa: &ServiceAccount) -> Result<Option<String>, kube::Error> {
    let found = api(client, sa).get_opt(&sa.name).await?;
    Ok(found.and_then(|o| o.metadata.annotations).and_then(|a| a.get(ROLE_ANNOTATION).cloned()))
}

/// Writes the annotation (creating the service account when `create` and it is missing).
/// No `force`: if another manager owns the annotation, the conflict is reported, not overridden.
pub async fn bind(client: &kube::Client, sa: &ServiceAccount, arn: &str, create: bool) -> Result<Bound, kube::Error> {
    let api = api(client, sa);
    let existing = api.get_opt(&sa.name).await?;
    if existing.is_none() && !create {
        return Ok(Bound::Missing);
    }
    let ours = existing.as_ref().is_none_or(|e| ownership::is_ours(e.metadata.labels.as_ref(), OWNER));
    let before = existing.as_ref().and_then(|e| e.metadata.annotations.as_ref()).and_then(|a| a.get(ROLE_ANNOTATION));
    if before.map(String::as_str) == Some(arn) && existing.as_ref().is_some_and(has_our_annotation) {
        return Ok(Bound::Unchanged);
    }
    let changed = before.map(String::as_str) != Some(arn);
    api.patch(&sa.name, &PatchParams::apply(FIELD_MANAGER), &Patch::Apply(&object(sa, Some(arn), ours))).await?;
    if !changed {
        return Ok(Bound::Unchanged);
    }
    let running_pods = if existing.is_some() { pods_using(client, sa).await? } else { Vec::new() };
    Ok(Bound::Changed { running_pods })
}

/// Whether our field manager owns the annotation (an equal value set by someone else is not ours:
/// apply takes co-ownership so destroy can drop it).
fn has_our_annotation(o: &Sa) -> bool {
    owners_of_annotation(o).iter().any(|m| m == FIELD_MANAGER)
}

/// The field managers that own the annotation key itself.
fn owners_of_annotation(o: &Sa) -> Vec<String> {
    let key = format!("f:{ROLE_ANNOTATION}");
    o.metadata
        .managed_fields
        .iter()
        .flatten()
        .filter(|m| {
            m.fields_v1
                .as_ref()
                .and_then(|f| f.0.pointer("/f:metadata/f:annotations"))
                .and_then(|a| a.as_object())
                .is_some_and(|a| a.contains_key(&key))
        })
        .filter_map(|m| m.manager.clone())
        .collect()
}

/// Removes our annotation: deletes a service account we created, otherwise applies our field set
/// without the annotation, so only what we owned goes. If the value is still our `arn` and no other
/// manager owns the key (an `Update` manager may claim the whole map), the key alone is removed.
pub async fn unbind(client: &kube::Client, sa: &ServiceAccount, arn: Option<&str>) -> Result<(), kube::Error> {
    let api = api(client, sa);
    let Some(existing) = api.get_opt(&sa.name).await? else { return Ok(()) };
    if ownership::is_ours(existing.metadata.labels.as_ref(), OWNER) {
        return match api.delete(&sa.name, &DeleteParams::default()).await {
            Err(e) if !crate::kube::errors::is_not_found(&e) => Err(e),
            _ => Ok(()),
        };
    }
    let after =
        api.patch(&sa.name, &PatchParams::apply(FIELD_MANAGER), &Patch::Apply(&object(sa, None, false))).await?;
    let value = after.metadata.annotations.as_ref().and_then(|a| a.get(ROLE_ANNOTATION));
    if arn.is_some() && value.map(String::as_str) == arn && owners_of_annotation(&after).is_empty() {
        let patch = serde_json::json!({ "metadata": { "annotations": { ROLE_ANNOTATION: null } } });
        let params = PatchParams { field_manager: Some(FIELD_MANAGER.to_string()), ..Default::default() };
        api.patch(&sa.name, &params, &Patch::Merge(&patch)).await?;
    }
    Ok(())
}

/// Names of pods in the namespace running (or starting) under the service account.
async fn pods_using(client: &kube::Client, sa: &ServiceAccount) -> Result<Vec<String>, kube::Error> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &sa.namespace);
    let list = pods.list(&ListParams::default()).await?;
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.service_account_name.as_deref()) == Some(sa.name.as_str()))
        .filter(|p| {
            p.status.as_ref().and_then(|s| s.phase.as_deref()).is_none_or(|ph| ph == "Running" || ph == "Pending")
        })
        .filter_map(|p| p.metadata.name)
        .collect();
    names.sort();
    Ok(names)
}
