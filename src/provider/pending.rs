//! Kubernetes objects that resources of the running plan will create: the profile chain's
//! ConfigMap, the service account of an IRSA role, a remote cluster's namespace, service account
//! and token, the credential Secret. A cloud's preflight runs at plan, before any of them exists;
//! Terraform plans a resource only after the resources it refers to (or `depends_on`), so by the
//! time the cloud is planned every object it is waiting for has been registered here.
//!
//! An entry lasts until the resource that registered it has applied (successfully or not): in the
//! apply, the dependencies are planned again (registering again) and applied (settling) before the
//! cloud is planned again, so a still-missing object is then no longer pending and the preflight
//! reports it as an error. A new ConfigureProvider (a new Terraform walk on a reattached provider)
//! starts an empty registry.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The cluster an object lives in, as the preflight sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClusterRef {
    /// The provider's `kubernetes` cluster, where Jenkins runs (a cloud without `server_url`).
    Controller,
    /// Another cluster by its API server URL, as a cloud's `server_url` names it.
    Remote(String),
}

impl ClusterRef {
    /// A remote cluster by URL; a trailing `/` does not make another cluster.
    pub fn remote(url: &str) -> ClusterRef {
        ClusterRef::Remote(url.trim_end_matches('/').to_string())
    }
}

/// One object a resource of this plan will create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingObject {
    pub cluster: ClusterRef,
    /// The kind as Kubernetes spells it (`ConfigMap`, `Secret`, `ServiceAccount`, `Namespace`).
    pub kind: &'static str,
    /// Empty for cluster-scoped kinds.
    pub namespace: String,
    pub name: String,
    /// The resource type that creates it, for messages.
    pub by: &'static str,
}

type Key = (ClusterRef, &'static str, String, String);

/// The registry of one provider process.
#[derive(Debug, Default)]
pub struct Pending {
    objects: Mutex<BTreeMap<Key, &'static str>>,
}

fn key(cluster: &ClusterRef, kind: &'static str, namespace: &str, name: &str) -> Key {
    (cluster.clone(), kind, namespace.to_string(), name.to_string())
}

impl Pending {
    /// Records that `object` will be created by this plan's apply.
    pub fn will_create(&self, object: PendingObject) {
        if let Ok(mut m) = self.objects.lock() {
            m.insert(key(&object.cluster, object.kind, &object.namespace, &object.name), object.by);
        }
    }

    /// The resource type that will create this object, if one of this plan does.
    pub fn pending(
        &self,
        cluster: &ClusterRef,
        kind: &'static str,
        namespace: &str,
        name: &str,
    ) -> Option<&'static str> {
        self.objects.lock().ok()?.get(&key(cluster, kind, namespace, name)).copied()
    }

    /// Forgets `object`: its resource has applied, so from now on it exists or it is missing.
    pub fn settled(&self, object: &PendingObject) {
        if let Ok(mut m) = self.objects.lock() {
            m.remove(&key(&object.cluster, object.kind, &object.namespace, &object.name));
        }
    }

    /// Forgets everything (a new walk begins).
    pub fn clear(&self) {
        if let Ok(mut m) = self.objects.lock() {
            m.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_cm(namespace: &str) -> PendingObject {
        PendingObject {
            cluster: ClusterRef::Controller,
            kind: "ConfigMap",
            namespace: namespace.into(),
            name: "awsconfig-configmap".into(),
            by: "jenkins_cross_account_chain",
        }
    }

    #[test]
    fn an_object_is_pending_in_its_own_cluster_kind_and_namespace_only() {
        let p = Pending::default();
        p.will_create(chain_cm("jenkins"));
        let c = ClusterRef::Controller;
        assert_eq!(p.pending(&c, "ConfigMap", "jenkins", "awsconfig-configmap"), Some("jenkins_cross_account_chain"));
        assert_eq!(p.pending(&c, "ConfigMap", "agents", "awsconfig-configmap"), None, "another namespace");
        assert_eq!(p.pending(&c, "Secret", "jenkins", "awsconfig-configmap"), None, "another kind");
        let remote = ClusterRef::remote("https://remote.example/");
        assert_eq!(p.pending(&remote, "ConfigMap", "jenkins", "awsconfig-configmap"), None, "another cluster");
    }

    #[test]
    fn a_remote_cluster_is_the_same_with_or_without_a_trailing_slash() {
        let p = Pending::default();
        p.will_create(PendingObject {
            cluster: ClusterRef::remote("https://remote.example/"),
            kind: "ServiceAccount",
            namespace: "agents".into(),
            name: "jenkins".into(),
            by: "jenkins_remote_cluster_access",
        });
        let url = ClusterRef::remote("https://remote.example");
        assert_eq!(p.pending(&url, "ServiceAccount", "agents", "jenkins"), Some("jenkins_remote_cluster_access"));
    }

    #[test]
    fn an_applied_object_is_no_longer_pending_until_planned_again() {
        let p = Pending::default();
        let cm = chain_cm("jenkins");
        let c = ClusterRef::Controller;
        p.will_create(cm.clone());
        p.settled(&cm);
        assert_eq!(p.pending(&c, "ConfigMap", "jenkins", "awsconfig-configmap"), None);
        // The apply plans the chain again (registering) before it applies.
        p.will_create(cm.clone());
        assert!(p.pending(&c, "ConfigMap", "jenkins", "awsconfig-configmap").is_some());
        p.clear();
        assert_eq!(p.pending(&c, "ConfigMap", "jenkins", "awsconfig-configmap"), None);
    }
}
