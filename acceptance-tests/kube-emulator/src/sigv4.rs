//! Verification of EKS bearer tokens: `k8s-aws-v1.` + unpadded base64url of a SigV4-presigned
//! `sts:GetCallerIdentity` URL whose signed headers are `host` and `x-k8s-aws-id`. Recomputes the
//! signature (canonical request, string to sign, HMAC-SHA256 key derivation) with the secret configured
//! for the access key and the cluster name as `x-k8s-aws-id`, and enforces the 15-minute lifetime. Pure.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Token prefix.
pub const PREFIX: &str = "k8s-aws-v1.";
/// Validity from `X-Amz-Date`, whatever `X-Amz-Expires` says.
pub const LIFETIME_SECS: i64 = 15 * 60;
/// Allowed clock skew for dates in the future.
const SKEW_SECS: i64 = 5 * 60;
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A verified token's identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The access key id that signed.
    pub access_key: String,
    /// The region of the STS endpoint.
    pub region: String,
    /// `X-Amz-Date` as epoch seconds.
    pub signed_at: i64,
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else `%XX`.
pub fn uri_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Decodes `%XX` escapes (and `+` as a space, as form encoding does).
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let h = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The SigV4 signing key for a date (`YYYYMMDD`), region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date);
    let k = hmac(&k, region);
    let k = hmac(&k, service);
    hmac(&k, "aws4_request")
}

/// Decodes the token into its URL.
pub fn decode_token(token: &str) -> Result<String, String> {
    let body = token.strip_prefix(PREFIX).ok_or("token does not start with k8s-aws-v1.")?;
    if body.len() > 4096 {
        return Err("token too long".into());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .map_err(|e| format!("token is not base64url: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "token is not UTF-8".into())
}

/// Verifies a decoded presigned URL for `cluster` at time `now` (epoch seconds).
pub fn verify_url(url: &str, cluster: &str, secrets: &HashMap<String, String>, now: i64) -> Result<Verified, String> {
    let rest = url.strip_prefix("https://").ok_or("URL is not https")?;
    let (host, path_query) = rest.split_once('/').ok_or("URL has no path")?;
    let query = path_query.strip_prefix('?').ok_or("URL path must be / with a query")?;
    let region = match host.strip_prefix("sts.").and_then(|h| h.strip_suffix("amazonaws.com")) {
        // The global endpoint signs for us-east-1.
        Some("") => "us-east-1".to_string(),
        Some(r) if r.ends_with('.') && !r[..r.len() - 1].is_empty() && !r[..r.len() - 1].contains('.') => {
            r[..r.len() - 1].to_string()
        }
        _ => return Err(format!("unexpected STS host {host:?}")),
    };
    let mut params: Vec<(String, String)> = vec![];
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.push((percent_decode(k).ok_or("bad query escape")?, percent_decode(v).ok_or("bad query escape")?));
    }
    let get = |k: &str| -> Result<&str, String> {
        let mut found = params.iter().filter(|(pk, _)| pk == k);
        match (found.next(), found.next()) {
            (Some((_, v)), None) => Ok(v.as_str()),
            (None, _) => Err(format!("missing query parameter {k}")),
            _ => Err(format!("duplicate query parameter {k}")),
        }
    };
    const ALLOWED: &[&str] = &[
        "Action",
        "Version",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    ];
    if let Some((k, _)) = params.iter().find(|(k, _)| !ALLOWED.contains(&k.as_str())) {
        return Err(format!("query parameter {k} is not allowed"));
    }
    if get("Action")? != "GetCallerIdentity" || get("Version")? != "2011-06-15" {
        return Err("not an sts:GetCallerIdentity 2011-06-15 request".into());
    }
    if get("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" {
        return Err("unsupported signing algorithm".into());
    }
    let signed_headers = get("X-Amz-SignedHeaders")?;
    if signed_headers != "host;x-k8s-aws-id" {
        return Err(format!("signed headers must be host;x-k8s-aws-id, got {signed_headers:?}"));
    }
    let expires: i64 = get("X-Amz-Expires")?.parse().map_err(|_| "X-Amz-Expires is not a number")?;
    if !(0..=LIFETIME_SECS).contains(&expires) {
        return Err("X-Amz-Expires out of range".into());
    }
    let amz_date = get("X-Amz-Date")?;
    let signed_at = crate::clock::parse_amz_date(amz_date).ok_or("bad X-Amz-Date")?;
    if now > signed_at + LIFETIME_SECS {
        return Err("token expired".into());
    }
    if signed_at > now + SKEW_SECS {
        return Err("X-Amz-Date is in the future".into());
    }
    let credential = get("X-Amz-Credential")?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, date, cred_region, service, "aws4_request"] = parts[..] else {
        return Err("malformed X-Amz-Credential".into());
    };
    if date != &amz_date[..8] || cred_region != region || service != "sts" {
        return Err("credential scope does not match the request".into());
    }
    // `*` is the stack's shared secret for every access key (moto maps keys to accounts).
    let secret = secrets
        .get(access_key)
        .or_else(|| secrets.get("*"))
        .ok_or_else(|| format!("unknown access key {access_key}"))?;

    let mut canonical: Vec<(String, String)> =
        params.iter().filter(|(k, _)| k != "X-Amz-Signature").map(|(k, v)| (uri_encode(k), uri_encode(v))).collect();
    canonical.sort();
    let canonical_query: Vec<String> = canonical.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let canonical_request = format!(
        "GET\n/\n{}\nhost:{host}\nx-k8s-aws-id:{cluster}\n\n{signed_headers}\n{EMPTY_SHA256}",
        canonical_query.join("&")
    );
    let scope = format!("{date}/{region}/sts/aws4_request");
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let expected = hex(&hmac(&signing_key(secret, date, &region, "sts"), &string_to_sign));
    if !constant_time_eq(expected.as_bytes(), get("X-Amz-Signature")?.as_bytes()) {
        return Err("signature does not match (wrong secret or x-k8s-aws-id)".into());
    }
    Ok(Verified { access_key: access_key.to_string(), region, signed_at })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies a bearer token for `cluster`.
pub fn verify_token(
    token: &str,
    cluster: &str,
    secrets: &HashMap<String, String>,
    now: i64,
) -> Result<Verified, String> {
    verify_url(&decode_token(token)?, cluster, secrets, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Produced by botocore 1.x `SigV4QueryAuth(creds, "sts", "us-east-1", expires=60)` with the
    /// header `x-k8s-aws-id: controller` and credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY.
    const BOTOCORE_URL: &str = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261123%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20261123T120025Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=0fff0a4b19c2bfb40af59702238015d3e1fcdf87a31df4ef86f596e77a71b599";

    fn secrets() -> HashMap<String, String> {
        [("AKIDEXAMPLE".to_string(), "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string())].into_iter().collect()
    }

    fn signed_at() -> i64 {
        crate::clock::parse_amz_date("20261123T120025Z").unwrap()
    }

    #[test]
    fn botocore_vector_verifies() {
        let v = verify_url(BOTOCORE_URL, "controller", &secrets(), signed_at() + 60).unwrap();
        assert_eq!(
            v,
            Verified { access_key: "AKIDEXAMPLE".into(), region: "us-east-1".into(), signed_at: signed_at() }
        );
        let token = format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(BOTOCORE_URL));
        assert!(verify_token(&token, "controller", &secrets(), signed_at() + 899).is_ok());
    }

    #[test]
    fn rejects_wrong_cluster_secret_expiry_and_tampering() {
        let now = signed_at() + 60;
        assert!(verify_url(BOTOCORE_URL, "remote", &secrets(), now).unwrap_err().contains("signature"));
        let other: HashMap<_, _> = [("AKIDEXAMPLE".to_string(), "nope".to_string())].into_iter().collect();
        assert!(verify_url(BOTOCORE_URL, "controller", &other, now).is_err());
        assert!(
            verify_url(BOTOCORE_URL, "controller", &HashMap::new(), now).unwrap_err().contains("unknown access key")
        );
        assert_eq!(verify_url(BOTOCORE_URL, "controller", &secrets(), signed_at() + 901).unwrap_err(), "token expired");
        let tampered = BOTOCORE_URL.replace("X-Amz-Expires=60", "X-Amz-Expires=61");
        assert!(verify_url(&tampered, "controller", &secrets(), now).is_err());
        let other_host = BOTOCORE_URL.replace("sts.us-east-1.amazonaws.com", "evil.example.com");
        assert!(verify_url(&other_host, "controller", &secrets(), now).is_err());
        assert!(verify_token("k8s-aws-v1.!!!", "controller", &secrets(), now).is_err());
        assert!(verify_token("Bearer-ish", "controller", &secrets(), now).is_err());
    }

    #[test]
    fn star_secret_applies_to_every_access_key() {
        let star: HashMap<_, _> =
            [("*".to_string(), "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string())].into_iter().collect();
        assert!(verify_url(BOTOCORE_URL, "controller", &star, signed_at() + 60).is_ok());
        let mut exact = star.clone();
        exact.insert("AKIDEXAMPLE".into(), "other".into());
        assert!(verify_url(BOTOCORE_URL, "controller", &exact, signed_at() + 60).is_err(), "an exact key wins over *");
    }

    #[test]
    fn signing_key_matches_aws_documentation_example() {
        // AWS SigV4 docs: secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
        let k = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
        assert_eq!(hex(&k), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }
}
