//! Building a kube client from kubeconfig (`--kubeconfig`, `$KUBECONFIG`, `--context`; see
//! `kubeconfig.rs`), checking that it reaches its API server, and the facts about the
//! connection the status bar shows. The client's request path: `--read-only` refuses writes
//! before they leave the process, safe requests are retried (`retry.rs`), and each attempt waits
//! at most `--request-timeout` for its response headers (`timeout.rs`). Exec and OIDC credential
//! plugins work as kube-rs provides them. No error here repeats kubeconfig content.

use crate::cluster::cause::Cause;
use crate::cluster::kubeconfig::{self, KubeconfigError};
use crate::cluster::retry::RetryLayer;
use crate::cluster::timeout::HeadersTimeoutLayer;
use hyper::{Method, Request, Response};
use kube::client::{Body, ClientBuilder};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

/// What the status bar says about where meshdeck is connected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connection {
    pub context: String,
    pub server: String,
    pub user: String,
    pub default_namespace: String,
    /// Every mutating request is refused in the client (`--read-only`).
    pub read_only: bool,
}

/// How to connect.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`: one file. `None`: $KUBECONFIG's files merged, else ~/.kube/config.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; `None` for the current context.
    pub context: Option<String>,
    pub read_only: bool,
    /// `--request-timeout`; `None` waits as long as the connection lasts.
    pub request_timeout: Option<Duration>,
}

/// A client, what it is connected to, and the kubeconfig it was built from.
pub struct Connected {
    pub client: kube::Client,
    pub conn: Connection,
    /// Of the kubeconfig files' content (see [`kubeconfig::fingerprint`]).
    pub fingerprint: u64,
}

/// kubectl's default `--request-timeout` is none; meshdeck's is 30 s, so a server that accepts
/// connections and never answers is named rather than waited on forever.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client for `context` of the kubeconfig (a path, else $KUBECONFIG / ~/.kube/config) with
/// the default request timeout; with `read_only` the client refuses every request that could
/// change the cluster (see [`is_mutating`]) before it leaves the process. The commands go
/// through [`open`] with the command line's options; this is for tests and embedders.
pub async fn connect_with(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    read_only: bool,
) -> anyhow::Result<(kube::Client, Connection)> {
    let opts = ConnectOptions {
        kubeconfig: kubeconfig.map(Path::to_path_buf),
        context: context.map(str::to_string),
        read_only,
        request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
    };
    let c = open(&opts).await?;
    Ok((c.client, c.conn))
}

/// Reads and checks the kubeconfig and builds the client. Nothing is sent yet: see [`check`].
pub async fn open(opts: &ConnectOptions) -> anyhow::Result<Connected> {
    let loaded = kubeconfig::load(opts.kubeconfig.as_deref(), opts.context.as_deref())?;
    let kopts = kube::config::KubeConfigOptions { context: Some(loaded.context.clone()), ..Default::default() };
    let mut cfg = kube::Config::from_custom_kubeconfig(loaded.config.clone(), &kopts)
        .await
        .map_err(|e| unusable(&loaded, config_problem(&e)))?;
    // kube-rs's own retry sends any request again on 429/503/504, writes included: the retry
    // layer below does it for safe requests only.
    cfg.default_retry = false;
    // The request timeout bounds connecting (TCP and TLS) with the rest of the wait for the
    // headers; without one, kube-rs's 30 s limit on connecting stays, as kubectl's dialer has.
    if opts.request_timeout.is_some() {
        cfg.connect_timeout = None;
    }
    let conn = Connection {
        context: loaded.context.clone(),
        server: shown_server(&cfg.cluster_url),
        user: loaded.user.clone(),
        default_namespace: cfg.default_namespace.clone(),
        read_only: opts.read_only,
    };
    let builder = ClientBuilder::try_from(cfg).map_err(|e| unusable(&loaded, client_problem(&e)))?;
    let builder = builder
        .with_layer(&HeadersTimeoutLayer(opts.request_timeout))
        .with_layer(&tower::buffer::BufferLayer::new(1024))
        .with_layer(&RetryLayer::default());
    let client = if opts.read_only { builder.with_layer(&ReadOnlyLayer).build() } else { builder.build() };
    Ok(Connected { client, conn, fingerprint: loaded.fingerprint })
}

/// The server URL as shown everywhere, without any `user:password@` it may carry.
fn shown_server(url: &hyper::Uri) -> String {
    match (url.scheme_str(), url.authority()) {
        (Some(scheme), Some(authority)) => {
            let host = authority.as_str().rsplit('@').next().unwrap_or_default();
            format!("{scheme}://{host}{}", url.path().trim_end_matches('/'))
        }
        _ => url.to_string().trim_end_matches('/').to_string(),
    }
}

fn unusable(loaded: &kubeconfig::Loaded, problem: String) -> KubeconfigError {
    let file = (loaded.files.len() == 1).then(|| loaded.files[0].clone());
    KubeconfigError { file, at: None, problem: format!("context {:?}: {problem}", loaded.context) }
}

/// kube-rs's words for a kubeconfig it cannot use, by kind only: its messages carry the
/// parser's and decoders' text. `kubeconfig::load` has checked all of this already, with
/// positions; these are the backstop.
fn config_problem(e: &kube::config::KubeconfigError) -> String {
    use kube::config::KubeconfigError as K;
    match e {
        K::CurrentContextNotSet => "no current context is set".into(),
        K::LoadContext(name) => format!("context {name:?} is not defined"),
        K::LoadClusterOfContext(name) => format!("cluster {name:?} is not defined"),
        K::ReadConfig(_, path) => format!("{} cannot be read", path.display()),
        K::MissingClusterUrl => "the cluster has no server".into(),
        K::ParseClusterUrl(_) => "the cluster's server is not a URL".into(),
        K::ParseProxyUrl(_) => "the cluster's proxy-url is not a URL".into(),
        K::LoadCertificateAuthority(_) | K::ParseCertificates(_) => "the certificate authority cannot be loaded".into(),
        K::LoadClientCertificate(_) => "the client certificate cannot be loaded".into(),
        K::LoadClientKey(_) => "the client key cannot be loaded".into(),
        _ => "the kubeconfig cannot be used".into(),
    }
}

fn client_problem(e: &kube::Error) -> String {
    match e {
        kube::Error::RustlsTls(_) => {
            "the TLS settings (certificate authority, client certificate or key) cannot be used".into()
        }
        // Only the message's own words, before any quoted detail or nested cause.
        kube::Error::Auth(a) => {
            let text = a.to_string();
            let head = text.split([':', '\'', '"']).next().unwrap_or("").trim();
            format!("the credentials cannot be used ({head})")
        }
        kube::Error::ProxyProtocolUnsupported { .. } | kube::Error::ProxyProtocolDisabled { .. } => {
            "its proxy-url uses a protocol meshdeck does not support".into()
        }
        _ => "a client cannot be built from it".into(),
    }
}

/// Context names in a kubeconfig, for `:ctx` completion and errors.
pub fn contexts(kubeconfig: Option<&Path>) -> anyhow::Result<Vec<String>> {
    Ok(kubeconfig::contexts(kubeconfig)?)
}

/// A connection that does not work, named as kubectl would: the server, the context, why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConnectError {
    pub server: String,
    pub context: String,
    pub user: String,
    pub cause: Cause,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot connect to {} (context {}): {}", self.server, self.context, self.cause)?;
        match &self.cause {
            Cause::Refused => f.write_str(" — is the API server running, and are the host and port right?"),
            Cause::Dns => f.write_str(" — is the server's host name right?"),
            Cause::Tls(d) if d.contains("unknown authority") => {
                f.write_str(" — the kubeconfig's certificate-authority did not sign the server's certificate")
            }
            Cause::Unauthorized if self.user.is_empty() => f.write_str(" — the context has no user"),
            Cause::Unauthorized => {
                write!(f, " — log in again, or update the kubeconfig's user {} (wrong or expired)", self.user)
            }
            _ => Ok(()),
        }
    }
}

impl ConnectError {
    pub fn new(conn: &Connection, cause: Cause) -> ConnectError {
        ConnectError { server: conn.server.clone(), context: conn.context.clone(), user: conn.user.clone(), cause }
    }
}

/// Asks the API server for its core API group (`GET /api`, the first request kubectl sends):
/// fails when the server cannot be reached, its certificate does not verify, or it refuses the
/// credentials or discovery.
pub async fn check(client: &kube::Client, conn: &Connection) -> Result<(), ConnectError> {
    let req = Request::get("/api").header("accept", "application/json").body(Vec::new()).expect("a static request");
    match client.request::<serde_json::Value>(req).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 403 => Err(ConnectError::new(conn, Cause::Forbidden(s.message.clone()))),
        Err(e) => Err(ConnectError::new(conn, Cause::of(&e))),
    }
}

/// `30s`, `1m`, `1m30s`, `500ms`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) || ms == 0 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

/// True when a request could change the cluster: any POST, PUT, PATCH or DELETE, except
/// server-side dry-runs (`dryRun=All`) and access reviews, which only ask.
pub fn is_mutating(method: &Method, path: &str, query: &str) -> bool {
    if !matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE) {
        return false;
    }
    let dry_run = query.split('&').any(|p| p == "dryRun=All");
    let review = *method == Method::POST
        && (path.ends_with("/selfsubjectaccessreviews") || path.ends_with("/selfsubjectreviews"));
    !(dry_run || review)
}

/// The error a read-only client returns instead of sending a write.
#[derive(Debug, thiserror::Error)]
#[error("read-only mode (--read-only): refused {method} {path}; nothing was sent to the cluster")]
pub struct ReadOnlyRefused {
    pub method: String,
    pub path: String,
}

/// Wraps the client's service so mutating requests fail before they are sent.
#[derive(Clone, Copy)]
pub struct ReadOnlyLayer;

impl<S> tower::Layer<S> for ReadOnlyLayer {
    type Service = ReadOnly<S>;
    fn layer(&self, inner: S) -> ReadOnly<S> {
        ReadOnly { inner }
    }
}

#[derive(Clone)]
pub struct ReadOnly<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower::Service<Request<Body>> for ReadOnly<S>
where
    S: tower::Service<Request<Body>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError>,
{
    type Response = Response<B>;
    type Error = tower::BoxError;
    type Future = BoxFuture<Result<Response<B>, tower::BoxError>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let uri = req.uri();
        if is_mutating(req.method(), uri.path(), uri.query().unwrap_or("")) {
            let err = ReadOnlyRefused { method: req.method().to_string(), path: uri.path().to_string() };
            return Box::pin(async move { Err(err.into()) });
        }
        let fut = self.inner.call(req);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_errors_name_server_context_and_cause() {
        let conn = Connection {
            context: "prod".into(),
            server: "https://10.0.0.1:6443".into(),
            user: "alice".into(),
            ..Connection::default()
        };
        let head = "cannot connect to https://10.0.0.1:6443 (context prod): ";
        let cases = [
            (Cause::Refused, "connection refused — is the API server running, and are the host and port right?"),
            (Cause::Dns, "no such host (DNS lookup failed) — is the server's host name right?"),
            (
                Cause::Tls("x509: certificate signed by unknown authority".into()),
                "TLS verification failed: x509: certificate signed by unknown authority — the kubeconfig's certificate-authority did not sign the server's certificate",
            ),
            (
                Cause::Unauthorized,
                "401 Unauthorized: the credentials were not accepted — log in again, or update the kubeconfig's user alice (wrong or expired)",
            ),
            (
                Cause::Forbidden("forbidden: User \"alice\" cannot get path \"/api\"".into()),
                "403 Forbidden: forbidden: User \"alice\" cannot get path \"/api\"",
            ),
            (Cause::TimedOut(Duration::from_secs(90)), "no response within 1m30s (--request-timeout)"),
        ];
        for (cause, want) in cases {
            assert_eq!(ConnectError::new(&conn, cause).to_string(), format!("{head}{want}"));
        }
        let anonymous = Connection { user: String::new(), ..conn };
        assert!(ConnectError::new(&anonymous, Cause::Unauthorized).to_string().ends_with("the context has no user"));
        assert_eq!(human_duration(Duration::from_millis(1500)), "1500ms");
        let url = |u: &str| shown_server(&u.parse().unwrap());
        assert_eq!(url("https://admin:s3cret@10.0.0.1:6443/"), "https://10.0.0.1:6443");
        assert_eq!(url("https://k8s.example.com/proxy/"), "https://k8s.example.com/proxy");
        assert_eq!(human_duration(Duration::from_secs(3600)), "1h");
    }

    #[test]
    fn which_requests_mutate() {
        let cases = [
            (Method::GET, "/api/v1/namespaces/rng/pods", "watch=true", false),
            (Method::PATCH, "/apis/apps/v1/namespaces/rng/deployments/web", "fieldManager=meshdeck", true),
            (Method::PATCH, "/apis/apps/v1/namespaces/rng/deployments/web", "fieldManager=meshdeck&dryRun=All", false),
            (Method::PATCH, "/apis/apps/v1/namespaces/rng/deployments/web", "dryRun=None", true),
            (Method::DELETE, "/apis/security.istio.io/v1/namespaces/rng/peerauthentications/default", "", true),
            (Method::POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "", false),
            (Method::POST, "/api/v1/namespaces", "", true),
            (Method::PUT, "/api/v1/namespaces/rng", "", true),
        ];
        for (m, path, q, want) in cases {
            assert_eq!(is_mutating(&m, path, q), want, "{m} {path}?{q}");
        }
    }
}
