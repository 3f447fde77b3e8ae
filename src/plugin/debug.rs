//! `--debug` mode: the provider starts on its own (under a debugger, say) and prints the
//! `TF_REATTACH_PROVIDERS` value that points Terraform at it. No cookie, no TLS, no handshake line.

use std::path::Path;

/// The provider address Terraform resolves `source = "jenkins-eks/jenkins"` to.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/jenkins-eks/jenkins";

/// The shell line to export. `"Test":true` is required: without it Terraform assumes protocol 5
/// and would also kill the process after each command.
pub fn reattach_line(pid: u32, socket: &Path) -> String {
    let config = serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": super::handshake::PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "unix", "String": socket.to_string_lossy() },
        }
    });
    // serde_json escapes `'` nowhere, and a socket path with a single quote would break the shell
    // quoting; close, escape and reopen the quote as POSIX shells expect.
    let json = config.to_string().replace('\'', r"'\''");
    format!("TF_REATTACH_PROVIDERS='{json}'")
}

/// The hint printed after the reattach line.
pub const HINT: &str =
    "# Provider started in debug mode. Export the line above in the shell that runs terraform; stop with Ctrl-C.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reattach_line_has_terraforms_shape() {
        let line = reattach_line(1234, Path::new("/tmp/tf-jenkins-1.sock"));
        let json = line.strip_prefix("TF_REATTACH_PROVIDERS='").and_then(|s| s.strip_suffix('\'')).expect("quoted");
        let v: serde_json::Value = serde_json::from_str(json).expect("json");
        let p = &v["registry.terraform.io/jenkins-eks/jenkins"];
        assert_eq!(p["Protocol"], "grpc");
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Pid"], 1234);
        assert_eq!(p["Test"], true);
        assert_eq!(p["Addr"]["Network"], "unix");
        assert_eq!(p["Addr"]["String"], "/tmp/tf-jenkins-1.sock");
        assert_eq!(v.as_object().map(|o| o.len()), Some(1));
    }

    #[test]
    fn single_quotes_in_the_path_stay_shell_safe() {
        let line = reattach_line(1, Path::new("/tmp/it's"));
        assert!(line.contains(r"it'\''s"), "{line}");
    }
}
