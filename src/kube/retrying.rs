//! The tower layer that applies [`super::retry`] to every request of a Kubernetes client the
//! provider builds (see [`super::connect`]). It sits outside kube's own stack, so each attempt
//! gets fresh authentication and tracing; kube's built-in retry (which would also repeat a
//! create) is switched off, so there is one budget, this one.
//!
//! When the budget runs out on a transient answer the call fails with [`Exhausted`] (method,
//! path, attempts, last status and the server's message), which [`super::errors`] turns into a
//! diagnostic. Nothing from headers or bodies other than that message is kept.

use super::retry::{self, Decision, Exhausted, Outcome, Verb};
use crate::iam::Backoff;
use bytes::Bytes;
use http::{Request, Response};
use kube::client::Body;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{BoxError, Layer, Service, ServiceExt};

/// Retries transient failures of idempotent requests under `policy`.
#[derive(Debug, Clone, Copy)]
pub struct RetryLayer {
    policy: Backoff,
}

impl RetryLayer {
    /// A layer with the given budget; the provider uses [`retry::KUBE_BACKOFF`].
    pub fn new(policy: Backoff) -> Self {
        RetryLayer { policy }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retrying<S>;

    fn layer(&self, inner: S) -> Retrying<S> {
        Retrying { inner: Arc::new(tokio::sync::Mutex::new(inner)), policy: self.policy }
    }
}

/// The service [`RetryLayer`] makes. The inner service is shared behind a lock that is held only
/// while a request is handed over, never while it is answered.
pub struct Retrying<S> {
    inner: Arc<tokio::sync::Mutex<S>>,
    policy: Backoff,
}

impl<S> Clone for Retrying<S> {
    fn clone(&self) -> Self {
        Retrying { inner: self.inner.clone(), policy: self.policy }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<Body>> for Retrying<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Response<B>, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness of the inner service is awaited per attempt, under the lock.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        let policy = self.policy;
        Box::pin(async move { send_with_retries(inner, policy, request).await })
    }
}

async fn send_once<S, B>(inner: &tokio::sync::Mutex<S>, request: Request<Body>) -> Result<Response<B>, BoxError>
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Error: Into<BoxError>,
{
    let future = {
        let mut service = inner.lock().await;
        service.ready().await.map_err(Into::into)?.call(request)
    };
    future.await.map_err(Into::into)
}

async fn send_with_retries<S, B>(
    inner: Arc<tokio::sync::Mutex<S>>,
    policy: Backoff,
    request: Request<Body>,
) -> Result<Response<B>, BoxError>
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let verb = verb_of(verb_parts(&request)).await;
    let path = request.uri().path().to_string();
    let mut retries = 0u32;
    // The budget counts all the time spent, attempts included, not only the sleeps.
    let started = tokio::time::Instant::now();
    loop {
        // A body that cannot be copied (a stream) is sent once, whatever happens.
        let Some(copy) = try_clone(&request) else {
            return send_once(&inner, request).await;
        };
        let result = send_once(&inner, copy).await;
        let (outcome, retry_after) = match &result {
            Ok(response) => (Outcome::Status(response.status().as_u16()), retry_after(response)),
            Err(e) => (classify_error(e.as_ref()), None),
        };
        match retry::decide(&policy, verb, outcome, retry_after, retries, started.elapsed(), jitter()) {
            Decision::Done => return result,
            Decision::Retry(delay) => {
                note_retry(verb, &path, outcome, retries);
                tokio::time::sleep(delay).await;
                retries += 1;
            }
            Decision::Exhausted => {
                let (last_status, last_message) = match result {
                    Ok(response) => {
                        let status = response.status();
                        (Some(status.as_u16()), status_message(response).await)
                    }
                    Err(e) => (None, error_chain(e.as_ref())),
                };
                return Err(Box::new(Exhausted {
                    verb: verb.word(),
                    path,
                    attempts: retries + 1,
                    last_status,
                    last_message,
                }));
            }
        }
    }
}

/// The verb of a request; a PUT's body is read (from a copy) for `metadata.resourceVersion`.
/// Takes owned parts (see [`verb_parts`]) so that no borrow of the request is held across the read.
async fn verb_of(parts: (String, Option<String>, Option<Body>)) -> Verb {
    let (method, content_type, put_body) = parts;
    let put_has_rv = match put_body {
        Some(body) => match body.collect_bytes().await {
            Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes).ok().is_some_and(|v| {
                v.pointer("/metadata/resourceVersion").and_then(|r| r.as_str()).is_some_and(|r| !r.is_empty())
            }),
            Err(_) => false,
        },
        None => false,
    };
    Verb::of(&method, content_type.as_deref(), put_has_rv)
}

/// What [`verb_of`] needs: the method, the `Content-Type`, and for a PUT a copy of the body.
fn verb_parts(request: &Request<Body>) -> (String, Option<String>, Option<Body>) {
    let method = request.method().as_str().to_string();
    let content_type =
        request.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let put_body = if method == "PUT" { request.body().try_clone() } else { None };
    (method, content_type, put_body)
}

/// A copy of the request for one attempt, or `None` for a streamed body.
pub(crate) fn try_clone(request: &Request<Body>) -> Option<Request<Body>> {
    let body = request.body().try_clone()?;
    let mut copy = Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

fn retry_after<B>(response: &Response<B>) -> Option<Duration> {
    response.headers().get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry::parse_retry_after)
}

/// Connection refused, reset, closed early or timed out is [`Outcome::Transport`]; anything else
/// (TLS, credentials, a bad request) is final.
fn classify_error(err: &(dyn std::error::Error + 'static)) -> Outcome {
    use std::io::ErrorKind as K;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                K::ConnectionRefused
                    | K::ConnectionReset
                    | K::ConnectionAborted
                    | K::BrokenPipe
                    | K::TimedOut
                    | K::UnexpectedEof
                    | K::NotConnected
            )
        {
            return Outcome::Transport;
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_closed() || h.is_timeout())
        {
            return Outcome::Transport;
        }
        cause = e.source();
    }
    Outcome::Fatal
}

/// An error and its causes on one line (hyper's own text is only "client error (Connect)").
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = e.source();
    }
    text
}

/// The `message` of the API's Status body, or the status's reason phrase.
async fn status_message<B>(response: Response<B>) -> String
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    use http_body_util::BodyExt;
    let status = response.status();
    let fallback = status.canonical_reason().unwrap_or("no message").to_string();
    let Ok(collected) = response.into_body().collect().await else { return fallback };
    serde_json::from_slice::<serde_json::Value>(&collected.to_bytes())
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .filter(|m| !m.is_empty())
        .unwrap_or(fallback)
}

/// Jitter in `[0, 1]` without a random-number crate: the clock's sub-second nanoseconds (as the
/// IAM retry loop does).
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos());
    f64::from(nanos.unwrap_or(0) % 1000) / 1000.0
}

/// One debug log line per retry: verb, path and status, never a header or body.
fn note_retry(verb: Verb, path: &str, outcome: Outcome, retries: u32) {
    let status = match outcome {
        Outcome::Status(s) => s.to_string(),
        Outcome::Transport => "connection failed".to_string(),
        Outcome::Fatal => "failed".to_string(),
    };
    let retry = (retries + 1).to_string();
    crate::plugin::log::debug(
        "retrying Kubernetes request",
        &[("verb", verb.word()), ("path", path), ("status", &status), ("retry", &retry)],
    );
}

#[cfg(test)]
#[path = "retrying_tests.rs"]
mod tests;
