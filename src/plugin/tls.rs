//! TLS for the plugin socket: a fresh self-signed server certificate per process and a client
//! verifier pinned to the one certificate Terraform handed us in `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is P-521 and marked CA:TRUE, so the stock webpki verifier refuses
//! it (`CaUsedAsEndEntity`); trust here is by exact DER equality instead, plus a real signature
//! check of the handshake with aws-lc-rs (which, unlike ring, supports P-521).

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use std::sync::Arc;

/// Why TLS could not be set up; one line each, for stderr.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `PLUGIN_CLIENT_CERT` did not hold a PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not contain a PEM certificate: {0}")]
    ClientCert(String),
    /// rcgen could not make our certificate.
    #[error("could not generate the plugin's TLS certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("could not configure TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// The server side of the plugin socket's TLS.
pub struct ServerTls {
    /// Our leaf certificate, DER; goes base64-encoded into the handshake line.
    pub cert_der: Vec<u8>,
    /// Ready for `tokio_rustls::TlsAcceptor`.
    pub config: Arc<ServerConfig>,
}

/// Builds TLS with a new certificate. With `client_cert_pem`, clients must present exactly that
/// certificate; without it, no client certificate is requested.
pub fn server_tls(client_cert_pem: Option<&str>) -> Result<ServerTls, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let (cert_der, key_der) = self_signed_localhost()?;
    let builder = ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let builder = match client_cert_pem {
        Some(pem) => {
            let pinned =
                CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| TlsError::ClientCert(e.to_string()))?;
            builder.with_client_cert_verifier(Arc::new(PinnedClientCert::new(pinned.into_owned(), &provider)))
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(vec![CertificateDer::from(cert_der.clone())], key_der)?;
    // grpc-go 1.67+ (Terraform 1.15) refuses a TLS connection that did not select ALPN h2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ServerTls { cert_der, config: Arc::new(config) })
}

/// P-256 leaf for `localhost` (Go ignores the CN and needs the SAN), EKU serverAuth, valid from
/// rcgen's default not-before in the past. Returns (certificate DER, key).
fn self_signed_localhost() -> Result<(Vec<u8>, PrivateKeyDer<'static>), TlsError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((cert.der().to_vec(), key_der))
}

/// Accepts exactly one client certificate, compared byte for byte; chains and roots play no part.
#[derive(Debug)]
pub struct PinnedClientCert {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    /// Pins `expected`, checking handshake signatures with `provider`'s algorithms.
    pub fn new(expected: CertificateDer<'static>, provider: &CryptoProvider) -> Self {
        PinnedClientCert { expected, algorithms: provider.signature_verification_algorithms }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    /// aws-lc-rs's list, which includes ECDSA_NISTP521_SHA512: without it Go sends no certificate.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_schemes_include_p521() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let v = PinnedClientCert::new(CertificateDer::from(vec![1, 2, 3]), &provider);
        assert!(v.supported_verify_schemes().contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        assert!(v.client_auth_mandatory());
        assert!(v.root_hint_subjects().is_empty());
    }

    #[test]
    fn only_the_pinned_certificate_is_accepted() {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let v = PinnedClientCert::new(CertificateDer::from(vec![1, 2, 3]), &provider);
        assert!(v.verify_client_cert(&CertificateDer::from(vec![1, 2, 3]), &[], UnixTime::now()).is_ok());
        assert!(v.verify_client_cert(&CertificateDer::from(vec![1, 2, 4]), &[], UnixTime::now()).is_err());
    }

    #[test]
    fn server_tls_offers_h2_and_a_parseable_cert() {
        let tls = server_tls(None).expect("tls");
        assert_eq!(tls.config.alpn_protocols, vec![b"h2".to_vec()]);
        assert!(tls.cert_der.len() > 50, "go-plugin ignores certs of 50 base64 chars or fewer");
        let tls2 = server_tls(None).expect("tls");
        assert_ne!(tls.cert_der, tls2.cert_der, "a fresh certificate per call");
    }

    #[test]
    fn bad_client_cert_pem_is_an_error() {
        assert!(matches!(server_tls(Some("not a pem")), Err(TlsError::ClientCert(_))));
    }
}
