//! Kubernetes Events (core/v1) as the controllers and the kubelet record them: one Event per
//! involved object, reason and message, whose `count` and `lastTimestamp` grow when the same
//! thing happens again. It records; it never reacts to events.

use super::util::{name, str_at, uid};
use crate::sim::kinds;
use crate::sim::ops::{Cluster, OpError, WriteOpts};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

/// Who reports an event: `source.component` / `reportingComponent`, and the node for the
/// kubelet.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub component: &'a str,
    pub host: Option<&'a str>,
}

impl Source<'static> {
    pub const fn controller(component: &'static str) -> Source<'static> {
        Source { component, host: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Normal,
    Warning,
}

impl Type {
    fn as_str(self) -> &'static str {
        match self {
            Type::Normal => "Normal",
            Type::Warning => "Warning",
        }
    }
}

/// What an event is about: an object, or one of a pod's containers (`spec.containers{app}`).
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    pub obj: &'a Value,
    pub field_path: Option<&'a str>,
}

impl<'a> From<&'a Value> for About<'a> {
    fn from(obj: &'a Value) -> Self {
        About { obj, field_path: None }
    }
}

impl<'a> From<&'a std::sync::Arc<Value>> for About<'a> {
    fn from(obj: &'a std::sync::Arc<Value>) -> Self {
        About { obj, field_path: None }
    }
}

/// An Event already written: its reason, field path + message, and name.
#[derive(Clone)]
struct Written {
    reason: String,
    key: String,
    name: String,
}

/// Events already written, by involved object uid, so repeats are counted on the same
/// Event as client-go's aggregation does.
#[derive(Default)]
pub struct Recorder {
    seen: Mutex<HashMap<String, Vec<Written>>>,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Written>>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an event. Failures are logged, never returned: an event is advisory.
    pub fn record<'a>(
        &self,
        cluster: &Cluster,
        about: impl Into<About<'a>>,
        ty: Type,
        reason: &str,
        message: &str,
        source: Source<'_>,
    ) {
        let About { obj, field_path } = about.into();
        let events = kinds::by_group_plural("", "events").expect("events kind");
        let ns = str_at(obj, "/metadata/namespace");
        let ns = if ns.is_empty() { "default" } else { ns };
        let key_msg = format!("{}|{message}", field_path.unwrap_or_default());
        let existing =
            self.lock().get(uid(obj)).and_then(|v| v.iter().find(|w| w.reason == reason && w.key == key_msg).cloned());
        let now = cluster.now_str();
        if let Some(Written { name: ev_name, .. }) = existing {
            let bumped = cluster.mutate(events, ns, &ev_name, source.component, |ev| {
                let count = ev.get("count").and_then(Value::as_i64).unwrap_or(1);
                ev["count"] = json!(count + 1);
                ev["lastTimestamp"] = json!(now);
            });
            match bumped {
                Ok(_) => return,
                Err(OpError::NotFound { .. }) => {}
                Err(e) => {
                    tracing::debug!("event {ns}/{ev_name}: {e}");
                    return;
                }
            }
        }
        let mut involved = json!({
            "apiVersion": str_at(obj, "/apiVersion"),
            "kind": str_at(obj, "/kind"),
            "name": name(obj),
            "namespace": ns,
            "uid": uid(obj),
            "resourceVersion": str_at(obj, "/metadata/resourceVersion"),
        });
        if let Some(fp) = field_path {
            involved["fieldPath"] = json!(fp);
        }
        let nanos = cluster.clock.now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        for attempt in 0..5u128 {
            let ev_name = format!("{}.{:x}", name(obj), nanos + attempt);
            let mut source_obj = json!({"component": source.component});
            if let Some(h) = source.host {
                source_obj["host"] = json!(h);
            }
            let ev = json!({
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": ev_name, "namespace": ns},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "type": ty.as_str(),
                "count": 1,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "eventTime": null,
                "source": source_obj,
                "reportingComponent": source.component,
                "reportingInstance": source.host.unwrap_or_default(),
            });
            match cluster.create(events, ns, ev, WriteOpts::by(source.component)) {
                Ok(_) => {
                    self.lock().entry(uid(obj).to_string()).or_default().push(Written {
                        reason: reason.to_string(),
                        key: key_msg,
                        name: ev_name,
                    });
                    return;
                }
                Err(OpError::AlreadyExists { .. }) => continue,
                Err(e) => {
                    tracing::debug!("event for {ns}/{}: {e}", name(obj));
                    return;
                }
            }
        }
    }

    /// Forgets an object that was deleted; its Events stay in the store, as they do until
    /// their TTL in a real cluster.
    pub fn forget(&self, uid: &str) {
        self.lock().remove(uid);
    }
}
