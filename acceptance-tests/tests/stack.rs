//! Tests of the local stack itself, with clients no one here wrote (aws-sdk-rust): moto's IAM and
//! STS, the EKS APIs the launcher adds, the fault knobs and account isolation; and the Jenkins
//! stand-in with the chart's real reload sidecar (`jenkins`).
//!
//! Every test works in an account of its own ([`fresh_account`]), so they run in parallel on the
//! one stack of this process. Run: `cargo test -p acceptance-tests --test stack` (after `make venv`
//! and `cargo build -p kube-emulator`; `TFPJ_STACK_NO_KUBE=1` runs without the emulator).

#[path = "stack/eks.rs"]
mod eks;
#[path = "stack/faults.rs"]
mod faults;
#[path = "stack/iam_sts.rs"]
mod iam_sts;
#[path = "stack/jenkins.rs"]
mod jenkins;
#[path = "stack/lifecycle.rs"]
mod lifecycle;
#[path = "stack/support.rs"]
mod support;
