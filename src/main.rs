//! The provider binary: Terraform starts it, `plugin::run` does the go-plugin handshake and serves
//! the provider built by `provider::server`.

use std::process::ExitCode;
use terraform_provider_jenkins::plugin::log;

fn main() -> ExitCode {
    // Says which build Terraform started (under TF_LOG=debug): the Cargo.toml version, the same one
    // the release zip, the mirror path and the lock file carry. Debug, not info: at the default level
    // the plugin's stderr stays empty (tests/handshake.rs).
    log::debug("terraform-provider-jenkins starting", &[("version", env!("CARGO_PKG_VERSION"))]);
    terraform_provider_jenkins::plugin::run(terraform_provider_jenkins::provider::server)
}
