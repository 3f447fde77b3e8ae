//! Kubernetes: connecting to a cluster (EKS with in-process tokens, a direct endpoint, or a
//! kubeconfig), server-side apply with one field manager, ownership labels, and the mapping of API
//! errors to diagnostics. Objects without our ownership label are never adopted or overwritten.

pub mod apply;
pub mod ca;
pub mod connect;
pub mod controller;
pub mod dry_run;
pub mod eks_auth;
pub mod errors;
pub mod ownership;
pub mod plugin_identity;
pub mod rbac;
pub mod references;
pub mod retry;
pub mod retrying;
pub mod rollout;
pub mod wait;

pub use connect::{ClusterSpec, Connector};
pub use ownership::{FIELD_MANAGER, MANAGED_BY, MANAGED_BY_LABEL, RESOURCE_LABEL};
