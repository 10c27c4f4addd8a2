//! The live snapshot: one watch per kind the mesh model reads, all feeding one shared
//! `mesh::Snapshot`, and a task that re-derives the `MeshView` when anything changed, coalescing
//! bursts of events into one derivation. Consumers get the newest view over a watch channel:
//! the latest wins and nothing backs up.

use super::cause::Cause;
use super::client::Connection;
use super::page::{self, ListMeta};
use super::watch::{ApiKind, KindStatus, Sink, SyncState, Trouble, describe, key_of, run_into};
use crate::mesh::{Hidden, MeshView, Object, Snapshot, derive};
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Every kind the view needs, with the `kind` name the snapshot files it under.
pub const KINDS: &[(ApiKind, &str)] = &[
    (ApiKind { group: "", version: "v1", plural: "namespaces", namespaced: false }, "Namespace"),
    (ApiKind { group: "", version: "v1", plural: "pods", namespaced: true }, "Pod"),
    (ApiKind { group: "", version: "v1", plural: "services", namespaced: true }, "Service"),
    (ApiKind { group: "", version: "v1", plural: "serviceaccounts", namespaced: true }, "ServiceAccount"),
    (ApiKind { group: "", version: "v1", plural: "configmaps", namespaced: true }, "ConfigMap"),
    (ApiKind { group: "apps", version: "v1", plural: "deployments", namespaced: true }, "Deployment"),
    (ApiKind { group: "apps", version: "v1", plural: "statefulsets", namespaced: true }, "StatefulSet"),
    (ApiKind { group: "apps", version: "v1", plural: "daemonsets", namespaced: true }, "DaemonSet"),
    (ApiKind { group: "apps", version: "v1", plural: "replicasets", namespaced: true }, "ReplicaSet"),
    (ApiKind { group: "batch", version: "v1", plural: "jobs", namespaced: true }, "Job"),
    (
        ApiKind { group: "policy", version: "v1", plural: "poddisruptionbudgets", namespaced: true },
        "PodDisruptionBudget",
    ),
    (
        ApiKind { group: "autoscaling", version: "v2", plural: "horizontalpodautoscalers", namespaced: true },
        "HorizontalPodAutoscaler",
    ),
    (
        ApiKind {
            group: "admissionregistration.k8s.io",
            version: "v1",
            plural: "mutatingwebhookconfigurations",
            namespaced: false,
        },
        "MutatingWebhookConfiguration",
    ),
    (
        ApiKind { group: "security.istio.io", version: "v1", plural: "peerauthentications", namespaced: true },
        "PeerAuthentication",
    ),
    (
        ApiKind { group: "security.istio.io", version: "v1", plural: "authorizationpolicies", namespaced: true },
        "AuthorizationPolicy",
    ),
    (
        ApiKind { group: "networking.istio.io", version: "v1", plural: "virtualservices", namespaced: true },
        "VirtualService",
    ),
    (ApiKind { group: "networking.istio.io", version: "v1", plural: "gateways", namespaced: true }, "Gateway"),
    (
        ApiKind { group: "networking.istio.io", version: "v1", plural: "destinationrules", namespaced: true },
        "DestinationRule",
    ),
];

/// The shared snapshot and a count of its changes, so the derivation can tell a change of
/// content from a change of sync progress alone.
#[derive(Clone, Default)]
struct Shared {
    snap: Arc<RwLock<Snapshot>>,
    generation: Arc<AtomicU64>,
}

impl Shared {
    /// Changes the snapshot and counts the change while still holding the lock.
    fn write(&self, f: impl FnOnce(&mut Snapshot)) {
        let mut snap = self.snap.write().unwrap_or_else(|e| e.into_inner());
        f(&mut snap);
        self.generation.fetch_add(1, Ordering::Relaxed);
    }
}

/// Feeds one kind into the shared snapshot.
struct MeshSink {
    shared: Shared,
    kind: &'static str,
    api: ApiKind,
    /// A fresh list builds up here, in a snapshot of its own, until it is complete.
    staging: std::sync::Mutex<Snapshot>,
}

impl MeshSink {
    fn decode(&self, raw: &RawValue) -> Result<Option<Object>, String> {
        Object::from_json(self.api.group, self.kind, raw.get())
    }
}

impl Sink for MeshSink {
    fn list_start(&self) {
        *self.staging.lock().unwrap_or_else(|e| e.into_inner()) = Snapshot::default();
    }

    fn list_page(&self, items: &[&RawValue]) -> Vec<String> {
        let mut warnings = Vec::new();
        let mut staged = self.staging.lock().unwrap_or_else(|e| e.into_inner());
        for raw in items {
            match self.decode(raw) {
                Ok(Some(o)) => staged.put(o),
                Ok(None) => {}
                Err(e) => warnings.push(format!("{} {}: {e}", self.api.display(), describe(raw))),
            }
        }
        warnings
    }

    fn list_text(&self, text: &[u8], on_meta: &mut dyn FnMut(&ListMeta)) -> Option<(ListMeta, usize)> {
        use crate::mesh::types::{RawWorkload, ReplicaSet, Service, ServiceAccount, WorkloadKind};
        use crate::mesh::wire::PodWire;
        // The lock is taken per object, so two pages can decode at once; only the sharing
        // and indexing in `put` wait for it. Each object is shared as soon as it is decoded,
        // while its duplicate parts are still hot, and their memory is reused right away.
        let mut nameless = false;
        let mut put = |o: Object, name: bool| {
            if name {
                self.staging.lock().unwrap_or_else(|e| e.into_inner()).put(o);
            } else {
                nameless = true;
            }
        };
        let decoded = match (self.api.group, self.kind) {
            // Built straight from the wire form with the staging area's pools.
            ("", "Pod") => page::decode(text, on_meta, &mut |p: PodWire| {
                if p.metadata.name.as_str().is_empty() {
                    nameless = true;
                } else {
                    self.staging.lock().unwrap_or_else(|e| e.into_inner()).put_pod_wire(&p);
                }
            }),
            ("apps", "ReplicaSet") => {
                page::decode(text, on_meta, &mut |r: ReplicaSet| put(Object::ReplicaSet(r), true))
            }
            ("", "Service") => page::decode(text, on_meta, &mut |s: Service| put(Object::Service(s), true)),
            ("", "ServiceAccount") => {
                page::decode(text, on_meta, &mut |s: ServiceAccount| put(Object::ServiceAccount(s), true))
            }
            ("apps", kind @ ("Deployment" | "StatefulSet" | "DaemonSet")) => {
                let wk = match kind {
                    "Deployment" => WorkloadKind::Deployment,
                    "StatefulSet" => WorkloadKind::StatefulSet,
                    _ => WorkloadKind::DaemonSet,
                };
                page::decode(text, on_meta, &mut |w: RawWorkload| {
                    let w = w.into_workload(wk);
                    let named = !w.metadata.name.is_empty();
                    put(Object::Workload(w), named)
                })
            }
            _ => return None,
        };
        decoded.ok().filter(|_| !nameless)
    }

    fn list_done(&self) {
        let staged = std::mem::take(&mut *self.staging.lock().unwrap_or_else(|e| e.into_inner()));
        self.shared.write(|snap| snap.replace_kind(self.kind, staged));
    }

    fn upsert(&self, raw: &RawValue) -> Result<(), String> {
        match self.decode(raw) {
            Ok(Some(o)) => {
                self.shared.write(|snap| snap.put(o));
                Ok(())
            }
            // A ConfigMap that stopped being one the model reads.
            Ok(None) => self.delete(raw),
            Err(e) => Err(format!("{} {}: {e}", self.api.display(), describe(raw))),
        }
    }

    fn delete(&self, raw: &RawValue) -> Result<(), String> {
        let (ns, name) = key_of(raw);
        self.shared.write(|snap| {
            snap.remove(self.kind, &ns, &name);
        });
        Ok(())
    }
}

/// A derived view and when it was made.
pub struct Derived {
    pub view: Arc<MeshView>,
    pub at: SystemTime,
}

/// What the status bar says about the watches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncSummary {
    pub text: String,
    pub stale: bool,
    pub all_synced: bool,
    pub forbidden: Vec<String>,
    /// Why the watches are reconnecting, while they are.
    pub cause: Option<Cause>,
}

pub struct Live {
    client: kube::Client,
    context: String,
    /// The API server's URL, for the sync summary; empty when not known.
    server: String,
    shared: Shared,
    statuses: Vec<Arc<KindStatus>>,
    tasks: Vec<JoinHandle<()>>,
    derived: watch::Receiver<Arc<Derived>>,
    /// Bumped by every watch on a change; bumping it here asks for a fresh derivation.
    changed: watch::Sender<u64>,
}

impl Drop for Live {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Waits this long after a change for more before deriving, so a burst becomes one frame.
const COALESCE: Duration = Duration::from_millis(30);

impl Live {
    /// Starts every watch and the derivation task on the current runtime.
    pub fn start(client: kube::Client, context: String) -> Live {
        Live::start_on(client, context, String::new())
    }

    /// As [`Live::start`], naming the connection's server in the summary and the log.
    pub fn start_for(client: kube::Client, conn: &Connection) -> Live {
        Live::start_on(client, conn.context.clone(), conn.server.clone())
    }

    fn start_on(client: kube::Client, context: String, server: String) -> Live {
        let (changed_tx, changed_rx) = watch::channel(0u64);
        let empty = Arc::new(Derived {
            view: Arc::new(MeshView { context: context.clone(), ..MeshView::default() }),
            at: SystemTime::now(),
        });
        let (derived_tx, derived) = watch::channel(empty);
        let mut live = Live {
            client,
            context,
            server,
            shared: Shared::default(),
            statuses: Vec::new(),
            tasks: Vec::new(),
            derived,
            changed: changed_tx.clone(),
        };
        live.spawn_watches(changed_tx);
        let statuses = live.statuses.clone();
        live.tasks.push(tokio::spawn(derive_loop(
            live.shared.clone(),
            live.context.clone(),
            statuses,
            changed_rx,
            derived_tx,
        )));
        live
    }

    fn spawn_watches(&mut self, changed: watch::Sender<u64>) {
        let label = if self.server.is_empty() { format!("context {}", self.context) } else { self.server.clone() };
        let trouble = Trouble::new(label);
        for (api, kind) in KINDS {
            let status = KindStatus::with_trouble(*api, trouble.clone());
            let sink = Arc::new(MeshSink { shared: self.shared.clone(), kind, api: *api, staging: Default::default() });
            self.statuses.push(status.clone());
            self.tasks.push(tokio::spawn(run_into(self.client.clone(), status, sink, None, changed.clone())));
        }
    }

    /// Drops every watch and lists everything again.
    pub fn restart(&mut self) {
        let fresh = Live::start_on(self.client.clone(), self.context.clone(), self.server.clone());
        *self = fresh;
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<Derived>> {
        self.derived.clone()
    }

    pub fn snapshot(&self) -> Arc<RwLock<Snapshot>> {
        self.shared.snap.clone()
    }

    /// The newest derived view.
    pub fn latest(&self) -> Arc<Derived> {
        self.derived.borrow().clone()
    }

    /// Objects that could not be read, named, across every kind.
    pub fn warnings(&self) -> Vec<String> {
        self.statuses.iter().flat_map(|s| s.warnings()).collect()
    }

    pub fn summary(&self) -> SyncSummary {
        summarize(&self.statuses, SystemTime::now(), &self.server)
    }

    /// Waits until every kind has listed (or is forbidden) and a view derived after that is
    /// available. For headless commands: a broken connection (refused, DNS, TLS, 401, timeout)
    /// ends the wait at once with its cause.
    pub async fn synced(&self, deadline: Duration) -> Result<Arc<Derived>, String> {
        let end = tokio::time::Instant::now() + deadline;
        let mut rx = self.derived.clone();
        loop {
            let s = self.summary();
            if s.all_synced {
                let synced_at = SystemTime::now();
                // The derivation of the last change may have started before this moment; ask
                // for one that surely sees everything listed.
                self.changed.send_modify(|v| *v = v.wrapping_add(1));
                // A derivation that started after the last kind synced.
                loop {
                    let d = rx.borrow_and_update().clone();
                    if d.at >= synced_at {
                        return Ok(d);
                    }
                    if tokio::time::timeout_at(end, rx.changed()).await.is_err() {
                        return Err("timed out waiting for the view to be derived".into());
                    }
                }
            }
            if let Some(cause) = s.cause.as_ref().filter(|c| c.is_connection()) {
                return Err(format!("cannot sync the watches: {cause}"));
            }
            if tokio::time::Instant::now() >= end {
                return Err(format!("timed out waiting for the watches to sync: {}", s.text));
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), rx.changed()).await;
        }
    }
}

fn summarize(statuses: &[Arc<KindStatus>], now: SystemTime, server: &str) -> SyncSummary {
    let mut listing = 0usize;
    let mut loading = 0usize;
    let mut forbidden = Vec::new();
    let mut down_since: Option<SystemTime> = None;
    // The first connection cause wins over other failures: it is the one to fix.
    let cause = statuses.iter().filter_map(|s| s.cause()).min_by_key(|c| !c.is_connection());
    for s in statuses {
        match s.state() {
            SyncState::Listing { loaded } => {
                listing += 1;
                loading += loaded;
            }
            SyncState::Synced => {}
            SyncState::Reconnecting { since, .. } => down_since = Some(down_since.map_or(since, |d| d.min(since))),
            SyncState::Forbidden { .. } => forbidden.push(s.kind.display()),
        }
    }
    let text = if let Some(since) = down_since {
        let secs = now.duration_since(since).map(|d| d.as_secs()).unwrap_or(0);
        match (&cause, server) {
            (Some(c), "") => format!("stale {} · reconnecting: {c}", human(secs)),
            (Some(c), server) => format!("stale {} · reconnecting: {c} ({server})", human(secs)),
            (None, _) => format!("stale {} · reconnecting", human(secs)),
        }
    } else if listing > 0 {
        format!("syncing {listing} kinds · {loading} objects")
    } else if !forbidden.is_empty() {
        format!("synced · forbidden: {}", forbidden.join(", "))
    } else {
        "synced".into()
    };
    SyncSummary {
        text,
        stale: down_since.is_some(),
        all_synced: listing == 0 && down_since.is_none(),
        forbidden,
        cause,
    }
}

fn human(secs: u64) -> String {
    match secs {
        0..120 => format!("{secs}s"),
        120..7200 => format!("{}m", secs / 60),
        _ => format!("{}h", secs / 3600),
    }
}

/// The kinds RBAC refuses, as the snapshot names them.
fn forbidden_kinds(statuses: &[Arc<KindStatus>]) -> Hidden {
    let forbidden = statuses.iter().filter(|s| matches!(s.state(), SyncState::Forbidden { .. }));
    Hidden::of_kinds(forbidden.filter_map(|s| KINDS.iter().find(|(api, _)| *api == s.kind).map(|(_, kind)| *kind)))
}

/// Derives after each burst of changes. A burst that only moved sync progress (a list page
/// staged, a kind synced with nothing new) republishes the last view under a fresh time
/// instead of deriving again: during a 100,000-pod list that is hundreds of derivations saved.
async fn derive_loop(
    shared: Shared,
    context: String,
    statuses: Vec<Arc<KindStatus>>,
    mut changed: watch::Receiver<u64>,
    out: watch::Sender<Arc<Derived>>,
) {
    let mut derived_from: Option<u64> = None;
    while changed.changed().await.is_ok() {
        tokio::time::sleep(COALESCE).await;
        changed.borrow_and_update();
        // The derivation must know what it cannot see: a refusal changes the view like an object.
        let hidden = forbidden_kinds(&statuses);
        if shared.snap.read().unwrap_or_else(|e| e.into_inner()).hidden != hidden {
            shared.write(|snap| snap.hidden = hidden);
        }
        let at = SystemTime::now();
        if derived_from == Some(shared.generation.load(Ordering::Relaxed)) {
            let view = out.borrow().view.clone();
            let _ = out.send(Arc::new(Derived { view, at }));
            continue;
        }
        let snap = shared.snap.clone();
        let generation = shared.generation.clone();
        let context = context.clone();
        let view = tokio::task::spawn_blocking(move || {
            let guard = snap.read().unwrap_or_else(|e| e.into_inner());
            // Read under the lock: no change can slip between this count and the derivation.
            let from = generation.load(Ordering::Relaxed);
            let mut v = derive(&guard, at);
            v.context = context;
            (v, from)
        })
        .await;
        if let Ok((view, from)) = view {
            derived_from = Some(from);
            let _ = out.send(Arc::new(Derived { view: Arc::new(view), at }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_watched_kind_is_one_the_model_can_report_hidden() {
        for (api, kind) in KINDS {
            let input = crate::mesh::Input::from_kind(kind).unwrap_or_else(|| panic!("{kind} unknown to the model"));
            assert_eq!(input.resource(), api.display(), "{kind}");
        }
    }

    #[test]
    fn summaries_name_what_is_missing_and_how_stale() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let a = KindStatus::new(KINDS[0].0);
        let b = KindStatus::new(KINDS[1].0);
        assert_eq!(summarize(&[a.clone(), b.clone()], now, "").text, "syncing 2 kinds · 0 objects");
        a.set_state_for_tests(SyncState::Synced);
        b.set_state_for_tests(SyncState::Forbidden { message: "no".into() });
        let s = summarize(&[a.clone(), b.clone()], now, "");
        assert_eq!((s.text.as_str(), s.all_synced), ("synced · forbidden: pods", true));
        b.set_state_for_tests(SyncState::Reconnecting { since: now - Duration::from_secs(75), error: "eof".into() });
        let s = summarize(&[a.clone(), b.clone()], now, "");
        assert_eq!((s.text.as_str(), s.stale, s.all_synced), ("stale 75s · reconnecting", true, false));
        // The cause of a failing watch is named, with the server when it is known.
        b.set_down_for_tests(Cause::Refused);
        let s = summarize(&[a, b], now, "https://10.0.0.1:6443");
        assert!(s.text.ends_with("reconnecting: connection refused (https://10.0.0.1:6443)"), "{}", s.text);
        assert_eq!(s.cause, Some(Cause::Refused));
    }
}
