//! Watch streams: initial events, resumption from a resourceVersion, 410 Expired for versions
//! the history no longer reaches, bookmarks, timeouts, label and field selection, and
//! closing on the watch-close fault. Reads the store's history; never blocks the store.

use super::resources::{as_version, parse_field_selector};
use super::{ApiState, Query, Target, status, table};
use crate::labels::Selector;
use crate::sim::store::{EventType, ListQuery, StoreError};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

struct Filter {
    namespace: Option<String>,
    name: Option<String>,
    selector: Selector,
}

impl Filter {
    fn scope(&self, ns: &str, name: &str) -> bool {
        self.namespace.as_deref().is_none_or(|n| n == ns) && self.name.as_deref().is_none_or(|n| n == name)
    }
}

pub(crate) async fn watch(st: Arc<ApiState>, t: Target, query: &Query, accept: &str) -> Response {
    let sel = match Selector::parse(query.get("labelSelector").unwrap_or("")) {
        Ok(s) => s,
        Err(e) => return status::error(400, "BadRequest", &e),
    };
    let fsel = match parse_field_selector(query.get("fieldSelector")) {
        Ok(f) => f,
        Err(e) => return status::error(400, "BadRequest", &e),
    };
    let filter = Filter { namespace: t.namespace.clone().or(fsel.namespace), name: fsel.name, selector: sel };
    let rv_param = query.get("resourceVersion").filter(|r| !r.is_empty()).map(str::to_string);
    let start_rv = match rv_param.as_deref() {
        None | Some("0") => None,
        Some(r) => match r.parse::<u64>() {
            Ok(v) => Some(v),
            Err(_) => return status::error(400, "BadRequest", &format!("invalid resourceVersion {r:?}")),
        },
    };
    let send_initial = query.flag("sendInitialEvents") || start_rv.is_none();
    let bookmarks = query.flag("allowWatchBookmarks");
    let timeout = query.get("timeoutSeconds").and_then(|s| s.parse::<u64>().ok()).map(Duration::from_secs);
    let as_table = table::wants_table(accept);
    let include = query.get("includeObject").unwrap_or("Metadata").to_string();
    let (tx, mut rx) = mpsc::channel::<Bytes>(256);
    tokio::spawn(async move {
        let w = Watcher { st, t, filter, tx, as_table, include, bookmarks };
        // Streaming lists (`sendInitialEvents=true` with a resourceVersion) end their initial
        // events with a bookmark annotated `k8s.io/initial-events-end`.
        let initial_end = send_initial && rv_param.is_some();
        w.run(start_rv, send_initial, initial_end, timeout).await;
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|o| o.map(Ok::<_, std::convert::Infallible>)));
    let mut resp = Response::new(Body::from_stream(stream));
    let ct = if as_table { "application/json;as=Table;v=v1;g=meta.k8s.io" } else { "application/json" };
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
    resp
}

struct Watcher {
    st: Arc<ApiState>,
    t: Target,
    filter: Filter,
    tx: mpsc::Sender<Bytes>,
    as_table: bool,
    include: String,
    bookmarks: bool,
}

impl Watcher {
    async fn send(&self, typ: &str, obj: &Value) -> bool {
        let object = if self.as_table && typ != "ERROR" && typ != "BOOKMARK" {
            table::single(self.t.kind, obj, self.st.cluster.clock.now(), &self.include)
        } else {
            obj.clone()
        };
        let mut line = serde_json::to_vec(&json!({"type": typ, "object": object})).unwrap_or_default();
        line.push(b'\n');
        self.tx.send(Bytes::from(line)).await.is_ok()
    }

    async fn bookmark(&self, rv: u64, initial_end: bool) -> bool {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj =
            json!({"kind": self.t.kind.kind, "apiVersion": self.t.kind.api_version(&self.t.version), "metadata": meta});
        self.send("BOOKMARK", &obj).await
    }

    async fn gone(&self, msg: String) {
        let _ = self.send("ERROR", &status::status_body(410, "Expired", &msg, None)).await;
    }

    async fn run(self, start_rv: Option<u64>, send_initial: bool, initial_end: bool, timeout: Option<Duration>) {
        // During a watch outage the watch waits here; it then starts as one made afterwards,
        // against whatever history is left.
        let mut hold = self.st.watch_hold.subscribe();
        while *hold.borrow_and_update() > 0 {
            tokio::select! {
                r = hold.changed() => if r.is_err() { return },
                _ = self.tx.closed() => return,
            }
        }
        let store = self.st.cluster.store.clone();
        let kind = self.t.kind;
        let mut changes = store.changes();
        let mut epoch = self.st.watch_epoch.subscribe();
        let deadline = timeout.map(|d| tokio::time::Instant::now() + d);
        let mut known: HashSet<(String, String)> = HashSet::new();
        let mut cursor = match start_rv {
            Some(rv) if rv < store.compacted_rv() => {
                return self.gone(format!("too old resource version: {rv} ({})", store.compacted_rv())).await;
            }
            Some(rv) => rv,
            None => store.current_rv(),
        };
        if send_initial {
            let q = ListQuery {
                namespace: self.filter.namespace.as_deref(),
                name: self.filter.name.as_deref(),
                selector: if self.filter.selector.is_empty() { None } else { Some(&self.filter.selector) },
                limit: None,
                after: None,
            };
            let page = store.list(kind, &q);
            for o in &page.items {
                let ns = o.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default().to_string();
                let name = o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
                known.insert((ns, name));
                if !self.send("ADDED", &as_version(kind, &self.t.version, o)).await {
                    return;
                }
            }
            cursor = page.rv;
            if initial_end && !self.bookmark(cursor, true).await {
                return;
            }
        }
        loop {
            let now_rv = store.current_rv();
            match store.events_since(kind, cursor) {
                Err(StoreError::Gone(a, b)) => return self.gone(format!("too old resource version: {a} ({b})")).await,
                Err(_) => return,
                Ok(evs) => {
                    for ev in &evs {
                        cursor = cursor.max(ev.rv);
                        if !self.filter.scope(&ev.namespace, &ev.name) {
                            continue;
                        }
                        let key = (ev.namespace.clone(), ev.name.clone());
                        let matches = self.filter.selector.matches(&ev.labels);
                        let was = known.contains(&key)
                            || ev.prev_labels.as_ref().is_some_and(|p| self.filter.selector.matches(p));
                        let typ = match (ev.kind_of_change, matches, was) {
                            (EventType::Deleted, _, _) if matches || was => Some("DELETED"),
                            (EventType::Added, true, _) => Some("ADDED"),
                            (EventType::Modified, true, true) => Some("MODIFIED"),
                            (EventType::Modified, true, false) => Some("ADDED"),
                            (EventType::Modified, false, true) => Some("DELETED"),
                            _ => None,
                        };
                        match typ {
                            Some("DELETED") => {
                                known.remove(&key);
                            }
                            Some(_) => {
                                known.insert(key);
                            }
                            None => continue,
                        }
                        if !self.send(typ.unwrap_or("MODIFIED"), &as_version(kind, &self.t.version, &ev.object)).await {
                            return;
                        }
                    }
                    cursor = cursor.max(now_rv);
                }
            }
            let sleep_until = deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                r = changes.changed() => if r.is_err() { return },
                _ = tokio::time::sleep(BOOKMARK_EVERY) => {
                    if self.bookmarks && !self.bookmark(cursor, false).await { return }
                }
                _ = tokio::time::sleep_until(sleep_until) => return,
                _ = epoch.changed() => return,
                _ = self.tx.closed() => return,
            }
        }
    }
}
