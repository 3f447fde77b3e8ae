//! Acceptance tests: every resource driven through the real `terraform` binary.
//!
//! One test binary for the provider's behaviour as a user sees it; one module per resource.

mod actions;
mod agent_cloud;
mod aws_faults;
mod bad_input;
mod cluster_in_apply;
mod cross_account_chain;
mod data_sources;
mod functions;
mod identity;
mod install;
mod irsa_role;
mod jenkins_loop;
mod killed_apply;
mod kube_faults;
mod log_secrets;
mod long_apply;
mod many_accounts;
mod pod_template;
mod preflight;
mod query;
mod remote_cluster_access;
mod support;
mod terragrunt;
