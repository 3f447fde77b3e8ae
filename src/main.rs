//! The provider binary: Terraform starts it, `plugin::run` does the go-plugin handshake and serves
//! the provider built by `provider::server`.

use std::process::ExitCode;

fn main() -> ExitCode {
    terraform_provider_jenkins::plugin::run(terraform_provider_jenkins::provider::server)
}
