//! EKS bearer tokens, signed in-process: no AWS CLI, no exec plugin.
//!
//! A token is `k8s-aws-v1.` followed by the unpadded base64url of a presigned
//! `sts:GetCallerIdentity` URL whose signature covers the `x-k8s-aws-id` header set to the cluster
//! name. EKS accepts it for 15 minutes from its signing time, so callers re-sign well before that.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use base64::Engine;
use std::time::{Duration, SystemTime};

/// How long EKS accepts a token after it was signed.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Re-sign when a token is older than this, so a request never carries one about to expire.
pub const REFRESH_AFTER: Duration = Duration::from_secs(10 * 60);

/// The header EKS's authenticator checks against the cluster name.
const CLUSTER_HEADER: &str = "x-k8s-aws-id";

/// A signed token and when it was signed.
#[derive(Clone)]
pub struct EksToken {
    /// The bearer token. Secret: never log it.
    pub token: String,
    /// The signing time; the token is good for [`TOKEN_LIFETIME`] from here.
    pub signed_at: SystemTime,
}

impl std::fmt::Debug for EksToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EksToken").field("token", &"(sensitive)").field("signed_at", &self.signed_at).finish()
    }
}

impl EksToken {
    /// True when the token should be replaced before its next use.
    pub fn is_stale(&self, now: SystemTime) -> bool {
        now.duration_since(self.signed_at).map(|age| age >= REFRESH_AFTER).unwrap_or(true)
    }
}

/// Why a token could not be signed (a library error; the message names no secret).
#[derive(Debug, thiserror::Error)]
#[error("could not sign an EKS token for cluster {cluster:?}: {reason}")]
pub struct TokenError {
    cluster: String,
    reason: String,
}

/// Signs a token for `cluster` in `region` with `credentials` at `now`.
pub fn sign_token(
    cluster: &str,
    region: &str,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<EksToken, TokenError> {
    let fail = |reason: String| TokenError { cluster: cluster.to_string(), reason };
    let url = format!("https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15");
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| fail(e.to_string()))?
        .into();
    let headers = [(CLUSTER_HEADER, cluster)];
    let request = SignableRequest::new("GET", &url, headers.into_iter(), SignableBody::Bytes(&[]))
        .map_err(|e| fail(e.to_string()))?;
    let (instructions, _signature) = sign(request, &params).map_err(|e| fail(e.to_string()))?.into_parts();
    let mut http_request =
        http::Request::builder().uri(&url).header(CLUSTER_HEADER, cluster).body(()).map_err(|e| fail(e.to_string()))?;
    instructions.apply_to_request_http1x(&mut http_request);
    let presigned = http_request.uri().to_string();
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(presigned.as_bytes());
    Ok(EksToken { token: format!("k8s-aws-v1.{encoded}"), signed_at: now })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn decode(token: &str) -> String {
        let body = token.strip_prefix("k8s-aws-v1.").expect("prefix");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).expect("base64url");
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn token_is_a_presigned_get_caller_identity_url_covering_the_cluster_header() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let t = sign_token("ci", "us-east-1", &creds, at).expect("sign");
        assert!(!t.token.contains('='), "unpadded");
        let url = decode(&t.token);
        assert!(url.starts_with("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"));
        assert!(url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"), "{url}");
        assert!(url.contains("X-Amz-Credential=AKIDEXAMPLE%2F"), "{url}");
        assert!(url.contains("X-Amz-Expires=60"), "{url}");
        assert!(!url.contains("secret"), "the secret key never appears");
        // Deterministic for the same inputs and time; a different cluster signs differently.
        assert_eq!(t.token, sign_token("ci", "us-east-1", &creds, at).expect("sign").token);
        assert_ne!(t.token, sign_token("other", "us-east-1", &creds, at).expect("sign").token);
    }

    #[test]
    fn session_credentials_carry_the_security_token() {
        let creds = Credentials::new("ASIA1", "s", Some("session-token".into()), None, "test");
        let url = decode(&sign_token("ci", "eu-west-1", &creds, SystemTime::now()).expect("sign").token);
        assert!(url.contains("X-Amz-Security-Token=session-token"), "{url}");
    }

    #[test]
    fn staleness_follows_the_refresh_window() {
        let now = SystemTime::now();
        let t = EksToken { token: String::new(), signed_at: now - Duration::from_secs(60) };
        assert!(!t.is_stale(now));
        assert!(t.is_stale(now + REFRESH_AFTER));
        assert!(!format!("{t:?}").contains("k8s-aws"));
    }
}
