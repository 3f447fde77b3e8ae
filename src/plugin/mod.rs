//! The go-plugin side of the provider: everything between Terraform's process launch and the first
//! tfplugin6 RPC (magic cookie, protocol choice, TLS, the handshake line, controller and stdio
//! services, signals, stderr logs, the panic line, `--debug` reattach mode).
//!
//! Owns no provider logic: it serves whatever `tfplugin6.Provider` implementation it is given.

/// Generated protobuf and gRPC code; see `proto/` for the definitions.
pub mod proto {
    /// Terraform plugin protocol 6.
    #[allow(clippy::all, clippy::pedantic, missing_docs, rustdoc::all)]
    pub mod tfplugin6 {
        include!(concat!(env!("OUT_DIR"), "/tfplugin6.rs"));
    }
    /// go-plugin's controller and stdio services.
    #[allow(clippy::all, clippy::pedantic, missing_docs, rustdoc::all)]
    pub mod plugin {
        include!(concat!(env!("OUT_DIR"), "/plugin.rs"));
    }
}

pub mod handshake;
pub mod log;
pub mod panic;
pub mod tls;
