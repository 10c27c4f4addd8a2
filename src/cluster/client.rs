//! Building a kube client from kubeconfig (`--kubeconfig`, `$KUBECONFIG`, `--context`), and the
//! facts about the connection the status bar shows. Exec and OIDC credential plugins work as
//! kube-rs provides them.

use anyhow::Context;
use std::path::Path;

/// What the status bar says about where meshdeck is connected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connection {
    pub context: String,
    pub server: String,
    pub user: String,
    pub default_namespace: String,
}

/// Loads the kubeconfig (a path, else $KUBECONFIG / ~/.kube/config) and returns a client for
/// `context` (else the current context).
pub async fn connect(kubeconfig: Option<&Path>, context: Option<&str>) -> anyhow::Result<(kube::Client, Connection)> {
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
    };
    let client = kube::Client::try_from(cfg).context("building the Kubernetes client")?;
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
