//! Bounded waits for what a controller fills in after we write: a service-account token Secret's
//! `data.token`. A timeout names the namespace's last warning events, since that is where a real
//! cluster says why (a missing service account, an admission webhook). Token values never reach a
//! message.

use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, ListParams};
use std::time::{Duration, Instant};

/// How many warning events a timeout message shows.
const LAST_WARNINGS: usize = 3;

/// Why no token arrived.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The controller did not fill the Secret in time.
    #[error(
        "Secret {namespace}/{name} still holds no token after {seconds} s; the cluster's token controller did not fill it.{warnings}"
    )]
    Timeout { namespace: String, name: String, seconds: u64, warnings: String },
    /// The Secret disappeared while waiting (its service account is missing, so the controller deleted it).
    #[error(
        "Secret {namespace}/{name} was deleted while waiting for its token; its service account probably does not exist.{warnings}"
    )]
    Gone { namespace: String, name: String, warnings: String },
    /// The API refused a read.
    #[error(transparent)]
    Api(#[from] kube::Error),
}

/// The token of a `kubernetes.io/service-account-token` Secret, once the token controller wrote it.
pub async fn service_account_token(
    secrets: &Api<Secret>,
    events: &Api<Event>,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<String, WaitError> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        match secrets.get_opt(name).await? {
            Some(s) => {
                if let Some(token) = token_of(&s) {
                    return Ok(token);
                }
            }
            None => {
                let warnings = last_warnings(events).await;
                return Err(WaitError::Gone { namespace: namespace.into(), name: name.into(), warnings });
            }
        }
        if start.elapsed() >= timeout {
            let warnings = last_warnings(events).await;
            return Err(WaitError::Timeout {
                namespace: namespace.into(),
                name: name.into(),
                seconds: timeout.as_secs(),
                warnings,
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// The bearer token a service-account token Secret holds, if the controller filled it.
pub fn token_of(secret: &Secret) -> Option<String> {
    let bytes = secret.data.as_ref()?.get("token")?;
    let token = String::from_utf8(bytes.0.clone()).ok()?;
    (!token.is_empty()).then_some(token)
}

/// The namespace's last warning events as message lines (empty when there are none or they cannot be read).
async fn last_warnings(events: &Api<Event>) -> String {
    let Ok(list) = events.list(&ListParams::default().fields("type=Warning")).await else { return String::new() };
    let mut items: Vec<Event> = list.items.into_iter().filter(|e| e.type_.as_deref() == Some("Warning")).collect();
    items.sort_by_key(|e| e.last_timestamp.clone().map(|t| t.0).or(e.event_time.clone().map(|t| t.0)));
    let lines: Vec<String> = items
        .iter()
        .rev()
        .take(LAST_WARNINGS)
        .map(|e| {
            let object = format!(
                "{}/{}",
                e.involved_object.kind.clone().unwrap_or_default(),
                e.involved_object.name.clone().unwrap_or_default()
            );
            format!("\n- {} {object}: {}", e.reason.clone().unwrap_or_default(), e.message.clone().unwrap_or_default())
        })
        .collect();
    if lines.is_empty() { String::new() } else { format!(" Last warning events in the namespace:{}", lines.concat()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    /// A fake API server: the Secret as `secret(reads so far)` returns it (`None` is a 404), and
    /// one warning event in the namespace.
    fn fake_api(secret: impl Fn(usize) -> Option<serde_json::Value> + Send + Sync + 'static) -> kube::Client {
        let reads = Arc::new(Mutex::new(0usize));
        let secret = Arc::new(secret);
        let service = tower::service_fn(move |req: http::Request<kube::client::Body>| {
            let (reads, secret) = (reads.clone(), secret.clone());
            async move {
                let path = req.uri().path().to_string();
                let (status, body) = if path.ends_with("/events") {
                    let event = serde_json::json!({
                        "metadata": {"name": "e1", "namespace": "ns"},
                        "type": "Warning",
                        "reason": "FailedCreate",
                        "message": "admission webhook denied the request",
                        "involvedObject": {"kind": "Secret", "name": "sa-token"},
                        "lastTimestamp": "2026-11-23T10:00:00Z"
                    });
                    (
                        200,
                        serde_json::json!({"apiVersion": "v1", "kind": "EventList", "metadata": {}, "items": [event]}),
                    )
                } else {
                    let n = {
                        let mut r = reads.lock().expect("reads");
                        *r += 1;
                        *r
                    };
                    match secret(n) {
                        Some(s) => (200, s),
                        None => (
                            404,
                            serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": "secrets \"sa-token\" not found"}),
                        ),
                    }
                };
                let response = http::Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(kube::client::Body::from(serde_json::to_vec(&body).expect("JSON")))
                    .expect("response");
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        kube::Client::new(service, "ns")
    }

    fn secret_json(token: Option<&str>) -> serde_json::Value {
        let mut s = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "sa-token", "namespace": "ns"},
            "type": "kubernetes.io/service-account-token"
        });
        if let Some(t) = token {
            s["data"] =
                serde_json::json!({"token": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, t)});
        }
        s
    }

    async fn wait(client: kube::Client, timeout: Duration) -> Result<String, WaitError> {
        let secrets: Api<Secret> = Api::namespaced(client.clone(), "ns");
        let events: Api<Event> = Api::namespaced(client, "ns");
        service_account_token(&secrets, &events, "ns", "sa-token", timeout).await
    }

    #[tokio::test]
    async fn returns_the_token_once_the_controller_fills_it() {
        let client = fake_api(|n| Some(secret_json((n >= 3).then_some("the-token"))));
        assert_eq!(wait(client, Duration::from_secs(30)).await.expect("token"), "the-token");
    }

    /// The timeout names the Secret and the namespace's warning events, never a token.
    #[tokio::test]
    async fn a_timeout_names_the_secret_and_the_warning_events() {
        let client = fake_api(|_| Some(secret_json(None)));
        let err = wait(client, Duration::from_millis(250)).await.expect_err("times out");
        assert!(matches!(err, WaitError::Timeout { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.starts_with("Secret ns/sa-token still holds no token after 0 s"), "{text}");
        assert!(text.ends_with("\n- FailedCreate Secret/sa-token: admission webhook denied the request"), "{text}");
    }

    /// A Secret deleted while waiting (the controller removes tokens of missing service accounts).
    #[tokio::test]
    async fn a_deleted_secret_stops_the_wait() {
        let client = fake_api(|n| (n == 1).then(|| secret_json(None)));
        let err = wait(client, Duration::from_secs(30)).await.expect_err("gone");
        assert!(matches!(err, WaitError::Gone { .. }), "{err:?}");
        assert!(err.to_string().contains("probably does not exist. Last warning events"), "{err}");
    }

    #[test]
    fn token_only_once_filled() {
        let mut s = Secret::default();
        assert_eq!(token_of(&s), None);
        s.data = Some(BTreeMap::from([("token".to_string(), ByteString(Vec::new()))]));
        assert_eq!(token_of(&s), None);
        s.data = Some(BTreeMap::from([("token".to_string(), ByteString(b"abc".to_vec()))]));
        assert_eq!(token_of(&s).as_deref(), Some("abc"));
    }
}
