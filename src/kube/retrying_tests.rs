//! The retry layer against a small scripted HTTP server on the loopback: each connection gets the
//! next scripted answer (or is dropped unanswered), and the server records what it was asked.

use super::*;
use crate::kube::connect::{client_with_policy, direct_config};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One scripted answer.
#[derive(Clone)]
enum Answer {
    Status { code: u16, retry_after: Option<u32> },
    Drop,
}

/// What the server saw: `METHOD path` per request, in order.
type Seen = Arc<Mutex<Vec<String>>>;

/// A short budget so the tests do not wait for the provider's.
const FAST: Backoff = Backoff {
    first: Duration::from_millis(1),
    factor: 2,
    max_delay: Duration::from_millis(5),
    max_attempts: 5,
    budget: Duration::from_secs(5),
};

const CONFIG_MAP: &str =
    r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cloud","namespace":"jenkins"},"data":{"k":"v"}}"#;

/// Serves `script` in order, then 200 with a ConfigMap for every further request.
async fn serve(script: Vec<Answer>) -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        let mut script = script.into_iter();
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let Some(request_line) = read_request(&mut socket).await else { continue };
            log.lock().unwrap().push(request_line);
            let answer = script.next().unwrap_or(Answer::Status { code: 200, retry_after: None });
            let (code, retry_after) = match answer {
                Answer::Drop => continue,
                Answer::Status { code, retry_after } => (code, retry_after),
            };
            let body = if code < 300 {
                CONFIG_MAP.to_string()
            } else {
                format!(
                    r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","message":"scripted {code}","reason":"InternalError","code":{code}}}"#
                )
            };
            let extra = retry_after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
            let head = format!(
                "HTTP/1.1 {code} Scripted\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (url, seen)
}

/// Reads one request (headers and a `Content-Length` body); returns `METHOD path`.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut parts = head.lines().next()?.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.split('?').next()?.to_string();
    Some(format!("{method} {path}"))
}

fn config_maps(url: &str) -> Api<ConfigMap> {
    let client = client_with_policy(direct_config(url, None, None, false).unwrap(), FAST).unwrap();
    Api::namespaced(client, "jenkins")
}

fn desired() -> ConfigMap {
    serde_json::from_str(CONFIG_MAP).unwrap()
}

const PATH: &str = "/api/v1/namespaces/jenkins/configmaps/cloud";

#[tokio::test]
async fn a_read_throttled_with_retry_after_then_answered_succeeds() {
    let (url, seen) = serve(vec![Answer::Status { code: 429, retry_after: Some(1) }]).await;
    let cm = config_maps(&url).get("cloud").await.expect("the read succeeds after the 429");
    assert_eq!(cm.data.unwrap()["k"], "v");
    assert_eq!(*seen.lock().unwrap(), vec![format!("GET {PATH}"), format!("GET {PATH}")]);
}

#[tokio::test]
async fn an_apply_answered_500_then_200_succeeds() {
    let (url, seen) = serve(vec![Answer::Status { code: 500, retry_after: None }]).await;
    let params = PatchParams::apply("terraform-provider-jenkins").force();
    config_maps(&url).patch("cloud", &params, &Patch::Apply(&desired())).await.expect("the apply is repeated");
    assert_eq!(*seen.lock().unwrap(), vec![format!("PATCH {PATH}"), format!("PATCH {PATH}")]);
}

#[tokio::test]
async fn a_dropped_connection_on_a_delete_is_retried() {
    let (url, seen) = serve(vec![Answer::Drop]).await;
    config_maps(&url).delete("cloud", &Default::default()).await.expect("the delete is repeated");
    assert_eq!(*seen.lock().unwrap(), vec![format!("DELETE {PATH}"), format!("DELETE {PATH}")]);
}

#[tokio::test]
async fn a_create_answered_500_is_not_repeated() {
    let (url, seen) = serve(vec![Answer::Status { code: 500, retry_after: None }]).await;
    let err = config_maps(&url).create(&PostParams::default(), &desired()).await.expect_err("the 500 stands");
    assert!(matches!(&err, kube::Error::Api(s) if s.code == 500), "{err:?}");
    assert_eq!(*seen.lock().unwrap(), vec!["POST /api/v1/namespaces/jenkins/configmaps".to_string()]);
}

#[tokio::test]
async fn a_read_failing_past_the_budget_names_verb_path_status_and_retries() {
    let script = vec![Answer::Status { code: 503, retry_after: None }; 10];
    let (url, seen) = serve(script).await;
    let err = config_maps(&url).get("cloud").await.expect_err("the budget runs out");
    assert_eq!(seen.lock().unwrap().len(), FAST.max_attempts as usize);
    let (summary, detail) = crate::kube::errors::describe("read ConfigMap jenkins/cloud", &err);
    assert_eq!(summary, "Kubernetes API Error");
    assert!(detail.contains("Could not read ConfigMap jenkins/cloud"), "{detail}");
    assert!(detail.contains(&format!("get {PATH} still answered HTTP 503 after it was retried 4 times")), "{detail}");
    assert!(detail.contains("scripted 503"), "{detail}");
}

#[tokio::test]
async fn a_cluster_that_refuses_connections_is_named_after_the_budget() {
    // A port that was just free: nothing listens there any more.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = config_maps(&url).get("cloud").await.expect_err("nothing answers");
    let (summary, detail) = crate::kube::errors::describe("read ConfigMap jenkins/cloud", &err);
    assert_eq!(summary, "Kubernetes Connection Error");
    assert!(detail.contains(&format!("get {PATH} still failed to connect after it was retried 4 times")), "{detail}");
    assert!(detail.to_ascii_lowercase().contains("refused"), "the cause is named: {detail}");
}
