//! Shared harness for the acceptance tests: the local AWS/Kubernetes stack and a Terraform driver.

pub mod stack;
pub mod terraform;
