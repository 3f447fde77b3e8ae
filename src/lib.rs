//! terraform-provider-jenkins: the Jenkins-on-EKS stack as Terraform resources.
//!
//! Layers, outermost first: `plugin` (go-plugin handshake, TLS, gRPC), `framework` (Terraform's
//! rules: schema, plan pipeline, diagnostics), `resources` (one file per resource), and the pure
//! cores (`cty`, `jenkins`) that do no I/O. See ARCHITECTURE.md.

pub mod actions;
pub mod aws;
pub mod awsconfig;
pub mod cty;
pub mod data_sources;
pub mod framework;
pub mod functions;
pub mod iam;
pub mod jenkins;
pub mod jenkins_http;
pub mod kube;
pub mod plugin;
pub mod provider;
pub mod resources;

#[cfg(test)]
mod diagnostics_inventory_tests;
