//! Serving: the tokio runtime, the unix socket, the TLS accept loop, the gRPC services
//! (`tfplugin6.Provider`, `plugin.GRPCController`, `plugin.GRPCStdio`), signals and exit.
//!
//! stdout carries the handshake line and nothing after it; stdin is never read.

use super::log;
use super::proto::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use super::proto::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use super::proto::plugin::{Empty, StdioData};
use super::proto::tfplugin6::provider_server::{Provider, ProviderServer};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tonic::codegen::BoxStream;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

/// Largest message either way; Terraform's Go SDK uses the same, and tonic's 4 MiB default breaks
/// large states.
const MAX_MESSAGE_SIZE: usize = 256 << 20;

/// The socket file to unlink on every way out (drops do not run under `process::exit`).
static SOCKET_PATH: OnceLock<PathBuf> = OnceLock::new();

/// How the process was started, which decides what Shutdown and Ctrl-C do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Launched by Terraform: exit on Shutdown and SIGTERM, ignore SIGINT (Terraform sends
    /// StopProvider on Ctrl-C and then Shutdown).
    Managed,
    /// `--debug`: outlives Terraform runs; exit on Ctrl-C or SIGTERM only.
    Debug,
}

/// Removes the socket file and exits at once. Terraform waits for the process to end after
/// Shutdown; any delay here is paid on every plan.
pub fn exit_now(code: i32) -> ! {
    remove_socket();
    std::process::exit(code)
}

fn remove_socket() {
    if let Some(p) = SOCKET_PATH.get() {
        let _ = std::fs::remove_file(p);
    }
}

/// Binds the unix socket at `path` and remembers it for cleanup. A stale file from a killed
/// process with our exact name is impossible (pid and time are in it), so no unlink first.
pub fn bind(path: &Path) -> io::Result<tokio::net::UnixListener> {
    let listener = tokio::net::UnixListener::bind(path)?;
    let _ = SOCKET_PATH.set(path.to_path_buf());
    Ok(listener)
}

/// Prints one line on stdout and flushes; used for the handshake (and the debug banner).
pub fn print_line(line: &str) -> io::Result<()> {
    use std::io::Write as _;
    let mut out = io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// A small single-threaded runtime: cheap to start (the whole start-to-handshake budget is a few
/// milliseconds, and Terraform starts us several times per command), and RPCs are I/O-bound.
pub fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build()
}

/// Installs signal handling for `mode`. Must run inside the runtime, before the handshake line,
/// so that an early Ctrl-C to the process group does not kill us mid-handshake.
pub fn handle_signals(mode: Mode) -> io::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => exit_now(0),
                _ = int.recv() => match mode {
                    Mode::Debug => exit_now(0),
                    Mode::Managed => log::debug("ignoring SIGINT; Terraform stops the provider itself", &[]),
                },
            }
        }
    });
    Ok(())
}

/// Serves the three services on `listener` until the process exits. TLS handshakes run in their own
/// tasks so one slow client cannot stall the accept loop.
pub async fn serve<P: Provider>(
    listener: tokio::net::UnixListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    provider: P,
    mode: Mode,
) -> Result<(), tonic::transport::Error> {
    let (tx, rx) = mpsc::channel::<io::Result<Conn>>(16);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    log::error("accepting a connection on the plugin socket failed", &[("error", &e.to_string())]);
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let tx = tx.clone();
            match &acceptor {
                None => {
                    let _ = tx.send(Ok(Conn::Plain(stream))).await;
                }
                Some(acceptor) => {
                    let accept = acceptor.accept(stream);
                    tokio::spawn(async move {
                        match accept.await {
                            Ok(s) => {
                                let _ = tx.send(Ok(Conn::Tls(Box::new(s)))).await;
                            }
                            Err(e) => log::error("TLS handshake with Terraform failed", &[("error", &e.to_string())]),
                        }
                    });
                }
            }
        }
    });
    let result = tonic::transport::Server::builder()
        .add_service(
            ProviderServer::new(provider)
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(GrpcControllerServer::new(Controller { mode }))
        .add_service(GrpcStdioServer::new(Stdio))
        .serve_with_incoming(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await;
    remove_socket();
    result
}

/// `plugin.GRPCController`: Terraform's "we are done with you".
struct Controller {
    mode: Mode,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _req: Request<Empty>) -> Result<Response<Empty>, Status> {
        match self.mode {
            Mode::Managed => exit_now(0),
            Mode::Debug => {
                log::debug("Shutdown ignored in debug mode; stop the provider with Ctrl-C", &[]);
                Ok(Response::new(Empty {}))
            }
        }
    }
}

/// `plugin.GRPCStdio`: the stream stays open and silent. We never write to stdout after the
/// handshake, and anything sent here would be logged by Terraform as unexpected output.
struct Stdio;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(&self, _req: Request<Empty>) -> Result<Response<BoxStream<StdioData>>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::pending())))
    }
}

/// One accepted connection, plain or TLS, in the shape tonic's `serve_with_incoming` wants.
pub enum Conn {
    /// `TF_DISABLE_PLUGIN_TLS` or `--debug`.
    Plain(UnixStream),
    /// The usual case.
    Tls(Box<tokio_rustls::server::TlsStream<UnixStream>>),
}

impl Connected for Conn {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
