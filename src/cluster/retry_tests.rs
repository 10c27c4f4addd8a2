use super::*;
use hyper::Method;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tower::{Layer, Service};

/// What the mock server answers next: a status with an optional Retry-After, or a refused
/// connection.
#[derive(Clone, Copy)]
enum Answer {
    Status(u16, Option<u64>),
    /// A status with this body.
    Body(u16, &'static str),
    Refused,
}

#[derive(Default)]
struct Mock {
    script: Mutex<VecDeque<Answer>>,
    /// (when, method, body) of every request that reached the server.
    seen: Mutex<Vec<(tokio::time::Instant, Method, Vec<u8>)>>,
}

impl Mock {
    fn new(script: &[Answer]) -> Arc<Mock> {
        Arc::new(Mock { script: Mutex::new(script.iter().copied().collect()), ..Mock::default() })
    }

    fn calls(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Gaps between consecutive requests.
    fn gaps(&self) -> Vec<Duration> {
        let seen = self.seen.lock().unwrap();
        seen.windows(2).map(|w| w[1].0 - w[0].0).collect()
    }
}

/// A retrying client over the mock: the last answer of the script repeats.
fn client(
    mock: &Arc<Mock>,
    policy: Policy,
) -> impl Service<Request<Body>, Response = Response<RetryBody<String>>, Error = tower::BoxError> + use<> {
    let mock = mock.clone();
    let svc = tower::service_fn(move |req: Request<Body>| {
        let mock = mock.clone();
        async move {
            let method = req.method().clone();
            let body = req.into_body().collect_bytes().await?.to_vec();
            mock.seen.lock().unwrap().push((tokio::time::Instant::now(), method, body));
            let answer = {
                let mut script = mock.script.lock().unwrap();
                if script.len() > 1 { script.pop_front().unwrap() } else { *script.front().unwrap() }
            };
            match answer {
                Answer::Refused => {
                    Err(tower::BoxError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)))
                }
                Answer::Status(code, after) => {
                    let mut resp = Response::builder().status(code);
                    if let Some(s) = after {
                        resp = resp.header("retry-after", s.to_string());
                    }
                    Ok(resp.body(String::new()).unwrap())
                }
                Answer::Body(code, body) => Ok(Response::builder().status(code).body(body.to_string()).unwrap()),
            }
        }
    });
    RetryLayer(policy).layer(svc)
}

fn req(method: Method, uri: &str, body: &str) -> Request<Body> {
    let mut r = Request::new(Body::from(body.as_bytes().to_vec()));
    *r.method_mut() = method;
    *r.uri_mut() = uri.parse().unwrap();
    r
}

async fn send(
    svc: &mut (impl Service<Request<Body>, Response = Response<RetryBody<String>>, Error = tower::BoxError> + Send),
    r: Request<Body>,
) -> Result<u16, String> {
    svc.ready().await.map_err(|e| e.to_string())?;
    svc.call(r).await.map(|r| r.status().as_u16()).map_err(|e| e.to_string())
}

#[tokio::test(start_paused = true)]
async fn only_safe_requests_are_sent_again() {
    use Answer::Status;
    let cases = [
        (Method::GET, "/api/v1/namespaces/rng/pods?limit=500", true),
        (Method::GET, "/api/v1/pods?watch=true&resourceVersion=7", true),
        (Method::PATCH, "/apis/apps/v1/namespaces/rng/deployments/web?fieldManager=meshdeck&dryRun=All", true),
        (Method::DELETE, "/api/v1/namespaces/rng/configmaps/c?dryRun=All", true),
        (Method::POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", true),
        (Method::POST, "/apis/authentication.k8s.io/v1/selfsubjectreviews", true),
        (Method::PATCH, "/apis/apps/v1/namespaces/rng/deployments/web?fieldManager=meshdeck", false),
        (Method::POST, "/api/v1/namespaces/rng/configmaps", false),
        (Method::PUT, "/api/v1/namespaces/rng", false),
        (Method::DELETE, "/api/v1/namespaces/rng/configmaps/c", false),
    ];
    for code in [500, 503, 429] {
        for (method, uri, safe) in &cases {
            let mock = Mock::new(&[Status(code, None), Status(200, None)]);
            let mut svc = client(&mock, Policy::default());
            let got = send(&mut svc, req(method.clone(), uri, "{\"kind\":\"X\"}")).await;
            let want = if *safe { (Ok(200), 2) } else { (Ok(code), 1) };
            assert_eq!((got, mock.calls()), want, "{method} {uri} answered {code}");
            // What was sent again is what was sent first, body included.
            let seen = mock.seen.lock().unwrap();
            assert!(seen.iter().all(|(_, m, b)| m == method && b == b"{\"kind\":\"X\"}"), "{method} {uri}");
        }
    }
    // Answers that retrying will not change are returned at once.
    for code in [400, 401, 403, 404, 409, 410, 422, 501] {
        let mock = Mock::new(&[Status(code, None), Status(200, None)]);
        let mut svc = client(&mock, Policy::default());
        assert_eq!(send(&mut svc, req(Method::GET, "/api/v1/pods", "")).await, Ok(code));
        assert_eq!(mock.calls(), 1, "{code}");
    }
}

#[tokio::test(start_paused = true)]
async fn refused_connections_are_retried_briefly_and_never_for_writes() {
    let mock = Mock::new(&[Answer::Refused]);
    let mut svc = client(&mock, Policy::default());
    let started = tokio::time::Instant::now();
    let got = send(&mut svc, req(Method::GET, "/api", "")).await;
    assert!(got.unwrap_err().contains("refused"));
    assert_eq!(mock.calls(), 3);
    // Two backoffs of at most 200 ms and 400 ms: named within a second.
    assert!(started.elapsed() <= Duration::from_millis(600), "{:?}", started.elapsed());

    let mock = Mock::new(&[Answer::Refused, Answer::Status(200, None)]);
    let mut svc = client(&mock, Policy::default());
    assert_eq!(send(&mut svc, req(Method::GET, "/api", "")).await, Ok(200));
    assert_eq!(mock.calls(), 2);

    let mock = Mock::new(&[Answer::Refused, Answer::Status(200, None)]);
    let mut svc = client(&mock, Policy::default());
    assert!(send(&mut svc, req(Method::POST, "/api/v1/namespaces", "{}")).await.is_err());
    assert_eq!(mock.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured() {
    let mock = Mock::new(&[Answer::Status(429, Some(3)), Answer::Status(429, Some(1)), Answer::Status(200, None)]);
    let mut svc = client(&mock, Policy::default());
    assert_eq!(send(&mut svc, req(Method::GET, "/api/v1/pods", "")).await, Ok(200));
    let gaps = mock.gaps();
    // The server's wait, not the client's shorter backoff (at most 200 ms, then 400 ms).
    assert_eq!(gaps, vec![Duration::from_secs(3), Duration::from_secs(1)]);

    // A wait longer than the whole budget is not waited for: the 429 is the answer.
    let mock = Mock::new(&[Answer::Status(429, Some(60)), Answer::Status(200, None)]);
    let mut svc = client(&mock, Policy::default());
    assert_eq!(send(&mut svc, req(Method::GET, "/api/v1/pods", "")).await, Ok(429));
    assert_eq!(mock.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn attempts_and_time_are_bounded_and_the_jitter_stays_within_its_step() {
    let policy = Policy::default();
    let mock = Mock::new(&[Answer::Status(500, None)]);
    let mut svc = client(&mock, policy);
    let started = tokio::time::Instant::now();
    assert_eq!(send(&mut svc, req(Method::GET, "/api/v1/pods", "")).await, Ok(500));
    assert_eq!(mock.calls(), 12);
    assert!(started.elapsed() <= policy.budget);
    for (i, gap) in mock.gaps().into_iter().enumerate() {
        let step = (policy.base * (1 << i)).min(policy.cap);
        assert!(gap >= step / 2 && gap <= step, "retry {}: waited {gap:?}, step {step:?}", i + 1);
    }

    // A budget shorter than the backoffs ends the retries early.
    let short = Policy { budget: Duration::from_secs(2), ..policy };
    let mock = Mock::new(&[Answer::Status(503, None)]);
    let mut svc = client(&mock, short);
    let started = tokio::time::Instant::now();
    assert_eq!(send(&mut svc, req(Method::GET, "/api/v1/pods", "")).await, Ok(503));
    assert!(started.elapsed() <= Duration::from_secs(2));
    assert!((3..12).contains(&mock.calls()), "{} calls", mock.calls());
}

#[tokio::test(start_paused = true)]
async fn a_500_that_refuses_the_body_is_the_answer_and_others_are_retried() {
    // A server-side apply whose body does not fit the schema: the API server's final word.
    let typed = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"failed to create typed patch object (rng/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string","code":500}"#;
    let uri = "/apis/apps/v1/namespaces/rng/deployments/web?fieldManager=meshdeck&dryRun=All";
    let mock = Mock::new(&[Answer::Body(500, typed), Answer::Status(200, None)]);
    let mut svc = client(&mock, Policy::default());
    let mut r = req(Method::PATCH, uri, "{}");
    r.headers_mut().insert("content-type", "application/apply-patch+yaml".parse().unwrap());
    svc.ready().await.unwrap();
    let resp = svc.call(r).await.unwrap();
    assert_eq!(resp.status().as_u16(), 500);
    assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), typed.as_bytes(), "the body reaches the caller");
    assert_eq!(mock.calls(), 1);

    // An internal error is passing: sent again.
    let internal = r#"{"kind":"Status","status":"Failure","message":"Internal error occurred: etcdserver: leader changed","reason":"InternalError","code":500}"#;
    let mock = Mock::new(&[Answer::Body(500, internal), Answer::Status(200, None)]);
    let mut svc = client(&mock, Policy::default());
    assert_eq!(send(&mut svc, req(Method::PATCH, uri, "{}")).await, Ok(200));
    assert_eq!(mock.calls(), 2);
}

#[test]
fn backoff_doubles_to_its_cap_with_bounded_jitter() {
    let p = Policy::default();
    assert_eq!(p.backoff(1, 1.0), Duration::from_millis(200));
    assert_eq!(p.backoff(1, 0.0), Duration::from_millis(100));
    assert_eq!(p.backoff(3, 1.0), Duration::from_millis(800));
    assert_eq!(p.backoff(30, 1.0), Duration::from_secs(2));
    assert_eq!(p.backoff(30, 0.0), Duration::from_secs(1));
    for retry in 1..12 {
        let step = (p.base * (1 << (retry - 1))).min(p.cap);
        for _ in 0..200 {
            let d = p.backoff(retry, rand::random::<f64>());
            assert!(d >= step / 2 && d <= step, "retry {retry}: {d:?}");
        }
    }
    assert_eq!(p.delay(1, Some(Duration::from_secs(2)), 0.5), Duration::from_secs(2));
    assert_eq!(p.delay(6, Some(Duration::from_secs(1)), 1.0), Duration::from_secs(2));
}
