//! The built binary against a Terraform-like client: magic cookie, protocol choice, the handshake
//! line, mutual TLS with a P-521 CA:TRUE client certificate (what Terraform presents), ALPN h2, a
//! real gRPC call over the TLS socket, Shutdown, and signals.

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use terraform_provider_jenkins::plugin::handshake::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-jenkins");

/// A client certificate shaped like Terraform's: P-521, ECDSA-SHA512, CA:TRUE, CN localhost.
fn terraform_like_client_cert() -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("p521 key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages =
        vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth, rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key).expect("self-signed");
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (cert.pem(), cert.der().clone(), key_der)
}

/// The provider process plus its parsed handshake line.
struct Plugin {
    child: Child,
    fields: Vec<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Plugin {
    fn socket(&self) -> PathBuf {
        PathBuf::from(&self.fields[3])
    }

    fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill").arg(format!("-{sig}")).arg(self.child.id().to_string()).status().expect("kill");
        assert!(ok.success());
    }
}

impl Drop for Plugin {
    /// SIGTERM first so the provider unlinks its socket; SIGKILL only if it does not go.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
            if self.wait_exit(Duration::from_secs(2)).is_none() {
                let _ = self.child.kill();
            }
        }
        let _ = self.child.wait();
    }
}

fn start(envs: &[(&str, &str)]) -> Plugin {
    let dir = std::env::temp_dir();
    let mut cmd = Command::new(BIN);
    cmd.env_remove("TF_DISABLE_PLUGIN_TLS")
        .env_remove("PLUGIN_CLIENT_CERT")
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_UNIX_SOCKET_DIR", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn provider");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = BufReader::new(stdout);
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        let _ = tx.send(line);
        // Anything after the handshake line would be a bug; collect it for the assertion below.
        let mut rest = String::new();
        let _ = out.read_to_string(&mut rest);
        assert!(rest.is_empty(), "stdout after the handshake: {rest:?}");
    });
    let line = rx.recv_timeout(Duration::from_secs(10)).expect("handshake line within 10 s");
    assert!(line.ends_with('\n'), "handshake line is newline-terminated: {line:?}");
    let fields: Vec<String> = line.trim_end().split('|').map(str::to_string).collect();
    assert_eq!(fields.len(), 6, "{line:?}");
    assert_eq!(&fields[..3], ["1", "6", "unix"]);
    assert_eq!(fields[4], "grpc");
    Plugin { child, fields, stderr }
}

/// Trusts exactly the certificate from the handshake line, as go-plugin's client does.
#[derive(Debug)]
struct PinnedServer(CertificateDer<'static>, rustls::crypto::WebPkiSupportedAlgorithms);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        assert_eq!(name.to_str(), "localhost");
        if end_entity.as_ref() == self.0.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("not the pinned server certificate".into()))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.1)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.1)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.1.supported_schemes()
    }
}

type TlsConn = tokio_rustls::client::TlsStream<tokio::net::UnixStream>;

async fn connect_tls(
    plugin: &Plugin,
    client: (CertificateDer<'static>, PrivateKeyDer<'static>),
) -> Result<TlsConn, std::io::Error> {
    let server_der =
        base64::engine::general_purpose::STANDARD_NO_PAD.decode(&plugin.fields[5]).expect("unpadded base64");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let algs = provider.signature_verification_algorithms;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer(CertificateDer::from(server_der), algs)))
        .with_client_auth_cert(vec![client.0], client.1)
        .expect("client cert");
    config.alpn_protocols = vec![b"h2".to_vec()];
    let sock = tokio::net::UnixStream::connect(plugin.socket()).await?;
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, sock).await?;
    // TLS 1.3 reports a refused client certificate only on the first read after the handshake.
    let mut probe = [0u8; 0];
    let _ = tokio::time::timeout(Duration::from_millis(50), tokio::io::AsyncReadExt::read(&mut tls, &mut probe)).await;
    Ok(tls)
}

/// One unary gRPC call over raw h2; returns (grpc-status, response message bytes).
async fn grpc_call(
    sender: &mut h2::client::SendRequest<bytes::Bytes>,
    path: &str,
    message: &[u8],
) -> Result<(String, Vec<u8>), h2::Error> {
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("http://localhost{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request");
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(message);
    let (resp, mut body) = sender.clone().ready().await?.send_request(req, false)?;
    body.send_data(frame.into(), true)?;
    let resp = resp.await?;
    let status_in_headers = resp.headers().get("grpc-status").map(|v| v.to_str().unwrap_or("?").to_string());
    let mut recv = resp.into_body();
    let mut data = Vec::new();
    while let Some(chunk) = recv.data().await {
        let chunk = chunk?;
        let _ = recv.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    let trailers = recv.trailers().await?;
    let status = status_in_headers
        .or_else(|| trailers.and_then(|t| t.get("grpc-status").map(|v| v.to_str().unwrap_or("?").to_string())))
        .unwrap_or_default();
    let payload = if data.len() >= 5 { data[5..].to_vec() } else { Vec::new() };
    Ok((status, payload))
}

#[test]
fn without_the_cookie_it_explains_itself_and_exits_1() {
    let out = Command::new(BIN).env_remove(MAGIC_COOKIE_KEY).stdin(Stdio::null()).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "stdout: {:?}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("Terraform plugin") && err.contains("not meant to be run directly"), "{err}");
}

#[test]
fn without_protocol_6_it_fails_clearly() {
    let out = Command::new(BIN)
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("protocol 6") && err.contains("\"4,5\""), "{err}");
}

#[tokio::test]
async fn terraform_like_client_completes_mtls_calls_grpc_and_shuts_down() {
    let (pem, cert, key) = terraform_like_client_cert();
    let mut plugin = start(&[("PLUGIN_CLIENT_CERT", &pem)]);
    assert!(plugin.fields[5].len() > 50 && !plugin.fields[5].contains('='));
    assert!(plugin.socket().exists());

    let tls = connect_tls(&plugin, (cert, key)).await.expect("mutual TLS with the pinned P-521 client cert");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));

    let (mut sender, conn) = h2::client::handshake(tls).await.expect("h2");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let (status, body) = grpc_call(&mut sender, "/tfplugin6.Provider/GetProviderSchema", &[]).await.expect("call");
    assert_eq!(status, "0", "GetProviderSchema succeeds");
    let resp: terraform_provider_jenkins::plugin::proto::tfplugin6::get_provider_schema::Response =
        prost::Message::decode(body.as_slice()).expect("decodes");
    let caps = resp.server_capabilities.expect("capabilities");
    assert!(caps.plan_destroy && caps.get_provider_schema_optional && caps.generate_resource_config);

    let (status, body) = grpc_call(&mut sender, "/tfplugin6.Provider/GetFunctions", &[]).await.expect("call");
    assert_eq!(status, "0", "GetFunctions succeeds");
    let functions: terraform_provider_jenkins::plugin::proto::tfplugin6::get_functions::Response =
        prost::Message::decode(body.as_slice()).expect("decodes");
    let mut names: Vec<&str> = functions.functions.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["aws_config", "cloud_casc", "effective_pod", "irsa_trust"]);
    let (status, _) = grpc_call(&mut sender, "/tfplugin6.Provider/ValidateStateStoreConfig", &[]).await.expect("call");
    assert_eq!(status, "12", "RPCs we do not implement answer Unimplemented");

    // Shutdown: the process exits at once (the reply may never arrive), and removes its socket.
    let started = Instant::now();
    let _ = grpc_call(&mut sender, "/plugin.GRPCController/Shutdown", &[]).await;
    let status = plugin.wait_exit(Duration::from_secs(2)).expect("exits after Shutdown");
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    assert!(!plugin.socket().exists(), "socket unlinked");
}

#[tokio::test]
async fn a_different_client_cert_is_refused() {
    let (pem, _, _) = terraform_like_client_cert();
    let (_, other_cert, other_key) = terraform_like_client_cert();
    let plugin = start(&[("PLUGIN_CLIENT_CERT", &pem)]);
    let result = async {
        let tls = connect_tls(&plugin, (other_cert, other_key)).await?;
        let (mut sender, conn) = h2::client::handshake(tls).await.map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        grpc_call(&mut sender, "/tfplugin6.Provider/GetProviderSchema", &[]).await.map_err(std::io::Error::other)
    }
    .await;
    let err = format!("{:?}", result.expect_err("a stranger's certificate must not get a gRPC answer"));
    assert!(err.contains("AlertReceived"), "refused by a TLS alert, not something else: {err}");
}

#[test]
fn plain_mode_ignores_sigint_and_exits_on_sigterm() {
    let mut plugin = start(&[("TF_DISABLE_PLUGIN_TLS", "1")]);
    assert_eq!(plugin.fields[5], "", "no certificate without TLS");
    plugin.signal("INT");
    assert!(plugin.wait_exit(Duration::from_millis(300)).is_none(), "SIGINT is ignored");
    plugin.signal("TERM");
    let status = plugin.wait_exit(Duration::from_secs(2)).expect("exits on SIGTERM");
    assert!(status.success());
    assert!(!plugin.socket().exists(), "socket unlinked");
}

#[test]
fn stderr_stays_quiet_at_default_level() {
    let mut plugin = start(&[("TF_DISABLE_PLUGIN_TLS", "1"), ("TF_LOG", ""), ("TF_LOG_PROVIDER", "")]);
    plugin.signal("TERM");
    assert!(plugin.wait_exit(Duration::from_secs(2)).is_some());
    let stderr = std::mem::replace(&mut plugin.stderr, std::thread::spawn(String::new)).join().expect("stderr");
    assert_eq!(stderr, "");
}

#[test]
fn debug_mode_prints_reattach_config_and_stops_on_ctrl_c() {
    let mut child = Command::new(BIN)
        .arg("--debug")
        .env_remove(MAGIC_COOKIE_KEY)
        .env("PLUGIN_UNIX_SOCKET_DIR", std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn --debug");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("reattach line");
    let json =
        line.trim_end().strip_prefix("TF_REATTACH_PROVIDERS='").and_then(|s| s.strip_suffix('\'')).expect("quoted");
    let v: serde_json::Value = serde_json::from_str(json).expect("json");
    let p = &v["registry.terraform.io/jenkins-eks/jenkins"];
    assert_eq!(p["Pid"], child.id());
    assert_eq!(p["ProtocolVersion"], 6);
    assert_eq!(p["Test"], true);
    let socket = PathBuf::from(p["Addr"]["String"].as_str().expect("socket path"));
    assert!(socket.exists());
    let ok = Command::new("kill").arg("-INT").arg(child.id().to_string()).status().expect("kill");
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(2);
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "--debug exits on Ctrl-C");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(status.success());
    assert!(!socket.exists(), "socket unlinked");
}
