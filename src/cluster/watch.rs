//! One list-and-watch loop per kind, keeping slim decoded objects in a reflector: paged
//! initial list, watch from the list's version with bookmarks, re-list on 410, reconnect with
//! backoff, and a sync state the status bar can show. Malformed objects are skipped with a
//! warning naming them; a forbidden kind degrades to an empty, flagged reflector. A failure
//! is classified (`cause.rs`) and logged once when it starts and once when it changes, however
//! many kinds and retries see it.

mod list;
mod trouble;

use super::cause::Cause;
use super::page::ListMeta;
use futures::TryStreamExt;
use kube::api::{WatchEvent, WatchParams};
use kube::core::Request;
use list::list;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
pub use trouble::Trouble;

/// Where an API kind lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiKind {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

impl ApiKind {
    pub fn path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.plural),
            None => format!("{base}/{}", self.plural),
        }
    }

    pub fn display(&self) -> String {
        if self.group.is_empty() { self.plural.to_string() } else { format!("{}.{}", self.plural, self.group) }
    }
}

/// A decoded object's identity in its reflector.
pub trait Keyed {
    fn key(&self) -> (String, String);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    /// Initial list in progress; `loaded` objects so far.
    Listing {
        loaded: usize,
    },
    Synced,
    /// The watch is down since `since`; the data shown is what was there then.
    Reconnecting {
        since: SystemTime,
        error: String,
    },
    /// RBAC refuses this kind; the view works without it.
    Forbidden {
        message: String,
    },
}

/// Where decoded objects of one kind go. The watch loop hands over raw JSON; the sink
/// decodes it into whatever slim form it keeps. Errors name the object and are kept as warnings.
pub trait Sink: Send + Sync {
    /// A fresh list begins: whatever an earlier, failed list staged is dropped.
    fn list_start(&self);
    /// One page of a fresh list, decoded into a staging area as it arrives so the raw pages
    /// are never all held at once (100,000 pods of raw JSON would be a gigabyte).
    fn list_page(&self, items: &[&RawValue]) -> Vec<String>;
    /// A whole page decoded in one scan of its text, calling `on_meta` with the list metadata
    /// as soon as it is read. `None` when this sink has no such decoder or an item would not
    /// decode: nothing of the page is kept, and it goes through `list_page`, which names the
    /// bad item. Two pages of one list may be decoding at once.
    fn list_text(&self, text: &[u8], on_meta: &mut dyn FnMut(&ListMeta)) -> Option<(ListMeta, usize)> {
        let _ = (text, on_meta);
        None
    }
    /// The list is complete: everything of this kind is replaced by what the pages held.
    fn list_done(&self);
    fn upsert(&self, raw: &RawValue) -> Result<(), String>;
    fn delete(&self, raw: &RawValue) -> Result<(), String>;
}

/// The sync state of one kind's watch, and what could not be read.
pub struct KindStatus {
    pub kind: ApiKind,
    state: RwLock<SyncState>,
    warnings: RwLock<Vec<String>>,
    /// Why the watch is down, while it is.
    cause: RwLock<Option<Cause>>,
    trouble: Arc<Trouble>,
}

impl KindStatus {
    pub fn new(kind: ApiKind) -> Arc<Self> {
        KindStatus::with_trouble(kind, Trouble::new(kind.display()))
    }

    /// A status whose connection problems are logged with those of the other kinds sharing
    /// `trouble`.
    pub fn with_trouble(kind: ApiKind, trouble: Arc<Trouble>) -> Arc<Self> {
        Arc::new(KindStatus {
            kind,
            state: RwLock::new(SyncState::Listing { loaded: 0 }),
            warnings: RwLock::new(Vec::new()),
            cause: RwLock::new(None),
            trouble,
        })
    }

    pub fn state(&self) -> SyncState {
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Why the watch is reconnecting; `None` while it is not.
    pub fn cause(&self) -> Option<Cause> {
        self.cause.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Objects that could not be decoded, named; the newest 20.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_state(&self, s: SyncState) {
        // Any answer from the server, even a refusal of this kind, means it is reachable.
        if !matches!(s, SyncState::Reconnecting { .. }) {
            *self.cause.write().unwrap_or_else(|e| e.into_inner()) = None;
            self.trouble.clear();
        }
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = s;
    }

    /// The watch failed for `cause`: reconnecting since the first failure in a row.
    fn set_down(&self, cause: Cause) {
        self.trouble.report(&cause);
        let since = match self.state() {
            SyncState::Reconnecting { since, .. } => since,
            _ => SystemTime::now(),
        };
        self.set_state(SyncState::Reconnecting { since, error: cause.to_string() });
        *self.cause.write().unwrap_or_else(|e| e.into_inner()) = Some(cause);
    }

    #[doc(hidden)]
    pub fn set_state_for_tests(&self, s: SyncState) {
        self.set_state(s);
    }

    #[doc(hidden)]
    pub fn set_down_for_tests(&self, cause: Cause) {
        self.set_down(cause);
    }

    fn warn(&self, w: String) {
        tracing::warn!("{w}");
        let mut ws = self.warnings.write().unwrap_or_else(|e| e.into_inner());
        if ws.len() >= 20 {
            ws.remove(0);
        }
        ws.push(w);
    }
}

/// A sink that keeps one kind's objects decoded as `T` in a map, with its status.
pub struct Reflector<T> {
    pub status: Arc<KindStatus>,
    items: RwLock<HashMap<(String, String), Arc<T>>>,
    staging: std::sync::Mutex<HashMap<(String, String), Arc<T>>>,
}

impl<T> Reflector<T> {
    pub fn new(kind: ApiKind) -> Arc<Self> {
        Arc::new(Reflector {
            status: KindStatus::new(kind),
            items: RwLock::new(HashMap::new()),
            staging: std::sync::Mutex::new(HashMap::new()),
        })
    }

    pub fn snapshot(&self) -> Vec<Arc<T>> {
        self.items.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.items.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn state(&self) -> SyncState {
        self.status.state()
    }

    pub fn warnings(&self) -> Vec<String> {
        self.status.warnings()
    }
}

impl<T: DeserializeOwned + Keyed + Send + Sync> Sink for Reflector<T> {
    fn list_start(&self) {
        self.staging.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn list_page(&self, items: &[&RawValue]) -> Vec<String> {
        let mut fresh = self.staging.lock().unwrap_or_else(|e| e.into_inner());
        let mut warnings = Vec::new();
        for raw in items {
            match serde_json::from_str::<T>(raw.get()) {
                Ok(o) => {
                    fresh.insert(o.key(), Arc::new(o));
                }
                Err(e) => warnings.push(format!(
                    "{} {}: skipped, cannot be read: {e}",
                    self.status.kind.display(),
                    describe(raw)
                )),
            }
        }
        warnings
    }

    fn list_done(&self) {
        let fresh = std::mem::take(&mut *self.staging.lock().unwrap_or_else(|e| e.into_inner()));
        *self.items.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    }

    fn upsert(&self, raw: &RawValue) -> Result<(), String> {
        let o = serde_json::from_str::<T>(raw.get())
            .map_err(|e| format!("{} {}: skipped, cannot be read: {e}", self.status.kind.display(), describe(raw)))?;
        self.items.write().unwrap_or_else(|e| e.into_inner()).insert(o.key(), Arc::new(o));
        Ok(())
    }

    fn delete(&self, raw: &RawValue) -> Result<(), String> {
        let key = key_of(raw);
        self.items.write().unwrap_or_else(|e| e.into_inner()).remove(&key);
        Ok(())
    }
}

/// (namespace, name) read leniently from an object's metadata.
pub fn key_of(raw: &RawValue) -> (String, String) {
    #[derive(serde::Deserialize, Default)]
    struct M {
        #[serde(default)]
        metadata: Meta,
    }
    #[derive(serde::Deserialize, Default)]
    struct Meta {
        #[serde(default)]
        namespace: Option<String>,
        #[serde(default)]
        name: Option<String>,
    }
    let m: M = serde_json::from_str(raw.get()).unwrap_or_default();
    (m.metadata.namespace.unwrap_or_default(), m.metadata.name.unwrap_or_default())
}

/// A name for an undecodable object, read leniently from its metadata.
pub fn describe(raw: &RawValue) -> String {
    match key_of(raw) {
        (ns, n) if !ns.is_empty() && !n.is_empty() => format!("{ns}/{n}"),
        (_, n) if !n.is_empty() => n,
        _ => "<unnamed>".into(),
    }
}

enum Outcome {
    Relist,
    Resume(String),
}

/// Runs the list/watch loop for one kind into a reflector until the task is dropped.
pub async fn run<T>(
    client: kube::Client,
    refl: Arc<Reflector<T>>,
    namespace: Option<String>,
    changed: watch::Sender<u64>,
) where
    T: DeserializeOwned + Keyed + Send + Sync + 'static,
{
    let status = refl.status.clone();
    run_into(client, status, refl, namespace, changed).await
}

/// Runs the list/watch loop for one kind into any sink. `changed` is bumped after every change
/// so a snapshot builder can debounce.
pub async fn run_into(
    client: kube::Client,
    refl: Arc<KindStatus>,
    sink: Arc<dyn Sink>,
    namespace: Option<String>,
    changed: watch::Sender<u64>,
) {
    let req = Request::new(refl.kind.path(namespace.as_deref()));
    let mut backoff = Duration::from_millis(250);
    let mut resume: Option<String> = None;
    let bump = || changed.send_modify(|v| *v = v.wrapping_add(1));
    loop {
        let rv = match resume.take() {
            Some(rv) => rv,
            None => match list(&client, &req, &refl, &sink, &bump).await {
                Ok(rv) => {
                    backoff = Duration::from_millis(250);
                    rv
                }
                Err(e) => {
                    degrade(&refl, &e);
                    bump();
                    let wait = if matches!(&e, kube::Error::Api(s) if s.code == 403) {
                        Duration::from_secs(30)
                    } else {
                        backoff
                    };
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            },
        };
        match watch_once(&client, &req, &refl, sink.as_ref(), &rv, &bump).await {
            Ok(Outcome::Resume(rv)) => {
                backoff = Duration::from_millis(250);
                resume = Some(rv);
            }
            Ok(Outcome::Relist) => {}
            Err((e, rv)) => {
                degrade(&refl, &e);
                bump();
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                resume = Some(rv);
            }
        }
    }
}

fn degrade(refl: &KindStatus, e: &kube::Error) {
    match e {
        kube::Error::Api(s) if s.code == 403 => refl.set_state(SyncState::Forbidden { message: s.message.clone() }),
        other => refl.set_down(Cause::of(other)),
    }
}

async fn watch_once(
    client: &kube::Client,
    req: &Request,
    refl: &KindStatus,
    sink: &dyn Sink,
    rv: &str,
    bump: &impl Fn(),
) -> Result<Outcome, (kube::Error, String)> {
    let mut rv = rv.to_string();
    let wp = WatchParams::default().timeout(290);
    let http = req.watch(&wp, &rv).map_err(|e| (kube::Error::BuildRequest(e), rv.clone()))?;
    let stream = client.request_events::<Box<RawValue>>(http).await.map_err(|e| (e, rv.clone()))?;
    futures::pin_mut!(stream);
    if refl.state() != SyncState::Synced {
        refl.set_state(SyncState::Synced);
        bump();
    }
    loop {
        let ev = match stream.try_next().await {
            Ok(Some(ev)) => ev,
            Ok(None) => return Ok(Outcome::Resume(rv)),
            Err(kube::Error::Api(s)) if s.code == 410 => return Ok(Outcome::Relist),
            Err(e) => return Err((e, rv)),
        };
        let (raw, deleted) = match ev {
            WatchEvent::Added(raw) | WatchEvent::Modified(raw) => (raw, false),
            WatchEvent::Deleted(raw) => (raw, true),
            WatchEvent::Bookmark(b) => {
                rv = b.metadata.resource_version;
                continue;
            }
            WatchEvent::Error(s) if s.code == 410 => return Ok(Outcome::Relist),
            WatchEvent::Error(s) => return Err((kube::Error::Api(s), rv)),
        };
        if let Some(v) = object_rv(&raw) {
            rv = v;
        }
        let applied = if deleted { sink.delete(&raw) } else { sink.upsert(&raw) };
        if let Err(w) = applied {
            refl.warn(w);
        }
        bump();
    }
}

fn object_rv(raw: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct M {
        metadata: Meta,
    }
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(rename = "resourceVersion")]
        resource_version: Option<String>,
    }
    serde_json::from_str::<M>(raw.get()).ok()?.metadata.resource_version
}
