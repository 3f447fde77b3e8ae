//! Bearer authentication for EKS clusters, per request: the token is signed in-process
//! ([`crate::aws::eks_token`]), re-signed when the provider's clock says it is due, and re-signed
//! once more when the API server answers 401 anyway.
//!
//! Why the 401 rule: EKS accepts a token for 15 minutes by *its* clock, and answers an expired one
//! with a bare 401 `Unauthorized` (no reason). A client whose judgement of the token's age is off
//! (a suspended laptop, a skewed clock, a request held for minutes) only learns it from that 401;
//! client-go's exec credential plugin refreshes its credential on a 401 for the same reason
//! (kubernetes-sigs/aws-iam-authenticator issue 133). Once per request, so a real permission
//! problem still fails fast.

use super::retrying::try_clone;
use crate::aws::AwsContext;
use crate::aws::eks_token::{self, EksToken};
use http::{HeaderValue, Request, Response, StatusCode};
use kube::client::Body;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;
use tower::{BoxError, Layer, Service, ServiceExt};

/// Signs and caches the token of one EKS cluster. Never logs it.
pub struct TokenSource {
    aws: Arc<AwsContext>,
    cluster: String,
    current: tokio::sync::Mutex<Option<EksToken>>,
}

impl TokenSource {
    /// A source for `cluster` in the region and with the credentials of `aws`.
    pub fn new(aws: Arc<AwsContext>, cluster: String) -> Self {
        TokenSource { aws, cluster, current: tokio::sync::Mutex::new(None) }
    }

    /// The cached token, or a new one when there is none, it is stale, or `fresh` is asked for.
    pub async fn token(&self, fresh: bool) -> Result<String, String> {
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref()
            && !fresh
            && !t.is_stale(SystemTime::now())
        {
            return Ok(t.token.clone());
        }
        let credentials = self.aws.credentials().await?;
        let region = self.aws.region().await?;
        let signed = eks_token::sign_token(&self.cluster, &region, &credentials, SystemTime::now())
            .map_err(|e| e.to_string())?;
        let token = signed.token.clone();
        *current = Some(signed);
        Ok(token)
    }
}

/// Adds the EKS bearer token to every request; see the module doc for the 401 rule.
#[derive(Clone)]
pub struct EksAuthLayer {
    source: Arc<TokenSource>,
}

impl EksAuthLayer {
    /// A layer signing with `source`.
    pub fn new(source: Arc<TokenSource>) -> Self {
        EksAuthLayer { source }
    }
}

impl<S> Layer<S> for EksAuthLayer {
    type Service = EksAuth<S>;

    fn layer(&self, inner: S) -> EksAuth<S> {
        EksAuth { inner, source: self.source.clone() }
    }
}

/// The service [`EksAuthLayer`] makes.
#[derive(Clone)]
pub struct EksAuth<S> {
    inner: S,
    source: Arc<TokenSource>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

fn set_bearer(request: &mut Request<Body>, token: &str) -> Result<(), BoxError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))?;
    value.set_sensitive(true);
    request.headers_mut().insert(http::header::AUTHORIZATION, value);
    Ok(())
}

impl<S, B> Service<Request<Body>> for EksAuth<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Response<B>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let mut inner = self.inner.clone();
        let source = self.source.clone();
        Box::pin(async move {
            let again = try_clone(&request);
            set_bearer(&mut request, &source.token(false).await?)?;
            let response = inner.ready().await.map_err(Into::into)?.call(request).await.map_err(Into::into)?;
            let Some(mut again) = again.filter(|_| response.status() == StatusCode::UNAUTHORIZED) else {
                return Ok(response);
            };
            crate::plugin::log::debug("EKS answered 401: re-signing the token once", &[("cluster", &source.cluster)]);
            set_bearer(&mut again, &source.token(true).await?)?;
            inner.ready().await.map_err(Into::into)?.call(again).await.map_err(Into::into)
        })
    }
}
