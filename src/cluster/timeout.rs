//! `--request-timeout`: a tower layer that bounds how long one request waits for its response
//! headers (connecting included). Bodies are not bounded: a list of 100,000 pods or a watch
//! stream may take as long as it takes once the server has begun answering.

use hyper::{Request, Response};
use kube::client::Body;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// No response headers arrived in time.
#[derive(Debug, thiserror::Error)]
#[error("no response within {}", crate::cluster::client::human_duration(*after))]
pub struct TimedOut {
    pub after: Duration,
}

/// `None`: no bound.
#[derive(Clone, Copy)]
pub struct HeadersTimeoutLayer(pub Option<Duration>);

impl<S> tower::Layer<S> for HeadersTimeoutLayer {
    type Service = HeadersTimeout<S>;
    fn layer(&self, inner: S) -> HeadersTimeout<S> {
        HeadersTimeout { inner, after: self.0 }
    }
}

#[derive(Clone)]
pub struct HeadersTimeout<S> {
    inner: S,
    after: Option<Duration>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower::Service<Request<Body>> for HeadersTimeout<S>
where
    S: tower::Service<Request<Body>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError>,
{
    type Response = Response<B>;
    type Error = tower::BoxError;
    type Future = BoxFuture<Result<Response<B>, tower::BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let after = self.after;
        let fut = self.inner.call(req);
        Box::pin(async move {
            let Some(after) = after else { return fut.await.map_err(Into::into) };
            match tokio::time::timeout(after, fut).await {
                Ok(r) => r.map_err(Into::into),
                Err(_) => Err(TimedOut { after }.into()),
            }
        })
    }
}
