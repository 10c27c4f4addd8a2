//! What every workload controller does with pods: find the ones it controls (by selector,
//! then by controller owner reference) and build new ones from its pod template. Creation
//! itself goes through `Cluster::create`, so admission (sidecar injection) runs on it.

use super::Ctx;
use super::util::{controlled_by, owner_ref, pods, selector_of, str_at};
use crate::sim::kinds::Kind;
use crate::sim::ops::{OpError, WriteOpts};
use crate::sim::store::ListQuery as StoreQuery;
use serde_json::{Value, json};
use std::sync::Arc;

/// Objects of `kind` in `ns` matching `selector` and controlled by `owner_uid`. The selector
/// narrows the list on labels before objects are rendered.
pub fn owned(ctx: &Ctx, kind: &'static Kind, ns: &str, selector: Option<&Value>, owner_uid: &str) -> Vec<Arc<Value>> {
    let sel = selector_of(selector);
    let q = StoreQuery { namespace: Some(ns), name: None, selector: Some(&sel), limit: None, after: None };
    ctx.cluster.store.list(kind, &q).items.into_iter().filter(|o| controlled_by(o, owner_uid)).collect()
}

/// How a new pod is named.
pub enum PodName<'a> {
    Generate(&'a str),
    Fixed(&'a str),
}

/// A pod from `template`, controlled by `owner`, with `extra` labels on top of the
/// template's.
pub fn new_pod(template: &Value, owner: &Value, name: PodName<'_>, extra: &[(&str, &str)]) -> Value {
    let mut labels = template.pointer("/metadata/labels").cloned().unwrap_or_else(|| json!({}));
    if !labels.is_object() {
        labels = json!({});
    }
    for (k, v) in extra {
        labels[*k] = json!(v);
    }
    let mut meta = json!({
        "namespace": str_at(owner, "/metadata/namespace"),
        "labels": labels,
        "ownerReferences": [owner_ref(owner)],
    });
    match name {
        PodName::Generate(prefix) => meta["generateName"] = json!(prefix),
        PodName::Fixed(n) => meta["name"] = json!(n),
    }
    if let Some(a) = template.pointer("/metadata/annotations").filter(|a| a.is_object()) {
        meta["annotations"] = a.clone();
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    })
}

pub fn create(ctx: &Ctx, ns: &str, pod: Value) -> Result<Arc<Value>, OpError> {
    ctx.cluster.create(pods(), ns, pod, WriteOpts::by(super::util::MANAGER))
}
