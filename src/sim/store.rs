//! The simulated cluster's object store: every object by kind, namespace and name, the
//! resourceVersion counter, and the event history that watches and controllers read.
//! It stores and versions objects; it runs no admission, defaulting or patch logic (see
//! `ops`), and never blocks on IO.

use super::kinds::Kind;
use crate::labels::{Labels, labels_of};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch};

/// Renders an object on demand. The scale generator stores 100,000 pods as an index into a
/// generator instead of a `Value` each, which keeps the simulated cluster's memory bounded.
pub trait Render: Send + Sync {
    fn render(&self, id: u64) -> Value;

    /// Appends the object as JSON bytes with `metadata.resourceVersion` set to `rv`. Lists of
    /// 100,000 generated pods go through here, so a renderer may write bytes directly into
    /// the response instead of building a `Value`; the bytes must equal `render` with that
    /// version.
    fn write_json(&self, id: u64, rv: u64, out: &mut Vec<u8>) {
        let mut v = self.render(id);
        v["metadata"]["resourceVersion"] = json!(rv.to_string());
        let _ = serde_json::to_writer(out, &v);
    }

    fn render_json(&self, id: u64, rv: u64) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_json(id, rv, &mut out);
        out
    }
}

#[derive(Clone)]
enum Body {
    Value(Arc<Value>),
    Lazy(Arc<dyn Render>, u64),
}

/// One stored object.
#[derive(Clone)]
pub struct Entry {
    body: Body,
    pub labels: Arc<Labels>,
    pub rv: u64,
}

impl Entry {
    /// The object as JSON bytes, without building a `Value` for generated objects.
    /// Appends the object as JSON.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match &self.body {
            Body::Value(v) => {
                let _ = serde_json::to_writer(out, v.as_ref());
            }
            Body::Lazy(r, id) => r.write_json(*id, self.rv, out),
        }
    }

    /// Rendered on demand (generated objects); the list path writes these as bytes.
    pub fn is_lazy(&self) -> bool {
        matches!(self.body, Body::Lazy(..))
    }

    /// The object with its current `metadata.resourceVersion`.
    pub fn value(&self) -> Arc<Value> {
        match &self.body {
            Body::Value(v) => v.clone(),
            Body::Lazy(r, id) => {
                let mut v = r.render(*id);
                v["metadata"]["resourceVersion"] = json!(self.rv.to_string());
                Arc::new(v)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// A change to one object, as watches and controllers see it.
#[derive(Clone)]
pub struct Event {
    pub rv: u64,
    pub kind: &'static Kind,
    pub namespace: String,
    pub name: String,
    pub kind_of_change: EventType,
    pub object: Arc<Value>,
    pub labels: Arc<Labels>,
    /// Labels before a modification, so a label-selected watch can tell an object leaving
    /// its selection (sent as DELETED) from one that never matched.
    pub prev_labels: Option<Arc<Labels>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("{0} {1:?} already exists")]
    AlreadyExists(&'static str, String),
    #[error("{0} {1:?} not found")]
    NotFound(&'static str, String),
    #[error(
        "Operation cannot be fulfilled on {0} {1:?}: the object has been modified; please apply your changes to the latest version and try again"
    )]
    Conflict(&'static str, String),
    #[error("too old resource version: {0} ({1})")]
    Gone(u64, u64),
}

type Bucket = BTreeMap<(String, String), Entry>;

struct Inner {
    rv: u64,
    buckets: HashMap<(&'static str, &'static str), Bucket>,
    history: VecDeque<Event>,
    /// Events at or below this version are no longer in `history`; watching from them is 410.
    compacted: u64,
    subscribers: Vec<mpsc::UnboundedSender<Event>>,
}

pub struct Store {
    inner: Mutex<Inner>,
    latest: watch::Sender<u64>,
    history_cap: usize,
}

/// A page of a list.
pub struct ListPage<T = Arc<Value>> {
    pub items: Vec<T>,
    pub rv: u64,
    /// The (namespace, name) after which the next page starts, when there is one.
    pub next: Option<(String, String)>,
}

pub struct ListQuery<'a> {
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    pub selector: Option<&'a crate::labels::Selector>,
    pub limit: Option<usize>,
    pub after: Option<(String, String)>,
}

fn meta_str<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or_default()
}

impl Store {
    pub fn new(history_cap: usize) -> Arc<Store> {
        Arc::new(Store {
            inner: Mutex::new(Inner {
                rv: 1,
                buckets: HashMap::new(),
                history: VecDeque::new(),
                compacted: 1,
                subscribers: Vec::new(),
            }),
            latest: watch::channel(1).0,
            history_cap,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// The oldest version a watch may still start from.
    pub fn compacted_rv(&self) -> u64 {
        self.lock().compacted
    }

    /// Resolves when the store's version moves past what the receiver last saw.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Every event from now on, in order, never dropped. For in-process controllers.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().subscribers.push(tx);
        rx
    }

    pub fn get(&self, kind: &'static Kind, namespace: &str, name: &str) -> Option<Entry> {
        let inner = self.lock();
        inner
            .buckets
            .get(&(kind.group, kind.plural))
            .and_then(|b| b.get(&(namespace.to_string(), name.to_string())))
            .cloned()
    }

    pub fn list(&self, kind: &'static Kind, q: &ListQuery<'_>) -> ListPage {
        let page = self.list_entries(kind, q);
        ListPage { items: page.items.iter().map(Entry::value).collect(), rv: page.rv, next: page.next }
    }

    /// Like `list`, but the entries themselves, so large lists can be written as bytes.
    pub fn list_entries(&self, kind: &'static Kind, q: &ListQuery<'_>) -> ListPage<Entry> {
        let inner = self.lock();
        let rv = inner.rv;
        let mut items = Vec::new();
        let mut next = None;
        let Some(bucket) = inner.buckets.get(&(kind.group, kind.plural)) else {
            return ListPage { items, rv, next };
        };
        let ns = q.namespace.unwrap_or("").to_string();
        let start = match &q.after {
            Some(after) => std::ops::Bound::Excluded(after.clone()),
            None => std::ops::Bound::Included((ns.clone(), String::new())),
        };
        let limit = q.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let mut last: Option<(String, String)> = None;
        for ((ons, oname), entry) in bucket.range((start, std::ops::Bound::Unbounded)) {
            if q.namespace.is_some() && *ons != ns {
                break;
            }
            if q.name.is_some_and(|n| n != oname) {
                continue;
            }
            if q.selector.is_some_and(|s| !s.matches(&entry.labels)) {
                continue;
            }
            if items.len() == limit {
                next = last.clone();
                break;
            }
            items.push(entry.clone());
            last = Some((ons.clone(), oname.clone()));
        }
        ListPage { items, rv, next }
    }

    /// Every stored object of a kind in a namespace (or all), without paging.
    pub fn all(&self, kind: &'static Kind, namespace: Option<&str>) -> Vec<Arc<Value>> {
        self.list(kind, &ListQuery { namespace, name: None, selector: None, limit: None, after: None }).items
    }

    /// Stores a new object, assigning resourceVersion. `uid`, `creationTimestamp` and the
    /// other create-time fields are the caller's (see `ops`).
    pub fn create(&self, kind: &'static Kind, mut obj: Value) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.lock();
        let ns = meta_str(&obj, "namespace").to_string();
        let name = meta_str(&obj, "name").to_string();
        let key = (ns.clone(), name.clone());
        if inner.buckets.get(&(kind.group, kind.plural)).is_some_and(|b| b.contains_key(&key)) {
            return Err(StoreError::AlreadyExists(kind.plural, name));
        }
        inner.rv += 1;
        let rv = inner.rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let labels = Arc::new(labels_of(&obj));
        let obj = Arc::new(obj);
        inner
            .buckets
            .entry((kind.group, kind.plural))
            .or_default()
            .insert(key, Entry { body: Body::Value(obj.clone()), labels: labels.clone(), rv });
        let ev = Event {
            rv,
            kind,
            namespace: ns,
            name,
            kind_of_change: EventType::Added,
            object: obj.clone(),
            labels,
            prev_labels: None,
        };
        self.record(&mut inner, ev);
        Ok(obj)
    }

    /// Inserts an object rendered on demand, for generated clusters. No event is recorded:
    /// generation happens before anything watches.
    pub fn insert_lazy(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        labels: Arc<Labels>,
        render: Arc<dyn Render>,
        id: u64,
    ) {
        let mut inner = self.lock();
        inner.rv += 1;
        let rv = inner.rv;
        inner.compacted = rv;
        inner
            .buckets
            .entry((kind.group, kind.plural))
            .or_default()
            .insert((namespace.to_string(), name.to_string()), Entry { body: Body::Lazy(render, id), labels, rv });
        let _ = self.latest.send(rv);
    }

    /// Replaces a stored object. With `expected_rv`, fails with Conflict unless the stored
    /// version matches (the optimistic-concurrency precondition of update).
    pub fn update(
        &self,
        kind: &'static Kind,
        mut obj: Value,
        expected_rv: Option<u64>,
    ) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.lock();
        let ns = meta_str(&obj, "namespace").to_string();
        let name = meta_str(&obj, "name").to_string();
        let key = (ns.clone(), name.clone());
        let Some(current) = inner.buckets.get(&(kind.group, kind.plural)).and_then(|b| b.get(&key)) else {
            return Err(StoreError::NotFound(kind.plural, name));
        };
        if expected_rv.is_some_and(|e| e != current.rv) {
            return Err(StoreError::Conflict(kind.plural, name));
        }
        let prev_labels = current.labels.clone();
        inner.rv += 1;
        let rv = inner.rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let labels = Arc::new(labels_of(&obj));
        let obj = Arc::new(obj);
        inner
            .buckets
            .get_mut(&(kind.group, kind.plural))
            .expect("bucket exists")
            .insert(key, Entry { body: Body::Value(obj.clone()), labels: labels.clone(), rv });
        let ev = Event {
            rv,
            kind,
            namespace: ns,
            name,
            kind_of_change: EventType::Modified,
            object: obj.clone(),
            labels,
            prev_labels: Some(prev_labels),
        };
        self.record(&mut inner, ev);
        Ok(obj)
    }

    pub fn delete(&self, kind: &'static Kind, namespace: &str, name: &str) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.lock();
        let key = (namespace.to_string(), name.to_string());
        let Some(entry) = inner.buckets.get_mut(&(kind.group, kind.plural)).and_then(|b| b.remove(&key)) else {
            return Err(StoreError::NotFound(kind.plural, name.to_string()));
        };
        inner.rv += 1;
        let rv = inner.rv;
        let mut obj = (*entry.value()).clone();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let obj = Arc::new(obj);
        let ev = Event {
            rv,
            kind,
            namespace: key.0,
            name: key.1,
            kind_of_change: EventType::Deleted,
            object: obj.clone(),
            labels: entry.labels,
            prev_labels: None,
        };
        self.record(&mut inner, ev);
        Ok(obj)
    }

    /// Events of one kind after `since`, or Gone when the history no longer reaches back.
    pub fn events_since(&self, kind: &'static Kind, since: u64) -> Result<Vec<Event>, StoreError> {
        let inner = self.lock();
        if since < inner.compacted {
            return Err(StoreError::Gone(since, inner.compacted));
        }
        // History is ordered by rv; skip to the first newer event by binary search.
        let start = inner.history.partition_point(|e| e.rv <= since);
        Ok(inner
            .history
            .range(start..)
            .filter(|e| std::ptr::eq(e.kind, kind) || (e.kind.group == kind.group && e.kind.plural == kind.plural))
            .cloned()
            .collect())
    }

    /// Forget history up to now, so every existing watch position becomes too old (410).
    pub fn compact_all(&self) {
        let mut inner = self.lock();
        inner.compacted = inner.rv;
        inner.history.clear();
    }

    fn record(&self, inner: &mut Inner, ev: Event) {
        inner.subscribers.retain(|s| s.send(ev.clone()).is_ok());
        inner.history.push_back(ev);
        while inner.history.len() > self.history_cap {
            if let Some(old) = inner.history.pop_front() {
                inner.compacted = old.rv;
            }
        }
        let _ = self.latest.send(inner.rv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::kinds;

    fn cm(ns: &str, name: &str) -> Value {
        json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":name,"namespace":ns,"labels":{"a":name}}})
    }

    #[test]
    fn versions_conflicts_and_history() {
        let store = Store::new(3);
        let k = kinds::by_resource("", "v1", "configmaps").unwrap();
        let a = store.create(k, cm("x", "a")).unwrap();
        assert_eq!(a["metadata"]["resourceVersion"], "2");
        assert_eq!(store.create(k, cm("x", "a")).unwrap_err(), StoreError::AlreadyExists("configmaps", "a".into()));
        assert!(matches!(store.update(k, cm("x", "a"), Some(1)), Err(StoreError::Conflict(..))));
        store.update(k, cm("x", "a"), Some(2)).unwrap();
        store.create(k, cm("y", "b")).unwrap();
        store.delete(k, "x", "a").unwrap();
        // cap 3: the first event (rv 2) fell out of the history.
        assert!(matches!(store.events_since(k, 1), Err(StoreError::Gone(1, 2))));
        let evs = store.events_since(k, 2).unwrap();
        let seen: Vec<_> = evs.iter().map(|e| (e.rv, e.kind_of_change)).collect();
        assert_eq!(seen, vec![(3, EventType::Modified), (4, EventType::Added), (5, EventType::Deleted)]);
    }

    #[test]
    fn list_pages_and_namespaces() {
        let store = Store::new(100);
        let k = kinds::by_resource("", "v1", "configmaps").unwrap();
        for (ns, n) in [("a", "1"), ("a", "2"), ("b", "1"), ("b", "2"), ("c", "1")] {
            store.create(k, cm(ns, n)).unwrap();
        }
        let q = ListQuery { namespace: Some("b"), name: None, selector: None, limit: None, after: None };
        assert_eq!(store.list(k, &q).items.len(), 2);
        let q = ListQuery { namespace: None, name: None, selector: None, limit: Some(2), after: None };
        let p1 = store.list(k, &q);
        assert_eq!(p1.items.len(), 2);
        let q = ListQuery { after: p1.next.clone(), ..q };
        let p2 = store.list(k, &q);
        assert_eq!(p2.items[0]["metadata"]["namespace"], "b");
        let q = ListQuery { after: p2.next.clone(), ..q };
        let p3 = store.list(k, &q);
        assert_eq!(p3.items.len(), 1);
        assert!(p3.next.is_none());
    }
}
