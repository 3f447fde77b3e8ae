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

pub mod debug;
pub mod handshake;
pub mod log;
pub mod panic;
pub mod serve;
pub mod tls;

use proto::tfplugin6::provider_server::Provider;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// The binary's whole life: handshake with Terraform (or `--debug`), then serve `make()`'s provider
/// until Terraform shuts us down. `make` runs after the handshake line is out, so building schemas
/// overlaps with Terraform connecting.
pub fn run<P: Provider>(make: impl FnOnce() -> P) -> ExitCode {
    panic::install();
    if std::env::args_os().skip(1).any(|a| a == "--debug") {
        return run_debug(make);
    }
    if let Err(e) = handshake::check_cookie(std::env::var(handshake::MAGIC_COOKIE_KEY).ok().as_deref()) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = handshake::choose_protocol(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref()) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let tls = if env_set("TF_DISABLE_PLUGIN_TLS") {
        None
    } else {
        let client_cert = std::env::var("PLUGIN_CLIENT_CERT").ok().filter(|s| !s.is_empty());
        match tls::server_tls(client_cert.as_deref()) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    };
    on_socket(serve::Mode::Managed, move |listener, socket| async move {
        let line = handshake::handshake_line(&socket, tls.as_ref().map(|t| t.cert_der.as_slice()));
        serve::print_line(&line).map_err(|e| format!("could not write the handshake to stdout: {e}"))?;
        let tls_mode = if tls.is_some() { "on" } else { "off" };
        log::debug("plugin listening", &[("socket", &socket.to_string_lossy()), ("tls", tls_mode)]);
        let provider = make();
        serve::serve(listener, tls.map(|t| t.config), provider, serve::Mode::Managed)
            .await
            .map_err(|e| format!("the gRPC server stopped: {e}"))
    })
}

/// `--debug`: no cookie, no TLS; prints `TF_REATTACH_PROVIDERS` and serves until Ctrl-C.
fn run_debug<P: Provider>(make: impl FnOnce() -> P) -> ExitCode {
    on_socket(serve::Mode::Debug, move |listener, socket| async move {
        let provider = make();
        serve::print_line(&debug::reattach_line(std::process::id(), &socket))
            .and_then(|()| serve::print_line(debug::HINT))
            .map_err(|e| format!("could not write to stdout: {e}"))?;
        serve::serve(listener, None, provider, serve::Mode::Debug)
            .await
            .map_err(|e| format!("the gRPC server stopped: {e}"))
    })
}

/// What both modes start with: a fresh socket path, the runtime, signal handling and the
/// listener; then `body` announces the socket and serves on it.
fn on_socket<F, Fut>(mode: serve::Mode, body: F) -> ExitCode
where
    F: FnOnce(tokio::net::UnixListener, std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let socket =
        handshake::socket_path(std::env::var_os("PLUGIN_UNIX_SOCKET_DIR").map(Into::into), std::process::id(), nonce());
    let rt = match serve::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), String> = rt.block_on(async move {
        serve::handle_signals(mode).map_err(|e| format!("could not install signal handlers: {e}"))?;
        let listener = serve::bind(&socket).map_err(|e| format!("could not listen on {}: {e}", socket.display()))?;
        body(listener, socket).await
    });
    finish(result)
}

fn finish(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            serve::exit_now(1)
        }
    }
}

/// Set and non-empty, as Terraform tests its own switches.
fn env_set(key: &str) -> bool {
    std::env::var_os(key).is_some_and(|v| !v.is_empty())
}

/// Sub-second clock bits: with the pid, a socket name no other live process uses.
fn nonce() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or_default()
}
