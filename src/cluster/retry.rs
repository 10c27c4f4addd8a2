//! Retrying what is safe to send twice: a tower layer on the kube client that sends reads,
//! lists, watch requests, dry-runs and access reviews again after a 429 or 5xx (honouring
//! Retry-After) or a failure to connect, with exponential backoff and jitter, within a bounded
//! number of attempts and time. Real writes pass through untouched, whatever happens to them:
//! only the engine can tell whether a write that got no answer took effect.

use crate::cluster::client::is_mutating;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Bytes;
use hyper::{Request, Response};
use kube::client::Body;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::ServiceExt;

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Attempts in all, the first included, for 429 and 5xx answers. Twelve: when 30 % of
    /// requests fail, one request in 1.9 million still does, where six attempts would leave one
    /// in 1,400; twelve waits of at most the cap or the server's Retry-After of a second or two
    /// fit in the budget.
    pub attempts: u32,
    /// Attempts in all when the connection could not be made: a server that is down is named
    /// within a second rather than retried for the whole budget.
    pub connect_attempts: u32,
    /// No retry starts once this much time has passed since the first attempt.
    pub budget: Duration,
    /// The first backoff; each next one doubles, up to `cap`.
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            attempts: 12,
            connect_attempts: 3,
            budget: Duration::from_secs(30),
            base: Duration::from_millis(200),
            cap: Duration::from_secs(2),
        }
    }
}

impl Policy {
    /// The wait before retry number `retry` (1 for the first retry). `unit` in [0, 1) picks the
    /// jitter: the wait is between half and all of the exponential step, so clients that failed
    /// together do not come back together.
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let step = self.base.saturating_mul(1u32 << retry.saturating_sub(1).min(20)).min(self.cap);
        step.mul_f64(0.5 + unit.clamp(0.0, 1.0) / 2.0)
    }

    /// The wait after a retryable answer: at least what the server asked for.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
        self.backoff(retry, unit).max(retry_after.unwrap_or_default())
    }
}

/// Whether an answer asks to be retried: 429 and 5xx (except 501, which will not change), with
/// the server's Retry-After when it gave one in seconds.
pub fn retryable_status<B>(resp: &Response<B>) -> Option<Option<Duration>> {
    let code = resp.status().as_u16();
    if code != 429 && !(500..600).contains(&code) || code == 501 {
        return None;
    }
    let after = resp
        .headers()
        .get(hyper::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    Some(after)
}

/// A failure to connect: nothing of the request was sent, so sending it again is safe.
pub fn is_connect_error(e: &tower::BoxError) -> bool {
    crate::cluster::cause::chain(e.as_ref()).into_iter().any(|err| {
        err.downcast_ref::<hyper_util::client::legacy::Error>().is_some_and(|h| h.is_connect())
            || err.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    })
}

#[derive(Clone, Copy, Default)]
pub struct RetryLayer(pub Policy);

impl<S> tower::Layer<S> for RetryLayer {
    type Service = Retry<S>;
    fn layer(&self, inner: S) -> Retry<S> {
        Retry { inner, policy: self.0 }
    }
}

#[derive(Clone)]
pub struct Retry<S> {
    inner: S,
    policy: Policy,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The answer: the inner service's body, or one read whole to look at it (a 500's Status).
pub type RetryBody<B> = Either<B, Full<Bytes>>;

/// A 500 that is the API server's final word on the request, not a passing failure: a
/// server-side apply whose body does not fit the object's schema is answered 500 with
/// "failed to create typed patch object" (kubernetes/kubernetes#139253), and sending it again
/// changes nothing.
pub fn is_refusal_500(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|v| v["kind"] == "Status" && v["message"].as_str().is_some_and(is_refusal_message))
}

/// The message of a 500 that refuses the request for good (see [`is_refusal_500`]).
pub fn is_refusal_message(message: &str) -> bool {
    message.starts_with("failed to create typed patch object")
}

impl<S, B> tower::Service<Request<Body>> for Retry<S>
where
    S: tower::Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError> + Send,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<tower::BoxError>,
{
    type Response = Response<RetryBody<B>>;
    type Error = tower::BoxError;
    type Future = BoxFuture<Result<Response<RetryBody<B>>, tower::BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The service polled ready is the one that takes the first attempt.
        let fresh = self.inner.clone();
        let mut svc = std::mem::replace(&mut self.inner, fresh);
        let policy = self.policy;
        let uri = req.uri();
        if is_mutating(req.method(), uri.path(), uri.query().unwrap_or("")) {
            let fut = svc.call(req);
            return Box::pin(async move { fut.await.map(|r| r.map(Either::Left)).map_err(Into::into) });
        }
        Box::pin(async move {
            let (parts, bytes) = req.into_parts();
            let bytes = bytes.collect_bytes().await?;
            let started = tokio::time::Instant::now();
            let mut attempt = 1u32;
            let mut out = answer(svc.call(rebuild(&parts, &bytes)).await.map_err(Into::into)).await;
            loop {
                let wait = match &out {
                    Ok(resp) => match retryable(resp) {
                        Some(after) if attempt < policy.attempts => {
                            Some(policy.delay(attempt, after, rand::random::<f64>()))
                        }
                        _ => None,
                    },
                    Err(e) if attempt < policy.connect_attempts && is_connect_error(e) => {
                        Some(policy.backoff(attempt, rand::random::<f64>()))
                    }
                    Err(_) => None,
                };
                let Some(wait) = wait.filter(|w| started.elapsed() + *w <= policy.budget) else { return out };
                let why = match &out {
                    Ok(r) => r.status().to_string(),
                    Err(e) => e.to_string(),
                };
                tracing::debug!("{} {}: {why}; retry {attempt} in {wait:?}", parts.method, parts.uri.path());
                drop(out);
                tokio::time::sleep(wait).await;
                attempt += 1;
                out = match svc.ready().await {
                    Ok(s) => answer(s.call(rebuild(&parts, &bytes)).await.map_err(Into::into)).await,
                    Err(e) => Err(e.into()),
                };
            }
        })
    }
}

/// A 500's body is read whole (a small Status) so `retryable` can tell a refusal from a
/// passing failure; every other answer streams through untouched.
async fn answer<B>(out: Result<Response<B>, tower::BoxError>) -> Result<Response<RetryBody<B>>, tower::BoxError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<tower::BoxError>,
{
    let resp = out?;
    if resp.status().as_u16() != 500 {
        return Ok(resp.map(Either::Left));
    }
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.map_err(Into::into)?.to_bytes();
    Ok(Response::from_parts(parts, Either::Right(Full::new(bytes))))
}

/// `retryable_status`, except for a 500 that is a refusal.
fn retryable<B>(resp: &Response<RetryBody<B>>) -> Option<Option<Duration>> {
    if let Either::Right(full) = resp.body()
        && resp.status().as_u16() == 500
        && full_is_refusal(full)
    {
        return None;
    }
    retryable_status(resp)
}

fn full_is_refusal(full: &Full<Bytes>) -> bool {
    // Full keeps its bytes until polled; a clone is a cheap handle on the same buffer.
    let mut copy = full.clone();
    let Some(Some(Ok(frame))) = futures::FutureExt::now_or_never(copy.frame()) else { return false };
    frame.into_data().is_ok_and(|d: Bytes| is_refusal_500(d.as_ref()))
}

/// The same request again, body included (bodies are small: an object or a review).
fn rebuild(parts: &hyper::http::request::Parts, body: &Bytes) -> Request<Body> {
    let mut req = Request::new(Body::from(body.clone()));
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = parts.uri.clone();
    *req.version_mut() = parts.version;
    *req.headers_mut() = parts.headers.clone();
    *req.extensions_mut() = parts.extensions.clone();
    req
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
