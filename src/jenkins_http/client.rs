//! The HTTP client for Jenkins: one connection pool per provider process, basic auth with the API
//! token (Jenkins exempts API-token requests from CSRF crumbs), a bounded time per call, and retries
//! of connection failures and 502/503/504 (a controller restarting behind its ingress). `check` and
//! `export` change nothing, so repeating them is safe.
//!
//! The token lives only in a sensitive header value: it is never formatted into an error or a log.

use super::endpoints::{self, CheckMessage, Refusal};
use crate::provider::config::JenkinsApi;
use base64::Engine;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Why a call got no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("Jenkins at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Jenkins at {url} did not answer {path} within {seconds} seconds")]
    TimedOut { url: String, path: String, seconds: u64 },
}

/// An answer: the status and the body as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// A client for one controller.
pub struct JenkinsClient {
    base: String,
    auth: HeaderValue,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// The time one attempt may take.
    pub timeout: Duration,
    /// Attempts per call (connection failures and 502/503/504 are retried).
    pub attempts: u32,
    /// The first pause between attempts; it doubles.
    pub backoff: Duration,
}

fn connector() -> HttpsConnector<HttpConnector> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let with_roots = match builder.with_provider_and_native_roots(provider.clone()) {
        Ok(b) => b,
        // No system roots: https then fails with an unknown issuer, plain http still works.
        Err(_) => {
            let config = rustls::ClientConfig::builder_with_provider(provider.into())
                .with_safe_default_protocol_versions()
                .expect("the default provider supports the default versions")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    with_roots.https_or_http().enable_http1().build()
}

impl JenkinsClient {
    /// A client for `api`; fails on a URL that is not `http(s)://host[:port][/prefix]`.
    pub fn new(api: &JenkinsApi) -> Result<Self, String> {
        let base = api.url.trim_end_matches('/').to_string();
        let uri: http::Uri = base.parse().map_err(|_| format!("`jenkins.url` {base:?} is not a URL"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(format!("`jenkins.url` {base:?} must be http:// or https:// with a host"));
        }
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(
                "`jenkins.url` must not carry credentials; use `jenkins.username` and `jenkins.api_token`".into()
            );
        }
        let pair = format!("{}:{}", api.username, api.api_token);
        let mut auth =
            HeaderValue::from_str(&format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
                .map_err(|_| "`jenkins.username` holds characters HTTP headers cannot carry".to_string())?;
        auth.set_sensitive(true);
        Ok(JenkinsClient {
            base,
            auth,
            http: Client::builder(TokioExecutor::new()).build(connector()),
            timeout: Duration::from_secs(30),
            attempts: 3,
            backoff: Duration::from_millis(500),
        })
    }

    /// The controller's URL, for messages.
    pub fn url(&self) -> &str {
        &self.base
    }

    async fn once(&self, path: &str, body: &Option<String>) -> Result<Answer, CallError> {
        let mut req = http::Request::post(format!("{}{path}", self.base)).header(AUTHORIZATION, self.auth.clone());
        if body.is_some() {
            req = req.header(CONTENT_TYPE, "application/x-yaml");
        }
        let req = req
            .body(Full::new(Bytes::from(body.clone().unwrap_or_default())))
            .map_err(|e| CallError::Unreachable { url: self.base.clone(), reason: e.to_string() })?;
        let timed_out =
            || CallError::TimedOut { url: self.base.clone(), path: path.to_string(), seconds: self.timeout.as_secs() };
        let call = async {
            let resp = self.http.request(req).await.map_err(|e| CallError::Unreachable {
                url: self.base.clone(),
                reason: std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_else(|| e.to_string()),
            })?;
            let status = resp.status().as_u16();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| CallError::Unreachable { url: self.base.clone(), reason: e.to_string() })?
                .to_bytes();
            Ok(Answer { status, body: String::from_utf8_lossy(&bytes).into_owned() })
        };
        tokio::time::timeout(self.timeout, call).await.map_err(|_| timed_out())?
    }

    /// POSTs `body` (YAML) to `path`, retrying failures to connect and 502/503/504.
    pub async fn post(&self, path: &str, body: Option<String>) -> Result<Answer, CallError> {
        let mut pause = self.backoff;
        let mut attempt = 1;
        loop {
            let result = self.once(path, &body).await;
            let retry = match &result {
                Ok(a) => matches!(a.status, 502..=504),
                Err(_) => true,
            };
            if !retry || attempt >= self.attempts {
                return result;
            }
            attempt += 1;
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }

    /// Asks Jenkins whether it accepts `yaml`; the complaints, empty when it does.
    pub async fn check(&self, yaml: &str) -> Result<Result<Vec<CheckMessage>, Refusal>, CallError> {
        let a = self.post(endpoints::CHECK, Some(yaml.to_string())).await?;
        Ok(endpoints::parse_check(a.status, &a.body))
    }

    /// Has Jenkins re-read its sources: `None` when they applied, else Jenkins' error.
    pub async fn reload(&self) -> Result<Result<Option<String>, Refusal>, CallError> {
        let a = self.post(endpoints::RELOAD, None).await?;
        Ok(endpoints::parse_reload(a.status, &a.body))
    }

    /// The configuration Jenkins runs, as YAML.
    pub async fn export(&self) -> Result<Result<String, Refusal>, CallError> {
        let a = self.post(endpoints::EXPORT, None).await?;
        Ok(endpoints::parse_export(a.status, &a.body))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// One request as the in-test server saw it.
    #[derive(Clone, Debug)]
    pub struct Seen {
        pub method: String,
        pub path: String,
        pub authorization: Option<String>,
        pub body: String,
    }

    /// A minimal HTTP/1.1 server answering each request with `answer(request)`.
    pub struct TestServer {
        pub url: String,
        pub seen: Arc<Mutex<Vec<Seen>>>,
    }

    async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Seen> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            let n = sock.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.lines();
        let mut first = lines.next()?.split(' ');
        let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
        let header = |name: &str| {
            head.lines().find_map(|l| {
                l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string())
            })
        };
        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buf.len() < head_end + length {
            let n = sock.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
        Some(Seen { method, path, authorization: header("authorization"), body })
    }

    impl TestServer {
        pub async fn start(answer: impl Fn(&Seen, usize) -> (u16, String) + Send + Sync + 'static) -> TestServer {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let seen = Arc::new(Mutex::new(Vec::new()));
            let (log, answer) = (seen.clone(), Arc::new(answer));
            tokio::spawn(async move {
                while let Ok((mut sock, _)) = listener.accept().await {
                    let (log, answer) = (log.clone(), answer.clone());
                    tokio::spawn(async move {
                        while let Some(req) = read_request(&mut sock).await {
                            let n = {
                                let mut l = log.lock().unwrap();
                                l.push(req.clone());
                                l.len()
                            };
                            let (status, body) = answer(&req, n);
                            let resp = format!(
                                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\ncontent-type: text/plain\r\n\r\n{body}",
                                body.len()
                            );
                            if sock.write_all(resp.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            });
            TestServer { url, seen }
        }
    }

    pub fn api(url: &str) -> JenkinsApi {
        JenkinsApi { url: url.to_string(), username: "tf".into(), api_token: "tok-123".into() }
    }

    #[tokio::test]
    async fn check_posts_the_document_with_basic_auth() {
        let server = TestServer::start(|req, _| {
            if req.body.contains("bad") {
                (200, r#"[{"line": 3, "message": "unknown attribute bad"}]"#.into())
            } else {
                (200, "[]".into())
            }
        })
        .await;
        let client = JenkinsClient::new(&api(&format!("{}/", server.url))).unwrap();
        assert_eq!(client.check("jenkins: {}\n").await.unwrap(), Ok(Vec::new()));
        let msgs = client.check("bad: 1\n").await.unwrap().unwrap();
        assert_eq!(msgs, vec![CheckMessage { line: 3, message: "unknown attribute bad".into() }]);
        let seen = server.seen.lock().unwrap().clone();
        assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", endpoints::CHECK));
        assert_eq!(seen[0].body, "jenkins: {}\n");
        // base64("tf:tok-123")
        assert_eq!(seen[0].authorization.as_deref(), Some("Basic dGY6dG9rLTEyMw=="));
    }

    #[tokio::test]
    async fn unavailable_answers_are_retried_then_reported() {
        let server =
            TestServer::start(|_, n| if n < 3 { (503, "starting".into()) } else { (200, "jenkins: {}\n".into()) })
                .await;
        let mut client = JenkinsClient::new(&api(&server.url)).unwrap();
        client.backoff = Duration::from_millis(1);
        assert_eq!(client.export().await.unwrap(), Ok("jenkins: {}\n".to_string()));
        assert_eq!(server.seen.lock().unwrap().len(), 3);
        client.attempts = 2;
        let forbidden = TestServer::start(|_, _| (403, "no".into())).await;
        let client403 = JenkinsClient::new(&api(&forbidden.url)).unwrap();
        assert_eq!(client403.export().await.unwrap(), Err(Refusal::Forbidden));
        assert_eq!(forbidden.seen.lock().unwrap().len(), 1, "a refusal is not retried");
    }

    #[tokio::test]
    async fn an_unreachable_controller_is_an_error_without_the_token() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut client = JenkinsClient::new(&api(&format!("http://127.0.0.1:{port}"))).unwrap();
        client.backoff = Duration::from_millis(1);
        let err = client.export().await.unwrap_err();
        assert!(matches!(err, CallError::Unreachable { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")) && !text.contains("tok-123"), "{text}");
    }

    #[test]
    fn urls_with_credentials_or_other_schemes_are_refused() {
        assert!(JenkinsClient::new(&api("ftp://jenkins")).is_err());
        let e = JenkinsClient::new(&api("http://u:p@jenkins")).err().unwrap();
        assert!(e.contains("must not carry credentials") && !e.contains("u:p"), "{e}");
    }
}
