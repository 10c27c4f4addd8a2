//! Starting and stopping a simulated cluster: the store and controllers, the base namespaces,
//! scale generation, scenarios, and the HTTPS listener with its kubeconfig. Used by
//! `meshdeck sim`, `meshdeck demo` and the tests.

use super::api::faults::{FaultControl, Faults};
use super::api::inject::ConnKill;
use super::api::{ApiState, RequestLog, auth::Tokens};
use super::clock::Clock;
use super::kinds;
use super::ops::{Cluster, WriteOpts};
use super::{controllers, istiod, kubeconfig, scale, scenario, tls};
use anyhow::Context;
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    pub scenarios: Vec<String>,
    pub scale: Option<scale::ScaleSpec>,
    pub listen: Option<SocketAddr>,
    pub kubeconfig_out: Option<PathBuf>,
    pub time_scale: f64,
    pub faults: Faults,
}

/// A running simulated cluster. Dropping it stops the listener and the controllers.
pub struct SimHandle {
    pub addr: SocketAddr,
    pub kubeconfig_path: PathBuf,
    pub kubeconfig: String,
    pub cluster: Arc<Cluster>,
    pub log: Arc<RequestLog>,
    pub tokens: Tokens,
    state: Arc<ApiState>,
    tasks: Vec<JoinHandle<()>>,
    _tmp: Option<tempdir::TempDir>,
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl SimHandle {
    pub fn server(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The fault controller: targeted rules and the random error rate, changeable while the
    /// cluster runs.
    pub fn faults(&self) -> &FaultControl {
        &self.state.faults
    }

    /// Forgets the watch history and closes every open watch, as an etcd compaction followed
    /// by an API server restart would: clients resuming from an older version get 410 Gone.
    pub fn expire_watches(&self) {
        expire(&self.state);
    }

    /// Closes every open watch now, as a restarting API server would; the history stays, so a
    /// client resuming where it was goes on.
    pub fn close_watches(&self) {
        self.state.close_watches();
    }

    /// Forgets the watch history up to now, as an etcd compaction does: a watch that resumes
    /// from an older version, or is behind when the history it needs is gone, gets 410 Gone.
    pub fn compact(&self) {
        self.state.cluster.store.compact_all();
    }

    /// Closes every open watch and holds new ones until the returned guard is dropped: while
    /// it lives, watching clients are disconnected and fall behind; a test changes objects and
    /// compacts meanwhile, and on release each client meets the history it missed (or its
    /// absence) as an API server that came back would show it.
    pub fn watch_outage(&self) -> WatchOutage {
        self.state.watch_hold.send_modify(|h| *h += 1);
        self.close_watches();
        WatchOutage(self.state.clone())
    }
}

/// A watch outage in progress (see `SimHandle::watch_outage`); dropping it ends it.
pub struct WatchOutage(Arc<ApiState>);

impl Drop for WatchOutage {
    fn drop(&mut self) {
        self.0.watch_hold.send_modify(|h| *h = h.saturating_sub(1));
    }
}

fn expire(state: &ApiState) {
    state.cluster.store.compact_all();
    state.close_watches();
}

mod tempdir {
    /// A directory removed on drop, for kubeconfigs written when no path was given.
    pub struct TempDir(pub std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

const BASE_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Starts the cluster, loads scale and scenarios, and serves. Returns once it is ready.
pub async fn start(opts: SimOptions) -> anyhow::Result<SimHandle> {
    let cluster = Cluster::new(Clock::new(if opts.time_scale > 0.0 { opts.time_scale } else { 1.0 }));
    let ns_kind = kinds::by_group_plural("", "namespaces").expect("namespaces kind");
    for ns in BASE_NAMESPACES {
        let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        cluster.create(ns_kind, "", obj, WriteOpts::by("kube-apiserver")).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mut tasks = Vec::new();
    controllers::spawn_all(cluster.clone());
    if let Some(spec) = &opts.scale {
        scale::generate(&cluster, spec);
    }

    let listen = opts.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    let serving = tls::make(Some(addr.ip()))?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls::server_config(&serving)?));
    let tokens = Tokens::generate();
    let log = Arc::new(RequestLog::default());
    let state = Arc::new(ApiState {
        cluster: cluster.clone(),
        tokens: tokens.clone(),
        faults: Arc::new(FaultControl::new(&opts.faults)),
        latency: opts.faults.latency,
        log: log.clone(),
        watch_epoch: tokio::sync::watch::channel(0).0,
        watch_hold: tokio::sync::watch::channel(0).0,
    });
    let router = super::api::router(state.clone());
    tasks.push(tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else { return };
                // A fault that drops the connection notifies this; the connection is then
                // dropped with no answer, as a failing network or a dying server would leave it.
                let kill = ConnKill(Arc::new(tokio::sync::Notify::new()));
                let k = kill.clone();
                let svc = tower::ServiceExt::map_request(
                    router,
                    move |mut req: axum::http::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(k.clone());
                        req
                    },
                );
                let svc = hyper_util::service::TowerToHyperService::new(svc);
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .with_upgrades();
                tokio::select! {
                    _ = conn => {}
                    _ = kill.0.notified() => {}
                }
            });
        }
    }));
    if let Some(every) = opts.faults.watch_close {
        let st = state.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                st.close_watches();
            }
        }));
    }
    if let Some(every) = opts.faults.expire {
        let st = state.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                expire(&st);
            }
        }));
    }

    let server = format!("https://{addr}");
    let kubeconfig = kubeconfig::render(&server, &serving.ca_pem, &tokens);
    let (kubeconfig_path, tmp) = match &opts.kubeconfig_out {
        Some(p) => (p.clone(), None),
        None => {
            let dir = std::env::temp_dir().join(format!("meshdeck-sim-{}-{}", std::process::id(), addr.port()));
            std::fs::create_dir_all(&dir)?;
            (dir.join("kubeconfig"), Some(tempdir::TempDir(dir)))
        }
    };
    write_private(&kubeconfig_path, &kubeconfig)?;

    for name in &opts.scenarios {
        let files = scenario::resolve(name).map_err(|e| anyhow::anyhow!("scenario {name}: {e}"))?;
        scenario::load(&cluster, &files).await.map_err(|e| anyhow::anyhow!("scenario {name}: {e}"))?;
    }
    // Started once the scenario's istiods exist: one already ready counts as ready since
    // before any pod started, so the demo's pods have certificates from the beginning.
    tasks.push(tokio::spawn(istiod::run(cluster.clone())));
    Ok(SimHandle { addr, kubeconfig_path, kubeconfig, cluster, log, tokens, state, tasks, _tmp: tmp })
}

/// Kubeconfigs hold bearer tokens: readable by the owner only.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
