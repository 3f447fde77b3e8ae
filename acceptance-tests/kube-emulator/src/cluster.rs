//! One emulated cluster: identity (name, issuer, CA, admin token), the accepted AWS keys, and the
//! mutable state (objects, issued tokens, fault rules) behind one lock. Seeds a fresh cluster the way
//! a new EKS cluster looks: system namespaces, default service accounts, root CA ConfigMaps, bootstrap RBAC.

use crate::faults::Fault;
use crate::kinds::{ResourceType, by_plural};
use crate::store::Store;
use crate::tokens::TokenInfo;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Mutable state of a cluster.
#[derive(Default)]
pub struct State {
    /// Objects.
    pub store: Store,
    /// Issued service-account tokens.
    pub tokens: HashMap<String, TokenInfo>,
    /// Fault rules.
    pub faults: Vec<Fault>,
    /// Counter for pod IPs.
    pub pods_started: u32,
    /// Counter for Service cluster IPs.
    pub services_created: u32,
    /// The token clock knob (`POST /emulator/clock`).
    pub clock_shifts: Vec<crate::token_clock::ClockShift>,
    /// Workloads (plural, namespace, name) whose refused pod creates will be retried.
    pub rollout_retries: std::collections::HashSet<(&'static str, String, String)>,
}

/// A cluster.
pub struct Cluster {
    /// Cluster name (also the EKS `x-k8s-aws-id`).
    pub name: String,
    /// Service-account token issuer.
    pub issuer: String,
    /// CA certificate PEM.
    pub ca_pem: String,
    /// Bearer token of the built-in admin.
    pub admin_token: String,
    /// AWS access key id to secret, for EKS token verification.
    pub aws_secrets: HashMap<String, String>,
    state: Mutex<State>,
}

/// The type record for a group and plural known to exist.
pub fn rt(group: &str, plural: &str) -> &'static ResourceType {
    by_plural(group, plural).expect("served type")
}

/// Namespaces every cluster starts with.
pub const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

impl Cluster {
    /// A seeded cluster.
    pub fn new(name: &str, ca_pem: String, admin_token: String, aws_secrets: HashMap<String, String>) -> Self {
        let cluster = Cluster {
            name: name.to_string(),
            issuer: format!("https://kube-emulator.local/{name}"),
            ca_pem,
            admin_token,
            aws_secrets,
            state: Mutex::new(State::default()),
        };
        {
            let mut st = cluster.lock();
            for obj in crate::rbac::bootstrap_objects() {
                let t = crate::kinds::by_kind("rbac.authorization.k8s.io/v1", obj["kind"].as_str().unwrap_or(""))
                    .expect("bootstrap kinds are served");
                st.store.put(t, stamp_new(obj));
            }
            for ns in SYSTEM_NAMESPACES {
                let obj = json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
                    "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
                st.store.put(rt("", "namespaces"), stamp_new(obj));
                cluster.seed_namespace(&mut st, ns);
            }
        }
        cluster
    }

    /// Locks the state.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What a new namespace gets: the `default` service account and the `kube-root-ca.crt` ConfigMap.
    pub fn seed_namespace(&self, st: &mut State, ns: &str) {
        let sa =
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}});
        if st.store.get(rt("", "serviceaccounts"), ns, "default").is_none() {
            st.store.put(rt("", "serviceaccounts"), stamp_new(sa));
        }
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-root-ca.crt", "namespace": ns,
                         "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
            "data": {"ca.crt": self.ca_pem}});
        if st.store.get(rt("", "configmaps"), ns, "kube-root-ca.crt").is_none() {
            st.store.put(rt("", "configmaps"), stamp_new(cm));
        }
    }
}

/// Gives a new object a uid and creationTimestamp.
pub fn stamp_new(mut obj: Value) -> Value {
    obj["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
    obj["metadata"]["creationTimestamp"] = json!(crate::clock::now_rfc3339());
    obj
}
