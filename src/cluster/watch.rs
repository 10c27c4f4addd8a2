//! One list-and-watch loop per kind, keeping slim decoded objects in a reflector: paged
//! initial list, watch from the list's version with bookmarks, re-list on 410, reconnect with
//! backoff, and a sync state the status bar can show. Malformed objects are skipped with a
//! warning naming them; a forbidden kind degrades to an empty, flagged reflector.

use futures::TryStreamExt;
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube::core::Request;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

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

/// The latest objects of one kind plus its sync state.
pub struct Reflector<T> {
    pub kind: ApiKind,
    items: RwLock<HashMap<(String, String), Arc<T>>>,
    state: RwLock<SyncState>,
    warnings: RwLock<Vec<String>>,
}

impl<T> Reflector<T> {
    pub fn new(kind: ApiKind) -> Arc<Self> {
        Arc::new(Reflector {
            kind,
            items: RwLock::new(HashMap::new()),
            state: RwLock::new(SyncState::Listing { loaded: 0 }),
            warnings: RwLock::new(Vec::new()),
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
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Objects that could not be decoded, named; the newest 20.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_state(&self, s: SyncState) {
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = s;
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

#[derive(serde::Deserialize)]
struct RawList {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<Box<RawValue>>,
}

#[derive(serde::Deserialize, Default)]
struct ListMeta {
    #[serde(rename = "resourceVersion", default)]
    resource_version: Option<String>,
    #[serde(rename = "continue", default)]
    continue_: Option<String>,
}

/// A name for an undecodable object, read leniently from its metadata.
fn describe(raw: &RawValue) -> String {
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
    match (m.metadata.namespace, m.metadata.name) {
        (Some(ns), Some(n)) => format!("{ns}/{n}"),
        (None, Some(n)) => n,
        _ => "<unnamed>".into(),
    }
}

enum Outcome {
    Relist,
    Resume(String),
}

/// Runs the list/watch loop for one kind until the task is dropped. `changed` is bumped after
/// every change so a snapshot builder can debounce.
pub async fn run<T>(
    client: kube::Client,
    refl: Arc<Reflector<T>>,
    namespace: Option<String>,
    changed: watch::Sender<u64>,
) where
    T: DeserializeOwned + Keyed + Send + Sync + 'static,
{
    let req = Request::new(refl.kind.path(namespace.as_deref()));
    let mut backoff = Duration::from_millis(250);
    let mut resume: Option<String> = None;
    let bump = || changed.send_modify(|v| *v = v.wrapping_add(1));
    loop {
        let rv = match resume.take() {
            Some(rv) => rv,
            None => match list(&client, &req, &refl, &bump).await {
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
        match watch_once(&client, &req, &refl, &rv, &bump).await {
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

fn degrade<T>(refl: &Reflector<T>, e: &kube::Error) {
    match e {
        kube::Error::Api(s) if s.code == 403 => refl.set_state(SyncState::Forbidden { message: s.message.clone() }),
        other => {
            let since = match refl.state() {
                SyncState::Reconnecting { since, .. } => since,
                _ => SystemTime::now(),
            };
            refl.set_state(SyncState::Reconnecting { since, error: other.to_string() });
        }
    }
}

async fn list<T>(
    client: &kube::Client,
    req: &Request,
    refl: &Reflector<T>,
    bump: &impl Fn(),
) -> Result<String, kube::Error>
where
    T: DeserializeOwned + Keyed,
{
    let mut fresh: HashMap<(String, String), Arc<T>> = HashMap::new();
    let mut cont: Option<String> = None;
    let first_listing = matches!(refl.state(), SyncState::Listing { .. });
    loop {
        let mut lp = ListParams::default().limit(500);
        if let Some(c) = &cont {
            lp = lp.continue_token(c);
        }
        let page: RawList = client.request(req.list(&lp).map_err(kube::Error::BuildRequest)?).await?;
        for raw in &page.items {
            match serde_json::from_str::<T>(raw.get()) {
                Ok(o) => {
                    fresh.insert(o.key(), Arc::new(o));
                }
                Err(e) => refl.warn(format!("{} {}: skipped, cannot be read: {e}", refl.kind.display(), describe(raw))),
            }
        }
        if first_listing {
            refl.set_state(SyncState::Listing { loaded: fresh.len() });
            bump();
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => cont = Some(c),
            None => {
                *refl.items.write().unwrap_or_else(|e| e.into_inner()) = fresh;
                refl.set_state(SyncState::Synced);
                bump();
                return Ok(page.metadata.resource_version.unwrap_or_default());
            }
        }
    }
}

async fn watch_once<T>(
    client: &kube::Client,
    req: &Request,
    refl: &Reflector<T>,
    rv: &str,
    bump: &impl Fn(),
) -> Result<Outcome, (kube::Error, String)>
where
    T: DeserializeOwned + Keyed,
{
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
        match serde_json::from_str::<T>(raw.get()) {
            Ok(o) => {
                let mut items = refl.items.write().unwrap_or_else(|e| e.into_inner());
                if deleted {
                    items.remove(&o.key());
                } else {
                    items.insert(o.key(), Arc::new(o));
                }
            }
            Err(e) => refl.warn(format!("{} {}: skipped, cannot be read: {e}", refl.kind.display(), describe(&raw))),
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
