//! Shared harness for the acceptance tests: the local AWS/Kubernetes stack, a Jenkins per test
//! (chart fixture, stand-in, real reload sidecar) and a Terraform driver.

pub mod jenkins;
pub mod stack;
pub mod terraform;
