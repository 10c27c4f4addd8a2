//! Client-side apply, as `kubectl apply` without `--server-side` performs it: create with the
//! last-applied annotation, or a three-way merge of the last-applied configuration, the file
//! and the live object. It computes the merged object itself and writes it with
//! `Cluster::update`; it does not touch the store.

use super::Outcome;
use crate::sim::kinds::Kind;
use crate::sim::ops::{Cluster, OpError, WriteOpts};
use serde_json::{Map, Value, json};

/// The field manager kubectl's client-side apply writes with.
pub const MANAGER: &str = "kubectl-client-side-apply";
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Applies one object; returns its namespace ("" when cluster-scoped), name and outcome, or
/// the name and the API's error.
pub(super) fn apply(
    cluster: &Cluster,
    kind: &'static Kind,
    mut obj: Value,
) -> Result<(String, String, Outcome), (String, OpError)> {
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
    if name.is_empty() {
        return Err((name, OpError::Invalid("metadata.name is required (apply cannot use generateName)".into())));
    }
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    let ns = if kind.namespaced {
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).filter(|n| !n.is_empty());
        let ns = ns.unwrap_or("default").to_string();
        obj["metadata"]["namespace"] = json!(ns);
        ns
    } else {
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("namespace");
        }
        String::new()
    };
    let modified = with_last_applied(obj);
    let fail = |e: OpError| (name.clone(), e);
    // A concurrent writer (a controller updating status) can win the race; retry on conflict.
    for _ in 0..5 {
        let live = match cluster.get(kind, &ns, &name) {
            Ok(live) => live,
            Err(OpError::NotFound { .. }) => {
                cluster.create(kind, &ns, modified, WriteOpts::by(MANAGER)).map_err(fail)?;
                return Ok((ns, name, Outcome::Created));
            }
            Err(e) => return Err(fail(e)),
        };
        let original: Option<Value> = live
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(LAST_APPLIED))
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str(s).ok());
        let mut merged = (*live).clone();
        merge_value(&mut merged, original.as_ref(), &modified, strategic(kind), "");
        if merged == *live {
            return Ok((ns, name, Outcome::Unchanged));
        }
        match cluster.update(kind, merged, WriteOpts::by(MANAGER), false) {
            Ok(_) => return Ok((ns, name, Outcome::Configured)),
            Err(OpError::Conflict(_)) => continue,
            Err(e) => return Err(fail(e)),
        }
    }
    Err(fail(OpError::Conflict(format!("{} {name:?} kept changing while it was applied", kind.kind))))
}

/// kubectl uses a strategic merge patch for the API server's built-in types and a JSON merge
/// patch for custom resources such as Istio's.
fn strategic(kind: &Kind) -> bool {
    !kind.group.contains('.') || kind.group.ends_with(".k8s.io")
}

/// The object as sent: with the annotation holding its own configuration, as kubectl writes
/// it (compact JSON, keys sorted, the annotation itself left out, an empty annotations map
/// kept).
fn with_last_applied(mut obj: Value) -> Value {
    if !obj["metadata"].get("annotations").is_some_and(Value::is_object) {
        obj["metadata"]["annotations"] = json!({});
    }
    if let Some(a) = obj["metadata"]["annotations"].as_object_mut() {
        a.remove(LAST_APPLIED);
    }
    let config = sorted(&obj).to_string();
    obj["metadata"]["annotations"][LAST_APPLIED] = json!(config);
    obj
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Three-way merge into `current`: fields set in `modified` win, fields that were in
/// `original` (the last applied configuration) but are no longer in `modified` are removed,
/// and fields nobody applied (server defaults, controller writes) are kept.
pub(super) fn merge_value(
    current: &mut Value,
    original: Option<&Value>,
    modified: &Value,
    strategic: bool,
    field: &str,
) {
    if let (Value::Object(c), Value::Object(m)) = (&mut *current, modified) {
        merge_object(c, original.and_then(Value::as_object), m, strategic);
        return;
    }
    if let (Value::Array(c), Value::Array(m)) = (&mut *current, modified)
        && strategic
        && let Some(key) = merge_key(field, c, m)
    {
        merge_list(c, original.and_then(Value::as_array), m, key, strategic);
        return;
    }
    if current != modified {
        *current = modified.clone();
    }
}

fn merge_object(
    cur: &mut Map<String, Value>,
    orig: Option<&Map<String, Value>>,
    m: &Map<String, Value>,
    strategic: bool,
) {
    for (k, mv) in m {
        if mv.is_null() {
            cur.remove(k);
            continue;
        }
        let ov = orig.and_then(|o| o.get(k));
        match cur.get_mut(k) {
            Some(cv) => merge_value(cv, ov, mv, strategic, k),
            None => {
                cur.insert(k.clone(), mv.clone());
            }
        }
    }
    for k in orig.into_iter().flat_map(|o| o.keys()) {
        if !m.contains_key(k) {
            cur.remove(k);
        }
    }
}

/// The strategic-merge key of the list under `field`, when every item has it. Lists without
/// one (and every list of a custom resource) are replaced whole.
fn merge_key(field: &str, cur: &[Value], m: &[Value]) -> Option<&'static str> {
    let has = |key: &str| cur.iter().chain(m).all(|v| v.get(key).is_some_and(|k| !k.is_null()));
    let key = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "webhooks" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        "conditions" => "type",
        "ownerReferences" => "uid",
        "ports" if has("containerPort") => "containerPort",
        "ports" => "port",
        _ => return None,
    };
    has(key).then_some(key)
}

fn merge_list(cur: &mut Vec<Value>, orig: Option<&Vec<Value>>, m: &[Value], key: &str, strategic: bool) {
    let same = |a: &Value, b: &Value| a.get(key) == b.get(key);
    let mut used = vec![false; cur.len()];
    let mut out = Vec::with_capacity(m.len().max(cur.len()));
    for mi in m {
        let oi = orig.and_then(|o| o.iter().find(|x| same(x, mi)));
        match cur.iter().enumerate().position(|(i, c)| !used[i] && same(c, mi)) {
            Some(i) => {
                used[i] = true;
                let mut item = cur[i].clone();
                merge_value(&mut item, oi, mi, strategic, "");
                out.push(item);
            }
            None => out.push(mi.clone()),
        }
    }
    // Items someone else added stay; items this configuration used to have are removed.
    for (i, c) in cur.iter().enumerate() {
        let was_applied = orig.is_some_and(|o| o.iter().any(|x| same(x, c)));
        if !used[i] && !was_applied {
            out.push(c.clone());
        }
    }
    *cur = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_way_merge_cases() {
        // (name, current, original, modified, strategic, expected)
        let cases = [
            (
                "a field dropped from the file is removed; server fields stay",
                json!({"metadata": {"labels": {"a": "1", "b": "2"}, "uid": "u"}, "spec": {"x": 1, "d": "default"}}),
                Some(json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1}})),
                json!({"metadata": {"labels": {"a": "1"}}, "spec": {"x": 2}}),
                true,
                json!({"metadata": {"labels": {"a": "1"}, "uid": "u"}, "spec": {"x": 2, "d": "default"}}),
            ),
            (
                "containers merge by name and keep defaulted fields",
                json!({"containers": [
                    {"name": "sidecar", "image": "s:1"},
                    {"name": "app", "image": "a:1", "imagePullPolicy": "IfNotPresent", "ports": [{"containerPort": 80, "protocol": "TCP"}]}
                ]}),
                Some(json!({"containers": [{"name": "app", "image": "a:1", "ports": [{"containerPort": 80}]}]})),
                json!({"containers": [{"name": "app", "image": "a:2", "ports": [{"containerPort": 80}]}]}),
                true,
                json!({"containers": [
                    {"name": "app", "image": "a:2", "imagePullPolicy": "IfNotPresent", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                    {"name": "sidecar", "image": "s:1"}
                ]}),
            ),
            (
                "a list item that was applied and is gone from the file is removed",
                json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}),
                Some(json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]})),
                json!({"env": [{"name": "A", "value": "1"}]}),
                true,
                json!({"env": [{"name": "A", "value": "1"}]}),
            ),
            (
                "custom resources replace lists whole",
                json!({"hosts": ["a", "b"], "servers": [{"name": "x", "port": 1, "extra": true}]}),
                Some(json!({"hosts": ["a", "b"], "servers": [{"name": "x", "port": 1}]})),
                json!({"hosts": ["a"], "servers": [{"name": "x", "port": 1}]}),
                false,
                json!({"hosts": ["a"], "servers": [{"name": "x", "port": 1}]}),
            ),
            (
                "without a last-applied configuration nothing is deleted",
                json!({"metadata": {"labels": {"old": "1"}}}),
                None,
                json!({"metadata": {"labels": {"new": "2"}}}),
                true,
                json!({"metadata": {"labels": {"old": "1", "new": "2"}}}),
            ),
        ];
        for (name, mut current, original, modified, strategic, expected) in cases {
            merge_value(&mut current, original.as_ref(), &modified, strategic, "");
            assert_eq!(current, expected, "{name}");
        }
    }

    #[test]
    fn last_applied_is_sorted_compact_json_without_itself() {
        let obj = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x",
            "annotations": {LAST_APPLIED: "stale"}}, "data": {"b": "2", "a": "1"}});
        let out = with_last_applied(obj);
        assert_eq!(
            out["metadata"]["annotations"][LAST_APPLIED],
            r#"{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"x"}}"#
        );
    }
}
