//! The go-plugin handshake, as pure functions: the magic cookie, the protocol version choice, the
//! socket path and the one stdout line Terraform reads to find and trust us.
//!
//! No I/O here; `serve` reads the environment and prints.

use base64::Engine as _;
use std::path::{Path, PathBuf};

/// Environment variable carrying Terraform's magic cookie.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform sets; it only proves we were launched by Terraform, it is not a secret.
pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The only Terraform plugin protocol this provider speaks.
pub const PROTOCOL_VERSION: u32 = 6;
/// go-plugin's own core protocol version, the first field of the handshake line.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// Why the process cannot serve; each message is one line for stderr.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    /// Started by hand (or by something other than Terraform).
    #[error(
        "terraform-provider-jenkins is a Terraform plugin: Terraform starts it, it is not meant to be run directly \
         (use it from a Terraform configuration, or run it with --debug to attach Terraform to it)"
    )]
    NotLaunchedByTerraform,
    /// Terraform offered only protocols we do not speak.
    #[error(
        "terraform-provider-jenkins speaks Terraform plugin protocol 6, but this Terraform offered {offered:?}; \
         use Terraform 1.0 or later"
    )]
    NoCommonProtocol {
        /// The raw `PLUGIN_PROTOCOL_VERSIONS` value.
        offered: String,
    },
}

/// Accepts only Terraform's exact cookie value.
pub fn check_cookie(value: Option<&str>) -> Result<(), HandshakeError> {
    match value {
        Some(MAGIC_COOKIE_VALUE) => Ok(()),
        _ => Err(HandshakeError::NotLaunchedByTerraform),
    }
}

/// Picks protocol 6 from `PLUGIN_PROTOCOL_VERSIONS` (comma-separated, any order). An absent or
/// empty list means an old client that does not negotiate, which go-plugin treats as "use yours".
pub fn choose_protocol(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(list) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(PROTOCOL_VERSION);
    };
    if list.split(',').any(|v| v.trim().parse::<u32>() == Ok(PROTOCOL_VERSION)) {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::NoCommonProtocol { offered: list.to_string() })
    }
}

/// `1|6|unix|<path>|grpc|<cert>`: cert is the server leaf DER in standard base64 without `=`
/// padding (Terraform 1.15's Go client rejects padding), or empty when TLS is off.
pub fn handshake_line(socket: &Path, server_cert_der: Option<&[u8]>) -> String {
    let cert =
        server_cert_der.map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der)).unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|unix|{}|grpc|{cert}", socket.display())
}

/// A fresh socket path in `PLUGIN_UNIX_SOCKET_DIR` if set, else the temp dir. The name is unique
/// per process and call (Terraform runs several providers at once), and short enough for the
/// 108-byte `sun_path` limit under ordinary temp dirs.
pub fn socket_path(dir: Option<PathBuf>, pid: u32, nonce: u64) -> PathBuf {
    let dir = dir.filter(|d| !d.as_os_str().is_empty()).unwrap_or_else(std::env::temp_dir);
    dir.join(format!("tf-jenkins-{pid}-{nonce:x}.sock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_must_match_exactly() {
        assert_eq!(check_cookie(Some(MAGIC_COOKIE_VALUE)), Ok(()));
        assert_eq!(check_cookie(None), Err(HandshakeError::NotLaunchedByTerraform));
        assert_eq!(check_cookie(Some("")), Err(HandshakeError::NotLaunchedByTerraform));
        let upper = MAGIC_COOKIE_VALUE.to_uppercase();
        assert_eq!(check_cookie(Some(&upper)), Err(HandshakeError::NotLaunchedByTerraform));
    }

    #[test]
    fn cookie_error_is_one_line_that_says_what_to_do() {
        let msg = HandshakeError::NotLaunchedByTerraform.to_string();
        assert!(!msg.contains('\n'));
        assert!(msg.contains("Terraform plugin") && msg.contains("not meant to be run directly"));
    }

    #[test]
    fn protocol_6_is_chosen_in_any_order() {
        for offered in ["5,6", "6,5", "6", " 5 , 6 ", "4,6,7"] {
            assert_eq!(choose_protocol(Some(offered)), Ok(6), "{offered}");
        }
        assert_eq!(choose_protocol(None), Ok(6));
        assert_eq!(choose_protocol(Some("")), Ok(6));
    }

    #[test]
    fn no_protocol_6_is_a_clear_error() {
        for offered in ["5", "4,5", "60", "x"] {
            let err = choose_protocol(Some(offered)).expect_err(offered);
            assert_eq!(err, HandshakeError::NoCommonProtocol { offered: offered.into() });
            assert!(err.to_string().contains("protocol 6"));
        }
    }

    #[test]
    fn handshake_line_without_tls_ends_with_grpc() {
        let line = handshake_line(Path::new("/tmp/plugin1.sock"), None);
        assert_eq!(line, "1|6|unix|/tmp/plugin1.sock|grpc|");
    }

    #[test]
    fn handshake_cert_is_standard_base64_without_padding() {
        // 4 bytes would need "==" padding; 0xfb 0xff yield '+' and '/' in the standard alphabet.
        let line = handshake_line(Path::new("/s"), Some(&[0xfb, 0xff, 0xbf, 0x01]));
        assert_eq!(line, "1|6|unix|/s|grpc|+/+/AQ");
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(fields.len(), 6);
        assert!(!fields[5].contains('='));
    }

    #[test]
    fn socket_dir_comes_from_env_else_temp() {
        let p = socket_path(Some(PathBuf::from("/run/x")), 42, 0xabc);
        assert_eq!(p, PathBuf::from("/run/x/tf-jenkins-42-abc.sock"));
        let p = socket_path(None, 42, 1);
        assert_eq!(p.parent(), Some(std::env::temp_dir().as_path()));
        let p = socket_path(Some(PathBuf::new()), 42, 1);
        assert_eq!(p.parent(), Some(std::env::temp_dir().as_path()));
    }
}
