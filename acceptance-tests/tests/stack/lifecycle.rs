//! The stack as a whole: start time, env file, what a Terraform run gets.

use crate::support::stack;
use acceptance_tests::stack::{access_key_for, fresh_account};

#[test]
fn starts_in_under_three_seconds() {
    let s = stack();
    assert!(s.started_in_seconds < 3.0, "stack start took {} s", s.started_in_seconds);
}

#[test]
fn env_for_an_account_names_its_key_and_everything_else_a_run_needs() {
    let s = stack();
    let account = fresh_account();
    let env: std::collections::BTreeMap<_, _> = s.env_for(&account).into_iter().collect();
    assert_eq!(env["AWS_ACCESS_KEY_ID"], access_key_for(&account));
    assert_eq!(env["AWS_ENDPOINT_URL"], s.moto_url);
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["TFPJ_STACK_DIR"], s.dir.display().to_string());
    let text = std::fs::read_to_string(s.dir.join("env")).expect("DIR/env");
    assert!(text.contains(&format!("export AWS_ENDPOINT_URL={}", s.moto_url)), "{text}");
    if let Some(kubeconfig) = &s.kube.kubeconfig {
        assert_eq!(env["KUBECONFIG"], kubeconfig.display().to_string());
        assert!(kubeconfig.exists());
    }
}
