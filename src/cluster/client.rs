//! Building a kube client from kubeconfig (`--kubeconfig`, `$KUBECONFIG`, `--context`), and the
//! facts about the connection the status bar shows. Exec and OIDC credential plugins work as
//! kube-rs provides them. `--read-only` is enforced here, in the client's request path, so no
//! code above it can write by mistake.

use anyhow::Context;
use hyper::{Method, Request, Response};
use kube::client::{Body, ClientBuilder};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

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

/// Loads the kubeconfig (a path, else $KUBECONFIG / ~/.kube/config) and returns a client for
/// `context` (else the current context).
pub async fn connect(kubeconfig: Option<&Path>, context: Option<&str>) -> anyhow::Result<(kube::Client, Connection)> {
    connect_with(kubeconfig, context, false).await
}

/// As [`connect`]; with `read_only` the client refuses every request that could change the
/// cluster (see [`is_mutating`]) before it leaves the process.
pub async fn connect_with(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    read_only: bool,
) -> anyhow::Result<(kube::Client, Connection)> {
    let kc = match kubeconfig {
        Some(p) => {
            kube::config::Kubeconfig::read_from(p).with_context(|| format!("reading kubeconfig {}", p.display()))?
        }
        None => kube::config::Kubeconfig::read().context("reading kubeconfig ($KUBECONFIG or ~/.kube/config)")?,
    };
    let ctx_name = context.map(str::to_string).or_else(|| kc.current_context.clone()).unwrap_or_default();
    let named = kc.contexts.iter().find(|c| c.name == ctx_name);
    if named.is_none() {
        let known: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
        anyhow::bail!("context {ctx_name:?} is not in the kubeconfig (known: {})", known.join(", "));
    }
    let user = named.and_then(|c| c.context.as_ref()).map(|c| c.user.clone().unwrap_or_default()).unwrap_or_default();
    let opts = kube::config::KubeConfigOptions { context: Some(ctx_name.clone()), ..Default::default() };
    let cfg = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .with_context(|| format!("loading context {ctx_name:?}"))?;
    let conn = Connection {
        context: ctx_name,
        server: cfg.cluster_url.to_string().trim_end_matches('/').to_string(),
        user,
        default_namespace: cfg.default_namespace.clone(),
        read_only,
    };
    let builder = ClientBuilder::try_from(cfg).context("building the Kubernetes client")?;
    let client = if read_only { builder.with_layer(&ReadOnlyLayer).build() } else { builder.build() };
    Ok((client, conn))
}

/// Context names in a kubeconfig, for `:ctx` completion and errors.
pub fn contexts(kubeconfig: Option<&Path>) -> anyhow::Result<Vec<String>> {
    let kc = match kubeconfig {
        Some(p) => kube::config::Kubeconfig::read_from(p)?,
        None => kube::config::Kubeconfig::read()?,
    };
    Ok(kc.contexts.into_iter().map(|c| c.name).collect())
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
