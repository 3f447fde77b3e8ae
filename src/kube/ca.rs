//! Cluster CA certificates as users and EKS give them: PEM text, or base64 of the PEM (EKS's
//! `certificateAuthority.data`, which the Kubernetes plugin also accepts). Pure.

use base64::Engine;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The PEM text of a CA given as PEM or as base64 of a PEM; `Err` says what is wrong.
pub fn normalize_pem(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    let pem = if trimmed.starts_with("-----BEGIN") {
        trimmed.to_string()
    } else {
        let compact: String = trimmed.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| "it is neither PEM (`-----BEGIN CERTIFICATE-----`) nor base64 of a PEM".to_string())?;
        let text = String::from_utf8(bytes).map_err(|_| "its base64 does not decode to PEM text".to_string())?;
        if !text.trim_start().starts_with("-----BEGIN") {
            return Err("its base64 does not decode to a PEM certificate".into());
        }
        text.trim().to_string()
    };
    let ders = certificates(&pem)?;
    if ders.is_empty() {
        return Err("it holds no certificate".into());
    }
    Ok(format!("{pem}\n"))
}

/// The DER certificates of a PEM bundle.
pub fn certificates(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(|c| c.map(|c| c.as_ref().to_vec()).map_err(|e| format!("its PEM does not parse ({e})")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_pem() -> String {
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec!["ca".to_string()]).expect("params");
        params.self_signed(&key).expect("cert").pem()
    }

    #[test]
    fn accepts_pem_and_eks_base64_alike() {
        let pem = sample_pem();
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem.as_bytes());
        assert_eq!(normalize_pem(&pem).unwrap(), normalize_pem(&b64).unwrap());
        assert_eq!(certificates(&pem).unwrap().len(), 1);
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert!(normalize_pem("not a cert!").unwrap_err().contains("neither PEM"));
        let junk = base64::engine::general_purpose::STANDARD.encode(b"hello");
        assert!(normalize_pem(&junk).unwrap_err().contains("does not decode"));
    }
}
