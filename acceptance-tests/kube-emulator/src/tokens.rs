//! Service-account tokens: JWT-shaped strings (header.claims.random-signature) whose claims follow the
//! real issuer's layout. They are authenticated by lookup in the cluster's registry, not by signature,
//! so deleting the bound Secret or the service account revokes them. Pure minting and checks.

use base64::Engine;
use serde_json::{Value, json};

/// What a registered token stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    /// Service account namespace.
    pub namespace: String,
    /// Service account name.
    pub service_account: String,
    /// Service account uid at issue time.
    pub service_account_uid: String,
    /// Bound Secret (name, uid) for token-controller tokens.
    pub secret: Option<(String, String)>,
    /// Expiry (epoch seconds) for TokenRequest tokens.
    pub expires_at: Option<i64>,
}

fn random_b64url(bytes: usize) -> String {
    let mut raw = Vec::with_capacity(bytes + 16);
    while raw.len() < bytes {
        raw.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    raw.truncate(bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// A random opaque string (hex), for admin tokens and the like.
pub fn random_hex(bytes: usize) -> String {
    let mut out = String::new();
    while out.len() < bytes * 2 {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(bytes * 2);
    out
}

/// The claims a token carries.
pub fn claims(issuer: &str, info: &TokenInfo, now: i64, audiences: &[String]) -> Value {
    let mut k8s = json!({
        "namespace": info.namespace,
        "serviceaccount": {"name": info.service_account, "uid": info.service_account_uid},
    });
    if let Some((name, uid)) = &info.secret {
        k8s["secret"] = json!({"name": name, "uid": uid});
    }
    let mut c = json!({
        "iss": issuer,
        "sub": format!("system:serviceaccount:{}:{}", info.namespace, info.service_account),
        "iat": now,
        "nbf": now,
        "kubernetes.io": k8s,
    });
    if !audiences.is_empty() {
        c["aud"] = json!(audiences);
    }
    if let Some(exp) = info.expires_at {
        c["exp"] = json!(exp);
    }
    c
}

/// Mints a JWT-shaped token for the claims.
pub fn mint(claims: &Value) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let header = json!({"alg": "RS256", "kid": "kube-emulator"});
    format!("{}.{}.{}", b64(&header), b64(claims), random_b64url(64))
}

/// Whether a registered token is still valid, given the live service account and secret uids.
pub fn still_valid(info: &TokenInfo, now: i64, sa_uid: Option<&str>, secret_uid: Option<&str>) -> bool {
    let sa_ok = sa_uid == Some(info.service_account_uid.as_str());
    let secret_ok = match &info.secret {
        Some((_, uid)) => secret_uid == Some(uid.as_str()),
        None => true,
    };
    let fresh = info.expires_at.is_none_or(|exp| now < exp);
    sa_ok && secret_ok && fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_carry_claims_and_revoke() {
        let info = TokenInfo {
            namespace: "ci".into(),
            service_account: "jenkins".into(),
            service_account_uid: "u1".into(),
            secret: Some(("jenkins-token".into(), "s1".into())),
            expires_at: None,
        };
        let token = mint(&claims("https://kube-emulator.local/controller", &info, 100, &[]));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let payload: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap())
                .unwrap();
        assert_eq!(payload["sub"], "system:serviceaccount:ci:jenkins");
        assert!(still_valid(&info, 200, Some("u1"), Some("s1")));
        assert!(!still_valid(&info, 200, Some("u2"), Some("s1")));
        assert!(!still_valid(&info, 200, Some("u1"), None));
        let expiring = TokenInfo { secret: None, expires_at: Some(150), ..info };
        assert!(still_valid(&expiring, 149, Some("u1"), None));
        assert!(!still_valid(&expiring, 150, Some("u1"), None));
    }
}
