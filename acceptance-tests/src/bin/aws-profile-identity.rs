//! Resolves an AWS shared-config profile with aws-config for Rust and prints the caller identity as
//! JSON: proof that a generated profile chain works with a real SDK, not only that it is well-formed.
//!
//! Runs as a process of its own so its environment (`AWS_CONFIG_FILE`, `AWS_PROFILE`,
//! `AWS_ENDPOINT_URL`, which the SDK's credential providers read too) belongs to this check alone.

use std::process::ExitCode;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("aws-profile-identity: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        match aws_sdk_sts::Client::new(&sdk).get_caller_identity().send().await {
            Ok(id) => {
                let out = serde_json::json!({"Account": id.account, "Arn": id.arn});
                println!("{out}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("aws-profile-identity: {}", aws_sdk_sts::error::DisplayErrorContext(&e));
                ExitCode::FAILURE
            }
        }
    })
}
